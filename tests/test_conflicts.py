"""The conflict shown after a lost race: the user's entry beside the sheet's version, masked like everything else."""

from datetime import datetime

from ecole_entreprise.domain.roles import ADMIN, COORD_ACADEMIE, COORD_CPME, User, parse_scope
from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.services.kernel.conflicts import HIDDEN, conflict_table
from ecole_entreprise.store.base import Conflict, Row, Snapshot

TAB = default_schema().tab("Personnels")
READ = {name: "" for name in TAB.field_names} | {
    "id": "PER-1", "nom": "Martin", "prenom": "Léa", "departement": "21", "email": "lea.martin@ac-dijon.fr",
    "telephone": "+33380000001", "attendus": "Découvrir l'industrie", "updated_at": "2026-11-01 10:00:00"}
NOW = READ | {"email": "l.martin@ac-dijon.fr", "nom": "Martin-Durand", "updated_at": "2026-11-02 09:00:00"}
EMPTY = Snapshot(tabs={}, read_at=datetime(2026, 11, 28, 12, 0))


def conflict(attempted: dict[str, str]) -> Conflict:
    return Conflict("Personnels", "PER-1", READ, Row("PER-1", NOW, {}, 2, "x"), attempted)


def by_field(lines):
    return {line["Champ"]: line for line in lines}


def test_shows_fields_changed_meanwhile_and_fields_the_user_typed():
    user = User("coord@ac-dijon.fr", COORD_ACADEMIE, departements=parse_scope("21"))
    lines = by_field(conflict_table(user, conflict({"nom": "Martin", "attendus": "Voir un atelier"}), EMPTY))
    nom, email, attendus = (TAB.field(n).header for n in ("nom", "email", "attendus"))
    assert set(lines) == {nom, email, attendus}  # updated_at is bookkeeping, not shown
    assert lines[nom] == {"Champ": nom, "Votre saisie": "Martin", "Version actuelle de la feuille": "Martin-Durand",
                          "État": "modifié des deux côtés"}
    assert lines[email]["Version actuelle de la feuille"] == "l.martin@ac-dijon.fr"
    assert lines[email]["État"] == "modifié depuis votre lecture" and lines[email]["Votre saisie"] == ""
    assert lines[attendus]["Votre saisie"] == "Voir un atelier" and lines[attendus]["État"] == "inchangé"


def test_a_value_the_user_may_not_see_stays_masked():
    cpme = User("coord@cpme-bfc.fr", COORD_CPME, departements=parse_scope("21"))
    lines = by_field(conflict_table(cpme, conflict({"attendus": "x"}), EMPTY))
    shown = " ".join(str(v) for line in lines.values() for v in line.values())
    assert "l.martin@ac-dijon.fr" not in shown and "Découvrir" not in shown
    assert lines[TAB.field("email").header]["Version actuelle de la feuille"] == HIDDEN
    assert lines[TAB.field("nom").header]["Version actuelle de la feuille"] == "Martin-Durand"  # identity
    admin = User("admin@exemple.fr", ADMIN)
    assert HIDDEN not in str(conflict_table(admin, conflict({"attendus": "x"}), EMPTY))
