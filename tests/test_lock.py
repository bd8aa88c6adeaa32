"""The lock files: every declared dependency is pinned with hashes, the two locks agree, no registry is named."""

import re
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def declared(name: str) -> list[Requirement]:
    """Requirements of a requirements*.txt, following `-r` includes."""
    out = []
    for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            out += declared(line[3:].strip())
        elif line:
            out.append(Requirement(line))
    return out


def pins(name: str) -> dict[str, tuple[Version, str, int]]:
    """name -> (version, marker text, number of hashes) of a lock file."""
    text = (ROOT / name).read_text(encoding="utf-8")
    found = {}
    for block in re.split(r"\n(?=\S)", text):
        match = re.match(r"([A-Za-z0-9_.\-\[\]]+)==([^\s;\\]+)\s*(?:;\s*([^\\\n]+))?", block)
        if match:
            found[canonicalize_name(match.group(1))] = (Version(match.group(2)), (match.group(3) or "").strip(),
                                                       block.count("--hash=sha256:"))
    return found


def test_every_declared_dependency_is_pinned_within_its_range():
    for requirements, lock in (("requirements.txt", "requirements.lock"),
                               ("requirements-dev.txt", "requirements-dev.lock")):
        locked = pins(lock)
        for requirement in declared(requirements):
            name = canonicalize_name(requirement.name)
            assert name in locked, f"{requirement.name} ({requirements}) is not in {lock}"
            assert requirement.specifier.contains(locked[name][0], prereleases=True), (name, locked[name][0])


def test_the_runtime_and_dev_locks_name_the_same_versions():
    runtime, dev = pins("requirements.lock"), pins("requirements-dev.lock")
    assert runtime and set(runtime) <= set(dev)
    for name, (version, _, _) in runtime.items():
        assert dev[name][0] == version, f"{name}: {version} at run time, {dev[name][0]} in tests"


def test_every_pin_has_hashes_and_no_registry_is_named():
    for lock in ("requirements.lock", "requirements-dev.lock"):
        text = (ROOT / lock).read_text(encoding="utf-8")
        assert all(count >= 1 for _, _, count in pins(lock).values())
        assert not re.search(r"(--index-url|--extra-index-url|--find-links|-f\s|https?://|file:)", text), lock


def test_the_locks_install_on_linux_with_python_311():
    """Markers are for other platforms only: on CI's platform every runtime dependency of the app is there."""
    linux = {"sys_platform": "linux", "platform_system": "Linux", "python_version": "3.11",
             "python_full_version": "3.11.7", "implementation_name": "cpython",
             "platform_python_implementation": "CPython", "platform_machine": "x86_64", "os_name": "posix"}
    for _, marker, _ in pins("requirements.lock").values():
        if marker:
            Marker(marker).evaluate(linux)  # parses: pip will accept it
    for requirement in declared("requirements.txt"):
        _, marker, _ = pins("requirements.lock")[canonicalize_name(requirement.name)]
        assert not marker or Marker(marker).evaluate(linux)


def test_matplotlib_is_gone_from_the_runtime():
    assert "matplotlib" not in pins("requirements.lock")
    assert all(canonicalize_name(r.name) != "matplotlib" for r in declared("requirements.txt"))


def test_python_version_files_agree():
    assert (ROOT / ".python-version").read_text(encoding="utf-8").strip() == "3.11"
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'requires-python = ">=3.11"' in pyproject
    assert "--python-version 3.11" in (ROOT / "scripts" / "lock.sh").read_text(encoding="utf-8")
