"""The composition root: the one place that turns settings into the adapters the app talks to (the store, the mail
adapter). Pages and commands ask here instead of knowing the store's modules."""

from __future__ import annotations

from .config import Settings, load_settings
from .mail import Mailer, configured_mailer
from .store import shared_store


def settings() -> Settings:
    return load_settings()


def store(current: Settings | None = None):
    """The process-wide cached store for these settings (one read cache shared by every session)."""
    return shared_store(current or load_settings())


def mailer(current: Settings | None = None) -> Mailer:
    """The configured mail adapter (not `available` when no SMTP server is configured)."""
    return configured_mailer(current or load_settings())
