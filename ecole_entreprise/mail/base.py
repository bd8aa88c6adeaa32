"""The mail port: what a service hands over to send an email, and the French errors of sending.

Services build a `Mail` and give it to the `Mailer` they were handed; only the adapters (smtp.py for the configured
server, memory.py for tests) know how it travels. The errors carry a French message to show as is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .. import errors

NO_SERVER = "Aucun serveur d'envoi (SMTP) n'est configuré : section [smtp] de secrets.toml."


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    maintype: str
    subtype: str
    params: tuple[tuple[str, str], ...] = ()  # e.g. (("method", "PUBLISH"), ("charset", "utf-8"))


@dataclass(frozen=True)
class Mail:
    to: tuple[str, ...]
    subject: str  # one line
    body: str  # plain text
    cc: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()

    @property
    def recipients(self) -> list[str]:
        return [*self.to, *self.cc]


@dataclass(frozen=True)
class Delivery:
    """What the server accepted: `refused` are the addresses it turned down while taking the others."""

    sent: tuple[str, ...]
    refused: tuple[str, ...] = ()


class MailError(errors.Unavailable):
    """Sending failed; `str(error)` is a French message naming the cause, never the message's content."""


class MailUnavailable(MailError):
    """No server is configured: nothing was attempted."""

    def __init__(self, message: str = NO_SERVER):
        super().__init__(message)


class Mailer(Protocol):
    @property
    def available(self) -> bool:
        """A server is configured (a service without one offers the mailto link or the text to copy instead)."""

    def send(self, mail: Mail) -> Delivery:
        """Deliver `mail` to its recipients; MailError (French) when nothing went out."""

    def check(self) -> str:
        """Reach the server without sending anything (doctor); a French description, MailError when unreachable."""
