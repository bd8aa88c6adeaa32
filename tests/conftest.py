import importlib
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ecole_entreprise.domain.schema import default_schema  # noqa: E402

BACKENDS = ("workbook", "google", "memory")


@pytest.fixture
def schema():
    return default_schema()


@pytest.fixture(params=BACKENDS)
def env(request, tmp_path, schema):
    """A StoreEnv for each backend: the contract suite runs once per adapter."""
    module = importlib.import_module(f"tests.support.{request.param}_env")
    return module.make_env(tmp_path, schema)


@pytest.fixture(autouse=True)
def _no_real_user_env(monkeypatch):
    # Tests choose their own backend and identity; a developer's shell settings must not leak in.
    for name in list(os.environ):
        if name.startswith("ECOLE_ENTREPRISE_"):
            monkeypatch.delenv(name, raising=False)
    # AppTest has no server address: page tests pick an identity as a declared demo does (test_auth_* unset it).
    monkeypatch.setenv("ECOLE_ENTREPRISE_DEMO", "1")


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory):
    """A demo workbook built once per test session; tests copy it (see app_workbook)."""
    from tests.support.apptest import make_demo_workbook

    return make_demo_workbook(tmp_path_factory.mktemp("demo-template") / "classeur.xlsx")


@pytest.fixture
def app_workbook(monkeypatch, tmp_path, demo_template):
    """This test's own copy of the demo workbook, configured as the app's store."""
    from tests.support.apptest import use_workbook

    return use_workbook(monkeypatch, demo_template, tmp_path)
