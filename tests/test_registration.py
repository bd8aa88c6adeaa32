"""Self-registration on the real local workbook: consents, pending status, honeypot, rate and size limits, and
double opt-in by the personal confirmation link (services/links), sent through an in-memory mailer."""

import re
from datetime import datetime, timedelta

import pytest

from ecole_entreprise.config import LinkSettings, RegistrationSettings
from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.domain.values import parse_datetime
from ecole_entreprise.mail import MailError, MemoryMailer
from ecole_entreprise.services.census import registration
from ecole_entreprise.services.census.registration import MAX_PAYLOAD_BYTES, RateLimiter, submit
from ecole_entreprise.services.links import actions, registry
from ecole_entreprise.store.workbook import WorkbookStore

NOW = datetime(2026, 2, 3, 14, 30, 5)
YES = {"participation": True, "partage": True}


def staff(**extra):
    base = {"civilite": "Mme", "nom": "Démo-Fontaine", "prenom": "Claire", "fonction": "professeur",
            "code_postal": "25000", "commune_insee": "25056", "email": "demo.claire.fontaine@ac-besancon.fr",
            "canal": "salon REE", "thematiques": ["orientation", "management"]}
    base.update(extra)
    return base


@pytest.fixture
def store(tmp_path):
    store = WorkbookStore(default_schema(), tmp_path / "inscriptions.xlsx")
    store.init()
    return store


@pytest.fixture
def limiter():
    return RateLimiter()


def send(store, limiter, values=None, consents=YES, honeypot="", key="client-1", now=NOW, **kwargs):
    return submit(store, store.read(), "Personnels", staff() if values is None else values, consents, honeypot,
                  key, now, limiter=limiter, **kwargs)


def test_registration_lands_pending_with_dated_versioned_consents(store, limiter):
    result = send(store, limiter)
    assert result.accepted and result.row_id and "Merci" in result.message
    [row] = store.read().rows("Personnels")
    assert row.id == result.row_id
    assert row["statut"] == "à valider" and row["source"] == "auto-inscription"
    assert row["consentement_participation"] == "2026-02-03 14:30:05"
    assert row["consentement_partage"] == "2026-02-03 14:30:05"
    assert row["consentement_source"] == "auto-inscription"
    assert row["consentement_version"] == "2025-09"  # Parametres version_notice
    assert row["academie"] == "Besançon" and row["departement"] == "25"
    assert row["thematiques"] == "management; orientation"


def test_notice_version_follows_parametres(store, limiter):
    param = next(r for r in store.read().rows("Parametres") if r["cle"] == "version_notice")
    store.update("Parametres", param.id, {"valeur": "2026-01"}, param.fingerprint)
    send(store, limiter)
    assert store.read().rows("Personnels")[0]["consentement_version"] == "2026-01"


def test_consent_is_journaled_without_personal_values(store, limiter):
    result = send(store, limiter, consents={"participation": True, "partage": False})
    [entry] = store.read().rows("Journal")
    assert entry["action"] == "consentement" and entry["cible_id"] == result.row_id
    assert entry["champs"] == "consentement_participation" and "2025-09" in entry["details"]
    assert "Fontaine" not in " ".join(entry.values.values())


def test_sharing_is_optional_participation_is_required(store, limiter):
    assert send(store, limiter, consents={"participation": True, "partage": False}).accepted
    assert store.read().rows("Personnels")[0]["consentement_partage"] == ""
    refused = send(store, limiter, values=staff(email="demo.autre@ac-besancon.fr", nom="Autre"),
                   consents={"participation": False, "partage": True})
    assert not refused.accepted and refused.row_id is None
    assert "consentement" in refused.message and "consentement_participation" in refused.errors
    assert len(store.read().rows("Personnels")) == 1


def test_validation_errors_in_french_and_nothing_written(store, limiter):
    result = send(store, limiter, values=staff(email="claire.fontaine.ac-besancon.fr", code_postal="2500"))
    assert not result.accepted
    assert "il manque le @" in result.errors["email"]
    assert "4 chiffres" in result.errors["code_postal"]
    assert store.read().rows("Personnels") == []


def test_public_form_cannot_set_internal_fields(store, limiter):
    send(store, limiter, values=staff(statut="validé", source="import", notes="je me valide", id="PER-CHOSEN01"))
    [row] = store.read().rows("Personnels")
    assert row["statut"] == "à valider" and row["source"] == "auto-inscription"
    assert row["notes"] == "" and row.id != "PER-CHOSEN01"


def test_honeypot_is_silently_accepted_but_not_written(store, limiter):
    result = send(store, limiter, honeypot="http://spam.example")
    real = send(store, limiter, key="client-2")
    assert result.accepted and result.message == real.message
    assert result.row_id is None
    assert [r.id for r in store.read().rows("Personnels")] == [real.row_id]


def test_double_submit_with_the_form_id_writes_once(store, limiter):
    stale = store.read()
    first = submit(store, stale, "Personnels", staff(), YES, "", "k", NOW, submission_id="PER-FORM0001",
                   limiter=limiter)
    second = submit(store, store.read(), "Personnels", staff(), YES, "", "k", NOW, submission_id="PER-FORM0001",
                    limiter=limiter)
    third = submit(store, stale, "Personnels", staff(), YES, "", "k", NOW, submission_id="PER-FORM0001",
                   limiter=limiter)
    assert first.row_id == second.row_id == third.row_id == "PER-FORM0001"
    assert [r.id for r in store.read().rows("Personnels")] == ["PER-FORM0001"]


def test_rate_limit_per_client_with_sliding_window(store, limiter):
    for n in range(5):
        values = staff(email=f"demo.claire{n}@ac-besancon.fr", nom=f"Démo{n}")
        assert send(store, limiter, values=values, now=NOW + timedelta(minutes=n)).accepted
    blocked = send(store, limiter, values=staff(email="demo.six@ac-besancon.fr", nom="Six"),
                   now=NOW + timedelta(minutes=30))
    assert not blocked.accepted and "Trop d'inscriptions" in blocked.message
    other_client = send(store, limiter, values=staff(email="demo.sept@ac-besancon.fr", nom="Sept"), key="client-2",
                        now=NOW + timedelta(minutes=30))
    assert other_client.accepted
    later = send(store, limiter, values=staff(email="demo.huit@ac-besancon.fr", nom="Huit"),
                 now=NOW + timedelta(hours=1, seconds=1))  # the first submission left the window
    assert later.accepted
    assert len(store.read().rows("Personnels")) == 7


def test_limiter_memory_is_bounded():
    small = RateLimiter(limit=1, max_keys=3)
    for key in "abcd":
        small.record(key, NOW)
    assert small.allowed("a", NOW)  # the oldest client was forgotten
    assert not small.allowed("d", NOW)


def test_field_and_payload_size_limits(store, limiter):
    too_long = send(store, limiter, values=staff(attendus="x" * 2001))
    assert not too_long.accepted and "limité à 2000 caractères" in too_long.errors["attendus"]
    huge = send(store, limiter, values=staff(attendus="x" * 1500, **{f"champ{i}": "y" * 1000 for i in range(20)}))
    assert not huge.accepted and "trop volumineux" in huge.errors[""]
    assert f"{MAX_PAYLOAD_BYTES // 1000} ko" in huge.errors[""]
    assert store.read().rows("Personnels") == []


def test_company_registration(store, limiter):
    values = {"raison_sociale": "Scierie Démo du Jura", "code_postal": "39000", "commune_insee": "39300",
              "contact_nom": "Démo", "contact_prenom": "Paul", "contact_email": "paul@exemple-entreprise.fr",
              "siret": "73282932000074"}
    result = submit(store, store.read(), "Entreprises", values, YES, "", "c", NOW, limiter=limiter)
    assert result.accepted
    row = store.read().get("Entreprises", result.row_id)
    assert row["statut"] == "à valider" and row["departement"] == "39" and row["capacite_annuelle"] == "1"


def test_other_tabs_are_closed(store, limiter):
    result = submit(store, store.read(), "Utilisateurs", {"email": "x@exemple.fr", "role": "admin"}, YES, "", "c",
                    NOW, limiter=limiter)
    assert not result.accepted and store.read().rows("Utilisateurs") == []


def test_default_limiter_is_shared_by_calls(store, monkeypatch):
    monkeypatch.setattr(registration, "_limiter", RateLimiter(limit=1))
    assert submit(store, store.read(), "Personnels", staff(), YES, "", "same", NOW).accepted
    again = submit(store, store.read(), "Personnels", staff(email="demo.b@ac-besancon.fr", nom="B"), YES, "",
                   "same", NOW)
    assert not again.accepted and len(store.read().rows("Personnels")) == 1


def test_refused_submissions_do_not_use_up_the_limit(store):
    limiter = RateLimiter(limit=2)
    for _ in range(3):
        assert not send(store, limiter, values=staff(email="sans-arobase")).accepted
    assert send(store, limiter).accepted
    assert send(store, limiter, values=staff(email="demo.deux@ac-besancon.fr", nom="Deux")).accepted
    assert not send(store, limiter, values=staff(email="demo.trois@ac-besancon.fr", nom="Trois")).accepted


def test_client_key_trusts_x_forwarded_for_only_through_the_configured_proxies():
    key = registration.client_key
    # Default, no proxy in front: the connection's address, whatever the (forgeable) header says.
    assert key("1.1.1.1", "198.51.100.4", "s1") == key("9.9.9.9, 8.8.8.8", "198.51.100.4", "s2") \
        == key("", "198.51.100.4", "s3")
    assert key("1.1.1.1", "198.51.100.4", "s") != key("1.1.1.1", "198.51.100.5", "s")
    # One trusted proxy: the entry it appended (the rightmost); what the client put to its left is ignored.
    assert key("1.1.1.1, 203.0.113.7", "10.0.0.2", "s1", 1) == key("9.9.9.9, 203.0.113.7", "10.0.0.2", "s2", 1)
    assert key("203.0.113.7", "10.0.0.2", "s", 1) != key("203.0.113.8", "10.0.0.2", "s", 1)
    # Two proxies: the entry the outer one appended; a header shorter than the chain proves nothing.
    assert registration.client_address("6.6.6.6, 203.0.113.7, 10.0.0.9", "10.0.0.2", 2) == "203.0.113.7"
    assert registration.client_address("203.0.113.7", "10.0.0.2", 2) == "10.0.0.2"
    # Local access (no address): the session.
    assert key("", None, "s1") != key("", None, "s2")
    assert "203.0.113.7" not in key("203.0.113.7", None, "s", 1) and len(key("", None, "s")) == 16


def test_sixty_forged_headers_from_one_address_hit_the_per_address_limit(store, limiter):
    settings = RegistrationSettings(registrations_per_address_hour=5)
    accepted = 0
    for n in range(60):
        client = registration.client_key(f"10.{n}.0.1", "198.51.100.4", f"session-{n}")  # a new session each time
        values = staff(email=f"demo.forge{n}@ac-besancon.fr", nom=f"Forge{n}")
        accepted += send(store, limiter, values=values, key=client, now=NOW + timedelta(seconds=n),
                         settings=settings).accepted
    assert accepted == 5 and len(store.read().rows("Personnels")) == 5


def test_a_global_limit_on_pending_registrations_per_hour(store, limiter):
    settings = RegistrationSettings(registrations_per_address_hour=100, pending_registrations_hour=3)
    results = [send(store, limiter, values=staff(email=f"demo.g{n}@ac-besancon.fr", nom=f"G{n}"), key=f"c{n}",
                    now=NOW + timedelta(minutes=n), settings=settings) for n in range(5)]
    assert [r.accepted for r in results] == [True, True, True, False, False]
    assert "réessayez dans une heure" in results[-1].message and "3" in results[-1].errors[""]
    # Counted in the sheet (it holds across restarts): an hour later the form is open again.
    later = send(store, RateLimiter(), values=staff(email="demo.g9@ac-besancon.fr", nom="G9"), key="c9",
                 now=NOW + timedelta(minutes=64), settings=settings)
    assert later.accepted


# ---- double opt-in: the confirmation link is a personal link (services/links), opened on pages/lien.py -------

OPT_SETTINGS = RegistrationSettings(confirm_within_hours=48)
LINKS = LinkSettings(secret="une clé de test assez longue", public_url="https://rencontres.exemple.fr", days=30)
URL = re.compile(r"https://rencontres\.exemple\.fr/lien\?t=(\S+)")


def opt_in(outbox: MemoryMailer, links=LINKS):
    return registration.OptIn(OPT_SETTINGS, outbox, links)


def link_tokens(mail) -> list[str]:
    """The confirmation then the withdrawal token of a registration email."""
    return URL.findall(mail.body)


def opened(store, token, now=NOW):
    return registry.check(store.read(), LINKS, token, now=now)


def confirm(store, token, now=NOW):
    return actions.confirm_registration(store, store.read(), opened(store, token, now))


def test_with_a_mailer_the_record_waits_for_the_click_on_the_link_sent_to_the_address(store, limiter):
    outbox = MemoryMailer()
    result = send(store, limiter, settings=OPT_SETTINGS, opt_in=opt_in(outbox))
    assert result.accepted and "courriel vient d'être envoyé" in result.message and "48 heures" in result.message
    assert result.confirmation_sent
    [row] = store.read().rows("Personnels")
    assert row["statut"] == "à confirmer"
    [mail] = outbox.outbox
    assert mail.to == ("demo.claire.fontaine@ac-besancon.fr",) and "Confirmez" in mail.subject
    assert "ignorez ce message" in mail.body  # a registration nobody confirms is deleted
    token, withdrawal = link_tokens(mail)
    assert "fontaine" not in token.lower() and "@" not in token  # the address never travels in the link
    link = opened(store, token)
    assert link.purpose == registry.CONFIRMATION and link.row["cible_tab"] == "Personnels"
    assert opened(store, withdrawal).purpose == registry.WITHDRAWAL  # every email carries the withdrawal link
    expiry = parse_datetime(link.row["expire_le"])
    assert expiry == NOW + timedelta(hours=48)  # valid for the delay after which the record is purged
    done = [e["action"] for e in store.read().rows("Journal")]
    assert "inscription à confirmer" in done and "consentement" not in done  # no consent yet

    assert "confirmée" in confirm(store, token, NOW + timedelta(hours=2))
    row = store.read().get("Personnels", row.id)
    assert row["statut"] == "à valider"
    [proof] = [e for e in store.read().rows("Journal") if e["action"] == "confirmation inscription"]
    assert (proof["cible_id"], proof["finalite"]) == (row.id, "gestion des consentements")
    assert "consentement_participation" in proof["champs"] and "lien signé" in proof["details"]
    assert "fontaine" not in " ".join(proof.values.values()).lower()
    assert "confirmée par la personne" in registration.address_line(store.read(), "Personnels", row)
    assert actions.confirmed(store.read(), "Personnels", row.id)
    entries = len(store.read().rows("Journal"))
    with pytest.raises(registry.LinkRefused, match="déjà servi"):
        confirm(store, token, NOW + timedelta(hours=3))
    assert len(store.read().rows("Journal")) == entries  # a second click journals nothing


def test_a_forged_altered_expired_or_stale_link_confirms_nothing(store, limiter):
    outbox = MemoryMailer()
    send(store, limiter, settings=OPT_SETTINGS, opt_in=opt_in(outbox))
    token, _withdrawal = link_tokens(outbox.outbox[0])
    [row] = store.read().rows("Personnels")
    [link_row] = [r for r in store.read().rows("Liens") if r["objet"] == registry.CONFIRMATION]
    other_key = LinkSettings(secret="une autre clé assez longue", public_url=LINKS.public_url)
    forged = registry.token_for(other_key, link_row, row["email"])
    payload, signature = token.split(".")
    for bad, when in ((forged, NOW), (payload + "." + signature[:-2] + "AA", NOW), ("n'importe quoi", NOW),
                      (token, NOW + timedelta(hours=49))):
        with pytest.raises(registry.LinkRefused, match="^Ce lien"):
            confirm(store, bad, when)
    # The record's address changed since: the link was for the old one.
    store.update("Personnels", row.id, {"email": "demo.autre@ac-besancon.fr"}, row.fingerprint)
    with pytest.raises(registry.LinkRefused, match="^Ce lien"):
        confirm(store, token)
    assert store.read().get("Personnels", row.id)["statut"] == "à confirmer"


def test_unconfirmed_registrations_are_purged_after_the_delay(store, limiter):
    outbox = MemoryMailer()
    send(store, limiter, settings=OPT_SETTINGS, opt_in=opt_in(outbox))
    send(store, limiter, values=staff(email="demo.tard@ac-besancon.fr", nom="Tard"), now=NOW + timedelta(hours=30),
         settings=OPT_SETTINGS, opt_in=opt_in(outbox))
    confirmed = send(store, limiter, values=staff(email="demo.ok@ac-besancon.fr", nom="Ok"), settings=OPT_SETTINGS,
                     opt_in=opt_in(outbox))
    confirm(store, link_tokens(outbox.outbox[-1])[0])
    later = NOW + timedelta(hours=49)
    assert "1" in registration.purge_unconfirmed(store, store.read(), later, 48, dry_run=True)
    assert len(store.read().rows("Personnels")) == 3
    registration.purge_unconfirmed(store, store.read(), later, 48)
    left = {r["nom"]: r["statut"] for r in store.read().rows("Personnels")}
    assert left == {"Tard": "à confirmer", "Ok": "à valider"} and confirmed.row_id
    entry = store.read().rows("Journal")[-1]
    assert entry["action"] == "purge inscriptions non confirmées" and "Démo-Fontaine" not in entry["details"]
    with pytest.raises(registry.LinkRefused, match="pas valide"):  # the purged record's link confirms nothing
        confirm(store, link_tokens(outbox.outbox[0])[0], NOW + timedelta(hours=1))


def test_without_a_mailer_or_links_or_when_sending_fails_the_coordinator_is_told_the_address_is_unconfirmed(
        store, limiter):
    no_server = send(store, limiter, settings=OPT_SETTINGS, opt_in=opt_in(MemoryMailer(available=False)))
    assert no_server.accepted and no_server.message == registration.THANKS and not no_server.confirmation_sent
    no_links = send(store, limiter, values=staff(email="demo.sans@ac-besancon.fr", nom="Sans"),
                    settings=OPT_SETTINGS, opt_in=opt_in(MemoryMailer(), links=LinkSettings()))
    assert no_links.message == registration.THANKS
    broken = MemoryMailer(fail=MailError("Serveur d'envoi smtp.exemple.fr:587 injoignable (refus)."))
    failed = send(store, limiter, values=staff(email="demo.panne@ac-besancon.fr", nom="Panne"), settings=OPT_SETTINGS,
                  opt_in=opt_in(broken))
    assert failed.accepted and failed.message == registration.THANKS and not broken.outbox
    snapshot = store.read()
    assert len(snapshot.rows("Personnels")) == 3
    for row in snapshot.rows("Personnels"):
        assert row["statut"] == "à valider"
        assert "non confirmée" in registration.address_line(snapshot, "Personnels", row)


def test_the_honeypot_answers_as_a_registration_waiting_for_its_click(store, limiter):
    outbox = MemoryMailer()
    bot = send(store, limiter, honeypot="http://spam.example", settings=OPT_SETTINGS, opt_in=opt_in(outbox))
    real = send(store, limiter, key="client-2", settings=OPT_SETTINGS, opt_in=opt_in(outbox))
    assert bot.message == real.message and bot.row_id is None and len(outbox.outbox) == 1


def test_registration_settings_from_secrets_and_environment(tmp_path):
    from ecole_entreprise.config import load_settings

    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[app]\ntrusted_proxy_hops = 1\npending_registrations_hour = 30\nconfirm_within_hours = 24\n')
    settings = load_settings({}, secrets_paths=[secrets]).registration
    assert settings.trusted_proxy_hops == 1 and settings.pending_registrations_hour == 30
    assert settings.confirm_within_hours == 24
    env = {"ECOLE_ENTREPRISE_TRUSTED_PROXY_HOPS": "2", "ECOLE_ENTREPRISE_CONFIRM_WITHIN_HOURS": "12"}
    settings = load_settings(env, secrets_paths=[secrets]).registration
    assert settings.trusted_proxy_hops == 2 and settings.confirm_within_hours == 12
    assert load_settings({}, secrets_paths=[]).registration == RegistrationSettings()
    assert RegistrationSettings().confirm_within_hours == 48 and RegistrationSettings().trusted_proxy_hops == 0
