"""Meetings: the list in scope, and one meeting's lifecycle, expectations, conclusions and introduction."""

from datetime import time

import pandas as pd
import streamlit as st

from ecole_entreprise.config import load_settings
from ecole_entreprise.domain.values import parse_time
from ecole_entreprise.services import access, contacts, introduction, meetings
from ecole_entreprise.store.base import Conflict, StoreError
from pages._shared import fr_date, fr_datetime, get_snapshot, get_store, refresh_button, show_conflict
from pages._shell import page_user

user = page_user(access.MANAGE_MEETINGS)
st.title("Rencontres")
refresh_button()
store, snapshot = get_store(), get_snapshot()
lists = store.schema.lists
SIDE_LABELS = {"entreprise": "Entreprise", "personnel": "Personnel"}


def names(row) -> tuple[str, str]:
    company = snapshot.get("Entreprises", row["entreprise_id"])
    staff = snapshot.get("Personnels", row["personnel_id"])
    return (company["raison_sociale"] if company else row["entreprise_id"],
            f"{staff['prenom']} {staff['nom']} — {staff['etablissement']}" if staff else row["personnel_id"])


def act(call, success: str, errors_key: str = "") -> None:
    """One lifecycle step: French errors next to the fields, conflicts with both versions, else reload."""
    try:
        call()
    except meetings.MeetingInvalid as invalid:
        st.session_state[errors_key or "meeting_errors"] = invalid.errors
        for message in invalid.errors.values():
            st.error(message)
        return
    except Conflict as conflict:
        show_conflict(conflict, store.schema.tab("Rencontres"))
        return
    except StoreError as error:
        st.error(str(error))
        return
    st.toast(success, icon="✅")
    st.rerun()


def list_view() -> None:
    rows = [r for r in snapshot.rows("Rencontres") if access.row_in_scope(user, "Rencontres", r, snapshot)]
    if not rows:
        st.info("Aucune rencontre dans votre périmètre. Proposez-en depuis la page Appariement.")
        return
    left, middle, right = st.columns(3)
    statuses = left.multiselect("Statut", lists["statuts_rencontre"], placeholder="Tous")
    years = sorted({r["annee_scolaire"] for r in rows}, reverse=True)
    year = middle.selectbox("Année scolaire", ["toutes"] + years, index=1 if years else 0)
    query = right.text_input("Rechercher", placeholder="Entreprise, établissement, ID…")
    lines = []
    for r in rows:
        if (statuses and r["statut"] not in statuses) or (year != "toutes" and r["annee_scolaire"] != year):
            continue
        company, staff = names(r)
        line = {"Ouvrir": f"?id={r.id}", "ID": r.id, "Statut": r["statut"], "Entreprise": company, "Personnel": staff,
                "Date": fr_date(r["date"]), "Format": r["format"], "Année": r["annee_scolaire"]}
        if query and query.lower() not in " ".join(line.values()).lower():
            continue
        lines.append(line)
    st.caption(f"{len(lines)} rencontre(s)")
    st.dataframe(pd.DataFrame(lines), hide_index=True, width="stretch",
                 column_config={"Ouvrir": st.column_config.LinkColumn("Ouvrir", display_text="✏️ ouvrir")})


def steps(row) -> None:
    targets = meetings.allowed_targets(row)
    status = meetings.status_of(row)
    if status in (meetings.PROPOSED, meetings.ACCEPTED):
        st.markdown("**Acceptations**")
        cols = st.columns(2)
        for col, side in zip(cols, meetings.SIDES, strict=True):
            accepted = row[f"acceptation_{side}"]
            if accepted:
                col.success(f"{SIDE_LABELS[side]} : acceptée le {fr_datetime(accepted)}")
            elif col.button(f"Enregistrer l'acceptation — {SIDE_LABELS[side].lower()}", key=f"accept_{side}"):
                act(lambda s=side: meetings.accept(store, snapshot, user, row.id, s), "Acceptation enregistrée.")
    if meetings.PLANNED in targets:
        with st.form("plan"):
            st.markdown("**Planifier**")
            day = st.date_input("Date", value=None, format="DD/MM/YYYY")
            current = parse_time(row["heure"]) if row["heure"] else time(12, 0)
            hour = st.time_input("Heure", value=current)
            place = st.text_input("Lieu", value=row["lieu"], max_chars=200)
            fmt = st.selectbox("Format", lists["formats_rencontre"])
            visit = st.selectbox("Visite de l'entreprise", lists["visites"])
            if st.form_submit_button("Planifier"):
                act(lambda: meetings.plan(store, snapshot, user, row.id, date=day, heure=hour.strftime("%H:%M"),
                                          lieu=place, format=fmt, visite=visit), "Rencontre planifiée.")
    if meetings.DONE in targets and st.button("Marquer comme réalisée"):
        act(lambda: meetings.mark_done(store, snapshot, user, row.id), "Rencontre réalisée.")
    closing = [t for t in (meetings.REFUSED, meetings.CANCELLED) if t in targets]
    if closing:
        with st.expander("Refuser ou annuler"):
            target = st.radio("Issue", closing, horizontal=True)
            reason = st.text_input("Motif *", max_chars=500)
            if st.button("Confirmer"):
                call = meetings.refuse if target == meetings.REFUSED else meetings.cancel
                act(lambda: call(store, snapshot, user, row.id, reason), f"Rencontre {target}.")


def expectations(row) -> None:
    with st.expander("Attendus de chaque partie (avant la rencontre)"):
        company = st.text_area("Attendus de l'entreprise", value=row["attendus_entreprise"], max_chars=2000)
        staff = st.text_area("Attendus du personnel", value=row["attendus_personnel"], max_chars=2000)
        if st.button("Enregistrer les attendus"):
            act(lambda: meetings.set_expectations(store, snapshot, user, row.id, entreprise=company,
                                                  personnel=staff), "Attendus enregistrés.")


def outcome(row) -> None:
    if meetings.REVIEWED not in meetings.allowed_targets(row):
        return
    st.markdown("**Conclusions et questionnaire** (une partie à la fois)")
    side = st.radio("Partie", meetings.SIDES, format_func=SIDE_LABELS.get, horizontal=True)
    with st.form("outcome"):
        conclusions = st.text_area("Conclusions *", value=row[f"conclusions_{side}"], max_chars=4000)
        satisfaction = st.slider("Satisfaction (1 à 5)", 1, 5, 4)
        understanding = st.slider("« Je comprends mieux le monde de l'autre » (1 à 5)", 1, 5, 4)
        recommend = st.checkbox("Recommanderait la démarche", value=True)
        follow = st.multiselect("Suite envisagée", lists["suites"], placeholder="Choisir…")
        if st.form_submit_button("Enregistrer le bilan"):
            act(lambda: meetings.record_outcome(store, snapshot, user, row.id, side, conclusions=conclusions,
                                                satisfaction=satisfaction, comprehension=understanding,
                                                recommande=recommend, suites=follow), "Bilan enregistré.")
    if row["statut"] in (meetings.DONE, meetings.REVIEWED):
        st.page_link("pages/partenariats.py", label="Créer un partenariat à partir de cette rencontre", icon="🏫")


def introduction_box(row) -> None:
    st.markdown("**Mise en relation**")
    reasons = introduction.blockers(snapshot, row.id)
    if reasons:
        st.info("Les coordonnées ne peuvent pas encore être communiquées :\n" +
                "\n".join(f"- {r}" for r in reasons))
        return
    if not access.allowed(user, access.REVEAL_CONTACTS):
        st.info("Votre rôle ne permet pas la mise en relation.")
        return
    if row["introduction_envoyee"]:
        st.caption(f"Mise en relation envoyée le {fr_datetime(row['introduction_envoyee'])}.")
    if not st.session_state.get(f"revealed_{row.id}"):
        st.caption("Afficher les coordonnées est une divulgation : elle est inscrite au journal.")
        if st.button("Préparer la mise en relation (affiche les coordonnées)"):
            try:
                contacts.reveal_contacts(store, snapshot, user, row.id, "mise en relation")
            except StoreError as error:
                st.error(str(error))
                return
            st.session_state[f"revealed_{row.id}"] = True
            st.rerun()
        return
    subject = st.text_input("Objet", value=introduction.DEFAULT_SUBJECT)
    body = st.text_area("Message", value=introduction.DEFAULT_BODY, height=300)
    st.caption("Champs disponibles : " + ", ".join(f"${k}" for k in introduction.PLACEHOLDERS))
    signature = st.text_input("Signature", value=user.nom or user.email)
    try:
        email = introduction.prepare(snapshot, user, row.id, signature=signature, subject_template=subject,
                                     body_template=body)
    except StoreError as error:
        st.error(str(error))
        return
    st.text_input("Destinataires", value=", ".join(email.to), disabled=True)
    st.text_area("Aperçu", value=email.body, height=250, disabled=True)
    if email.ics:
        st.download_button("Invitation (.ics)", email.ics, file_name=f"rencontre-{row.id}.ics", mime="text/calendar")
    smtp = load_settings().smtp
    if smtp.configured:
        sure = st.checkbox("J'ai relu le message et je confirme l'envoi aux deux parties")
        if st.button("Envoyer", type="primary", disabled=not sure):
            act(lambda: introduction.send_introduction(store, snapshot, user, email, smtp), "Message envoyé.")
    else:
        st.caption("Aucun serveur d'envoi configuré ([smtp] dans secrets.toml) : copiez le texte ou ouvrez votre "
                   "messagerie.")
        st.link_button("Ouvrir dans la messagerie", introduction.mailto_link(email))
        if st.button("Noter la mise en relation comme envoyée"):
            act(lambda: introduction.mark_sent(store, snapshot, user, row.id, channel="messagerie"),
                "Mise en relation notée.")


def detail_view(meeting_id: str) -> None:
    if st.button("← Retour à la liste"):
        st.query_params.clear()
        st.rerun()
    row = snapshot.get("Rencontres", meeting_id)
    if row is None or not access.row_in_scope(user, "Rencontres", row, snapshot):
        st.warning(f"La rencontre {meeting_id} est introuvable ou hors de votre périmètre.")
        return
    company, staff = names(row)
    st.subheader(f"{company} × {staff}")
    st.caption(f"{row.id} — statut « {row['statut']} » — année {row['annee_scolaire']}"
               + (f" — le {fr_date(row['date'])} à {row['heure']}, {row['lieu']}" if row["date"] else ""))
    steps(row)
    expectations(row)
    outcome(row)
    introduction_box(row)


selected = st.query_params.get("id", "")
if selected:
    detail_view(selected)
else:
    list_view()
