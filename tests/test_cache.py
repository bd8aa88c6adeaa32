"""One shared read cache: served within the TTL, cleared by every write of this process."""

from datetime import datetime

import pytest

from ecole_entreprise.store.base import Snapshot, StoreError
from ecole_entreprise.store.cache import CachedStore


class CountingStore:
    def __init__(self, schema, fail_writes=False):
        self.schema, self.reads, self.fail_writes = schema, 0, fail_writes

    def describe(self):
        return {"kind": "test", "title": "t", "location": "", "url": ""}

    def read(self, tabs=None):
        self.reads += 1
        return Snapshot(tabs={}, read_at=datetime.now(), requests=1)

    def append(self, tab, records):
        if self.fail_writes:
            raise StoreError("échec")
        return []

    def update(self, tab, row_id, changes, expected):
        return None

    def delete(self, tab, ids):
        return 0

    def init(self):
        return None


class Clock:
    now = 0.0

    def __call__(self):
        return self.now


def test_reads_are_shared_within_ttl_and_refreshed_after(schema):
    inner, clock = CountingStore(schema), Clock()
    cache = CachedStore(inner, ttl_s=60, clock=clock)
    assert cache.read().requests == 1
    assert cache.read().requests == 0 and inner.reads == 1
    clock.now = 61
    cache.read()
    assert inner.reads == 2
    cache.read(fresh=True)
    assert inner.reads == 3


@pytest.mark.parametrize("write", ["append", "update", "delete", "init"])
def test_every_write_invalidates(schema, write):
    inner = CountingStore(schema)
    cache = CachedStore(inner, ttl_s=60, clock=Clock())
    cache.read()
    {"append": lambda: cache.append("T", []), "update": lambda: cache.update("T", "x", {}, "f"),
     "delete": lambda: cache.delete("T", []), "init": cache.init}[write]()
    cache.read()
    assert inner.reads == 2


def test_a_failed_write_also_invalidates(schema):
    inner = CountingStore(schema, fail_writes=True)
    cache = CachedStore(inner, ttl_s=60, clock=Clock())
    cache.read()
    with pytest.raises(StoreError):
        cache.append("T", [{}])
    cache.read()
    assert inner.reads == 2


def test_a_read_overtaken_by_a_write_is_not_kept(schema):
    """Session A reads (slowly); session B writes meanwhile: A's older snapshot must not become the cached one."""
    inner = CountingStore(schema)
    cache = CachedStore(inner, ttl_s=60)
    original_read = inner.read

    def read_during_which_another_session_writes(tabs=None):
        snapshot = original_read(tabs)
        cache.append("Entreprises", [])  # lands while this read is on its way back
        return snapshot

    inner.read = read_during_which_another_session_writes
    cache.read()
    inner.read = original_read
    cache.read()
    assert inner.reads == 2  # the overtaken snapshot was not served from the cache


def test_the_shared_store_is_one_object_with_the_configured_ttl(tmp_path, monkeypatch):
    from ecole_entreprise.config import load_settings
    from ecole_entreprise.store import shared_store

    monkeypatch.setenv("ECOLE_ENTREPRISE_WORKBOOK", str(tmp_path / "c.xlsx"))
    monkeypatch.setenv("ECOLE_ENTREPRISE_CACHE_TTL", "17")
    store = shared_store(load_settings())
    assert shared_store(load_settings()) is store and store.ttl_s == 17


def test_after_a_write_the_next_view_reads_only_the_tab_written(schema):
    """Per-tab freshness: a save in Entreprises (and its Journal entry) does not download the other tabs."""
    from tests.support.google_env import make_env

    env = make_env(None, schema)
    env.store.init()
    env.store.append("Entreprises", [{"raison_sociale": "Alpha"}])
    clock = Clock()
    cache = CachedStore(env.store, ttl_s=60, clock=clock)
    row = cache.read().rows("Entreprises")[0]
    cache.update("Entreprises", row.id, {"notes": "vu"}, row.fingerprint)
    cache.append("Journal", [{"horodatage": "2026-01-01 10:00:00", "acteur": "a", "action": "modification"}])
    env.fake.reset_counts()
    snapshot = cache.read()
    assert [kind for kind, _ in env.fake.log] == ["values.batchGet"]
    assert sorted(env.fake.queries[0]["ranges"]) == ["'Entreprises'", "'Journal'"]
    assert snapshot.get("Entreprises", row.id)["notes"] == "vu" and len(snapshot.tabs) == len(schema.tabs)
    env.fake.reset_counts()
    assert cache.read().requests == 0 and env.fake.total == 0
    clock.now = 61
    cache.read()
    assert len(env.fake.queries[0]["ranges"]) == len(schema.tabs)  # the TTL ran out: everything again
