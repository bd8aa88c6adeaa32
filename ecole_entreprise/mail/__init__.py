"""Sending email behind a port, as the store is: services receive a `Mailer` and never open a connection.

`configured_mailer` is the one place that builds the mailer the settings describe (the [smtp] server);
tests hand services a `MemoryMailer` instead. Only this package knows smtplib (an import-linter contract).
"""

from __future__ import annotations

from ..config import Settings, SmtpSettings
from .base import NO_SERVER, Attachment, Delivery, Mail, Mailer, MailError, MailUnavailable
from .memory import MemoryMailer
from .smtp import SmtpMailer

__all__ = ["NO_SERVER", "Attachment", "Delivery", "Mail", "MailError", "MailUnavailable", "Mailer", "MemoryMailer",
           "SmtpMailer", "configured_mailer", "mailer_for"]


def configured_mailer(settings: Settings) -> Mailer:
    """The mailer of this installation: the [smtp] server (not `available` when none is configured)."""
    return SmtpMailer(settings.smtp)


def mailer_for(mailer: Mailer | SmtpSettings) -> Mailer:
    """A mailer as is; bare [smtp] settings (as tests and commands hold them) as the SMTP adapter."""
    return SmtpMailer(mailer) if isinstance(mailer, SmtpSettings) else mailer
