"""Two real processes on one local workbook, as two app servers would be: the file lock serialises their writes,
so appends from both all land and, of two updates of the same row made from the same version, exactly one wins
(the other gets a Conflict). What does not hold across processes is in the README (« Deux serveurs »)."""

import json
import subprocess
import sys
import time
from pathlib import Path

from ecole_entreprise.config import load_settings
from ecole_entreprise.store import build_store

ROOT = Path(__file__).resolve().parents[1]
APPENDS = 15

WORKER = """
import json, sys, time
from ecole_entreprise.config import load_settings
from ecole_entreprise.store import build_store
from ecole_entreprise.store.base import Conflict
name, start, target, fingerprint = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
store = build_store(load_settings())
store.read()
while time.time() < start:
    time.sleep(0.005)
outcome = {"name": name}
try:
    store.update("Entreprises", target, {"commune": "Ville " + name}, fingerprint)
    outcome["update"] = "ok"
except Conflict:
    outcome["update"] = "conflit"
for i in range(int(sys.argv[5])):
    store.append("Entreprises", [{"raison_sociale": f"Entreprise {name} {i}", "code_postal": "21000"}])
print(json.dumps(outcome))
"""


def test_two_processes_on_one_workbook_lose_no_write_and_let_one_update_win(tmp_path):
    workbook = tmp_path / "classeur.xlsx"
    env = {"ECOLE_ENTREPRISE_WORKBOOK": str(workbook), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    store = build_store(load_settings(env=env, secrets_paths=()))
    store.init()
    [shared] = store.append("Entreprises", [{"raison_sociale": "Entreprise partagée", "code_postal": "21000"}])
    start = time.time() + 4.0  # both processes are up and have read the workbook by then
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, name, str(start), shared.id, shared.fingerprint,
                                 str(APPENDS)],
                                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for name in ("A", "B")]
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=180)
        assert worker.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert sorted(r["update"] for r in results) == ["conflit", "ok"]
    rows = build_store(load_settings(env=env, secrets_paths=())).read().rows("Entreprises")
    names = {row["raison_sociale"] for row in rows}
    for name in ("A", "B"):
        assert {f"Entreprise {name} {i}" for i in range(APPENDS)} <= names
    assert len(rows) == 1 + 2 * APPENDS and len({row.id for row in rows}) == len(rows)
    winner = next(r["name"] for r in results if r["update"] == "ok")
    assert next(row for row in rows if row.id == shared.id)["commune"] == f"Ville {winner}"
