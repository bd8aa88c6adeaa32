"""exclusive(name) on Google Sheets: a lease in the spreadsheet's developer metadata, seen by every process."""

import pytest

from ecole_entreprise.services.kernel import journal
from ecole_entreprise.store.base import Busy
from ecole_entreprise.store.gsheets_lease import FREE, lease_id
from tests.support.fake_sheets import FakeSheets
from tests.support.google_env import FakeClock, make_store

ENTRY = {"horodatage": "2026-01-01 10:00:00", "acteur": "app@exemple.fr", "action": "essai"}


class Two:
    """Two app processes on one spreadsheet, sharing the wall clock."""

    def __init__(self, schema):
        self.clock = FakeClock()
        self.fake = FakeSheets(clock=self.clock)
        self.key = self.fake.create_spreadsheet("Verrous")
        self.a = make_store(schema, self.fake, self.key, self.clock)
        self.b = make_store(schema, self.fake, self.key, self.clock)
        self.a.init()
        journal.record(self.a, "amorce@exemple.fr", "amorce")
        self.a.read()

    def lease(self, name="journal"):
        entries = [m for m in self.fake.book(self.key).metadata if m["metadataId"] == lease_id(name)]
        return entries[0].get("metadataValue") if entries else None

    def kinds(self):
        return [kind for kind, _ in self.fake.log]


@pytest.fixture
def two(schema):
    return Two(schema)


def test_a_chained_journal_entry_costs_two_requests_and_reads_no_other_tab(two):
    two.a.describe()  # the server's first page view: sheet IDs known from then on
    two.fake.reset_counts()
    with two.a.exclusive("journal"):
        [last] = two.a.tail("Journal", 1)  # served by the lease's own answer
        two.a.append("Journal", [dict(ENTRY, hash_precedent=last["hash"])])
    assert two.kinds() == ["batchUpdate", "batchUpdate"]  # lease + tail, then append + lease given back
    ranges = [r for body in two.fake.bodies for r in body.get("responseRanges", [])]
    assert ranges and all(r.startswith("'Journal'!") or r.startswith("'_app_sauvegarde'!") for r in ranges)
    assert last["action"] == "amorce" and two.lease() == FREE


def test_the_lease_keeps_another_process_out_then_lets_it_in(two):
    with two.a.exclusive("journal"):
        with pytest.raises(Busy) as caught:
            with two.b.exclusive("journal", ttl_s=2):
                pass
        assert "réessayez dans un instant" in str(caught.value)
        assert two.lease() == two.a.leases.held()[0].value
    assert two.lease() == FREE
    with two.b.exclusive("journal", ttl_s=2):
        pass


def test_a_lease_left_by_a_crashed_process_expires_and_is_taken_over(two):
    dead = two.a.leases.acquire("journal", ttl_s=30)  # taken, never given back: the process died
    two.clock.now += 31
    with two.b.exclusive("journal", ttl_s=5):
        assert two.lease() == two.b.leases.held()[0].value != dead.value


def test_a_lost_answer_while_taking_the_lease_still_leaves_one_holder(two):
    two.fake.timeout_next("batchUpdate", after_apply=True)  # Google took it; the answer never came back
    with two.a.exclusive("journal"):
        mine = two.a.leases.held()[0].value
        assert two.lease() == mine
        with pytest.raises(Busy):
            with two.b.exclusive("journal", ttl_s=1):
                pass
    assert two.lease() == FREE


def test_a_write_after_the_lease_was_lost_is_refused_whole(two):
    """The release rides in the section's first write: if another process took the expired lease meanwhile,
    that batch is refused by Google as a whole, so the entry is not written on a stale chain."""
    before = len(two.a.read().rows("Journal"))
    taken = {}
    with pytest.raises(Busy):
        with two.a.exclusive("journal", ttl_s=10):
            two.a.tail("Journal", 1)
            two.clock.now += 11
            taken["b"] = two.b.leases.acquire("journal", ttl_s=10)
            two.a.append("Journal", [ENTRY])
    assert len(two.a.read().rows("Journal")) == before
    assert two.lease() == taken["b"].value  # a's exit did not give back b's lease
