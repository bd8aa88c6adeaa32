"""AppTest harness shared by the page tests: a copy of a demo workbook per test, an identity, one page.

The store is cached process-wide per workbook path (ecole_entreprise.store.shared_store), hence one path per test.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from streamlit.testing.v1 import AppTest

from ecole_entreprise.config import load_settings
from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.services.census.demo import load_demo
from ecole_entreprise.store import shared_store
from ecole_entreprise.store.workbook import WorkbookStore

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "admin@exemple.fr"
DIJON = "coord.dijon@exemple.fr"
BESANCON = "coord.besancon@exemple.fr"
CPME = "coord.cpme21@exemple.fr"
COMITE = "comite@exemple.fr"


def make_demo_workbook(path: Path) -> Path:
    store = WorkbookStore(default_schema(), path)
    store.init()
    load_demo(store)
    return path


def use_workbook(monkeypatch, template: Path, folder: Path) -> Path:
    """A private copy of the demo workbook, made the app's configured store."""
    path = folder / "classeur.xlsx"
    shutil.copy(template, path)
    monkeypatch.setenv("ECOLE_ENTREPRISE_WORKBOOK", str(path))
    return path


def app_store():
    """The same cached store the app under test uses."""
    return shared_store(load_settings())


def open_page(monkeypatch, email: str, page: str, query: dict | None = None, timeout: float = 60) -> AppTest:
    """Run the entry point as `email`, then switch to `page` (e.g. "pages/bilan.py")."""
    monkeypatch.setenv("ECOLE_ENTREPRISE_DEV_USER", email)
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=timeout)
    at.run()
    at.switch_page(page)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    return at
