"""Who has the workbook open in Excel or LibreOffice, from the lock files those programs leave beside it.

- Excel writes « ~$<name> » (the owner file): a length byte and the user name in the ANSI code page, padded to
  54 bytes, then a 16-bit length and the same name in UTF-16 (165 bytes in all).
- LibreOffice writes « .~lock.<name># »: one line « full name,host,system user,dd.mm.yyyy hh:mm,profile; »
  where a comma, a semicolon or a backslash inside a field is escaped by a backslash.

Both programs delete their lock file on closing; a crash can leave it behind, which the message says.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .. import errors
from ..domain.values import PARIS
from .base import StoreError


@dataclass(frozen=True)
class Holder:
    program: str  # "Excel" or "LibreOffice"
    user: str  # "" when the lock file does not say
    host: str
    since: datetime | None  # when the file was opened, Paris time
    lock_file: Path


class WorkbookOpen(StoreError, errors.Unavailable):
    """A write refused because a person has the workbook open in a spreadsheet program."""

    def __init__(self, workbook: Path, holder: Holder):
        self.holder = holder
        who = f" par {holder.user}" if holder.user else ""
        where = f" (poste {holder.host})" if holder.host else ""
        since = f" depuis le {holder.since:%d/%m/%Y à %H:%M}" if holder.since else ""
        super().__init__(
            f"Le classeur « {workbook.name} » est ouvert dans {holder.program}{who}{where}{since}. Rien n'a été "
            "enregistré : l'application n'écrit pas dans un classeur ouvert, car l'enregistrer ensuite effacerait "
            f"ses écritures. Demandez{'-lui' if holder.user else ''} d'enregistrer et de fermer le classeur, puis "
            "réessayez. Si personne ne l'a ouvert (programme fermé brutalement), supprimez le fichier "
            f"« {holder.lock_file.name} » dans le dossier {holder.lock_file.parent}.")


def holder(workbook: Path) -> Holder | None:
    """The person who has `workbook` open, if a lock file says so."""
    excel = workbook.with_name("~$" + workbook.name)
    libre = workbook.with_name(f".~lock.{workbook.name}#")
    for lock_file, parse in ((excel, _excel), (libre, _libreoffice)):
        try:
            data = lock_file.read_bytes()
            opened = datetime.fromtimestamp(lock_file.stat().st_mtime, PARIS).replace(tzinfo=None)
        except FileNotFoundError:
            continue
        except OSError:  # Excel may keep it locked: it exists, whoever wrote it
            data, opened = b"", None
        return parse(data, opened, lock_file)
    return None


def _excel(data: bytes, opened: datetime | None, lock_file: Path) -> Holder:
    return Holder("Excel", excel_user(data), "", opened, lock_file)


def excel_user(data: bytes) -> str:
    """The user name in an Excel owner file (UTF-16 copy first, else the ANSI one)."""
    if len(data) >= 56:
        (count,) = struct.unpack_from("<H", data, 54)
        wide = data[56:56 + 2 * count]
        if count and len(wide) == 2 * count:
            name = wide.decode("utf-16-le", errors="replace").strip()
            if name:
                return name
    if data:
        return data[1:1 + data[0]].decode("cp1252", errors="replace").strip()
    return ""


def _libreoffice(data: bytes, opened: datetime | None, lock_file: Path) -> Holder:
    fields = libreoffice_fields(data.decode("utf-8", errors="replace"))
    full_name, host, system_user, stamp = (fields + ["", "", "", ""])[:4]
    try:
        opened = datetime.strptime(stamp.strip(), "%d.%m.%Y %H:%M")
    except ValueError:
        pass
    return Holder("LibreOffice", full_name.strip() or system_user.strip(), host.strip(), opened, lock_file)


def libreoffice_fields(line: str) -> list[str]:
    """Split « a,b\\,c,d; » into its fields, undoing the backslash escapes."""
    fields, current, escaped = [], [], False
    for char in line:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in ",;":
            fields.append("".join(current))
            current = []
            if char == ";":
                break
        else:
            current.append(char)
    if current:
        fields.append("".join(current))
    return fields
