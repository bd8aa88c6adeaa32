"""A person editing the Google sheet between any two requests of an app write, and a judge of the result.

One trial: a fresh spreadsheet (fake Sheets API) with a few companies and a chained Journal, the app reads it,
then runs one operation (update, anonymise, append, delete, journal append) while a person makes one edit (sort,
insert a row, delete another row, move a column, add a column, type in the same row, type in another row) just
before the operation's request number `gap` (0: before its first request, right after the app's read).

The judge compares the spreadsheet afterwards, as records keyed by ID (row order and column order do not matter:
a sort or a column move changes neither), with the two states allowed: the person's edit alone (the operation
refused, with a French message), or the person's edit and the operation both. Anything else is either a
misdirected write (a cell the operation did not mean was changed, a row appeared, vanished or doubled) or a
silent loss (the person's edit or the app's reported write is missing), and is reported with its details.
Used by tests/test_shared_sheet_google.py (a seeded sample) and benchmarks/bench_shared_sheet.py (all of it).
"""

from __future__ import annotations

import copy
import random
from collections import Counter
from dataclasses import dataclass, field

from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.services.kernel import journal
from ecole_entreprise.services.privacy.rights import anonymised_values
from ecole_entreprise.store.base import Conflict, MaybeApplied, StoreError, stamp_new
from tests.support.fake_sheets import FakeSheets
from tests.support.google_env import FakeClock, FakeSheetsHuman, make_store

TAB = "Entreprises"
OPERATIONS = ("update", "anonymise", "append", "delete", "journal")
EDITS = ("sort", "insert_row", "delete_other_row", "move_column", "add_column", "type_same_row", "type_other_row")
NAMES = ("Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot")
TYPED_FIELDS = ("Notes", "Commune", "Contact nom", "Raison sociale")  # what the person types into
IGNORED = ("Modifié le", "Créé le")  # stamped by the app on its target: value not judged, place is
SCHEMA = default_schema()


@dataclass
class Outcome:
    operation: str
    edit: str
    gap: int
    happened: bool = True  # the edit ran while the operation was still sending requests
    result: str = "ok"  # "ok", "refused" (a French StoreError), "maybe" (MaybeApplied)
    misdirected: bool = False
    silent_loss: bool = False
    repaired: int = 0
    details: list[str] = field(default_factory=list)


# ---- the spreadsheet as records ------------------------------------------------------------------------------


def records(grid: list[list[str]]) -> tuple[dict[str, list[dict]], Counter]:
    """ID -> [its rows as {header: text}], and the ID-less non-blank rows (as sorted item tuples)."""
    headers = grid[0] if grid else []
    by_id: dict[str, list[dict]] = {}
    loose: Counter = Counter()
    for line in grid[1:]:
        cells = {h: (line[i] if i < len(line) else "") for i, h in enumerate(headers) if h}
        if not any(v.strip() for v in cells.values()):
            continue
        row_id = cells.get("ID", "").strip()
        if row_id:
            by_id.setdefault(row_id, []).append(cells)
        else:
            loose[tuple(sorted(cells.items()))] += 1
    return by_id, loose


class World:
    """One trial's spreadsheet, the app's store on it and the person."""

    template: dict = {}

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.clock = FakeClock()
        self.fake = FakeSheets(seed=seed, clock=self.clock)
        key = "shared-sheet-trial"
        if key not in World.template:
            World.template[key] = self._build(key)
        self.fake.spreadsheets = {k: book.snapshot() for k, book in World.template[key].items()}
        self.key = key
        self.store = make_store(SCHEMA, self.fake, key, self.clock)
        self.human = FakeSheetsHuman(self.fake, key)
        self.snapshot = self.store.read()

    def _build(self, key: str) -> dict:
        fake = FakeSheets(clock=self.clock)
        fake.create_spreadsheet("Essais", key=key)
        store = make_store(SCHEMA, fake, key, self.clock)
        store.init()
        store.append(TAB, [{"raison_sociale": n, "code_postal": "21000", "commune": "Dijon", "contact_nom": f"N{i}",
                            "contact_email": f"{n.lower()}@exemple.fr", "notes": f"note {n}"}
                           for i, n in enumerate(NAMES)])
        for i in range(3):
            journal.record(store, "amorce@exemple.fr", f"amorce {i}")
        return fake.spreadsheets

    def grid(self, tab: str = TAB) -> list[list[str]]:
        return self.human.grid(tab)

    def line_of(self, tab: str, row_id: str) -> int | None:
        return next((i for i, r in enumerate(self.grid(tab), start=1) if row_id in r), None)


# ---- the person's edits: each returns what it did, as a change to the records ----------------------------------


def _other(world: World, tab: str, avoid: set[str]) -> str | None:
    ids = [i for i in records(world.grid(tab))[0] if i not in avoid]
    return world.rng.choice(sorted(ids)) if ids else None


def make_edit(world: World, edit: str, tab: str, target: dict):
    """A person's edit, to run at some instant; it records its logical effect in `effect` (applied to the
    records by `apply_effect`)."""
    rng = world.rng
    effect: dict = {"kind": edit}

    def run():
        grid = world.grid(tab)
        headers = grid[0]
        if edit == "sort":
            world.human.sort_rows(tab, rng.choice([h for h in headers if h]), reverse=rng.random() < 0.5)
        elif edit == "insert_row":
            at = rng.randrange(2, len(grid) + 2)
            cells = {"ID": f"HUM-{rng.randrange(10**6):06d}", "Raison sociale": "Saisie manuelle"}
            if tab == "Journal":
                cells = {"ID": cells["ID"], "Action": "saisie manuelle"}
            if rng.random() < 0.3:
                cells.pop("ID")  # a row typed without an ID
            world.human.insert_row(tab, at, [cells.get(h, "") for h in headers])
            effect["row"] = {h: cells.get(h, "") for h in headers if h}
        elif edit == "delete_other_row":
            victim = _other(world, tab, {target.get("id", "")})
            if victim:
                world.human.delete_row(tab, world.line_of(tab, victim))
                effect["deleted"] = victim
        elif edit == "move_column":
            header = rng.choice([h for h in headers if h])
            world.human.move_column(tab, header, rng.randrange(0, len(headers)))
        elif edit == "add_column":
            ids = records(grid)[0]
            values = [f"suivi {line[headers.index('ID')]}" if line and headers.index("ID") < len(line)
                      and line[headers.index("ID")] in ids else "" for line in grid[1:]]
            world.human.add_column(tab, "Suivi CPME", values)
            effect["column"] = {v.split(" ", 1)[1]: v for v in values if v}
        elif edit in ("type_same_row", "type_other_row"):
            row_id = target.get("id") if edit == "type_same_row" else _other(world, tab, {target.get("id", "")})
            line = world.line_of(tab, row_id) if row_id else None
            if line is None:  # the row to type into is not there (yet): type into the last row instead
                row_id = records(grid)[0] and sorted(records(grid)[0])[-1]
                line = world.line_of(tab, row_id)
            header = rng.choice([h for h in (TYPED_FIELDS if tab == TAB else ("Détails", "Action"))
                                 if h in headers])
            value = f"tapé {rng.randrange(10**6)}"
            world.human.set_cell(tab, line, header, value)
            effect["typed"] = (row_id, header, value)

    return run, effect


def apply_effect(state: dict[str, list[dict]], loose: Counter, effect: dict) -> None:
    kind = effect["kind"]
    if kind == "insert_row" and "row" in effect:
        row = effect["row"]
        if row.get("ID"):
            state.setdefault(row["ID"], []).append(dict(row))
        else:
            loose[tuple(sorted(row.items()))] += 1
    elif kind == "delete_other_row" and "deleted" in effect:
        state.pop(effect["deleted"], None)
    elif kind == "add_column" and "column" in effect:
        for row_id, rows in state.items():
            for row in rows:
                row["Suivi CPME"] = effect["column"].get(row_id, "")
        for key in list(loose):
            count = loose.pop(key)
            loose[tuple(sorted({**dict(key), "Suivi CPME": ""}.items()))] += count
    elif kind in ("type_same_row", "type_other_row") and "typed" in effect:
        row_id, header, value = effect["typed"]
        for row in state.get(row_id, []):
            row[header] = value


# ---- the operations --------------------------------------------------------------------------------------------


def operation(world: World, name: str):
    """(the tab it writes, its target record {"id": …}, a callable running it, its effect on the records)."""
    rng = world.rng
    if name in ("update", "anonymise", "delete"):
        row = rng.choice(world.snapshot.rows(TAB))
        target = {"id": row.id}
        if name == "delete":
            return TAB, target, lambda: world.store.delete(TAB, [row.id]), {"delete": row.id}
        if name == "update":
            changes = {"notes": f"app {rng.randrange(10**6)}"}
        else:
            changes = anonymised_values(TAB, row)
        written = {SCHEMA.tab(TAB).field(k).header: v for k, v in changes.items()}
        return TAB, target, lambda: world.store.update(TAB, row.id, changes, row.fingerprint), {"set": written}
    if name == "append":
        record = {"id": f"ENT-NEW{rng.randrange(10**5):05d}", "raison_sociale": "Nouvelle", "code_postal": "25000",
                  "notes": f"ajout {rng.randrange(10**6)}"}
        target = {"id": record["id"]}
        return TAB, target, lambda: world.store.append(TAB, [record]), {"add": record}
    entry_id = f"JOU-NEW{rng.randrange(10**5):05d}"
    target = {"id": entry_id}

    def chained():
        entry = {"id": entry_id, "horodatage": "2026-02-02 10:00:00", "acteur": "app@exemple.fr", "action": "essai"}
        with world.store.exclusive("journal"):
            last = world.store.tail("Journal", 1)
            entry["hash_precedent"] = last[0]["hash"] if last else ""
            entry["hash"] = journal.entry_hash(entry["hash_precedent"], entry)
            target["entry"] = entry
            target["after"] = last[0].id if last else ""
            world.store.append("Journal", [entry])

    return "Journal", target, chained, {"add": None}


def _expected_success(state, change, tab, target) -> None:
    if "delete" in change:
        state.pop(change["delete"], None)
    elif "set" in change:
        for row in state.get(target["id"], []):
            row.update(change["set"])
    else:
        record = stamp_new(SCHEMA.tab(tab), change["add"] or target["entry"])
        schema = SCHEMA.tab(tab)
        headers = list(next(iter(state.values()))[0].keys()) if state else schema.headers
        row = {h: "" for h in headers}
        for f in schema.fields:
            if f.header in row:
                row[f.header] = record[f.name]
        state.setdefault(record["id"], []).append(row)


# ---- one trial -----------------------------------------------------------------------------------------------


def trial(seed: int, name: str, edit: str, gap: int) -> Outcome:
    world = World(seed)
    tab, target, run_op, change = operation(world, name)
    before, loose = records(world.grid(tab))
    others_before = {t: world.grid(t) for t in ("Entreprises", "Journal") if t != tab}
    run_edit, effect = make_edit(world, edit, tab, target)
    start = world.fake.total
    fired = {}

    def hook(number, kind):
        if number == start + gap and not fired:
            fired["yes"] = True
            world.fake.before_request = None
            run_edit()

    world.fake.before_request = hook
    outcome = Outcome(name, edit, gap)
    try:
        run_op()
    except MaybeApplied as error:
        outcome.result, outcome.details = "maybe", [str(error)]
    except (Conflict, StoreError) as error:
        outcome.result, outcome.details = "refused", [f"{type(error).__name__}: {error}"]
    world.fake.before_request = None
    outcome.happened = bool(fired)
    outcome.repaired = world.store.repairs
    after, after_loose = records(world.grid(tab))
    _judge(outcome, tab, target, change, before, loose, effect, after, after_loose)
    if tab == "Journal" and outcome.result != "refused":
        _judge_chain(outcome, world, target)
    for other, grid in others_before.items():
        if world.grid(other) != grid:
            outcome.misdirected = True
            outcome.details.append(f"l'onglet {other} a changé")
    return outcome


def _strip(state: dict[str, list[dict]], target_id: str) -> dict:
    return {row_id: [{h: v for h, v in r.items() if not (h in IGNORED and row_id == target_id)} for r in rows]
            for row_id, rows in state.items()}


def _judge(outcome: Outcome, tab, target, change, before, loose, effect, after, after_loose) -> None:
    refused = copy.deepcopy(before)
    refused_loose = Counter(loose)
    apply_effect(refused, refused_loose, effect)
    applied = copy.deepcopy(refused)
    if outcome.result != "refused" or "add" in change:
        _expected_success(applied, change, tab, target)
    target_id = target["id"]
    same_row_schema_edit = (effect["kind"] == "type_same_row" and "typed" in effect
                            and effect["typed"][0] == target_id and change.get("set") is not None)
    allowed = {"ok": [applied], "refused": [refused], "maybe": [refused, applied]}[outcome.result]
    if outcome.result == "ok" and same_row_schema_edit and outcome.happened:
        allowed = []  # the row changed under the app: it had to refuse, not write over it
    got = _strip(after, target_id)
    if any(_strip(s, target_id) == got for s in allowed) and after_loose in (refused_loose,):
        return
    reference = allowed[0] if allowed else applied
    ref = _strip(reference, target_id)
    written = set(change.get("set", {})) if "set" in change else set()
    for row_id in set(ref) | set(got):
        mine, theirs = got.get(row_id, []), ref.get(row_id, [])
        if len(mine) != len(theirs):
            outcome.misdirected = True
            outcome.details.append(f"{row_id}: {len(mine)} ligne(s) au lieu de {len(theirs)}")
            continue
        for m, t in zip(mine, theirs, strict=True):
            for header in set(m) | set(t):
                if m.get(header, "") != t.get(header, ""):
                    lost = row_id == target_id and (header in written or same_row_schema_edit)
                    outcome.silent_loss |= lost
                    outcome.misdirected |= not lost
                    outcome.details.append(f"{row_id}.{header}: « {m.get(header, '')} » au lieu de "
                                           f"« {t.get(header, '')} »")
    if after_loose != refused_loose:
        outcome.misdirected = True
        outcome.details.append(f"lignes sans ID : {dict(after_loose)} au lieu de {dict(refused_loose)}")
    if not (outcome.misdirected or outcome.silent_loss):  # only a conflict the app should have raised
        outcome.silent_loss = True
        outcome.details.append(f"écrit sur la ligne {target_id} modifiée entre-temps, sans conflit montré")


def _judge_chain(outcome: Outcome, world: World, target: dict) -> None:
    """A chained entry goes below every entry there was when its lease was taken (the last one read first)."""
    grid = world.grid("Journal")
    column = grid[0].index("ID")
    ids = [line[column] if column < len(line) else "" for line in grid[1:]]
    if target["id"] not in ids:
        return
    mine = ids.index(target["id"])
    earlier = [i for i in ids[mine + 1:] if i and not i.startswith("HUM-")]
    if earlier:
        outcome.misdirected = True
        outcome.details.append(f"entrée ajoutée au-dessus d'entrées existantes : {earlier}")


def gaps(seed: int, name: str) -> int:
    """How many requests the operation sends when nobody edits (each is a gap to put an edit before)."""
    world = World(seed)
    _, _, run_op, _ = operation(world, name)
    start = world.fake.total
    run_op()
    return world.fake.total - start


def plan(seeds: range) -> list[tuple[int, str, str, int]]:
    cases = []
    for seed in seeds:
        for name in OPERATIONS:
            for gap in range(gaps(seed, name)):
                for edit in EDITS:
                    cases.append((seed, name, edit, gap))
    return cases


def summary(outcomes: list[Outcome]) -> dict:
    counted = [o for o in outcomes if o.happened]
    return {"google_trials": len(counted),
            "google_misdirected": sum(o.misdirected for o in counted),
            "google_silent_losses": sum(o.silent_loss for o in counted),
            "google_conflicts_shown": sum(o.result != "ok" for o in counted),
            "google_repaired": sum(o.repaired > 0 for o in counted)}
