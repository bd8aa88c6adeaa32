"""Pairing: explainable suggestions per company or staff member, and an optimal global plan to review.

Nothing is written until the coordinator confirms; proposals get their IDs once (made by the pairing service and
kept in the session), so a double click never duplicates a meeting. Lists only offer what can be paired (the
service decides), every record is named, never shown by its ID, and the rows come from access.visible_rows (no
contacts). The selected tab, record and filters are widget state: an action (propose, drop, swap) keeps them.
"""

import streamlit as st

from ecole_entreprise.services.kernel import access
from ecole_entreprise.services.kernel.formatting import fmt_number
from ecole_entreprise.services.pairing import plan as pairing
from ecole_entreprise.services.pairing.scoring import PairingSettings
from pages._context import page_context
from pages._feedback import Feedback
from pages._plain import plain, plain_rows
from pages._shared import refresh_button
from pages._shell import PAGES

PLAN = "_appariement_plan"  # the working plan (pairing.Plan) the coordinator edits
PLAN_IDS = "_appariement_ids_plan"
TAB = "appariement_onglet"  # the selected tab, kept server-side so that a rerun never jumps back to the first
TABS = ("Par entreprise", "Par personnel", "Plan global")
PAGE_SIZE = 10  # suggestions shown per record
EVERYTHING = "Afficher aussi les fiches non appariables"
NO_FIELD = ("",)  # no form field here: a field-level error (e.g. one meeting of a batch) is listed with the others

ctx = page_context("appariement")
user, snapshot = ctx.user, ctx.snapshot()
st.title("Appariement")
refresh_button()
settings = PairingSettings.from_snapshot(snapshot)
offer = pairing.choices(user, snapshot, settings=settings)
companies, staff = offer.entreprises, offer.personnels


def empty_state() -> None:
    """No record on one side: say which, and where to add them."""
    missing = [word for word, side in (("entreprise", companies), ("personnel", staff)) if not side.rows]
    st.info(f"Aucune fiche {' ni aucune fiche '.join(missing)} dans votre périmètre pour l'instant : "
            "l'appariement a besoin d'entreprises et de personnels volontaires. Recensez-les (ou importez une "
            "liste), validez leurs fiches, puis revenez ici.")
    for key, label, side in (("entreprises", "Recenser des entreprises", companies),
                             ("personnels", "Recenser des personnels", staff)):
        if not side.rows:
            st.page_link(PAGES[key].path, label=label, icon=PAGES[key].icon)
    if access.allowed(user, access.IMPORT_DATA):
        st.page_link(PAGES["import"].path, label="Importer un fichier", icon=PAGES["import"].icon)


if not companies.rows or not staff.rows:
    empty_state()
    st.stop()


def person_name(pid: str) -> str:
    row = staff.rows.get(pid, {})
    return f"{row.get('prenom', '')} {row.get('nom', '')}".strip() or staff.labels.get(pid, "Personnel sans nom")


def show_breakdown(pair) -> None:
    st.table(plain_rows([{"Critère": p.label_fr, "Points": fmt_number(p.points), "Détail": p.detail_fr}
                         for p in pair.parts]))


def proposed_message(done) -> str:
    return (f"{done.written} rencontre(s) proposée(s) pour {settings.annee_scolaire}. Suivez-les dans la page "
            "Rencontres." + (f" {done.skipped} déjà enregistrée(s), non dupliquée(s)." if done.skipped else ""))


def propose(pairs, ids_key: str, feedback: Feedback) -> None:
    """Write the proposals. The IDs live in the session until the write succeeds, so a retry after a lost answer
    (or a second click) sends the same IDs and nothing is written twice."""
    ids = st.session_state.setdefault(ids_key, {})
    if feedback.run(lambda: pairing.propose(ctx.store, snapshot, user, pairs, settings.annee_scolaire, ids),
                    proposed_message):
        st.session_state.pop(ids_key, None)
        st.session_state.pop(PLAN, None)  # the plan counted places that are now taken
    st.rerun()


# ---- suggestions for one record ----------------------------------------------------------------------------


def nothing_pairable(kind: str) -> None:
    """Records exist but none can be paired now: say why in general, and what to do."""
    word, page = ("entreprise", "entreprises") if kind == "Entreprises" else ("personnel", "personnels")
    st.info(f"Aucune fiche {word} ne peut être appariée pour l'instant : {len(offer.side(kind).rows)} fiche(s) "
            "dans votre périmètre, mais aucune n'est à la fois validée, avec le consentement à participer et "
            + ("une place libre cette année." if kind == "Entreprises" else "sans rencontre déjà en cours.")
            + f" Validez les fiches et recueillez les consentements dans la page {PAGES[page].title}, puis "
            f"revenez ici ; « {EVERYTHING} » donne la raison fiche par fiche.")
    st.page_link(PAGES[page].path, label=f"Ouvrir la page {PAGES[page].title}", icon=PAGES[page].icon)


def pick(kind: str) -> tuple[str | None, list[str]]:
    """The chosen record and the options; the first pairable record by default. A choice that leaves the list
    (just proposed, now engaged) gives way to the record that followed it."""
    side = offer.side(kind)
    options = side.options(st.toggle(EVERYTHING, key=f"all_{kind}"))
    if not options:
        nothing_pairable(kind)
        return None, options
    key, after = f"pick_{kind}", st.session_state.pop(f"_after_{kind}", None)
    if st.session_state.get(key) not in options:
        st.session_state[key] = after if after in options else (side.pairable or options)[0]
    word = "Entreprise" if kind == "Entreprises" else "Personnel"
    return st.selectbox(word, options, format_func=side.labels.__getitem__, key=key), options


def no_suggestion(kind: str, chosen: str) -> None:
    st.warning("Aucune suggestion pour cette fiche.")
    reasons = pairing.blockers(snapshot, kind, chosen, settings=settings)
    if reasons:
        st.markdown("\n".join(f"- {plain(reason)}" for reason in reasons))
        return
    other = "personnel" if kind == "Entreprises" else "entreprise"
    st.caption(f"La fiche elle-même peut être appariée, mais aucune fiche {other} disponible n'est à moins de "
               f"{fmt_number(settings.distance_max_km)} km dans votre périmètre, ou les paires possibles ont déjà "
               "une rencontre prévue ou refusée.")


def suggestions(kind: str) -> None:
    feedback = Feedback(f"appariement_{kind}")
    feedback.show(user, snapshot, fields_shown=NO_FIELD)
    chosen, options = pick(kind)
    if chosen is None:
        return
    found = pairing.suggestions(user, snapshot, kind, chosen, n=PAGE_SIZE, settings=settings)
    if not found:
        no_suggestion(kind, chosen)
        return
    st.caption(f"{len(found)} meilleure(s) suggestion(s), score sur 121 points ; dépliez pour voir le détail.")
    for pair in found:
        other = (staff.labels.get(pair.personnel_id, "") if kind == "Entreprises"
                 else companies.labels.get(pair.entreprise_id, ""))
        suffix = f"{kind}_{pair.entreprise_id}_{pair.personnel_id}"
        with st.expander(f"{fmt_number(pair.total)} pts — {plain(other)}"):
            show_breakdown(pair)
            sure = st.checkbox("Je confirme la proposition de cette rencontre", key=f"ok_{suffix}")
            if st.button("Proposer cette rencontre", disabled=not sure, key=f"go_{suffix}"):
                st.session_state[f"_after_{kind}"] = following(options, chosen)
                propose([pair], f"_appariement_ids_{kind}", feedback)


def following(options: list[str], chosen: str) -> str | None:
    at = options.index(chosen)
    return options[at + 1] if at + 1 < len(options) else options[at - 1] if at else None


# ---- the global plan ---------------------------------------------------------------------------------------


def plan_table(plan, pairs) -> None:
    rows = []
    for pair in pairs:
        km = pairing.distance_km(plan, pair)
        company = companies.rows.get(pair.entreprise_id, {})
        rows.append({"Entreprise": company.get("raison_sociale", ""), "Commune entreprise": company.get("commune", ""),
                     "Personnel": person_name(pair.personnel_id),
                     "Commune personnel": staff.rows.get(pair.personnel_id, {}).get("commune", ""),
                     "Distance (km)": "" if km is None else fmt_number(km), "Score": fmt_number(pair.total)})
    st.dataframe(rows, hide_index=True, width="stretch")


def plan_details(pairs) -> None:
    """The score breakdown of any pair of the plan, as for a suggestion."""
    by_person = {p.personnel_id: p for p in pairs}  # one pair per person in a plan
    with st.expander("Détail du score d'une paire du plan"):
        chosen = st.selectbox("Paire", list(by_person), key="plan_detail_pick", format_func=lambda pid: (
            f"{staff.labels.get(pid, '')} ↔ {companies.labels.get(by_person[pid].entreprise_id, '')}"))
        show_breakdown(by_person[chosen])


def plan_summary(plan, pairs) -> None:
    waiting = [pid for pid in plan.unmatched_personnels if pid in staff.rows]
    free = sum(n for eid, n in plan.unmatched_capacity.items() if eid in companies.rows)
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


def keep(plan) -> None:
    st.session_state[PLAN] = plan


def edit_plan(plan, pairs, feedback: Feedback) -> None:
    """Drop a pair or swap two staff members; the plan lives in the session until it is proposed."""
    shown = [p.personnel_id for p in pairs]
    name = staff.labels.get
    left, right = st.columns(2)
    with left:
        dropped = st.selectbox("Retirer une paire", shown, format_func=name, key="plan_drop_pick")
        if st.button("Retirer", key="plan_drop"):
            feedback.run(lambda: keep(pairing.drop(plan, dropped)), f"{name(dropped)} retiré(e) du plan.",
                         rerun=True)
    with right:
        first = st.selectbox("Échanger…", shown, format_func=name, key="swap_a")
        elsewhere = {p.personnel_id for p in plan.pairs} - set(shown)  # other coordinators' part stays theirs
        partners = pairing.swap_partners(plan, first, [p for p in staff.pairable if p not in elsewhere])
        if not partners:
            st.caption(f"Aucun personnel de votre périmètre ne peut échanger sa place avec {plain(name(first))} : "
                       "chaque échange doit donner deux paires possibles (distance, rencontres passées).")
            return
        second = st.selectbox("…avec", partners, format_func=name, key="swap_b")
        if st.button("Échanger", key="plan_swap"):
            feedback.run(lambda: keep(pairing.swap(plan, first, second)),
                         f"Échange effectué entre {name(first)} et {name(second)}.", rerun=True)


def global_view() -> None:
    feedback = Feedback("appariement_plan")
    if st.button("Calculer le plan optimal", type="primary", key="plan_compute"):
        with st.spinner("Calcul du plan (score total maximal dans la limite des capacités)…"):
            keep(pairing.global_plan(snapshot, settings=settings))
        st.session_state.pop(PLAN_IDS, None)
        feedback.clear()
    feedback.show(user, snapshot, fields_shown=NO_FIELD)
    plan = st.session_state.get(PLAN)
    if plan is None:
        st.caption("Le plan répartit les personnels encore sans rencontre en maximisant le score total, dans la "
                   "limite des capacités des entreprises. Il est calculé pour toute la région puis limité à votre "
                   "périmètre : chaque coordinateur propose sa part du même plan optimal, sans prendre les places "
                   "qu'il attribue ailleurs. Rien n'est écrit avant votre confirmation.")
        return
    pairs = pairing.in_scope(user, snapshot, plan.pairs)
    plan_summary(plan, pairs)
    if not pairs:
        return
    plan_table(plan, pairs)
    plan_details(pairs)
    edit_plan(plan, pairs, feedback)
    st.divider()
    sure = st.checkbox(f"Je confirme la proposition de ces {len(pairs)} rencontre(s) pour "
                       f"{plain(settings.annee_scolaire)}", key="plan_ok")
    if st.button(f"Proposer ces {len(pairs)} rencontres", disabled=not sure, type="primary", key="plan_propose"):
        propose(pairs, PLAN_IDS, feedback)


by_company, by_staff, plan_tab = st.tabs(TABS, key=TAB, on_change="rerun")
with by_company:
    suggestions("Entreprises")
with by_staff:
    suggestions("Personnels")
with plan_tab:
    global_view()
