"""Accounts: who may use the app, with which role and scope (the Utilisateurs tab)."""

import streamlit as st

from ecole_entreprise.services.kernel import users
from pages._context import page_context
from pages._feedback import Feedback
from pages._shared import refresh_button

ctx = page_context("utilisateurs")
user, store = ctx.user, ctx.store
st.title("Utilisateurs")
refresh_button()
snapshot = ctx.snapshot()
listed = users.accounts_table(snapshot)
if listed:
    st.dataframe(listed, hide_index=True, width="stretch")
else:
    st.info("Aucun utilisateur : ajoutez le premier ci-dessous ou avec `python -m ecole_entreprise add-user`.")

added = Feedback("utilisateurs_add")
with st.form("add_user", clear_on_submit=True):
    st.subheader("Autoriser un utilisateur")
    email = st.text_input("Email *")
    name = st.text_input("Nom")
    role = st.selectbox("Rôle *", users.assignable_roles(user))
    scope = st.text_input("Périmètre", help="Académie (Dijon, Besançon) ou départements séparés par des virgules")
    if st.form_submit_button("Ajouter", type="primary"):
        added.run(lambda: users.grant(store, user, email, role, scope, name), f"{email} ajouté.", rerun=True)
added.show()

choices = users.account_choices(snapshot)
if choices:
    st.subheader("Activer ou désactiver un compte")
    chosen = st.selectbox("Compte", list(choices), format_func=lambda i: choices[i][0])
    active = choices[chosen][1]
    switched = Feedback("utilisateurs_active")
    if st.button("Désactiver" if active else "Réactiver"):
        switched.run(lambda: users.set_active(store, snapshot, user, chosen, not active),
                     f"Compte {'désactivé' if active else 'réactivé'}.", rerun=True)
    switched.show(user, ctx.snapshot())
