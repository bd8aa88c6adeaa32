"""The README stays true: every CLI command, every setting and both commands are documented."""

import re
from pathlib import Path

from ecole_entreprise.cli import parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_cli_command_is_documented():
    commands = parser()._subparsers._group_actions[0].choices
    for name in commands:
        assert f"`{name}" in README, f"CLI command {name!r} missing from the README"


def test_every_environment_variable_is_documented():
    config = (ROOT / "ecole_entreprise" / "config.py").read_text(encoding="utf-8")
    for variable in set(re.findall(r"ECOLE_ENTREPRISE_[A-Z_]+", config)):
        assert variable in README, f"{variable} missing from the README"


def test_the_two_commands_and_ci_agree():
    run = ("python3 -m venv .venv && .venv/bin/python -m pip install -r requirements.lock && "
           ".venv/bin/python -m streamlit run streamlit_app.py")
    test = ("python3 -m venv .venv && .venv/bin/python -m pip install -r requirements-dev.lock && "
            ".venv/bin/python -m pytest")
    assert run in README and test in README
    assert test in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert run in (ROOT / ".ci" / "app_smoke.sh").read_text(encoding="utf-8")


def test_every_secrets_section_read_by_the_app_is_in_the_example():
    example = (ROOT / ".streamlit" / "secrets.example.toml").read_text(encoding="utf-8")
    for section in ("[connections.gsheets]", "[app]", "[smtp]", "[auth]"):
        assert section in example and section.strip("[]").split(".")[0] in README
