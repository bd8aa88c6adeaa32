"""Introduction email: disclosure rule, template, RFC 5545 .ics, real SMTP delivery on loopback, mailto."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

import icalendar
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from ecole_entreprise.config import SmtpSettings
from ecole_entreprise.domain.roles import User
from ecole_entreprise.mail import MemoryMailer, SmtpMailer
from ecole_entreprise.mail.smtp import build_message
from ecole_entreprise.services.kernel.access import AccessDenied
from ecole_entreprise.services.meetings import introduction
from ecole_entreprise.services.meetings import lifecycle as meetings
from ecole_entreprise.services.meetings.introduction import IntroductionRefused, SendFailed, TemplateError
from tests.test_meetings import CONSENT, PLANNED_VALUES, USER, SheetStore, add_company, add_meeting, add_staff

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2026, 1, 10, 9, 15, tzinfo=dt.UTC)


@pytest.fixture
def store():
    return SheetStore()


@pytest.fixture
def planned(store):
    company = add_company(store, raison_sociale="Menuiserie Alpha; Fils, et Cie")
    staff = add_staff(store)
    return add_meeting(store, company, staff, **PLANNED_VALUES)


@pytest.fixture
def journal(monkeypatch):
    calls = []
    original = meetings.record_journal

    def spy(store, user, action, tab, row_id, champs, finalite, details):
        calls.append({"action": action, "row_id": row_id, "champs": list(champs), "actor": user.email})
        original(store, user, action, tab, row_id, champs, finalite, details)

    monkeypatch.setattr(meetings, "record_journal", spy)
    return calls


def prepare(store, meeting_id, **options):
    return introduction.prepare(store.read(), USER, meeting_id, store=store,
                                signature="Claire Roy\nService école-entreprise", cc=["coord@ac-dijon.fr"], now=NOW,
                                **options)


# ---- disclosure rule ----------------------------------------------------------------------------------------


def test_refused_with_french_reasons_until_disclosure_is_allowed(store):
    company = add_company(store)
    staff = add_staff(store, consentement_partage="")
    meeting = add_meeting(store, company, staff, acceptation_entreprise=CONSENT)
    with pytest.raises(IntroductionRefused) as refused:
        prepare(store, meeting.id)
    assert "Le personnel n'a pas consenti au partage de ses coordonnées." in refused.value.reasons
    assert "La rencontre n'a pas encore été acceptée par les deux parties." in refused.value.reasons
    assert str(refused.value).startswith("Mise en relation impossible : ")
    with pytest.raises(IntroductionRefused):
        introduction.mark_sent(store, store.read(), USER, meeting.id)
    assert store.read().get("Rencontres", meeting.id)["introduction_envoyee"] == ""


@pytest.mark.parametrize("side, reason", [
    ("entreprise", "L'entreprise n'a pas donné son consentement à participer."),
    ("personnel", "Le personnel n'a pas donné son consentement à participer."),
])
def test_each_participation_consent_is_required(store, side, reason):
    company = add_company(store, **({"consentement_participation": ""} if side == "entreprise" else {}))
    staff = add_staff(store, **({"consentement_participation": ""} if side == "personnel" else {}))
    meeting = add_meeting(store, company, staff, **PLANNED_VALUES)
    with pytest.raises(IntroductionRefused) as refused:
        prepare(store, meeting.id)
    assert refused.value.reasons == [reason]
    with pytest.raises(IntroductionRefused):
        introduction.mark_sent(store, store.read(), USER, meeting.id)


def test_a_cancelled_meeting_discloses_nothing_even_after_both_acceptances(store):
    from ecole_entreprise.services.privacy.contacts import reveal_contacts

    meeting = add_meeting(store, add_company(store), add_staff(store), **{**PLANNED_VALUES, "statut": "annulée",
                                                                          "motif": "report"})
    with pytest.raises(IntroductionRefused) as refused:
        prepare(store, meeting.id)
    assert refused.value.reasons == ["La rencontre est au statut « annulée »."]
    with pytest.raises(AccessDenied, match="annulée"):
        reveal_contacts(store, USER, meeting.id, "vérification", side="personnel")


def test_missing_email_blocks_the_introduction(store):
    meeting = add_meeting(store, add_company(store, contact_email=""), add_staff(store), **PLANNED_VALUES)
    with pytest.raises(IntroductionRefused, match="pas d'adresse électronique de contact"):
        prepare(store, meeting.id)


# ---- content ------------------------------------------------------------------------------------------------


def test_email_names_both_parties_and_the_appointment(store, planned):
    mail = prepare(store, planned.id)
    assert mail.to == ["lea.martin@alpha.fr", "paul.durand@ac-dijon.fr"] and mail.cc == ["coord@ac-dijon.fr"]
    assert mail.subject == "Rencontre école-entreprise : Menuiserie Alpha; Fils, et Cie et Lycée Carnot"
    for expected in ("Bonjour Léa Martin, bonjour Paul Durand,", "Courriel : lea.martin@alpha.fr",
                     "Téléphone : 06 12 34 56 78", "Lycée Carnot",
                     "déjeuner, le lundi 19 janvier 2026 à 12 h 30, Restaurant Le Central, Dijon "
                     "(visite de l'entreprise avant la rencontre)", "Claire Roy\nService école-entreprise"):
        assert expected in mail.body
    assert "$" not in mail.body


def test_phones_read_as_french_numbers_and_a_missing_role_is_named(store):
    company = add_company(store, contact_telephone="+33380234567", contact_fonction="")
    staff = add_staff(store, telephone="+41223456789")
    mail = prepare(store, add_meeting(store, company, staff, **PLANNED_VALUES).id)
    assert "Léa Martin (fonction non renseignée), Menuiserie Alpha" in mail.body
    assert "Téléphone : 03 80 23 45 67" in mail.body and "Téléphone : +41 22 345 67 89" in mail.body
    assert "+33380234567" not in mail.body and "(non renseigné)" not in mail.body


def test_custom_template_and_template_errors(store, planned):
    mail = prepare(store, planned.id, subject_template="Mise en relation $entreprise",
                   body_template="Le $date à $heure ($lieu) – coût $$0\n$signature")
    assert mail.body.startswith("Le lundi 19 janvier 2026 à 12 h 30 (Restaurant Le Central, Dijon) – coût $0\n")
    with pytest.raises(TemplateError, match="« \\$adresse », qui n'existe pas"):
        prepare(store, planned.id, body_template="Rendez-vous à $adresse")
    with pytest.raises(TemplateError, match="« \\$ » isolé"):
        prepare(store, planned.id, body_template="Prix : 5 $ ")


def test_without_a_date_the_email_says_to_agree_and_has_no_ics(store):
    meeting = add_meeting(store, add_company(store), add_staff(store), statut="acceptée",
                          acceptation_entreprise=CONSENT, acceptation_personnel=CONSENT, format="salon")
    mail = prepare(store, meeting.id)
    assert mail.ics is None
    assert "Rencontre : salon, date et lieu à convenir entre vous." in mail.body


# ---- .ics ---------------------------------------------------------------------------------------------------


def _physical_lines(ics: bytes) -> list[bytes]:
    assert ics.endswith(b"\r\n") and b"\n" not in ics.replace(b"\r\n", b"")
    return ics.split(b"\r\n")[:-1]


def test_ics_is_valid_rfc5545_with_paris_times(store, planned):
    ics = prepare(store, planned.id).ics
    lines = _physical_lines(ics)
    assert all(len(line) <= 75 for line in lines)
    assert any(line.startswith(b" ") for line in lines)  # the long description is folded
    assert b"DTSTART;TZID=Europe/Paris:20260119T123000" in lines
    assert b"BEGIN:VTIMEZONE" in lines and b"DTSTAMP:20260110T091500Z" in lines
    calendar = icalendar.Calendar.from_ical(ics)
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"{planned.id}@rencontres-ecole-entreprise.bfc"
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start == dt.datetime(2026, 1, 19, 12, 30, tzinfo=PARIS)
    assert start.utcoffset() == dt.timedelta(hours=1)
    assert end - start == dt.timedelta(hours=3)  # two hours plus the company visit
    assert str(event["LOCATION"]) == "Restaurant Le Central, Dijon"
    assert str(event["SUMMARY"]) == "Rencontre école-entreprise : Menuiserie Alpha; Fils, et Cie et Lycée Carnot"
    assert "Léa Martin (Menuiserie Alpha; Fils, et Cie) et Paul Durand (Lycée Carnot)\nFormat : déjeuner" in str(
        event["DESCRIPTION"])
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]


def test_ics_summer_time_and_all_day_event(store):
    company, staff = add_company(store), add_staff(store)
    summer = add_meeting(store, company, staff, **{**PLANNED_VALUES, "date": "2026-06-02", "visite": "aucune"})
    event = icalendar.Calendar.from_ical(prepare(store, summer.id).ics).walk("VEVENT")[0]
    assert event.decoded("DTSTART").utcoffset() == dt.timedelta(hours=2)
    assert event.decoded("DTEND") - event.decoded("DTSTART") == dt.timedelta(hours=2)
    all_day = add_meeting(store, company, add_staff(store), **{**PLANNED_VALUES, "heure": ""})
    event = icalendar.Calendar.from_ical(prepare(store, all_day.id).ics).walk("VEVENT")[0]
    assert event.decoded("DTSTART") == dt.date(2026, 1, 19) and event.decoded("DTEND") == dt.date(2026, 1, 20)


def test_folding_never_splits_a_utf8_character_and_unfolds_back():
    line = "DESCRIPTION:" + "é" * 100 + "€" * 30
    folded = introduction.ics_fold(line).encode("utf-8")
    physical = folded.split(b"\r\n")
    assert len(physical) > 2 and all(len(p) <= 75 for p in physical)
    assert all(p.decode("utf-8") for p in physical)  # each piece is valid UTF-8 on its own
    assert folded.replace(b"\r\n ", b"").decode("utf-8") == line


def test_text_escaping():
    assert introduction.ics_escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"


# ---- SMTP on loopback ----------------------------------------------------------------------------------------


class Inbox:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


def received(envelope) -> EmailMessage:
    return email.message_from_bytes(envelope.content, policy=email.policy.default)


def test_send_delivers_body_and_parsable_ics(store, planned, smtp_server, journal):
    inbox, port = smtp_server
    settings = SmtpSettings(host="127.0.0.1", port=port, starttls=False, sender="ecole-entreprise@ac-dijon.fr")
    mail = prepare(store, planned.id)
    confirmation = introduction.send_introduction(store, store.read(), USER, mail, SmtpMailer(settings, timeout=5))
    assert confirmation == ("Courriel de mise en relation envoyé à lea.martin@alpha.fr, paul.durand@ac-dijon.fr, "
                            "coord@ac-dijon.fr.")
    [envelope] = inbox.envelopes
    assert envelope.mail_from == "ecole-entreprise@ac-dijon.fr"
    assert sorted(envelope.rcpt_tos) == sorted(mail.to + mail.cc)
    message = received(envelope)
    assert message["Subject"] == mail.subject and message["Cc"] == "coord@ac-dijon.fr"
    assert message.get_body(("plain",)).get_content().replace("\r\n", "\n") == mail.body
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar" and attachment.get_filename() == "rencontre.ics"
    event = icalendar.Calendar.from_ical(attachment.get_payload(decode=True)).walk("VEVENT")[0]
    assert event.decoded("DTSTART") == dt.datetime(2026, 1, 19, 12, 30, tzinfo=PARIS)
    row = store.read().get("Rencontres", planned.id)
    dt.datetime.strptime(row["introduction_envoyee"], "%Y-%m-%d %H:%M:%S")
    assert [(c["action"], c["row_id"], c["actor"]) for c in journal] == [
        ("préparation mise en relation", planned.id, "coord@ac-dijon.fr"),
        ("mise en relation", planned.id, "coord@ac-dijon.fr")]
    assert all("Personnels.email" in c["champs"] for c in journal)


@pytest.mark.parametrize("subject", [
    "Mise en relation — Lycée Château-Thierry × Société Éléonore à Besançon",
    "Rencontre École–Entreprise : Établissements Dupont-Lefèvre Métallurgie de Bourgogne-Franche-Comté et "
    "Mme Éléonore Château (professeure de génie électrique, lycée professionnel « Côte-d'Or » à Beaune) — déjeuner",
    "Plain ASCII subject " * 8,
])
def test_subject_reads_back_exactly_whatever_its_length_and_accents(subject):
    mail = introduction.IntroductionEmail(to=["a@exemple.fr"], cc=[], subject=subject.strip(), body="Bonjour",
                                          ics=None)
    message = email.message_from_bytes(build_message(introduction.as_mail(mail), "ee@ac-dijon.fr"),
                                       policy=email.policy.default)
    assert message["Subject"] == subject.strip()
    assert message.get_body(("plain",)).get_content().strip() == "Bonjour"


def test_send_is_recorded_even_if_the_row_changed_meanwhile(store, planned, smtp_server):
    inbox, port = smtp_server
    settings = SmtpSettings(host="127.0.0.1", port=port, starttls=False, sender="ecole-entreprise@ac-dijon.fr")
    snapshot = store.read()
    mail = introduction.prepare(snapshot, USER, planned.id, store=store, signature="C. Roy")
    store.human_edit("Rencontres", planned.id, attendus_personnel="ajouté dans la feuille")
    introduction.send_introduction(store, snapshot, USER, mail, SmtpMailer(settings, timeout=5))
    row = store.read().get("Rencontres", planned.id)
    assert row["introduction_envoyee"] and row["attendus_personnel"] == "ajouté dans la feuille"
    assert len(inbox.envelopes) == 1


def _self_signed(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def tls_server(tmp_path):
    cert_path, key_path = _self_signed(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_path, key_path)
    inbox, logins = Inbox(), []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password, session.ssl is not None))
        ok = (auth_data.login, auth_data.password) == (b"coordination", b"s3cret")
        return AuthResult(success=ok, handled=False)  # not handled: the server answers 535 itself

    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), tls_context=server_context,
                            require_starttls=True, auth_required=True, authenticator=authenticator)
    controller.start()
    yield inbox, logins, controller.port, ssl.create_default_context(cafile=str(cert_path))
    controller.stop()


def test_starttls_then_login(store, planned, tls_server):
    inbox, logins, port, client_context = tls_server
    settings = SmtpSettings(host="127.0.0.1", port=port, starttls=True, user="coordination", password="s3cret",
                            sender="ecole-entreprise@ac-dijon.fr")
    mail = prepare(store, planned.id)
    assert introduction.send(mail, SmtpMailer(settings, ssl_context=client_context, timeout=5)).startswith(
        "Courriel de mise en relation envoyé à")
    assert logins == [(b"coordination", b"s3cret", True)]  # credentials only ever sent inside TLS
    assert len(inbox.envelopes) == 1
    wrong = SmtpSettings(host="127.0.0.1", port=port, starttls=True, user="coordination", password="faux",
                         sender="ecole-entreprise@ac-dijon.fr")
    with pytest.raises(SendFailed, match="refusé l'identifiant ou le mot de passe"):
        introduction.send(mail, SmtpMailer(wrong, ssl_context=client_context, timeout=5))
    assert len(inbox.envelopes) == 1


def test_send_failures_are_french_and_leave_the_meeting_untouched(store, planned):
    mail = prepare(store, planned.id)
    with pytest.raises(SendFailed, match="Aucun serveur d'envoi.*lien de messagerie"):
        introduction.send_introduction(store, store.read(), USER, mail, SmtpSettings())  # as the page passes it
    with pytest.raises(SendFailed, match="Aucun serveur d'envoi"):
        introduction.send_introduction(store, store.read(), USER, mail, MemoryMailer(available=False))
    closed = SmtpSettings(host="127.0.0.1", port=free_port(), starttls=False, sender="a@ac-dijon.fr")
    with pytest.raises(SendFailed, match="injoignable"):
        introduction.send_introduction(store, store.read(), USER, mail, SmtpMailer(closed, timeout=2))
    with pytest.raises(SendFailed, match="Adresse d'expéditeur manquante"):
        introduction.send(mail, SmtpSettings(host="127.0.0.1", port=25))
    assert store.read().get("Rencontres", planned.id)["introduction_envoyee"] == ""


def test_the_introduction_goes_to_the_mailer_given_with_its_calendar(store, planned):
    outbox = MemoryMailer(refuse=frozenset({"coord@ac-dijon.fr"}))
    mail = prepare(store, planned.id)
    confirmation = introduction.send_introduction(store, store.read(), USER, mail, outbox)
    assert confirmation == ("Courriel de mise en relation envoyé à lea.martin@alpha.fr, paul.durand@ac-dijon.fr. "
                            "Adresses refusées par le serveur : coord@ac-dijon.fr.")
    [sent] = outbox.outbox
    assert (sent.to, sent.cc, sent.subject, sent.body) == (tuple(mail.to), tuple(mail.cc), mail.subject, mail.body)
    [calendar] = sent.attachments
    assert (calendar.filename, calendar.maintype, calendar.subtype, calendar.content) == (
        "rencontre.ics", "text", "calendar", mail.ics)
    assert store.read().get("Rencontres", planned.id)["introduction_envoyee"]


# ---- without SMTP -------------------------------------------------------------------------------------------


def test_mailto_link_and_plain_text(store, planned, journal):
    mail = prepare(store, planned.id)
    link = urlsplit(introduction.mailto_link(mail))
    assert link.scheme == "mailto"
    assert unquote(link.path).split(",") == mail.to
    query = parse_qs(link.query)
    assert query["cc"] == ["coord@ac-dijon.fr"] and query["subject"] == [mail.subject]
    assert query["body"][0] == mail.body.replace("\n", "\r\n")
    text = introduction.plain_text(mail)
    assert text.startswith("À : lea.martin@alpha.fr, paul.durand@ac-dijon.fr\nCc : coord@ac-dijon.fr\nObjet : ")
    assert text.endswith(mail.body)
    introduction.mark_sent(store, store.read(), USER, planned.id, channel="copie du texte")
    assert store.read().get("Rencontres", planned.id)["introduction_envoyee"]
    assert [c["action"] for c in journal] == ["préparation mise en relation", "mise en relation"]


def test_only_coordinators_of_the_meeting_see_the_contacts(store, planned):
    snapshot = store.read()
    for outsider in (User(email="comite@region.fr", role="comité de pilotage"),
                     User(email="ac@besancon.fr", role="coordinateur académie", departements=frozenset({"25"}))):
        with pytest.raises(AccessDenied):
            introduction.prepare(snapshot, outsider, planned.id, store=store, signature="x")
        with pytest.raises(AccessDenied):
            introduction.mark_sent(store, snapshot, outsider, planned.id)
    local = User(email="ac@dijon.fr", role="coordinateur académie", departements=frozenset({"21"}))
    assert introduction.prepare(snapshot, local, planned.id, store=store, signature="x").to[1] == \
        "paul.durand@ac-dijon.fr"
    assert store.read().get("Rencontres", planned.id)["introduction_envoyee"] == ""
    # refusals left no trace; the one prepared message did, naming its reader
    prepared = [r for r in store.read().rows("Journal") if r["action"] == "préparation mise en relation"]
    assert [(r["acteur"], r["cible_id"]) for r in prepared] == [("ac@dijon.fr", planned.id)]


def test_real_journal_records_the_disclosure_without_contact_values(store, planned):
    introduction.mark_sent(store, store.read(), USER, planned.id, channel="lien de messagerie")
    [entry] = [r for r in store.read().rows("Journal") if r["action"] == "mise en relation"]
    assert (entry["acteur"], entry["cible_tab"], entry["cible_id"]) == ("coord@ac-dijon.fr", "Rencontres", planned.id)
    assert "Personnels.email" in entry["champs"] and "@" not in entry["details"]
