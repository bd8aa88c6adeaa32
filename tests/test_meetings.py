"""Meeting lifecycle: transitions, validation, journaling, idempotent proposals, home to-do lists."""

from __future__ import annotations

import datetime as dt

import pytest

from ecole_entreprise.domain.roles import ADMIN, User
from ecole_entreprise.services.kernel.access import AccessDenied
from ecole_entreprise.services.meetings import lifecycle as meetings
from ecole_entreprise.services.meetings.lifecycle import MeetingError, MeetingInvalid, TransitionRefused
from ecole_entreprise.store.base import Conflict, RowNotFound
from tests.support.memory_store import MemoryStore

USER = User(email="coord@ac-dijon.fr", role=ADMIN, nom="Coordinatrice")
CONSENT = "2025-10-01 09:00:00"


class SheetStore(MemoryStore):
    """The shared in-memory store double, initialised, with the shorthands these tests use."""

    def __init__(self):
        super().__init__()
        self.init()

    def records(self, tab: str) -> list[dict[str, str]]:
        return [dict(row.values) for row in self.read().rows(tab)]

    def human_edit(self, tab: str, row_id: str, **values) -> None:
        """A person typing in the sheet, bypassing the app."""
        for name, value in values.items():
            self.set_cell(tab, row_id, self.schema.tab(tab).field(name).header, value)


def add_company(store, **extra):
    record = {"raison_sociale": "Menuiserie Alpha", "code_postal": "21000", "commune_insee": "21231",
              "departement": "21", "contact_prenom": "Léa", "contact_nom": "Martin", "contact_fonction": "gérante",
              "contact_email": "lea.martin@alpha.fr", "contact_telephone": "0380000000",
              "consentement_participation": CONSENT, "consentement_partage": CONSENT, "consentement_version": "2025-09",
              "consentement_source": "coordinateur", "statut": "validé"}
    [row] = store.append("Entreprises", [{**record, **extra}])
    return row


def add_staff(store, **extra):
    record = {"nom": "Durand", "prenom": "Paul", "fonction": "professeur", "uai": "0210015C",
              "etablissement": "Lycée Carnot", "code_postal": "21000", "commune_insee": "21231", "departement": "21",
              "email": "paul.durand@ac-dijon.fr", "telephone": "0612345678", "canal": "salon REE",
              "consentement_participation": CONSENT, "consentement_partage": CONSENT, "consentement_version": "2025-09",
              "consentement_source": "coordinateur", "statut": "validé"}
    [row] = store.append("Personnels", [{**record, **extra}])
    return row


def add_meeting(store, company, staff, **values):
    record = {"entreprise_id": company.id, "personnel_id": staff.id, "annee_scolaire": "2025-2026",
              "statut": "proposée"}
    [row] = store.append("Rencontres", [{**record, **values}])
    return row


PLANNED_VALUES = {"statut": "planifiée", "acceptation_entreprise": CONSENT, "acceptation_personnel": CONSENT,
                  "date": "2026-01-19", "heure": "12:30", "lieu": "Restaurant Le Central, Dijon",
                  "format": "déjeuner", "visite": "avant"}


@pytest.fixture
def store():
    return SheetStore()


@pytest.fixture
def pair(store):
    return add_company(store), add_staff(store)


@pytest.fixture
def journal(monkeypatch):
    """Every journal call of the services (the real journal.record still runs when it exists)."""
    calls = []
    original = meetings.record_journal

    def spy(store, user, action, tab, row_id, champs, finalite, details):
        calls.append({"actor": user.email, "action": action, "tab": tab, "row_id": row_id,
                      "champs": list(champs), "details": details})
        original(store, user, action, tab, row_id, champs, finalite, details)

    monkeypatch.setattr(meetings, "record_journal", spy)
    return calls


def data(store, tab="Rencontres"):
    return store.records(tab)


# ---- proposals ----------------------------------------------------------------------------------------------


def test_propose_appends_once_and_journals(store, pair, journal):
    company, staff = pair
    other = add_staff(store, nom="Petit", email="anne.petit@ac-dijon.fr")
    records = [{"entreprise_id": company.id, "personnel_id": staff.id, "score": "82.5"},
               {"entreprise_id": company.id, "personnel_id": other.id, "annee_scolaire": "2025-2026"}]
    store.append("Parametres", [{"cle": "annee_scolaire", "valeur": "2025-2026"}])
    written = meetings.propose(store, store.read(), USER, records)
    assert {(r["personnel_id"], r["statut"], r["annee_scolaire"]) for r in written} == {
        (staff.id, "proposée", "2025-2026"), (other.id, "proposée", "2025-2026")}
    assert [r["score"] for r in written if r["personnel_id"] == staff.id] == ["82.5"]
    assert [c["action"] for c in journal] == ["proposition rencontre"]
    assert set(journal[0]["row_id"].split(", ")) == {r.id for r in written}
    # A second submit (stale or fresh snapshot) writes nothing: the pairs are already open this school year.
    assert meetings.propose(store, store.read(), USER, records) == []
    assert len(store.records("Rencontres")) == 2 and len(journal) == 1


def test_propose_skips_a_client_id_already_written_and_reopens_after_refusal(store, pair):
    company, staff = pair
    record = {"id": "REN-CLIENT01", "entreprise_id": company.id, "personnel_id": staff.id}
    meetings.propose(store, store.read(), USER, [record])
    meetings.propose(store, store.read(), USER, [record, dict(record)])
    assert [r["id"] for r in store.records("Rencontres")] == ["REN-CLIENT01"]
    store.human_edit("Rencontres", "REN-CLIENT01", statut="refusée", motif="indisponible")
    again = meetings.propose(store, store.read(), USER, [{"entreprise_id": company.id, "personnel_id": staff.id}])
    assert len(again) == 1 and again[0].id != "REN-CLIENT01"


def test_propose_rejects_unknown_records_and_writes_nothing(store, pair):
    company, staff = pair
    with pytest.raises(MeetingInvalid) as refused:
        meetings.propose(store, store.read(), USER, [
            {"entreprise_id": company.id, "personnel_id": staff.id},
            {"entreprise_id": "ENT-NOPE0000", "personnel_id": staff.id},
            {"entreprise_id": company.id, "personnel_id": staff.id, "annee_scolaire": "2025"}])
    assert "Entreprise « ENT-NOPE0000 » introuvable." in refused.value.errors.values()
    assert any("Année scolaire « 2025 » invalide" in m for m in refused.value.errors.values())
    assert store.records("Rencontres") == []


# ---- acceptance -------------------------------------------------------------------------------------------


def test_each_side_accepts_separately_then_status_becomes_accepted(store, pair, journal):
    meeting = add_meeting(store, *pair)
    first = meetings.accept(store, store.read(), USER, meeting.id, "entreprise")
    assert first["statut"] == "proposée" and first["acceptation_entreprise"] and not first["acceptation_personnel"]
    dt.datetime.strptime(first["acceptation_entreprise"], "%Y-%m-%d %H:%M:%S")
    second = meetings.accept(store, store.read(), USER, meeting.id, "personnel")
    assert second["statut"] == "acceptée" and second["acceptation_personnel"]
    assert [(c["action"], c["details"]) for c in journal] == [
        ("acceptation rencontre", "acceptation côté entreprise enregistrée par l'administrateur"),
        ("transition rencontre", "proposée → acceptée ; acceptation côté personnel enregistrée par l'administrateur")]
    assert journal[-1]["actor"] == "coord@ac-dijon.fr" and journal[-1]["row_id"] == meeting.id
    assert "statut" in journal[-1]["champs"]


def test_accepting_twice_writes_nothing(store, pair, journal):
    meeting = add_meeting(store, *pair)
    meetings.accept(store, store.read(), USER, meeting.id, "personnel")
    writes = store.writes
    again = meetings.accept(store, store.read(), USER, meeting.id, "personnel")
    assert store.writes == writes and len(journal) == 1 and again["statut"] == "proposée"


def test_unknown_side_and_unknown_meeting_are_refused(store, pair):
    meeting = add_meeting(store, *pair)
    with pytest.raises(MeetingError, match="Côté inconnu"):
        meetings.accept(store, store.read(), USER, meeting.id, "élève")
    with pytest.raises(RowNotFound):
        meetings.accept(store, store.read(), USER, "REN-ABSENT00", "entreprise")


# ---- transitions ------------------------------------------------------------------------------------------


def test_forbidden_transition_message_names_the_missing_steps(store, pair):
    meeting = add_meeting(store, *pair)
    before = data(store)
    with pytest.raises(TransitionRefused) as refused:
        meetings.mark_done(store, store.read(), USER, meeting.id, today=dt.date(2026, 6, 1))
    assert str(refused.value) == ("Impossible de passer de “proposée” à “réalisée” : la rencontre doit d'abord "
                                  "être acceptée puis planifiée.")
    assert data(store) == before


@pytest.mark.parametrize("current, target, reason", [
    ("proposée", "bilan saisi", "la rencontre doit d'abord être acceptée, planifiée puis réalisée"),
    ("proposée", "planifiée", "la rencontre doit d'abord être acceptée"),
    ("annulée", "planifiée", "la rencontre est close"),
    ("planifiée", "refusée", "une rencontre acceptée ne se refuse plus, elle s'annule avec un motif"),
    ("réalisée", "annulée", "la rencontre a déjà eu lieu"),
    ("réalisée", "planifiée", "la rencontre a déjà dépassé cette étape"),
    ("Proposee", "acceptée", "le statut “Proposee” est inconnu, corrigez-le dans la feuille"),
])
def test_transition_table_refusals(current, target, reason):
    with pytest.raises(TransitionRefused) as refused:
        meetings.check_transition(current, target)
    assert str(refused.value) == f"Impossible de passer de “{current}” à “{target}” : {reason}."


def test_allowed_transitions_follow_the_lifecycle():
    for current, target in [("proposée", "acceptée"), ("acceptée", "planifiée"), ("planifiée", "planifiée"),
                            ("planifiée", "réalisée"), ("réalisée", "bilan saisi"), ("proposée", "refusée"),
                            ("planifiée", "annulée")]:
        meetings.check_transition(current, target)


def test_plan_validates_every_field_and_writes_nothing_on_error(store, pair):
    meeting = add_meeting(store, *pair, statut="acceptée", acceptation_entreprise=CONSENT,
                          acceptation_personnel=CONSENT)
    before = data(store)
    with pytest.raises(MeetingInvalid) as invalid:
        meetings.plan(store, store.read(), USER, meeting.id, date="31/02/2026", heure="midi", lieu=" ",
                      format="apéritif", visite="pendant")
    assert set(invalid.value.errors) == {"date", "heure", "lieu", "format", "visite"}
    assert "déjeuner, salon, visite" in invalid.value.errors["format"]
    assert invalid.value.errors["lieu"] == "Ce champ est obligatoire."
    assert str(invalid.value).startswith("Date : ")
    with pytest.raises(MeetingInvalid) as too_long:
        meetings.plan(store, store.read(), USER, meeting.id, date="2026-01-19", heure="12:30", lieu="x" * 201,
                      format="salon")
    assert too_long.value.errors == {"lieu": "201 caractères : 200 au maximum."}
    assert data(store) == before


def test_plan_then_replan_normalises_values_and_journals(store, pair, journal):
    meeting = add_meeting(store, *pair, statut="acceptée", acceptation_entreprise=CONSENT,
                          acceptation_personnel=CONSENT)
    planned = meetings.plan(store, store.read(), USER, meeting.id, date="19/01/2026", heure="12h30",
                            lieu="Restaurant Le Central", format="déjeuner", visite="après")
    assert (planned["statut"], planned["date"], planned["heure"], planned["visite"]) == (
        "planifiée", "2026-01-19", "12:30", "après")
    moved = meetings.plan(store, store.read(), USER, meeting.id, date=dt.date(2026, 1, 22), heure=dt.time(9, 0),
                          lieu="Atelier", format="visite", visite="")
    assert (moved["date"], moved["heure"], moved["visite"]) == ("2026-01-22", "09:00", "aucune")
    assert [c["details"] for c in journal] == ["acceptée → planifiée", "planifiée → planifiée"]


def test_plan_before_acceptance_is_refused(store, pair):
    meeting = add_meeting(store, *pair, acceptation_entreprise=CONSENT)
    with pytest.raises(TransitionRefused, match="doit d'abord être acceptée"):
        meetings.plan(store, store.read(), USER, meeting.id, date="2026-01-19", heure="12:30", lieu="Dijon",
                      format="salon")


def test_mark_done_only_once_the_date_has_passed(store, pair):
    meeting = add_meeting(store, *pair, **PLANNED_VALUES)
    with pytest.raises(MeetingError, match="prévue le 19/01/2026"):
        meetings.mark_done(store, store.read(), USER, meeting.id, today=dt.date(2026, 1, 18))
    done = meetings.mark_done(store, store.read(), USER, meeting.id, today=dt.date(2026, 1, 19))
    assert done["statut"] == "réalisée"


def test_outcome_validation_reports_each_field_and_writes_nothing(store, pair):
    meeting = add_meeting(store, *pair, **{**PLANNED_VALUES, "statut": "réalisée"})
    before = data(store)
    with pytest.raises(MeetingInvalid) as invalid:
        meetings.record_outcome(store, store.read(), USER, meeting.id, "personnel", conclusions="  ",
                                satisfaction=6, comprehension="beaucoup", recommande=None,
                                suites=["aucune", "partenariat"])
    errors = invalid.value.errors
    assert set(errors) == {"conclusions_personnel", "satisfaction_personnel", "comprehension_personnel",
                           "recommande_personnel", "suite_envisagee"}
    assert errors["satisfaction_personnel"] == "La note doit être comprise entre 1 et 5 (reçu 6)."
    assert "nombre entier" in errors["comprehension_personnel"]
    assert errors["recommande_personnel"] == "Répondez oui ou non."
    assert errors["suite_envisagee"] == "« aucune » ne se combine pas avec une autre suite."
    with pytest.raises(MeetingInvalid) as unknown:
        meetings.record_outcome(store, store.read(), USER, meeting.id, "personnel", conclusions="Très riche",
                                satisfaction=5, comprehension=4, recommande="peut-être", suites="stage")
    assert set(unknown.value.errors) == {"recommande_personnel", "suite_envisagee"}
    assert data(store) == before


def test_outcome_per_side_moves_to_bilan_and_merges_follow_ups(store, pair, journal):
    meeting = add_meeting(store, *pair, **{**PLANNED_VALUES, "statut": "réalisée"})
    first = meetings.record_outcome(store, store.read(), USER, meeting.id, "entreprise",
                                    conclusions="Échanges sur les stages", satisfaction="5", comprehension=4,
                                    recommande=True, suites=["invitation", "partenariat"])
    assert first["statut"] == "bilan saisi"
    assert (first["satisfaction_entreprise"], first["comprehension_entreprise"], first["recommande_entreprise"]) == (
        "5", "4", "oui")
    assert first["suite_envisagee"] == "partenariat; invitation"
    assert first["conclusions_personnel"] == ""
    second = meetings.record_outcome(store, store.read(), USER, meeting.id, "personnel", conclusions="Utile",
                                     satisfaction=3, comprehension=5, recommande="non", suites="aucune")
    assert second["statut"] == "bilan saisi" and second["recommande_personnel"] == "non"
    assert second["suite_envisagee"] == "partenariat; invitation"
    assert [c["details"] for c in journal] == ["réalisée → bilan saisi", "bilan saisi → bilan saisi"]


def test_outcome_before_the_meeting_is_refused(store, pair):
    meeting = add_meeting(store, *pair, **PLANNED_VALUES)
    with pytest.raises(TransitionRefused, match="doit d'abord être réalisée"):
        meetings.record_outcome(store, store.read(), USER, meeting.id, "entreprise", conclusions="x",
                                satisfaction=3, comprehension=3, recommande=True, suites=["aucune"])


def test_refusal_and_cancellation_need_a_reason(store, pair, journal):
    proposed = add_meeting(store, *pair)
    with pytest.raises(MeetingInvalid) as invalid:
        meetings.refuse(store, store.read(), USER, proposed.id, "  ")
    assert invalid.value.errors == {"motif": "Ce champ est obligatoire."}
    refused = meetings.refuse(store, store.read(), USER, proposed.id, "Pas disponible ce trimestre")
    assert (refused["statut"], refused["motif"]) == ("refusée", "Pas disponible ce trimestre")
    with pytest.raises(TransitionRefused, match="la rencontre est close"):
        meetings.cancel(store, store.read(), USER, proposed.id, "doublon")
    planned = add_meeting(store, add_company(store, raison_sociale="Beta"), add_staff(store), **PLANNED_VALUES)
    with pytest.raises(TransitionRefused, match="s'annule avec un motif"):
        meetings.refuse(store, store.read(), USER, planned.id, "finalement non")
    cancelled = meetings.cancel(store, store.read(), USER, planned.id, "Grève des transports")
    assert cancelled["statut"] == "annulée"
    assert [c["details"] for c in journal] == ["proposée → refusée", "planifiée → annulée"]


def test_conflict_propagates_and_nothing_is_written(store, pair, journal):
    meeting = add_meeting(store, *pair, statut="acceptée", acceptation_entreprise=CONSENT,
                          acceptation_personnel=CONSENT)
    snapshot = store.read()
    store.human_edit("Rencontres", meeting.id, lieu="changé dans la feuille")
    with pytest.raises(Conflict):
        meetings.plan(store, snapshot, USER, meeting.id, date="2026-01-19", heure="12:30", lieu="Dijon",
                      format="salon")
    assert store.read().get("Rencontres", meeting.id)["statut"] == "acceptée" and journal == []


def test_expectations_before_the_meeting_only(store, pair):
    meeting = add_meeting(store, *pair)
    saved = meetings.set_expectations(store, store.read(), USER, meeting.id, entreprise="Découvrir le lycée pro")
    assert saved["attendus_entreprise"] == "Découvrir le lycée pro" and saved["attendus_personnel"] == ""
    with pytest.raises(MeetingInvalid) as invalid:
        meetings.set_expectations(store, store.read(), USER, meeting.id, personnel="x" * 2001)
    assert invalid.value.errors == {"attendus_personnel": "2001 caractères : 2000 au maximum."}
    store.human_edit("Rencontres", meeting.id, statut="réalisée")
    with pytest.raises(MeetingError, match="avant la rencontre"):
        meetings.set_expectations(store, store.read(), USER, meeting.id, personnel="Comprendre l'entreprise")


def test_allowed_targets_for_buttons(store, pair):
    meeting = add_meeting(store, *pair, **PLANNED_VALUES)
    assert meetings.allowed_targets(store.read().get("Rencontres", meeting.id)) == ["planifiée", "réalisée",
                                                                                   "annulée"]


# ---- home to-do lists -------------------------------------------------------------------------------------


def test_pending_acceptances_and_past_without_outcome(store, pair):
    company, staff = pair
    waiting_both = add_meeting(store, company, staff)
    waiting_staff = add_meeting(store, company, add_staff(store), acceptation_entreprise=CONSENT)
    add_meeting(store, company, add_staff(store), statut="acceptée", acceptation_entreprise=CONSENT,
                acceptation_personnel=CONSENT)
    past = add_meeting(store, company, add_staff(store), **{**PLANNED_VALUES, "date": "2026-01-12"})
    add_meeting(store, company, add_staff(store), **PLANNED_VALUES)  # 19 January: not past on the 19th
    held = add_meeting(store, company, add_staff(store), **{**PLANNED_VALUES, "statut": "réalisée"})
    add_meeting(store, company, add_staff(store), **{**PLANNED_VALUES, "statut": "bilan saisi", "date": "2026-01-05"})
    add_meeting(store, company, add_staff(store), **{**PLANNED_VALUES, "statut": "annulée", "date": "2026-01-05"})
    snapshot = store.read()
    pending = meetings.pending_acceptances(snapshot)
    assert [(p.row.id, p.missing) for p in pending] == [(waiting_both.id, ("entreprise", "personnel")),
                                                        (waiting_staff.id, ("personnel",))]
    late = meetings.past_without_outcome(snapshot, dt.date(2026, 1, 19))
    assert [r.id for r in late] == [past.id, held.id]


def test_parameter_reads_the_sheet_then_the_documented_default(store):
    assert meetings.parameter(store.read(), "retention_mois") == "24"
    assert meetings.parameter(store.read(), "annee_scolaire") == ""  # empty default: the year of today
    store.append("Parametres", [{"cle": "annee_scolaire", "valeur": "2026-2027"}])
    assert meetings.parameter(store.read(), "annee_scolaire") == "2026-2027"


def test_real_journal_receives_transitions(store, pair):
    meeting = add_meeting(store, *pair, acceptation_entreprise=CONSENT)
    meetings.accept(store, store.read(), USER, meeting.id, "personnel")
    entries = [r for r in store.read().rows("Journal") if r["action"] == "transition rencontre"]
    assert [(e["acteur"], e["cible_id"], e["details"]) for e in entries] == [
        ("coord@ac-dijon.fr", meeting.id,
         "proposée → acceptée ; acceptation côté personnel enregistrée par l'administrateur")]


def test_access_rules_apply_before_anything_is_written(store, pair):
    meeting = add_meeting(store, *pair)  # both sides in the Côte-d'Or (21, académie de Dijon)
    newcomer = add_staff(store)
    before = data(store)
    committee = User(email="comite@region.fr", role="comité de pilotage")
    with pytest.raises(AccessDenied):
        meetings.accept(store, store.read(), committee, meeting.id, "entreprise")
    elsewhere = User(email="cpme@besancon.fr", role="coordinateur CPME", departements=frozenset({"25"}))
    with pytest.raises(AccessDenied, match="hors de votre périmètre"):
        meetings.accept(store, store.read(), elsewhere, meeting.id, "entreprise")
    with pytest.raises(AccessDenied):
        meetings.propose(store, store.read(), elsewhere, [{"entreprise_id": pair[0].id,
                                                           "personnel_id": newcomer.id}])
    assert data(store) == before
    local = User(email="cpme@dijon.fr", role="coordinateur CPME", departements=frozenset({"21"}))
    assert meetings.accept(store, store.read(), local, meeting.id, "entreprise")["acceptation_entreprise"]
