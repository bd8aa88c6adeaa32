"""Partnerships between schools and companies, and their key events with mutual invitations."""

from datetime import date

import streamlit as st

from ecole_entreprise.services import access, partnerships
from ecole_entreprise.store.base import Conflict, StoreError, new_id
from pages._shared import get_snapshot, get_store, refresh_button, show_conflict
from pages._shell import page_user

user = page_user(access.VIEW_PERSON_LISTS)
can_edit = access.allowed(user, access.EDIT_PARTENARIATS)
can_events = access.allowed(user, access.EDIT_EVENEMENTS)
st.title("Partenariats")
refresh_button()
store, snapshot = get_store(), get_snapshot()
lists = store.schema.lists


def act(call, success: str) -> bool:
    try:
        call()
    except partnerships.PartnershipInvalid as invalid:
        for message in invalid.errors.values():
            st.error(message)
        return False
    except Conflict as conflict:
        show_conflict(conflict, store.schema.tab(conflict.tab))
        return False
    except StoreError as error:
        st.error(str(error))
        return False
    st.toast(success, icon="✅")
    st.rerun()
    return True


overview = partnerships.partnership_overview(snapshot)
visible = {r.id for r in snapshot.rows("Partenariats") if access.row_in_scope(user, "Partenariats", r, snapshot)}
overview = overview[overview["ID"].isin(visible)]
tab_list, tab_new, tab_events = st.tabs(["Partenariats", "Nouveau partenariat", "Événements"])

with tab_list:
    if overview.empty:
        st.info("Aucun partenariat pour l'instant. Créez-en un à partir d'une rencontre réalisée (onglet « Nouveau "
                "partenariat ») : invitations croisées, visites, interventions en classe, stages…")
    else:
        st.dataframe(overview, hide_index=True, width="stretch")
        if can_edit:
            with st.expander("Changer le statut d'un partenariat"):
                chosen = st.selectbox("Partenariat", list(overview["ID"]),
                                      format_func=lambda i: f"{i} — {overview.set_index('ID').loc[i, 'Entreprise']}")
                status = st.selectbox("Nouveau statut", lists["statuts_partenariat"])
                if st.button("Enregistrer le statut"):
                    act(lambda: partnerships.set_status(store, snapshot, user, chosen, status), "Statut enregistré.")

with tab_new:
    if not can_edit:
        st.info("Votre rôle ne permet pas de créer de partenariat.")
    else:
        held = [r for r in snapshot.rows("Rencontres") if r["statut"] in ("réalisée", "bilan saisi")
                and access.row_in_scope(user, "Rencontres", r, snapshot)]
        source = st.radio("À partir de", ["une rencontre réalisée", "saisie directe"], horizontal=True)
        types = st.multiselect("Types *", lists["types_partenariat"], placeholder="Choisir…")
        status = st.selectbox("Statut", lists["statuts_partenariat"])
        start = st.date_input("Date de début", value=date.today(), format="DD/MM/YYYY")
        description = st.text_area("Description", max_chars=2000)
        key = st.session_state.setdefault("partnership_id", new_id("PAR"))
        if source == "une rencontre réalisée":
            if not held:
                st.info("Aucune rencontre réalisée dans votre périmètre.")
            else:
                preset = st.query_params.get("rencontre", "")
                ids = [r.id for r in held]
                labels = {r.id: f"{r.id} — {(snapshot.get('Entreprises', r['entreprise_id']) or r)['raison_sociale']}"
                          for r in held}
                meeting_id = st.selectbox("Rencontre", ids, index=ids.index(preset) if preset in ids else 0,
                                          format_func=labels.get)
                if st.button("Créer le partenariat", type="primary"):
                    act(lambda: partnerships.create_from_meeting(store, snapshot, user, meeting_id, types=types,
                                                                 statut=status, date_debut=start,
                                                                 description=description),
                        "Partenariat créé.")
        else:
            companies = {r.id: r["raison_sociale"] for r in snapshot.rows("Entreprises") if r["statut"] != "archivé"}
            company = st.selectbox("Entreprise *", list(companies), format_func=companies.get)
            uai = st.text_input("UAI de l'établissement *", max_chars=8)
            school = st.text_input("Établissement", max_chars=200)
            if st.button("Créer le partenariat", type="primary"):
                if act(lambda: partnerships.create(store, snapshot, user, uai=uai, entreprise_id=company, types=types,
                                                   statut=status, date_debut=start, etablissement=school,
                                                   description=description, record_id=key),
                       "Partenariat créé."):
                    st.session_state.pop("partnership_id", None)

with tab_events:
    frame = partnerships.events(snapshot)
    frame = frame[frame["Partenariat"].isin(visible) | (frame["Partenariat"] == "")] if not frame.empty else frame
    if frame.empty:
        st.info("Aucun temps fort enregistré : ajoutez le salon, la journée portes ouvertes ou le forum des métiers "
                "d'un partenaire pour suivre les invitations croisées.")
    else:
        st.dataframe(frame, hide_index=True, width="stretch")
    if can_events:
        with st.expander("Nouvel événement"):
            title = st.text_input("Titre *", max_chars=200)
            host = st.selectbox("Organisateur *", lists["organisateurs"])
            day = st.date_input("Date *", value=date.today(), format="DD/MM/YYYY", key="event_day")
            place = st.text_input("Lieu", max_chars=200)
            linked = st.selectbox("Partenariat", [""] + sorted(visible), format_func=lambda i: i or "—")
            invited = st.text_input("Partenaires invités", max_chars=1000)
            if st.button("Créer l'événement"):
                act(lambda: partnerships.create_event(store, snapshot, user, titre=title, organisateur=host, date=day,
                                                      lieu=place, partenariat_id=linked, invites=invited),
                    "Événement créé.")
        if not frame.empty:
            with st.expander("Enregistrer les présents"):
                event_id = st.selectbox("Événement", list(frame["ID"]))
                came = st.text_input("Venus", max_chars=1000)
                if st.button("Enregistrer la présence"):
                    act(lambda: partnerships.record_attendance(store, snapshot, user, event_id, came),
                        "Présences enregistrées.")
