"""`python -m ecole_entreprise doctor`: is this installation ready to run? Each check says ✔ or ✘ and, when ✘,
how to fix it in French. `ready` (the Docker HEALTHCHECK) runs the cheap subset of the same checks.

Checks, in order: configuration, secrets, the store (reachable, readable, writable), the spreadsheet's locale and
time zone, schema drift, the Journal's hash chain (no external anchor exists yet: the chain is what is checked),
SMTP (only when configured), sign-in configuration, the PDF font. A check marked not blocking (the font) is
printed but does not change the exit code.
"""

from __future__ import annotations

import os
import stat
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import config
from .config import Settings
from .mail import Mailer, MailError, SmtpMailer
from .store.base import Snapshot, StoreError

AUTH_KEYS = ("redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url")
MIN_COOKIE_SECRET = 32
SMTP_TIMEOUT_S = 5.0
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True)
class Check:
    name: str  # French label
    ok: bool
    detail: str  # French: what was found
    fix: str = ""  # French: what to do when not ok
    blocking: bool = True

    def lines(self) -> list[str]:
        mark = "✔" if self.ok else "✘"
        out = [f"{mark} {self.name} : {self.detail}" + ("" if self.blocking or self.ok else " (non bloquant)")]
        if not self.ok and self.fix:
            out.append(f"    → {self.fix}")
        return out


def passed(checks: list[Check]) -> bool:
    return all(c.ok for c in checks if c.blocking)


def report_text(checks: list[Check]) -> str:
    lines = [line for check in checks for line in check.lines()]
    failed = sum(1 for c in checks if not c.ok)
    lines.append(f"{len(checks)} contrôle(s), " + (f"{failed} à corriger." if failed else "tout est en ordre."))
    return "\n".join(lines)


# ---- configuration and secrets -----------------------------------------------------------------------------


def check_configuration(load: Callable[[], Settings] = config.load_settings) -> tuple[Check, Settings | None]:
    try:
        settings = load()
    except (ValueError, OSError) as error:  # tomllib.TOMLDecodeError is a ValueError
        return Check("Configuration", False, f"réglages illisibles ({error}).",
                     "Corrigez .streamlit/secrets.toml (syntaxe TOML) ou les variables ECOLE_ENTREPRISE_*."), None
    problems = []
    if settings.cache_ttl_s < 0:
        problems.append("cache_ttl_s est négatif")
    if settings.retry_attempts < 1:
        problems.append("retry_attempts doit valoir au moins 1")
    if settings.retry_total_s < 0 or settings.request_timeout_s <= 0:
        problems.append("retry_total_s et request_timeout_s doivent être positifs")
    if settings.log_level not in LOG_LEVELS:
        problems.append(f"log_level « {settings.log_level} » inconnu ({', '.join(LOG_LEVELS)})")
    where = (f"Google Sheets (classeur {settings.spreadsheet})" if settings.backend == "google"
             else f"classeur local {settings.workbook_path}")
    if problems:
        return Check("Configuration", False, f"{where} ; " + " ; ".join(problems) + ".",
                     "Corrigez ces valeurs dans la section [app] de .streamlit/secrets.toml."), settings
    return Check("Configuration", True, f"{where}, cache {settings.cache_ttl_s:g} s, "
                 f"{settings.retry_attempts} tentatives en {settings.retry_total_s:g} s au plus."), settings


def _secrets_file(paths=config.SECRETS_PATHS) -> Path | None:
    return next((path for path in paths if path.exists()), None)


def check_secrets(settings: Settings, paths=config.SECRETS_PATHS) -> Check:
    found = _secrets_file(paths)
    if found is not None and os.name == "posix" and found.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        return Check("Secrets", False, f"{found} est lisible par d'autres comptes que le sien.",
                     f"chmod 600 {found}")
    if settings.backend == "local":
        return Check("Secrets", True, "aucun secret nécessaire pour le classeur local"
                     + (f" ({found} trouvé)." if found else "."))
    if settings.service_account_info:
        missing = [k for k in ("client_email", "private_key") if not settings.service_account_info.get(k)]
        if missing:
            return Check("Secrets", False, f"compte de service incomplet (manque {', '.join(missing)}).",
                         "Recopiez tous les champs de la clé JSON sous [connections.gsheets].")
        return Check("Secrets", True, f"compte de service {settings.service_account_email} ({found}).")
    if settings.credentials_file:
        return _credentials_file_check(Path(settings.credentials_file))
    return Check("Secrets", False, "classeur Google configuré mais aucun compte de service.",
                 "Renseignez la clé JSON sous [connections.gsheets] ou ECOLE_ENTREPRISE_CREDENTIALS=<chemin du JSON>.")


def _credentials_file_check(path: Path) -> Check:
    import json

    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return Check("Secrets", False, f"clé JSON {path} illisible ({type(error).__name__}).",
                     "Vérifiez le chemin de ECOLE_ENTREPRISE_CREDENTIALS et les droits de lecture du fichier.")
    if not (isinstance(info, dict) and info.get("client_email") and info.get("private_key")):
        return Check("Secrets", False, f"{path} n'est pas une clé de compte de service complète.",
                     "Téléchargez une nouvelle clé JSON du compte de service (console Google Cloud).")
    return Check("Secrets", True, f"compte de service {info['client_email']} ({path}).")


# ---- the store -------------------------------------------------------------------------------------------


def check_local_file(settings: Settings) -> Check:
    """The workbook (or, before the first launch, its folder) is readable and writable by this account."""
    path = Path(settings.workbook_path).expanduser().absolute()
    if path.exists():
        if not os.access(path, os.R_OK | os.W_OK):
            return Check("Stockage", False, f"{path} n'est pas lisible et modifiable par ce compte.",
                         f"Donnez les droits de lecture et d'écriture sur {path} au compte qui lance l'application.")
        if not os.access(path.parent, os.W_OK):
            return Check("Stockage", False, f"le dossier {path.parent} n'est pas modifiable (verrou et "
                         "remplacement atomique du fichier impossibles).",
                         f"Donnez le droit d'écriture sur {path.parent} au compte qui lance l'application.")
        return Check("Stockage", True, f"{path} lisible et modifiable.")
    folder = next((p for p in [path.parent, *path.parent.parents] if p.exists()), None)
    if folder is None or not os.access(folder, os.W_OK):
        return Check("Stockage", False, f"{path} n'existe pas et ne peut pas être créé.",
                     f"Créez le dossier {path.parent} avec le droit d'écriture, ou choisissez un autre chemin "
                     "(ECOLE_ENTREPRISE_WORKBOOK).")
    return Check("Stockage", True, f"{path} absent : il sera créé au premier lancement (dossier modifiable).")


def check_google_reach(store) -> tuple[Check, dict]:
    """One metadata request: the spreadsheet exists and this account may open it."""
    start = time.perf_counter()
    try:
        found = store.spreadsheet_settings()
    except StoreError as error:
        return Check("Stockage", False, str(error), _share_hint(store)), {}
    ms = (time.perf_counter() - start) * 1000
    return Check("Stockage", True, f"classeur Google joignable ({ms:.0f} ms)."), found


def _share_hint(store) -> str:
    email = getattr(store, "service_account_email", "") or "l'adresse du compte de service"
    return (f"Partagez le classeur avec {email} en tant qu'éditeur, vérifiez sa clé et que les API Google Sheets "
            "et Drive sont activées.")


def check_read(store) -> tuple[Check, Snapshot | None]:
    start = time.perf_counter()
    try:
        snapshot = store.read()
    except StoreError as error:
        return Check("Lecture des onglets", False, str(error), _share_hint(store)), None
    rows = sum(len(t.rows) for t in snapshot.tabs.values())
    ms = (time.perf_counter() - start) * 1000
    return Check("Lecture des onglets", True, f"{len(snapshot.tabs)} onglets, {rows} lignes lus en {ms:.0f} ms."), \
        snapshot


def check_locale(settings: Settings, found: dict) -> Check:
    if settings.backend == "local":
        return Check("Paramètres régionaux", True, "sans objet pour le classeur local (cellules lues comme texte).")
    locale, zone = found.get("locale", ""), found.get("time_zone", "")
    problems = []
    if not locale.lower().startswith("fr"):
        problems.append(f"paramètres régionaux « {locale or '?'} » (une date tapée 03/04 serait lue à l'anglaise)")
    if zone and zone != "Europe/Paris":
        problems.append(f"fuseau horaire « {zone} »")
    if problems:
        return Check("Paramètres régionaux", False, " ; ".join(problems) + ".",
                     "Dans la feuille : Fichier > Paramètres > Paramètres régionaux « France » et fuseau horaire "
                     "« (GMT+01:00) Paris ».")
    return Check("Paramètres régionaux", True, f"{locale}, {zone or 'fuseau non indiqué'}.")


def check_schema(store, snapshot: Snapshot) -> Check:
    """Drift between sheets_schema/ and the sheet: missing tabs or columns block, hand-added columns are kept."""
    missing = []
    extra = []
    for tab in store.schema.tabs.values():
        data = snapshot.tabs.get(tab.name)
        if data is None or not data.headers:
            missing.append(f"onglet {tab.name}")
            continue
        missing += [f"{tab.name} : {h}" for h in tab.headers if h not in data.headers]
        extra += [f"{tab.name} : {h}" for h in data.headers if h and h not in tab.by_header()]
    kept = f" Colonnes ajoutées à la main (conservées) : {', '.join(extra)}." if extra else ""
    if missing:
        return Check("Schéma", False, f"manquant(s) : {', '.join(missing)}.{kept}",
                     "python -m ecole_entreprise init (ajoute les onglets et colonnes manquants sans rien effacer).")
    return Check("Schéma", True, "tous les onglets et colonnes du schéma sont présents." + kept)


def check_journal(store, snapshot: Snapshot) -> Check:
    """Signatures, chain and the anchor outside the sheet, as `check` verifies them."""
    from .services.kernel.journal import audit

    chain = audit(store, snapshot.rows("Journal"))
    detail = " ; ".join([chain.message_fr.rstrip("."), *chain.notes]) + "."
    return Check("Journal", chain.ok, detail,
                 "Voir `python -m ecole_entreprise check` : l'entrée nommée a été modifiée ou déplacée dans "
                 "l'onglet Journal ; rétablissez-la depuis l'historique des versions de la feuille.")


def check_smtp(settings: Settings, mailer: Mailer | None = None) -> Check:
    """Reach the [smtp] server without sending (no login either): the mail adapter's own check."""
    smtp = settings.smtp
    if not smtp.configured:
        return Check("Envoi des courriels", True, "non configuré : copie du texte et lien mailto.")
    start = time.perf_counter()
    try:
        answer = (mailer or SmtpMailer(smtp, timeout=SMTP_TIMEOUT_S)).check()
    except MailError as error:
        return Check("Envoi des courriels", False, str(error),
                     "Vérifiez host, port et starttls dans [smtp], et que le pare-feu laisse sortir ce port.")
    ms = (time.perf_counter() - start) * 1000
    return Check("Envoi des courriels", True, f"{answer} ({ms:.0f} ms, aucun envoi fait).")


def check_auth(settings: Settings, snapshot: Snapshot | None, secrets: dict) -> Check:
    from .services.kernel.users import users

    if settings.backend == "local" and not settings.auth_configured:
        chooser = "démonstration déclarée : sélecteur d'identité" if settings.demo else \
            "sélecteur d'identité si le serveur n'écoute que sur 127.0.0.1, sinon comptes locaux (set-password)"
        return Check("Connexion", True, f"mode local : {chooser}.")
    if settings.allow_local_login:
        return Check("Connexion", False, "connexion locale forcée avec Google Sheets : chacun peut choisir "
                     "n'importe quelle identité.",
                     "Retirez allow_local_login (ou ECOLE_ENTREPRISE_ALLOW_LOCAL_LOGIN) hors des essais.")
    auth = secrets.get("auth", {}) if isinstance(secrets.get("auth"), dict) else {}
    problems = [f"{key} manquant" for key in AUTH_KEYS if not str(auth.get(key, "")).strip()]
    if len(str(auth.get("cookie_secret", ""))) < MIN_COOKIE_SECRET and "cookie_secret manquant" not in problems:
        problems.append(f"cookie_secret trop court (moins de {MIN_COOKIE_SECRET} caractères)")
    uri = str(auth.get("redirect_uri", ""))
    if uri and not uri.endswith("/oauth2callback"):
        problems.append("redirect_uri doit finir par /oauth2callback")
    if uri and not (uri.startswith("https://") or uri.startswith("http://localhost")):
        problems.append("redirect_uri doit être en https")
    if snapshot is not None and not any(u.role == "admin" for u in users(snapshot)):
        problems.append("aucun administrateur actif dans l'onglet Utilisateurs")
    if problems:
        return Check("Connexion", False, " ; ".join(problems) + ".",
                     "Complétez la section [auth] (voir le README, « Connexion (production) ») ; premier "
                     "administrateur : python -m ecole_entreprise add-user <email> admin.")
    return Check("Connexion", True, f"OpenID Connect configuré ({auth.get('server_metadata_url')}).")


def check_font() -> Check:
    from .services.bilan.report import font_files

    found = font_files()
    if found:
        return Check("Police du PDF", True, f"{found[0]}.", blocking=False)
    return Check("Police du PDF", False, "DejaVu Sans introuvable : le PDF utilisera Helvetica (œ, € simplifiés).",
                 "apt-get install fonts-dejavu-core, ou ECOLE_ENTREPRISE_FONT_DIR=<dossier des TTF DejaVu>.",
                 blocking=False)


# ---- the two entry points ----------------------------------------------------------------------------------


def _store(settings: Settings):
    from .store import build_store

    return build_store(settings)


def _reach(settings: Settings, secrets_paths, factory) -> tuple[list[Check], object | None, dict]:
    """Secrets and the store's reachability, shared by `doctor` and `ready`."""
    checks = [check_secrets(settings, secrets_paths)]
    if settings.backend == "local":
        checks.append(check_local_file(settings))
        return checks, None, {}
    if not checks[0].ok:
        return checks, None, {}
    try:
        store = factory(settings)
    except StoreError as error:
        checks.append(Check("Stockage", False, str(error), "Vérifiez le compte de service et la clé du classeur."))
        return checks, None, {}
    reach, found = check_google_reach(store)
    checks.append(reach)
    return checks, (store if reach.ok else None), found


def _loader(env, secrets_paths) -> Callable[[], Settings]:
    return lambda: config.load_settings(env, secrets_paths)


def doctor(smtp: bool = True, env: dict | None = None, secrets_paths=config.SECRETS_PATHS,
           factory: Callable = _store) -> list[Check]:
    """Every check (see module docstring); the store is read once, the sheet is never written."""
    configuration, settings = check_configuration(_loader(env, secrets_paths))
    if settings is None:
        return [configuration]
    checks = [configuration]
    reach, store, found = _reach(settings, secrets_paths, factory)
    checks += reach
    snapshot = None
    if settings.backend == "local" and reach[-1].ok and Path(settings.workbook_path).exists():
        store = factory(settings)
    if store is not None:
        read, snapshot = check_read(store)
        checks.append(read)
    checks.append(check_locale(settings, found))
    if snapshot is not None:
        checks += [check_schema(store, snapshot), check_journal(store, snapshot)]
    if smtp:
        checks.append(check_smtp(settings))
    checks += [check_auth(settings, snapshot, _secrets_or_empty(secrets_paths)), check_font()]
    return checks


def ready(http_url: str = "", env: dict | None = None, secrets_paths=config.SECRETS_PATHS,
          factory: Callable = _store) -> list[Check]:
    """The cheap subset for a health check: configuration, secrets, store reachable (one metadata request on
    Google, file access locally), and, with `http_url`, the Streamlit server answering."""
    configuration, settings = check_configuration(_loader(env, secrets_paths))
    checks = [configuration]
    if settings is not None:
        checks += _reach(settings, secrets_paths, factory)[0]
    if http_url:
        checks.append(check_http(http_url))
    return checks


def check_http(url: str, timeout_s: float = 5.0) -> Check:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as answer:  # noqa: S310 - a local URL we were given
            status = answer.status
    except OSError as error:  # refused, timed out, or an HTTP error status
        return Check("Serveur", False, f"{url} ne répond pas ({type(error).__name__}).",
                     "Le serveur Streamlit démarre encore, ou s'est arrêté : voir son journal.")
    return Check("Serveur", status == 200, f"{url} répond {status}.", "Voir le journal du serveur Streamlit.")


def _secrets_or_empty(paths) -> dict:
    try:
        return config.read_secrets(paths)
    except (ValueError, OSError):
        return {}
