"""The one family of errors a person may read. `str(error)` is always a French sentence meant to be shown as is.

Every layer raises these (the store's errors and the services' errors are subclasses), so a page handles them
all with one helper (pages/_feedback.py), by kind:
- Refused: the action is not allowed (role, scope, state of the record, limits);
- Invalid: what was typed is wrong; `errors` maps a field name to its message ("" for the whole form);
- NotFound: the record (or link) does not exist, or no longer, or is out of the person's reach;
- Conflict: someone else changed the record since it was read; nothing was written;
- Unavailable: the outside world (the sheet, the mail server) failed; the message says whether a write may have
  been applied.
"""

from __future__ import annotations

from collections.abc import Mapping


class UserError(Exception):
    """Base class: a French message for the person."""


class Refused(UserError):
    pass


class Invalid(UserError):
    """Field-level messages; subclasses may set `errors` themselves before calling this constructor."""

    errors: Mapping[str, str] = {}

    def __init__(self, message: str = "", errors: Mapping[str, str] | None = None):
        if errors is not None:
            self.errors = dict(errors)
        super().__init__(message or " ".join(self.errors.values()))

    def field_errors(self) -> dict[str, str]:
        """The messages by field, the whole-form message under "" when there is no field."""
        return dict(self.errors) if self.errors else {"": str(self)}


class NotFound(UserError):
    pass


class Conflict(UserError):
    pass


class Unavailable(UserError):
    pass
