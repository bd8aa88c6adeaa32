"""Roles as records (domain/roles.py): the sheet's list of roles, and every unknown or forgotten case fails closed."""

import pytest

from ecole_entreprise.domain.permissions import ALL_PERMISSIONS
from ecole_entreprise.domain.roles import (
    ADMIN,
    ALL_DEPARTEMENTS,
    COMITE,
    COORD_ACADEMIE,
    COORD_CPME,
    NO_ROLE,
    ROLE_RECORDS,
    User,
    role_record,
    scope_of,
)
from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.services.kernel import access
from tests.support.memory_store import MemoryStore, seed_programme


def test_the_role_records_are_the_roles_list_of_lists_yaml():
    assert list(ROLE_RECORDS) == list(default_schema().lists["roles"])
    for role in ROLE_RECORDS.values():
        assert role.permissions <= ALL_PERMISSIONS, role.name
        assert role.side in ("", "entreprise", "personnel"), role.name


def test_records_carry_side_scope_and_masking():
    assert (role_record(COORD_ACADEMIE).side, role_record(COORD_CPME).side) == ("personnel", "entreprise")
    assert [r.name for r in ROLE_RECORDS.values() if r.unrestricted] == [ADMIN]
    assert [r.name for r in ROLE_RECORDS.values() if not r.scope_required] == [ADMIN, COMITE]
    assert [r.name for r in ROLE_RECORDS.values() if r.masks_small_counts] == [COMITE]


def test_an_unknown_role_may_do_nothing_and_covers_nothing():
    stranger = User("x@exemple.fr", "inspecteur d'académie", departements=ALL_DEPARTEMENTS)
    assert stranger.rights is NO_ROLE and NO_ROLE.masks_small_counts
    assert stranger.scope == frozenset() and not stranger.covers("21")
    assert not any(access.allowed(stranger, p) for p in ALL_PERMISSIONS)
    assert access.pages_for(stranger) == []
    assert scope_of("inspecteur d'académie", "Dijon") == frozenset()


def test_an_empty_scope_opens_nothing_for_a_role_that_needs_one_and_the_region_for_one_that_does_not():
    assert scope_of(COORD_CPME, " ") == frozenset()
    assert User("c@cpme.fr", COORD_CPME).scope == frozenset()  # no départements given: none covered
    assert scope_of(COMITE, "") == ALL_DEPARTEMENTS and User("c@region.fr", COMITE).scope == ALL_DEPARTEMENTS
    assert User("a@region.fr", ADMIN).covers("")  # unrestricted: even a row without a département
    snapshot = seed_programme(MemoryStore()).read()
    assert access.visible_rows(User("c@cpme.fr", COORD_CPME), "Entreprises", snapshot) == []


def test_only_an_account_manager_may_assign_roles_and_every_role_is_offered():
    """The Utilisateurs page offers the roles of users.assignable_roles: every role of the records to the admin,
    none to anyone else (a forged submission is refused by users.grant all the same)."""
    from ecole_entreprise.services.kernel import users

    assert users.assignable_roles(User("a@region.fr", ADMIN)) == tuple(ROLE_RECORDS)
    for role in (COORD_ACADEMIE, COORD_CPME, COMITE, "inspecteur d'académie"):
        assert users.assignable_roles(User("x@exemple.fr", role, departements=ALL_DEPARTEMENTS)) == ()
    store = MemoryStore()
    store.init()
    with pytest.raises(access.AccessDenied):
        users.grant(store, User("c@region.fr", COMITE), "nouveau@exemple.fr", ADMIN)
    assert store.read().rows(users.TAB) == []
    users.grant(store, User("a@region.fr", ADMIN), "Coord@Exemple.fr", COORD_CPME, "21")
    [listed] = users.accounts_table(store.read())
    assert listed == {"Email": "coord@exemple.fr", "Nom": "", "Rôle": COORD_CPME, "Périmètre": "21", "Actif": "oui"}
