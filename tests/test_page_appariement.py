"""Appariement page through Streamlit's AppTest, on a private copy of the demo workbook (or a tiny hand-made one).

Expected values come from the pairing services run on the same data, never from constants.
"""

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ecole_entreprise.domain.roles import COMITE as COMITE_ROLE
from ecole_entreprise.domain.roles import User
from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.services.kernel import access
from ecole_entreprise.services.kernel.formatting import fmt_number
from ecole_entreprise.services.kernel.users import find_user
from ecole_entreprise.services.meetings import lifecycle as meetings
from ecole_entreprise.services.pairing import plan as pairing
from ecole_entreprise.services.pairing.scoring import LABELS, PairingError, company_label, staff_label
from ecole_entreprise.store.base import Unreachable
from ecole_entreprise.store.workbook import WorkbookStore
from tests.support.apptest import ADMIN, COMITE, CPME, DIJON, ROOT, app_store, open_page
from tests.support.sent import everything_sent

PAGE = "pages/appariement.py"


def snapshot():
    return app_store().read(fresh=True)


def meeting_keys() -> list[tuple[str, str, str]]:
    return [(r["entreprise_id"], r["personnel_id"], r["annee_scolaire"]) for r in snapshot().rows("Rencontres")]


def new_meetings(before_ids: set[str]) -> list:
    return [r for r in snapshot().rows("Rencontres") if r.id not in before_ids]


def meeting_ids() -> set[str]:
    return {r.id for r in snapshot().rows("Rencontres")}


def appariement(monkeypatch, email=ADMIN) -> AppTest:
    at = open_page(monkeypatch, email, PAGE)
    assert not at.exception, [e.value for e in at.exception]
    return at


def pick(at, kind: str, row_id: str) -> None:
    at.selectbox(key=f"pick_{kind}").set_value(row_id).run()
    assert not at.exception, [e.value for e in at.exception]


def tab(at, label: str):
    """The content of one tab: every tab is drawn on each run, so a test looks into the one it acts in."""
    [found] = [t for t in at.tabs if t.label == label]
    return found


def first_company_with_suggestions(snap) -> tuple[str, list]:
    for row in snap.rows("Entreprises"):
        found = pairing.suggestions_for_entreprise(snap, row.id)
        if found:
            return row.id, found
    raise AssertionError("the demo data should hold a company with suggestions")


def show_everything(at, kind: str) -> None:
    """Tick « Afficher aussi les fiches non appariables »: the list then holds every visible record."""
    at.toggle(key=f"all_{kind}").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]


def compute_plan(at) -> None:
    at.button(key="plan_compute").click().run()
    assert not at.exception, [e.value for e in at.exception]


def plan_frame(at):
    [frame] = [d.value for d in at.dataframe]
    return frame


# ---- suggestions ---------------------------------------------------------------------------------------------


def test_company_suggestions_show_score_and_breakdown(app_workbook, monkeypatch):
    company, expected = first_company_with_suggestions(snapshot())
    at = appariement(monkeypatch)
    pick(at, "Entreprises", company)
    labels = [e.label for e in tab(at, "Par entreprise").expander]
    assert len(labels) == len(expected)
    staff = {r.id: r for r in snapshot().rows("Personnels")}
    for label, pair in zip(labels, expected, strict=True):
        assert label.startswith(f"{fmt_number(pair.total)} pts — ")
        assert f"{staff[pair.personnel_id]['prenom']} {staff[pair.personnel_id]['nom']}" in label
    best = tab(at, "Par entreprise").expander[0]
    [table] = best.table
    frame = table.value
    assert list(frame["Critère"]) == list(LABELS)
    assert list(frame["Détail"]) == [part.detail_fr for part in expected[0].parts]
    points = [float(p.replace(",", ".")) for p in frame["Points"]]
    assert sum(points) == pytest.approx(expected[0].total, abs=0.05 * len(points))


def test_excluded_record_says_why(app_workbook, monkeypatch):
    snap = snapshot()
    blocked = next(r for r in snap.rows("Entreprises") if pairing.blockers(snap, "Entreprises", r.id))
    at = appariement(monkeypatch)
    assert company_label(blocked) not in at.selectbox(key="pick_Entreprises").options  # not offered by default
    show_everything(at, "Entreprises")
    pick(at, "Entreprises", blocked.id)
    assert "Aucune suggestion pour cette fiche." in [w.value for w in at.warning]
    shown = "\n".join(m.value for m in at.markdown)
    for reason in pairing.blockers(snap, "Entreprises", blocked.id):
        assert reason in shown
    assert not [b for b in tab(at, "Par entreprise").button if b.label == "Proposer cette rencontre"]


def test_staff_suggestions_list_companies(app_workbook, monkeypatch):
    snap = snapshot()
    staff, expected = next((r.id, found) for r in snap.rows("Personnels")
                           if (found := pairing.suggestions_for_personnel(snap, r.id)))
    companies = {r.id: r["raison_sociale"] for r in snap.rows("Entreprises")}
    at = appariement(monkeypatch)
    pick(at, "Personnels", staff)
    labels = [e.label for e in tab(at, "Par personnel").expander]
    assert len(labels) == len(expected)
    for label, pair in zip(labels, expected, strict=True):
        assert companies[pair.entreprise_id] in label


def test_one_proposal_needs_confirmation_and_is_written_once(app_workbook, monkeypatch):
    company, expected = first_company_with_suggestions(snapshot())
    best = expected[0]
    before, before_ids = meeting_keys(), meeting_ids()
    at = appariement(monkeypatch)
    pick(at, "Entreprises", company)
    suffix = f"Entreprises_{company}_{best.personnel_id}"
    assert at.button(key=f"go_{suffix}").disabled
    at.run()
    assert meeting_keys() == before  # rendering and reruns write nothing
    at.checkbox(key=f"ok_{suffix}").check().run()
    assert not at.button(key=f"go_{suffix}").disabled
    assert meeting_keys() == before  # ticking the confirmation writes nothing either
    at.button(key=f"go_{suffix}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    year = pairing.PairingSettings.from_snapshot(snapshot()).annee_scolaire
    new = new_meetings(before_ids)
    assert [(r["entreprise_id"], r["personnel_id"], r["annee_scolaire"], r["statut"]) for r in new] == [
        (company, best.personnel_id, year, "proposée")]
    assert float(new[0]["score"]) == pytest.approx(best.total, abs=0.05)
    assert any("1 rencontre(s) proposée(s)" in s.value for s in at.success)
    # the pair is now taken: it is no longer offered, and another run writes nothing more
    assert not [b for b in at.button if b.key == f"go_{suffix}"]
    at.run()
    assert len(meeting_keys()) == len(before) + 1


# ---- global plan ---------------------------------------------------------------------------------------------


def test_plan_is_shown_and_nothing_written_before_confirmation(app_workbook, monkeypatch):
    expected = pairing.global_plan(snapshot())
    assert expected.pairs
    before = meeting_keys()
    at = appariement(monkeypatch)
    compute_plan(at)
    frame = plan_frame(at)
    assert len(frame) == len(expected.pairs)
    assert list(frame.columns) == ["Entreprise", "Commune entreprise", "Personnel", "Commune personnel",
                                   "Distance (km)", "Score"]
    assert list(frame["Score"]) == [fmt_number(p.total) for p in expected.pairs]
    assert all(frame["Distance (km)"] != "")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Score total"] == fmt_number(expected.total)
    assert metrics["Personnels sans entreprise"] == str(len(expected.unmatched_personnels))
    last = expected.pairs[-1]
    at.selectbox(key="plan_detail_pick").set_value(last.personnel_id).run()
    [breakdown] = [t.value for t in tab(at, "Plan global").table]
    assert list(breakdown["Critère"]) == [part.label_fr for part in last.parts]
    assert list(breakdown["Points"]) == [fmt_number(part.points) for part in last.parts]
    propose = at.button(key="plan_propose")
    assert propose.label == f"Proposer ces {len(expected.pairs)} rencontres"
    assert propose.disabled
    at.run()
    assert meeting_keys() == before


def test_drop_then_confirm_writes_the_edited_plan_once(app_workbook, monkeypatch):
    expected = pairing.global_plan(snapshot())
    dropped = expected.pairs[0].personnel_id
    kept = pairing.drop(expected, dropped).pairs
    before, before_ids = meeting_keys(), meeting_ids()
    at = appariement(monkeypatch)
    compute_plan(at)
    at.selectbox(key="plan_drop_pick").set_value(dropped).run()
    at.button(key="plan_drop").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(plan_frame(at)) == len(kept)
    assert any("retiré(e) du plan" in s.value for s in at.success)
    assert meeting_keys() == before  # editing the plan writes nothing
    at.checkbox(key="plan_ok").check().run()
    at.button(key="plan_propose").click().run()
    assert not at.exception, [e.value for e in at.exception]
    year = pairing.PairingSettings.from_snapshot(snapshot()).annee_scolaire
    after = meeting_keys()
    added = new_meetings(before_ids)
    assert len(after) == len(before) + len(kept)
    assert sorted((r["entreprise_id"], r["personnel_id"], r["annee_scolaire"]) for r in added) == sorted(
        (p.entreprise_id, p.personnel_id, year) for p in kept)
    assert dropped not in {r["personnel_id"] for r in added}
    assert {r["statut"] for r in added} == {"proposée"}
    assert any(f"{len(kept)} rencontre(s) proposée(s)" in s.value for s in at.success)
    # the working plan is gone: no second proposal can be sent by another click
    assert not [b for b in at.button if b.key == "plan_propose"]
    at.run()
    assert len(meeting_keys()) == len(after)


def test_retry_after_an_uncertain_write_reuses_the_ids(app_workbook, monkeypatch):
    """The sheet wrote the rows but the answer was lost: the retry sends the same IDs and duplicates nothing."""
    real, calls = meetings.propose, []

    def lost_answer(store, snap, user, records, **kwargs):
        calls.append([r["id"] for r in records])
        written = real(store, snap, user, records, **kwargs)
        if len(calls) == 1:
            raise Unreachable("Google Sheets ne répond pas (réponse perdue).")
        return written

    monkeypatch.setattr(meetings, "propose", lost_answer)
    before = meeting_keys()
    at = appariement(monkeypatch)
    compute_plan(at)
    n = len(plan_frame(at))
    at.checkbox(key="plan_ok").check().run()
    at.button(key="plan_propose").click().run()
    assert [e.value for e in at.error] == ["Google Sheets ne répond pas (réponse perdue)."]
    assert len(meeting_keys()) == len(before) + n  # written, although the page could not know it
    at.button(key="plan_propose").click().run()  # the plan is still there: the coordinator tries again
    assert not at.exception, [e.value for e in at.exception]
    assert len(calls) == 2 and calls[0] == calls[1] and len(set(calls[0])) == n
    assert len(meeting_keys()) == len(before) + n
    assert any(f"{n} déjà enregistrée(s), non dupliquée(s)" in s.value for s in at.success)


def test_swap_refused_in_french_and_allowed_swap_applied(app_workbook, monkeypatch):
    snap = snapshot()
    plan = pairing.global_plan(snap)
    in_plan = plan.pairs[0].personnel_id
    refused = allowed = None
    for other in [r.id for r in snap.rows("Personnels")]:
        if other == in_plan:
            continue
        try:
            swapped = pairing.swap(plan, in_plan, other)
        except PairingError as error:
            refused = refused or (other, str(error))
            continue
        allowed = allowed or (other, swapped)
        if refused:
            break
    assert refused and allowed
    # the page offers only partners the swap accepts; a stale list (the data changed since) may still hold
    # a refused one: the service refuses it in French, by name
    everyone = [r.id for r in snap.rows("Personnels")]
    monkeypatch.setattr(pairing, "swap_partners", lambda plan, first, among: [p for p in everyone if p != first])
    at = appariement(monkeypatch)
    compute_plan(at)
    at.selectbox(key="swap_a").set_value(in_plan).run()
    at.selectbox(key="swap_b").set_value(refused[0]).run()
    at.button(key="plan_swap").click().run()
    assert refused[1] in [e.value for e in at.error]
    assert refused[1].startswith("Échange refusé")
    assert len(plan_frame(at)) == len(plan.pairs)  # the plan is unchanged
    at.selectbox(key="swap_b").set_value(allowed[0]).run()
    at.button(key="plan_swap").click().run()
    assert not at.error
    assert any("Échange effectué" in s.value for s in at.success)
    assert list(plan_frame(at)["Score"]) == [fmt_number(p.total) for p in allowed[1].pairs]


# ---- scope, personal data, refusal ---------------------------------------------------------------------------


def test_coordinator_sees_only_their_records_and_no_contact(app_workbook, monkeypatch):
    snap = snapshot()
    user = find_user(snap, DIJON)
    visible = [r["id"] for r in access.visible_rows(user, "Personnels", snap)]
    assert 0 < len(visible) < len(snap.rows("Personnels"))
    at = appariement(monkeypatch, DIJON)
    show_everything(at, "Personnels")
    assert at.selectbox(key="pick_Personnels").options == [
        at.selectbox(key="pick_Personnels").format_func(pid) for pid in visible]
    compute_plan(at)
    in_scope = [p for p in pairing.global_plan(snap).pairs
                if access.person_departement(snap.get("Personnels", p.personnel_id)) in user.departements]
    assert len(plan_frame(at)) == len(in_scope)
    sent = everything_sent(at)
    contacts = [r[name] for r in snap.rows("Personnels") if r.id not in visible for name in ("email", "telephone")]
    contacts += [r[name] for r in snap.rows("Entreprises") for name in ("contact_email", "contact_telephone")]
    contacts += [r["email"] for r in snap.rows("Personnels")]
    assert [c for c in contacts if c and c in sent] == []


def test_cpme_coordinator_plan_holds_only_their_companies(app_workbook, monkeypatch):
    snap = snapshot()
    user = find_user(snap, CPME)
    at = appariement(monkeypatch, CPME)
    compute_plan(at)
    in_scope = [p for p in pairing.global_plan(snap).pairs
                if access.person_departement(snap.get("Entreprises", p.entreprise_id)) in user.departements]
    frame = plan_frame(at)
    assert len(frame) == len(in_scope)
    assert sorted(frame["Entreprise"]) == sorted(snap.get("Entreprises", p.entreprise_id)["raison_sociale"]
                                                 for p in in_scope)


def test_comite_has_no_pairing_page_and_the_page_refuses(app_workbook, monkeypatch):
    at = open_page(monkeypatch, COMITE, "pages/home.py")
    with pytest.raises(ValueError):
        at.switch_page(PAGE)  # not in the comité's navigation
    # reached anyway (a deep link): the page itself refuses and shows nothing
    direct = AppTest.from_file(str(ROOT / PAGE), default_timeout=60)
    direct.session_state["_user"] = User(email=COMITE, role=COMITE_ROLE)
    direct.run()
    assert not direct.exception, [e.value for e in direct.exception]
    assert [e.value for e in direct.error] == [
        "Votre rôle ne donne pas accès à cette page. Adressez-vous au service école-entreprise."]
    assert not direct.selectbox and not direct.tabs and not direct.button


# ---- empty states ----------------------------------------------------------------------------------------------


def small_workbook(monkeypatch, tmp_path: Path, entreprises=(), personnels=()) -> None:
    store = WorkbookStore(default_schema(), tmp_path / "petit.xlsx")
    store.init()
    store.append("Utilisateurs", [{"email": ADMIN, "nom": "Admin", "role": "admin", "actif": "oui"}])
    if entreprises:
        store.append("Entreprises", list(entreprises))
    if personnels:
        store.append("Personnels", list(personnels))
    monkeypatch.setenv("ECOLE_ENTREPRISE_WORKBOOK", str(tmp_path / "petit.xlsx"))


CONSENT = "2026-10-01 10:00:00"
DIJON_COMPANY = {"raison_sociale": "Forges de Dijon", "code_postal": "21000", "commune_insee": "21231",
                 "commune": "Dijon", "departement": "21", "contact_nom": "Durand", "contact_prenom": "Anne",
                 "contact_email": "anne.durand@forges.example", "statut": "validé", "capacite_annuelle": "2",
                 "consentement_participation": CONSENT, "formats": "déjeuner"}
BESANCON_STAFF = {"nom": "Petit", "prenom": "Marc", "fonction": "professeur", "code_postal": "25000",
                  "commune_insee": "25056", "commune": "Besançon", "departement": "25", "academie": "Besançon",
                  "canal": "CLEE", "email": "marc.petit@ac-besancon.fr", "statut": "validé",
                  "consentement_participation": CONSENT, "formats": "déjeuner"}


def test_no_records_yet_points_to_the_census_pages(monkeypatch, tmp_path):
    small_workbook(monkeypatch, tmp_path)
    at = appariement(monkeypatch)
    [info] = at.info
    assert "Aucune fiche entreprise ni aucune fiche personnel" in info.value
    assert [(link.proto.page, link.proto.label) for link in at.get("page_link")] == [
        ("entreprises", "Recenser des entreprises"), ("personnels", "Recenser des personnels"),
        ("import", "Importer un fichier")]
    assert not at.tabs


def test_nothing_to_pair_explains_why(monkeypatch, tmp_path):
    small_workbook(monkeypatch, tmp_path, [DIJON_COMPANY], [BESANCON_STAFF])
    snap = snapshot()
    [company] = snap.rows("Entreprises")
    assert pairing.suggestions_for_entreprise(snap, company.id) == []
    assert pairing.blockers(snap, "Entreprises", company.id) == []  # eligible, just too far
    at = appariement(monkeypatch)
    assert "Aucune suggestion pour cette fiche." in [w.value for w in at.warning]
    assert any("aucune fiche personnel disponible n'est à moins de 60,0 km" in c.value for c in at.caption)
    compute_plan(at)
    assert not at.dataframe
    assert any(i.value.startswith("Aucune paire possible") for i in at.info)
    assert not [b for b in at.button if b.key == "plan_propose"]
    assert meeting_keys() == []


# ---- issue 17: only what can be paired, by name; the tab and the choices kept across actions -------------------

ID_PATTERN = re.compile(r"\b(ENT|PER|REN)-")


def offer(email=ADMIN):
    snap = snapshot()
    return pairing.choices(find_user(snap, email), snap)


def test_lists_offer_only_pairable_records_and_open_on_the_first(app_workbook, monkeypatch):
    expected = offer()
    assert 0 < len(expected.entreprises.pairable) < len(expected.entreprises.labels)  # the demo has both kinds
    at = appariement(monkeypatch)
    for kind, side in (("Entreprises", expected.entreprises), ("Personnels", expected.personnels)):
        box = at.selectbox(key=f"pick_{kind}")
        assert box.value == side.pairable[0]
        assert box.options == [side.labels[rid] for rid in side.pairable]
        assert not [o for o in box.options if ID_PATTERN.search(o)]
    snap = snapshot()
    first = snap.get("Entreprises", expected.entreprises.pairable[0])
    assert at.selectbox(key="pick_Entreprises").options[0] == f"{first['raison_sociale']} ({first['commune']})"
    assert "Aucune suggestion pour cette fiche." not in [w.value for w in tab(at, "Par entreprise").warning]
    person = snap.get("Personnels", expected.personnels.pairable[0])
    assert at.selectbox(key="pick_Personnels").options[0] == (
        f"{person['prenom']} {person['nom']} — {person['etablissement']}")
    # suggestions name the other side too
    assert not [e.label for e in at.expander if ID_PATTERN.search(e.label)]


def test_swap_offers_only_partners_the_swap_accepts(app_workbook, monkeypatch):
    snap = snapshot()
    plan, pairable = pairing.global_plan(snap), offer().personnels.pairable
    at = appariement(monkeypatch)
    compute_plan(at)
    first = at.selectbox(key="swap_a").value
    accepted = []
    for other in [r.id for r in snap.rows("Personnels") if r.id != first]:
        try:
            pairing.swap(plan, first, other)
        except PairingError:
            continue
        accepted.append(other)
    assert accepted and set(accepted) <= set(pairable)
    box = at.selectbox(key="swap_b")
    assert box.options == [box.format_func(pid) for pid in accepted]
    assert box.value == accepted[0]  # the default partner can be paired
    at.button(key="plan_swap").click().run()
    assert not at.error and not at.exception
    [done] = [s.value for s in tab(at, "Plan global").success]
    assert done.startswith("Échange effectué entre ") and not ID_PATTERN.search(done)
    assert list(plan_frame(at)["Score"]) == [fmt_number(p.total) for p in pairing.swap(plan, first, accepted[0]).pairs]


def test_refused_swap_names_both_records_and_shows_no_id(app_workbook, monkeypatch):
    snap = snapshot()
    plan = pairing.global_plan(snap)
    first = plan.pairs[0]
    far = next(r.id for r in snap.rows("Personnels") if r.id != first.personnel_id and pairing.swap_partners(
        plan, first.personnel_id, [r.id]) == [] and r.id in offer().personnels.pairable)
    monkeypatch.setattr(pairing, "swap_partners", lambda plan, a, among: [far])  # a list gone stale
    at = appariement(monkeypatch)
    compute_plan(at)
    at.selectbox(key="swap_a").set_value(first.personnel_id).run()
    at.button(key="plan_swap").click().run()
    [message] = [e.value for e in tab(at, "Plan global").error]
    assert message.startswith(f"Échange refusé : {company_label(snap.get('Entreprises', first.entreprise_id))} et "
                              f"{staff_label(snap.get('Personnels', far))} ne peuvent pas être appariés.")
    assert not ID_PATTERN.search(message)


def test_the_tab_and_the_choices_are_kept_after_retirer(app_workbook, monkeypatch):
    at = appariement(monkeypatch)
    at.toggle(key="all_Entreprises").set_value(True).run()
    chosen = offer().entreprises.pairable[1]
    pick(at, "Entreprises", chosen)
    at.session_state["appariement_onglet"] = "Plan global"  # what a click on the tab sets
    compute_plan(at)
    n = len(plan_frame(at))
    dropped = at.selectbox(key="plan_drop_pick").value
    at.button(key="plan_drop").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["appariement_onglet"] == "Plan global"
    assert len(plan_frame(at)) == n - 1 and dropped not in at.selectbox(key="plan_drop_pick").options
    assert at.selectbox(key="pick_Entreprises").value == chosen and at.toggle(key="all_Entreprises").value
    [done] = [s.value for s in tab(at, "Plan global").success]
    assert done == f"{staff_label(snapshot().get('Personnels', dropped))} retiré(e) du plan."


def test_proposing_from_par_personnel_stays_there_on_the_next_person(app_workbook, monkeypatch):
    pairable = offer().personnels.pairable
    snap = snapshot()
    person = next(pid for pid in pairable[:-1] if pairing.suggestions_for_personnel(snap, pid))
    best = pairing.suggestions_for_personnel(snap, person)[0]
    at = appariement(monkeypatch)
    at.session_state["appariement_onglet"] = "Par personnel"
    pick(at, "Personnels", person)
    suffix = f"Personnels_{best.entreprise_id}_{person}"
    at.checkbox(key=f"ok_{suffix}").check().run()
    at.button(key=f"go_{suffix}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["appariement_onglet"] == "Par personnel"
    assert any("1 rencontre(s) proposée(s)" in s.value for s in tab(at, "Par personnel").success)
    # the person is now engaged: no longer offered; the list moves on to the one that followed
    box = at.selectbox(key="pick_Personnels")
    assert box.format_func(person) not in box.options
    assert box.value == pairable[pairable.index(person) + 1]


def test_nothing_pairable_says_what_to_do(monkeypatch, tmp_path):
    small_workbook(monkeypatch, tmp_path, [{**DIJON_COMPANY, "statut": "à valider"}], [BESANCON_STAFF])
    at = appariement(monkeypatch)
    company = tab(at, "Par entreprise")
    [info] = company.info
    assert info.value.startswith("Aucune fiche entreprise ne peut être appariée pour l'instant : 1 fiche(s)")
    assert "Validez les fiches" in info.value
    assert [link.proto.page for link in company.get("page_link")] == ["entreprises"]
    assert not [b for b in company.selectbox if b.key == "pick_Entreprises"]
    show_everything(at, "Entreprises")
    assert at.selectbox(key="pick_Entreprises").options == ["Forges de Dijon (Dijon)"]
    assert "Fiche entreprise au statut « à valider »." in "\n".join(m.value for m in at.markdown)


def test_a_refused_proposal_shows_its_message_where_it_was_made(app_workbook, monkeypatch):
    problem = "Personnel introuvable : la fiche a été supprimée entre-temps."

    def refuse(store, snap, user, records, **kwargs):
        raise meetings.MeetingInvalid({f"{records[0]['entreprise_id']} / {records[0]['personnel_id']}": problem})

    monkeypatch.setattr(meetings, "propose", refuse)
    before = meeting_keys()
    at = appariement(monkeypatch)
    compute_plan(at)
    at.checkbox(key="plan_ok").check().run()
    at.button(key="plan_propose").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [e.value for e in tab(at, "Plan global").error] == [problem]
    assert at.button(key="plan_propose")  # nothing written, the plan is still there to retry
    assert meeting_keys() == before
