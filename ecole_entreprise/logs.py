"""Operational log: one line per write, retry, conflict, refusal and external call, with its duration.

Configured once per process (`configure`), on the "ecole_entreprise" logger only, so Streamlit's own logging is left
as it is. Level and format come from the settings ([app] log_level, log_json); JSON lines carry the same fields.

What a line may hold: an event name, tab names, row IDs (pseudonymous), counts, durations, HTTP methods, statuses
and paths, error classes, roles and permission names. Never a cell value, a name, an e-mail or phone number, an IP
address, a message text or a query string: callers pass only such fields, and `safe` also masks any string that
looks like an e-mail, a phone number or free text (tests plant personal values in the data and grep the log).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import time
from contextlib import contextmanager

LOGGER_NAME = "ecole_entreprise"
_configured = False
_configure_lock = threading.Lock()
# A logged string is an identifier, a tab or permission name, a path…: short and without "@" or digits runs that
# would look like a phone number. Anything else is replaced, so a mistake in a caller cannot leak a value.
_SAFE_TEXT = re.compile(r"[\w .:/\-«»'’()éèêàâçôîûùëïÉ]{0,120}")
_PHONE_LIKE = re.compile(r"\d[\d .]{7,}\d")


def logger(name: str = "") -> logging.Logger:
    return logging.getLogger(f"{LOGGER_NAME}.{name}" if name else LOGGER_NAME)


class _CurrentStderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time of the line (a test runner swaps it between tests)."""

    def __init__(self):
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):  # StreamHandler sets it in __init__ and setStream: always follow sys.stderr
        pass


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", {})
        tail = " ".join(f"{key}={value}" for key, value in fields.items())
        stamp = self.formatTime(record, "%Y-%m-%dT%H:%M:%S")
        return f"{stamp} {record.levelname} {record.name} {record.getMessage()}" + (f" {tail}" if tail else "")


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname,
                "logger": record.name, "event": record.getMessage(), **getattr(record, "fields", {})}
        return json.dumps(line, ensure_ascii=False)


def configure(settings=None, stream=None, force: bool = False) -> logging.Logger:
    """Set the level and format once per process (later calls do nothing unless `force`)."""
    global _configured
    with _configure_lock:
        root = logger()
        if _configured and not force:
            return root
        level = getattr(settings, "log_level", "INFO") or "INFO"
        handler = logging.StreamHandler(stream) if stream is not None else _CurrentStderr()
        handler.setFormatter(_JsonFormatter() if getattr(settings, "log_json", False) else _TextFormatter())
        for old in list(root.handlers):
            root.removeHandler(old)
        root.addHandler(handler)
        root.setLevel(logging.getLevelName(level) if isinstance(logging.getLevelName(level), int) else logging.INFO)
        root.propagate = False
        _configured = True
        return root


def safe(value):
    """The value itself when it can only be an identifier or a measure, else a placeholder."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = str(value)
    if "@" in text or _PHONE_LIKE.search(text) or not _SAFE_TEXT.fullmatch(text):
        return "(masqué)"
    return text


def event(name: str, level: int = logging.INFO, where: str = "", **fields) -> None:
    """One log line: `name` and the fields, each passed through `safe`."""
    log = logger(where)
    if log.isEnabledFor(level):
        log.log(level, name, extra={"fields": {key: safe(value) for key, value in fields.items()}})


def refusal(kind: str, **fields) -> None:
    """A refused operation (access, scope, transition, rate limit…): what was refused, never by whom nor the text."""
    event("refus", logging.WARNING, "services", kind=kind, **fields)


@contextmanager
def timed(name: str, where: str = "", **fields):
    """Log `name` once the block ends, with its duration in ms and `outcome` (ok or the error class).

    The block may add fields through the dict it receives (e.g. counts known only at the end)."""
    start = time.perf_counter()
    extra: dict = {}
    try:
        yield extra
    except BaseException as error:
        event(name, logging.WARNING, where, **fields, **extra, outcome=type(error).__name__,
              ms=round((time.perf_counter() - start) * 1000, 1))
        raise
    event(name, logging.INFO, where, **fields, **extra, outcome="ok", ms=round((time.perf_counter() - start) * 1000, 1))


def http_response_hook(response, *args, **kwargs):
    """requests hook: one line per HTTP exchange with an outside API (method, host, path, status, duration).

    The query string is dropped (it may hold ranges or tokens); the path holds the spreadsheet key and tab names."""
    request = response.request
    url = re.sub(r"[?#].*$", "", request.url or "")
    host_path = re.sub(r"^https?://", "", url)
    host, _, path = host_path.partition("/")
    event("appel externe", logging.INFO, "http", method=request.method, host=host, path=_short_path(path),
          status=response.status_code, ms=round(response.elapsed.total_seconds() * 1000, 1))
    return response


def _short_path(path: str) -> str:
    """A range in a path (`values/Entreprises!A1:Z`) names a tab: keep the path but cut what follows '!'."""
    from urllib.parse import unquote

    return re.sub(r"![^/:]*(:[^/]*)?", "", unquote(path))[:120]


def watch(session) -> None:
    """Log every response of a requests session (once, however often it is called)."""
    hooks = getattr(session, "hooks", None)
    if hooks is not None and http_response_hook not in hooks.setdefault("response", []):
        hooks["response"].append(http_response_hook)
