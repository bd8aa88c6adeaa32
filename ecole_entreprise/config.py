"""Settings: from .streamlit/secrets.toml (the Streamlit convention) or environment variables.

Backend choice: Google Sheets when a spreadsheet is configured, else the embedded local workbook.

secrets.toml, Google mode:
    [connections.gsheets]
    spreadsheet = "<spreadsheet key or URL>"
    type = "service_account"
    client_email = "..."
    private_key = "..."
    ...
Environment: ECOLE_ENTREPRISE_SPREADSHEET (key or URL), ECOLE_ENTREPRISE_CREDENTIALS (service-account JSON path),
ECOLE_ENTREPRISE_WORKBOOK (local .xlsx path), ECOLE_ENTREPRISE_CACHE_TTL, ECOLE_ENTREPRISE_RETRY_SECONDS,
ECOLE_ENTREPRISE_DEV_USER, ECOLE_ENTREPRISE_ALLOW_LOCAL_LOGIN, ECOLE_ENTREPRISE_LOG_LEVEL, ECOLE_ENTREPRISE_LOG_JSON,
ECOLE_ENTREPRISE_DEMO, ECOLE_ENTREPRISE_ACCOUNTS_FILE, ECOLE_ENTREPRISE_JOURNAL_KEY, ECOLE_ENTREPRISE_JOURNAL_ANCHOR,
ECOLE_ENTREPRISE_LINK_SECRET, ECOLE_ENTREPRISE_PUBLIC_URL (personal links, section [links]),
ECOLE_ENTREPRISE_SESSION_SECRET, ECOLE_ENTREPRISE_SESSION_HOURS (the local sign-in's session cookie, `[app]`).

secrets.toml, journal signature (never in the sheet):
    [journal]
    key = "<64 hex characters: python -m ecole_entreprise journal-key>"
    anchor = "/var/lib/ecole-entreprise/ancre-journal.jsonl"   # optional: where the chain's heads are kept
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_WORKBOOK = ROOT / "data" / "rencontres-ecole-entreprise.xlsx"
SECRETS_PATHS = (ROOT / ".streamlit" / "secrets.toml", Path.home() / ".streamlit" / "secrets.toml")

_SERVICE_ACCOUNT_KEYS = {
    "type", "project_id", "private_key_id", "private_key", "client_email", "client_id", "auth_uri", "token_uri",
    "auth_provider_x509_cert_url", "client_x509_cert_url", "universe_domain",
}


@dataclass(frozen=True)
class SmtpSettings:
    host: str = ""
    port: int = 587
    starttls: bool = True
    user: str = ""
    password: str = ""
    sender: str = ""

    @property
    def configured(self) -> bool:
        return bool(self.host)


@dataclass(frozen=True)
class LinkSettings:
    """Personal links (services/links): `[links]` section, or ECOLE_ENTREPRISE_LINK_SECRET / _PUBLIC_URL."""

    secret: str = ""  # HMAC key; without it no link is issued and every link is refused
    public_url: str = ""  # the address people open, e.g. https://rencontres.example.fr
    days: int = 30  # validity of a link

    @property
    def configured(self) -> bool:
        return len(self.secret) >= 16


@dataclass(frozen=True)
class InputLimits:
    """Bounds on what strangers and files can make the server do (`[app]` keys of the same names)."""

    import_max_mb: float = 5.0  # size of an uploaded file
    import_max_rows: int = 20_000
    import_max_columns: int = 60
    import_max_cell_chars: int = 10_000


@dataclass(frozen=True)
class Settings:
    backend: str = "local"  # "local" or "google"
    workbook_path: Path = DEFAULT_WORKBOOK
    spreadsheet: str = ""  # key (or URL, reduced to the key)
    service_account_info: dict = field(default_factory=dict)
    credentials_file: str = ""
    cache_ttl_s: float = 60.0
    retry_total_s: float = 30.0  # total time budget for retries of one operation
    retry_attempts: int = 5
    request_timeout_s: float = 20.0
    dev_user: str = ""
    allow_local_login: bool = False  # force the demo identity chooser even with the Google backend
    demo: bool = False  # local mode: offer the identity chooser even when the server listens beyond loopback
    accounts_file: Path | None = None  # local accounts (salted password hashes); None: next to the workbook
    session_secret: str = ""  # HMAC key of the local sign-in's cookie; empty: a key file made by this server
    session_hours: float = 12.0  # how long a local sign-in lasts, reloads included
    journal_key: str = ""  # HMAC-SHA256 key signing the Journal's entries (hex)
    journal_anchor: Path | None = None  # append-only file of the chain's heads; None: the default place
    auth_configured: bool = False  # an [auth] section exists: use st.login
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    log_level: str = "INFO"  # DEBUG, INFO, WARNING, ERROR
    log_json: bool = False  # one JSON object per line (for a log collector) instead of plain text
    limits: InputLimits = field(default_factory=InputLimits)
    links: LinkSettings = field(default_factory=LinkSettings)
    registration: RegistrationSettings = field(default_factory=lambda: RegistrationSettings())

    @property
    def service_account_email(self) -> str:
        if self.service_account_info:
            return self.service_account_info.get("client_email", "")
        if self.credentials_file and Path(self.credentials_file).exists():
            try:
                return json.loads(Path(self.credentials_file).read_text()).get("client_email", "")
            except (OSError, ValueError):
                return ""
        return ""


def spreadsheet_key(value: str) -> str:
    """Accept a bare key or a full spreadsheet URL."""
    match = re.search(r"/spreadsheets/d/([a-zA-Z0-9-_]+)", value or "")
    return match.group(1) if match else (value or "").strip()


def read_secrets(paths=SECRETS_PATHS) -> dict:
    """The first secrets.toml found, parsed (the doctor reads the [auth] section itself)."""
    return _read_secrets(paths)


def _read_secrets(paths) -> dict:
    for path in paths:
        if path.exists():
            with path.open("rb") as handle:
                return tomllib.load(handle)
    return {}


def _truthy(value) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "oui", "on"}


def load_settings(env: dict | None = None, secrets_paths=SECRETS_PATHS) -> Settings:
    env = dict(os.environ if env is None else env)
    secrets = _read_secrets(secrets_paths)
    gsheets = secrets.get("connections", {}).get("gsheets", {})
    app = secrets.get("app", {})
    smtp_raw = secrets.get("smtp", {})
    journal = secrets.get("journal", {})
    sheet = env.get("ECOLE_ENTREPRISE_SPREADSHEET") or gsheets.get("spreadsheet", "")
    info = {k: v for k, v in gsheets.items() if k in _SERVICE_ACCOUNT_KEYS}
    workbook = env.get("ECOLE_ENTREPRISE_WORKBOOK") or app.get("workbook") or str(DEFAULT_WORKBOOK)
    return Settings(
        backend="google" if sheet else "local",
        workbook_path=Path(workbook),
        spreadsheet=spreadsheet_key(sheet),
        service_account_info=info,
        credentials_file=env.get("ECOLE_ENTREPRISE_CREDENTIALS") or env.get("GOOGLE_APPLICATION_CREDENTIALS", ""),
        cache_ttl_s=float(env.get("ECOLE_ENTREPRISE_CACHE_TTL") or app.get("cache_ttl_s", 60)),
        retry_total_s=float(env.get("ECOLE_ENTREPRISE_RETRY_SECONDS") or app.get("retry_total_s", 30)),
        retry_attempts=int(app.get("retry_attempts", 5)),
        request_timeout_s=float(app.get("request_timeout_s", 20)),
        dev_user=env.get("ECOLE_ENTREPRISE_DEV_USER", ""),
        allow_local_login=_truthy(env.get("ECOLE_ENTREPRISE_ALLOW_LOCAL_LOGIN") or app.get("allow_local_login", "")),
        demo=_truthy(env.get("ECOLE_ENTREPRISE_DEMO") or app.get("demo", "")),
        accounts_file=_optional_path(env.get("ECOLE_ENTREPRISE_ACCOUNTS_FILE") or app.get("accounts_file", "")),
        session_secret=str(env.get("ECOLE_ENTREPRISE_SESSION_SECRET") or app.get("session_secret", "")).strip(),
        session_hours=float(env.get("ECOLE_ENTREPRISE_SESSION_HOURS") or app.get("session_hours", 12)),
        journal_key=str(env.get("ECOLE_ENTREPRISE_JOURNAL_KEY") or journal.get("key", "")).strip(),
        journal_anchor=_optional_path(env.get("ECOLE_ENTREPRISE_JOURNAL_ANCHOR") or journal.get("anchor", "")),
        auth_configured=bool(secrets.get("auth")),
        log_level=str(env.get("ECOLE_ENTREPRISE_LOG_LEVEL") or app.get("log_level", "INFO")).strip().upper(),
        log_json=_truthy(env.get("ECOLE_ENTREPRISE_LOG_JSON") or app.get("log_json", "")),
        limits=_limits(app),
        links=_links(env, secrets.get("links", {})),
        registration=_registration(app, env),
        smtp=SmtpSettings(
            host=smtp_raw.get("host", ""), port=int(smtp_raw.get("port", 587)),
            starttls=_truthy(smtp_raw.get("starttls", True)), user=smtp_raw.get("user", ""),
            password=smtp_raw.get("password", ""), sender=smtp_raw.get("sender", smtp_raw.get("user", "")),
        ),
    )


def _optional_path(text) -> Path | None:
    return Path(str(text)).expanduser() if str(text or "").strip() else None


def anchor_path(settings: Settings) -> Path:
    """Where the Journal's heads are anchored: the configured file, else a file of this server next to the data
    (local workbook) or in data/ (Google Sheets: one file per spreadsheet)."""
    if settings.journal_anchor is not None:
        return settings.journal_anchor
    if settings.backend == "google":
        return ROOT / "data" / f"ancre-journal-{settings.spreadsheet}.jsonl"
    return settings.workbook_path.with_name(settings.workbook_path.name + ".ancre-journal.jsonl")


def accounts_path(settings: Settings) -> Path:
    """The local accounts file (local mode without the chooser): next to the workbook unless configured."""
    if settings.accounts_file is not None:
        return settings.accounts_file
    return settings.workbook_path.with_name("comptes-locaux.json")


def _links(env: dict, raw: dict) -> LinkSettings:
    return LinkSettings(secret=str(env.get("ECOLE_ENTREPRISE_LINK_SECRET") or raw.get("secret", "")),
                        public_url=str(env.get("ECOLE_ENTREPRISE_PUBLIC_URL") or raw.get("public_url", "")).rstrip("/"),
                        days=int(raw.get("days", 30)))


def _limits(app: dict) -> InputLimits:
    defaults = InputLimits()
    return InputLimits(**{name: type(getattr(defaults, name))(app.get(name, getattr(defaults, name)))
                          for name in InputLimits.__dataclass_fields__})


@dataclass(frozen=True)
class RegistrationSettings:
    """The public registration forms: `[app]` keys of the same names, or the environment variables
    ECOLE_ENTREPRISE_<NAME IN CAPITALS> (e.g. ECOLE_ENTREPRISE_TRUSTED_PROXY_HOPS). The confirmation link of double
    opt-in is a personal link: its key and public address are those of [links]."""

    trusted_proxy_hops: int = 0  # reverse proxies in front of the app; 0: the connection's own address
    registrations_per_address_hour: int = 5
    pending_registrations_hour: int = 60  # all senders together: registrations waiting for a check or a click
    confirm_within_hours: int = 48  # validity of the confirmation link; then an unconfirmed registration is purged


def _registration(app: dict, env: dict) -> RegistrationSettings:
    defaults = RegistrationSettings()
    values = {name: type(getattr(defaults, name))(env.get(f"ECOLE_ENTREPRISE_{name.upper()}")
                                                   or app.get(name, getattr(defaults, name)))
              for name in RegistrationSettings.__dataclass_fields__}
    return RegistrationSettings(**values)
