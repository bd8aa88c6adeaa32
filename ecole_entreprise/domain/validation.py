"""Validate one record against its tab's schema: canonical cell text, French errors and warnings.

Used by the forms (before writing), the imports and the data-quality report (on what people typed in the sheet).
Empty optional cells stay empty; defaults are filled by the store when a record is appended, not here.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from . import communes, validators
from . import values as cells
from .near_names import NearNameIndex
from .schema import Field, TabSchema

FORMULA_PREFIXES = ("=", "+", "-", "@")
LEGAL_FORMS = {
    "sa", "sas", "sasu", "sarl", "eurl", "snc", "sci", "scop", "scp", "scm", "sca", "selarl", "selas", "selafa",
    "gie", "ei", "eirl", "earl", "gaec", "sccv", "scea",
}
PLACE_ABBREVIATIONS = {"st": "saint", "ste": "sainte"}
NAME_SIMILARITY = 0.9

_NORMALIZERS = {
    "email": validators.normalize_email,
    "phone": validators.normalize_phone,
    "siret": validators.normalize_siret,
    "uai": validators.normalize_uai,
    "postcode": validators.normalize_postcode,
    "naf": validators.normalize_naf,
    "date": lambda text: cells.format_date(cells.parse_date(text)),
    "datetime": lambda text: cells.format_datetime(cells.parse_datetime(text)),
    "time": lambda text: cells.parse_time(text).strftime("%H:%M"),
    "bool": lambda text: cells.format_bool(cells.parse_bool(text)),
}


@dataclass
class ValidationResult:
    clean: dict[str, str]  # canonical text per schema field; a field in error keeps the text as typed
    errors: dict[str, str] = field(default_factory=dict)  # field name -> French message
    warnings: dict[str, str] = field(default_factory=dict)  # field name -> French message

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def warn(self, name: str, message: str) -> None:
        current = self.warnings.get(name)
        self.warnings[name] = f"{current} {message}" if current else message


@dataclass(frozen=True)
class Duplicate:
    row_id: str
    reason: str  # French, e.g. "même SIRET (73282932000074)"


# ---- text normalization --------------------------------------------------------------------------------------


def fold(text: str) -> str:
    """Case-, accent- and apostrophe-insensitive form used to match what people type."""
    decomposed = unicodedata.normalize("NFKD", (text or "").replace("’", "'").replace("‘", "'"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", plain).strip().casefold()


# Characters no typed text holds: controls other than tab and line breaks, and UTF-16 halves (lone surrogates,
# which a browser or a file can send but no encoder accepts).
_FORBIDDEN_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def character_problem(text: str) -> str:
    """French message for the first forbidden character of `text`, "" when there is none."""
    found = _FORBIDDEN_CHARACTERS.search(text or "")
    if not found:
        return ""
    code = f"U+{ord(found.group()):04X}"
    if 0xD800 <= ord(found.group()) <= 0xDFFF:
        return f"Caractère invalide ({code}, demi-caractère UTF-16 isolé) en position {found.start() + 1}."
    return (f"Caractère de contrôle interdit ({code}) en position {found.start() + 1} : seuls la tabulation et le "
            "retour à la ligne sont admis.")


def looks_like_formula(text: str) -> bool:
    return (text or "").startswith(FORMULA_PREFIXES)


@lru_cache(maxsize=256)
def _choice_index(choices: tuple[str, ...]) -> dict[str, str]:
    return {fold(c): c for c in choices}


# ---- one field -----------------------------------------------------------------------------------------------


def _check_choice(f: Field, text: str) -> str:
    canonical = _choice_index(f.choices).get(fold(text))
    if canonical is None:
        raise ValueError(f"« {text} » n'est pas une valeur possible. Choix : {', '.join(f.choices)}.")
    return canonical


def _check_multichoice(f: Field, text: str) -> str:
    index = _choice_index(f.choices)
    chosen, unknown = set(), []
    for part in cells.parse_multi(text):
        canonical = index.get(fold(part))
        if canonical is None:
            unknown.append(part)
        chosen.add(canonical)
    if unknown:
        raise ValueError(f"Valeur(s) inconnue(s) : {', '.join(unknown)}. Choix : {', '.join(f.choices)}.")
    return cells.format_multi(c for c in f.choices if c in chosen)  # canonical order: the list's order


def _check_int(f: Field, text: str) -> str:
    number = cells.parse_int(text)
    if f.min is not None and number < f.min:
        raise ValueError(f"La valeur doit être au moins {f.min}.")
    if f.max is not None and number > f.max:
        raise ValueError(f"La valeur doit être au plus {f.max}.")
    return str(number)


def _check_commune(text: str) -> str:
    commune = communes.commune_by_insee(text)
    if commune is None:
        raise ValueError(f"« {text} » n'est pas le code INSEE d'une commune de Bourgogne-Franche-Comté "
                         "(5 caractères, par exemple 21231 pour Dijon).")
    return commune.insee


def _check_text(f: Field, text: str, result: ValidationResult) -> str:
    if f.max_length and len(text) > f.max_length:
        raise ValueError(f"Texte trop long : {len(text)} caractères pour {f.max_length} au plus.")
    if f.pattern and not re.search(f.pattern, text):
        hint = f" ({f.help})" if f.help else ""
        raise ValueError(f"« {text} » n'a pas le format attendu{hint}.")
    if looks_like_formula(text):
        result.warn(f.name, "Ce texte commence par =, +, - ou @ : il est enregistré tel quel, comme du texte "
                            "(jamais comme une formule).")
    return text


def _check_ref(f: Field, text: str, snapshot) -> str:
    if snapshot is not None and snapshot.get(f.ref, text) is None:
        raise ValueError(f"La fiche {text} n'existe pas dans l'onglet « {f.ref} ».")
    return text


def _clean_field(f: Field, text: str, result: ValidationResult, snapshot) -> str:
    if f.type == "text":
        return _check_text(f, text, result)
    if f.type in _NORMALIZERS:
        return _NORMALIZERS[f.type](text)
    if f.type == "choice":
        return _check_choice(f, text)
    if f.type == "multichoice":
        return _check_multichoice(f, text)
    if f.type == "int":
        return _check_int(f, text)
    if f.type == "commune":
        return _check_commune(text)
    if f.type == "ref":
        return _check_ref(f, text, snapshot)
    return text  # "id": kept as typed


# ---- the record ----------------------------------------------------------------------------------------------


def validate_record(tab: TabSchema, values: dict[str, str], *, snapshot=None) -> ValidationResult:
    """Check every schema field of `values` (a missing key counts as empty); unknown keys are ignored.

    With `snapshot`, references (ref fields) must point to existing rows.
    """
    result = ValidationResult(clean={})
    for f in tab.fields:
        raw = values.get(f.name)
        text = "" if raw is None else str(raw).strip()
        result.clean[f.name] = text
        if not text:
            if f.required:
                result.error(f.name, f"« {f.header} » est obligatoire.")
            continue
        if problem := character_problem(text):
            result.error(f.name, problem)
            continue
        try:
            result.clean[f.name] = _clean_field(f, text, result, snapshot)
        except ValueError as error:
            result.error(f.name, str(error))
    _check_place(tab, result)
    _check_staff(tab, result)
    return result


def _has(tab: TabSchema, *names: str) -> bool:
    return all(name in tab.field_names for name in names)


def _check_place(tab: TabSchema, result: ValidationResult) -> None:
    """Postal code ↔ commune ↔ département; fills the commune's name and département when empty."""
    if not _has(tab, "code_postal", "commune_insee"):
        return
    clean, errors = result.clean, result.errors
    insee, cp = clean["commune_insee"], clean["code_postal"]
    if not insee and cp and "code_postal" not in errors:
        options = communes.communes_for_postcode(cp)
        if options and "commune_insee" in errors:
            names = ", ".join(f"{c.nom} : {c.insee}" for c in options[:8])
            result.errors["commune_insee"] += f" Pour le code postal {cp} : {names}{'…' if len(options) > 8 else ''}."
    if not insee or "commune_insee" in errors:
        return
    commune = communes.commune_by_insee(insee)
    if cp and "code_postal" not in errors:
        for message in communes.check_postcode_for_commune(cp, insee):
            result.error("code_postal", message)
        for message in communes.postcode_warnings(cp, insee):
            result.warn("code_postal", message)
    _fill_or_compare_name(tab, result, commune)
    _fill_or_compare_departement(tab, result, commune)


def _fill_or_compare_name(tab: TabSchema, result: ValidationResult, commune: communes.Commune) -> None:
    if "commune" not in tab.field_names:
        return
    typed = result.clean["commune"]
    if not typed:
        result.clean["commune"] = commune.nom
    elif _place_key(typed) != _place_key(commune.nom):
        result.warn("commune", f"Le code INSEE {commune.insee} est celui de {commune.nom}, pas de « {typed} ».")


def _fill_or_compare_departement(tab: TabSchema, result: ValidationResult, commune: communes.Commune) -> None:
    if "departement" not in tab.field_names:
        return
    typed = result.clean["departement"]
    if not typed:
        result.clean["departement"] = commune.departement
        result.errors.pop("departement", None)  # the required error raised while it was empty
        result.warn("departement", f"Département déduit de la commune {commune.nom} : {commune.departement}.")
    elif "departement" not in result.errors and typed != commune.departement:
        result.error("departement", f"{commune.nom} ({commune.insee}) est dans le département "
                                    f"{commune.departement}, pas dans le {typed}.")


def _check_staff(tab: TabSchema, result: ValidationResult) -> None:
    """Personnels: académie follows the département; the professional email is cross-checked."""
    clean = result.clean
    departement = clean.get("departement", "") if "departement" not in result.errors else ""
    if _has(tab, "academie", "departement") and departement:
        academie = validators.academie_for_departement(departement)
        if clean["academie"] and clean["academie"] != academie:
            result.warn("academie", f"Le département {departement} relève de l'académie de {academie}, "
                                    f"pas de « {clean['academie']} » : l'académie est déduite du département.")
        clean["academie"] = academie
        result.errors.pop("academie", None)  # derived: what was typed no longer matters
    if _has(tab, "fonction", "discipline") and clean.get("fonction") == "professeur" and not clean["discipline"]:
        # A warning, not an error: rows typed before the column existed stay valid, and the form still says it.
        result.warn("discipline", "Discipline non renseignée : précisez la discipline enseignée par ce "
                                  "professeur.")
    if tab.name == "Personnels" and clean.get("email") and "email" not in result.errors:
        uai = clean.get("uai", "") if "uai" not in result.errors else ""
        for message in validators.staff_email_warnings(clean["email"], departement, uai):
            result.warn("email", message)


# ---- duplicates ----------------------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return re.sub(r"[^\w]+", " ", fold(text).replace(".", "")).split()


def _name_key(text: str) -> str:
    """Name without accents, case, punctuation or legal form: "S.A.R.L. Dupont & Fils" → "dupont fils"."""
    return " ".join(w for w in _words(text) if w not in LEGAL_FORMS)


def _place_key(text: str) -> str:
    """Commune name without accents, case or punctuation: "St-Apollinaire" = "Saint Apollinaire"."""
    return " ".join(PLACE_ABBREVIATIONS.get(w, w) for w in _words(text))


def _record_name(tab: TabSchema, values: dict[str, str]) -> str:
    if "raison_sociale" in tab.field_names:
        return values.get("raison_sociale", "")
    if _has(tab, "nom", "prenom"):
        return f"{values.get('prenom', '')} {values.get('nom', '')}"
    return ""


def _record_place(values: dict[str, str]) -> str:
    return (values.get("commune_insee") or "").strip() or fold(values.get("commune", ""))


def _siret_key(text: str) -> str:
    return re.sub(r"\D", "", text or "")


def _email_key(tab: TabSchema, values: dict[str, str]) -> str:
    name = "contact_email" if "contact_email" in tab.field_names else "email"
    return (values.get(name) or "").strip().lower()


def _similar(a: str, b: str) -> bool:
    matcher = difflib.SequenceMatcher(None, a, b)
    # The cheap upper bounds first: same result as ratio() alone, much faster over many rows.
    return (matcher.real_quick_ratio() >= NAME_SIMILARITY and matcher.quick_ratio() >= NAME_SIMILARITY
            and matcher.ratio() >= NAME_SIMILARITY)


class DuplicateIndex:
    """The rows of one tab indexed by SIRET, email and (commune, name), to look for duplicates of many records:
    the cost of a lookup does not grow with the number of rows (near_names.NearNameIndex for the names)."""

    def __init__(self, tab: TabSchema, rows):
        self.tab = tab
        self._siret: dict[str, list[str]] = {}
        self._email: dict[str, list[str]] = {}
        self._names = NearNameIndex(_similar, NAME_SIMILARITY)
        for row in rows:
            self.add(row.id, row.values)

    def add(self, row_id: str, values: dict[str, str]) -> None:
        if "siret" in self.tab.field_names and _siret_key(values.get("siret", "")):
            self._siret.setdefault(_siret_key(values["siret"]), []).append(row_id)
        if _email_key(self.tab, values):
            self._email.setdefault(_email_key(self.tab, values), []).append(row_id)
        name, place = _name_key(_record_name(self.tab, values)), _record_place(values)
        if name and place:
            self._names.add(place, row_id, name)

    def find(self, values: dict[str, str], exclude_id: str | None = None) -> list[Duplicate]:
        reasons: dict[str, list[str]] = {}
        siret = _siret_key(values.get("siret", "")) if "siret" in self.tab.field_names else ""
        for row_id in self._siret.get(siret, []) if siret else []:
            reasons.setdefault(row_id, []).append(f"même SIRET ({siret})")
        email = _email_key(self.tab, values)
        for row_id in self._email.get(email, []) if email else []:
            # No address in the reason: the quality page shows reasons to roles without contact rights.
            reasons.setdefault(row_id, []).append("même email")
        name, place = _name_key(_record_name(self.tab, values)), _record_place(values)
        for row_id in self._names.find(place, name) if name and place else []:
            reasons.setdefault(row_id, []).append("nom presque identique dans la même commune")
        return [Duplicate(row_id, " ; ".join(why)) for row_id, why in reasons.items() if row_id != exclude_id]


def find_duplicates(tab: TabSchema, values: dict[str, str], snapshot, exclude_id: str | None = None) -> list[Duplicate]:
    """Existing rows of `tab` in `snapshot` that are probably the same record as `values`.

    Same SIRET, same email (contact_email / email, case-insensitive), or a near-identical name (accents, case,
    punctuation and legal forms ignored; similarity ≥ 0.9) in the same commune. `exclude_id`: the record itself.
    """
    return DuplicateIndex(tab, snapshot.rows(tab.name)).find(values, exclude_id)
