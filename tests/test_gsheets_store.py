"""GoogleSheetsStore on the fake Sheets API: request counts, retries, errors, idempotent appends, init."""

from __future__ import annotations

import random
import re
import string
import threading

import pytest

from ecole_entreprise.config import Settings
from ecole_entreprise.store.base import (
    Conflict,
    DuplicateId,
    PermissionDenied,
    QuotaExceeded,
    SpreadsheetNotFound,
    StoreError,
    Unreachable,
)
from ecole_entreprise.store.gsheets import GoogleSheetsStore
from ecole_entreprise.store.retry import RetryPolicy
from tests.support.fake_sheets import FakeSheets
from tests.support.google_env import SERVICE_ACCOUNT, FakeClock, FakeSheetsHuman, make_store

TAB = "Entreprises"
RAW_VALUES = {"contact_telephone": "0612345678", "code_postal": "01000", "siret": "73282932000074",
              "attendus": "+33380448400", "notes": "=SUM(A1:A3)"}


def company(name, **extra):
    return {"raison_sociale": name, "code_postal": "21000", "commune_insee": "21231", "departement": "21",
            "contact_nom": "Martin", "contact_prenom": "Léa", "contact_email": "lea@exemple.fr", **extra}


class World:
    """A fake spreadsheet, a store on it with a fake clock, and the person editing it."""

    def __init__(self, schema, **policy):
        self.schema = schema
        self.clock = FakeClock()
        self.fake = FakeSheets(clock=self.clock)  # the quotas' minute is on the same clock as the retries
        self.key = self.fake.create_spreadsheet("Classeur de test")
        self.store = make_store(schema, self.fake, self.key, self.clock, **policy)
        self.human = FakeSheetsHuman(self.fake, self.key)

    def seeded(self, names=("Alpha", "Bravo", "Charlie")):
        self.store.init()
        rows = self.store.append(TAB, [company(n) for n in names])
        self.fake.reset_counts()
        return rows

    def line_of(self, row_id: str) -> int:
        return next(i for i, r in enumerate(self.human.grid(TAB), start=1) if row_id in r)

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.fake.log]


@pytest.fixture
def world(schema):
    return World(schema)


# ---- request counts ------------------------------------------------------------------------------------------


def test_read_is_one_batch_get_over_every_tab(world, schema):
    world.seeded()
    snapshot = world.store.read()
    assert world.kinds() == ["values.batchGet"]
    assert snapshot.requests == 1
    assert set(snapshot.tabs) == set(schema.tab_names)
    assert [r["raison_sociale"] for r in snapshot.rows(TAB)] == ["Alpha", "Bravo", "Charlie"]


def test_update_costs_two_requests_and_writes_only_changed_cells(world):
    rows = world.seeded()
    row = world.store.read().get(TAB, rows[1].id)
    world.fake.reset_counts()
    world.store.update(TAB, row.id, {"notes": "rappeler", "commune": row["commune"]}, row.fingerprint)
    assert world.kinds() == ["values.batchGet", "batchUpdate"]  # the row and its neighbours, one checked write
    [write] = [body for body in world.fake.bodies if "requests" in body]
    tab_id = world.fake.sheet(world.key, TAB).sheet_id
    updated = [r for r in write["requests"] if r.get("updateCells", {}).get("range", {}).get("sheetId") == tab_id]
    assert len(updated) == 2  # Notes and Modifié le only: the unchanged commune is not rewritten
    sheet = world.fake.sheet(world.key, TAB)
    line = world.line_of(row.id) - 1
    headers = world.human.grid(TAB)[0]
    assert sheet.get(line, headers.index("Notes")).text == "rappeler"
    assert sheet.get(line, headers.index("Modifié le")).text != ""


def test_append_costs_one_request(world):
    world.seeded()
    written = world.store.append(TAB, [company("Delta"), company("Echo")])
    assert world.kinds() == ["batchUpdate"]  # appendCells; its answer shows where the rows landed
    grid = world.human.grid(TAB)
    assert [grid[r.row_number - 1][grid[0].index("Raison sociale")] for r in written] == ["Delta", "Echo"]


def test_raw_values_read_back_exactly(world):
    world.seeded()
    [row] = world.store.append(TAB, [company("Texte", **RAW_VALUES)])
    again = world.store.read().get(TAB, row.id)
    assert {k: again[k] for k in RAW_VALUES} == RAW_VALUES
    # what the same text becomes when a person types it (USER_ENTERED): the reason writes are RAW; in a column
    # init formatted as plain text it stays as typed (issue 12), in another one it is parsed
    world.human.set_cell(TAB, again.row_number, "Code postal", "01000")
    assert world.store.read().get(TAB, row.id)["code_postal"] == "01000"
    world.human.add_column(TAB, "Suivi CPME", [])
    world.human.set_cell(TAB, again.row_number, "Suivi CPME", "01000")
    assert world.store.read().get(TAB, row.id).extra["Suivi CPME"] == "1000"


# ---- retries and errors --------------------------------------------------------------------------------------


def test_429_then_success(world):
    world.seeded()
    world.fake.fail_next("values.batchGet", status=429)
    snapshot = world.store.read()
    assert snapshot.requests == 2 and len(snapshot.rows(TAB)) == 3
    assert len(world.clock.sleeps) == 1 and 0 <= world.clock.sleeps[0] <= 0.5


@pytest.mark.parametrize("status, error, words", [
    (503, Unreachable, "Google Sheets est injoignable"),
    (429, QuotaExceeded, "Quota de requêtes Google Sheets dépassé"),
])
def test_persistent_errors_stop_after_the_attempt_budget(world, status, error, words):
    world.seeded()
    world.fake.fail_next("values.batchGet", status=status, times=50)
    with pytest.raises(error) as caught:
        world.store.read()
    assert words in str(caught.value)
    assert world.fake.count("values.batchGet") == 4  # max_attempts of the policy
    assert len(world.clock.sleeps) == 3


def test_total_time_caps_the_retries(schema):
    world = World(schema, max_attempts=10, total_s=1.2, base_s=0.5, jitter=lambda: 1.0)
    world.seeded()
    world.fake.fail_next(None, status=503, times=50)
    with pytest.raises(Unreachable):
        world.store.read()
    assert world.clock.sleeps == [0.5]  # a second wait of 1.0 s would exceed 1.2 s in all
    assert world.fake.count() == 2


@pytest.mark.parametrize("status", [408, 429, 500, 503])
def test_one_time_budget_covers_every_request_of_an_update(schema, status):
    """An update is a read then a write: errors on both share the operation's total_s, not one budget each."""
    world = World(schema, max_attempts=10, total_s=2.0, base_s=0.5, jitter=lambda: 1.0)
    rows = world.seeded()
    world.fake.fail_next("values.batchGet", status=status, times=2)  # the read waits 0.5 + 1.0
    world.fake.fail_next("batchUpdate", status=status, times=50)
    with pytest.raises(StoreError):
        world.store.update(TAB, rows[0].id, {"notes": "x"}, rows[0].fingerprint)
    # 0.5 more fits in the 2 s budget; a fresh budget for the write would have allowed a further 1.0 s
    assert world.clock.sleeps == [0.5, 1.0, 0.5] and sum(world.clock.sleeps) <= 2.0
    assert world.human.grid(TAB)[world.line_of(rows[0].id) - 1].count("x") == 0
    # the next operation has its own budget again
    world.fake.fail_next("values.batchGet", status=status, times=1)
    assert len(world.store.read().rows(TAB)) == 3


def test_backoff_is_exponential_with_full_jitter(schema):
    world = World(schema, jitter=lambda: 1.0)
    world.seeded()
    world.fake.fail_next("values.batchGet", status=503, times=3)
    assert len(world.store.read().rows(TAB)) == 3
    assert world.clock.sleeps == [0.5, 1.0, 2.0]


def test_connection_errors_become_unreachable(world):
    world.seeded()
    world.fake.disconnect_next(None, times=50)
    with pytest.raises(Unreachable) as caught:
        world.store.read()
    assert "Google Sheets est injoignable" in str(caught.value)
    assert world.fake.count() == 4


@pytest.mark.parametrize("how", ["timeout-after", "timeout-before", "503-after"])
def test_lost_append_response_writes_exactly_one_row(world, how):
    world.seeded()
    if how == "503-after":
        world.fake.fail_next("batchUpdate", status=503, after_apply=True)
    else:
        world.fake.timeout_next("batchUpdate", after_apply=how == "timeout-after")
    [row] = world.store.append(TAB, [company("Foxtrot")])
    names = [r["raison_sociale"] for r in world.store.read().rows(TAB)]
    assert names.count("Foxtrot") == 1 and len(names) == 4
    assert world.store.read().get(TAB, row.id)["raison_sociale"] == "Foxtrot"
    assert world.fake.count("batchUpdate") == (1 if how != "timeout-before" else 2)


def test_append_inserts_rows_so_a_note_below_the_table_survives(world):
    """A person's note two rows under the table: appending three records must push it down, not write over it
    (insertDataOption=INSERT_ROWS; the default OVERWRITE would erase it)."""
    world.seeded()
    grid = world.human.grid(TAB)
    world.fake.type_cells(world.key, TAB, len(grid) + 1, 3, ["Note : relancer la CCI en juin"])  # not the ID column
    world.store.append(TAB, [company(name) for name in ("Echo", "Foxtrot", "Golf")])
    cells = [c for row in world.human.grid(TAB) for c in row]
    assert "Note : relancer la CCI en juin" in cells
    assert [r["raison_sociale"] for r in world.store.read().rows(TAB)] == [
        "Alpha", "Bravo", "Charlie", "Echo", "Foxtrot", "Golf"]


def test_append_of_a_known_id_sends_nothing(world):
    rows = world.seeded()
    again = world.store.append(TAB, [company("Alpha bis", id=rows[0].id)])
    assert world.kinds() == []  # the ID is known from the store's own append: nothing is sent
    assert again[0]["raison_sociale"] == "Alpha" and again[0].row_number == rows[0].row_number


def test_unknown_spreadsheet_is_a_french_not_found(schema):
    fake = FakeSheets()
    store = make_store(schema, fake, "cle-inexistante")
    with pytest.raises(SpreadsheetNotFound) as caught:
        store.read()
    assert "Classeur introuvable" in str(caught.value) and "cle-inexistante" in str(caught.value)
    assert fake.count() == 1  # a 404 is not retried


def test_private_spreadsheet_names_the_service_account(world):
    world.fake.make_private(world.key)
    with pytest.raises(PermissionDenied) as caught:
        world.store.update(TAB, "ENT-X", {"notes": "x"}, "0")
    assert f"Partagez le classeur avec {SERVICE_ACCOUNT} en tant qu'éditeur" in str(caught.value)


def test_missing_tab_is_reported_not_raised(world):
    world.seeded()
    book = world.fake.book(world.key)
    book.sheets = [s for s in book.sheets if s.title != "Evenements"]
    snapshot = world.store.read()
    assert snapshot.tabs["Evenements"].rows == []
    assert "Onglet absent" in snapshot.tabs["Evenements"].issues[0].message
    assert len(snapshot.rows(TAB)) == 3
    assert snapshot.requests == 3  # failed batchGet, metadata, batchGet of the tabs still there


# ---- rows and columns found at write time --------------------------------------------------------------------


def test_update_after_sort_and_inserts_above_writes_the_right_row(world):
    rows = world.seeded()
    seen = world.store.read().get(TAB, rows[0].id)  # Alpha, read before the person's edits
    world.human.sort_rows(TAB, "Raison sociale", reverse=True)
    for _ in range(3):
        world.human.insert_row(TAB, 2, ["ENT-HUMAIN" + str(_), "Saisie manuelle"])
    before = world.human.grid(TAB)
    world.store.update(TAB, rows[0].id, {"notes": "la bonne ligne"}, seen.fingerprint)
    after = world.human.grid(TAB)
    notes = after[0].index("Notes")
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert changed == [world.line_of(rows[0].id) - 1]
    assert after[changed[0]][after[0].index("Raison sociale")] == "Alpha"
    assert after[changed[0]][notes] == "la bonne ligne"


def test_an_id_typed_twice_by_a_person_blocks_the_update(world):
    """The form is opened (read) after the person typed the ID a second time: the update is refused before
    anything is sent. (An ID typed twice after that read is not looked for by the update, which writes the row
    the form was opened on, checked in its own answer; `check` and the quality page report the duplicate.)"""
    rows = world.seeded()
    world.human.append_cells(TAB, [rows[2].id, "Copie"])
    seen = world.store.read().get(TAB, rows[2].id)
    world.fake.reset_counts()
    with pytest.raises(DuplicateId) as caught:
        world.store.update(TAB, rows[2].id, {"notes": "x"}, seen.fingerprint)
    assert rows[2].id in str(caught.value) and "plusieurs fois" in str(caught.value)
    assert world.kinds() == []


def test_conflict_carries_both_versions_and_writes_nothing(world):
    rows = world.seeded()
    seen = world.store.read().get(TAB, rows[1].id)
    world.human.set_cell(TAB, world.line_of(rows[1].id), "Notes", "saisi à la main")
    before = world.human.grid(TAB)
    world.fake.reset_counts()
    with pytest.raises(Conflict) as caught:
        world.store.update(TAB, seen.id, {"notes": "version de l'app"}, seen.fingerprint)
    conflict = caught.value
    assert conflict.expected["notes"] == "" and conflict.current["notes"] == "saisi à la main"
    assert conflict.changed_fields() == ["notes"]
    assert conflict.attempted["notes"] == "version de l'app"
    assert world.kinds() == ["values.batchGet"] and world.human.grid(TAB) == before


def test_columns_added_by_a_person_keep_their_values(world):
    rows = world.seeded()
    world.human.add_column(TAB, "Suivi CPME", ["appelé", "", "à relancer"])
    world.human.move_column(TAB, "Notes", 2)
    seen = world.store.read().get(TAB, rows[0].id)
    world.store.update(TAB, rows[0].id, {"notes": "vu", "raison_sociale": "Alpha SAS"}, seen.fingerprint)
    [added] = world.store.append(TAB, [company("Golf", notes="note G")])
    grid = world.human.grid(TAB)
    new_line = grid[added.row_number - 1]
    assert new_line[2] == "note G" and new_line[grid[0].index("Raison sociale")] == "Golf"
    suivi = grid[0].index("Suivi CPME")
    column = [line[suivi] if suivi < len(line) else "" for line in grid[1:]]
    assert column[:3] == ["appelé", "", "à relancer"] and column[3] == ""
    assert grid[0][2] == "Notes" and grid[world.line_of(rows[0].id) - 1][2] == "vu"
    assert added.extra == {"Suivi CPME": ""}


def test_two_sessions_of_one_server_serialize_check_and_write(world):
    rows = world.seeded()
    other = make_store(world.schema, world.fake, world.key)
    seen = world.store.read().get(TAB, rows[0].id)
    outcome = {}

    def second():
        try:
            other.update(TAB, rows[0].id, {"notes": "B"}, seen.fingerprint)
            outcome["B"] = "gagné"
        except Conflict:
            outcome["B"] = "conflit"

    original = world.store._locate
    blocked = {}

    def read_then_let_b_try(schema, row_id):
        found = original(schema, row_id)
        thread = threading.Thread(target=second)
        thread.start()
        thread.join(timeout=0.3)
        blocked["B"] = thread.is_alive()  # B waits for A's lock between A's read and A's write
        world.store._locate = original
        blocked["thread"] = thread
        return found

    world.store._locate = read_then_let_b_try
    world.store.update(TAB, rows[0].id, {"notes": "A"}, seen.fingerprint)
    blocked["thread"].join(timeout=5)
    assert blocked["B"] is True and outcome["B"] == "conflit"
    assert world.store.read().get(TAB, rows[0].id)["notes"] == "A"


def test_delete_by_id_survives_a_lost_response(world):
    rows = world.seeded(names=("Alpha", "Bravo", "Charlie", "Delta"))
    world.human.sort_rows(TAB, "Raison sociale", reverse=True)
    world.fake.timeout_next("batchUpdate", after_apply=True)
    assert world.store.delete(TAB, [rows[1].id, rows[3].id]) == 2
    names = sorted(r["raison_sociale"] for r in world.store.read().rows(TAB))
    assert names == ["Alpha", "Charlie"]


def test_delete_costs_two_requests_once_metadata_is_cached(world):
    rows = world.seeded()
    world.store.describe()
    world.fake.reset_counts()
    assert world.store.delete(TAB, [rows[0].id, "ENT-ABSENT1"]) == 1
    assert world.kinds() == ["values.batchGet", "batchUpdate"]  # the ID column, one checked delete


def test_describe_fetches_the_title_once(world):
    first, second = world.store.describe(), world.store.describe()
    assert first == second == {"kind": "google", "title": "Classeur de test", "location": world.key,
                               "url": f"https://docs.google.com/spreadsheets/d/{world.key}/edit"}
    assert world.fake.count("metadata") == 1


# ---- init ----------------------------------------------------------------------------------------------------


def listed(world, source: str) -> list[str]:
    """The values of a dropdown's "='Listes'!$C$2:$C$9" range, as the Listes tab holds them now."""
    first, last = (int(n) for n in re.findall(r"\$(\d+)", source))
    grid = world.human.grid("Listes")
    column = grid[0].index("Valeur")
    return [grid[r - 1][column] for r in range(first, last + 1)]


def test_init_on_an_empty_spreadsheet_lays_out_every_tab(world, schema):
    report = world.store.init()
    assert report.created_tabs == schema.tab_names and not report.drift
    assert world.fake.titles(world.key)[0] == "Sheet1"  # nothing removed
    for tab in schema.tabs.values():
        sheet = world.fake.sheet(world.key, tab.name)
        assert world.human.grid(tab.name)[0] == tab.headers
        assert sheet.frozen_rows == 1 and sheet.col_count >= len(tab.headers)
        assert sheet.format_at(0, len(tab.headers) - 1)["textFormat"]["bold"] is True
        if tab.name == "Journal":  # only the app's account writes there (issue 12)
            [protection] = sheet.protected
            assert "warningOnly" not in protection and "startColumnIndex" not in protection["range"]
        elif tab.generated:  # « À corriger », rewritten by the app: a warning on the whole tab
            [protection] = sheet.protected
            assert protection["warningOnly"] is True and "startColumnIndex" not in protection["range"]
        else:
            [protection] = [p for p in sheet.protected if p["range"].get("startColumnIndex", 0) == 0
                            and p["range"].get("endColumnIndex") == 1]
            assert protection["warningOnly"] is True and protection["range"].get("endColumnIndex") == 1
        for col, f in enumerate(tab.fields):
            rule = sheet.validation_at(5, col)
            if f.type == "choice":  # the dropdown reads the Listes tab (issue 12)
                [source] = [v["userEnteredValue"] for v in rule["condition"]["values"]]
                assert listed(world, source) == list(f.choices)
                assert rule["condition"]["type"] == "ONE_OF_RANGE" and rule["strict"] is True
            elif f.type == "multichoice":
                assert rule["strict"] is False
            elif f.type not in ("bool",):
                assert rule is None
            assert sheet.validation_at(0, col) is None  # never on the header row
    snapshot = world.store.read()
    assert len(snapshot.rows("Listes")) == sum(len(v) for v in schema.lists.values())
    params = {r["cle"]: r["valeur"] for r in snapshot.rows("Parametres")}
    assert params == {k: str(v["valeur"]) for k, v in schema.tab("Parametres").defaults.items()}


def test_init_on_a_drifted_spreadsheet_reports_and_deletes_nothing(world, schema):
    rows = world.seeded()
    world.human.rename_header(TAB, "Notes", "Remarques")
    world.human.add_column(TAB, "Suivi CPME", ["appelé"])
    book = world.fake.book(world.key)
    book.sheets = [s for s in book.sheets if s.title != "Evenements"]
    listes_before = len(world.store.read().rows("Listes"))
    before = world.human.grid(TAB)
    report = world.store.init()
    assert report.created_tabs == ["Evenements"]
    assert report.missing_columns == {TAB: ["Notes"]}
    assert report.extra_columns == {TAB: ["Remarques", "Suivi CPME"]}
    assert any("Remarques" in note and "Notes" in note for note in report.notes)
    after = world.human.grid(TAB)
    assert after[0] == before[0] + ["Notes"]
    assert [line[: len(before[0])] for line in after[1:]] == [line[: len(before[0])] for line in before[1:]]
    snapshot = world.store.read()
    assert len(snapshot.rows("Listes")) == listes_before
    assert [r.id for r in snapshot.rows(TAB)] == [r.id for r in rows]
    assert snapshot.get(TAB, rows[0].id).extra["Remarques"] == ""


def test_init_is_idempotent(world):
    world.store.init()
    world.fake.reset_counts()
    report = world.store.init()
    assert report.created_tabs == [] and not report.drift
    assert "batchUpdate" not in world.kinds() and "values.append" not in world.kinds()


# ---- construction --------------------------------------------------------------------------------------------


def _service_account_info():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return {"type": "service_account", "project_id": "test", "private_key_id": "1", "private_key": pem,
            "client_email": SERVICE_ACCOUNT, "client_id": "1", "token_uri": "https://oauth2.example.invalid/token"}


def test_from_settings_builds_service_account_credentials(schema):
    settings = Settings(backend="google", spreadsheet="CLE123", service_account_info=_service_account_info(),
                        retry_attempts=3, retry_total_s=7.0, request_timeout_s=9.0)
    store = GoogleSheetsStore.from_settings(schema, settings)
    assert store.service_account_email == SERVICE_ACCOUNT
    assert (store.retry.max_attempts, store.retry.total_s) == (3, 7.0)
    assert store._http.timeout == 9.0
    assert set(store._http.session.credentials.scopes) == {
        "https://www.googleapis.com/auth/spreadsheets", "https://www.googleapis.com/auth/drive.readonly"}


def test_without_credentials_the_error_is_french(schema):
    with pytest.raises(StoreError) as caught:
        GoogleSheetsStore.from_settings(schema, Settings(backend="google", spreadsheet="CLE123"))
    assert "compte de service" in str(caught.value)


def test_retry_policy_from_settings():
    policy = RetryPolicy.from_settings(Settings(retry_attempts=2, retry_total_s=3.5))
    assert (policy.max_attempts, policy.total_s) == (2, 3.5)


# ---- a person's edit between two requests of a write -----------------------------------------------------------


def _before_request(world, offset, edit):
    """Run a person's `edit` once, just before the `offset`-th next request the store sends (1 = the next)."""
    target = world.fake.total + offset - 1

    def hook(number, kind):
        if number == target:
            world.fake.before_request = None
            edit()

    world.fake.before_request = hook


def _notes(world):
    grid = world.human.grid(TAB)
    name, notes = grid[0].index("Raison sociale"), grid[0].index("Notes")
    return {line[name]: (line[notes] if notes < len(line) else "") for line in grid[1:] if line}


def test_a_sort_just_before_the_write_is_seen_in_its_answer_undone_and_the_right_row_written(world):
    rows = world.seeded(names=("Alpha", "Bravo", "Charlie", "Delta"))
    seen = world.store.read().get(TAB, rows[0].id)
    world.fake.reset_counts()
    _before_request(world, 2, lambda: world.human.sort_rows(TAB, "Raison sociale", reverse=True))
    updated = world.store.update(TAB, rows[0].id, {"notes": "pour Alpha"}, seen.fingerprint)
    assert _notes(world) == {"Alpha": "pour Alpha", "Bravo": "", "Charlie": "", "Delta": ""}
    assert updated["raison_sociale"] == "Alpha" and world.store.repairs == 1
    assert world.kinds()[:3] == ["values.batchGet", "batchUpdate", "batchUpdate"]  # read, write seen wrong, undo


def test_typing_in_the_row_just_before_the_write_is_a_conflict_and_the_typed_text_stays(world):
    rows = world.seeded()
    seen = world.store.read().get(TAB, rows[1].id)
    _before_request(world, 2, lambda: world.human.set_cell(TAB, world.line_of(rows[1].id), "Notes", "à la main"))
    with pytest.raises(Conflict) as caught:
        world.store.update(TAB, rows[1].id, {"notes": "de l'app"}, seen.fingerprint)
    assert caught.value.current["notes"] == "à la main" and caught.value.attempted["notes"] == "de l'app"
    assert _notes(world)["Bravo"] == "à la main"


def test_a_column_moved_just_before_the_write_leaves_every_value_under_its_header(world):
    rows = world.seeded()
    seen = world.store.read().get(TAB, rows[0].id)
    _before_request(world, 2, lambda: world.human.move_column(TAB, "Notes", 0))
    world.store.update(TAB, rows[0].id, {"notes": "vu", "contact_nom": "Durand"}, seen.fingerprint)
    snapshot = world.store.read()
    alpha = snapshot.get(TAB, rows[0].id)
    assert (alpha["notes"], alpha["contact_nom"], alpha["raison_sociale"]) == ("vu", "Durand", "Alpha")
    assert all(r["notes"] == "" and r["contact_nom"] == "Martin" for r in snapshot.rows(TAB) if r.id != alpha.id)


def test_a_delete_that_meets_another_row_puts_that_row_back_with_its_formula(world):
    rows = world.seeded(names=("Alpha", "Bravo", "Charlie", "Delta"))
    world.human.add_column(TAB, "Calcul", ["=2+3"] * 4)  # a person's formula in every row
    world.store.read()
    _before_request(world, 2, lambda: world.human.sort_rows(TAB, "Raison sociale", reverse=True))
    assert world.store.delete(TAB, [rows[1].id]) == 1
    assert sorted(r["raison_sociale"] for r in world.store.read().rows(TAB)) == ["Alpha", "Charlie", "Delta"]
    sheet, headers = world.fake.sheet(world.key, TAB), world.human.grid(TAB)[0]
    formulas = [sheet.get(line, headers.index("Calcul")).formula for line in range(1, 4)]
    assert formulas == ["=2+3"] * 3 and world.store.repairs == 1


def test_an_append_under_a_column_moved_since_the_last_read_is_put_right(world):
    world.seeded()
    world.store.read()  # the header is remembered from here
    world.human.move_column(TAB, "ID", 3)
    [row] = world.store.append(TAB, [company("Golf", notes="note G")])
    again = world.store.read().get(TAB, row.id)
    assert (again["raison_sociale"], again["notes"]) == ("Golf", "note G")
    assert [r["raison_sociale"] for r in world.store.read().rows(TAB)] == ["Alpha", "Bravo", "Charlie", "Golf"]


def test_a_lost_answer_after_a_misdirected_write_is_recovered_from_the_backup(world):
    rows = world.seeded(names=("Alpha", "Bravo", "Charlie"))
    seen = world.store.read().get(TAB, rows[0].id)
    world.fake.timeout_next("batchUpdate", after_apply=True)
    _before_request(world, 2, lambda: world.human.sort_rows(TAB, "Raison sociale", reverse=True))
    world.store.update(TAB, rows[0].id, {"notes": "pour Alpha"}, seen.fingerprint)
    assert _notes(world) == {"Alpha": "pour Alpha", "Bravo": "", "Charlie": ""}
    assert world.store.repairs == 1


def test_the_backup_tab_is_hidden_and_keeps_only_the_last_write(world):
    rows = world.seeded()
    for row in rows:
        current = world.store.read().get(TAB, row.id)
        world.store.update(TAB, row.id, {"notes": f"n {row['raison_sociale']}"}, current.fingerprint)
    backup = world.fake.sheet(world.key, "_app_sauvegarde")
    assert backup.hidden
    kept = [line for line in world.human.grid("_app_sauvegarde")[1:] if any(line)]
    assert len(kept) == 1 and "Charlie" in kept[0]  # the row as it was before the last write, nothing older


def test_an_update_at_5000_rows_downloads_a_few_rows_not_the_tab(world):
    world.seeded()
    world.store.append(TAB, [company(f"Société {i}", notes="x" * 40) for i in range(1500)])
    snapshot = world.store.read()
    whole = world.fake.bytes_down
    row = snapshot.rows(TAB)[1200]
    world.fake.reset_counts()
    world.store.update(TAB, row.id, {"notes": "mise à jour"}, row.fingerprint)
    assert world.fake.bytes_down < 20_000 < whole  # the read of the tab was ten times that at least


def test_a_lost_answer_the_store_cannot_check_says_the_write_may_be_done(world):
    world.seeded()
    world.fake.timeout_next("batchUpdate", after_apply=True)
    world.fake.disconnect_next("values.batchGet", times=4)  # and the check that would tell is cut too
    with pytest.raises(StoreError) as caught:
        world.store.append(TAB, [company("Hotel")])
    assert "peut-être déjà enregistrée : vérifiez avant de recommencer" in str(caught.value)
    assert [r["raison_sociale"] for r in world.store.read().rows(TAB)].count("Hotel") == 1  # done, once


def test_googles_english_refusals_never_reach_the_user(world):
    world.seeded()
    world.fake.fail_next("batchUpdate", status=400)
    with pytest.raises(StoreError) as caught:
        world.store.append(TAB, [company("India")])
    message = str(caught.value)
    assert "Google Sheets a refusé" in message and "Rien n'a été modifié" in message
    assert "Error" not in message and "Invalid" not in message
    assert caught.value.detail  # Google's own words are kept for the log


# ---- Google's per-minute quotas, in the fake --------------------------------------------------------------------


def test_the_fake_refuses_reads_past_the_per_minute_quota_until_the_minute_has_passed(world):
    world.seeded()  # (resets the request log)
    world.fake.enforce_quotas(reads=5, writes=5)
    for _ in range(5):
        world.store.read()
    with pytest.raises(QuotaExceeded):
        world.store.read()  # its retries wait a few seconds: still inside the minute
    assert world.fake.max_per_window()["read"] == 5  # refused requests are not counted
    world.clock.now += 60
    assert world.store.read().requests == 1


def test_an_import_of_2000_rows_stays_within_the_per_minute_quotas(world):
    """Google allows 60 reads and 60 writes per minute per user (the service account is one user): an import of
    2,000 companies, with the fake refusing past those quotas and no time passing between requests (the worst
    case), is never refused and imports every line."""
    from ecole_entreprise.domain.roles import ADMIN, User
    from ecole_entreprise.services.census.imports import preview, read_table, run_import, suggest_mapping

    world.seeded()
    world.fake.enforce_quotas(reads=60, writes=60)
    rng = random.Random(11)
    words = {"".join(rng.choice(string.ascii_lowercase) for _ in range(9)).capitalize() for _ in range(4100)}
    names = sorted(words)
    lines = ["Raison sociale;CP;Ville;Code INSEE;Nom;Prénom;Mail"]
    lines += [f"{names[2 * i]} {names[2 * i + 1]};21000;Dijon;21231;{names[i]};Léa;{names[2 * i].lower()}@ex.fr"
              for i in range(2000)]
    frame = read_table(("\n".join(lines) + "\n").encode(), "liste.csv")
    report = preview(frame, suggest_mapping(list(frame.columns), TAB), TAB, world.store.read())
    outcome = run_import(world.store, report, User("admin@exemple.fr", ADMIN), "liste.csv", third_party=False)
    assert outcome.imported == 2000
    assert len(world.fake.served) == world.fake.total  # no request was answered 429
    peak = world.fake.max_per_window(60.0)
    assert peak["read"] <= 60 and peak["write"] <= 60
    assert len(world.store.read().rows(TAB)) == 2003


def test_the_backup_tab_deleted_by_a_person_is_made_again_by_the_next_write(world):
    rows = world.seeded()
    row = world.store.read().get(TAB, rows[0].id)
    world.store.update(TAB, row.id, {"notes": "un"}, row.fingerprint)
    store = make_store(world.schema, world.fake, world.key, world.clock)  # a server that knows the tab is there
    store.describe()
    world.fake.book(world.key).sheets.remove(world.fake.sheet(world.key, "_app_sauvegarde"))  # a person deletes it
    row = store.read().get(TAB, rows[1].id)
    assert store.update(TAB, row.id, {"notes": "deux"}, row.fingerprint)["notes"] == "deux"
    assert world.fake.sheet(world.key, "_app_sauvegarde").hidden
    world.fake.book(world.key).sheets.remove(world.fake.sheet(world.key, "_app_sauvegarde"))
    assert store.delete(TAB, [rows[2].id]) == 1
    assert [r["raison_sociale"] for r in store.read().rows(TAB)] == ["Alpha", "Bravo"]


def test_after_an_anonymisation_and_its_journal_entry_the_backup_keeps_no_personal_value(world):
    from ecole_entreprise.services.kernel import journal

    rows = world.seeded()
    row = world.store.read().get(TAB, rows[0].id)
    world.store.update(TAB, row.id, {"contact_nom": "", "contact_email": ""}, row.fingerprint)
    assert any("lea@exemple.fr" in line for line in world.human.grid("_app_sauvegarde"))  # kept for the check
    world.fake.reset_counts()
    journal.record(world.store, "admin@exemple.fr", "anonymisation", TAB, row.id)
    assert world.kinds() == ["batchUpdate", "batchUpdate"]  # no request more for it
    assert not any(any(cell for cell in line) for line in world.human.grid("_app_sauvegarde"))
    journal.record(world.store, "admin@exemple.fr", "suivante", TAB, row.id)  # nothing left to empty
    assert "updateCells" not in str(world.fake.bodies[-1])
    assert journal.verify_chain(world.store.read().rows("Journal")).ok


def test_an_append_still_lands_when_a_person_deleted_the_backup_tab_it_was_to_empty(world):
    rows = world.seeded()
    row = world.store.read().get(TAB, rows[0].id)
    world.store.update(TAB, row.id, {"notes": "vu"}, row.fingerprint)
    world.fake.book(world.key).sheets.remove(world.fake.sheet(world.key, "_app_sauvegarde"))
    [added] = world.store.append(TAB, [company("Delta")])
    assert [r["raison_sociale"] for r in world.store.read().rows(TAB)] == ["Alpha", "Bravo", "Charlie", "Delta"]
    assert added["raison_sociale"] == "Delta"
