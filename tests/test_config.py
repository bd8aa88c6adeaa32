"""Settings from secrets.toml or the environment; the backend follows from them."""

from ecole_entreprise.config import load_settings, spreadsheet_key


def test_default_is_the_local_workbook(tmp_path):
    settings = load_settings(env={}, secrets_paths=[tmp_path / "absent.toml"])
    assert settings.backend == "local" and settings.workbook_path.name.endswith(".xlsx")


def test_streamlit_style_secrets_select_google(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        '[connections.gsheets]\nspreadsheet = "https://docs.google.com/spreadsheets/d/abc-123_X/edit#gid=0"\n'
        'type = "service_account"\nclient_email = "robot@projet.iam.gserviceaccount.com"\nprivate_key = "k"\n'
        '[smtp]\nhost = "smtp.exemple.fr"\nport = 2525\nstarttls = false\n[auth]\nclient_id = "x"\n',
        encoding="utf-8")
    settings = load_settings(env={}, secrets_paths=[secrets])
    assert settings.backend == "google" and settings.spreadsheet == "abc-123_X"
    assert settings.service_account_email == "robot@projet.iam.gserviceaccount.com"
    assert "spreadsheet" not in settings.service_account_info
    assert settings.smtp.port == 2525 and not settings.smtp.starttls and settings.auth_configured


def test_environment_overrides(tmp_path):
    env = {"ECOLE_ENTREPRISE_SPREADSHEET": "KEY", "ECOLE_ENTREPRISE_CACHE_TTL": "5",
           "ECOLE_ENTREPRISE_DEV_USER": "admin@exemple.fr", "ECOLE_ENTREPRISE_ALLOW_LOCAL_LOGIN": "oui"}
    settings = load_settings(env=env, secrets_paths=[])
    assert (settings.spreadsheet, settings.cache_ttl_s, settings.dev_user) == ("KEY", 5.0, "admin@exemple.fr")
    assert settings.allow_local_login


def test_spreadsheet_key_accepts_urls_and_keys():
    assert spreadsheet_key("https://docs.google.com/spreadsheets/d/1AbC/edit") == "1AbC"
    assert spreadsheet_key(" 1AbC ") == "1AbC"


def test_upload_limits_have_defaults_and_come_from_the_app_section(tmp_path):
    defaults = load_settings(env={}, secrets_paths=[]).limits
    assert (defaults.import_max_mb, defaults.import_max_rows, defaults.import_max_columns,
            defaults.import_max_cell_chars) == (5.0, 20_000, 60, 10_000)
    secrets = tmp_path / "secrets.toml"
    secrets.write_text("[app]\nimport_max_mb = 2\nimport_max_rows = 500\n", encoding="utf-8")
    limits = load_settings(env={}, secrets_paths=[secrets]).limits
    assert (limits.import_max_mb, limits.import_max_rows, limits.import_max_columns) == (2.0, 500, 60)
