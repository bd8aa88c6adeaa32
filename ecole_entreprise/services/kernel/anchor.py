"""The Journal's anchor: the head of its chain (count, last hash, time) kept outside the sheet, on the server.

Whoever can edit the sheet can delete its last entries, empty it, or rewrite it whole; they cannot reach this file.
The app only ever appends one line per journal entry (O_APPEND, never rewritten: a file the system can make
append-only, `chattr +a`); `check` and the admin home page read it back and compare it with the tab.
A line is JSON: {"count": entries in the tab after this one, "id": entry ID, "hash": its hash, "at": UTC time}.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ...config import Settings, anchor_path, load_settings

_lock = threading.Lock()
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Head:
    count: int
    id: str
    hash: str
    at: str

    def line(self) -> str:
        return json.dumps({"count": self.count, "id": self.id, "hash": self.hash, "at": self.at},
                          separators=(",", ":")) + "\n"


class Anchor:
    def __init__(self, path: Path):
        self.path = Path(path)

    def exists(self) -> bool:
        return self.path.exists() and self.path.stat().st_size > 0

    def append(self, count: int, entry_id: str, entry_hash: str) -> Head:
        head = Head(count, entry_id, entry_hash, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = head.line().encode("utf-8")
        with _lock:  # one write(2) per line with O_APPEND: lines of two processes never interleave
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
        return head

    def latest(self) -> Iterator[Head]:
        """The heads, newest first, read backwards from the end (the file grows one line per entry)."""
        if not self.path.exists():
            return
        with self.path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            position, rest = handle.tell(), b""
            while position > 0:
                step = min(_CHUNK, position)
                position -= step
                handle.seek(position)
                lines = (handle.read(step) + rest).split(b"\n")
                rest = lines.pop(0)  # maybe the end of a line that starts in the previous chunk
                for raw in reversed(lines):
                    if (head := _parse(raw)) is not None:
                        yield head
            if (head := _parse(rest)) is not None:
                yield head


def _parse(raw: bytes) -> Head | None:
    try:
        data = json.loads(raw.decode("utf-8"))
        return Head(int(data["count"]), str(data["id"]), str(data["hash"]), str(data.get("at", "")))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None  # an empty line, or a torn last line after a crash


def location(store) -> str:
    """The workbook path or spreadsheet key behind a (wrapped) store; "" for a store of neither kind."""
    seen = 0
    while store is not None and seen < 8:
        if isinstance(getattr(store, "path", None), Path) and hasattr(store, "read"):
            return str(Path(store.path).expanduser().absolute())
        key = store.__dict__.get("key") if hasattr(store, "__dict__") else None
        if isinstance(key, str) and key:
            return key
        store, seen = getattr(store, "__dict__", {}).get("inner"), seen + 1
    return ""


def settings_location(settings: Settings) -> str:
    if settings.backend == "google":
        return settings.spreadsheet
    return str(Path(settings.workbook_path).expanduser().absolute())


def for_store(store, settings: Settings | None = None) -> Anchor | None:
    """The anchor of the configured data, when `store` is that data (a test's store in memory has none)."""
    settings = settings or load_settings()
    where = location(store)
    if not where or where != settings_location(settings):
        return None
    return Anchor(anchor_path(settings))
