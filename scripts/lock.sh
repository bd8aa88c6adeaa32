#!/usr/bin/env sh
# Regenerate the lock files from requirements*.txt (after editing them): `sh scripts/lock.sh`.
# uv (from PyPI: `python3 -m pip install uv`) resolves for Python 3.11 on every platform, with hashes; versions
# already in a lock are kept unless a requirement changed (`sh scripts/lock.sh --upgrade` moves them all).
# The runtime lock is constrained by the dev lock, so both always name the same versions.
set -eu
cd "$(dirname "$0")/.."
common="--universal --python-version 3.11 --generate-hashes --quiet --custom-compile-command 'sh scripts/lock.sh'"
eval uv pip compile requirements-dev.txt $common -o requirements-dev.lock "$@"
eval uv pip compile requirements.txt $common -c requirements-dev.lock -o requirements.lock "$@"
