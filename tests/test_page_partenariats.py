"""Partenariats page through Streamlit's AppTest, on a private copy of the demo workbook.

Expected values come from the services run on the same data (or from what the test typed), never from constants.
"""

import datetime as dt

import pytest

from ecole_entreprise.domain.validators import normalize_uai, uai_letter
from ecole_entreprise.services.kernel import access
from ecole_entreprise.services.kernel.users import find_user
from ecole_entreprise.services.meetings import lifecycle as meetings
from ecole_entreprise.services.meetings import partnerships
from tests.support.apptest import ADMIN, CPME, app_store, open_page
from tests.test_page_rencontres import message_after, ok

PAGE = "pages/partenariats.py"


def snapshot():
    return app_store().read(fresh=True)


def journal_actions(target_id: str) -> list[str]:
    return [r["action"] for r in snapshot().rows("Journal") if r["cible_id"] == target_id]


def held_without_partnership(snap):
    linked = {p["rencontre_id"] for p in snap.rows("Partenariats")}
    return next(r for r in snap.rows("Rencontres")
                if meetings.status_of(r) in (meetings.DONE, meetings.REVIEWED) and r.id not in linked
                and snap.get("Personnels", r["personnel_id"])["uai"])


def new_partnerships(before) -> list:
    return [p for p in snapshot().rows("Partenariats") if p.id not in before]


def test_partnership_created_once_from_the_held_meeting_given_in_the_link(app_workbook, monkeypatch):
    snap = snapshot()
    held = held_without_partnership(snap)
    staff = snap.get("Personnels", held["personnel_id"])
    before = {p.id for p in snap.rows("Partenariats")}
    at = open_page(monkeypatch, ADMIN, PAGE, query={"rencontre": held.id})
    ok(at)
    assert at.selectbox(key="from_meeting_rencontre").value == held.id
    at.button(key="from_meeting_go").click().run()
    ok(at)
    with pytest.raises(partnerships.PartnershipInvalid) as invalid:  # the service's own message, nothing written
        partnerships.create_from_meeting(app_store(), snapshot(), find_user(snapshot(), ADMIN), held.id, types=[])
    assert message_after(at, "from_meeting_types") == invalid.value.errors["types"]
    assert new_partnerships(before) == []
    at.multiselect(key="from_meeting_types").set_value(["visites", "stages"])
    at.selectbox(key="from_meeting_statut").set_value("actif")
    at.button(key="from_meeting_go").click().run()
    ok(at)
    [made] = new_partnerships(before)
    assert (made["rencontre_id"], made["entreprise_id"], made["uai"], made["etablissement"], made["annee_scolaire"],
            made["types"], made["statut"]) == (held.id, held["entreprise_id"], staff["uai"], staff["etablissement"],
                                               held["annee_scolaire"], "visites; stages", "actif")
    assert made["date_debut"]  # an active partnership gets a start date
    assert journal_actions(made.id) == ["création partenariat"]
    assert f"Partenariat {made.id} créé." in [s.value for s in at.success]
    assert "rencontre" not in at.query_params
    offered = [o for box in at.selectbox if box.key == "from_meeting_rencontre" for o in box.options]
    assert offered and not [o for o in offered if o.startswith(held.id)]  # the others remain offered
    # The link of the meeting opened again (an old tab): nothing new is created.
    again = open_page(monkeypatch, ADMIN, PAGE, query={"rencontre": held.id})
    assert any("déjà donné un partenariat" in i.value for i in again.info)
    again.multiselect(key="from_meeting_types").set_value(["visites"])
    again.button(key="from_meeting_go").click().run()
    ok(again)
    assert len(new_partnerships(before)) == 1
    assert any(f"déjà donné le partenariat {made.id}" in s.value for s in again.success)


def test_direct_creation_checks_company_and_uai_under_their_fields(app_workbook, monkeypatch):
    snap = snapshot()
    before = {p.id for p in snap.rows("Partenariats")}
    company = next(r for r in snap.rows("Entreprises") if r["statut"] == "validé")
    at = open_page(monkeypatch, ADMIN, PAGE)
    at.radio(key="new_source").set_value("saisie directe").run()
    at.text_input(key="direct_uai").set_value("0211234")
    at.multiselect(key="direct_types").set_value(["interventions en classe"])
    at.button(key="direct_go").click().run()
    ok(at)
    assert message_after(at, "direct_entreprise") == "Ce champ est obligatoire."
    with pytest.raises(ValueError) as bad_uai:
        normalize_uai("0211234")
    assert message_after(at, "direct_uai") == str(bad_uai.value)
    assert message_after(at, "direct_types") == ""
    assert new_partnerships(before) == []
    at.selectbox(key="direct_entreprise").set_value(company.id)
    valid = "0211234" + uai_letter("0211234").lower()
    at.text_input(key="direct_uai").set_value(valid)
    at.text_input(key="direct_etablissement").set_value("Lycée du Parcours")
    at.button(key="direct_go").click().run()
    ok(at)
    [made] = new_partnerships(before)
    assert (made["entreprise_id"], made["uai"], made["etablissement"], made["types"], made["rencontre_id"]) == (
        company.id, valid.upper(), "Lycée du Parcours", "interventions en classe", "")
    assert journal_actions(made.id) == ["création partenariat"]


def test_status_change_is_written_and_journaled(app_workbook, monkeypatch):
    snap = snapshot()
    target = snap.rows("Partenariats")[-1]
    new = next(s for s in app_store().schema.lists["statuts_partenariat"] if s != target["statut"])
    at = open_page(monkeypatch, ADMIN, PAGE)
    at.selectbox(key="status_pick").set_value(target.id).run()
    at.selectbox(key=f"status_value_{target.id}").set_value(new)
    at.button(key="status_go").click().run()
    ok(at)
    after = snapshot().get("Partenariats", target.id)
    assert after["statut"] == new
    assert f"Partenariat {target.id} : statut « {new} »." in [s.value for s in at.success]
    assert journal_actions(target.id) == ["statut partenariat"]
    at.run()
    assert journal_actions(target.id) == ["statut partenariat"]


def test_event_for_a_partnership_then_who_came(app_workbook, monkeypatch):
    snap = snapshot()
    partner = snap.rows("Partenariats")[0]
    before = {e.id for e in snap.rows("Evenements")}
    at = open_page(monkeypatch, ADMIN, PAGE)
    at.text_input(key="event_titre").set_value("Portes ouvertes du Parcours")
    at.selectbox(key="event_organisateur").set_value("entreprise")
    at.selectbox(key="event_partenariat").set_value(partner.id).run()
    at.button(key="event_go").click().run()
    ok(at)
    assert message_after(at, "event_date") == "La date est obligatoire."
    assert {e.id for e in snapshot().rows("Evenements")} == before
    day = dt.date.today() + dt.timedelta(days=20)
    at.date_input(key="event_date").set_value(day)
    at.text_input(key="event_invites").set_value("Lycée du Parcours; Collège voisin")
    at.button(key="event_go").click().run()
    ok(at)
    [event] = [e for e in snapshot().rows("Evenements") if e.id not in before]
    assert (event["titre"], event["organisateur"], event["partenariat_id"], event["entreprise_id"], event["uai"],
            event["date"], event["invites"]) == ("Portes ouvertes du Parcours", "entreprise", partner.id,
                                                 partner["entreprise_id"], partner["uai"], day.isoformat(),
                                                 "Lycée du Parcours; Collège voisin")
    at.selectbox(key="events_partnership").set_value(partner.id).run()
    frames = [d.value for d in at.dataframe if "Titre" in d.value.columns]
    [frame] = frames
    assert sorted(frame["ID"]) == sorted(e.id for e in snapshot().rows("Evenements")
                                         if e["partenariat_id"] == partner.id)
    at.selectbox(key="attendance_pick").set_value(event.id).run()
    at.text_input(key=f"attendance_{event.id}").set_value("Une classe de seconde; deux enseignants")
    at.button(key="attendance_go").click().run()
    ok(at)
    assert snapshot().get("Evenements", event.id)["participants"] == "Une classe de seconde; deux enseignants"
    assert journal_actions(event.id) == ["création événement", "présence événement"]


def test_coordinator_lists_only_partnerships_in_scope(app_workbook, monkeypatch):
    snap = snapshot()
    user = find_user(snap, CPME)
    expected = [p.id for p in snap.rows("Partenariats") if access.row_in_scope(user, "Partenariats", p, snap)]
    assert 0 < len(expected) < len(snap.rows("Partenariats"))
    at = open_page(monkeypatch, CPME, PAGE)
    ok(at)
    [frame] = [d.value for d in at.dataframe if "Rencontre" in d.value.columns]
    assert sorted(frame["ID"]) == sorted(expected)


# ---- the tab and the filters stay where the person was (issue 17) -------------------------------------------

TABS = ("Partenariats", "Nouveau partenariat", "Événements")


def blocks(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from blocks(child)


def tab_shown(at) -> str:
    """The tab the server tells the browser to show."""
    [tabs] = [b for b in blocks(at._tree) if getattr(b, "type", "") == "tab_container"]
    return TABS[tabs.proto.tab_container.default_tab_index]


def test_creating_an_event_stays_on_the_events_tab_with_its_confirmation(app_workbook, monkeypatch):
    snap = snapshot()
    partner = snap.rows("Partenariats")[0]
    before = {e.id for e in snap.rows("Evenements")}
    at = open_page(monkeypatch, ADMIN, PAGE)
    assert tab_shown(at) == TABS[0]
    at.session_state["onglet"] = TABS[2]  # the person opens the Événements tab
    at.run()
    assert tab_shown(at) == TABS[2]
    at.text_input(key="event_titre").set_value("Forum des métiers")
    at.selectbox(key="event_organisateur").set_value("entreprise")
    at.selectbox(key="event_partenariat").set_value(partner.id).run()
    at.date_input(key="event_date").set_value(dt.date.today() + dt.timedelta(days=30))
    at.button(key="event_go").click().run()
    ok(at)
    [event] = [e for e in snapshot().rows("Evenements") if e.id not in before]
    assert tab_shown(at) == TABS[2]
    message = f"Événement {event.id} créé."
    assert message in [s.value for s in at.success] and message in [t.value for t in at.toast]
    [tab] = [t for t in at.tabs if t.label == TABS[2]]
    assert message in [s.value for s in tab.success]  # drawn in the events tab, where the person clicked
    at.run()
    assert tab_shown(at) == TABS[2]


def test_a_meeting_link_opens_the_new_tab_once_and_the_filters_stay(app_workbook, monkeypatch):
    snap = snapshot()
    held = held_without_partnership(snap)
    at = open_page(monkeypatch, ADMIN, PAGE, query={"rencontre": held.id})
    assert tab_shown(at) == TABS[1]
    at.session_state["onglet"] = TABS[0]  # the person goes to the list: the link does not pull them back
    at.run()
    assert tab_shown(at) == TABS[0]
    status = snap.rows("Partenariats")[-1]["statut"]
    at.multiselect(key="p_statut").set_value([status]).run()
    target = snap.rows("Partenariats")[-1]
    new = next(s for s in app_store().schema.lists["statuts_partenariat"] if s != status)
    at.selectbox(key="status_pick").set_value(target.id).run()
    at.selectbox(key=f"status_value_{target.id}").set_value(new)
    at.button(key="status_go").click().run()
    ok(at)
    assert snapshot().get("Partenariats", target.id)["statut"] == new
    assert tab_shown(at) == TABS[0] and at.multiselect(key="p_statut").value == [status]
    assert at.multiselect(key="p_statut").proto.query_param_key == "p_statut"  # kept in the URL
    reloaded = open_page(monkeypatch, ADMIN, PAGE, query={"p_statut": new, "onglet": TABS[2]})
    ok(reloaded)
    assert reloaded.multiselect(key="p_statut").value == [new] and tab_shown(reloaded) == TABS[2]
