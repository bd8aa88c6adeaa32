"""The mail port and its adapters: the SMTP adapter against a real server on loopback (aiosmtpd), the in-memory
outbox the service tests use, the one place that builds the configured mailer, and the operational log line."""

from __future__ import annotations

import email
import email.policy
import io
import json

import pytest
from aiosmtpd.controller import Controller

from ecole_entreprise import logs
from ecole_entreprise.config import Settings, SmtpSettings, load_settings
from ecole_entreprise.mail import (
    Attachment,
    Mail,
    MailError,
    MailUnavailable,
    MemoryMailer,
    SmtpMailer,
    configured_mailer,
    mailer_for,
)
from tests.test_introduction import free_port

SENDER = "ecole-entreprise@ac-dijon.fr"
REFUSED = "inconnu@exemple.fr"
MAIL = Mail(to=("lea.martin@alpha.fr",), cc=("coord@ac-dijon.fr",), subject="Rencontre — Lycée Éléonore × Société",
            body="Bonjour,\n\nVoici l'invitation.\n",
            attachments=(Attachment("rencontre.ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text", "calendar",
                                    (("method", "PUBLISH"), ("charset", "utf-8"))),))


class Server:
    """Accepts every recipient but REFUSED; keeps what it received."""

    def __init__(self):
        self.envelopes = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == REFUSED:
            return "550 5.1.1 Utilisateur inconnu"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
def server():
    inbox = Server()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, SmtpSettings(host="127.0.0.1", port=controller.port, starttls=False, sender=SENDER)
    controller.stop()


def test_the_smtp_adapter_delivers_the_message_as_written(server):
    inbox, settings = server
    delivery = SmtpMailer(settings, timeout=5).send(MAIL)
    assert delivery.sent == ("lea.martin@alpha.fr", "coord@ac-dijon.fr") and delivery.refused == ()
    [envelope] = inbox.envelopes
    assert envelope.mail_from == SENDER and envelope.rcpt_tos == ["lea.martin@alpha.fr", "coord@ac-dijon.fr"]
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert (message["From"], message["To"], message["Cc"]) == (SENDER, "lea.martin@alpha.fr", "coord@ac-dijon.fr")
    assert message["Subject"] == MAIL.subject  # accents and the spaces between non-ASCII words kept
    assert message["Message-ID"].endswith("@ac-dijon.fr>") and message["Date"]
    assert message.get_body(("plain",)).get_content().replace("\r\n", "\n") == MAIL.body
    [calendar] = list(message.iter_attachments())
    assert calendar.get_content_type() == "text/calendar" and calendar.get_filename() == "rencontre.ics"
    assert calendar.get_param("method") == "PUBLISH"
    assert calendar.get_payload(decode=True) == MAIL.attachments[0].content


def test_an_address_the_server_refuses_is_reported_and_the_others_get_the_mail(server):
    inbox, settings = server
    delivery = SmtpMailer(settings, timeout=5).send(Mail(to=("lea.martin@alpha.fr", REFUSED), subject="Objet",
                                                         body="Texte"))
    assert delivery.sent == ("lea.martin@alpha.fr",) and delivery.refused == (REFUSED,)
    assert inbox.envelopes[0].rcpt_tos == ["lea.martin@alpha.fr"]
    with pytest.raises(MailError, match="refusé tous les destinataires"):
        SmtpMailer(settings, timeout=5).send(Mail(to=(REFUSED,), subject="Objet", body="Texte"))
    assert len(inbox.envelopes) == 1


def test_sending_failures_are_french_and_name_no_content(server):
    _inbox, settings = server
    with pytest.raises(MailUnavailable, match="Aucun serveur d'envoi"):
        SmtpMailer(SmtpSettings()).send(MAIL)
    assert not SmtpMailer(SmtpSettings()).available and SmtpMailer(settings).available
    with pytest.raises(MailError, match="Adresse d'expéditeur manquante"):
        SmtpMailer(SmtpSettings(host="127.0.0.1", port=settings.port)).send(MAIL)
    closed = SmtpSettings(host="127.0.0.1", port=free_port(), starttls=False, sender=SENDER)
    with pytest.raises(MailError, match=f"127.0.0.1:{closed.port} injoignable") as failure:
        SmtpMailer(closed, timeout=2).send(MAIL)
    assert "Lycée" not in str(failure.value) and "lea.martin" not in str(failure.value)


def test_the_check_reaches_the_server_without_sending(server):
    inbox, settings = server
    assert SmtpMailer(settings, timeout=5).check() == f"127.0.0.1:{settings.port} répond"
    assert inbox.envelopes == []
    closed = SmtpSettings(host="127.0.0.1", port=free_port(), starttls=False)
    with pytest.raises(MailError, match="injoignable \\(ConnectionRefusedError\\)"):
        SmtpMailer(closed, timeout=2).check()
    with pytest.raises(MailUnavailable):
        SmtpMailer(SmtpSettings()).check()


def test_a_sending_is_one_log_line_with_counts_never_an_address(server):
    _inbox, settings = server
    stream = io.StringIO()
    logs.configure(load_settings(env={"ECOLE_ENTREPRISE_LOG_JSON": "1"}, secrets_paths=()), stream=stream, force=True)
    try:
        SmtpMailer(settings, timeout=5).send(MAIL)
        with pytest.raises(MailError):
            SmtpMailer(SmtpSettings(host="127.0.0.1", port=free_port(), sender=SENDER, starttls=False),
                       timeout=2).send(MAIL)
    finally:
        logs.configure(force=True)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    sent, failed = [line for line in lines if line["event"] == "envoi courriel"]
    assert (sent["destinataires"], sent["outcome"], failed["outcome"]) == (2, "ok", "ConnectionRefusedError")
    assert sent["ms"] >= 0
    assert "@" not in stream.getvalue() and "Lycée" not in stream.getvalue()


def test_the_memory_outbox_keeps_what_a_service_sent():
    outbox = MemoryMailer(refuse=frozenset({"coord@ac-dijon.fr"}))
    delivery = outbox.send(MAIL)
    assert delivery.sent == ("lea.martin@alpha.fr",) and delivery.refused == ("coord@ac-dijon.fr",)
    assert outbox.outbox == [MAIL] and outbox.to("coord@ac-dijon.fr") == [MAIL] and outbox.to("x@y.fr") == []
    with pytest.raises(MailError, match="tous les destinataires"):
        outbox.send(Mail(to=("coord@ac-dijon.fr",), subject="s", body="b"))
    down = MemoryMailer(fail=MailError("Serveur d'envoi injoignable."))
    with pytest.raises(MailError, match="injoignable"):
        down.send(MAIL)
    with pytest.raises(MailUnavailable):
        MemoryMailer(available=False).send(MAIL)
    assert down.outbox == [] and len(outbox.outbox) == 1


def test_one_place_builds_the_configured_mailer():
    smtp = SmtpSettings(host="smtp.exemple.fr", sender=SENDER)
    built = configured_mailer(Settings(smtp=smtp))
    assert isinstance(built, SmtpMailer) and built.settings == smtp and built.available
    assert not configured_mailer(Settings()).available  # no [smtp]: the pages offer mailto and the text instead
    assert isinstance(mailer_for(smtp), SmtpMailer) and mailer_for(smtp).settings == smtp
    memory = MemoryMailer()
    assert mailer_for(memory) is memory
