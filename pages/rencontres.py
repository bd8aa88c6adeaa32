"""Meetings: the list in scope, and one meeting's lifecycle, expectations, conclusions and introduction.

Each step runs in a widget callback against the version of the meeting the page showed (its fingerprint): a change
made meanwhile by someone else is a Conflict with both versions shown, never silently overwritten.
Contact details appear only after an explicit click, through contacts.reveal_contacts (journaled).
Each step has its own Feedback: its confirmation or errors are drawn with the step; a conflict, and the message of a
step no longer drawn (a closed meeting has no « close » form), above the steps.
The list's filters live in the URL (a reload or a return from a meeting keeps them); several meetings can be
relaunched or introduced together (services/meetings/bulk.py), after a confirmation step.
"""

import streamlit as st

from ecole_entreprise import bootstrap, errors
from ecole_entreprise.services.kernel import access, forms
from ecole_entreprise.services.meetings import bulk, introduction
from ecole_entreprise.services.meetings import lifecycle as meetings
from ecole_entreprise.services.meetings.calendar import french_date, french_time
from ecole_entreprise.services.privacy import contacts
from pages._context import page_context
from pages._feedback import Feedback
from pages._liens import links_box, reminders_button
from pages._plain import plain, plain_lines
from pages._shared import fr_date, fr_datetime, get_settings, refresh_button, todo_filter

OPENED, SHOWN = "_rencontres_id", "_rencontres_shown"  # the meeting open, and its version on screen
REFUSAL = "_rencontres_refusal"  # the service's refusal that goes with a conflict, if the step is no longer allowed
STEPS = ("accept", "plan", "done", "close", "expect", "outcome_entreprise", "outcome_personnel", "intro")
FILTERS = {"bind": "query-params"}  # a reload, or the way back from a meeting, keeps the list as it was
BULK_PICK, BULK_PENDING, BULK_DONE = "bulk_pick", "_rencontres_bulk_pending", "_rencontres_bulk_done"
RELAUNCH, INTRODUCE = "Relancer les acceptations en attente", "Envoyer la mise en relation"
PREPARED = "_rencontres_prepared"  # (meeting, template, what the message says) -> the email journaled for it
MESSAGE_FIELDS = ("date", "heure", "lieu", "format", "visite", "entreprise_id", "personnel_id")
SIDE_NAMES = {"entreprise": "l'entreprise", "personnel": "le personnel"}
OF_SIDE = {"entreprise": "de l'entreprise", "personnel": "du personnel"}
CONTACT_KEYS = ("contact_email", "contact_telephone", "personnel_email", "personnel_telephone")
HIDDEN = "[coordonnée affichée après consultation]"
LIFECYCLE = meetings.MILESTONES  # the main path, « proposée → … → bilan saisi »

ctx = page_context("rencontres")
user, store = ctx.user, ctx.store
lists = store.schema.lists
drawn: set[str] = set()  # the steps whose messages were drawn with them in this run
st.title("Rencontres")
refresh_button()


# ---- names (from access.visible_rows: never a contact field) ----------------------------------------------


def people(snapshot) -> tuple[dict, dict]:
    companies = {r["id"]: r for r in access.visible_rows(user, "Entreprises", snapshot)}
    staff = {r["id"]: r for r in access.visible_rows(user, "Personnels", snapshot)}
    return companies, staff


def company_name(companies: dict, company_id: str) -> str:
    return companies.get(company_id, {}).get("raison_sociale") or company_id


def staff_name(staff: dict, staff_id: str) -> str:
    person = staff.get(staff_id, {})
    return f"{person.get('prenom', '')} {person.get('nom', '')}".strip() or staff_id


def school_name(staff: dict, staff_id: str) -> str:
    person = staff.get(staff_id, {})
    return person.get("etablissement") or person.get("uai") or ""


# ---- list -------------------------------------------------------------------------------------------------


def departements_of(snapshot, meeting: dict) -> set[str]:
    return {access.side_departement(snapshot, meeting, side) for side in meetings.SIDES} - {""}


def todo_caption(snapshot, visible: set[str]) -> None:
    pending = [p for p in meetings.pending_acceptances(snapshot) if p.row.id in visible]
    late = [r for r in meetings.past_without_outcome(snapshot, forms.today()) if r.id in visible]
    if pending or late:
        st.caption(f"À suivre : {len(pending)} rencontre(s) en attente d'acceptation, {len(late)} rencontre(s) "
                   "passée(s) sans bilan.")


def list_view(snapshot) -> None:
    rows = access.visible_rows(user, "Rencontres", snapshot)
    if not rows:
        st.info("Aucune rencontre dans votre périmètre pour l'instant. Proposez-en depuis la page Appariement : "
                "elles apparaîtront ici, de la proposition au bilan.")
        return
    reminders_button(snapshot, user)
    companies, staff = people(snapshot)
    wanted = todo_filter(snapshot, user, "Rencontres")
    if wanted is None:
        todo_caption(snapshot, {r["id"] for r in rows})
    else:
        rows = [r for r in rows if r["id"] in wanted]
    every = [list_line(r, companies, staff) for r in rows]
    lines = filtered(snapshot, rows, every, wanted)
    st.caption(f"{len(lines)} rencontre(s) sur {len(rows)}. Cochez la case au début d'une ligne pour ouvrir la "
               "rencontre.")
    if not lines:
        st.info("Aucune rencontre ne correspond à ces filtres.")
    else:
        event = st.dataframe(lines, hide_index=True, width="stretch", on_select="rerun",
                             selection_mode="single-row", key="meetings_table")
        if event.selection.rows:
            st.query_params["id"] = lines[event.selection.rows[0]]["ID"]
            st.rerun()
    bulk_box(snapshot, every, lines)


def list_line(r, companies, staff) -> dict[str, str]:
    return {"ID": r["id"], "Statut": r["statut"], "Entreprise": company_name(companies, r["entreprise_id"]),
            "Personnel": staff_name(staff, r["personnel_id"]),
            "Établissement": school_name(staff, r["personnel_id"]), "Date": fr_date(r["date"]),
            "Heure": r["heure"], "Format": r["format"], "Année scolaire": r["annee_scolaire"]}


def filtered(snapshot, rows, every, wanted) -> list[dict[str, str]]:
    """The lines the filters keep (statut, année, département, search), each filter kept in the URL."""
    status_col, year_col, dep_col = st.columns(3)
    statuses = status_col.multiselect("Statut", lists["statuts_rencontre"],
                                      select_all=False, placeholder="Tous", key="f_statut", **FILTERS)
    years = sorted({r["annee_scolaire"] for r in rows if r["annee_scolaire"]}, reverse=True)
    current = meetings.parameter(snapshot, "annee_scolaire")
    # A to-do link lists work left from any year: it opens on every year.
    year = year_col.selectbox("Année scolaire", ["toutes"] + years, key="f_annee", **FILTERS,
                              index=1 + years.index(current) if current in years and wanted is None else 0)
    deps = dep_col.multiselect("Département", sorted({d for r in rows for d in departements_of(snapshot, r)}),
                               select_all=False, placeholder="Tous", key="f_dep", **FILTERS,
                               help="Département de l'entreprise ou du personnel")
    query = st.text_input("Rechercher", placeholder="Entreprise, personnel, établissement, ID…", key="f_query",
                          **FILTERS)
    lines = []
    for r, line in zip(rows, every, strict=True):
        if (statuses and r["statut"] not in statuses) or (year != "toutes" and r["annee_scolaire"] != year) \
                or (deps and not departements_of(snapshot, r) & set(deps)):
            continue
        if not query or query.lower() in " ".join(line.values()).lower():
            lines.append(line)
    return lines


# ---- several meetings at once: a choice, a confirmation, a progress bar, a summary ---------------------------


def bulk_label(line: dict[str, str]) -> str:
    when = f", {line['Date']}" if line["Date"] else ""
    return f"{line['Entreprise']} × {line['Personnel']} — {line['Statut']}{when} ({line['ID']})"


def bulk_feedback() -> Feedback:
    return Feedback("rencontres_bulk")


def bulk_box(snapshot, every: list[dict], lines: list[dict]) -> None:
    labels = {line["ID"]: bulk_label(line) for line in every}
    busy = bool(st.session_state.get(BULK_PENDING) or st.session_state.get(BULK_DONE) or bulk_feedback().errors)
    with st.expander("Agir sur plusieurs rencontres (relances, mises en relation)", expanded=busy):
        left, right = st.columns([4, 1], vertical_alignment="bottom")
        left.multiselect("Rencontres choisies", list(labels), format_func=labels.get, key=BULK_PICK,
                         select_all=False, placeholder="Choisir les rencontres…", on_change=cancel_bulk)
        right.button(f"Ajouter les {len(lines)} affichées", key="bulk_shown", disabled=not lines,
                     on_click=pick_shown, args=([line["ID"] for line in lines],))
        actions = [RELAUNCH] + ([INTRODUCE] if access.allowed(user, access.REVEAL_CONTACTS) else [])
        st.radio("Action", actions, horizontal=True, key="bulk_action", on_change=cancel_bulk)
        chosen = [i for i in st.session_state.get(BULK_PICK) or [] if i in labels]
        st.button(f"Préparer l'envoi ({len(chosen)} rencontre(s))…", key="bulk_prepare", disabled=not chosen,
                  on_click=prepare_bulk, args=(st.session_state.get("bulk_action"), chosen))
        if pending := st.session_state.get(BULK_PENDING):
            confirm_bulk(snapshot, labels, *pending)
        bulk_feedback().show()
        if done := st.session_state.get(BULK_DONE):
            st.dataframe(outcome_lines(done, labels), hide_index=True, width="stretch")


def pick_shown(ids: list[str]) -> None:
    cancel_bulk()
    st.session_state[BULK_PICK] = list(dict.fromkeys([*(st.session_state.get(BULK_PICK) or []), *ids]))


def cancel_bulk() -> None:
    """A choice changed after « Préparer l'envoi »: the confirmation shown no longer matches it."""
    st.session_state.pop(BULK_PENDING, None)


def prepare_bulk(action: str, ids: list[str]) -> None:
    bulk_feedback().clear()
    st.session_state.pop(BULK_DONE, None)
    st.session_state[BULK_PENDING] = (action, ids)


def outcome_lines(outcomes, labels: dict[str, str]) -> list[dict[str, str]]:
    return [{"Rencontre": labels.get(o.meeting_id, f"Rencontre ({o.meeting_id})"), "Résultat": o.kind,
             "Détail": o.reason} for o in outcomes]


def confirm_bulk(snapshot, labels: dict[str, str], action: str, ids: list[str]) -> None:
    """« Envoyer à N rencontres ? »: what each meeting will get, and a meeting already introduced is sent again
    only if its own box is ticked."""
    resend = []
    with st.container(border=True):
        if action == INTRODUCE:
            for meeting_id in bulk.already_introduced(snapshot, user, ids):
                label = labels.get(meeting_id, meeting_id)
                if st.checkbox(f"Déjà mise en relation : l'envoyer une nouvelle fois — {plain(label)}",
                               key=f"bulk_resend_{meeting_id}"):
                    resend.append(meeting_id)
            planned = bulk.preview_introductions(snapshot, user, ids, resend)
        else:
            planned = bulk.preview_relaunch(snapshot, user, ids)
        count = sum(o.kind == bulk.TO_SEND for o in planned)
        st.markdown(f"**Envoyer à {count} rencontre(s) ?** ({action.lower()})")
        first = sorted(planned, key=lambda o: o.kind != bulk.TO_SEND)  # what will go out, then what will not
        st.dataframe(outcome_lines(first, labels), hide_index=True, width="stretch")
        blocker = bulk_blocker(action)
        if blocker:
            st.warning(blocker)
        signature = st.text_input("Signature", value=user.nom or user.email, key="bulk_signature") \
            if action == INTRODUCE else ""
        left, right = st.columns(2)
        right.button("Annuler", key="bulk_cancel", on_click=cancel_bulk)
        if left.button(f"Oui, envoyer à {count} rencontre(s)", type="primary", key="bulk_go",
                       disabled=not count or bool(blocker)):
            bar = st.progress(0.0, text="Envoi en cours…")
            bulk_feedback().run(lambda: run_bulk(action, ids, resend, signature, bar),
                                bulk.summary, rerun=True)


def bulk_blocker(action: str) -> str:
    settings = get_settings()
    if not bootstrap.mailer(settings).available:
        return ("Aucun serveur d'envoi n'est configuré (section [smtp] de secrets.toml) : les envois groupés ne "
                "sont pas possibles ; utilisez le lien de messagerie de chaque rencontre.")
    if action == RELAUNCH and not settings.links.configured:
        return "Les liens personnels ne sont pas configurés (section [links] de secrets.toml) : pas de relance."
    return ""


def run_bulk(action: str, ids: list[str], resend: list[str], signature: str, bar) -> list:
    settings = get_settings()

    def progress(done: int, total: int) -> None:
        bar.progress(done / total, text=f"{done} rencontre(s) traitée(s) sur {total}")

    snapshot = ctx.snapshot(fresh=True)
    if action == INTRODUCE:
        outcomes = bulk.introduce(store, snapshot, user, bootstrap.mailer(settings), ids, signature=signature,
                                  resend=resend, progress=progress)
    else:
        outcomes = bulk.relaunch(store, snapshot, user, settings.links, bootstrap.mailer(settings), ids,
                                  progress=progress)
    store.invalidate()
    st.session_state.pop(BULK_PENDING, None)
    st.session_state[BULK_DONE] = outcomes
    return outcomes


# ---- steps: callbacks run before the page is drawn again ---------------------------------------------------


def value(key: str):
    return st.session_state.get(key)


def refusal_now(current, target: str) -> str:
    """The service's French refusal when the meeting's current status no longer allows `target`."""
    status = meetings.status_of(current)
    allowed = status in (meetings.PROPOSED, meetings.ACCEPTED) if target == meetings.ACCEPTED \
        else target in meetings.TRANSITIONS.get(status, ())
    return "" if allowed else str(meetings.TransitionRefused(status, target))


def feedback(step: str) -> Feedback:
    return Feedback(f"rencontre_{step}")


def run_step(step: str, call, success: str, target: str = "") -> None:
    """One write; its French messages are kept for the next drawing, next to the step's fields.
    A call returning text (an SMTP confirmation) has that text shown instead of `success`."""
    forget_conflict()

    def on_conflict(conflict: errors.Conflict) -> None:  # shown above the steps, with the refusal if any
        both_versions(conflict, st.session_state.get(SHOWN))
        st.session_state[REFUSAL] = refusal_now(conflict.current, target) if target else ""

    feedback(step).run(call, lambda result: result if isinstance(result, str) else success, on_conflict=on_conflict)


def both_versions(conflict: errors.Conflict, shown) -> None:
    """Prepare the comparison: the workbook does not recall the version read (the page knows it, it is the one on
    screen), and a change to the other side's free text must not be shown to whom may not read it."""
    if conflict.expected is None and shown is not None and shown.id == conflict.row_id:
        conflict.expected = dict(shown.values)
    if conflict.expected is None:
        return
    snapshot = ctx.snapshot()
    for field in store.schema.tab(meetings.TAB).fields:
        if not access.may_see_field(user, meetings.TAB, field, conflict.current, snapshot):
            conflict.expected[field.name] = conflict.current[field.name]  # hidden fields never count as changed
    conflict.attempted = {**{k: conflict.expected.get(k, "") for k in conflict.changed_fields()},
                          **conflict.attempted}


def has_errors(step: str) -> bool:
    return bool(feedback(step).errors)


def step_message(step: str) -> None:
    """The step's confirmation or whole-form error, drawn with the step (a conflict is drawn above the steps)."""
    drawn.add(step)
    if feedback(step).conflict is None:
        feedback(step).show()


def forget_conflict() -> None:
    for step in STEPS:
        feedback(step).clear()
    st.session_state.pop(REFUSAL, None)


def above_steps(snapshot) -> None:
    """A conflict with both versions (and the refusal if the step is no longer allowed), and the message of a
    step this drawing no longer shows (the meeting moved on)."""
    for step in STEPS:
        if feedback(step).conflict is not None:
            feedback(step).show(user, snapshot)
            if refused := st.session_state.get(REFUSAL):
                st.error(plain(refused))
            st.button("Recharger la rencontre", key="reload_meeting", on_click=forget_conflict)
        elif step not in drawn:
            feedback(step).show()


# ---- detail -----------------------------------------------------------------------------------------------


def lifecycle_line(row) -> str:
    status = meetings.status_of(row)
    if status not in LIFECYCLE:
        return f"**{plain(status)}**"
    return " → ".join(f"**{s}**" if s == status else s for s in LIFECYCLE)


def summary(row, companies, staff) -> None:
    company, person = companies.get(row["entreprise_id"], {}), staff.get(row["personnel_id"], {})
    left, right = st.columns(2)
    left.markdown("**Entreprise** : " + plain(f"{company_name(companies, row['entreprise_id'])} "
                                              f"({company.get('commune', '')})"))
    right.markdown("**Personnel** : " + plain(f"{staff_name(staff, row['personnel_id'])}, "
                                              f"{person.get('fonction', '')} — "
                                              f"{school_name(staff, row['personnel_id'])}"))
    st.markdown(f"Statut : {lifecycle_line(row)}")
    if row["date"]:
        day = meetings.meeting_day(row)
        when = french_date(day, weekday=True) if day else row["date"]
        st.markdown(plain(f"Rendez-vous : {row['format'] or 'format à préciser'}, le {when} à "
                          f"{french_time(row['heure']) or '?'}, {row['lieu'] or 'lieu à préciser'}"
                          + (f" — visite de l'entreprise {row['visite']}" if row["visite"] in ("avant", "après")
                             else "")))
    if row["motif"]:
        st.markdown(f"Motif : {plain_lines(row['motif'])}")


def acceptances(row, snapshot) -> None:
    st.markdown("**Acceptation de chaque partie**")
    for column, side in zip(st.columns(2), meetings.SIDES, strict=True):
        accepted = row[f"acceptation_{side}"]
        if accepted:
            column.success(f"Acceptée par {SIDE_NAMES[side]} le {fr_datetime(accepted)}")
        else:
            column.button(f"Enregistrer l'acceptation {OF_SIDE[side]}", key=f"accept_{side}_{row.id}",
                          disabled=not meetings.may_accept(user, side),
                          help=None if meetings.may_accept(user, side) else
                          f"Seul {meetings.SIDE_COORDINATORS[side]} (ou un administrateur) l'enregistre.",
                          on_click=run_step, args=("accept", lambda s=side: meetings.accept(
                              store, snapshot, user, row.id, s), "Acceptation enregistrée.", meetings.ACCEPTED))
    step_message("accept")


def plan_form(row, snapshot) -> None:
    key, fb = f"plan_{row.id}", feedback("plan")
    again = meetings.status_of(row) == meetings.PLANNED
    with st.form(key):
        st.markdown("**" + ("Replanifier (nouvelle date)" if again else "Planifier la rencontre") + "**")
        left, right = st.columns(2)
        with left:
            st.date_input("Date *", value=meetings.meeting_day(row), format="DD/MM/YYYY", key=f"{key}_date")
            fb.field("date")
        with right:
            st.time_input("Heure *", value=forms.time_of(row["heure"].strip()), step=900, key=f"{key}_heure")
            fb.field("heure")
        st.text_input("Lieu *", value=row["lieu"], max_chars=200, key=f"{key}_lieu")
        fb.field("lieu")
        left, right = st.columns(2)
        with left:
            formats = lists["formats_rencontre"]
            st.selectbox("Format *", formats, index=formats.index(row["format"]) if row["format"] in formats else None,
                         placeholder="Choisir…", key=f"{key}_format")
            fb.field("format")
        with right:
            visits = lists["visites"]
            st.selectbox("Visite de l'entreprise", visits, key=f"{key}_visite",
                         index=visits.index(row["visite"]) if row["visite"] in visits else 0)
            fb.field("visite")
        step_message("plan")
        st.form_submit_button("Enregistrer la date" if again else "Planifier", type="primary", key=f"{key}_go",
                              on_click=run_step, args=("plan", lambda: meetings.plan(
                                  store, snapshot, user, row.id, date=value(f"{key}_date"),
                                  heure=value(f"{key}_heure"), lieu=value(f"{key}_lieu"),
                                  format=value(f"{key}_format"), visite=value(f"{key}_visite")),
                                  "Rencontre planifiée.", meetings.PLANNED))


def done_button(row, snapshot) -> None:
    st.button("Marquer la rencontre comme réalisée", key=f"done_{row.id}", on_click=run_step,
              args=("done", lambda: meetings.mark_done(store, snapshot, user, row.id), "Rencontre réalisée.",
                    meetings.DONE))
    step_message("done")


def close_form(row, snapshot, targets: list) -> None:
    key = f"close_{row.id}"
    labels = {t: t.means.outcome for t in targets}
    verbs = [t.means.verb for t in targets]
    title = (", ".join(verbs[:-1]) + " ou " + verbs[-1] if len(verbs) > 1 else verbs[0]).capitalize()
    with st.expander(f"{title} la rencontre", expanded=has_errors("close")):
        with st.form(key):
            st.radio("Issue", targets, format_func=labels.get, horizontal=True, key=f"{key}_target")
            st.text_area("Motif *", max_chars=500, key=f"{key}_motif")
            feedback("close").field("motif")
            step_message("close")
            st.form_submit_button("Confirmer", key=f"{key}_go", on_click=close_step, args=(row, snapshot, key))


def close_step(row, snapshot, key: str) -> None:
    target = value(f"{key}_target")
    run_step("close", lambda: meetings.close(store, snapshot, user, row.id, target, value(f"{key}_motif")),
             f"Rencontre {target}.", target)


def steps(row, snapshot) -> None:
    targets = meetings.allowed_targets(row)
    st.caption("Étapes possibles : " + (", ".join(targets) if targets else "aucune, la rencontre est close."))
    if meetings.status_of(row) in (meetings.PROPOSED, meetings.ACCEPTED):
        acceptances(row, snapshot)
    if meetings.PLANNED in targets:
        plan_form(row, snapshot)
    if meetings.DONE in targets:
        done_button(row, snapshot)
    closing = [t for t in meetings.WITH_REASON if t in targets]
    if closing:
        close_form(row, snapshot, closing)


# ---- expectations and outcome: free text shown only to whom may see it -------------------------------------


def may_see(row, snapshot, name: str) -> bool:
    field = store.schema.tab(meetings.TAB).field(name)
    return access.may_see_field(user, meetings.TAB, field, row, snapshot)


def expectations(row, snapshot) -> None:
    sides = [s for s in meetings.SIDES if may_see(row, snapshot, f"attendus_{s}")]
    key = f"expect_{row.id}"
    with st.expander("Attendus de chaque partie (avant la rencontre)", expanded=has_errors("expect")):
        if not sides:
            st.caption("Les attendus sont saisis par le coordinateur de chaque partie.")
            return
        with st.form(key):
            for side in sides:
                st.text_area(f"Attendus {OF_SIDE[side]}", value=row[f"attendus_{side}"], max_chars=2000,
                             key=f"{key}_{side}")
                feedback("expect").field(f"attendus_{side}")
            step_message("expect")
            st.form_submit_button("Enregistrer les attendus", key=f"{key}_go", on_click=run_step, args=(
                "expect", lambda: meetings.set_expectations(store, snapshot, user, row.id,
                                                            **{s: value(f"{key}_{s}") for s in sides}),
                "Attendus enregistrés."))


def outcome_form(row, snapshot, side: str) -> None:
    key, step = f"outcome_{side}_{row.id}", f"outcome_{side}"
    fb = feedback(step)
    done = bool(row[f"conclusions_{side}"].strip())
    scores = [1, 2, 3, 4, 5]

    def index(name: str):
        text = row[f"{name}_{side}"].strip()
        return scores.index(int(text)) if text.isdigit() and int(text) in scores else None

    with st.form(key):
        st.markdown(f"**Bilan {OF_SIDE[side]}**" + (" — déjà saisi, modifiable" if done else ""))
        st.text_area("Conclusions *", value=row[f"conclusions_{side}"], max_chars=4000, key=f"{key}_conclusions")
        fb.field(f"conclusions_{side}")
        st.radio("Satisfaction (1 = pas du tout, 5 = tout à fait) *", scores, index=index("satisfaction"),
                 horizontal=True, key=f"{key}_satisfaction")
        fb.field(f"satisfaction_{side}")
        st.radio("« Je comprends mieux le monde de l'autre » (1 à 5) *", scores, index=index("comprehension"),
                 horizontal=True, key=f"{key}_comprehension")
        fb.field(f"comprehension_{side}")
        said = row[f"recommande_{side}"].strip().lower()
        st.radio("Recommanderait la démarche *", ["oui", "non"], horizontal=True, key=f"{key}_recommande",
                 index=["oui", "non"].index(said) if said in ("oui", "non") else None)
        fb.field(f"recommande_{side}")
        st.multiselect("Suite envisagée *", lists["suites"],
                       select_all=False, placeholder="Choisir…", key=f"{key}_suites",
                       default=forms.choices_of(row["suite_envisagee"], lists["suites"]) if done else [])
        fb.field("suite_envisagee")
        step_message(step)
        st.form_submit_button(f"Enregistrer le bilan {OF_SIDE[side]}", type="primary", key=f"{key}_go",
                              on_click=run_step,
                              args=(step, lambda: meetings.record_outcome(
                                  store, snapshot, user, row.id, side, conclusions=value(f"{key}_conclusions"),
                                  satisfaction=value(f"{key}_satisfaction"),
                                  comprehension=value(f"{key}_comprehension"),
                                  recommande=(value(f"{key}_recommande") == "oui"
                                              if value(f"{key}_recommande") else None),
                                  suites=value(f"{key}_suites")), "Bilan enregistré.", meetings.REVIEWED))


def outcome(row, snapshot) -> None:
    if meetings.REVIEWED not in meetings.allowed_targets(row):
        return
    st.markdown("#### Après la rencontre : conclusions et questionnaire")
    sides = [s for s in meetings.SIDES if may_see(row, snapshot, f"conclusions_{s}")]
    others = [s for s in meetings.SIDES if s not in sides]
    for column, side in zip(st.columns(len(sides)) if sides else [], sides, strict=True):
        with column:
            outcome_form(row, snapshot, side)
    for side in others:
        state = "saisi" if row[f"satisfaction_{side}"].strip() else "pas encore saisi"
        st.caption(f"Bilan {OF_SIDE[side]} : {state} (par le coordinateur de cette partie).")


def partnership_link(row, snapshot) -> None:
    if meetings.status_of(row) not in (meetings.DONE, meetings.REVIEWED) or \
            not access.allowed(user, access.EDIT_PARTENARIATS):
        return
    existing = [p for p in snapshot.rows("Partenariats") if p["rencontre_id"] == row.id]
    if existing:
        st.info(plain(f"Partenariat {existing[0].id} créé à partir de cette rencontre (statut "
                      f"« {existing[0]['statut']} »)."))
        st.page_link("pages/partenariats.py", label="Voir les partenariats", icon=":material/domain:")
    else:
        st.page_link("pages/partenariats.py", label="Créer un partenariat", icon=":material/domain:",
                     query_params={"rencontre": row.id})


# ---- introduction -----------------------------------------------------------------------------------------


def revealed_key(row) -> str:
    return f"_revealed_{row.id}"


def reveal_sides() -> list[str]:
    """Whose details to reveal: the counterpart for a coordinator, both sides for the admin."""
    return list(meetings.SIDES) if not user.side else [access.counterpart(user.side)]


def intro_blockers(row, snapshot) -> list[str]:
    side = "" if user.side else "entreprise"  # the admin must name a side; the rule is the same for both
    reasons = introduction.blockers(snapshot, row.id) + contacts.reveal_blockers(snapshot, user, row.id, side)
    return list(dict.fromkeys(reasons))


def reveal(row) -> None:
    """Callback of the explicit click: every reveal is journaled by the service before values are returned."""
    def call() -> None:
        st.session_state[revealed_key(row)] = [
            contacts.reveal_contacts(store, user, row.id, introduction.FINALITE, side="" if user.side else side)
            for side in reveal_sides()]

    run_step("intro", call, "")


def template_inputs() -> tuple[str, str, str]:
    with st.expander("Modèle du message (modifiable)"):
        subject = st.text_input("Objet", value=introduction.DEFAULT_SUBJECT, key="intro_subject")
        body = st.text_area("Message", value=introduction.DEFAULT_BODY, height=320, key="intro_body")
        st.markdown("Champs utilisables dans le modèle :\n" + "\n".join(
            f"- `${name}` : {meaning}" for name, meaning in introduction.PLACEHOLDERS.items()))
    signature = st.text_input("Signature", value=user.nom or user.email, key="intro_signature")
    return subject, body, signature


def masked_preview(row, snapshot, subject: str, body: str, signature: str) -> None:
    values = introduction.template_values(snapshot, row.id, signature)
    values.update(dict.fromkeys(CONTACT_KEYS, HIDDEN))
    try:
        text = f"Objet : {introduction.render(subject, values)}\n\n{introduction.render(body, values)}"
    except introduction.TemplateError as error:
        st.error(plain(error))
        return
    st.markdown("**Aperçu du message**")
    with st.container(border=True):
        st.text(text)
    title = " ".join(introduction.render(subject, values).split())
    ics = introduction.meeting_ics(row, summary=title, location=row["lieu"], description=values["rendez_vous"])
    if ics:
        st.download_button("Télécharger l'invitation (.ics)", ics, file_name=f"rencontre-{row.id}.ics",
                           mime="text/calendar", key=f"ics_{row.id}")


def revealed_contacts(found: list[dict]) -> None:
    st.markdown("**Coordonnées communiquées** (consultation inscrite au journal)")
    for person in found:
        tab = store.schema.tab(person["onglet"])
        # A table that never reads Markdown: the details are copied from it as they are (no escape, no joiner).
        st.dataframe([{"Champ": tab.field(name).header, "Valeur": text} for name, text in person.items()
                      if name in tab.field_names and text], hide_index=True, width="stretch")


def prepared_email(row, snapshot, subject: str, body: str, signature: str):
    """Prepared (and journaled) once per meeting and template: reruns reuse it."""
    wanted = (row.id, subject, body, signature, *(row[name] for name in MESSAGE_FIELDS))
    kept = st.session_state.get(PREPARED)
    if kept is None or kept[0] != wanted:
        kept = (wanted, introduction.prepare(snapshot, user, row.id, store=store, signature=signature,
                                             subject_template=subject, body_template=body))
        st.session_state[PREPARED] = kept
    return kept[1]


def delivery(row, snapshot, subject: str, body: str, signature: str) -> None:
    try:
        email = prepared_email(row, snapshot, subject, body, signature)
    except errors.UserError as error:
        st.error(plain(error))
        return
    st.markdown("**Message à envoyer**")
    st.code(introduction.plain_text(email), language=None, wrap_lines=True)
    if email.ics:
        st.download_button("Télécharger l'invitation (.ics)", email.ics, file_name=f"rencontre-{row.id}.ics",
                           mime="text/calendar", key=f"ics_{row.id}")
    mailer = bootstrap.mailer(get_settings())
    sent_before = bool(introduction.sent_stamp(row)[0])
    again = sent_before and st.checkbox("Elle a déjà été envoyée : je confirme l'envoyer une nouvelle fois",
                                        key=f"resend_ok_{row.id}")
    if mailer.available:
        sure = st.checkbox("J'ai relu le message : l'envoyer aux deux parties", key=f"send_ok_{row.id}")
        st.button("Envoyer à nouveau" if sent_before else "Envoyer", type="primary",
                  disabled=not sure or (sent_before and not again), key=f"send_{row.id}", on_click=run_step,
                  args=("intro", lambda: introduction.send_introduction(store, snapshot, user, email, mailer,
                                                                        resend=again),
                        "Mise en relation envoyée."))
        return
    st.caption("Aucun serveur d'envoi n'est configuré (section [smtp] de secrets.toml) : ouvrez le message dans "
               "votre messagerie (joignez-y le fichier .ics) ou copiez le texte ci-dessus.")
    st.link_button("Ouvrir dans ma messagerie", introduction.mailto_link(email))
    st.button("J'ai envoyé le message : noter la mise en relation", key=f"sent_{row.id}", on_click=run_step,
              disabled=sent_before and not again,
              args=("intro", lambda: introduction.mark_sent(store, snapshot, user, row.id, channel="messagerie",
                                                            resend=again),
                    "Mise en relation notée."))


def introduction_box(row, snapshot) -> None:
    st.markdown("#### Mise en relation")
    if not access.allowed(user, access.REVEAL_CONTACTS):
        st.info("Votre rôle ne permet pas la mise en relation.")
        return
    reasons = intro_blockers(row, snapshot)
    if reasons:
        st.warning("Les coordonnées ne peuvent pas être communiquées pour l'instant :\n"
                   + "\n".join(f"- {plain(reason)}" for reason in reasons))
        return
    if row["introduction_envoyee"]:
        who = introduction.sent_stamp(row)[1]
        st.caption(f"Mise en relation déjà envoyée le {fr_datetime(row['introduction_envoyee'])}"
                   + (f" par {plain(who)}." if who else "."))
    subject, body, signature = template_inputs()
    found = st.session_state.get(revealed_key(row))
    step_message("intro")
    if not found:
        masked_preview(row, snapshot, subject, body, signature)
        st.caption("Les coordonnées n'apparaissent qu'à votre demande : chaque consultation est inscrite au "
                   "journal.")
        st.button("Afficher les coordonnées et préparer l'envoi", type="primary", key=f"reveal_{row.id}",
                  on_click=reveal, args=(row,))
        return
    revealed_contacts(found)
    delivery(row, snapshot, subject, body, signature)


# ---- page -------------------------------------------------------------------------------------------------


def detail_view(meeting_id: str) -> None:
    if st.button("← Retour à la liste", key="back_to_list"):
        st.query_params.pop("id", None)
        st.rerun()
    fresh = st.session_state.get(OPENED) != meeting_id  # read the sheet afresh when a meeting is opened
    st.session_state[OPENED] = meeting_id
    if fresh:
        forget_conflict()
    snapshot = ctx.snapshot(fresh=fresh)
    row = snapshot.get(meetings.TAB, meeting_id)
    if row is None or not access.row_in_scope(user, meetings.TAB, row, snapshot):
        st.warning(f"La rencontre {plain(meeting_id)} est introuvable ou hors de votre périmètre.")
        return
    st.session_state[SHOWN] = row
    companies, staff = people(snapshot)
    st.subheader(plain(f"{company_name(companies, row['entreprise_id'])} × {staff_name(staff, row['personnel_id'])}"))
    st.caption(plain(f"{row.id} — année scolaire {row['annee_scolaire']}" +
                     (f" — score d'appariement {row['score']}" if row["score"] else "")))
    summary(row, companies, staff)
    top = st.container()
    steps(row, snapshot)
    if meetings.status_of(row) in meetings.BEFORE_MEETING:
        expectations(row, snapshot)
    outcome(row, snapshot)
    partnership_link(row, snapshot)
    introduction_box(row, snapshot)
    links_box(row, snapshot, user)
    with top:
        above_steps(ctx.snapshot())


selected = st.query_params.get("id", "")
if selected.startswith(f"{store.schema.tab(meetings.TAB).id_prefix}-"):
    detail_view(selected)
else:
    list_view(ctx.snapshot())
