"""Import figures: the preview of a list of 2,000 then 20,000 companies (it should grow about linearly), and what
hostile files cost before they are refused: an .xlsx whose only cell is at XFD1048576 (with and without its
declared dimension), a zip bomb, a CSV of 100,000 rows, a CSV cell of 200,000 characters.

Run: python benchmarks/bench_import.py   (last line: one JSON object)
Targets: preview_20000_s / preview_2000_s ≤ 12 (preview_cpu_ratio: the same in this process's CPU time, steadier on
a shared machine); dims_bomb_peak_mb ≤ 300 (Python allocations, tracemalloc, in a fresh process); every hostile
file refused with a French message.

The list: companies of realistic names (a trade with one or two family names or a first name, "… et fils"),
mostly distinct as in a real list (a few hundred probable duplicates), a third in Dijon or Besançon, the rest
spread over the communes of the region, each with a SIRET, a contact and an email.
"""

from __future__ import annotations

import io
import json
import random
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ecole_entreprise.domain import communes  # noqa: E402
from ecole_entreprise.domain.schema import default_schema  # noqa: E402
from ecole_entreprise.services.census.demo import FIRST_F, FIRST_M, KINDS, LAST, _luhn_complete  # noqa: E402
from ecole_entreprise.services.census.imports import ImportFileError, preview, read_table, suggest_mapping  # noqa: E402
from ecole_entreprise.store.workbook import WorkbookStore  # noqa: E402

HEADER = "Raison sociale;SIRET;CP;Ville;Code INSEE;Nom;Prénom;Mail;Tél"
TRADES = [kind for kind, _ in KINDS] + ["Transports", "Cabinet", "Pharmacie", "Imprimerie", "Électricité",
                                        "Plomberie", "Restaurant", "Librairie", "Ferronnerie", "Fromagerie"]


def company_csv(rows: int, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    every = communes.all_communes()
    big = [communes.commune_by_insee(code) for code in ("21231", "25056")]
    lines, sirens = [HEADER], set()
    for i in range(rows):
        town = rng.choice(big) if rng.random() < 0.33 else rng.choice(every)
        last, other, first = rng.choice(LAST), rng.choice(LAST), rng.choice(FIRST_F + FIRST_M)
        trade = rng.choice(TRADES)
        name = rng.choice([f"{trade} {first} {last}", f"{trade} {last}-{other}", f"{last} {other} et fils",
                           f"{trade} {last} {rng.randint(2, 99)}", f"{first} {last} {trade}"])
        while (siren := _luhn_complete(str(rng.randint(10_000_000, 99_999_999)))) in sirens:
            pass
        sirens.add(siren)
        siret = _luhn_complete(siren + "0001")
        lines.append(f"{name};{siret};{town.codes_postaux[0]};{town.nom};{town.insee};{last};{first};"
                     f"contact{i}@entreprise-{i}.fr;03 80 {i // 10000 % 100:02d} {i // 100 % 100:02d} {i % 100:02d}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def time_preview(data: bytes, snapshot) -> tuple[float, float, dict[str, int]]:
    """Wall seconds, CPU seconds of this process (less sensitive to a shared machine) and the counts by status."""
    start, cpu = time.perf_counter(), time.process_time()
    frame = read_table(data, "liste.csv")
    report = preview(frame, suggest_mapping(list(frame.columns), "Entreprises"), "Entreprises", snapshot)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    return elapsed, cpu, {status: report.count(status) for status in ("valide", "erreur", "doublon")}


def dims_bomb(declare_dimension: bool = True) -> bytes:
    """The 4.9 kB workbook of the issue: one cell at XFD1048576 (openpyxl declares A1:XFD1048576)."""
    from openpyxl import Workbook

    book = Workbook()
    book.active["A1"] = "Raison sociale"
    book.active["XFD1048576"] = "x"
    buffer = io.BytesIO()
    book.save(buffer)
    if declare_dimension:
        return buffer.getvalue()
    source, out = zipfile.ZipFile(buffer), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            payload = source.read(info)
            if info.filename.startswith("xl/worksheets/"):
                payload = re.sub(rb"<dimension [^>]*/>", b"", payload)
            target.writestr(info.filename, payload)
    return out.getvalue()


def zip_bomb() -> bytes:
    """A sheet of 1 GB of blanks that deflates to about 1 MB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        with target.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            block = b" " * (1 << 20)
            for _ in range(1024):
                sheet.write(block)
    return buffer.getvalue()


PROBE = """
import sys, time, tracemalloc
sys.path.insert(0, {root!r})
from ecole_entreprise.services.census.imports import ImportFileError, read_table
data = open({path!r}, "rb").read()
tracemalloc.start()
start = time.perf_counter()
try:
    read_table(data, {name!r})
    message = "ACCEPTED"
except ImportFileError as error:
    message = str(error)
elapsed = time.perf_counter() - start
peak = tracemalloc.get_traced_memory()[1]
print(repr((elapsed, peak / 2**20, message)))
"""


def hostile(data: bytes, name: str) -> tuple[float, float, str]:
    """Seconds, peak MB of Python allocations and the message, for reading `data` in a fresh process."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        script = PROBE.format(root=str(ROOT), path=str(path), name=name)
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    return eval(out.strip().splitlines()[-1])  # noqa: S307 - our own child's repr of a tuple


def main() -> None:
    figures: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as folder:
        store = WorkbookStore(default_schema(), Path(folder) / "bench.xlsx")
        store.init()
        snapshot = store.read()
        for rows in (2_000, 20_000):
            elapsed, cpu, counts = time_preview(company_csv(rows), snapshot)
            figures[f"preview_{rows}_s"], figures[f"preview_{rows}_cpu_s"] = round(elapsed, 2), round(cpu, 2)
            print(f"preview of {rows} lines: {elapsed:.2f} s, CPU {cpu:.2f} s ({counts})")
    figures["preview_ratio"] = round(figures["preview_20000_s"] / figures["preview_2000_s"], 2)
    figures["preview_cpu_ratio"] = round(figures["preview_20000_cpu_s"] / figures["preview_2000_cpu_s"], 2)
    print(f"ratio 20,000 / 2,000: {figures['preview_ratio']}, CPU {figures['preview_cpu_ratio']} (linear: 10)")

    cases = {
        "dims_bomb": (dims_bomb(), "bombe.xlsx"),
        "dims_bomb_undeclared": (dims_bomb(declare_dimension=False), "bombe-sans-dimension.xlsx"),
        "zip_bomb": (zip_bomb(), "bombe-zip.xlsx"),
        "csv_100000_rows": (company_csv(100_000)[:4_900_000], "cent-mille.csv"),
        "csv_cell_200000": (("Raison sociale\n\"" + "x" * 200_000 + "\"\n").encode(), "cellule.csv"),
    }
    for key, (data, name) in cases.items():
        elapsed, peak, message = hostile(data, name)
        figures[f"{key}_s"], figures[f"{key}_peak_mb"] = round(elapsed, 3), round(peak, 1)
        figures[f"{key}_refused"] = message != "ACCEPTED"
        print(f"{key} ({len(data) / 1024:.1f} KiB): {elapsed:.3f} s, peak {peak:.1f} MB — {message}")
    try:
        read_table(b"x" * (6 << 20), "trop-gros.csv")
    except ImportFileError as error:
        print(f"6 MiB file: {error}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
