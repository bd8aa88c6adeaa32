"""GDPR: rights requests, a person's data (export, anonymisation, consents), retention."""

from datetime import date

import streamlit as st

from ecole_entreprise.services import access, consent, retention, rights
from ecole_entreprise.services.parameters import int_parameter
from ecole_entreprise.store.base import Conflict, StoreError
from pages._shared import fr_date, fr_datetime, get_snapshot, get_store, refresh_button, show_conflict
from pages._shell import page_user

user = page_user(access.MANAGE_RGPD)
st.title("Demandes RGPD")
refresh_button()
store, snapshot, today = get_store(), get_snapshot(), date.today()
PEOPLE = {"Entreprises": ("raison_sociale", "contact_nom"), "Personnels": ("nom", "prenom")}
PURPOSES = {"participation": "Participation au programme", "partage": "Partage des coordonnées avec la partie "
            "rencontrée"}


def act(call, success: str) -> None:
    """Run one service call; show its French error or conflict, else confirm and reload."""
    try:
        call()
    except Conflict as conflict:
        show_conflict(conflict, store.schema.tab(conflict.tab))
        return
    except StoreError as error:
        st.error(str(error))
        return
    st.toast(success, icon="✅")
    st.rerun()


def person_label(tab: str, row) -> str:
    first, second = PEOPLE[tab]
    return f"{row[first]} {row[second]} ({row.id})".strip()


def pick_person(key: str):
    tab = st.radio("Onglet", list(PEOPLE), horizontal=True, key=f"{key}_tab")
    query = st.text_input("Rechercher (nom, ID, email)", key=f"{key}_q").strip().lower()
    rows = [r for r in snapshot.rows(tab)
            if not query or query in " ".join(r.values.values()).lower()][:200]
    if not rows:
        st.info("Aucune fiche ne correspond.")
        return tab, None
    labels = {r.id: person_label(tab, r) for r in rows}
    chosen = st.selectbox("Personne", list(labels), format_func=labels.get, key=f"{key}_pick")
    return tab, snapshot.get(tab, chosen)


requests_tab, person_tab, retention_tab = st.tabs(["Demandes", "Une personne", "Conservation"])

with requests_tab:
    rows = snapshot.rows("Demandes RGPD")
    due = {r.id for r in rights.due_soon(snapshot, today)}
    if rows:
        table = []
        for r in rows:
            limit = rights.deadline(r)
            state = "⚠️ en retard" if limit and limit < today and r["statut"] not in ("traitée", "rejetée") else (
                "⏳ échéance proche" if r.id in due else "")
            table.append({"ID": r.id, "Personne": r["personne_id"], "Type": r["type"],
                          "Reçue le": fr_date(r["recue_le"]), "Échéance": fr_date(limit) if limit else "",
                          "Statut": r["statut"], "Alerte": state})
        st.dataframe(table, hide_index=True, width="stretch")
    else:
        st.info("Aucune demande enregistrée. Ajoutez-en une ci-dessous dès réception (courriel, courrier…).")
    with st.expander("Enregistrer une demande"):
        tab, person = pick_person("new_request")
        kind = st.selectbox("Type", store.schema.lists["types_demande"])
        received = st.date_input("Reçue le", value=today, format="DD/MM/YYYY", max_value=today)
        notes = st.text_area("Notes", max_chars=2000)
        if st.button("Enregistrer la demande", type="primary", disabled=person is None):
            act(lambda: rights.open_request(store, snapshot, user, tab, person.id, kind, received, notes),
                "Demande enregistrée : échéance à un mois.")
    open_rows = [r for r in rows if r["statut"] not in ("traitée", "rejetée")]
    if open_rows:
        with st.expander("Prolonger ou clore une demande"):
            labels = {r.id: f"{r.id} — {r['type']} — {r['personne_id']}" for r in open_rows}
            chosen = st.selectbox("Demande", list(labels), format_func=labels.get)
            informed = st.date_input("Personne informée de la prolongation le", value=today, format="DD/MM/YYYY")
            left, right = st.columns(2)
            if left.button("Prolonger à trois mois"):
                act(lambda: rights.extend(store, snapshot, user, chosen, informed), "Échéance prolongée.")
            status = right.selectbox("Clore avec le statut", ["traitée", "rejetée"])
            if right.button("Clore la demande"):
                act(lambda: rights.close_request(store, snapshot, user, chosen, status, today), "Demande close.")

with person_tab:
    tab, person = pick_person("person")
    if person is not None:
        st.subheader(person_label(tab, person))
        st.markdown("**Droit d'accès** — toutes les données de la personne (fiche, rencontres, partenariats, "
                    "journal) en JSON et CSV. L'export est journalisé.")
        if st.button("Préparer l'export d'accès"):
            try:
                st.session_state["rgpd_export"] = (person.id, rights.access_export(snapshot, tab, person.id,
                                                                                    store=store, user=user))
            except StoreError as error:
                st.error(str(error))
        ready = st.session_state.get("rgpd_export")
        if ready and ready[0] == person.id:
            st.download_button("Télécharger l'export (zip)", ready[1], file_name=f"acces-{person.id}.zip",
                               mime="application/zip")

        st.markdown("**Consentements**")
        for purpose, label in PURPOSES.items():
            field = f"consentement_{purpose}"
            given = person[field]
            left, right = st.columns([3, 1])
            left.write(f"{label} : " + (f"donné le {fr_datetime(given)} (notice {person['consentement_version']}, "
                                        f"source {person['consentement_source']})" if given else "non donné"))
            if given and right.button("Retirer", key=f"withdraw_{purpose}"):
                act(lambda p=purpose: consent.withdraw_consent(store, snapshot, user, tab, person.id, p),
                    "Consentement retiré : plus aucune divulgation.")
            if not given and right.button("Enregistrer (recueilli)", key=f"give_{purpose}"):
                act(lambda p=purpose: consent.give_consent(store, snapshot, user, tab, person.id, p, "coordinateur"),
                    "Consentement enregistré.")

        st.markdown("**Effacement** — l'identité est remplacée par un pseudonyme neutre, les coordonnées et les "
                    "textes libres sont vidés ; les identifiants et les catégories restent, pour que les "
                    "statistiques du bilan ne changent pas. Cette opération est définitive.")
        if rights.is_anonymised(tab, person):
            st.info("Cette fiche est déjà anonymisée.")
        else:
            sure = st.checkbox("Je confirme l'anonymisation définitive de cette personne", key="anon_ok")
            if st.button("Anonymiser", disabled=not sure, type="primary"):
                try:
                    result = rights.anonymise(store, snapshot, user, tab, person.id)
                except StoreError as error:
                    st.error(str(error))
                else:
                    if result.warning_fr():
                        st.warning(result.warning_fr())
                    st.success(f"Fiche anonymisée ({len(result.meetings)} rencontre(s) nettoyée(s)).")

with retention_tab:
    inactive = retention.inactive_people(snapshot, today)
    st.markdown(f"**Fiches inactives** depuis plus de {int_parameter(snapshot, 'retention_mois')} mois "
                "(réglage `retention_mois` de l'onglet Parametres).")
    if not inactive:
        st.success("Aucune fiche inactive à anonymiser.")
    else:
        st.dataframe([{"Onglet": p.tab, "ID": p.id, "Dernière activité": fr_date(p.last_activity)} for p in inactive],
                     hide_index=True)
        sure = st.checkbox(f"Je confirme l'anonymisation définitive de ces {len(inactive)} fiche(s)", key="ret_ok")
        if st.button("Anonymiser les fiches inactives", disabled=not sure):
            with st.spinner("Anonymisation en cours…"):
                try:
                    done, notes = retention.anonymise_inactive(store, snapshot, user, today, confirm=True)
                except StoreError as error:
                    st.error(str(error))
                else:
                    st.success(f"{len(done)} fiche(s) anonymisée(s).")
                    for note in notes:
                        st.warning(note)
    old = retention.old_journal_entries(snapshot, today)
    st.markdown(f"**Journal** : {len(old)} entrée(s) plus ancienne(s) que "
                f"{int_parameter(snapshot, 'journal_retention_mois')} mois.")
    if old:
        sure = st.checkbox("Je confirme la suppression de ces entrées du journal", key="purge_ok")
        if st.button("Purger le journal", disabled=not sure):
            act(lambda: retention.purge_journal(store, snapshot, today, user=user), "Journal purgé.")
