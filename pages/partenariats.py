"""Partnerships between schools and companies, and the events partners invite each other to.

Writes run in widget callbacks; the services validate every field (messages drawn under each field) and journal.
A client-made ID per form (made by the service) makes a double click return the row already written instead of a
second one. Each form has its own Feedback, drawn with it (and as a toast); the selected tab and the list's filters
live in the URL, so an action, a rerun or a reload never sends the person back to the first tab.
"""

import streamlit as st

from ecole_entreprise.services.kernel import access, forms
from ecole_entreprise.services.meetings import partnerships
from pages._context import page_context
from pages._feedback import Feedback
from pages._liens import invitations_box
from pages._shared import fr_date, refresh_button

TABS = ("Partenariats", "Nouveau partenariat", "Événements")
TAB_KEY, ARRIVED = "onglet", "_partenariats_from"  # the tab shown (in the URL), the meeting link already followed
STEPS = ("status", "from_meeting", "direct", "event", "attendance")
FILTERS = {"bind": "query-params"}

ctx = page_context("partenariats")
user, store = ctx.user, ctx.store
can_edit = access.allowed(user, access.EDIT_PARTENARIATS)
can_events = access.allowed(user, access.EDIT_EVENEMENTS)
snapshot = ctx.snapshot()
lists = store.schema.lists
st.title("Partenariats")
refresh_button()

companies = {r["id"]: r for r in access.visible_rows(user, "Entreprises", snapshot)}
staff = {r["id"]: r for r in access.visible_rows(user, "Personnels", snapshot)}
overview = partnerships.overview_for(user, snapshot)
labels = {r["ID"]: f"{r['ID']} — {r['Entreprise']} × {r['Établissement']}" for _, r in overview.iterrows()}


# ---- writes -----------------------------------------------------------------------------------------------


def value(key: str):
    return st.session_state.get(key)


def feedback(step: str) -> Feedback:
    return Feedback(f"partenariats_{step}")


def run(step: str, call, success, forget: tuple[str, ...] = ()) -> None:
    """Callback: one write; French messages kept for the next drawing, with the step's fields."""
    for other in STEPS:  # one outcome on the page at a time
        feedback(other).clear()
    if not feedback(step).run(call, success):
        return
    for key in forget:  # an empty form and a new client ID for the next record
        st.session_state.pop(key, None)
    if step == "from_meeting":
        st.query_params.pop("rencontre", None)  # that meeting is done: back to the list


def under(step: str, *names: str) -> None:
    for name in names:
        feedback(step).field(name)


def step_message(step: str) -> None:
    """The confirmation (also a toast), the whole-form error, or both versions of a conflict, where the person
    acted."""
    fb = feedback(step)
    fb.show(user, ctx.snapshot())
    if fb.conflict is not None:
        st.button("Repartir de la version actuelle", key=f"forget_conflict_{step}", on_click=fb.clear)


# ---- list -------------------------------------------------------------------------------------------------


def status_box() -> None:
    with st.expander("Changer le statut d'un partenariat"):
        chosen = st.selectbox("Partenariat", list(labels), format_func=labels.get, key="status_pick")
        current = partnerships.partnership(snapshot, chosen)
        choices = lists["statuts_partenariat"]
        st.selectbox("Nouveau statut", choices, key=f"status_value_{chosen}",
                     index=choices.index(current["statut"]) if current["statut"] in choices else 0)
        under("status", "statut")
        step_message("status")
        st.button("Enregistrer le statut", key="status_go", on_click=run, args=(
            "status", lambda: partnerships.set_status(store, snapshot, user, chosen, value(f"status_value_{chosen}")),
            lambda row: f"Partenariat {row.id} : statut « {row['statut']} »."))


def list_tab() -> None:
    if overview.empty:
        st.info("Aucun partenariat pour l'instant. Un partenariat naît le plus souvent d'une rencontre réalisée : "
                "ouvrez l'onglet « Nouveau partenariat » (ou le lien « Créer un partenariat » d'une rencontre). "
                "Invitations croisées, visites, interventions en classe, stages…")
        return
    left, right = st.columns(2)
    statuses = left.multiselect("Statut", lists["statuts_partenariat"],
                                select_all=False, placeholder="Tous", key="p_statut", **FILTERS)
    years = sorted(set(overview["Année scolaire"]) - {""}, reverse=True)
    year = right.selectbox("Année scolaire", ["toutes"] + years, key="p_annee", **FILTERS)
    shown = overview
    if statuses:
        shown = shown[shown["Statut"].isin(statuses)]
    if year != "toutes":
        shown = shown[shown["Année scolaire"] == year]
    st.caption(f"{len(shown)} partenariat(s) sur {len(overview)} ; les actifs d'abord.")
    st.dataframe(shown.assign(Début=shown["Début"].map(fr_date)), hide_index=True, width="stretch")
    if can_edit:
        status_box()


# ---- new partnership --------------------------------------------------------------------------------------


def meeting_label(row) -> str:
    person = staff.get(row["personnel_id"], {})
    company = companies.get(row["entreprise_id"], {}).get("raison_sociale", row["entreprise_id"])
    school = person.get("etablissement") or person.get("uai") or row["personnel_id"]
    return f"{row.id} — {company} × {school} ({fr_date(row['date']) or 'sans date'})"


def common_inputs(key: str, step: str) -> None:
    st.multiselect("Types de partenariat *", lists["types_partenariat"],
                   select_all=False, placeholder="Choisir…", key=f"{key}_types")
    under(step, "types")
    left, right = st.columns(2)
    with left:
        st.selectbox("Statut", lists["statuts_partenariat"], key=f"{key}_statut")
        under(step, "statut")
    with right:
        st.date_input("Date de début", value=None, format="DD/MM/YYYY", key=f"{key}_debut",
                      help="Vide : la date du jour si le partenariat est actif")
        under(step, "date_debut", "annee_scolaire")
    st.text_area("Description", max_chars=2000, key=f"{key}_description")
    under(step, "description")


def common_values(key: str) -> dict:
    return {"types": value(f"{key}_types") or [], "statut": value(f"{key}_statut"),
            "date_debut": value(f"{key}_debut"), "description": value(f"{key}_description") or ""}


def created(before: set[str]):
    def message(row) -> str:
        if row.id in before:
            return f"Cette rencontre a déjà donné le partenariat {row.id} : rien n'a été ajouté."
        return f"Partenariat {row.id} créé."
    return message


def from_meeting() -> None:
    wanted = st.query_params.get("rencontre", "")
    choices, linked = partnerships.held_meetings_for(user, snapshot, keep=wanted)
    if not choices:
        st.info("Aucune rencontre réalisée sans partenariat dans votre périmètre : marquez une rencontre comme "
                "réalisée dans la page Rencontres, ou choisissez la saisie directe.")
        return
    ids = [r.id for r in choices]
    by_id = {r.id: r for r in choices}
    key = "from_meeting"
    meeting_id = st.selectbox("Rencontre réalisée *", ids, index=ids.index(wanted) if wanted in ids else 0,
                              format_func=lambda i: meeting_label(by_id[i]), key=f"{key}_rencontre")
    under("from_meeting", "rencontre_id", "uai", "entreprise_id")
    if meeting_id in linked:
        st.info("Cette rencontre a déjà donné un partenariat : il figure dans l'onglet « Partenariats ».")
    st.caption("L'entreprise, l'établissement (UAI du personnel) et l'année scolaire viennent de la rencontre.")
    common_inputs(key, "from_meeting")
    step_message("from_meeting")
    before = set(partnerships.partnership_overview(snapshot)["ID"])
    st.button("Créer le partenariat", type="primary", key=f"{key}_go", on_click=run, args=(
        "from_meeting", lambda: partnerships.create_from_meeting(store, snapshot, user, meeting_id,
                                                                 **common_values(key)), created(before),
        form_keys(key)))


def direct() -> None:
    key = "direct"
    record_id = st.session_state.setdefault(f"{key}_id", forms.new_record_id(partnerships.TAB))
    active = {i: r for i, r in companies.items() if r.get("statut") != "archivé"}
    left, right = st.columns(2)
    with left:
        st.selectbox("Entreprise *", list(active), index=None, placeholder="Choisir…", key=f"{key}_entreprise",
                     format_func=lambda i: f"{active[i]['raison_sociale']} ({active[i].get('commune', '')})")
        under("direct", "entreprise_id")
    with right:
        st.text_input("UAI de l'établissement *", max_chars=8, key=f"{key}_uai", help="Par exemple 0211234A")
        under("direct", "uai")
    st.text_input("Établissement", max_chars=200, key=f"{key}_etablissement")
    under("direct", "etablissement")
    common_inputs(key, "direct")
    step_message("direct")
    st.button("Créer le partenariat", type="primary", key=f"{key}_go", on_click=run, args=(
        "direct", lambda: partnerships.create(
            store, snapshot, user, uai=value(f"{key}_uai"), entreprise_id=value(f"{key}_entreprise") or "",
            etablissement=value(f"{key}_etablissement") or "", record_id=record_id, **common_values(key)),
        lambda row: f"Partenariat {row.id} créé.", (f"{key}_id", *form_keys(key))))


def form_keys(key: str) -> tuple[str, ...]:
    return tuple(f"{key}_{name}" for name in ("rencontre", "entreprise", "uai", "etablissement", "types", "statut",
                                              "debut", "description"))


def new_tab() -> None:
    if not can_edit:
        st.info("Votre rôle ne permet pas de créer de partenariat.")
        return
    source = st.radio("À partir de", ["une rencontre réalisée", "saisie directe"], horizontal=True,
                      key="new_source")
    if source == "une rencontre réalisée":
        from_meeting()
    else:
        direct()


# ---- events -----------------------------------------------------------------------------------------------


def event_form() -> None:
    key = "event"
    record_id = st.session_state.setdefault(f"{key}_id", forms.new_record_id(partnerships.EVENTS_TAB))
    with st.expander("Nouvel événement (salon, portes ouvertes, forum des métiers…)",
                     expanded=bool(feedback("event").errors)):
        st.text_input("Titre *", max_chars=200, key=f"{key}_titre")
        under("event", "titre")
        left, right = st.columns(2)
        with left:
            st.selectbox("Organisé par *", lists["organisateurs"], key=f"{key}_organisateur")
            under("event", "organisateur")
        with right:
            st.date_input("Date *", value=None, format="DD/MM/YYYY", key=f"{key}_date")
            under("event", "date")
        linked = st.selectbox("Partenariat", [""] + list(labels), format_func=lambda i: labels.get(i, "— aucun —"),
                              key=f"{key}_partenariat", help="L'entreprise et l'établissement viennent du partenariat")
        under("event", "partenariat_id")
        if not linked:
            left, right = st.columns(2)
            left.selectbox("Entreprise", [""] + list(companies), key=f"{key}_entreprise",
                           format_func=lambda i: companies[i]["raison_sociale"] if i else "—")
            with left:
                under("event", "entreprise_id")
            right.text_input("UAI de l'établissement", max_chars=8, key=f"{key}_uai")
            with right:
                under("event", "uai")
        st.text_input("Lieu", max_chars=200, key=f"{key}_lieu")
        under("event", "lieu")
        st.text_input("Partenaires invités", max_chars=1000, key=f"{key}_invites", help="Séparés par « ; »")
        under("event", "invites")
        st.text_area("Description", max_chars=2000, key=f"{key}_description")
        under("event", "description")
        step_message("event")
        st.button("Créer l'événement", type="primary", key=f"{key}_go", on_click=run, args=(
            "event", lambda: partnerships.create_event(
                store, snapshot, user, titre=value(f"{key}_titre"), organisateur=value(f"{key}_organisateur"),
                date=value(f"{key}_date"), lieu=value(f"{key}_lieu") or "",
                partenariat_id=value(f"{key}_partenariat") or "",
                entreprise_id="" if value(f"{key}_partenariat") else value(f"{key}_entreprise") or "",
                uai="" if value(f"{key}_partenariat") else value(f"{key}_uai") or "",
                invites=value(f"{key}_invites") or "", description=value(f"{key}_description") or "",
                record_id=record_id),
            lambda row: f"Événement {row.id} créé.", (f"{key}_id",)))


def attendance_form(frame) -> None:
    with st.expander("Enregistrer les présents", expanded=bool(feedback("attendance").errors)):
        titles = {r["ID"]: f"{fr_date(r['Date'])} — {r['Titre']} ({r['Organisé par']})" for _, r in frame.iterrows()}
        event_id = st.selectbox("Événement", list(titles), format_func=titles.get, key="attendance_pick")
        current = partnerships.event(snapshot, event_id)
        st.text_input("Venus", value=current["participants"], max_chars=1000, key=f"attendance_{event_id}",
                      help="Qui est venu, séparés par « ; »")
        under("attendance", "participants")
        step_message("attendance")
        st.button("Enregistrer la présence", key="attendance_go", on_click=run, args=(
            "attendance", lambda: partnerships.record_attendance(store, snapshot, user, event_id,
                                                                 value(f"attendance_{event_id}") or ""),
            "Présences enregistrées."))


def events_tab() -> None:
    chosen = st.selectbox("Partenariat", [""] + list(labels), format_func=lambda i: labels.get(i, "Tous"),
                          key="events_partnership")
    frame = partnerships.events_for(user, snapshot, partenariat_id=chosen)
    if frame.empty:
        st.info("Aucun événement enregistré" + (" pour ce partenariat" if chosen else "") + " : ajoutez le salon, "
                "la journée portes ouvertes ou le forum des métiers d'un partenaire pour suivre les invitations "
                "croisées et qui est venu.")
    else:
        st.dataframe(frame.assign(Date=frame["Date"].map(fr_date)), hide_index=True, width="stretch")
    if can_events:
        event_form()
        if not frame.empty:
            attendance_form(frame)
            invitations_box(frame, snapshot, user)


def follow_meeting_link() -> None:
    """A « Créer un partenariat » link from a meeting opens the new-partnership tab, once: the tab the person
    picks next is theirs (the tab widget keeps its default, or its state would be lost)."""
    wanted = st.query_params.get("rencontre", "")
    if wanted and st.session_state.get(ARRIVED) != wanted:
        st.session_state[TAB_KEY] = TABS[1]
    st.session_state[ARRIVED] = wanted


follow_meeting_link()
for tab, draw in zip(st.tabs(TABS, key=TAB_KEY, bind="query-params"), (list_tab, new_tab, events_tab),
                     strict=True):
    with tab:
        draw()
