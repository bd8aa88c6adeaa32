import importlib
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ecole_entreprise.domain.schema import default_schema  # noqa: E402

BACKENDS = ("workbook", "google")


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
