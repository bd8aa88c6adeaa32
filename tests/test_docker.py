"""The Dockerfile and compose.yaml stay true (no Docker build runs here): what the image copies exists and is
sent to the build, it installs the runtime lock and runs the README's first command, its HEALTHCHECK is the
`ready` command, and the files it copies are enough for the app's own checks to pass."""

import fnmatch
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from ecole_entreprise.cli import parser

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def exec_form(arguments: str) -> list[str]:
    return json.loads(arguments)


def copies() -> list[tuple[str, str]]:
    found = []
    for word, rest in instructions():
        if word == "COPY":
            parts = [p for p in rest.split() if not p.startswith("--")]
            found += [(source, parts[-1]) for source in parts[:-1]]
    return found


def sent_to_build(path: str) -> bool:
    """Whether .dockerignore lets `path` into the build context (Docker's rule: the last matching line wins)."""
    allowed = True
    for pattern in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines():
        pattern = pattern.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        parts = Path(path).parts
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        if any(fnmatch.fnmatch(prefix, pattern.replace("**/", "*")) for prefix in prefixes):
            allowed = negate
    return allowed


def test_every_copied_file_exists_and_is_sent_to_the_build():
    assert copies()
    for source, _ in copies():
        assert (ROOT / source).exists(), f"COPY {source}: missing from the repository"
        assert sent_to_build(source), f"COPY {source}: excluded by .dockerignore"
    assert not sent_to_build(".streamlit/secrets.toml") and not sent_to_build("data/rencontres-ecole-entreprise.xlsx")
    assert not sent_to_build("tests/test_docker.py") and not sent_to_build(".venv/bin/python")


def test_the_image_installs_the_runtime_lock_and_runs_the_readme_command():
    [install] = [rest for word, rest in instructions() if word == "RUN" and "pip install" in rest]
    [command] = [exec_form(rest) for word, rest in instructions() if word == "CMD"]
    readme_first = re.search(r"# 1\..*\n(.+)\n", README).group(1).strip()
    assert f"{install} && {' '.join(command)}" == readme_first
    assert "requirements.lock" in install and "requirements-dev" not in DOCKERFILE


def test_the_image_is_debian_slim_non_root_with_the_pdf_font():
    [base] = [rest for word, rest in instructions() if word == "FROM"]
    assert re.fullmatch(r"python:3\.11-slim-\w+", base)
    users = [rest for word, rest in instructions() if word == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert "fonts-dejavu-core" in DOCKERFILE
    assert ("pages", "./pages") in copies() and ("ecole_entreprise", "./ecole_entreprise") in copies()


def test_the_healthcheck_is_the_ready_command_on_the_streamlit_port():
    [health] = [rest for word, rest in instructions() if word == "HEALTHCHECK"]
    command = exec_form(health.split("CMD", 1)[1].strip())
    assert command[:4] == [".venv/bin/python", "-m", "ecole_entreprise", "ready"]
    arguments = parser().parse_args(command[4:] if command[4:5] == ["ready"] else ["ready", *command[4:]])
    assert arguments.http == "http://127.0.0.1:8501/_stcore/health"
    assert ("EXPOSE", "8501") in instructions()


def test_compose_runs_the_image_with_volumes_for_the_workbook_and_secrets():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    app = compose["services"]["app"]
    assert app["build"] == "." and "8501:8501" in app["ports"]
    assert any(v.endswith(":/app/data") for v in app["volumes"])  # data/ as the image lays it out
    text = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    assert "./.streamlit/secrets.toml:/app/.streamlit/secrets.toml:ro" in text
    assert ("VOLUME", '["/app/data"]') in instructions()


def test_the_copied_files_are_enough_for_doctor_and_ready(tmp_path):
    """Lay out the image's /app from the COPY lines only (each keeps its repository path: config.py finds
    sheets_schema/ and data/ from there), then run the app's own checks in it."""
    app = tmp_path / "app"
    for source, target in copies():
        assert target.removeprefix("./") in ("", source), f"COPY {source} {target}: not at its repository path"
        destination = app / source
        destination.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / source).is_dir():
            shutil.copytree(ROOT / source, destination, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / source, destination)
    (app / "data").mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    doctor = subprocess.run([sys.executable, "-m", "ecole_entreprise", "doctor", "--sans-smtp"], cwd=app, env=env,
                            capture_output=True, text=True, timeout=120)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert str(app / "data" / "rencontres-ecole-entreprise.xlsx") in doctor.stdout
    ready = subprocess.run([sys.executable, "-m", "ecole_entreprise", "ready"], cwd=app, env=env,
                           capture_output=True, text=True, timeout=120)
    assert ready.returncode == 0 and ready.stdout.strip() == "prêt", ready.stdout + ready.stderr
