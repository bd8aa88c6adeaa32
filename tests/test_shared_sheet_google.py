"""People and the app on the same Google sheet: a person's edit between any two requests of an app write never
makes it land on another row or column, and never loses the person's edit or the app's without saying so.

Randomized and seeded (tests/support/shared_sheet.py): for each operation, every edit (sort, insert a row, delete
another row, move a column, add a column, type in the same row, type in another row) before every request the
operation sends, on two seeds (rows, columns, positions and values drawn from the seed). The benchmark
benchmarks/bench_shared_sheet.py runs many more seeds.
"""

import pytest

from tests.support import shared_sheet

SEEDS = range(1234, 1236)


@pytest.mark.parametrize("operation", shared_sheet.OPERATIONS)
def test_a_persons_edit_between_any_two_requests_misdirects_nothing_and_loses_nothing(operation):
    cases = [c for c in shared_sheet.plan(SEEDS) if c[1] == operation]
    outcomes = [shared_sheet.trial(*case) for case in cases]
    wrong = [(o.edit, o.gap, o.result, o.details[:3]) for o in outcomes if o.misdirected or o.silent_loss]
    assert not wrong
    happened = [o for o in outcomes if o.happened]
    assert len(happened) >= len(shared_sheet.EDITS) * 2 * 2  # at least two gaps per operation, two seeds
    # The checks are exercised, not idle: some writes were seen wrong in their own answer and undone, and a
    # person typing in the very row being updated is always a conflict shown, never overwritten.
    if operation in ("update", "anonymise", "delete"):
        assert any(o.repaired for o in happened)
    if operation in ("update", "anonymise"):
        typed = [o for o in happened if o.edit == "type_same_row"]
        assert typed and all(o.result == "refused" and "modifiée par quelqu'un" in o.details[0] for o in typed)


def test_the_judge_sees_a_write_that_would_land_on_the_wrong_row(monkeypatch):
    """The oracle itself: with the adapter's own check switched off, a sort before the write is caught."""
    from ecole_entreprise.store import gsheets_writes

    monkeypatch.setattr(gsheets_writes.RowWriter, "verdict", lambda self, *args: "ok")
    outcomes = [shared_sheet.trial(seed, "update", edit, 2) for seed in range(20, 26)
                for edit in ("sort", "delete_other_row", "move_column")]
    assert any(o.misdirected for o in outcomes)
