"""The per-run context a page starts from: built once, at the top of the page, by `page_context(key)`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pages import _shared
from pages._shell import page_user


@dataclass(frozen=True)
class PageContext:
    """The signed-in user (re-checked at each action), the shared store, and the tabs this page reads."""

    key: str
    user: Any
    store: Any

    def snapshot(self, fresh: bool = False):
        """Only the tabs of this page (page registry), from the shared cache: calling it again costs nothing."""
        return _shared.get_snapshot(fresh=fresh)  # looked up at call time: tests inject faults there


def page_context(key: str) -> PageContext:
    """Sign-in and permission check for page `key` (stops the run otherwise), then its context."""
    return PageContext(key, page_user(key), _shared.get_store())
