"""The layer rules (pyproject.toml, [tool.importlinter]) hold, checked by import-linter's own `lint-imports`."""

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    # The console script of the same interpreter; cwd on the path so that `pages` (a folder of scripts) is found.
    script = Path(sys.executable).with_name("lint-imports")
    fallback = [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()"]
    command = [str(script)] if script.exists() else fallback
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=240)


def test_the_layer_contracts_are_kept():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(CONTRACTS['contracts'])} kept, 0 broken." in result.stdout


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(f'"{v}"' for v in values) + "]"


def test_the_contracts_catch_a_page_reading_the_store_and_a_service_importing_streamlit(tmp_path):
    # A miniature project with the same contracts (minus the allow-list) and two violations.
    for package in ("", "/services", "/domain", "/store"):
        package = "ecole_entreprise" + package
        (tmp_path / package).mkdir(parents=True)
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "ecole_entreprise" / "config.py").write_text("")
    (tmp_path / "ecole_entreprise" / "cli.py").write_text("")
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "home.py").write_text("import ecole_entreprise.store\n")
    (tmp_path / "ecole_entreprise" / "services" / "todo.py").write_text("import streamlit\n")
    config = ["[tool.importlinter]", f"root_packages = {_toml_list(CONTRACTS['root_packages'])}",
              "include_external_packages = true"]
    for contract in CONTRACTS["contracts"]:
        config += ["[[tool.importlinter.contracts]]", f'name = "{contract["name"]}"', f'type = "{contract["type"]}"',
                   f"source_modules = {_toml_list(contract['source_modules'])}",
                   f"forbidden_modules = {_toml_list(contract['forbidden_modules'])}",
                   f"allow_indirect_imports = {str(contract.get('allow_indirect_imports', False)).lower()}"]
    (tmp_path / "pyproject.toml").write_text("\n".join(config) + "\n")

    result = lint_imports(tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "pages.home -> ecole_entreprise.store" in result.stdout
    assert "ecole_entreprise.services.todo -> streamlit" in result.stdout
    assert f"Contracts: {len(CONTRACTS['contracts']) - 2} kept, 2 broken." in result.stdout
