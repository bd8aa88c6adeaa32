"""The SMTP adapter: the [smtp] server of secrets.toml (implicit TLS on port 465, else STARTTLS unless turned off,
then login when a user is set). The only module that knows smtplib and how a message is written on the wire."""

from __future__ import annotations

import smtplib
import ssl
from email.header import Header
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid

from .. import logs
from ..config import SmtpSettings
from .base import Delivery, Mail, MailError, MailUnavailable

SEND_TIMEOUT_S = 20.0
IMPLICIT_TLS_PORT = 465


def build_message(mail: Mail, sender: str) -> bytes:
    """The message as sent (CRLF line ends). The subject is encoded by email.header.Header: the default policy's
    encoder drops the space between two adjacent non-ASCII words ("Lycée — Lycée" reads "Lycée— Lycée")."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(mail.to)
    if mail.cc:
        message["Cc"] = ", ".join(mail.cc)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(mail.body)
    for item in mail.attachments:
        message.add_attachment(item.content, maintype=item.maintype, subtype=item.subtype, filename=item.filename,
                               params=dict(item.params))
    charset = "us-ascii" if mail.subject.isascii() else "utf-8"
    subject = Header(mail.subject, charset, header_name="Subject").encode(linesep="\r\n")
    return f"Subject: {subject}\r\n".encode("ascii") + message.as_bytes(policy=SMTP)


class SmtpMailer:
    def __init__(self, settings: SmtpSettings, *, ssl_context: ssl.SSLContext | None = None,
                 timeout: float = SEND_TIMEOUT_S):
        self.settings, self.timeout = settings, timeout
        self._context = ssl_context

    @property
    def available(self) -> bool:
        return self.settings.configured

    @property
    def sender(self) -> str:
        return self.settings.sender or self.settings.user

    def _connect(self) -> smtplib.SMTP:
        smtp, context = self.settings, self._context or ssl.create_default_context()
        if smtp.port == IMPLICIT_TLS_PORT:
            return smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=self.timeout, context=context)
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=self.timeout)
        try:
            if smtp.starttls:
                client.starttls(context=context)
        except BaseException:
            client.close()
            raise
        return client

    def send(self, mail: Mail) -> Delivery:
        if not self.available:
            raise MailUnavailable()
        if "@" not in self.sender:
            raise MailError("Adresse d'expéditeur manquante : renseignez « sender » dans la section [smtp].")
        message = build_message(mail, self.sender)
        try:
            with logs.timed("envoi courriel", "mail", destinataires=len(mail.recipients)), self._connect() as client:
                if self.settings.user:
                    client.login(self.settings.user, self.settings.password)
                refused = client.sendmail(self.sender, mail.recipients, message)
        except smtplib.SMTPAuthenticationError:
            raise MailError("Le serveur d'envoi a refusé l'identifiant ou le mot de passe SMTP.") from None
        except smtplib.SMTPRecipientsRefused:
            raise MailError("Le serveur d'envoi a refusé tous les destinataires : vérifiez les adresses.") from None
        except (smtplib.SMTPException, ssl.SSLError) as error:
            raise MailError(f"Le serveur d'envoi a refusé le courriel ({error}).") from None
        except OSError as error:
            raise MailError(f"Serveur d'envoi {self.settings.host}:{self.settings.port} injoignable "
                            f"({error}).") from None
        return Delivery(tuple(a for a in mail.recipients if a not in refused), tuple(refused))

    def check(self) -> str:
        """Connect (and STARTTLS) without logging in nor sending: what `doctor` asks."""
        if not self.available:
            raise MailUnavailable()
        try:
            with self._connect() as client:
                client.ehlo_or_helo_if_needed()
        except (OSError, smtplib.SMTPException, ssl.SSLError) as error:
            raise MailError(f"{self.settings.host}:{self.settings.port} injoignable ({type(error).__name__}).") \
                from None
        return f"{self.settings.host}:{self.settings.port} répond"
