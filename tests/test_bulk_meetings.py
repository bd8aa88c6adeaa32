"""Several meetings at once on the Rencontres page (services/meetings/bulk.py): a choice, a confirmation
(« Envoyer à N rencontres ? »), a progress bar, a French summary; each meeting goes through its single action's
rules and journal entries. Real SMTP on loopback, a private copy of the demo workbook.

Expected values come from the services run on the same data, never from constants.
"""

from __future__ import annotations

import dataclasses

import pytest

from ecole_entreprise.config import LinkSettings, load_settings
from ecole_entreprise.domain.values import now_paris
from ecole_entreprise.services.kernel import access
from ecole_entreprise.services.links import registry
from ecole_entreprise.services.meetings import bulk, introduction
from ecole_entreprise.services.meetings import lifecycle as meetings
from ecole_entreprise.services.privacy import contacts
from tests.support.apptest import ADMIN, DIJON, app_store, open_page
from tests.test_links import smtp_server  # noqa: F401  (a fixture)
from tests.test_page_rencontres import journal_for, meeting, ok, snapshot, user_of

PAGE = "pages/rencontres.py"
RELAUNCH, INTRODUCE = "Relancer les acceptations en attente", "Envoyer la mise en relation"  # the page's choices
LINKS = LinkSettings(secret="une clé de test assez longue", public_url="http://rencontres.test", days=10)


@pytest.fixture
def mail_out(monkeypatch, smtp_server):  # noqa: F811 - the fixture imported above
    """The app's [smtp] (and [links]) sections pointed at the loopback sink; returns its inbox."""
    import pages._shared as shared

    inbox, smtp = smtp_server
    monkeypatch.setattr(shared, "load_settings",
                        lambda: dataclasses.replace(load_settings(), smtp=smtp.settings, links=LINKS))
    return inbox


def disclosable_ids(snap, user) -> list[str]:
    """Meetings in scope whose introduction the rule allows now (as the single action's page checks)."""
    side = "" if user.side else "entreprise"
    return [r.id for r in snap.rows("Rencontres") if access.row_in_scope(user, "Rencontres", r, snap)
            and not introduction.blockers(snap, r.id) and not contacts.reveal_blockers(snap, user, r.id, side)]


def never_introduced(meeting_id: str) -> None:
    row = meeting(meeting_id)
    app_store().update("Rencontres", row.id, {"introduction_envoyee": "", "introduction_envoyee_par": ""},
                       row.fingerprint)


def introduced(meeting_id: str) -> None:
    row = meeting(meeting_id)
    app_store().update("Rencontres", row.id, {"introduction_envoyee": "2026-01-05 10:00:00",
                                              "introduction_envoyee_par": "Claire Martin"}, row.fingerprint)


def blocked_id(snap, user) -> str:
    return next(r.id for r in snap.rows("Rencontres") if access.row_in_scope(user, "Rencontres", r, snap)
                and introduction.blockers(snap, r.id))


def choose(at, ids: list[str], action: str):
    at.multiselect(key="bulk_pick").set_value(ids)
    at.radio(key="bulk_action").set_value(action)
    at.run()
    at.button(key="bulk_prepare").click().run()
    ok(at)
    return at


def outcome_table(at) -> dict[str, tuple[str, str]]:
    """The last table of the bulk area: meeting label → (result, detail)."""
    frame = [d.value for d in at.dataframe if "Résultat" in d.value.columns][-1]
    return {label: (kind, reason) for label, kind, reason in zip(frame["Rencontre"], frame["Résultat"],
                                                                   frame["Détail"], strict=True)}


def result_of(table: dict, meeting_id: str) -> tuple[str, str]:
    [found] = [value for label, value in table.items() if label.endswith(f"({meeting_id})")]
    return found


# ---- introductions ------------------------------------------------------------------------------------------


def test_three_introductions_chosen_give_three_outcomes_and_an_introduced_one_needs_its_own_box(
        app_workbook, monkeypatch, mail_out):
    snap, admin = snapshot(), user_of(ADMIN)
    fresh, again = disclosable_ids(snap, admin)[:2]
    blocked = blocked_id(snap, admin)
    never_introduced(fresh)
    introduced(again)
    stamp_before = meeting(again)["introduction_envoyee"]
    at = open_page(monkeypatch, ADMIN, PAGE)
    choose(at, [fresh, again, blocked], INTRODUCE)
    assert any(m.value.startswith("**Envoyer à 1 rencontre(s) ?**") for m in at.markdown)
    assert not at.checkbox(key=f"bulk_resend_{again}").value  # never resent silently
    assert not mail_out.envelopes and journal_for(fresh) == []  # the confirmation step sends nothing
    at.button(key="bulk_go").click().run()
    ok(at)
    assert len(mail_out.envelopes) == 1
    table = outcome_table(at)
    assert len(table) == 3
    assert result_of(table, fresh)[0] == bulk.SENT
    kind, reason = result_of(table, again)
    assert kind == bulk.SKIPPED and reason == str(introduction.AlreadySent(*introduction.sent_stamp(meeting(again))))
    kind, reason = result_of(table, blocked)
    assert kind == bulk.SKIPPED and reason.startswith("Mise en relation impossible")
    expected = "1 envoyée(s), 2 ignorée(s), 0 en échec."
    assert expected in [s.value for s in at.success] and expected in [t.value for t in at.toast]
    assert meeting(fresh)["introduction_envoyee"] and meeting(again)["introduction_envoyee"] == stamp_before
    # Journaled as the single action journals it; nothing for the skipped ones.
    assert [e["action"] for e in journal_for(fresh)] == ["préparation mise en relation", "mise en relation"]
    assert journal_for(again) == [] and journal_for(blocked) == []
    # The confirmation ticked for that meeting: it is sent again, and only it.
    choose(at, [fresh, again], INTRODUCE)
    at.checkbox(key=f"bulk_resend_{again}").check().run()
    # The first one is introduced by now: without its own box it is skipped, only the confirmed one goes.
    assert any(m.value.startswith("**Envoyer à 1 rencontre(s) ?**") for m in at.markdown)
    at.button(key="bulk_go").click().run()
    ok(at)
    assert len(mail_out.envelopes) == 2
    assert result_of(outcome_table(at), again)[0] == bulk.SENT
    assert meeting(again)["introduction_envoyee"] != stamp_before
    assert [e["action"] for e in journal_for(again)] == ["préparation mise en relation", "mise en relation"]


def test_a_meeting_out_of_scope_is_refused_and_says_nothing_of_it(app_workbook, monkeypatch, mail_out):
    snap, dijon = snapshot(), user_of(DIJON)
    mine = disclosable_ids(snap, dijon)[0]
    never_introduced(mine)
    outside = next(r for r in snap.rows("Rencontres") if not access.row_in_scope(dijon, "Rencontres", r, snap))
    # The service: one refusal among the outcomes, the others done.
    outcomes = bulk.introduce(app_store(), snapshot(), dijon, mail_out_settings(), [outside.id, mine],
                              signature="Coordination Dijon")
    assert [(o.meeting_id, o.kind) for o in outcomes] == [(outside.id, bulk.REFUSED), (mine, bulk.SENT)]
    assert outcomes[0].reason == bulk.OUT_OF_REACH and journal_for(outside.id) == []
    # The page: a choice kept from before the scope changed is refused in the confirmation, and after it.
    at = open_page(monkeypatch, DIJON, PAGE)
    at.session_state["_rencontres_bulk_pending"] = (RELAUNCH, [outside.id])
    at.run()
    ok(at)
    assert result_of(outcome_table(at), outside.id) == (bulk.REFUSED, bulk.OUT_OF_REACH)
    assert at.button(key="bulk_go").disabled
    company = snap.get("Entreprises", outside["entreprise_id"])["raison_sociale"]
    assert not [d for d in at.dataframe if "Résultat" in d.value.columns
                and company in " ".join(d.value["Rencontre"])]


def test_each_meeting_of_a_bulk_introduction_costs_one_fresh_read(app_workbook, monkeypatch, mail_out):
    """On Google a read is quota: the rule is checked on one read of the sheet per meeting (preparing and sending
    follow each other, nobody reviews the message in between), and a consent withdrawn before that read counts."""
    from ecole_entreprise.services.kernel import journal

    snap, admin = snapshot(), user_of(ADMIN)
    staff_of = {i: snap.get("Rencontres", i)["personnel_id"] for i in disclosable_ids(snap, admin)}
    first, second = list(staff_of)[:2]
    third = next(i for i, p in staff_of.items() if p not in (staff_of[first], staff_of[second]))
    chosen = [first, second, third]
    for meeting_id in chosen:
        never_introduced(meeting_id)
    cached = snapshot()  # what the page holds: the consent below is withdrawn after it was read
    staff = cached.get("Personnels", staff_of[third])
    app_store().update("Personnels", staff.id, {"consentement_partage": ""}, staff.fingerprint)
    reads, real = [], journal.fresh_snapshot
    monkeypatch.setattr(journal, "fresh_snapshot", lambda store: (reads.append(1), real(store))[1])
    outcomes = bulk.introduce(app_store(), cached, admin, mail_out_settings(), chosen, signature="Coordination")
    assert [o.kind for o in outcomes] == [bulk.SENT, bulk.SENT, bulk.SKIPPED]
    assert len(reads) == 3 and len(mail_out.envelopes) == 2
    for meeting_id in chosen[:2]:
        assert [e["action"] for e in journal_for(meeting_id)] == ["préparation mise en relation", "mise en relation"]
    assert journal_for(chosen[2]) == []


def mail_out_settings():
    import pages._shared as shared

    return shared.load_settings().smtp


# ---- relaunching the acceptances ------------------------------------------------------------------------


def test_relaunch_reminds_each_side_that_has_not_answered(app_workbook, monkeypatch, mail_out):
    snap, dijon = snapshot(), user_of(DIJON)
    mine = [r for r in snap.rows("Rencontres") if access.row_in_scope(dijon, "Rencontres", r, snap)]
    waiting = next(r for r in mine if meetings.status_of(r) == meetings.PROPOSED
                   and not r["acceptation_entreprise"] and not r["acceptation_personnel"])
    planned = next(r for r in mine if meetings.status_of(r) == meetings.PLANNED)
    at = open_page(monkeypatch, DIJON, PAGE)
    at.selectbox(key="f_annee").set_value("toutes").run()
    choose(at, [waiting.id, planned.id], RELAUNCH)
    assert any(m.value.startswith("**Envoyer à 1 rencontre(s) ?**") for m in at.markdown)
    assert result_of(outcome_table(at), waiting.id) == (bulk.TO_SEND, "Relance de l'entreprise et du personnel.")
    at.button(key="bulk_go").click().run()
    ok(at)
    company = snap.get("Entreprises", waiting["entreprise_id"])
    staff = snap.get("Personnels", waiting["personnel_id"])
    assert sorted(e.rcpt_tos[0] for e in mail_out.envelopes) == sorted([company["contact_email"], staff["email"]])
    assert all("Rappel" in e.content.decode("utf-8", "replace") for e in mail_out.envelopes)
    table = outcome_table(at)
    assert result_of(table, waiting.id) == (bulk.SENT, "Relance envoyée à l'entreprise et au personnel.")
    assert result_of(table, planned.id) == (bulk.SKIPPED, f"Aucune acceptation en attente (statut « "
                                                          f"{meetings.status_of(planned)} »).")
    assert "1 envoyée(s), 1 ignorée(s), 0 en échec." in [s.value for s in at.success]
    # As a single reminder: the answer link issued for each side (none was valid yet), then sent as a reminder.
    assert sorted(e["action"] for e in journal_for(waiting.id)) == ["lien émis"] * 2 + ["relance envoyée"] * 2
    links = [r for r in snapshot().rows(registry.TAB) if r["cible_id"] == waiting.id]
    assert sorted(r["partie"] for r in links if r["relance_le"]) == ["entreprise", "personnel"]
    assert journal_for(planned.id) == []
    at.run()
    assert len(mail_out.envelopes) == 2  # a rerun sends nothing
    choose(at, [waiting.id], RELAUNCH)  # once more: the confirmation says it would not be the first
    kind, reason = result_of(outcome_table(at), waiting.id)
    assert kind == bulk.TO_SEND and reason.endswith(f"Déjà relancée le {now_paris():%d/%m/%Y}.")
    assert len(mail_out.envelopes) == 2


def test_the_shown_meetings_are_added_to_the_choice_and_the_filters_stay(app_workbook, monkeypatch):
    snap = snapshot()
    at = open_page(monkeypatch, ADMIN, PAGE)
    at.multiselect(key="f_statut").set_value(["proposée"]).run()
    [frame] = [d.value for d in at.dataframe]
    at.button(key="bulk_shown").click().run()
    ok(at)
    assert sorted(at.multiselect(key="bulk_pick").value) == sorted(frame["ID"])
    assert all(snap.get("Rencontres", i)["statut"] == "proposée" for i in frame["ID"])
    labels = [o for o in at.multiselect(key="bulk_pick").options]
    assert labels and all(" × " in label for label in labels)  # names, not IDs alone
    # Opening a meeting and coming back keeps the list as it was (the filters live in the URL).
    at.query_params["id"] = frame["ID"].iloc[0]
    at.run()
    at.button(key="back_to_list").click().run()
    ok(at)
    assert at.multiselect(key="f_statut").value == ["proposée"]
    [after] = [d.value for d in at.dataframe]
    assert after["ID"].tolist() == frame["ID"].tolist()


# ---- the service alone ----------------------------------------------------------------------------------


def test_progress_is_told_after_each_meeting_and_a_meeting_chosen_twice_counts_once(app_workbook, mail_out):
    snap, admin = snapshot(), user_of(ADMIN)
    planned = [r.id for r in snap.rows("Rencontres") if meetings.status_of(r) == meetings.PLANNED][:2]
    told = []
    outcomes = bulk.relaunch(app_store(), snap, admin, LINKS, mail_out_settings(), [*planned, planned[0]],
                             progress=lambda done, total: told.append((done, total)))
    assert told == [(1, 2), (2, 2)]
    assert [o.meeting_id for o in outcomes] == planned and {o.kind for o in outcomes} == {bulk.SKIPPED}
    assert bulk.summary(outcomes) == "0 envoyée(s), 2 ignorée(s), 0 en échec."
    assert not mail_out.envelopes


def test_without_links_or_smtp_nothing_is_tried(app_workbook, mail_out):
    snap, admin = snapshot(), user_of(ADMIN)
    waiting = [r.id for r in snap.rows("Rencontres") if meetings.status_of(r) == meetings.PROPOSED]
    journal_before = len(snap.rows("Journal"))
    with pytest.raises(registry.LinksNotConfigured):
        bulk.relaunch(app_store(), snap, admin, LinkSettings(), mail_out_settings(), waiting)
    with pytest.raises(introduction.SendFailed):
        bulk.introduce(app_store(), snap, admin, dataclasses.replace(mail_out_settings(), host=""), waiting,
                       signature="x")
    assert not mail_out.envelopes and len(snapshot().rows("Journal")) == journal_before
