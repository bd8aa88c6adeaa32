"""One error family: every error a person may read belongs to ecole_entreprise.errors, by kind, and one page
helper (pages/_feedback.Feedback) shows each kind where the person acted."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from streamlit.testing.v1 import AppTest

import ecole_entreprise
from ecole_entreprise import errors
from ecole_entreprise.store import base

# Errors that never reach a person: caught inside the store (a retry, a repair) or raised at start-up by a broken
# schema file, which the doctor command reports.
INTERNAL = {"_MissingTab", "Uncertain", "BadPackage", "SchemaDefinitionError", "UploadRefused"}
KINDS = (errors.Refused, errors.Invalid, errors.NotFound, errors.Conflict, errors.Unavailable)


def project_exceptions() -> list[type]:
    found = {}
    for info in pkgutil.walk_packages(ecole_entreprise.__path__, "ecole_entreprise."):
        if info.name.endswith("__main__"):
            continue  # running it is the command line
        module = importlib.import_module(info.name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, Exception) and value.__module__.startswith("ecole_entreprise."):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return sorted(found.values(), key=lambda cls: cls.__qualname__)


def test_every_error_of_the_project_is_a_user_error_of_one_kind():
    exceptions = [cls for cls in project_exceptions() if cls.__name__ not in INTERNAL]
    assert len(exceptions) >= 20  # the walk really found the project's errors
    outside = [cls.__qualname__ for cls in exceptions if not issubclass(cls, errors.UserError)]
    assert outside == []
    kindless = [cls.__qualname__ for cls in exceptions
                if cls not in (errors.UserError, base.StoreError) and not issubclass(cls, KINDS)]
    assert kindless == []


def test_the_internal_list_names_only_classes_that_exist():
    names = {cls.__name__ for cls in project_exceptions()}
    assert INTERNAL <= names


def test_store_errors_keep_their_kind():
    row = base.Row("ENT-1", {"id": "ENT-1"}, {}, 2, "f")
    assert isinstance(base.Conflict("Entreprises", "ENT-1", None, row), errors.Conflict)
    assert isinstance(base.RowNotFound("Entreprises", "ENT-1"), errors.NotFound)
    assert isinstance(base.ReadOnlyTab("Journal"), errors.Refused)
    assert isinstance(base.MaybeApplied("Ajout"), errors.Unavailable)


def test_invalid_gives_its_messages_by_field_or_for_the_whole_form():
    assert errors.Invalid(errors={"nom": "Le nom est obligatoire."}).field_errors() == {
        "nom": "Le nom est obligatoire."}
    assert str(errors.Invalid(errors={"nom": "Le nom est obligatoire."})) == "Le nom est obligatoire."
    assert errors.Invalid("Fichier illisible.").field_errors() == {"": "Fichier illisible."}


def feedback_script():
    import streamlit as st

    from ecole_entreprise import errors as family
    from pages._feedback import Feedback

    kind = st.session_state.get("kind", "")
    feedback = Feedback("essai")

    def action():
        if kind == "invalid":
            raise family.Invalid(errors={"nom": "Le nom est obligatoire.", "siret": "SIRET invalide."})
        if kind == "refused":
            raise family.Refused("Hors de votre périmètre.")
        if kind == "bug":
            raise KeyError("an English internal detail")
        return "ENT-42"

    st.text_input("Nom", key="nom")
    feedback.field("nom")
    feedback.show(fields_shown=("nom",))
    st.button("Enregistrer", on_click=lambda: feedback.run(action, lambda made: f"Fiche {made} créée."))


def run_with(kind: str) -> AppTest:
    at = AppTest.from_function(feedback_script)
    at.session_state["kind"] = kind
    at.run()
    at.button[0].click().run()
    return at


def texts(at: AppTest) -> list[str]:
    return [e.value for e in at.error] + [m.value for m in at.markdown]


def test_a_success_is_shown_once_and_as_a_toast():
    at = run_with("ok")
    assert [s.value for s in at.success] == ["Fiche ENT-42 créée."]
    assert [t.value for t in at.toast] == ["Fiche ENT-42 créée."]
    at.run()
    assert not at.success  # shown once


def test_field_errors_stand_under_their_field_and_hidden_fields_are_not_lost():
    shown = texts(run_with("invalid"))
    assert ":red[⚠ Le nom est obligatoire.]" in shown  # under the field the person sees
    assert "SIRET invalide." in shown  # a field not on this form: listed with the form's messages


@pytest.mark.parametrize("kind, expected", [
    ("refused", "Hors de votre périmètre."),
    ("bug", "Une erreur inattendue a interrompu l'opération."),
])
def test_other_errors_are_one_french_message(kind, expected):
    at = run_with(kind)
    [message] = [e.value for e in at.error]
    assert message.startswith(expected)
    assert "KeyError" not in message and "English" not in message
