"""Hostile or damaged files: every upload limit refused before the work it would cause, with a French message
that gives the limit; malformed CSV named by its line; nothing written. (Timings are in benchmarks/bench_import.py.)
"""

import io
import random
import re
import zipfile

import pytest
from openpyxl import Workbook

from ecole_entreprise.cli import main
from ecole_entreprise.config import InputLimits
from ecole_entreprise.domain import validation
from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.domain.validation import _similar
from ecole_entreprise.services.census.imports import (
    ERROR,
    VALID,
    ImportFileError,
    import_cli,
    preview,
    read_table,
    suggest_mapping,
)
from ecole_entreprise.store import xlsx_upload
from ecole_entreprise.store.workbook import WorkbookStore
from ecole_entreprise.store.xlsx_upload import Bounds, UploadRefused, sheet_rows

HEADER = "Raison sociale;CP;Code INSEE;Nom;Prénom;Mail\n"
GOOD = "Atelier Démo {n};21000;21231;Martin;Léa;lea{n}@exemple-entreprise.fr\n"
SMALL = InputLimits(import_max_mb=1, import_max_rows=5, import_max_columns=8, import_max_cell_chars=50)


def xlsx(cells: dict[str, str], dimension: str | None = None) -> bytes:
    book = Workbook()
    for ref, value in cells.items():
        book.active[ref] = value
    buffer = io.BytesIO()
    book.save(buffer)
    if dimension is None:
        return buffer.getvalue()
    source, out = zipfile.ZipFile(buffer), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            payload = source.read(info)
            if info.filename.startswith("xl/worksheets/"):
                payload = re.sub(rb"<dimension [^>]*/>", dimension.encode(), payload)
            target.writestr(info.filename, payload)
    return out.getvalue()


def bomb(declared: bool = True) -> bytes:
    """The file of the issue: a header, then one cell at XFD1048576."""
    return xlsx({"A1": "Raison sociale", "XFD1048576": "x"}, None if declared else "")


def with_sheet(xml_rows: str) -> bytes:
    """A workbook whose sheet data is exactly `xml_rows` (for escapes openpyxl would never write)."""
    source = zipfile.ZipFile(io.BytesIO(xlsx({"A1": "x"})))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            payload = source.read(info)
            if info.filename.startswith("xl/worksheets/"):
                payload = re.sub(rb"<sheetData>.*</sheetData>", f"<sheetData>{xml_rows}</sheetData>".encode(),
                                 payload, flags=re.S)
            target.writestr(info.filename, payload)
    return out.getvalue()


@pytest.fixture
def store(tmp_path):
    store = WorkbookStore(default_schema(), tmp_path / "import.xlsx")
    store.init()
    return store


@pytest.fixture
def workbook(tmp_path, monkeypatch):
    path = tmp_path / "classeur.xlsx"
    monkeypatch.setenv("ECOLE_ENTREPRISE_WORKBOOK", str(path))
    return path


# ---- limits checked before anything is built ----------------------------------------------------------------


def test_declared_dimension_past_the_limits_is_refused_unread(monkeypatch):
    monkeypatch.setattr(xlsx_upload, "row_texts", lambda *a: pytest.fail("a row was decoded"))
    with pytest.raises(ImportFileError) as refused:
        read_table(bomb(), "bombe.xlsx")
    message = str(refused.value)
    assert "1\u202f048\u202f576 ligne(s)" in message and "16\u202f384 colonne(s)" in message
    assert "20\u202f000 lignes" in message and "60 colonnes" in message


def test_a_cell_beyond_the_column_limit_is_refused_even_without_a_declared_dimension():
    with pytest.raises(ImportFileError, match="Ligne 1\u202f048\u202f576 : une cellule au-delà de la colonne BH"):
        read_table(bomb(declared=False), "bombe.xlsx")
    row = '<row r="2">' + "".join(f'<c t="inlineStr"><is><t>{i}</t></is></c>' for i in range(9)) + "</row>"
    with pytest.raises(ImportFileError, match="au plus 8 colonnes"):  # cells without addresses are counted
        read_table(with_sheet('<row r="1"><c t="inlineStr"><is><t>a</t></is></c></row>' + row), "x.xlsx", SMALL)


def test_too_many_rows_is_refused_for_xlsx_and_csv():
    cells = {f"A{n}": f"Atelier {n}" for n in range(1, 8)}
    with pytest.raises(ImportFileError, match="déclare 7 ligne"):
        read_table(xlsx(cells), "liste.xlsx", SMALL)
    with pytest.raises(ImportFileError, match="plus de 5 lignes de données"):  # the dimension lies or is absent
        read_table(xlsx(cells, dimension=""), "liste.xlsx", SMALL)
    with pytest.raises(ImportFileError, match="plus de 5 lignes de données"):
        read_table((HEADER + "".join(GOOD.format(n=n) for n in range(6))).encode(), "liste.csv", SMALL)
    frame = read_table((HEADER + "".join(GOOD.format(n=n) for n in range(5))).encode(), "liste.csv", SMALL)
    assert len(frame) == 5  # exactly the limit is fine


def test_file_size_and_unpacked_size_and_compression_ratio():
    with pytest.raises(ImportFileError, match="Fichier trop volumineux .* 1024 Kio au plus"):
        read_table(b"a;b\n" * 300_000, "liste.csv", SMALL)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        target.writestr("xl/worksheets/sheet1.xml", b" " * (8 << 20))
    with pytest.raises(ImportFileError, match="plus de 100 fois"):
        read_table(buffer.getvalue(), "bombe.xlsx")
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w", zipfile.ZIP_DEFLATED) as target:  # small parts, each under the ratio floor
        for n in range(11):
            target.writestr(f"xl/part{n}.xml", b" " * (1 << 20))
    with pytest.raises(ImportFileError, match="décompressé dépasse 10 Mio"):  # 10 × the 1 MiB upload limit
        read_table(many.getvalue(), "bombe.xlsx", SMALL)


def test_bytes_actually_inflated_are_counted_whatever_the_headers_say():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as target:
        target.writestr("part.xml", b"x" * 5000)
    archive = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    budget = xlsx_upload._Budget(Bounds(max_bytes=400, max_rows=5, max_columns=5, max_cell_chars=5))
    with pytest.raises(UploadRefused, match="décompressé dépasse"):
        list(xlsx_upload._chunks(archive, "part.xml", budget))


def test_cell_length_limit_names_the_cell():
    with pytest.raises(ImportFileError, match="Ligne 2, colonne B : cellule de 51 caractères .* au plus 50"):
        read_table(xlsx({"A1": "Nom", "B1": "Notes", "A2": "x", "B2": "y" * 51}), "liste.xlsx", SMALL)
    with pytest.raises(ImportFileError, match="Ligne 3, colonne 2 : cellule de 51 caractères"):
        read_table(f"Nom;Notes\nA;b\nC;{'d' * 51}\n".encode(), "liste.csv", SMALL)
    # Past the csv module's own limit too; that limit is process-wide and another library may have raised it,
    # so either check may speak first: both name the line and the import's limit.
    huge = ('Nom;Notes\nA;"' + "x" * 200_000 + '"\n').encode()
    with pytest.raises(ImportFileError, match=r"^Ligne 2\b.*\b10000\b"):
        read_table(huge, "liste.csv")


def test_too_many_csv_columns():
    with pytest.raises(ImportFileError, match="Ligne 2 : 9 colonnes ; l'import en accepte au plus 8"):
        read_table(("a;b\n" + ";".join("x" * 9) + "\n").encode(), "liste.csv", SMALL)


# ---- malformed CSV: the line is named --------------------------------------------------------------------------


@pytest.mark.parametrize("data,message", [
    (b'Nom;Ville\nA;Dijon\nB;"Be"sancon\n', "Ligne 3 : guillemets mal placés"),
    (b'Nom;Ville\nA;Dijon\nB;"Besancon\nC;Dole\n', "Ligne 3 : guillemet ouvert jamais refermé"),
    (b"Nom;Ville\nA;Dijon\nB;Be\x00san\n", "Ligne 3 : caractère nul"),
    (b"Nom;Ville\nA;Dij\xc3\xb4n\nB;Be\xe9san\n", "Ligne 3 : octets invalides en UTF-8"),
    (b"Nom;Ville\nA;Dijon\nB;\xed\xa0\x80\n", "Ligne 3 : octets invalides en UTF-8"),  # an encoded lone surrogate
    (b"Nom;Ville\nA;Dijon\nB;Be\x81san\n", "Ligne 3 : encodage non reconnu"),  # undefined in Windows-1252
])
def test_malformed_csv_names_the_line(data, message):
    with pytest.raises(ImportFileError, match=message):
        read_table(data, "liste.csv")


def test_windows_1252_and_quoted_line_breaks_still_read():
    frame = read_table('Nom;Notes\n"Élise";"deux\r\nlignes"\n'.encode("cp1252"), "liste.csv")
    assert frame.loc[2, "Nom"] == "Élise" and frame.loc[2, "Notes"] == "deux\nlignes"


@pytest.mark.parametrize("escape,code", [("_xD800_", "U+D800"), ("_x0000_", "U+0000")])
def test_xlsx_lone_surrogate_or_nul_is_refused_with_the_cell(escape, code):
    rows = ('<row r="1"><c r="A1" t="inlineStr"><is><t>Nom</t></is></c></row>'
            f'<row r="2"><c r="A2" t="inlineStr"><is><t>A{escape}B</t></is></c></row>')
    with pytest.raises(ImportFileError, match=re.escape(f"Ligne 2, colonne A : caractère invalide ({code})")):
        read_table(with_sheet(rows), "liste.xlsx")


def test_control_characters_in_a_cell_make_that_line_an_error(store):
    data = (HEADER + GOOD.format(n=1) + "Atelier\x07Bip;21000;21231;Roux;Anne;anne@exemple-entreprise.fr\n").encode()
    frame = read_table(data, "liste.csv")
    report = preview(frame, suggest_mapping(list(frame.columns), "Entreprises"), "Entreprises", store.read())
    assert [line.status for line in report.lines] == [VALID, ERROR]
    assert "Caractère de contrôle interdit (U+0007) en position 8" in report.lines[1].errors["raison_sociale"]


def test_rows_are_streamed_across_chunk_boundaries(monkeypatch):
    cells = {f"{col}{n}": f"{col}-{n}-é" for n in range(1, 201) for col in "ABC"}
    data = xlsx(cells)
    expected = list(sheet_rows(data, Bounds(1 << 20, 500, 10, 100)))
    monkeypatch.setattr(xlsx_upload, "CHUNK", 97)  # rows, tags and UTF-8 sequences cut anywhere
    assert list(sheet_rows(data, Bounds(1 << 20, 500, 10, 100))) == expected
    assert expected[0] == (1, ["A-1-é", "B-1-é", "C-1-é"]) and len(expected) == 200


def test_preview_finds_the_near_duplicates_that_comparing_every_pair_finds(store):
    """Hundreds of close spellings of a few names in Dijon (and some in Besançon): a line is a duplicate exactly
    when an earlier accepted line of the same commune has a near-identical name (the index misses none)."""
    rng = random.Random(2026)
    bases = ["Boulangerie Martin", "Garage du Centre Petit", "Menuiserie Dubois et Fils", "Cabinet Roux", "Atelier"]
    towns = [("21000", "21231"), ("25000", "25056")]
    lines, expected, accepted = [], [], []
    for n in range(300):
        name = list(rng.choice(bases))
        for _ in range(rng.randint(0, 3)):
            at = rng.randrange(len(name))
            name[at:at + rng.randint(0, 1)] = rng.choice(["", "e", "s", " ", "x"])
        name, (postcode, insee) = "".join(name).strip() or "Atelier", towns[n % 5 == 0]
        lines.append(f"{name};{postcode};{insee};Martin;Léa;contact{n}@exemple-entreprise.fr\n")
        key = validation._name_key(name)
        twins = [j for j, (place, other) in accepted if place == insee and (other == key or _similar(key, other))]
        expected.append([f"ligne {j + 2} du fichier" for j in twins])
        if not twins:
            accepted.append((n, (insee, key)))
    frame = read_table((HEADER + "".join(lines)).encode(), "liste.csv")
    report = preview(frame, suggest_mapping(list(frame.columns), "Entreprises"), "Entreprises", store.read())
    found = [re.findall(r"ligne \d+ du fichier", " ; ".join(line.duplicate_of)) for line in report.lines]
    assert found == expected
    assert 30 < sum(map(bool, expected)) < 270  # both kinds of lines are many


# ---- command line: exit 2, French, nothing written ------------------------------------------------------------


def test_cli_dry_run_on_the_bomb_exits_2_in_french(workbook, tmp_path, capsys):
    main(["init"])
    path = tmp_path / "bombe.xlsx"
    path.write_bytes(bomb())
    assert main(["import", "Entreprises", str(path), "--dry-run"]) == 2
    out = capsys.readouterr().out
    assert "La feuille déclare 1\u202f048\u202f576 ligne(s)" in out and "Traceback" not in out


def test_cli_dry_run_past_the_row_limit_exits_2_in_french(workbook, tmp_path, capsys):
    main(["init"])
    path = tmp_path / "trop.csv"
    path.write_bytes((HEADER + "".join(GOOD.format(n=n) for n in range(20_001))).encode())
    assert main(["import", "Entreprises", str(path), "--dry-run"]) == 2
    assert "Le fichier compte plus de 20000 lignes de données" in capsys.readouterr().out


def test_malformed_file_writes_nothing(store, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes((HEADER + GOOD.format(n=1) + 'Atelier "Deux";21000;21231;R;A;"a@b.fr\n').encode())
    code, text = import_cli(store, "Entreprises", path, dry_run=False)
    assert code == 2 and text.startswith("Ligne 3 : guillemet")
    assert store.read().rows("Entreprises") == [] and store.read().rows("Journal") == []


def test_cli_refuses_an_oversized_file_before_reading_it(store, tmp_path, monkeypatch):
    path = tmp_path / "gros.csv"
    path.write_bytes(b"x" * (1 << 20 + 1))
    monkeypatch.setattr(type(path), "read_bytes", lambda self: pytest.fail("the file was read"))
    code, text = import_cli(store, "Entreprises", path, dry_run=True, limits=SMALL)
    assert code == 2 and "Fichier trop volumineux" in text and "1024 Kio au plus" in text
