"""Issue 17, point 4: several self-registrations « à valider » validated at once, each as a single validation is
(checks, scope, fingerprint, one journal entry), the others refused with their French reason."""

import pytest

from ecole_entreprise.services.census import bulk
from ecole_entreprise.services.census.demo import load_demo
from ecole_entreprise.services.kernel.access import AccessDenied
from ecole_entreprise.services.kernel.users import find_user
from tests.support.apptest import CPME, DIJON
from tests.support.memory_store import MemoryStore

SCOPE = ("21", "58", "71", "89")  # the demo coordinators of Dijon and of the CPME 21


@pytest.fixture
def store():
    store = MemoryStore()
    store.init()
    load_demo(store)
    return store


def pending(store, tab="Personnels", in_scope=True):
    return [r for r in store.read().rows(tab) if r["statut"] == "à valider" and (r["departement"] in SCOPE) == in_scope]


def validations(store):
    return [e for e in store.read().rows("Journal") if e["action"] == "validation fiche"]


def test_each_record_is_validated_or_refused_with_its_reason(store):
    snapshot = store.read()
    user = find_user(snapshot, DIJON)
    mine, other = pending(store), pending(store, in_scope=False)
    without_consent = [r for r in mine if not r["consentement_participation"]]
    assert without_consent and other
    outcomes = bulk.validate_many(store, snapshot, user, "Personnels", [r.id for r in mine] + [other[0].id])
    by_id = {o.row_id: o for o in outcomes}
    after = {r.id: r for r in store.read().rows("Personnels")}
    for row in mine:
        consented = bool(row["consentement_participation"])
        assert by_id[row.id].validated == consented
        assert after[row.id]["statut"] == ("validé" if consented else "à valider")
        assert row["nom"] in by_id[row.id].label  # the person's names, as this coordinator may see them
    assert "consentement à participer non recueilli" in by_id[without_consent[0].id].reason
    assert not by_id[other[0].id].validated and "hors de votre périmètre" in by_id[other[0].id].reason
    assert after[other[0].id]["statut"] == "à valider"
    consented = sorted(r.id for r in mine if r["consentement_participation"])
    assert sorted(e["cible_id"] for e in validations(store)) == consented
    assert bulk.summary(outcomes) == (f"{len(mine) - len(without_consent)} fiche(s) validée(s), "
                                      f"{len(without_consent) + 1} refusée(s) (motifs ci-dessous).")


def test_a_record_changed_since_the_list_was_read_is_a_conflict_and_the_others_go_through(store):
    snapshot = store.read()
    user = find_user(snapshot, CPME)
    first, second = pending(store, "Entreprises")[:2]
    store.update("Entreprises", first.id, {"notes": "changée dans la feuille"}, first.fingerprint)
    progress = []
    outcomes = bulk.validate_many(store, snapshot, user, "Entreprises", [first.id, second.id],
                                  on_progress=lambda fraction, message: progress.append(fraction))
    assert [o.validated for o in outcomes] == [False, True]
    assert "modifiée" in outcomes[0].reason
    assert store.read().get("Entreprises", first.id)["statut"] == "à valider"
    assert progress == [0.5, 1.0]


def test_a_probable_duplicate_is_never_confirmed_in_bulk(store):
    snapshot = store.read()
    user = find_user(snapshot, CPME)
    twin_of = next(r for r in snapshot.rows("Entreprises") if r["statut"] == "validé" and r["departement"] == "21")
    target = pending(store, "Entreprises")[0]
    store.update("Entreprises", target.id, {"siret": twin_of["siret"]}, target.fingerprint)
    snapshot = store.read()
    [outcome] = bulk.validate_many(store, snapshot, user, "Entreprises", [target.id])
    assert not outcome.validated and twin_of.id in outcome.reason and "doublon probable" in outcome.reason


def test_choices_are_the_pending_records_this_user_may_validate(store):
    snapshot = store.read()
    assert set(bulk.pending_choices(find_user(snapshot, CPME), "Entreprises", snapshot)) == \
        {r.id for r in pending(store, "Entreprises")}
    assert bulk.pending_choices(find_user(snapshot, DIJON), "Entreprises", snapshot) == {}  # reads, never edits
    with pytest.raises(AccessDenied):
        bulk.validate_many(store, snapshot, find_user(snapshot, DIJON), "Entreprises",
                           [r.id for r in pending(store, "Entreprises")])
    assert not validations(store)
