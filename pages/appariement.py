"""Pairing: explainable suggestions per company or staff member, and an optimal global plan to review.

Nothing is written until the coordinator confirms; proposals get their IDs once, so a double click never
duplicates a meeting. Only names and communes are shown: the rows come from access.visible_rows (no contacts).
"""

import streamlit as st

from ecole_entreprise.services.kernel import access
from ecole_entreprise.services.kernel.formatting import fmt_number
from ecole_entreprise.services.meetings import lifecycle as meetings
from ecole_entreprise.services.pairing import plan as pairing
from ecole_entreprise.services.pairing.scoring import PairingError, PairingSettings, indices, pair_reasons
from ecole_entreprise.store.base import StoreError, new_id
from pages._plain import plain, plain_rows
from pages._shared import get_snapshot, get_store, refresh_button
from pages._shell import PAGES, page_user

FLASH = "_appariement_flash"  # success message shown after the rerun that follows a write
PLAN = "_appariement_plan"  # the working plan (pairing.Plan) the coordinator edits
PLAN_IDS = "_appariement_ids_plan"
PAGE_SIZE = 10  # suggestions shown per record

user = page_user("appariement")
st.title("Appariement")
refresh_button()
if flash := st.session_state.pop(FLASH, None):
    st.success(plain(flash))
store, snapshot = get_store(), get_snapshot()
entreprises = {r["id"]: r for r in access.visible_rows(user, "Entreprises", snapshot)}
personnels = {r["id"]: r for r in access.visible_rows(user, "Personnels", snapshot)}
settings = PairingSettings.from_snapshot(snapshot)


def empty_state() -> None:
    """No record on one side: say which, and where to add them."""
    missing = [word for word, rows in (("entreprise", entreprises), ("personnel", personnels)) if not rows]
    st.info(f"Aucune fiche {' ni aucune fiche '.join(missing)} dans votre périmètre pour l'instant : "
            "l'appariement a besoin d'entreprises et de personnels volontaires. Recensez-les (ou importez une "
            "liste), validez leurs fiches, puis revenez ici.")
    for key, label, rows in (("entreprises", "Recenser des entreprises", entreprises),
                             ("personnels", "Recenser des personnels", personnels)):
        if not rows:
            st.page_link(PAGES[key].path, label=label, icon=PAGES[key].icon)
    if access.allowed(user, access.IMPORT_DATA):
        st.page_link(PAGES["import"].path, label="Importer un fichier", icon=PAGES["import"].icon)


if not entreprises or not personnels:
    empty_state()
    st.stop()


def company_label(eid: str) -> str:
    r = entreprises.get(eid, {})
    return f"{r.get('raison_sociale') or eid} ({r.get('commune', '')})"


def staff_name(pid: str) -> str:
    r = personnels.get(pid, {})
    return f"{r.get('prenom', '')} {r.get('nom', '')}".strip() or pid


def staff_label(pid: str) -> str:
    r = personnels.get(pid, {})
    school, town = r.get("etablissement", ""), r.get("commune", "")
    where = school if town and town in school else f"{school} ({town})"  # school names often hold the town
    return f"{staff_name(pid)} — {r.get('fonction', '')}, {where}"


def in_scope(pair) -> bool:
    """The meeting this pair would create must fall within the user's départements."""
    meeting = {"entreprise_id": pair.entreprise_id, "personnel_id": pair.personnel_id}
    return access.row_in_scope(user, "Rencontres", meeting, snapshot)


def show_breakdown(pair) -> None:
    st.table(plain_rows([{"Critère": p.label_fr, "Points": fmt_number(p.points), "Détail": p.detail_fr}
                         for p in pair.parts]))


def propose(pairs, ids_key: str) -> None:
    """Append the proposals; IDs are made the first time and kept in the session, so a rerun interrupted by a
    second click sends the same IDs and meetings.propose skips what is already written."""
    ids = st.session_state.setdefault(ids_key, {})
    records = []
    try:
        made = pairing.plan_to_records(pairing.Plan(pairs, sum(p.total for p in pairs), [], {}),
                                       settings.annee_scolaire)
    except PairingError as error:
        st.error(plain(error))
        return
    for record in made:
        pair_key = (record["entreprise_id"], record["personnel_id"], record["annee_scolaire"])
        ids.setdefault(pair_key, new_id(store.schema.tab("Rencontres").id_prefix))
        records.append({**record, "id": ids[pair_key]})
    try:
        written = meetings.propose(store, snapshot, user, records)
    except StoreError as error:
        st.error(plain(error))
        return
    st.session_state.pop(ids_key, None)
    st.session_state.pop(PLAN, None)
    skipped = len(records) - len(written)
    st.session_state[FLASH] = (f"{len(written)} rencontre(s) proposée(s) pour {settings.annee_scolaire}. "
                               "Suivez-les dans la page Rencontres."
                               + (f" {skipped} déjà enregistrée(s), non dupliquée(s)." if skipped else ""))
    st.rerun()


def no_suggestion(kind: str, chosen: str) -> None:
    st.warning("Aucune suggestion pour cette fiche.")
    reasons = pairing.blockers(snapshot, kind, chosen)
    if reasons:
        st.markdown("\n".join(f"- {plain(reason)}" for reason in reasons))
        return
    other = "personnel" if kind == "Entreprises" else "entreprise"
    st.caption(f"La fiche elle-même peut être appariée, mais aucune fiche {other} disponible n'est à moins de "
               f"{fmt_number(settings.distance_max_km)} km dans votre périmètre, ou les paires possibles ont déjà "
               "une rencontre prévue ou refusée.")


def suggestions(kind: str) -> None:
    rows = entreprises if kind == "Entreprises" else personnels
    label = company_label if kind == "Entreprises" else staff_label
    word = "Entreprise" if kind == "Entreprises" else "Personnel"
    chosen = st.selectbox(word, list(rows), format_func=label, key=f"pick_{kind}")
    finder = pairing.suggestions_for_entreprise if kind == "Entreprises" else pairing.suggestions_for_personnel
    try:
        found = [p for p in finder(snapshot, chosen, n=PAGE_SIZE, settings=settings) if in_scope(p)]
    except PairingError as error:
        st.error(plain(error))
        return
    if not found:
        no_suggestion(kind, chosen)
        return
    st.caption(f"{len(found)} meilleure(s) suggestion(s), score sur 121 points ; dépliez pour voir le détail.")
    for pair in found:
        other = staff_label(pair.personnel_id) if kind == "Entreprises" else company_label(pair.entreprise_id)
        suffix = f"{kind}_{pair.entreprise_id}_{pair.personnel_id}"
        with st.expander(f"{fmt_number(pair.total)} pts — {plain(other)}"):
            show_breakdown(pair)
            sure = st.checkbox("Je confirme la proposition de cette rencontre", key=f"ok_{suffix}")
            if st.button("Proposer cette rencontre", disabled=not sure, key=f"go_{suffix}"):
                propose([pair], f"_appariement_ids_{kind}")


def distance_km(plan, pair) -> float | None:
    e, p = indices(plan.data, pair.entreprise_id, pair.personnel_id)
    return pair_reasons(plan.data, e, p)[1]


def plan_table(plan, pairs) -> None:
    rows = []
    for pair in pairs:
        km = distance_km(plan, pair)
        rows.append({"Entreprise": entreprises.get(pair.entreprise_id, {}).get("raison_sociale", pair.entreprise_id),
                     "Commune entreprise": entreprises.get(pair.entreprise_id, {}).get("commune", ""),
                     "Personnel": staff_name(pair.personnel_id),
                     "Commune personnel": personnels.get(pair.personnel_id, {}).get("commune", ""),
                     "Distance (km)": "" if km is None else fmt_number(km), "Score": fmt_number(pair.total)})
    st.dataframe(rows, hide_index=True, width="stretch")


def plan_details(pairs) -> None:
    """The score breakdown of any pair of the plan, as for a suggestion."""
    by_person = {p.personnel_id: p for p in pairs}  # one pair per person in a plan
    with st.expander("Détail du score d'une paire du plan"):
        chosen = st.selectbox("Paire", list(by_person), key="plan_detail_pick", format_func=lambda pid: (
            f"{staff_name(pid)} — {company_label(by_person[pid].entreprise_id)}"))
        show_breakdown(by_person[chosen])


def plan_summary(plan, pairs) -> None:
    waiting = [pid for pid in plan.unmatched_personnels if pid in personnels]
    free = sum(n for eid, n in plan.unmatched_capacity.items() if eid in entreprises)
    left, middle, right = st.columns(3)
    left.metric("Score total", fmt_number(sum(p.total for p in pairs)))
    middle.metric("Personnels sans entreprise", len(waiting))
    right.metric("Places d'entreprise libres", free)
    if not pairs:
        st.info(f"Aucune paire possible dans votre périmètre : {len(waiting)} personnel(s) disponible(s) et {free} "
                f"place(s) libre(s), mais aucune combinaison à moins de {fmt_number(settings.distance_max_km)} km "
                "sans rencontre déjà prévue ou refusée. Les fiches à valider, sans consentement ou déjà engagées "
                "dans une rencontre sont écartées : les onglets « Par entreprise » et « Par personnel » donnent "
                "les raisons fiche par fiche.")


def edit_plan(plan, pairs) -> None:
    """Drop a pair or swap two staff members; the plan lives in the session until it is proposed."""
    left, right = st.columns(2)
    with left:
        dropped = st.selectbox("Retirer une paire", [p.personnel_id for p in pairs], format_func=staff_label,
                               key="plan_drop_pick")
        if st.button("Retirer", key="plan_drop"):
            change_plan(lambda: pairing.drop(plan, dropped), f"{staff_name(dropped)} retiré(e) du plan.")
    with right:
        first = st.selectbox("Échanger…", [p.personnel_id for p in pairs], format_func=staff_label, key="swap_a")
        second = st.selectbox("…avec", [p for p in personnels if p != first], format_func=staff_label,
                              key="swap_b")
        if st.button("Échanger", key="plan_swap"):
            change_plan(lambda: pairing.swap(plan, first, second),
                        f"Échange effectué entre {staff_name(first)} et {staff_name(second)}.")


def change_plan(edit, done: str) -> None:
    try:
        st.session_state[PLAN] = edit()
    except PairingError as error:
        st.error(plain(error))
        return
    st.session_state[FLASH] = done
    st.rerun()


def global_view() -> None:
    if st.button("Calculer le plan optimal", type="primary", key="plan_compute"):
        with st.spinner("Calcul du plan (score total maximal dans la limite des capacités)…"):
            st.session_state[PLAN] = pairing.global_plan(snapshot, settings=settings)
        st.session_state.pop(PLAN_IDS, None)
    plan = st.session_state.get(PLAN)
    if plan is None:
        st.caption("Le plan répartit les personnels encore sans rencontre en maximisant le score total, dans la "
                   "limite des capacités des entreprises. Il est calculé pour toute la région puis limité à votre "
                   "périmètre : chaque coordinateur propose sa part du même plan optimal, sans prendre les places "
                   "qu'il attribue ailleurs. Rien n'est écrit avant votre confirmation.")
        return
    pairs = [p for p in plan.pairs if in_scope(p)]
    plan_summary(plan, pairs)
    if not pairs:
        return
    plan_table(plan, pairs)
    plan_details(pairs)
    edit_plan(plan, pairs)
    st.divider()
    sure = st.checkbox(f"Je confirme la proposition de ces {len(pairs)} rencontre(s) pour "
                       f"{plain(settings.annee_scolaire)}", key="plan_ok")
    if st.button(f"Proposer ces {len(pairs)} rencontres", disabled=not sure, type="primary", key="plan_propose"):
        propose(pairs, PLAN_IDS)


by_company, by_staff, plan_tab = st.tabs(["Par entreprise", "Par personnel", "Plan global"])
with by_company:
    suggestions("Entreprises")
with by_staff:
    suggestions("Personnels")
with plan_tab:
    global_view()
