"""The in-memory mailer for tests: every mail sent lands in `outbox`, nothing leaves the process."""

from __future__ import annotations

from dataclasses import dataclass, field

from .base import Delivery, Mail, MailError, MailUnavailable


@dataclass
class MemoryMailer:
    available: bool = True
    refuse: frozenset[str] = frozenset()  # addresses the "server" turns down while taking the others
    fail: MailError | None = None  # raised by every send, e.g. MailError("Serveur d'envoi … injoignable")
    outbox: list[Mail] = field(default_factory=list)

    def send(self, mail: Mail) -> Delivery:
        if not self.available:
            raise MailUnavailable()
        if self.fail is not None:
            raise self.fail
        sent = tuple(a for a in mail.recipients if a not in self.refuse)
        if not sent:
            raise MailError("Le serveur d'envoi a refusé tous les destinataires : vérifiez les adresses.")
        self.outbox.append(mail)
        return Delivery(sent, tuple(a for a in mail.recipients if a in self.refuse))

    def check(self) -> str:
        if not self.available:
            raise MailUnavailable()
        return "envoi en mémoire (aucun serveur)."

    def to(self, address: str) -> list[Mail]:
        """The mails sent to `address` (To or Cc), oldest first."""
        return [m for m in self.outbox if address in m.recipients]
