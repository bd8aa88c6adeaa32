"""Pairing: explainable suggestions per company or staff member, and an optimal global plan to review.

Nothing is written until the coordinator confirms; proposals get their IDs once, so a double click never
duplicates a meeting.
"""

import streamlit as st

from ecole_entreprise.services import access, meetings, pairing
from ecole_entreprise.services.scoring import PairingError
from ecole_entreprise.store.base import StoreError, new_id
from pages._shared import get_snapshot, get_store, refresh_button
from pages._shell import page_user

user = page_user(access.PAIR)
st.title("Appariement")
refresh_button()
store, snapshot = get_store(), get_snapshot()
entreprises = {r["id"]: r for r in access.visible_rows(user, "Entreprises", snapshot)}
personnels = {r["id"]: r for r in access.visible_rows(user, "Personnels", snapshot)}
if not entreprises or not personnels:
    st.info("Il faut des entreprises et des personnels validés pour proposer des rencontres : complétez les pages "
            "Entreprises et Personnels, ou importez des listes (page Import).")
    st.stop()


def company_label(eid: str) -> str:
    r = entreprises.get(eid, {})
    return f"{r.get('raison_sociale', eid)} ({r.get('commune', '')})"


def staff_label(pid: str) -> str:
    r = personnels.get(pid, {})
    return f"{r.get('prenom', '')} {r.get('nom', '')} — {r.get('fonction', '')}, {r.get('etablissement', '')} " \
           f"({r.get('commune', '')})"


def in_scope(pair) -> bool:
    meeting = {"entreprise_id": pair.entreprise_id, "personnel_id": pair.personnel_id}
    return access.row_in_scope(user, "Rencontres", meeting, snapshot)


def show_breakdown(pair) -> None:
    st.table([{"Critère": p.label_fr, "Points": f"{p.points:.1f}".replace(".", ","), "Détail": p.detail_fr}
              for p in pair.parts])


def propose(pairs, key: str) -> None:
    """Append the proposals once: IDs are made the first time and kept in the session."""
    ids = st.session_state.setdefault(key, {})
    records = []
    for record in pairing.plan_to_records(pairing.Plan(pairs, sum(p.total for p in pairs), [], {}),
                                          meetings.parameter(snapshot, "annee_scolaire")):
        pair_key = (record["entreprise_id"], record["personnel_id"])
        ids.setdefault(pair_key, new_id("REN"))
        records.append({**record, "id": ids[pair_key]})
    try:
        written = meetings.propose(store, snapshot, user, records)
    except StoreError as error:
        st.error(str(error))
        return
    st.session_state.pop(key, None)
    st.session_state.pop("plan", None)
    st.toast(f"{len(written)} rencontre(s) proposée(s).", icon="✅")
    st.rerun()


def suggestions(kind: str) -> None:
    rows = entreprises if kind == "Entreprises" else personnels
    label = company_label if kind == "Entreprises" else staff_label
    chosen = st.selectbox("Fiche", list(rows), format_func=label, key=f"pick_{kind}")
    finder = pairing.suggestions_for_entreprise if kind == "Entreprises" else pairing.suggestions_for_personnel
    try:
        found = [p for p in finder(snapshot, chosen, n=10) if in_scope(p)]
    except PairingError as error:
        st.warning(str(error))
        found = []
    if not found:
        st.warning("Aucune suggestion pour cette fiche.")
        for reason in pairing.blockers(snapshot, kind, chosen):
            st.markdown(f"- {reason}")
        return
    for pair in found:
        other = staff_label(pair.personnel_id) if kind == "Entreprises" else company_label(pair.entreprise_id)
        with st.expander(f"{pair.total:.1f} pts — {other}".replace(".", ",", 1)):
            show_breakdown(pair)
            sure = st.checkbox("Je confirme la proposition de cette rencontre", key=f"ok_{kind}_{pair.personnel_id}"
                                                                                    f"_{pair.entreprise_id}")
            if st.button("Proposer cette rencontre", disabled=not sure,
                         key=f"go_{kind}_{pair.personnel_id}_{pair.entreprise_id}"):
                propose([pair], f"ids_{kind}")


def global_view() -> None:
    if st.button("Calculer le plan optimal", type="primary"):
        with st.spinner("Calcul du plan (score total maximal sous les capacités)…"):
            plan = pairing.global_plan(snapshot)
        st.session_state["plan"] = plan
    plan = st.session_state.get("plan")
    if plan is None:
        st.caption("Le plan répartit toutes les personnes encore sans rencontre en maximisant le score total, dans la "
                   "limite des capacités des entreprises. Rien n'est écrit avant votre confirmation.")
        return
    pairs = [p for p in plan.pairs if in_scope(p)]
    st.metric("Score total", f"{sum(p.total for p in pairs):,.1f}".replace(",", "\u202f").replace(".", ","))
    st.caption(f"{len(pairs)} paire(s) ; {len(plan.unmatched_personnels)} personne(s) sans entreprise compatible.")
    st.dataframe([{"Entreprise": company_label(p.entreprise_id), "Personnel": staff_label(p.personnel_id),
                   "Score": round(p.total, 1)} for p in pairs], hide_index=True, width="stretch")
    if not pairs:
        return
    left, right = st.columns(2)
    with left:
        dropped = st.selectbox("Retirer une paire", [p.personnel_id for p in pairs], format_func=staff_label)
        if st.button("Retirer"):
            st.session_state["plan"] = pairing.drop(plan, dropped)
            st.rerun()
    with right:
        first = st.selectbox("Échanger…", [p.personnel_id for p in pairs], format_func=staff_label, key="swap_a")
        second = st.selectbox("…avec", [p for p in personnels if p != first], format_func=staff_label, key="swap_b")
        if st.button("Échanger"):
            try:
                st.session_state["plan"] = pairing.swap(plan, first, second)
                st.rerun()
            except PairingError as error:
                st.error(str(error))
    sure = st.checkbox(f"Je confirme la proposition de ces {len(pairs)} rencontre(s)", key="plan_ok")
    if st.button(f"Proposer ces {len(pairs)} rencontres", disabled=not sure, type="primary"):
        propose(pairs, "ids_plan")


by_company, by_staff, plan_tab = st.tabs(["Par entreprise", "Par personnel", "Plan global"])
with by_company:
    suggestions("Entreprises")
with by_staff:
    suggestions("Personnels")
with plan_tab:
    global_view()
