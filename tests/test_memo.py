"""Results kept until their tabs change (services/kernel/memo.py): same content, same result, whatever the read."""

from datetime import datetime

from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.services.kernel import memo
from ecole_entreprise.store.base import Row, Snapshot, TabData, TabIssue, fingerprint


def tab(name: str, records: list[dict], issues=()) -> TabData:
    schema = default_schema().tab(name)
    rows = []
    for number, record in enumerate(records, start=2):
        values = {f: record.get(f, "") for f in schema.field_names}
        rows.append(Row(values["id"], values, {}, number, fingerprint(schema, values)))
    return TabData(name, schema.headers, rows, list(issues))


def snap(entreprises, rencontres=()) -> Snapshot:
    return Snapshot({"Entreprises": tab("Entreprises", entreprises), "Rencontres": tab("Rencontres", rencontres)},
                    datetime(2026, 1, 1))


ONE = [{"id": "ENT-1", "raison_sociale": "Alpha"}]


def test_signature_is_the_content_not_the_object():
    assert memo.signature(tab("Entreprises", ONE)) == memo.signature(tab("Entreprises", ONE))
    renamed = tab("Entreprises", [{**ONE[0], "raison_sociale": "Béta"}])
    assert memo.signature(renamed) != memo.signature(tab("Entreprises", ONE))
    moved = tab("Entreprises", [{"id": "ENT-0"}, *ONE])
    assert memo.signature(moved) != memo.signature(tab("Entreprises", ONE))  # row numbers count (messages)
    issue = TabIssue("Entreprises", "Colonne « SIRET » absente.", column="SIRET")
    assert memo.signature(tab("Entreprises", ONE, [issue])) != memo.signature(tab("Entreprises", ONE))
    assert memo.signature(None) == "absent"


def test_a_result_is_kept_until_one_of_its_tabs_changes():
    memo.clear()
    calls = []

    def compute(s):
        return lambda: calls.append(1) or len(s.rows("Entreprises"))

    first = snap(ONE)
    assert memo.per_tabs(first, ["Entreprises"], ("n",), compute(first)) == 1
    again = snap(ONE, [{"id": "REN-1"}])  # a new read; only a tab the result does not use changed
    assert memo.per_tabs(again, ["Entreprises"], ("n",), compute(again)) == 1 and len(calls) == 1
    assert memo.per_tabs(again, ["Entreprises"], ("other key",), compute(again)) == 1 and len(calls) == 2
    grown = snap([*ONE, {"id": "ENT-2"}])
    assert memo.per_tabs(grown, ["Entreprises"], ("n",), compute(grown)) == 2 and len(calls) == 3
    grown.tabs["Entreprises"].rows.append(grown.rows("Entreprises")[0])  # changed in place: seen too
    assert memo.per_tabs(grown, ["Entreprises"], ("n",), compute(grown)) == 3 and len(calls) == 4


def test_only_the_last_results_are_kept():
    memo.clear()
    for i in range(memo.MAX_ENTRIES + 5):
        memo.per_tabs(snap(ONE), ["Entreprises"], (i,), lambda i=i: i)
    assert len(memo._results) == memo.MAX_ENTRIES
