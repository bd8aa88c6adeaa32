"""Read the first sheet of an uploaded .xlsx as rows of text, within bounds, without trusting the file.

Everything a hostile file could use to exhaust the server is checked before the work it would cause: the size of
the upload, the zip members' declared sizes and compression ratios, the sheet's declared dimension, then while
streaming the sheet XML the bytes actually inflated, the number of rows, each row's columns and each cell's length.
Rows are produced one at a time (never a grid of the declared dimension). Cell text comes from the same parsing
functions as the local workbook (xlsx_io). Every refusal is a French message that gives the limit.
"""

from __future__ import annotations

import codecs
import io
import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from .cells import column_letter
from .xlsx_io import (
    BadPackage,
    Context,
    _split_rows,
    attributes,
    parse_date_styles,
    parse_rels,
    parse_shared_strings,
    patterns,
    rels_name,
    root_prefix,
    row_texts,
)

CHUNK = 1 << 20  # bytes inflated at a time
MAX_RATIO = 100  # a member inflating more than this (and past 1 MB) is a zip bomb, not a spreadsheet
RATIO_FLOOR = 1 << 20
MAX_MEMBERS = 10_000
UNPACKED_FACTOR = 10  # all members together may inflate to this many times the upload limit

_CELL_REF = re.compile(r"""<(?:\w+:)?c\b[^>]*?\sr\s*=\s*["']([A-Za-z]*)""")
_CELL_OPEN = re.compile(r"<(?:\w+:)?c[\s/>]")
_ROW_NUMBER = re.compile(r"""\sr\s*=\s*["'](\d+)""")
_DIMENSION = re.compile(r"""<(?:\w+:)?dimension\b[^>]*?\bref\s*=\s*["']([^"']*)["']""")
_LAST_CELL = re.compile(r"([A-Za-z]{1,4})(\d{1,8})$")
_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")
_DAMAGED_SHEET = "Le classeur Excel ne peut pas être lu : sa première feuille est endommagée"


class UploadRefused(ValueError):
    """The file is refused before anything is built from it; the message is French and gives the limit."""


@dataclass(frozen=True)
class Bounds:
    max_bytes: int
    max_rows: int  # data rows, the header row not counted
    max_columns: int
    max_cell_chars: int

    @property
    def max_unpacked(self) -> int:
        return self.max_bytes * UNPACKED_FACTOR


def _number(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f")


def _column_number(letters: str) -> int:
    """1-based, without the cache of xlsx_io.col_index (letters here come from an untrusted file)."""
    value = 0
    for char in letters.upper():
        value = value * 26 + ord(char) - 64
    return value


# ---- the package ----------------------------------------------------------------------------------------------


def _members(data: bytes, bounds: Bounds) -> zipfile.ZipFile:
    if len(data) > bounds.max_bytes:
        raise UploadRefused(f"Fichier trop volumineux ({_number(len(data) // 1024)} Kio) : "
                            f"{_number(bounds.max_bytes // 1024)} Kio au plus.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise UploadRefused("Le classeur Excel ne peut pas être lu : ce fichier n'est pas un .xlsx valide. "
                            "Enregistrez-le au format « Classeur Excel (.xlsx) » ou en CSV.") from None
    if len(infos) > MAX_MEMBERS:
        raise UploadRefused(f"Classeur refusé : il contient {_number(len(infos))} parties internes.")
    total = 0
    for info in infos:
        total += info.file_size
        if info.flag_bits & 1:
            raise UploadRefused("Classeur protégé par un mot de passe : enregistrez-en une copie sans mot de passe.")
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise UploadRefused(f"Classeur refusé : une de ses parties se décompresse plus de {MAX_RATIO} fois "
                                "(fichier piégé ou endommagé).")
    if total > bounds.max_unpacked:
        raise UploadRefused(_unpacked_message(bounds))
    return archive


def _unpacked_message(bounds: Bounds) -> str:
    return (f"Classeur refusé : son contenu décompressé dépasse {_number(bounds.max_unpacked // (1 << 20))} Mio "
            f"({UNPACKED_FACTOR} fois la taille maximale d'un fichier).")


class _Budget:
    """Bytes inflated so far, all members together: the declared sizes can lie, the count cannot."""

    def __init__(self, bounds: Bounds):
        self.left, self.bounds = bounds.max_unpacked, bounds

    def take(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise UploadRefused(_unpacked_message(self.bounds))


def _chunks(archive: zipfile.ZipFile, name: str, budget: _Budget) -> Iterator[str]:
    """A member's text, inflated and decoded a chunk at a time."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        with archive.open(name) as handle:
            while chunk := handle.read(CHUNK):
                budget.take(len(chunk))
                yield decoder.decode(chunk)
            yield decoder.decode(b"", final=True)
    except UploadRefused:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, UnicodeDecodeError, ValueError):
        raise UploadRefused("Le classeur Excel ne peut pas être lu : une de ses parties est endommagée.") from None


def _text(archive: zipfile.ZipFile, name: str, budget: _Budget) -> str:
    return "".join(_chunks(archive, name, budget))


def _first_sheet(archive: zipfile.ZipFile, budget: _Budget) -> tuple[str, Context]:
    """The first worksheet's member name and what its cells need (shared strings, date styles)."""
    names = set(archive.namelist())
    try:
        root = parse_rels(_text(archive, "_rels/.rels", budget), "") if "_rels/.rels" in names else []
        part = next((r["target"] for r in root if r["type"].endswith("/officeDocument")), "xl/workbook.xml")
        workbook = _text(archive, part, budget)
        rels = parse_rels(_text(archive, rels_name(part), budget), posixpath.dirname(part))
        by_id = {r["id"]: r for r in rels}
        p = re.escape(root_prefix(workbook, "workbook"))
        sheet = ""
        for match in re.finditer(rf"<{p}sheet\b([^>]*?)/?>", workbook):
            rel = by_id.get(next((v for k, v in attributes(match.group(1)).items() if k.endswith(":id")), ""))
            if rel and rel["type"].endswith("/worksheet") and rel["target"] in names:
                sheet = rel["target"]
                break
        flags = re.search(rf"<{p}workbookPr\b([^>]*?)/?>", workbook)
        date1904 = attributes(flags.group(1)).get("date1904", "").lower() in ("1", "true") if flags else False
        target = {kind: next((r["target"] for r in rels if r["type"].endswith("/" + kind)), "")
                  for kind in ("sharedStrings", "styles")}
        shared = (parse_shared_strings(_text(archive, target["sharedStrings"], budget))
                  if target["sharedStrings"] in names else [])
        styles = (parse_date_styles(_text(archive, target["styles"], budget)) if target["styles"] in names
                  else frozenset())
    except (KeyError, BadPackage, AttributeError, ValueError) as error:
        if isinstance(error, UploadRefused):
            raise
        raise UploadRefused("Le classeur Excel ne peut pas être lu : sa structure est endommagée.") from None
    if not sheet:
        raise UploadRefused("Le classeur ne contient aucune feuille de calcul.")
    return sheet, Context(shared=shared, date_styles=styles, date1904=date1904)


# ---- the sheet ------------------------------------------------------------------------------------------------


def _check_dimension(head: str, bounds: Bounds) -> None:
    """The sheet says how big it is before its rows: a sheet declared beyond the limits is refused unread."""
    found = _DIMENSION.search(head)
    last = _LAST_CELL.search(found.group(1).split(":")[-1].strip()) if found else None
    if not last:
        return
    columns, rows = _column_number(last.group(1)), int(last.group(2))
    if rows > bounds.max_rows + 1 or columns > bounds.max_columns:
        raise UploadRefused(
            f"La feuille déclare {_number(rows)} ligne(s) et {_number(columns)} colonne(s) (dimension "
            f"« {found.group(1)[:40]} ») : l'import en accepte au plus {_number(bounds.max_rows)} lignes de données "
            f"(plus la ligne d'en-tête) et {_number(bounds.max_columns)} colonnes. Supprimez les lignes et colonnes "
            "inutiles (ou découpez le fichier), puis réessayez.")


def _check_row_shape(number: int, inner: str, bounds: Bounds) -> None:
    """Before a row's cells are decoded: no column beyond the limit (explicit addresses, or counted)."""
    widest = max((_column_number(letters) for letters in _CELL_REF.findall(inner) if len(letters) <= 3),
                 default=0)
    if any(len(letters) > 3 for letters in _CELL_REF.findall(inner)):
        widest = bounds.max_columns + 1
    widest = max(widest, len(_CELL_OPEN.findall(inner)))
    if widest > bounds.max_columns:
        raise UploadRefused(f"Ligne {_number(number)} : une cellule au-delà de la colonne "
                            f"{column_letter(bounds.max_columns - 1)} ; l'import accepte au plus "
                            f"{_number(bounds.max_columns)} colonnes.")


def _check_cells(number: int, texts: list[str], bounds: Bounds) -> None:
    for col, text in enumerate(texts):
        where = f"Ligne {_number(number)}, colonne {column_letter(col)}"
        if len(text) > bounds.max_cell_chars:
            raise UploadRefused(f"{where} : cellule de {_number(len(text))} caractères ; l'import en accepte au plus "
                                f"{_number(bounds.max_cell_chars)} par cellule.")
        bad = _NOT_TEXT.search(text)
        if bad:
            raise UploadRefused(f"{where} : caractère invalide (U+{ord(bad.group()):04X}) ; corrigez la cellule "
                                "puis réessayez.")


def _sheet_rows(chunks: Iterator[str], ctx: Context, bounds: Bounds) -> Iterator[tuple[int, list[str]]]:
    buffer, prefix, started, number, filled = "", None, False, 0, 0
    for chunk in chunks:
        buffer += chunk
        if not started:
            if prefix is None:
                try:
                    prefix = root_prefix(buffer, "worksheet")
                except BadPackage:
                    if len(buffer) > CHUNK:
                        raise UploadRefused(_DAMAGED_SHEET + ".") from None
                    continue
            start = re.search(rf"<{re.escape(prefix)}sheetData\b[^>]*?(/?)>", buffer)
            if not start:
                if len(buffer) > 4 * CHUNK:  # the head of a sheet (columns, views) is small
                    raise UploadRefused(_DAMAGED_SHEET + ".")
                continue
            _check_dimension(buffer[:start.start()], bounds)
            if start.group(1):
                return
            buffer, started = buffer[start.end():], True
        end = buffer.find(f"</{prefix}sheetData>")
        done = end >= 0
        cut = end if done else buffer.rfind(f"</{prefix}row>")
        if cut < 0:
            continue
        cut = cut if done else cut + len(f"</{prefix}row>")
        body, buffer = buffer[:cut], buffer[cut:]
        pats = patterns(prefix)
        try:
            for _, start_tag, inner in _split_rows(body, prefix):
                found = _ROW_NUMBER.search(start_tag)
                number = int(found.group(1)) if found else number + 1
                _check_row_shape(number, inner, bounds)
                texts = row_texts(inner, pats, ctx)
                if not any(t.strip() for t in texts):
                    continue
                filled += 1
                if filled > bounds.max_rows + 1:
                    raise UploadRefused(f"Le fichier compte plus de {_number(bounds.max_rows)} lignes de données : "
                                        "découpez-le en plusieurs fichiers.")
                _check_cells(number, texts, bounds)
                yield number, texts
        except (BadPackage, ValueError, IndexError) as error:
            if isinstance(error, UploadRefused):
                raise
            raise UploadRefused(f"{_DAMAGED_SHEET} (vers la ligne {_number(number + 1)}).") from None
        if done:
            return
    if not started:
        raise UploadRefused(_DAMAGED_SHEET + ".")


def sheet_rows(data: bytes, bounds: Bounds) -> Iterator[tuple[int, list[str]]]:
    """(row number, cell texts by column) for each row holding text of the first sheet, in file order.

    Raises UploadRefused (French) as soon as a bound is passed, possibly after some rows were produced: the
    caller must not act on rows before the iteration ends.
    """
    archive = _members(data, bounds)
    budget = _Budget(bounds)
    part, ctx = _first_sheet(archive, budget)
    yield from _sheet_rows(_chunks(archive, part, budget), ctx, bounds)
