"""Week view of dated meetings with the semaine école-entreprise marked."""

from __future__ import annotations

import datetime as dt

import pytest

from ecole_entreprise.services.meetings import calendar
from tests.test_meetings import PLANNED_VALUES, SheetStore, add_company, add_meeting, add_staff


@pytest.fixture
def store():
    return SheetStore()


def test_french_labels():
    assert calendar.french_date(dt.date(2026, 1, 19)) == "19 janvier 2026"
    assert calendar.french_date(dt.date(2025, 12, 1), weekday=True) == "lundi 1er décembre 2025"
    assert calendar.french_date(dt.date(2026, 8, 15), weekday=True) == "samedi 15 août 2026"
    assert [calendar.french_time(t) for t in ("12:30", "09:00", "midi")] == ["12 h 30", "9 h", "midi"]


def test_weeks_group_dated_meetings_and_mark_the_ee_week(store):
    company = add_company(store, raison_sociale="Menuiserie Alpha")
    lunch = add_meeting(store, company, add_staff(store), **{**PLANNED_VALUES, "date": "2026-01-21",
                                                            "heure": "12:00"})
    early = add_meeting(store, company, add_staff(store), **{**PLANNED_VALUES, "date": "2026-01-21",
                                                            "heure": "08:30"})
    held = add_meeting(store, company, add_staff(store, etablissement="Collège Rameau"),
                       **{**PLANNED_VALUES, "date": "2026-01-13", "statut": "réalisée"})
    add_meeting(store, company, add_staff(store), **{**PLANNED_VALUES, "date": "2026-01-20", "statut": "annulée"})
    add_meeting(store, company, add_staff(store), date="2026-01-20")  # proposée: not in the calendar
    add_meeting(store, company, add_staff(store), **{**PLANNED_VALUES, "date": "2026-02-02"})  # after the range
    add_meeting(store, company, add_staff(store), **{**PLANNED_VALUES, "date": "bientôt"})  # unreadable date
    store.append("Parametres", [{"cle": "semaine_ee_debut", "valeur": "2026-01-19"},
                                {"cle": "semaine_ee_fin", "valeur": "2026-01-23"}])
    weeks = calendar.week_view(store.read(), dt.date(2026, 1, 14), weeks=3)
    assert [w.monday for w in weeks] == [dt.date(2026, 1, 12), dt.date(2026, 1, 19), dt.date(2026, 1, 26)]
    assert [w.label for w in weeks] == ["Semaine du 12 janvier 2026", "Semaine du 19 janvier 2026",
                                        "Semaine du 26 janvier 2026"]
    assert [w.ee_week for w in weeks] == [False, True, False]  # 19–23 January 2026 in Parametres
    assert weeks[1].title == "Semaine du 19 janvier 2026 — semaine école-entreprise"
    assert [w.iso_week for w in weeks] == [3, 4, 5]
    assert [i.meeting_id for i in weeks[0].items] == [held.id]
    assert [i.meeting_id for i in weeks[1].items] == [early.id, lunch.id]
    assert weeks[2].items == []
    item = weeks[0].items[0]
    assert (item.entreprise, item.etablissement, item.statut, item.format) == (
        "Menuiserie Alpha", "Collège Rameau", "réalisée", "déjeuner")


def test_ee_week_comes_from_the_sheet(store):
    store.append("Parametres", [{"cle": "semaine_ee_debut", "valeur": "30/03/2026"},
                                {"cle": "semaine_ee_fin", "valeur": "2026-04-03"}])
    weeks = calendar.week_view(store.read(), dt.date(2026, 3, 23), weeks=3)
    assert [w.ee_week for w in weeks] == [False, True, False]
    assert calendar.ee_week(store.read()) == (dt.date(2026, 3, 30), dt.date(2026, 4, 3))


def test_unreadable_ee_week_marks_nothing(store):
    store.append("Parametres", [{"cle": "semaine_ee_debut", "valeur": "janvier"}])
    assert calendar.ee_week(store.read()) is None
    assert not any(w.ee_week for w in calendar.week_view(store.read(), dt.date(2026, 1, 19), weeks=2))


def test_year_boundary_and_frame(store):
    company = add_company(store)
    meeting = add_meeting(store, company, add_staff(store), **{**PLANNED_VALUES, "date": "2026-01-02",
                                                              "heure": "09:00"})
    weeks = calendar.week_view(store.read(), dt.date(2025, 12, 31), weeks=1)
    assert weeks[0].label == "Semaine du 29 décembre 2025" and weeks[0].iso_week == 1
    frame = calendar.week_frame(weeks)
    assert frame.to_dict("records") == [{
        "Semaine": "Semaine du 29 décembre 2025", "Jour": "vendredi 2 janvier 2026", "Heure": "9 h",
        "Entreprise": "Menuiserie Alpha", "Établissement": "Lycée Carnot", "Lieu": "Restaurant Le Central, Dijon",
        "Format": "déjeuner", "Visite": "avant", "Statut": "planifiée", "ID": meeting.id}]
    assert calendar.week_frame([]).empty and list(calendar.week_frame([]).columns)[0] == "Semaine"
    assert calendar.week_view(store.read(), dt.date(2026, 1, 1), weeks=0) == []
