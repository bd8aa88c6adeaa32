"""`doctor` and `ready`: each check says ✔ or ✘ with a French fix, and the exit code follows the blocking ones."""

import http.server
import os
import socket
import threading

import openpyxl
import pytest
from aiosmtpd.controller import Controller

from ecole_entreprise import doctor
from ecole_entreprise.cli import main
from ecole_entreprise.config import SmtpSettings, load_settings
from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.store.logged import LoggedStore
from tests.support.fake_sheets import FakeSheets
from tests.support.google_env import make_store

GOOD_AUTH = """
[auth]
redirect_uri = "https://rencontres.exemple.fr/oauth2callback"
cookie_secret = "0123456789abcdef0123456789abcdef0123"
client_id = "client"
client_secret = "secret"
server_metadata_url = "https://accounts.google.com/.well-known/openid-configuration"
"""


@pytest.fixture
def workbook(tmp_path, monkeypatch):
    path = tmp_path / "data" / "classeur.xlsx"
    monkeypatch.setenv("ECOLE_ENTREPRISE_WORKBOOK", str(path))
    return path


def by_name(checks):
    return {check.name: check for check in checks}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_doctor_on_the_embedded_default_before_the_first_launch_exits_0(workbook, capsys):
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "✘" not in out and "tout est en ordre" in out
    assert "il sera créé au premier lancement" in out
    assert not workbook.exists()  # a diagnosis creates nothing


def test_doctor_on_the_embedded_default_with_demo_data_exits_0(workbook, capsys):
    assert main(["demo"]) == 0
    capsys.readouterr()
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    for line in ("✔ Lecture des onglets", "✔ Schéma", "✔ Journal", "✔ Connexion", "✔ Stockage"):
        assert line in out
    journal = next(line for line in out.splitlines() if line.startswith("✔ Journal"))
    assert "journal non signé" in journal and "ancre" in journal  # the doctor checks what `check` checks


def test_doctor_names_a_journal_that_disagrees_with_its_anchor(workbook, capsys):
    from ecole_entreprise.domain.schema import default_schema
    from ecole_entreprise.services.kernel import journal
    from ecole_entreprise.store.workbook import WorkbookStore
    from tests.test_check_streamed import edit_by_hand

    assert main(["demo"]) == 0
    store = WorkbookStore(default_schema(), workbook)
    for i in range(3):
        journal.record(store, "admin@exemple.fr", f"action {i}")
    edit_by_hand(workbook, "Journal", lambda sheet: sheet.delete_rows(sheet.max_row))  # the last entry, by hand
    capsys.readouterr()
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "✘ Journal" in out and "fin de journal" in out


def test_a_missing_column_is_schema_drift_with_init_as_the_fix(workbook, capsys):
    main(["init"])
    book = openpyxl.load_workbook(workbook)
    sheet = book["Entreprises"]
    column = [c.value for c in sheet[1]].index("SIRET") + 1
    sheet.delete_cols(column)
    book.save(workbook)
    capsys.readouterr()
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "✘ Schéma : manquant(s) : Entreprises : SIRET." in out
    assert "→ python -m ecole_entreprise init" in out


def test_a_tampered_journal_entry_fails_the_journal_check(workbook):
    from ecole_entreprise.services.kernel import journal
    from ecole_entreprise.services.kernel.access import SYSTEM_USER
    from ecole_entreprise.store import build_store

    store = build_store(load_settings())
    store.init()
    journal.record(store, SYSTEM_USER, "test", "Entreprises", "ENT-1", details="premier")
    journal.record(store, SYSTEM_USER, "test", "Entreprises", "ENT-2", details="second")
    [first, _] = store.read().rows("Journal")
    book = openpyxl.load_workbook(workbook)
    sheet = book["Journal"]
    headers = [c.value for c in sheet[1]]
    sheet.cell(first.row_number, headers.index("Détails") + 1).value = "réécrit à la main"
    book.save(workbook)
    check = by_name(doctor.doctor(smtp=False))["Journal"]
    assert not check.ok and "rompue" in check.detail and "historique des versions" in check.fix


def test_an_unwritable_workbook_is_reported_with_the_folder_to_fix(workbook, monkeypatch):
    main(["init"])
    # This test may run as root, for whom file modes are not enforced: the account is refused writing here.
    monkeypatch.setattr(doctor.os, "access", lambda path, mode: not (mode & os.W_OK and str(path) == str(workbook)))
    check = by_name(doctor.doctor(smtp=False))["Stockage"]
    assert not check.ok and "droits de lecture et d'écriture" in check.fix
    monkeypatch.setattr(doctor.os, "access", lambda path, mode: not (mode & os.W_OK and path == workbook.parent))
    check = by_name(doctor.doctor(smtp=False))["Stockage"]
    assert not check.ok and "remplacement atomique" in check.detail


def test_unreadable_secrets_and_world_readable_secrets_are_reported(tmp_path, workbook):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text("[app\ncache_ttl_s = 60\n", encoding="utf-8")
    [check] = doctor.doctor(secrets_paths=(secrets,))
    assert check.name == "Configuration" and not check.ok and "TOML" in check.fix
    secrets.write_text("[app]\ncache_ttl_s = 60\n", encoding="utf-8")
    secrets.chmod(0o644)
    check = by_name(doctor.doctor(smtp=False, secrets_paths=(secrets,)))["Secrets"]
    assert not check.ok and check.fix == f"chmod 600 {secrets}"
    secrets.chmod(0o600)
    assert by_name(doctor.doctor(smtp=False, secrets_paths=(secrets,)))["Secrets"].ok


def test_bad_numbers_in_the_app_section_fail_the_configuration(tmp_path, workbook):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[app]\nretry_attempts = 0\nlog_level = "BAVARD"\n', encoding="utf-8")
    secrets.chmod(0o600)
    check = by_name(doctor.doctor(smtp=False, secrets_paths=(secrets,)))["Configuration"]
    assert not check.ok and "retry_attempts" in check.detail and "BAVARD" in check.detail


# ---- Google Sheets on the fake -------------------------------------------------------------------------------


@pytest.fixture
def google(tmp_path):
    """A service-account configuration for a spreadsheet of the fake, and a factory building its store."""
    fake = FakeSheets()
    key = fake.create_spreadsheet("Rencontres (doctor)")
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[connections.gsheets]\nspreadsheet = "{key}"\n'
                       'client_email = "app@projet.iam.gserviceaccount.com"\n'
                       'private_key = "-----BEGIN PRIVATE KEY-----\\nx\\n-----END PRIVATE KEY-----\\n"\n',
                       encoding="utf-8")
    secrets.chmod(0o600)
    store = LoggedStore(make_store(default_schema(), fake, key))
    return fake, key, secrets, lambda settings: store


def with_auth(secrets, text=GOOD_AUTH):
    secrets.write_text(secrets.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_google_locale_schema_and_sign_in_are_checked(google):
    fake, key, secrets, factory = google
    store = factory(None)
    store.init()
    checks = by_name(doctor.doctor(smtp=False, env={}, secrets_paths=(secrets,), factory=factory))
    assert checks["Stockage"].ok and checks["Lecture des onglets"].ok and checks["Schéma"].ok
    if not fake.spreadsheets[key].locale.startswith("fr"):
        assert not checks["Paramètres régionaux"].ok and "France" in checks["Paramètres régionaux"].fix
    assert not checks["Connexion"].ok and "[auth]" in checks["Connexion"].fix
    fake.spreadsheets[key].locale, fake.spreadsheets[key].time_zone = "fr_FR", "Europe/Paris"
    store.append("Utilisateurs", [{"email": "admin@ac-dijon.fr", "nom": "Admin", "role": "admin", "actif": "oui"}])
    with_auth(secrets)
    checks = by_name(doctor.doctor(smtp=False, env={}, secrets_paths=(secrets,), factory=factory))
    assert checks["Paramètres régionaux"].ok and checks["Connexion"].ok, checks
    assert doctor.passed(list(checks.values()))


def test_google_sign_in_problems_are_each_named(google):
    _, _, secrets, factory = google
    with_auth(secrets, GOOD_AUTH.replace("0123456789abcdef0123456789abcdef0123", "court")
              .replace("https://rencontres.exemple.fr/oauth2callback", "http://rencontres.exemple.fr/retour"))
    check = by_name(doctor.doctor(smtp=False, env={}, secrets_paths=(secrets,), factory=factory))["Connexion"]
    assert not check.ok
    for problem in ("cookie_secret trop court", "/oauth2callback", "https", "aucun administrateur"):
        assert problem in check.detail


def test_forced_local_login_with_google_is_a_failure(google):
    _, _, secrets, factory = google
    env = {"ECOLE_ENTREPRISE_ALLOW_LOCAL_LOGIN": "1"}
    check = by_name(doctor.doctor(smtp=False, env=env, secrets_paths=(secrets,), factory=factory))["Connexion"]
    assert not check.ok and "allow_local_login" in check.fix


def test_an_unshared_spreadsheet_names_the_service_account_to_share_with(google):
    fake, key, secrets, factory = google
    fake.make_private(key)
    checks = by_name(doctor.doctor(smtp=False, env={}, secrets_paths=(secrets,), factory=factory))
    assert not checks["Stockage"].ok
    assert "rencontres-app@ecole-entreprise-test.iam.gserviceaccount.com" in checks["Stockage"].fix
    assert "Lecture des onglets" not in checks  # nothing more is tried on a store that cannot be reached


def test_google_without_a_service_account_says_where_to_put_it(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[connections.gsheets]\nspreadsheet = "abc"\n', encoding="utf-8")
    secrets.chmod(0o600)
    check = by_name(doctor.doctor(smtp=False, env={}, secrets_paths=(secrets,)))["Secrets"]
    assert not check.ok and "ECOLE_ENTREPRISE_CREDENTIALS" in check.fix


# ---- SMTP, readiness -----------------------------------------------------------------------------------------


class _Inbox:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


def test_smtp_is_checked_only_when_configured_and_never_sends():
    settings = load_settings(env={}, secrets_paths=())
    assert doctor.check_smtp(settings).ok
    controller = Controller(_Inbox(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        reachable = settings.__class__(smtp=SmtpSettings(host="127.0.0.1", port=controller.port, starttls=False))
        check = doctor.check_smtp(reachable)
        assert check.ok and "aucun envoi" in check.detail
    finally:
        controller.stop()
    closed = settings.__class__(smtp=SmtpSettings(host="127.0.0.1", port=free_port(), starttls=False))
    check = doctor.check_smtp(closed)
    assert not check.ok and "[smtp]" in check.fix


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the http.server API
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def test_ready_checks_the_store_and_the_server(workbook, capsys):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert main(["ready", "--http", f"http://127.0.0.1:{server.server_port}/_stcore/health"]) == 0
        assert capsys.readouterr().out.strip() == "prêt"
    finally:
        server.shutdown()
    assert main(["ready", "--http", f"http://127.0.0.1:{free_port()}/_stcore/health"]) == 1
    assert "pas prêt : Serveur" in capsys.readouterr().out


def test_ready_shares_the_doctor_checks(workbook):
    names = [check.name for check in doctor.ready()]
    assert names == ["Configuration", "Secrets", "Stockage"]
    full = [check.name for check in doctor.doctor(smtp=False)]
    assert full[:3] == names
