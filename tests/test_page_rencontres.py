"""Rencontres page through Streamlit's AppTest, on a private copy of the demo workbook.

Expected values come from the services run on the same data (or from what the test typed), never from constants.
"""

import datetime as dt
import email
import email.policy
import socket
from dataclasses import replace

import pytest
from aiosmtpd.controller import Controller

from ecole_entreprise.config import SmtpSettings, load_settings
from ecole_entreprise.domain.values import now_paris
from ecole_entreprise.services.kernel import access
from ecole_entreprise.services.kernel.users import find_user
from ecole_entreprise.services.meetings import calendar, introduction
from ecole_entreprise.services.meetings import lifecycle as meetings
from ecole_entreprise.services.privacy import contacts
from tests.support.apptest import ADMIN, DIJON, app_store, open_page
from tests.support.sent import everything_sent

PAGE = "pages/rencontres.py"
CONTACT_FIELDS = {"Entreprises": ("contact_email", "contact_telephone"), "Personnels": ("email", "telephone")}


def snapshot():
    return app_store().read(fresh=True)


def meeting(meeting_id: str):
    return snapshot().get("Rencontres", meeting_id)


def journal_for(target_id: str) -> list:
    return [r for r in snapshot().rows("Journal") if r["cible_id"] == target_id]


def user_of(email: str):
    return find_user(snapshot(), email)


def open_meeting(monkeypatch, meeting_id: str, email: str = ADMIN):
    at = open_page(monkeypatch, email, PAGE, query={"id": meeting_id})
    ok(at)
    return at


def ok(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def leaves(node) -> list:
    """Every element of the page in display order (blocks flattened)."""
    children = getattr(node, "children", None)
    if not isinstance(children, dict):
        return [node]
    return [leaf for key in sorted(children) for leaf in leaves(children[key])]


def message_after(at, widget_key: str) -> str:
    """The French message drawn right under a widget ("" when the next element is not one)."""
    items = leaves(at._tree)
    index = next(i for i, item in enumerate(items) if getattr(item, "key", None) == widget_key)
    following = items[index + 1]
    text = getattr(following, "value", "")
    return text[len(":red[⚠ "):-1] if following.type == "markdown" and text.startswith(":red[⚠ ") else ""


def contact_values(snap, meeting_row) -> dict[str, list[str]]:
    found = {}
    for tab, ref in (("Entreprises", "entreprise_id"), ("Personnels", "personnel_id")):
        person = snap.get(tab, meeting_row[ref])
        found[tab] = [person[name] for name in CONTACT_FIELDS[tab] if person[name]]
    return found


def first(rows, test):
    found = next((r for r in rows if test(r)), None)
    assert found is not None, "the demo data should hold such a meeting"
    return found


def status(name: str):
    return lambda r: meetings.status_of(r) == name


# ---- list ---------------------------------------------------------------------------------------------------


def test_list_shows_meetings_in_scope_with_names_and_no_contact(app_workbook, monkeypatch):
    snap = snapshot()
    dijon = user_of(DIJON)
    year = meetings.parameter(snap, "annee_scolaire")
    expected = [r for r in access.visible_rows(dijon, "Rencontres", snap) if r["annee_scolaire"] == year]
    assert 0 < len(expected) < len(snap.rows("Rencontres"))
    at = open_page(monkeypatch, DIJON, PAGE)
    ok(at)
    [frame] = [d.value for d in at.dataframe]
    assert sorted(frame["ID"]) == sorted(r["id"] for r in expected)
    some = snap.get("Rencontres", expected[0]["id"])
    line = frame[frame["ID"] == some.id].iloc[0]
    assert line["Entreprise"] == snap.get("Entreprises", some["entreprise_id"])["raison_sociale"]
    staff = snap.get("Personnels", some["personnel_id"])
    assert line["Personnel"] == f"{staff['prenom']} {staff['nom']}"
    sent = everything_sent(at)
    leaked = [v for r in expected for values in contact_values(snap, snap.get("Rencontres", r["id"])).values()
              for v in values if v in sent]
    assert leaked == []
    at.multiselect(key="f_statut").set_value(["planifiée"]).run()
    [frame] = [d.value for d in at.dataframe]
    assert sorted(frame["ID"]) == sorted(r["id"] for r in expected if r["statut"] == "planifiée")


def test_list_filters_by_departement(app_workbook, monkeypatch):
    snap = snapshot()
    rows = access.visible_rows(user_of(ADMIN), "Rencontres", snap)
    at = open_page(monkeypatch, ADMIN, PAGE)
    at.selectbox(key="f_annee").set_value("toutes").run()
    at.multiselect(key="f_dep").set_value(["25"]).run()
    ok(at)
    [frame] = [d.value for d in at.dataframe]
    expected = [r["id"] for r in rows if "25" in {access.side_departement(snap, r, s) for s in meetings.SIDES}]
    assert 0 < len(expected) < len(rows)
    assert sorted(frame["ID"]) == sorted(expected)


# ---- lifecycle ----------------------------------------------------------------------------------------------


def test_each_side_accepts_separately_and_each_write_happens_once(app_workbook, monkeypatch):
    row = first(snapshot().rows("Rencontres"), lambda r: status("proposée")(r) and not r["acceptation_entreprise"]
                and not r["acceptation_personnel"])
    at = open_meeting(monkeypatch, row.id)
    at.button(key=f"accept_entreprise_{row.id}").click().run()
    ok(at)
    after = meeting(row.id)
    assert after["acceptation_entreprise"] and not after["acceptation_personnel"]
    assert after["statut"] == "proposée"
    assert [e["action"] for e in journal_for(row.id)] == ["acceptation rencontre"]
    assert "Acceptation enregistrée." in [s.value for s in at.success]
    assert not [b for b in at.button if b.key == f"accept_entreprise_{row.id}"]  # already accepted
    at.run()
    assert meeting(row.id).fingerprint == after.fingerprint  # a rerun writes nothing
    at.button(key=f"accept_personnel_{row.id}").click().run()
    ok(at)
    done = meeting(row.id)
    assert done["statut"] == "acceptée" and done["acceptation_personnel"]
    assert done["acceptation_entreprise"] == after["acceptation_entreprise"]
    assert [e["action"] for e in journal_for(row.id)] == ["acceptation rencontre", "transition rencontre"]
    at.run()
    assert len(journal_for(row.id)) == 2


def test_plan_shows_each_message_under_its_field_then_writes_the_plan(app_workbook, monkeypatch):
    row = first(snapshot().rows("Rencontres"), status("acceptée"))
    key = f"plan_{row.id}"
    at = open_meeting(monkeypatch, row.id)
    at.text_input(key=f"{key}_lieu").set_value("")
    at.button(key=f"{key}_go").click().run()
    ok(at)
    assert meeting(row.id).fingerprint == row.fingerprint and journal_for(row.id) == []
    with pytest.raises(meetings.MeetingInvalid) as invalid:
        meetings.plan(app_store(), snapshot(), user_of(ADMIN), row.id, date=None, heure=None, lieu="",
                      format=None, visite="aucune")
    assert set(invalid.value.errors) == {"date", "heure", "lieu", "format"}
    for name, message in invalid.value.errors.items():
        assert message_after(at, f"{key}_{name}") == message
    day = now_paris().date() + dt.timedelta(days=10)
    at.date_input(key=f"{key}_date").set_value(day)
    at.time_input(key=f"{key}_heure").set_value(dt.time(12, 30))
    at.text_input(key=f"{key}_lieu").set_value("Restaurant du Parcours, Dijon")
    at.selectbox(key=f"{key}_format").set_value("déjeuner")
    at.selectbox(key=f"{key}_visite").set_value("avant")
    at.button(key=f"{key}_go").click().run()
    ok(at)
    planned = meeting(row.id)
    assert (planned["statut"], planned["date"], planned["heure"], planned["lieu"], planned["format"],
            planned["visite"]) == ("planifiée", day.isoformat(), "12:30", "Restaurant du Parcours, Dijon",
                                   "déjeuner", "avant")
    assert [e["action"] for e in journal_for(row.id)] == ["transition rencontre"]
    assert not [m for m in at.markdown if m.value.startswith(":red[")]
    at.run()
    assert len(journal_for(row.id)) == 1


def test_marking_held_before_the_date_is_refused_in_french_and_writes_nothing(app_workbook, monkeypatch):
    today = now_paris().date()
    row = first(snapshot().rows("Rencontres"),
                lambda r: status("planifiée")(r) and meetings.meeting_day(r) and meetings.meeting_day(r) > today)
    with pytest.raises(meetings.MeetingError) as refused:
        meetings.mark_done(app_store(), snapshot(), user_of(ADMIN), row.id)
    at = open_meeting(monkeypatch, row.id)
    at.button(key=f"done_{row.id}").click().run()
    ok(at)
    assert [e.value for e in at.error] == [str(refused.value)]
    assert meeting(row.id).fingerprint == row.fingerprint and journal_for(row.id) == []


def test_a_step_that_closes_its_own_form_still_confirms_above_the_steps(app_workbook, monkeypatch):
    planned = first(snapshot().rows("Rencontres"), status("planifiée"))
    yesterday = now_paris().date() - dt.timedelta(days=1)
    row = app_store().update("Rencontres", planned.id, {"date": yesterday.isoformat()}, planned.fingerprint)
    at = open_meeting(monkeypatch, row.id)
    at.button(key=f"done_{row.id}").click().run()
    ok(at)
    assert meeting(row.id)["statut"] == "réalisée"
    assert not [b for b in at.button if b.key == f"done_{row.id}"]  # the step is behind: its button is gone
    assert [s.value for s in at.success] == ["Rencontre réalisée."] and "Rencontre réalisée." in [
        t.value for t in at.toast]
    at.run()
    assert not at.success  # shown once


def test_a_step_made_impossible_meanwhile_shows_the_service_refusal_and_both_versions(app_workbook, monkeypatch):
    row = first(snapshot().rows("Rencontres"), lambda r: status("proposée")(r) and not r["acceptation_entreprise"])
    at = open_meeting(monkeypatch, row.id)
    # Meanwhile another coordinator cancels the meeting.
    meetings.cancel(app_store(), snapshot(), user_of(ADMIN), row.id, "Annulée depuis un autre poste.")
    cancelled = meeting(row.id)
    at.button(key=f"accept_entreprise_{row.id}").click().run()
    ok(at)
    expected = str(meetings.TransitionRefused("annulée", "acceptée"))
    assert expected.startswith("Impossible de passer de “annulée” à “acceptée”")
    messages = [e.value for e in at.error]
    assert expected in messages
    assert any("a été modifiée par quelqu'un d'autre" in m for m in messages)
    [table] = at.table
    assert "annulée" in list(table.value["Version actuelle de la feuille"])
    assert meeting(row.id).fingerprint == cancelled.fingerprint
    assert [e["action"] for e in journal_for(row.id)] == ["transition rencontre"]  # the other session's only
    at.button(key="reload_meeting").click().run()
    assert not at.error and not [b for b in at.button if (b.key or "").startswith("accept_")]


def test_refusal_needs_a_reason_then_closes_the_meeting(app_workbook, monkeypatch):
    row = first(snapshot().rows("Rencontres"), status("proposée"))
    key = f"close_{row.id}"
    at = open_meeting(monkeypatch, row.id)
    at.radio(key=f"{key}_target").set_value("refusée")
    at.button(key=f"{key}_go").click().run()
    ok(at)
    assert message_after(at, f"{key}_motif") == "Ce champ est obligatoire."
    assert meeting(row.id).fingerprint == row.fingerprint
    at.text_area(key=f"{key}_motif").set_value("Le personnel est indisponible ce trimestre.")
    at.button(key=f"{key}_go").click().run()
    ok(at)
    closed = meeting(row.id)
    assert (closed["statut"], closed["motif"]) == ("refusée", "Le personnel est indisponible ce trimestre.")
    assert [e["action"] for e in journal_for(row.id)] == ["transition rencontre"]
    assert any("aucune, la rencontre est close" in c.value for c in at.caption)
    assert not at.form


def test_each_side_enters_its_outcome_and_a_partnership_link_appears(app_workbook, monkeypatch):
    row = first(snapshot().rows("Rencontres"), status("réalisée"))
    key = f"outcome_entreprise_{row.id}"
    at = open_meeting(monkeypatch, row.id)
    [link] = [p for p in at.get("page_link") if p.proto.label == "Créer un partenariat"]
    assert link.proto.page == "partenariats" and f"rencontre={row.id}" in link.proto.query_string
    at.text_area(key=f"{key}_conclusions").set_value("Visite d'atelier prévue avec une classe de seconde.")
    at.radio(key=f"{key}_satisfaction").set_value(5)
    at.radio(key=f"{key}_comprehension").set_value(4)
    at.radio(key=f"{key}_recommande").set_value("oui")
    at.multiselect(key=f"{key}_suites").set_value(["partenariat"])
    at.button(key=f"{key}_go").click().run()
    ok(at)
    saved = meeting(row.id)
    assert (saved["statut"], saved["conclusions_entreprise"], saved["satisfaction_entreprise"],
            saved["comprehension_entreprise"], saved["recommande_entreprise"], saved["suite_envisagee"]) == (
        "bilan saisi", "Visite d'atelier prévue avec une classe de seconde.", "5", "4", "oui", "partenariat")
    assert saved["conclusions_personnel"] == row["conclusions_personnel"]
    assert [e["action"] for e in journal_for(row.id)] == ["transition rencontre"]


def test_outcome_without_a_score_is_refused_under_the_field(app_workbook, monkeypatch):
    row = first(snapshot().rows("Rencontres"), status("réalisée"))
    key = f"outcome_personnel_{row.id}"
    at = open_meeting(monkeypatch, row.id)
    at.text_area(key=f"{key}_conclusions").set_value("Très bon échange.")
    at.button(key=f"{key}_go").click().run()
    ok(at)
    assert message_after(at, f"{key}_satisfaction") == "Donnez une note de 1 à 5."
    assert message_after(at, f"{key}_recommande") == "Répondez oui ou non."
    assert message_after(at, f"{key}_conclusions") == ""
    assert meeting(row.id).fingerprint == row.fingerprint and journal_for(row.id) == []


def test_coordinator_gets_only_their_side_free_text(app_workbook, monkeypatch):
    snap = snapshot()
    dijon = user_of(DIJON)
    row = first(snap.rows("Rencontres"), lambda r: status("bilan saisi")(r) and r["conclusions_entreprise"]
                and r["conclusions_personnel"] and r["attendus_entreprise"]
                and access.row_in_scope(dijon, "Rencontres", r, snap)
                and r["conclusions_entreprise"] != r["conclusions_personnel"])
    at = open_meeting(monkeypatch, row.id, DIJON)
    sent = everything_sent(at)
    assert row["conclusions_personnel"] in sent
    assert row["conclusions_entreprise"] not in sent and row["attendus_entreprise"] not in sent
    assert [f.key for f in at.form if "outcome" in f.key] == [f"outcome_personnel_{row.id}"]


def test_conflict_table_hides_the_other_side_free_text(app_workbook, monkeypatch):
    snap = snapshot()
    dijon = user_of(DIJON)
    row = first(snap.rows("Rencontres"), lambda r: status("réalisée")(r)
                and access.row_in_scope(dijon, "Rencontres", r, snap))
    key = f"outcome_personnel_{row.id}"
    at = open_meeting(monkeypatch, row.id, DIJON)
    secret = "canari-conclusions-entreprise"
    # Meanwhile the company's coordinator enters the company's bilan.
    meetings.record_outcome(app_store(), snapshot(), user_of(ADMIN), row.id, "entreprise", conclusions=secret,
                            satisfaction=4, comprehension=4, recommande=True, suites=["aucune"])
    changed = meeting(row.id)
    at.text_area(key=f"{key}_conclusions").set_value("Échange utile.")
    at.radio(key=f"{key}_satisfaction").set_value(4)
    at.radio(key=f"{key}_comprehension").set_value(5)
    at.radio(key=f"{key}_recommande").set_value("non")
    at.multiselect(key=f"{key}_suites").set_value(["invitation"])
    at.button(key=f"{key}_go").click().run()
    ok(at)
    [table] = at.table
    shown = dict(zip(table.value["Champ"], table.value["Version actuelle de la feuille"], strict=True))
    assert shown["Statut"] == "bilan saisi" and shown["Satisfaction entreprise (1-5)"] == "4"
    assert "Conclusions entreprise" not in shown
    assert secret not in everything_sent(at)
    assert meeting(row.id).fingerprint == changed.fingerprint


# ---- introduction -------------------------------------------------------------------------------------------


def test_blocked_disclosure_lists_the_reasons_and_sends_no_contact(app_workbook, monkeypatch):
    snap = snapshot()
    dijon = user_of(DIJON)
    row = first(snap.rows("Rencontres"), lambda r: status("proposée")(r)
                and access.row_in_scope(dijon, "Rencontres", r, snap))
    reasons = contacts.reveal_blockers(snap, dijon, row.id)
    assert reasons
    at = open_meeting(monkeypatch, row.id, DIJON)
    [warning] = [w.value for w in at.warning if "ne peuvent pas être communiquées" in w.value]
    for reason in reasons + introduction.blockers(snap, row.id):
        assert f"- {reason}" in warning
    sent = everything_sent(at)
    assert [v for values in contact_values(snap, row).values() for v in values if v in sent] == []
    assert not [b for b in at.button if b.key == f"reveal_{row.id}"]
    assert journal_for(row.id) == []


def disclosable(snap, user):
    return first(snap.rows("Rencontres"), lambda r: status("planifiée")(r)
                 and access.row_in_scope(user, "Rencontres", r, snap)
                 and not introduction.blockers(snap, r.id)
                 and not contacts.reveal_blockers(snap, user, r.id, "" if user.side else "entreprise"))


def not_yet_sent(row):
    """The demo stamps its introduced meetings as sent; a second sending needs a confirmation (see
    test_introduction_sent.py): start from a meeting never introduced."""
    app_store().update("Rencontres", row.id, {"introduction_envoyee": ""}, row.fingerprint)
    return snapshot()


def test_allowed_disclosure_reveals_the_counterpart_only_on_click_and_journals(app_workbook, monkeypatch):
    snap = snapshot()
    dijon = user_of(DIJON)
    row = disclosable(snap, dijon)
    snap = not_yet_sent(row)
    company = snap.get("Entreprises", row["entreprise_id"])
    at = open_meeting(monkeypatch, row.id, DIJON)
    assert company["contact_email"] not in everything_sent(at)
    assert any("[coordonnée affichée après consultation]" in t.value for t in at.text)
    [ics] = [d for d in at.get("download_button")]
    assert ics.proto.label == "Télécharger l'invitation (.ics)"
    before = len(snapshot().rows("Journal"))
    at.button(key=f"reveal_{row.id}").click().run()
    ok(at)
    assert company["contact_email"] in everything_sent(at)
    journal = snapshot().rows("Journal")
    assert len(journal) == before + 2  # the counterpart's details shown, then the message holding them
    entry, prepared = journal[-2:]
    assert (entry["action"], entry["cible_tab"], entry["cible_id"]) == ("divulgation coordonnées", "Entreprises",
                                                                        company.id)
    assert (prepared["action"], prepared["cible_id"]) == ("préparation mise en relation", row.id)
    assert company["contact_email"] not in " ".join(entry.values.values())  # IDs and field names only
    at.run()
    assert len(snapshot().rows("Journal")) == before + 2  # shown again without a second disclosure
    [mail] = [c.value for c in at.code]
    assert company["contact_email"] in mail and company["raison_sociale"] in mail
    [link] = [b for b in at.get("link_button")]
    assert link.proto.url.startswith("mailto:")
    at.button(key=f"sent_{row.id}").click().run()
    ok(at)
    assert meeting(row.id)["introduction_envoyee"]
    assert [e["action"] for e in journal_for(row.id)] == ["préparation mise en relation", "mise en relation"]


class Inbox:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_inbox(monkeypatch):
    """A loopback SMTP server, configured as the app's [smtp] section."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    import pages._shared as shared

    smtp = SmtpSettings(host="127.0.0.1", port=port, starttls=False, sender="ecole-entreprise@exemple.fr")
    monkeypatch.setattr(shared, "load_settings", lambda: replace(load_settings(), smtp=smtp))
    yield inbox
    controller.stop()


def test_send_through_smtp_after_preview_and_confirmation(app_workbook, monkeypatch, smtp_inbox):
    snap = snapshot()
    admin = user_of(ADMIN)
    row = disclosable(snap, admin)
    snap = not_yet_sent(row)
    company = snap.get("Entreprises", row["entreprise_id"])
    staff = snap.get("Personnels", row["personnel_id"])
    at = open_meeting(monkeypatch, row.id)
    at.button(key=f"reveal_{row.id}").click().run()
    ok(at)
    assert [e["action"] for e in snapshot().rows("Journal")[-3:]] == ["divulgation coordonnées"] * 2 + [
        "préparation mise en relation"]
    assert at.button(key=f"send_{row.id}").disabled  # not before the confirmation
    at.checkbox(key=f"send_ok_{row.id}").check().run()
    at.button(key=f"send_{row.id}").click().run()
    ok(at)
    [envelope] = smtp_inbox.envelopes
    assert sorted(envelope.rcpt_tos) == sorted([company["contact_email"], staff["email"]])
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    # Python 3.11 folds this long non-ASCII subject into encoded words and loses one space at the fold
    # (reported to the lead): compare without spaces.
    assert company["raison_sociale"].replace(" ", "") in message["Subject"].replace(" ", "")
    assert [p.get_content_type() for p in message.iter_attachments()] == ["text/calendar"]
    assert any(s.value.startswith("Courriel de mise en relation envoyé") for s in at.success)
    assert meeting(row.id)["introduction_envoyee"]
    assert [e["action"] for e in journal_for(row.id)] == ["préparation mise en relation", "mise en relation"]


# ---- calendar -----------------------------------------------------------------------------------------------

CALENDAR = "pages/calendrier.py"


def calendar_items(at) -> list[str]:
    """Meeting IDs linked from the calendar, in display order."""
    return [dict(p.split("=") for p in link.proto.query_string.split("&"))["id"]
            for link in at.get("page_link") if link.proto.label == "Ouvrir"]


def test_calendar_shows_planned_meetings_in_scope_week_by_week(app_workbook, monkeypatch):
    snap = snapshot()
    dijon = user_of(DIJON)
    visible = {r["id"] for r in access.visible_rows(dijon, "Rencontres", snap)}
    today = now_paris().date()
    expected = [i.meeting_id for w in calendar.week_view(snap, today, weeks=4) for i in w.items
                if i.meeting_id in visible]
    assert expected
    at = open_page(monkeypatch, DIJON, CALENDAR)
    ok(at)
    assert calendar_items(at) == expected
    at.button(key="cal_next").click().run()
    ok(at)
    next_week = today + dt.timedelta(weeks=1)
    assert calendar_items(at) == [i.meeting_id for w in calendar.week_view(snap, next_week, weeks=4)
                                  for i in w.items if i.meeting_id in visible]
    assert at.caption[0].value.startswith(
        f"Du {calendar.french_date(next_week - dt.timedelta(days=next_week.weekday()))} au ")


def test_calendar_marks_the_semaine_ecole_entreprise(app_workbook, monkeypatch):
    snap = snapshot()
    start, end = calendar.ee_week(snap)
    at = open_page(monkeypatch, ADMIN, CALENDAR)
    assert any(calendar.french_date(start) in i.value and calendar.french_date(end) in i.value for i in at.info)
    at.button(key="cal_ee").click().run()
    ok(at)
    titles = [m.value for m in at.markdown if m.value.startswith("**Semaine du")]
    weeks = calendar.week_view(snap, start, weeks=4)
    assert len(titles) == len(weeks)
    for title, week in zip(titles, weeks, strict=True):
        assert ("semaine école-entreprise" in title) == week.ee_week
    assert weeks[0].ee_week


def test_calendar_empty_period_says_what_to_do_and_jumps_to_the_next_meeting(app_workbook, monkeypatch):
    snap = snapshot()
    planned = sorted(meetings.meeting_day(r) for r in snap.rows("Rencontres") if status("planifiée")(r))
    quiet = planned[0] - dt.timedelta(weeks=4)
    while any(w.items for w in calendar.week_view(snap, quiet, weeks=4)):
        quiet -= dt.timedelta(weeks=4)
    at = open_page(monkeypatch, ADMIN, "pages/home.py")
    at.session_state["_calendar_start"] = quiet - dt.timedelta(days=quiet.weekday())
    at.switch_page(CALENDAR).run()
    ok(at)
    assert calendar_items(at) == []
    assert any("Aucune rencontre datée sur ces semaines" in i.value for i in at.info)
    following = min(d for d in planned if d > quiet + dt.timedelta(weeks=4, days=-quiet.weekday() - 1))
    jump = at.button(key="cal_first")
    assert calendar.french_date(following) in jump.label
    jump.click().run()
    ok(at)
    that_day = {r.id for r in snap.rows("Rencontres") if meetings.meeting_day(r) == following}
    assert that_day and that_day <= set(calendar_items(at))


def test_calendar_weeks_chosen_are_kept_in_the_url_for_a_reload(app_workbook, monkeypatch):
    at = open_page(monkeypatch, ADMIN, CALENDAR)
    at.button(key="cal_jump").click().run()
    ok(at)
    shown = calendar_items(at)
    today = now_paris().date()
    monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=4)
    assert at.query_params["semaine"] == monday.isoformat()
    reloaded = open_page(monkeypatch, ADMIN, CALENDAR, query={"semaine": monday.isoformat()})
    ok(reloaded)
    assert calendar_items(reloaded) == shown
    assert reloaded.caption[0].value.startswith(f"Du {calendar.french_date(monday)} au ")
