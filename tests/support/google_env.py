"""StoreEnv for Google Sheets: GoogleSheetsStore over the in-process fake API (no network, no token endpoint).

The person (HumanEditor) edits the fake's state directly, as in the Google UI: what they type is parsed like
USER_ENTERED input, sorts and column moves act on the grid, and none of it counts as an API request.
"""

from __future__ import annotations

from google.auth.transport.requests import AuthorizedSession
from google.oauth2.credentials import Credentials

from ecole_entreprise.domain.schema import Schema
from ecole_entreprise.store.gsheets import GoogleSheetsStore
from ecole_entreprise.store.retry import RetryPolicy
from tests.support import StoreEnv
from tests.support.fake_sheets import FakeSheets, FakeSheetsAdapter

SERVICE_ACCOUNT = "rencontres-app@ecole-entreprise-test.iam.gserviceaccount.com"


class FakeClock:
    """Time that only moves when the retry policy sleeps."""

    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def fake_session(fake: FakeSheets) -> AuthorizedSession:
    """An authorized session whose token is already valid, answering from the fake."""
    session = AuthorizedSession(Credentials(token="fake"))
    session.mount("https://sheets.googleapis.com/", FakeSheetsAdapter(fake))
    return session


def make_store(schema: Schema, fake: FakeSheets, key: str, clock: FakeClock | None = None, **policy):
    """A store whose retries wait on `clock` and whose leases expire on it (share one clock between the stores
    of one test, as processes share the wall clock)."""
    clock = clock or FakeClock()
    retry = RetryPolicy(**{"max_attempts": 4, "total_s": 30.0, **policy}, sleep=clock.sleep, clock=clock)
    return GoogleSheetsStore(schema, key, session=fake_session(fake), retry=retry,
                             service_account_email=SERVICE_ACCOUNT, timeout_s=5, lease_clock=clock)


class FakeSheetsHuman:
    """A person editing the spreadsheet in the Google UI (HumanEditor protocol), on the fake's state."""

    def __init__(self, fake: FakeSheets, key: str):
        self.fake, self.key = fake, key

    def _col(self, tab: str, header: str) -> int:
        headers = self.grid(tab)[0]
        return headers.index(header)

    def grid(self, tab: str) -> list[list[str]]:
        return self.fake.grid_text(self.key, tab)

    def set_cell(self, tab: str, row_number: int, header: str, value: str) -> None:
        self.fake.type_cells(self.key, tab, row_number - 1, self._col(tab, header), [value])

    def insert_row(self, tab: str, row_number: int, cells: list[str]) -> None:
        self.fake.insert_rows(self.key, tab, row_number - 1)
        self.fake.type_cells(self.key, tab, row_number - 1, 0, cells)

    def delete_row(self, tab: str, row_number: int) -> None:
        self.fake.delete_rows(self.key, tab, row_number - 1, row_number)

    def sort_rows(self, tab: str, header: str, reverse: bool = False) -> None:
        self.fake.sort_rows(self.key, tab, self._col(tab, header), first_row=1, descending=reverse)

    def move_column(self, tab: str, header: str, to_index: int) -> None:
        col = self._col(tab, header)
        self.fake.move_columns(self.key, tab, col, col + 1, to_index)

    def add_column(self, tab: str, header: str, values: list[str]) -> None:
        col = len(self.grid(tab)[0])
        self.fake.type_cells(self.key, tab, 0, col, [header])
        for offset, value in enumerate(values):
            self.fake.type_cells(self.key, tab, 1 + offset, col, [value])

    def append_cells(self, tab: str, cells: list[str]) -> None:
        self.fake.type_cells(self.key, tab, len(self.grid(tab)), 0, cells)

    def rename_header(self, tab: str, old: str, new: str) -> None:
        self.fake.type_cells(self.key, tab, 0, self._col(tab, old), [new])


def make_env(tmp_path, schema: Schema) -> StoreEnv:
    clock = FakeClock()
    fake = FakeSheets(clock=clock)
    key = fake.create_spreadsheet("Rencontres École–Entreprise BFC (test)")
    env = StoreEnv(store=make_store(schema, fake, key, clock), human=FakeSheetsHuman(fake, key),
                   make_second_store=lambda: make_store(schema, fake, key, clock), request_count=lambda: fake.total)
    env.fake, env.key, env.clock = fake, key, clock  # for adapter-specific tests
    return env
