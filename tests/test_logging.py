"""The operational log: one line per read, write, retry, conflict, refusal and external call, with its duration,
and never a personal value (canaries planted in the data must not appear in it)."""

import io
import json
import logging

import pytest

from ecole_entreprise import logs
from ecole_entreprise.config import load_settings
from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.store import build_store
from ecole_entreprise.store.base import Conflict
from ecole_entreprise.store.logged import LoggedStore
from tests.support.fake_sheets import FakeSheets
from tests.support.google_env import make_store

CANARIES = {"raison_sociale": "Canari Industries Zèbre", "email": "canari.secret@exemple.fr",
            "telephone": "+33699887766", "contact_nom": "Canarinomdefamille", "siret": "73282932000074"}


@pytest.fixture
def log():
    """The log as JSON lines in memory; the previous configuration comes back afterwards."""
    stream = io.StringIO()
    logs.configure(load_settings(env={"ECOLE_ENTREPRISE_LOG_JSON": "1"}, secrets_paths=()), stream=stream, force=True)
    yield stream
    logs.configure(force=True)


def lines(stream) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def assert_no_canary(stream):
    text = stream.getvalue()
    for value in CANARIES.values():
        assert value not in text
    assert "canari" not in text.lower()


def test_every_write_and_read_is_one_timed_line_without_personal_values(tmp_path, log):
    store = build_store(load_settings(env={"ECOLE_ENTREPRISE_WORKBOOK": str(tmp_path / "c.xlsx")}, secrets_paths=()))
    store.init()
    [row] = store.append("Entreprises", [CANARIES])
    store.update("Entreprises", row.id, {"commune": "Dijon", "contact_nom": "Canarinomdefamille Bis"}, row.fingerprint)
    with pytest.raises(Conflict):
        store.update("Entreprises", row.id, {"email": "autre.canari@exemple.fr"}, row.fingerprint)
    store.read()
    assert store.delete("Entreprises", [row.id]) == 1
    found = lines(log)
    events = [line["event"] for line in found]
    for name in ("initialisation", "ajout", "modification", "conflit", "lecture", "suppression"):
        assert name in events
    add = next(line for line in found if line["event"] == "ajout")
    assert add["tab"] == "Entreprises" and add["count"] == 1 and add["outcome"] == "ok" and add["ms"] >= 0
    conflict = next(line for line in found if line["event"] == "conflit")
    assert conflict["id"] == row.id and conflict["level"] == "WARNING"
    failed = [line for line in found if line["event"] == "modification" and line["outcome"] == "Conflict"]
    assert len(failed) == 1
    assert_no_canary(log)


def test_google_calls_and_retries_are_logged_without_cell_values(log):
    fake = FakeSheets()
    key = fake.create_spreadsheet("Journalisation")
    store = LoggedStore(make_store(default_schema(), fake, key))
    store.init()
    fake.fail_next(status=503)
    store.append("Entreprises", [CANARIES])
    store.read()
    found = lines(log)
    calls = [line for line in found if line["event"] == "appel externe"]
    assert calls and all(line["host"] == "sheets.googleapis.com" and "ms" in line for line in calls)
    assert any(line["status"] == 503 for line in calls)
    assert all("!" not in line["path"] and "?" not in line["path"] for line in calls)  # no ranges, no query
    retry = next(line for line in found if line["event"] == "nouvelle tentative")
    assert retry["attempt"] == 1 and retry["status"] == 503 and retry["error"] == "APIError"
    assert_no_canary(log)


def test_refusals_are_logged_with_what_was_refused_not_who(log):
    from ecole_entreprise.domain.roles import User
    from ecole_entreprise.services.kernel import access

    user = User(email="canari.secret@exemple.fr", role="comité de pilotage", nom="Canarinomdefamille")
    with pytest.raises(access.AccessDenied):
        access.require(user, access.MANAGE_USERS)
    [line] = [line for line in lines(log) if line["event"] == "refus"]
    assert line["kind"] == "permission" and line["role"] == "comité de pilotage"
    assert line["permission"] == access.MANAGE_USERS
    assert_no_canary(log)


def test_safe_masks_what_looks_like_a_personal_value():
    assert logs.safe("ENT-7KQ2M9XA") == "ENT-7KQ2M9XA"
    assert logs.safe("Demandes RGPD") == "Demandes RGPD"
    assert logs.safe(12.5) == 12.5
    for value in ("jean.dupont@exemple.fr", "06 12 34 56 78", "+33612345678", "x" * 200, "ligne\nsuivante"):
        assert logs.safe(value) == "(masqué)"


def test_text_format_and_level_come_from_the_settings():
    stream = io.StringIO()
    settings = load_settings(env={"ECOLE_ENTREPRISE_LOG_LEVEL": "warning"}, secrets_paths=())
    try:
        logs.configure(settings, stream=stream, force=True)
        logs.event("lecture", tab="Entreprises")
        logs.event("conflit", logging.WARNING, "store", tab="Entreprises", id="ENT-1")
        [line] = stream.getvalue().splitlines()
        assert " WARNING ecole_entreprise.store conflit tab=Entreprises id=ENT-1" in line
        assert logs.configure(load_settings(env={}, secrets_paths=())).level == logging.WARNING  # once per process
    finally:
        logs.configure(force=True)


def test_the_log_follows_the_current_stderr(capsys):
    logs.configure(force=True)
    logs.event("lecture", tab="Personnels")
    assert "lecture tab=Personnels" in capsys.readouterr().err
