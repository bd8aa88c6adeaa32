"""Fast .xlsx plumbing for the local workbook: raw zip members, sheets as row fragments, cell text.

Why not openpyxl for every write: loading and saving a workbook of 5,000 rows per tab takes seconds. Here a
sheet is parsed once into the original XML of each row plus the text of its cells; a write re-serializes only
the rows it changes, deflates that one sheet and copies the compressed bytes of every other zip member as is.
Rows the app does not touch keep their exact XML (styles, numbers, formulas); cells the app writes become
inline strings, so text such as "0612345678" or "=SUM(A1:A3)" stays text.

Only the subset of SpreadsheetML needed to read values is understood (shared strings, inline strings, numbers,
booleans, dates by number format, formula results). Elements are matched with regular expressions, which is
safe for the well-formed XML that Excel, LibreOffice and openpyxl write and much faster than a DOM.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import html
import io
import os
import posixpath
import re
import stat
import struct
import tempfile
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import time as day_time
from functools import cache, lru_cache
from pathlib import Path

from openpyxl.styles.numbers import is_date_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

from .cells import column_letter


class BadPackage(ValueError):
    """The file is not a readable .xlsx package."""


# ---- zip members ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    name: str
    crc: int
    size: int  # uncompressed
    method: int  # zipfile.ZIP_STORED or ZIP_DEFLATED
    raw: bytes  # the bytes as stored in the zip (compressed)
    date_time: tuple = (1980, 1, 1, 0, 0, 0)

    @property
    def key(self) -> tuple[int, int]:
        return self.crc, self.size

    def data(self) -> bytes:
        if self.method == zipfile.ZIP_STORED:
            return self.raw
        if self.method == zipfile.ZIP_DEFLATED:
            return zlib.decompress(self.raw, -15)
        raise BadPackage(f"{self.name}: compression {self.method} not supported")

    def text(self) -> str:
        return self.data().decode("utf-8-sig")


def deflated(name: str, payload: bytes, level: int = 1) -> Member:
    """A new member; level 1 because a 10 MB sheet then deflates in ~50 ms instead of ~120 ms."""
    packer = zlib.compressobj(level, zlib.DEFLATED, -15)
    raw = packer.compress(payload) + packer.flush()
    return Member(name, zlib.crc32(payload), len(payload), zipfile.ZIP_DEFLATED, raw, time.localtime()[:6])


def read_members(blob: bytes) -> dict[str, Member]:
    """Every member of a zip held in memory, in archive order, without decompressing anything."""
    try:
        infos = zipfile.ZipFile(io.BytesIO(blob)).infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise BadPackage(str(error)) from None
    members = {}
    for info in infos:
        start = info.header_offset
        header = blob[start:start + 30]
        if len(header) < 30 or header[:4] != b"PK\x03\x04" or info.flag_bits & 1:
            raise BadPackage(f"{info.filename}: bad or encrypted entry")
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        begin = start + 30 + name_len + extra_len
        raw = blob[begin:begin + info.compress_size]
        if len(raw) != info.compress_size:
            raise BadPackage(f"{info.filename}: truncated")
        members[info.filename] = Member(info.filename, info.CRC, info.file_size, info.compress_type, raw,
                                        info.date_time)
    return members


def _dos_time(date_time: tuple) -> tuple[int, int]:
    year, month, day, hour, minute, second = date_time
    year = min(max(year, 1980), 2107)
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


def zip_bytes(members: list[Member]) -> bytes:
    """Write a zip from already-compressed members (no zip64: an .xlsx stays far below 4 GB)."""
    out, central = bytearray(), bytearray()
    for m in members:
        name = m.name.encode("utf-8")
        flags = 0 if m.name.isascii() else 0x800
        clock, day = _dos_time(m.date_time)
        if len(out) > 0xFFFFFFF0 or len(m.raw) > 0xFFFFFFF0 or m.size > 0xFFFFFFF0:
            raise BadPackage("workbook too large for a plain zip")
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, flags, m.method, clock, day, m.crc,
                               len(m.raw), m.size, len(name), 0, 0, 0, 0, 0, len(out)) + name
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, m.method, clock, day, m.crc, len(m.raw),
                           m.size, len(name), 0) + name
        out += m.raw
    count = len(members)
    out_len = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(central), out_len, 0)
    return bytes(out)


def write_atomic(path: Path, payload: bytes) -> None:
    """Temp file in the same folder, fsync, os.replace: readers see the old or the new file, never a mix."""
    tmp, _ = _temp_copy(path, payload)
    try:
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise
    _sync_folder(path)


def _temp_copy(path: Path, payload: bytes) -> tuple[str, os.stat_result]:
    """`payload` in a durable temp file beside `path`, with `path`'s permissions; and its stat (a rename keeps
    inode and mtime, so this is the identity the file will have once renamed)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
            with contextlib.suppress(FileNotFoundError):
                os.fchmod(handle.fileno(), stat.S_IMODE(os.stat(path).st_mode))
            info = os.fstat(handle.fileno())
    except BaseException:
        _unlink(tmp)
        raise
    return tmp, info


def _unlink(name: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(name)


def _sync_folder(path: Path) -> None:
    with contextlib.suppress(OSError):  # make the rename itself durable (not possible on every OS)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


# ---- the file as read, and replacing it only if it is still that file ----------------------------------------

# A same-size save within this many seconds of the last one may share its mtime (coarse clocks, FAT, SMB):
# stat alone is then not proof that the bytes are unchanged, so they are compared.
DOUBT_S = 2.0


@dataclass(frozen=True)
class FileState:
    """The file as read: its identity (inode, size, mtime) and its bytes."""

    device: int
    inode: int
    size: int
    mtime_ns: int
    data: bytes = field(repr=False)

    def same_identity(self, info: os.stat_result) -> bool:
        return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns) == (
            self.device, self.inode, self.size, self.mtime_ns)


def read_state(path: Path) -> FileState:
    """Bytes and identity of one and the same version of the file (a save during the read is retried)."""
    for _ in range(5):
        with open(path, "rb") as handle:
            before = os.fstat(handle.fileno())
            data = handle.read()
            after = os.fstat(handle.fileno())
        if (before.st_ino, before.st_size, before.st_mtime_ns) == (after.st_ino, len(data), after.st_mtime_ns):
            return FileState(after.st_dev, after.st_ino, after.st_size, after.st_mtime_ns, data)
        time.sleep(0.05)
    raise BadPackage("the file keeps changing while it is read")


def unchanged(path: Path | str, state: FileState) -> bool:
    """Is the file at `path` still the one read? stat first; the bytes when stat cannot tell."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return False
    if info.st_size != state.size:
        return False
    if state.same_identity(info) and time.time() - info.st_mtime_ns / 1e9 > DOUBT_S:
        return True
    with open(path, "rb") as handle:
        return handle.read() == state.data


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


@cache
def _renameat2():
    try:
        return ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None


def _exchange(a: str, b: str) -> bool:
    """Swap two names atomically (Linux renameat2); False where the system or file system cannot."""
    swap = _renameat2()
    if swap is None:
        return False
    if swap(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EPERM):
        return False
    raise OSError(code, os.strerror(code), b)


def replace_if_unchanged(path: Path, payload: bytes, state: FileState) -> FileState | None:
    """Replace the file by `payload` only if it is still the one read: the new file's state, or None (nothing
    written) when someone saved it in between.

    The check is made right before the swap. Where the system can swap two names atomically (Linux), the file
    displaced by the swap is checked too: a save that landed between the check and the swap is put back.
    Elsewhere that gap (microseconds) remains.
    """
    tmp, info = _temp_copy(path, payload)
    mine = FileState(info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, payload)
    try:
        if not unchanged(path, state):
            return None
        if not _exchange(tmp, str(path)):
            os.replace(tmp, path)
        elif not unchanged(tmp, state):  # the swap displaced a save made after the check: put it back
            if os.stat(path).st_ino == mine.inode:
                _exchange(tmp, str(path))
            return None
        _sync_folder(path)
        return mine
    finally:
        _unlink(tmp)


# ---- cell text ---------------------------------------------------------------------------------------------

_ESCAPE_NEEDED = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_x[0-9A-Fa-f]{4}_")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_LITERAL_ESCAPE = re.compile("_(?=x[0-9A-Fa-f]{4}_)")
_OOXML_ESCAPE = re.compile("_x([0-9A-Fa-f]{4})_")
_CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.S)


def escape_text(text: str) -> str:
    """Text → XML content; characters XML cannot hold use Excel's _xHHHH_ escape."""
    if not _ESCAPE_NEEDED.search(text):
        return text
    text = _LITERAL_ESCAPE.sub("_x005F_", text)
    text = _NOT_XML.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\r", "&#13;")  # a raw CR would become LF in any XML parser


def unescape_text(raw: str) -> str:
    if "\r" in raw:  # XML end-of-line normalization, as a parser would do
        raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    if "<!" in raw:
        raw = _CDATA.sub(lambda m: m.group(1).replace("&", "&amp;").replace("<", "&lt;"), raw)
    if "&" in raw:
        raw = html.unescape(raw)  # XML's five entities and character references
    if "_x" in raw:
        raw = _OOXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), raw)
    return raw


@cache
def col_index(letters: str) -> int:
    value = 0
    for char in letters:
        value = value * 26 + ord(char) - 64
    return value - 1


def number_text(raw: str) -> str:
    """612345678.0 → "612345678"; other numbers in their shortest form."""
    try:
        value = float(raw)
    except ValueError:
        return raw.strip()
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def serial_text(serial: float, date1904: bool) -> str:
    """A date serial shown with a date format → "YYYY-MM-DD", "YYYY-MM-DD HH:MM:SS" or "HH:MM"."""
    value = from_excel(serial, CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900)
    if isinstance(value, day_time):
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")
    if (value.hour, value.minute, value.second) == (0, 0, 0):
        return value.strftime("%Y-%m-%d")
    return value.strftime("%Y-%m-%d %H:%M:%S")


# ---- element patterns (per namespace prefix: "" almost always, "x:" for some generators) -------------------

_ATTR = re.compile(r"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_REF = re.compile(r"([A-Z]+)(\d*)")
_COL = re.compile(r"<(?:\w+:)?col\b([^>]*?)/?>")


def attributes(text: str) -> dict[str, str]:
    found = {m.group(1): m.group(2) if m.group(3) is None else m.group(3) for m in _ATTR.finditer(text)}
    if "&" in text:
        found = {k: html.unescape(v) for k, v in found.items()}
    return found


@dataclass(frozen=True)
class _Patterns:
    prefix: str
    row: re.Pattern
    cell: re.Pattern
    value: re.Pattern
    inline: re.Pattern
    text: re.Pattern
    phonetic: re.Pattern
    formula: re.Pattern
    fast_cell: re.Pattern


@lru_cache(maxsize=8)
def patterns(prefix: str) -> _Patterns:
    p = re.escape(prefix)
    return _Patterns(
        prefix=prefix,
        row=re.compile(rf"<{p}row\b([^>]*?)(?:/>|>(.*?)</{p}row>)", re.S),
        cell=re.compile(rf"<{p}c\b([^>]*?)(?:/>|>(.*?)</{p}c>)", re.S),
        value=re.compile(rf"<{p}v(?:\s[^>]*)?>(.*?)</{p}v>", re.S),
        inline=re.compile(rf"<{p}is\b[^>]*>(.*?)</{p}is>", re.S),
        text=re.compile(rf"<{p}t(?:\s[^>]*)?>(.*?)</{p}t>", re.S),
        phonetic=re.compile(rf"<{p}rPh\b.*?</{p}rPh>", re.S),
        formula=re.compile(rf"<{p}f\b", re.S),
        # column letters, style, type, then <v>, a plain inline string, or any other content
        # the whole cell; column letters, style and type in the usual order; any other attributes;
        # then <v>, a plain inline string, or any other content
        fast_cell=re.compile(
            rf'(<{p}c(?=[\s/>])(?: r="([A-Z]+)\d*")?(?: s="(\d+)")?(?: t="(\w+)")?([^>]*?)'
            rf'(?:/>|>(?:<{p}v>([^<]*)</{p}v>|<{p}is><{p}t(?:\s[^>]*)?>([^<]*)</{p}t></{p}is>|(.*?))</{p}c>))',
            re.S),
    )


def root_prefix(xml: str, root: str) -> str:
    match = re.search(rf"<(\w+:)?{root}\b", xml)
    if not match:
        raise BadPackage(f"<{root}> not found")
    return match.group(1) or ""


def rich_text(inner: str, pats: _Patterns) -> str:
    """Text of a string item, plain or rich, without the phonetic runs."""
    if "rPh" in inner:
        inner = pats.phonetic.sub("", inner)
    return "".join(unescape_text(t) for t in pats.text.findall(inner))


# ---- workbook-level parts ------------------------------------------------------------------------------------

_DATE_FORMAT_IDS = set(range(14, 23)) | set(range(27, 37)) | set(range(45, 48)) | set(range(50, 59))
_RELATION = re.compile(r"<(?:\w+:)?Relationship\b([^>]*?)/?>")


def parse_rels(xml: str, base: str) -> list[dict[str, str]]:
    """Relationships with `Target` resolved to a zip member name."""
    rels = []
    for match in _RELATION.finditer(xml):
        attrs = attributes(match.group(1))
        target = attrs.get("Target", "")
        if attrs.get("TargetMode") != "External":
            target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))
        rels.append({"id": attrs.get("Id", ""), "type": attrs.get("Type", ""), "target": target})
    return rels


def rels_name(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def parse_shared_strings(xml: str) -> list[str]:
    pats = patterns(root_prefix(xml, "sst"))
    item = re.compile(rf"<{re.escape(pats.prefix)}si\b[^>]*?(?:/>|>(.*?)</{re.escape(pats.prefix)}si>)", re.S)
    return [rich_text(m.group(1) or "", pats) for m in item.finditer(xml)]


def parse_date_styles(xml: str) -> frozenset[int]:
    """Indexes of the cell formats (xf) that show numbers as dates or times."""
    p = re.escape(root_prefix(xml, "styleSheet"))
    custom = {}
    for match in re.finditer(rf"<{p}numFmt\b([^>]*?)/?>", xml):
        attrs = attributes(match.group(1))
        custom[int(attrs.get("numFmtId", "-1"))] = attrs.get("formatCode", "")
    block = re.search(rf"<{p}cellXfs\b[^>]*>(.*?)</{p}cellXfs>", xml, re.S)
    dates = set()
    for index, match in enumerate(re.finditer(rf"<{p}xf\b([^>]*?)/?>", block.group(1) if block else "")):
        fmt_id = int(attributes(match.group(1)).get("numFmtId", "0"))
        if fmt_id in _DATE_FORMAT_IDS or (fmt_id in custom and is_date_format(custom[fmt_id])):
            dates.add(index)
    return frozenset(dates)


@dataclass(frozen=True)
class Context:
    """What cell parsing needs from the rest of the package."""

    shared: list[str] = field(default_factory=list)
    date_styles: frozenset[int] = frozenset()
    date1904: bool = False


# ---- sheets ----------------------------------------------------------------------------------------------------


@dataclass
class Sheet:
    """One worksheet: the XML around <sheetData>, and per row (index = row number - 1) its XML and cell texts."""

    prefix: str
    head: str  # up to and including the <sheetData> start tag
    tail: str  # from </sheetData> to the end
    rows: list[str]  # row XML, "" for a row absent from the file
    texts: list[list[str]]  # cell texts by 0-based column

    @property
    def column_styles(self) -> dict[int, str]:
        """0-based column -> the style of its <col> (init sets text format "@" there): new cells take it, so a
        person retyping in a cell the app wrote gets the column's format, as in a cell they created."""
        styles: dict[int, str] = {}
        for match in _COL.finditer(self.head):
            attrs = attributes(match.group(1))
            if attrs.get("style") and attrs.get("min") and attrs.get("max"):
                for col in range(int(attrs["min"]) - 1, min(int(attrs["max"]), 16384)):
                    styles[col] = attrs["style"]
        return styles

    def to_xml(self) -> str:
        last_col = max((len(t) for t in self.texts), default=0)
        ref = f"A1:{column_letter(max(last_col, 1) - 1)}{max(len(self.rows), 1)}"
        head = re.sub(rf'(<{re.escape(self.prefix)}dimension\b[^>]*?\bref=)"[^"]*"', rf'\g<1>"{ref}"', self.head,
                      count=1)
        return "".join([head, *self.rows, self.tail])

    def last_filled(self) -> int:
        """Number of the last row holding some text (0 when even the header row is empty)."""
        for index in range(len(self.texts) - 1, -1, -1):
            if any(t.strip() for t in self.texts[index]):
                return index + 1
        return 0

    def _grow(self, number: int) -> None:
        while len(self.rows) < number:
            self.rows.append("")
            self.texts.append([])

    def put_row(self, number: int, texts: list[str]) -> None:
        """Write a whole row (used to append): the previous XML of that row, if any, is replaced."""
        self._grow(number)
        self.rows[number - 1] = render_row(self.prefix, number, texts, self.column_styles)
        self.texts[number - 1] = list(texts)

    def set_cells(self, number: int, changes: dict[int, str]) -> None:
        """Change some cells of a row; its other cells keep their exact XML."""
        if not changes:
            return
        self._grow(number)
        self.rows[number - 1] = modify_row(self.prefix, self.rows[number - 1], number, changes, self.column_styles)
        texts = self.texts[number - 1]
        texts.extend([""] * (max(changes) + 1 - len(texts)))
        for col, text in changes.items():
            texts[col] = text

    def delete_rows(self, numbers: list[int]) -> None:
        """Remove rows; the rows below move up, as when deleting rows in a spreadsheet program."""
        doomed = set(numbers)
        keep = [i for i in range(len(self.rows)) if i + 1 not in doomed]
        first = min(doomed) - 1
        self.rows = [self.rows[i] for i in keep]
        self.texts = [self.texts[i] for i in keep]
        for index in range(first, len(self.rows)):
            if self.rows[index]:
                self.rows[index] = renumber_row(self.prefix, self.rows[index], index + 1, self.texts[index])


def parse_sheet(xml: str, ctx: Context) -> Sheet:
    prefix = root_prefix(xml, "worksheet")
    p = re.escape(prefix)
    start = re.search(rf"<{p}sheetData\b[^>]*?(/?)>", xml)
    if not start:
        raise BadPackage("<sheetData> not found")
    if start.group(1):
        head, body, tail = xml[:start.start()] + f"<{prefix}sheetData>", "", f"</{prefix}sheetData>" + xml[start.end():]
    else:
        end = xml.find(f"</{prefix}sheetData>", start.end())
        if end < 0:
            raise BadPackage("</sheetData> not found")
        head, body, tail = xml[:start.end()], xml[start.end():end], xml[end:]
    sheet = Sheet(prefix, head, tail, [], [])
    pats = patterns(prefix)
    number = 0
    for whole, start_tag, inner in _split_rows(body, prefix):
        found = re.search(r'\sr="(\d+)"', start_tag)
        number = int(found.group(1)) if found else number + 1
        sheet._grow(number)
        sheet.rows[number - 1] = whole
        sheet.texts[number - 1] = row_texts(inner, pats, ctx)
    return sheet


def _split_rows(body: str, prefix: str):
    """(row XML, start tag, inner XML) for each <row>; plain find() is much faster than a regex here."""
    opening, closing = f"<{prefix}row", f"</{prefix}row>"
    at = body.find(opening)
    while at >= 0:
        tag_end = body.find(">", at) + 1
        if body[at + len(opening):at + len(opening) + 1] not in (" ", "\t", "\r", "\n", "/", ">") or not tag_end:
            at = body.find(opening, at + 1)
            continue
        start_tag = body[at:tag_end]
        if start_tag.endswith("/>"):
            yield start_tag, start_tag, ""
            at = body.find(opening, tag_end)
            continue
        end = body.find(closing, tag_end)
        if end < 0:
            raise BadPackage("</row> not found")
        yield body[at:end + len(closing)], start_tag, body[tag_end:end]
        at = body.find(opening, end)


def row_texts(inner: str, pats: _Patterns, ctx: Context) -> list[str]:
    """Texts of a row's cells, by 0-based column."""
    texts: list[str] = []
    col = -1
    for whole, letters, style, kind, rest, value, inline, other in pats.fast_cell.findall(inner):
        if rest.strip():  # unusual attributes or attribute order: the general path
            match = pats.cell.match(whole)
            attrs = attributes(match.group(1))
            ref = attrs.get("r")
            col = col_index(_REF.match(ref).group(1)) if ref else col + 1
            text = cell_text(attrs, match.group(2), pats, ctx)
        else:
            col = col_index(letters) if letters else col + 1
            text = _usual_cell_text(style, kind, value, inline, other, pats, ctx)
        if text:
            if len(texts) <= col:
                texts.extend([""] * (col + 1 - len(texts)))
            texts[col] = text
    return texts


def _usual_cell_text(style: str, kind: str, value: str, inline: str, other: str, pats: _Patterns,
                     ctx: Context) -> str:
    """The common shapes decoded straight from the regex groups (most cells of a 5,000-row sheet)."""
    if other:
        return cell_text({"t": kind or "n", "s": style}, other, pats, ctx)
    if kind == "s":
        index = int(value) if value.isdigit() else -1
        return ctx.shared[index] if 0 <= index < len(ctx.shared) else ""
    if kind == "inlineStr":
        return unescape_text(inline)
    if not value:
        return ""
    if kind in ("", "n") and not (style and int(style) in ctx.date_styles):
        return value if value.isdigit() and (len(value) == 1 or value[0] != "0") else number_text(value)
    return cell_text({"t": kind or "n", "s": style}, f"<{pats.prefix}v>{value}</{pats.prefix}v>", pats, ctx)


def cell_text(attrs: dict[str, str], inner: str | None, pats: _Patterns, ctx: Context) -> str:
    if not inner:
        return ""
    kind = attrs.get("t", "n")
    if kind == "inlineStr":
        found = pats.inline.search(inner)
        return rich_text(found.group(1), pats) if found else ""
    found = pats.value.search(inner)
    if not found:
        return ""
    raw = found.group(1)
    if kind == "s":
        index = int(raw) if raw.strip().isdigit() else -1
        return ctx.shared[index] if 0 <= index < len(ctx.shared) else ""
    if kind in ("str", "e"):
        return unescape_text(raw)
    if kind == "b":
        return "oui" if raw.strip() in ("1", "true") else "non"
    if kind == "d":
        text = raw.strip().replace("T", " ")[:19]
        return text[:10] if text.endswith("00:00:00") or len(text) == 10 else text
    style = attrs.get("s")
    if style and int(style) in ctx.date_styles:
        with contextlib.suppress(ValueError, OverflowError):
            serial = float(raw)
            if serial >= 0:
                return serial_text(serial, ctx.date1904)
    return number_text(raw)


# ---- writing rows ---------------------------------------------------------------------------------------------


def render_cell(prefix: str, ref: str, text: str, style: str = "") -> str:
    """A text cell as an inline string (never a formula); "" when empty and unstyled."""
    styled = f' s="{style}"' if style else ""
    if not text:
        return f'<{prefix}c r="{ref}"{styled}/>' if style else ""
    space = ' xml:space="preserve"' if text[0].isspace() or text[-1].isspace() else ""
    p = prefix
    return f'<{p}c r="{ref}"{styled} t="inlineStr"><{p}is><{p}t{space}>{escape_text(text)}</{p}t></{p}is></{p}c>'


def render_row(prefix: str, number: int, texts: list[str], styles: dict[int, str] | None = None) -> str:
    styles = styles or {}
    cells = "".join(render_cell(prefix, f"{column_letter(col)}{number}", text, styles.get(col, ""))
                    for col, text in enumerate(texts) if text)
    return f'<{prefix}row r="{number}">{cells}</{prefix}row>'


def _split_row(prefix: str, raw: str, number: int) -> tuple[str, dict[int, str]]:
    """A row's start tag (without the optional `spans` hint, which could become wrong) and its cells by column."""
    if not raw:
        return f'<{prefix}row r="{number}">', {}
    pats = patterns(prefix)
    match = pats.row.match(raw)
    attrs = re.sub(r'\s+spans="[^"]*"', "", match.group(1).rstrip("/"))
    cells: dict[int, str] = {}
    col = -1
    for cell in pats.cell.finditer(match.group(2) or ""):
        ref = attributes(cell.group(1)).get("r")
        col = col_index(_REF.match(ref).group(1)) if ref else col + 1
        xml = cell.group(0)
        if not ref:  # give it an explicit address: cells inserted before it must not shift it
            xml = f'<{prefix}c r="{column_letter(col)}{number}"' + xml[len(prefix) + 2:]
        cells[col] = xml
    return f"<{prefix}row{attrs}>", cells


def _style_of(cell_xml: str | None) -> str:
    if not cell_xml:
        return ""
    found = re.search(r'\ss="(\d+)"', cell_xml[:cell_xml.find(">") + 1])
    return found.group(1) if found else ""


def modify_row(prefix: str, raw: str, number: int, changes: dict[int, str],
               styles: dict[int, str] | None = None) -> str:
    """Replace some cells of a row (keeping each replaced cell's style, else the column's); the other cells are
    untouched."""
    start, cells = _split_row(prefix, raw, number)
    for col, text in changes.items():
        style = _style_of(cells.get(col)) or (styles or {}).get(col, "")
        cell = render_cell(prefix, f"{column_letter(col)}{number}", text, style)
        if cell:
            cells[col] = cell
        else:
            cells.pop(col, None)
    return start + "".join(cells[c] for c in sorted(cells)) + f"</{prefix}row>"


def renumber_row(prefix: str, raw: str, number: int, texts: list[str]) -> str:
    """Move a row to a new number; formulas become their last value (their references would be stale)."""
    start, cells = _split_row(prefix, raw, number)
    start = re.sub(r'\br="\d+"', f'r="{number}"', start, count=1)
    if 'r="' not in start:
        start = start[:-1] + f' r="{number}">'
    pats = patterns(prefix)
    out = []
    for col in sorted(cells):
        cell = cells[col]
        if pats.formula.search(cell):
            text = texts[col] if col < len(texts) else ""
            cell = render_cell(prefix, f"{column_letter(col)}{number}", text, _style_of(cell))
        else:
            cell = re.sub(r'(\sr=")([A-Z]+)\d+"', rf'\g<1>\g<2>{number}"', cell, count=1)
        out.append(cell)
    return start + "".join(out) + f"</{prefix}row>"


# ---- the package ----------------------------------------------------------------------------------------------

_CONTENT_TYPES = "[Content_Types].xml"


class Package:
    """An .xlsx file as raw zip members plus lazily parsed sheets.

    `load` compares the members' CRCs with the previous load: sheets whose bytes did not change keep their parsed
    model (an app write changes one sheet); any change elsewhere (shared strings, styles…) reparses everything.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.members: dict[str, Member] = {}
        self.sheet_parts: dict[str, str] = {}  # sheet title -> member name
        self.ctx = Context()
        self._workbook_rels = ""
        self._calc_chain = ""
        self._parsed: dict[str, Sheet] = {}  # member name -> parsed sheet

    def load(self, blob: bytes) -> None:
        members = read_members(blob)
        changed = {n for n, m in members.items() if n not in self.members or self.members[n].key != m.key}
        changed |= set(self.members) - set(members)
        if not changed:
            return
        # document properties (where the app's write marker lives) do not affect how cells read
        structural = {n for n in changed - set(self.sheet_parts.values()) if not n.startswith("docProps/")}
        self.members = members
        try:
            if structural or not self.sheet_parts:
                self._parsed = {}
                self._parse_workbook()
            for name in changed:
                self._parsed.pop(name, None)
        except (KeyError, ValueError, UnicodeDecodeError, AttributeError) as error:
            self.reset()
            raise BadPackage(f"{type(error).__name__}: {error}") from None

    def _parse_workbook(self) -> None:
        root = parse_rels(self.members["_rels/.rels"].text(), "")
        part = next((r["target"] for r in root if r["type"].endswith("/officeDocument")), "xl/workbook.xml")
        xml = self.members[part].text()
        self._workbook_rels = rels_name(part)
        rels = parse_rels(self.members[self._workbook_rels].text(), posixpath.dirname(part))
        by_id = {r["id"]: r for r in rels}
        target = {kind: next((r["target"] for r in rels if r["type"].endswith("/" + kind)), "")
                  for kind in ("sharedStrings", "styles", "calcChain")}
        p = re.escape(root_prefix(xml, "workbook"))
        self.sheet_parts = {}
        for match in re.finditer(rf"<{p}sheet\b([^>]*?)/?>", xml):
            attrs = attributes(match.group(1))
            rel = by_id.get(next((v for k, v in attrs.items() if k.endswith(":id")), ""))
            if rel and rel["type"].endswith("/worksheet") and rel["target"] in self.members:
                self.sheet_parts[attrs.get("name", "")] = rel["target"]
        flags = re.search(rf"<{p}workbookPr\b([^>]*?)/?>", xml)
        date1904 = attributes(flags.group(1)).get("date1904", "").lower() in ("1", "true") if flags else False
        shared = target["sharedStrings"]
        styles = target["styles"]
        self.ctx = Context(
            shared=parse_shared_strings(self.members[shared].text()) if shared in self.members else [],
            date_styles=parse_date_styles(self.members[styles].text()) if styles in self.members else frozenset(),
            date1904=date1904,
        )
        self._calc_chain = target["calcChain"] if target["calcChain"] in self.members else ""

    def title(self, name: str) -> str | None:
        """The sheet's title in the file: exact, else ignoring case and surrounding spaces (as Excel compares)."""
        if name in self.sheet_parts:
            return name
        wanted = name.strip().casefold()
        return next((t for t in self.sheet_parts if t.strip().casefold() == wanted), None)

    def parsed(self, name: str) -> Sheet | None:
        """The sheet if it is already parsed (no work)."""
        title = self.title(name)
        return self._parsed.get(self.sheet_parts[title]) if title is not None else None

    def sheet(self, name: str) -> Sheet | None:
        title = self.title(name)
        if title is None:
            return None
        part = self.sheet_parts[title]
        if part not in self._parsed:
            try:
                self._parsed[part] = parse_sheet(self.members[part].text(), self.ctx)
            except (ValueError, UnicodeDecodeError, AttributeError, zlib.error) as error:
                raise BadPackage(f"{part}: {error}") from None
        return self._parsed[part]

    def store(self, name: str) -> None:
        """Re-serialize one parsed sheet into its member."""
        part = self.sheet_parts[self.title(name)]
        self.members[part] = deflated(part, self._parsed[part].to_xml().encode("utf-8"))
        self._drop_calc_chain()

    def _drop_calc_chain(self) -> None:
        """Excel's formula cache index would point at cells that are no longer formulas; Excel rebuilds it."""
        part = self._calc_chain
        if not part:
            return
        self._calc_chain = ""
        self.members.pop(part, None)
        types = re.sub(rf'<(\w+:)?Override\b[^>]*?PartName="/{re.escape(part)}"[^>]*?/>', "",
                       self.members[_CONTENT_TYPES].text())
        self.members[_CONTENT_TYPES] = deflated(_CONTENT_TYPES, types.encode("utf-8"), 6)
        rels = re.sub(r'<(\w+:)?Relationship\b[^>]*?Type="[^"]*/calcChain"[^>]*?/>', "",
                      self.members[self._workbook_rels].text())
        self.members[self._workbook_rels] = deflated(self._workbook_rels, rels.encode("utf-8"), 6)

    def to_bytes(self) -> bytes:
        return zip_bytes(list(self.members.values()))
