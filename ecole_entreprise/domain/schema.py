"""Load the tab definitions in sheets_schema/*.yaml: the single source of truth for every layer."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

import yaml

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "sheets_schema"

FIELD_TYPES = {
    "id", "text", "email", "phone", "siret", "uai", "postcode", "commune", "naf", "date", "datetime",
    "time", "int", "bool", "choice", "multichoice", "ref",
}
SENSITIVITIES = {"none", "identity", "contact", "free_text"}

# Every tab starts with its stable ID and ends with the two timestamps the store maintains.
ID_FIELD = "id"
CREATED_FIELD = "created_at"
UPDATED_FIELD = "updated_at"
_COMMON_HEAD = [{"name": ID_FIELD, "header": "ID", "type": "id", "help": "Identifiant stable, ne pas modifier"}]
_COMMON_TAIL = [
    {"name": CREATED_FIELD, "header": "Créé le", "type": "datetime"},
    {"name": UPDATED_FIELD, "header": "Modifié le", "type": "datetime"},
]


@dataclass(frozen=True)
class Field:
    name: str
    header: str
    type: str
    required: bool = False
    choices: tuple[str, ...] = ()
    choices_list: str = ""
    ref: str = ""
    sensitivity: str = "none"
    help: str = ""
    default: str = ""
    min: int | None = None
    max: int | None = None
    max_length: int | None = None
    pattern: str = ""

    @property
    def is_personal(self) -> bool:
        return self.sensitivity in ("identity", "contact", "free_text")


@dataclass(frozen=True)
class TabSchema:
    name: str
    id_prefix: str
    fields: tuple[Field, ...]
    description: str = ""
    append_only: bool = False
    defaults: dict = field(default_factory=dict)
    generated: bool = False  # rewritten whole by the app (the « À corriger » tab), never edited by hand

    # Computed once per tab (the schema is immutable): validation asks these for every cell of every row.
    @cached_property
    def headers(self) -> list[str]:
        return [f.header for f in self.fields]

    @cached_property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    @cached_property
    def _by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    @cached_property
    def _by_header(self) -> dict[str, Field]:
        return {f.header: f for f in self.fields}

    def field(self, name: str) -> Field:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"{self.name}: no field {name!r}") from None

    def by_header(self) -> dict[str, Field]:
        return dict(self._by_header)

    def fields_with(self, *sensitivities: str) -> list[str]:
        return [f.name for f in self.fields if f.sensitivity in sensitivities]


@dataclass(frozen=True)
class Schema:
    tabs: dict[str, TabSchema]
    lists: dict[str, tuple[str, ...]]

    def tab(self, name: str) -> TabSchema:
        try:
            return self.tabs[name]
        except KeyError:
            raise KeyError(f"Onglet inconnu : {name}") from None

    @property
    def tab_names(self) -> list[str]:
        return list(self.tabs)


class SchemaDefinitionError(ValueError):
    """A YAML file in sheets_schema/ is inconsistent (a developer error, caught by tests)."""


def _build_field(raw: dict, lists: dict[str, tuple[str, ...]], tab: str) -> Field:
    raw = dict(raw)
    ftype = raw.get("type", "text")
    if ftype not in FIELD_TYPES:
        raise SchemaDefinitionError(f"{tab}.{raw.get('name')}: unknown type {ftype!r}")
    sensitivity = raw.pop("sensitivity", "none")
    if sensitivity not in SENSITIVITIES:
        raise SchemaDefinitionError(f"{tab}.{raw['name']}: unknown sensitivity {sensitivity!r}")
    choices_list = ""
    choices: tuple[str, ...] = ()
    if "choices" in raw:
        choices_list = raw.pop("choices")
        if choices_list not in lists:
            raise SchemaDefinitionError(f"{tab}.{raw['name']}: unknown list {choices_list!r}")
        choices = lists[choices_list]
    if ftype in ("choice", "multichoice") and not choices:
        raise SchemaDefinitionError(f"{tab}.{raw['name']}: a {ftype} needs choices")
    return Field(
        name=raw["name"], header=raw["header"], type=ftype, required=bool(raw.get("required", False)),
        choices=choices, choices_list=choices_list, ref=raw.get("ref", ""), sensitivity=sensitivity,
        help=raw.get("help", ""), default=str(raw.get("default", "")), min=raw.get("min"), max=raw.get("max"),
        max_length=raw.get("max_length"), pattern=raw.get("pattern", ""),
    )


def load_schema(directory: Path = SCHEMA_DIR) -> Schema:
    lists_raw = yaml.safe_load((directory / "lists.yaml").read_text(encoding="utf-8"))
    lists = {name: tuple(str(v) for v in values) for name, values in lists_raw.items()}
    tabs: dict[str, TabSchema] = {}
    raws = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in directory.glob("*.yaml") if p.name != "lists.yaml"]
    for raw in sorted(raws, key=lambda r: r["order"]):
        name = raw["tab"]
        fields = [_build_field(f, lists, name) for f in _COMMON_HEAD + raw["fields"] + _COMMON_TAIL]
        headers = [f.header for f in fields]
        if len(set(headers)) != len(headers) or len({f.name for f in fields}) != len(fields):
            raise SchemaDefinitionError(f"{name}: duplicate header or field name")
        tabs[name] = TabSchema(
            name=name, id_prefix=raw["id_prefix"], fields=tuple(fields), description=raw.get("description", ""),
            append_only=bool(raw.get("append_only", False)), defaults=raw.get("defaults", {}) or {},
            generated=bool(raw.get("generated", False)),
        )
    for tab in tabs.values():
        for f in tab.fields:
            if f.type == "ref" and f.ref not in tabs:
                raise SchemaDefinitionError(f"{tab.name}.{f.name}: reference to unknown tab {f.ref!r}")
    return Schema(tabs=tabs, lists=lists)


@lru_cache(maxsize=1)
def default_schema() -> Schema:
    return load_schema()
