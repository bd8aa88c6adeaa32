"""The one way pages run an action and tell the person how it went.

`Feedback(area)` owns the messages of one area of a page (a form, a step of a record): it runs the service call,
turns any error of the family in ecole_entreprise/errors.py into its French message (field by field for Invalid,
both versions side by side for a Conflict), and keeps the outcome in the session across the rerun that follows,
so the confirmation or the errors appear where the person acted (and a success also as a toast, visible even when
that place has scrolled out of view). No traceback and no English text ever reaches the page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import streamlit as st

from ecole_entreprise import errors
from ecole_entreprise.services.kernel import conflicts
from pages._plain import plain, plain_rows

log = logging.getLogger("ecole_entreprise.pages")
UNEXPECTED = ("Une erreur inattendue a interrompu l'opération. Si vous étiez en train d'enregistrer, la modification "
              "a peut-être été enregistrée malgré tout : relisez les données (bouton « Relire les données ») et "
              "vérifiez avant de recommencer. Si l'erreur revient, signalez-la à l'administrateur (le détail est "
              "dans le journal du serveur).")


def unexpected_message(error: BaseException) -> str:
    """What a person reads for any error: a UserError's own French text, else a French notice (the English
    detail and the traceback go to the server log only)."""
    if isinstance(error, errors.UserError):
        return str(error)
    log.error("unexpected error on a page", exc_info=error)
    return UNEXPECTED


def run_guarded(run) -> None:
    """The entry point's run of the current page: no traceback and no English text ever reaches the page."""
    try:
        run()
    except Exception as error:  # noqa: BLE001 - st.stop/st.rerun are BaseExceptions and pass through
        st.error(plain(unexpected_message(error)))


def show_conflict(conflict: errors.Conflict, user, snapshot) -> None:
    """Both versions side by side (fields the user may not see stay masked); nothing was written."""
    st.error(plain(conflict))
    lines = conflicts.conflict_table(user, conflict, snapshot)
    if lines:
        st.table(plain_rows(lines))
    st.caption("Rechargez la fiche pour repartir de la version actuelle, puis ressaisissez vos modifications.")


def field_error(errors_by_field: dict[str, str], warnings: dict[str, str], name: str) -> None:
    """The French message right under its field (an error, else a warning)."""
    if name in errors_by_field:
        st.markdown(f":red[⚠ {plain(errors_by_field[name])}]")
    elif name in warnings:
        st.markdown(f":orange[ℹ {plain(warnings[name])}]")


class Feedback:
    """The outcome of the last action in one area of a page, kept in the session until shown or replaced."""

    def __init__(self, area: str):
        self.area = area
        self._key = f"_feedback_{area}"

    @property
    def _state(self) -> dict:
        return st.session_state.setdefault(self._key, {})

    def run(self, call: Callable[[], Any], success: str | Callable[[Any], str] = "", *,
            on_conflict: Callable[[errors.Conflict], None] | None = None, rerun: bool = False) -> bool:
        """Run one action. On success keep `success` (text, or a function of the result); on an error keep its
        French message(s). True when the action succeeded. From an `on_click` callback the page redraws by
        itself; from an `if st.button(…)` block pass `rerun=True` so the messages show with fresh data."""
        self.clear()
        state = self._state
        try:
            result = call()
        except errors.Conflict as conflict:
            if on_conflict is not None:
                on_conflict(conflict)
            state["conflict"] = conflict
        except errors.Invalid as invalid:
            state["errors"] = invalid.field_errors()
        except Exception as error:  # noqa: BLE001 - a callback's error would otherwise reach the page
            state["errors"] = {"": unexpected_message(error)}
        else:
            state["success"] = success(result) if callable(success) else success
        if rerun:
            st.rerun()
        return "success" in state

    def succeed(self, message: str) -> None:
        """A confirmation for an action the page completed itself (shown by the next `show`)."""
        self.clear()
        self._state["success"] = message

    def fail(self, message: str, field: str = "") -> None:
        """A refusal the page found before calling the service (e.g. a confirmation box not ticked)."""
        self.clear()
        self._state["errors"] = {field: message}

    def clear(self) -> None:
        st.session_state.pop(self._key, None)

    @property
    def errors(self) -> dict[str, str]:
        return dict(self._state.get("errors", {}))

    @property
    def conflict(self) -> errors.Conflict | None:
        return self._state.get("conflict")

    def field(self, name: str, warnings: dict[str, str] | None = None) -> None:
        """The French message right under its field (an error, else a warning)."""
        field_error(self._state.get("errors", {}), warnings or {}, name)

    def show(self, user=None, snapshot=None, fields_shown=()) -> None:
        """The confirmation (once) and the whole-form message; for a conflict, both versions. Errors of fields
        the person cannot see on this form (`fields_shown` given) are listed here too, never lost."""
        state = self._state
        if message := state.pop("success", ""):
            st.success(plain(message))
            st.toast(plain(message), icon=":material/check_circle:")
        messages = state.get("errors", {})
        if general := messages.get(""):
            st.error(plain(general))
        if fields_shown:
            for name, text in messages.items():
                if name and name not in fields_shown:
                    st.error(plain(text))
        if (conflict := state.get("conflict")) is not None:
            show_conflict(conflict, user, snapshot)
