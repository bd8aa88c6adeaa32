"""Conditional formatting rules: the validators of domain/validators.py written as sheet formulas.

One formula per rule, in the canonical syntax of OOXML files (English function names, "," between arguments);
`google_formula` turns it into the syntax Google accepts in every spreadsheet locale (";" between arguments).
Only functions shared by Google Sheets, Excel and LibreOffice are used, and no array literal or decimal number,
whose syntax depends on the locale. A formula is written for the first data cell of its column (row 2);
relative references move down the column.

`exact` rules colour a cell exactly when the validator refuses it (checked by tests/test_sheet_rules.py with a
formula evaluator); the others only colour cells the validator also refuses, and let some mistakes through:
RULE_LIMITS lists what a sheet formula cannot check.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.schema import ID_FIELD, Field, TabSchema
from ..domain.validators import LA_POSTE_HEAD_OFFICE, LA_POSTE_SIREN, UAI_LETTERS
from ..domain.values import FALSE_WORDS, TRUE_WORDS

ERROR, MISSING = "error", "missing"
# Characters Python's str.strip() and \s remove that a person may paste: no-break spaces, tab, line breaks.
_BLANKS = ("\u00a0", "\u202f", "CHAR(9)", "CHAR(10)", "CHAR(13)")
# Inside a code (SIRET, UAI…), only the no-break spaces a copy from a web page brings: fewer nested
# SUBSTITUTEs keep the longest formula (SIRET) near 4,000 characters. A tab or line break inside a code is
# the one difference with the validator (the sheet colours it, the app accepts it).
_SPACES = (" ", "\u00a0", "\u202f")
SCHOOL_YEAR_PATTERN = r"^\d{4}-\d{4}$"
BFC_DEPARTEMENTS = ("21", "25", "39", "58", "70", "71", "89", "90")

RULE_LIMITS = (
    "e-mail : seule la forme est vérifiée (un seul @, un point dans le domaine, pas d'espace)",
    "téléphone : seuls le début (0 ou +) et les 10 chiffres d'un numéro français sont vérifiés",
    "code INSEE : la forme (5 chiffres d'un département de la région), pas l'existence de la commune",
    "date et heure : la date est vérifiée, pas l'heure",
    "choix multiples, listes à choix, cohérence code postal ↔ commune, doublons : non vérifiés par la feuille",
    "référence à une fiche : l'identifiant doit exister dans l'onglet visé (sans distinguer majuscules et "
    "minuscules)",
)


@dataclass(frozen=True)
class Rule:
    kind: str  # ERROR (invalid value) or MISSING (required cell left empty in a filled row)
    formula: str  # canonical syntax, with its leading "="
    exact: bool
    label: str  # French, what the colour means


def google_formula(formula: str) -> str:
    """The canonical formula with ";" between arguments (commas inside strings are kept)."""
    out, in_string = [], False
    for char in formula:
        if char == '"':
            in_string = not in_string
        out.append(";" if char == "," and not in_string else char)
    return "".join(out)


# ---- building blocks -----------------------------------------------------------------------------------------


def _q(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _arg(token: str) -> str:
    return token if token.startswith("CHAR(") else _q(token)


def _remove(x: str, tokens) -> str:
    for token in tokens:
        x = f"SUBSTITUTE({x},{_arg(token)},\"\")"
    return x


def _blanks_to_space(x: str) -> str:
    for token in _BLANKS:
        x = f"SUBSTITUTE({x},{_arg(token)},\" \")"
    return x


def _stripped(x: str) -> str:
    """The cell as validate_record sees it (outer blanks removed; inner runs of spaces become one)."""
    return f"TRIM({_blanks_to_space(x)})"


def _trimmed(x: str) -> str:
    """Outer spaces removed: enough where the formula repeats the cell many times (dates, words); a value
    padded with no-break spaces is the difference with the validator there."""
    return f"TRIM({x})"


def _digits(s: str) -> str:
    return f"LEN({_remove(s, '0123456789')})=0"


def _filled(x: str) -> str:
    return f"LEN({_stripped(x)})>0"


def _invalid_when_filled(x: str, valid: str) -> str:
    return f"=IF({_filled(x)},NOT({valid}),FALSE)"


def _real_date(y: str, m: str, d: str) -> str:
    """y, m, d are digit strings: a calendar date from 1900 on."""
    return (f"AND(VALUE({y})>=1900,VALUE({m})>=1,VALUE({m})<=12,"
            f"DAY(DATE(VALUE({y}),VALUE({m}),VALUE({d})))=VALUE({d}))")


def _iso_date(t: str) -> str:
    shape = f'AND(LEN({t})=10,MID({t},5,1)="-",MID({t},8,1)="-",{_digits(f"LEFT({t},4)&MID({t},6,2)&RIGHT({t},2)")})'
    return f"IF({shape},{_real_date(f'LEFT({t},4)', f'MID({t},6,2)', f'RIGHT({t},2)')},FALSE)"


def _french_date(t: str) -> str:
    """J/M/AAAA, day and month on one or two digits."""
    s1 = f'FIND("/",{t})'
    s2 = f'FIND("/",{t},{s1}+1)'
    day, month, year = f"LEFT({t},{s1}-1)", f"MID({t},{s1}+1,{s2}-{s1}-1)", f"RIGHT({t},4)"
    shape = (f"AND({s1}>=2,{s1}<=3,{s2}-{s1}>=2,{s2}-{s1}<=3,LEN({t})-{s2}=4,"
             f"{_digits(f'{day}&{month}&{year}')})")
    count = f'LEN({t})-LEN(SUBSTITUTE({t},"/",""))=2'
    return f"IF({count},IF({shape},{_real_date(year, month, day)},FALSE),FALSE)"


def _date(t: str) -> str:
    return f"OR({_iso_date(t)},{_french_date(t)})"


# ---- validators as formulas ----------------------------------------------------------------------------------


def _siret(x: str) -> str:
    t = _remove(x, (*_SPACES, ".", "-"))
    doubled = "+".join(f'MID("0246813579",MID({t},{i},1)+1,1)' for i in range(1, 15, 2))  # 2d, digits summed
    plain = "+".join(f"MID({t},{i},1)*1" for i in range(2, 15, 2))
    digit_sum = "+".join(f"MID({t},{i},1)*1" for i in range(1, 15))
    la_poste = f'AND(LEFT({t},9)="{LA_POSTE_SIREN}",{t}<>"{LA_POSTE_HEAD_OFFICE}")'
    checksum = f"IF({la_poste},MOD({digit_sum},5)=0,MOD({doubled}+{plain},10)=0)"
    return f"IF(AND(LEN({t})=14,{_digits(t)}),{checksum},FALSE)"


def _uai(x: str) -> str:
    t = f"UPPER({_remove(x, _SPACES)})"
    t8 = f'IF(LEN({t})=7,"0"&{t},{t})'
    letter = f'MID("{UAI_LETTERS}",MOD(VALUE(LEFT({t8},7)),23)+1,1)'
    return f"IF(AND(LEN({t8})=8,{_digits(f'LEFT({t8},7)')}),EXACT({letter},RIGHT({t8},1)),FALSE)"


def _postcode(x: str) -> str:
    t = _remove(x, _SPACES)
    return f"AND(LEN({t})=5,{_digits(t)})"


def _letter(c: str) -> str:
    return f"AND(CODE({c})>=65,CODE({c})<=90)"


def _naf(x: str) -> str:
    t = f"UPPER({_remove(x, _SPACES)})"
    dotted = f'AND(LEN({t})=6,{_digits(f"LEFT({t},2)&MID({t},4,2)")},MID({t},3,1)=".",{_letter(f"RIGHT({t},1)")})'
    plain = f"AND(LEN({t})=5,{_digits(f'LEFT({t},4)')},{_letter(f'RIGHT({t},1)')})"
    return f"OR({dotted},{plain})"


def _email_shape(x: str) -> str:
    t = _trimmed(x)
    at = f'FIND("@",{t})'
    ats = f'LEN({t})-LEN(SUBSTITUTE({t},"@",""))=1'
    return (f'IF({ats},AND({at}>1,ISNUMBER(FIND(".",{t},{at}+2)),RIGHT({t},1)<>".",'
            f'ISERROR(FIND(" ",{t}))),FALSE)')


def _phone_shape(x: str) -> str:
    t = _remove(x, (*_SPACES, ".", "-", "/", "(", ")"))
    national = f'AND(LEFT({t},1)="0",LEFT({t},2)<>"00",{_digits(t)})'
    return f'AND(OR(LEFT({t},1)="0",LEFT({t},1)="+"),IF({national},LEN({t})=10,TRUE))'


def _commune_shape(x: str) -> str:
    t = _trimmed(x)
    departement = ",".join(f'LEFT({t},2)="{d}"' for d in BFC_DEPARTEMENTS)
    return f"AND(LEN({t})=5,{_digits(t)},OR({departement}))"


def _int(f: Field, x: str) -> str:
    t = _remove(_trimmed(x), (" ", "\u202f"))
    body = f'IF(OR(LEFT({t},1)="+",LEFT({t},1)="-"),MID({t},2,99),{t})'
    bounds = [f"VALUE({t})>={f.min}"] if f.min is not None else []
    bounds += [f"VALUE({t})<={f.max}"] if f.max is not None else []
    inside = f"AND({','.join(bounds)})" if bounds else "TRUE"
    return f"IF(AND(LEN({body})>0,{_digits(body)}),{inside},FALSE)"


def _bool(x: str) -> str:
    t = _trimmed(x)
    words = "|" + "|".join(sorted((TRUE_WORDS | FALSE_WORDS) - {""})) + "|"
    return f'AND(ISERROR(FIND("|",{t})),ISNUMBER(FIND("|"&LOWER({t})&"|","{words}")))'


def _school_year_shape(x: str) -> str:
    t = _trimmed(x)
    return f'AND(LEN({t})=9,MID({t},5,1)="-",{_digits(f"LEFT({t},4)&RIGHT({t},4)")})'


def _datetime_date(x: str) -> str:
    """Sound, not exact: an ISO date first, or a J/M/AAAA date (whose slashes only are counted)."""
    t = _trimmed(x)
    head = f'LEFT({t},IF(ISNUMBER(FIND(" ",{t})),FIND(" ",{t})-1,LEN({t})))'
    slashes = f'LEN({head})-LEN(SUBSTITUTE({head},"/",""))=2'
    return f"OR({_iso_date(f'LEFT({t},10)')},{slashes})"


_SHAPES = {  # type -> (valid(x), exact, label)
    "siret": (_siret, True, "SIRET : 14 chiffres et clé de contrôle"),
    "uai": (_uai, True, "UAI : 7 chiffres et la lettre de contrôle"),
    "postcode": (_postcode, True, "code postal : 5 chiffres"),
    "naf": (_naf, True, "code NAF : NN.NNL"),
    "date": (lambda x: _date(_trimmed(x)), True, "date : AAAA-MM-JJ ou JJ/MM/AAAA"),
    "bool": (_bool, True, "oui ou non"),
    "email": (_email_shape, False, "e-mail mal formé"),
    "phone": (_phone_shape, False, "téléphone mal formé"),
    "commune": (_commune_shape, False, "code INSEE : 5 chiffres d'un département de la région"),
    "datetime": (_datetime_date, False, "date et heure : la date doit être AAAA-MM-JJ ou JJ/MM/AAAA"),
}


def field_rules(tab: TabSchema, f: Field, cell: str, row_range: str, id_column: dict[str, str]) -> list[Rule]:
    """The rules of one column, written for `cell` (e.g. "C2"); `row_range` spans the row ("$A2:$AD2");
    `id_column[tab]` is the A1 column range of another tab's IDs ("'Entreprises'!$A:$A") for references."""
    rules = []
    if _required(tab, f):
        label = "ligne sans identifiant" if f.name == ID_FIELD else "case obligatoire vide"
        rules.append(Rule(MISSING, f"=AND(COUNTA({row_range})>0,LEN({_stripped(cell)})=0)", True, label))
    if f.type in _SHAPES:
        valid, exact, label = _SHAPES[f.type]
        rules.append(Rule(ERROR, _invalid_when_filled(cell, valid(cell)), exact, label))
    elif f.type == "int":
        rules.append(Rule(ERROR, _invalid_when_filled(cell, _int(f, cell)), True, _int_label(f)))
    elif f.type == "ref" and f.ref in id_column:
        found = f"COUNTIF(INDIRECT({_q(id_column[f.ref])}),{_stripped(cell)})>0"
        rules.append(Rule(ERROR, _invalid_when_filled(cell, found), False, f"identifiant inconnu dans « {f.ref} »"))
    elif f.type == "text" and f.pattern == SCHOOL_YEAR_PATTERN:
        rules.append(Rule(ERROR, _invalid_when_filled(cell, _school_year_shape(cell)), True,
                          "année scolaire : AAAA-AAAA"))
    if f.type == "text" and f.max_length:
        rules.append(Rule(ERROR, f"=LEN({_stripped(cell)})>{f.max_length}", False,
                          f"texte de plus de {f.max_length} caractères"))
    return rules


def _required(tab: TabSchema, f: Field) -> bool:
    if f.name == ID_FIELD:
        return True
    # The app deduces an empty département from the commune: not a mistake where both columns exist.
    return f.required and not (f.name == "departement" and "commune_insee" in tab.field_names)


def _int_label(f: Field) -> str:
    if f.min is not None and f.max is not None:
        return f"nombre entier de {f.min} à {f.max}"
    return "nombre entier"
