"""Accounts: who may use the app, with which role and scope (the Utilisateurs tab)."""

import streamlit as st

from ecole_entreprise.domain.roles import ROLES
from ecole_entreprise.services.kernel import access, users
from ecole_entreprise.store.base import Conflict, StoreError
from pages._feedback import show_conflict
from pages._plain import plain
from pages._shared import get_snapshot, get_store, refresh_button
from pages._shell import page_user

user = page_user("utilisateurs")
st.title("Utilisateurs")
refresh_button()
store, snapshot = get_store(), get_snapshot()
rows = snapshot.rows(users.TAB)
if rows:
    def scope(r) -> str:
        return r["perimetre"] or ("aucun" if r["role"] in users.SCOPED_ROLES else "tout")

    st.dataframe([{"Email": r["email"], "Nom": r["nom"], "Rôle": r["role"], "Périmètre": scope(r),
                   "Actif": r["actif"] or "oui"} for r in rows], hide_index=True, width="stretch")
else:
    st.info("Aucun utilisateur : ajoutez le premier ci-dessous ou avec `python -m ecole_entreprise add-user`.")

with st.form("add_user", clear_on_submit=True):
    st.subheader("Autoriser un utilisateur")
    email = st.text_input("Email *")
    name = st.text_input("Nom")
    role = st.selectbox("Rôle *", ROLES)
    scope = st.text_input("Périmètre", help="Académie (Dijon, Besançon) ou départements séparés par des virgules")
    if st.form_submit_button("Ajouter", type="primary"):
        try:
            access.require(user, access.MANAGE_USERS)
            users.add_user(store, email, role, scope, name)
            st.toast(f"{plain(email)} ajouté.", icon="✅")
            st.rerun()
        except StoreError as error:
            st.error(plain(error))

if rows:
    st.subheader("Activer ou désactiver un compte")
    labels = {r.id: f"{r['email']} ({r['role']})" for r in rows}
    chosen = st.selectbox("Compte", list(labels), format_func=labels.get)
    row = snapshot.get(users.TAB, chosen)
    active = (row["actif"] or "oui").lower() != "non"
    if st.button("Désactiver" if active else "Réactiver"):
        try:
            users.set_active(store, snapshot, user, chosen, not active)
            st.rerun()
        except Conflict as conflict:
            show_conflict(conflict, user, get_snapshot())
        except StoreError as error:
            st.error(plain(error))
