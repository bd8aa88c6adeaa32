"""Cell text conventions."""

from datetime import date, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecole_entreprise.domain import values


def test_french_and_iso_dates():
    assert values.parse_date("14/03/2026") == date(2026, 3, 14)
    assert values.parse_date("2026-03-14") == date(2026, 3, 14)
    with pytest.raises(ValueError, match="date valide"):
        values.parse_date("31/02/2026")


def test_datetimes_and_times():
    assert values.parse_datetime("2026-03-14 09:30:00") == datetime(2026, 3, 14, 9, 30)
    assert values.parse_datetime("14/03/2026 09:30") == datetime(2026, 3, 14, 9, 30)
    assert values.parse_time("9h30") == time(9, 30) and values.parse_time("12:00") == time(12, 0)


def test_booleans_and_multichoice():
    assert values.parse_bool("Oui") and not values.parse_bool("non") and not values.parse_bool("")
    with pytest.raises(ValueError):
        values.parse_bool("peut-être")
    assert values.parse_multi("a; b;c\nd") == ["a", "b", "c", "d"]


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)))
def test_dates_round_trip(day):
    assert values.parse_date(values.format_date(day)) == day
    start = int(values.school_year_of(day)[:4])
    assert date(start, 9, 1) <= day <= date(start + 1, 8, 31)


@given(st.lists(st.sampled_from(["déjeuner", "salon", "visite avant", "visite après"]), unique=True))
def test_multichoice_round_trip(chosen):
    assert values.parse_multi(values.format_multi(chosen)) == chosen
