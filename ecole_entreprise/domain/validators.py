"""Normalizers for identifiers and contact details: each returns the canonical text or raises ValueError (French).

Rules:
- SIRET / SIREN (`normalize_siret`, `normalize_siren`): spaces, dots and dashes are stripped; digits only;
  14 / 9 digits; Luhn checksum. La Poste exception: its SIREN is 356000000 and its establishments' SIRETs do not
  follow Luhn; any SIRET of that SIREN other than the head office (35600000000048, checked with Luhn) is valid
  when the sum of its 14 digits is a multiple of 5.
- UAI (`normalize_uai`): 7 digits then a check letter, "ABCDEFGHJKLMNPRSTUVWXYZ"[int(seven digits) % 23];
  case-insensitive, returned in upper case. 6 digits + letter gets back the leading 0 a spreadsheet dropped.
- Phone (`normalize_phone`): parsed with `phonenumbers` for region FR and returned in E.164 ("+33380448400").
  A French number must start with 0 (or +33 / 0033); a bare 9-digit number (whose leading 0 a spreadsheet ate)
  is refused with a hint. Foreign numbers are accepted in international form (+41…).
- Email (`normalize_email`): `email-validator` syntax check without DNS; the domain is returned in lower case.
  `staff_email_warnings` flags a non-académie domain for an Éducation nationale staff member (ac-dijon.fr for
  21, 58, 71, 89; ac-besancon.fr for 25, 39, 70, 90) and cross-checks a school mailbox `ce.<UAI>@` with the UAI
  and its académie. `academie_for_departement` gives "Dijon" or "Besançon".
- Postal code (`normalize_postcode`): exactly 5 digits (spaces ignored); a 4-digit value is refused with a hint
  (every BFC code starts with 2, 3, 5, 7, 8 or 9; a dropped leading 0 is only possible for another region).
- NAF rev. 2 (`normalize_naf`): NN.NNL, dot optional, case-insensitive, returned as "62.01Z".
"""

from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email

UAI_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
LA_POSTE_SIREN = "356000000"
LA_POSTE_HEAD_OFFICE = "35600000000048"
ACADEMIES = {"Dijon": ("21", "58", "71", "89"), "Besançon": ("25", "39", "70", "90")}
ACADEMIE_DOMAINS = {"Dijon": "ac-dijon.fr", "Besançon": "ac-besancon.fr"}

_SEPARATORS = re.compile(r"[\s.\-\u00a0\u202f]")
_PHONE_NOISE = re.compile(r"[\s.\-/()\u00a0\u202f]")
_UAI = re.compile(r"^(\d{7})([A-Z])$")
_NAF = re.compile(r"^(\d{2})\.?(\d{2})([A-Z])$")
_SCHOOL_MAILBOX = re.compile(r"^ce\.([0-9a-z]+)@", re.IGNORECASE)


def _digits(value: str, label: str, length: int) -> str:
    text = _SEPARATORS.sub("", value or "")
    if not text:
        raise ValueError(f"Le {label} est vide.")
    if not text.isdigit():
        raise ValueError(f"Le {label} « {value} » ne doit contenir que des chiffres.")
    if len(text) != length:
        dropped_zero = len(text) == length - 1 and luhn_ok("0" + text)
        hint = f" Il manque peut-être le 0 initial (effacé par le tableur) : 0{text} ?" if dropped_zero else ""
        raise ValueError(f"Le {label} « {value} » doit compter {length} chiffres (il en a {len(text)}).{hint}")
    return text


def luhn_ok(digits: str) -> bool:
    """Luhn checksum: double every second digit from the right, sum the digits, expect a multiple of 10."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        n = int(char) * (2 if position % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def normalize_siren(value: str) -> str:
    siren = _digits(value, "SIREN", 9)
    if not luhn_ok(siren):
        raise ValueError(f"Le SIREN « {value} » n'est pas valide (clé de contrôle incorrecte) : vérifiez la saisie.")
    return siren


def normalize_siret(value: str) -> str:
    siret = _digits(value, "SIRET", 14)
    if siret.startswith(LA_POSTE_SIREN) and siret != LA_POSTE_HEAD_OFFICE:
        valid = sum(int(c) for c in siret) % 5 == 0  # La Poste's own rule for its establishments
    else:
        valid = luhn_ok(siret)
    if not valid:
        raise ValueError(f"Le SIRET « {value} » n'est pas valide (clé de contrôle incorrecte) : vérifiez la saisie.")
    return siret


def uai_letter(seven_digits: str) -> str:
    return UAI_LETTERS[int(seven_digits) % 23]


def normalize_uai(value: str) -> str:
    text = re.sub(r"\s", "", value or "").upper()
    if not text:
        raise ValueError("Le code UAI est vide.")
    if re.fullmatch(r"\d{6}[A-Z]", text):
        text = "0" + text  # a spreadsheet read it as a number and dropped the leading zero
    match = _UAI.match(text)
    if not match:
        raise ValueError(f"Le code UAI « {value} » doit comporter 7 chiffres suivis d'une lettre (ex. 0210015C).")
    digits, letter = match.groups()
    if uai_letter(digits) != letter:
        raise ValueError(f"Le code UAI « {value} » n'est pas valide : la lettre de contrôle devrait être "
                         f"{uai_letter(digits)}. Vérifiez les chiffres.")
    return text


def normalize_phone(value: str) -> str:
    raw = (value or "").strip()
    compact = _PHONE_NOISE.sub("", raw)
    if not compact:
        raise ValueError("Le numéro de téléphone est vide.")
    if not compact.startswith(("+", "0")):
        if compact.isdigit() and len(compact) == 9:
            raise ValueError(f"Le numéro « {raw} » semble avoir perdu son 0 initial (effacé par le tableur) : "
                             f"saisissez 0{compact}.")
        raise ValueError(f"Le numéro « {raw} » doit commencer par 0 (ou par +33 pour l'international).")
    try:
        number = phonenumbers.parse(raw, "FR")
    except phonenumbers.NumberParseException:
        raise ValueError(f"« {raw} » n'est pas un numéro de téléphone.") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"Le numéro « {raw} » n'est pas un numéro de téléphone valide (10 chiffres en France).")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(value: str) -> str:
    """A stored number as a French reader writes it: « 03 80 23 45 67 » (international numbers stay +…)."""
    raw = (value or "").strip()
    try:
        number = phonenumbers.parse(raw, "FR")
    except phonenumbers.NumberParseException:
        return raw
    if not phonenumbers.is_valid_number(number):
        return raw
    kind = (phonenumbers.PhoneNumberFormat.NATIONAL if number.country_code == 33
            else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(number, kind)


def _email_hint(text: str) -> str:
    if "@" not in text:
        return "il manque le @"
    if text.count("@") > 1:
        return "elle contient plusieurs @"
    if re.search(r"\s", text):
        return "elle contient un espace"
    if "." not in text.rsplit("@", 1)[1]:
        return "le domaine après le @ est incomplet"
    return "vérifiez la saisie"


def normalize_email(value: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValueError("L'adresse email est vide.")
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        raise ValueError(f"« {text} » n'est pas une adresse email valide : {_email_hint(text)}.") from None
    return result.normalized  # the domain in lower case, the local part as typed


def academie_for_departement(departement: str) -> str:
    code = str(departement or "").strip()
    for academie, departements in ACADEMIES.items():
        if code in departements:
            return academie
    raise ValueError(f"Le département « {departement} » n'appartient pas à la région académique "
                     "Bourgogne-Franche-Comté.")


def _departement_of_uai(uai: str) -> str:
    return uai[1:3]  # UAI "0210015C" → département 21 (BFC codes only, no Corsica)


def _academie_of_domain(domain: str) -> str:
    return next((a for a, d in ACADEMIE_DOMAINS.items() if domain == d), "")


def staff_email_warnings(email: str, departement: str = "", uai: str = "") -> list[str]:
    """Soft checks for a staff member's professional address (warnings, never blocking)."""
    text = (email or "").strip()
    if "@" not in text:
        return []
    domain = text.rsplit("@", 1)[1].lower()
    warnings: list[str] = []
    expected = ""
    try:
        expected = academie_for_departement(departement) if departement else ""
    except ValueError:
        pass
    academie = _academie_of_domain(domain)
    if not academie:
        warnings.append(f"L'adresse « {text} » n'est pas une adresse académique (@ac-dijon.fr ou @ac-besancon.fr) : "
                        "vérifiez qu'il s'agit bien de l'adresse professionnelle.")
    elif expected and academie != expected:
        warnings.append(f"Adresse de l'académie de {academie} alors que le département {departement} relève de "
                        f"l'académie de {expected} (@{ACADEMIE_DOMAINS[expected]}).")
    mailbox = _SCHOOL_MAILBOX.match(text)
    if mailbox:
        warnings.extend(_school_mailbox_warnings(mailbox.group(1).upper(), academie, uai))
    return warnings


def _school_mailbox_warnings(box_uai: str, academie: str, uai: str) -> list[str]:
    try:
        box_uai = normalize_uai(box_uai)
    except ValueError:
        return [f"La boîte d'établissement ce.{box_uai} ne contient pas un code UAI valide."]
    warnings = []
    if uai:
        try:
            if normalize_uai(uai) != box_uai:
                warnings.append(f"La boîte ce.{box_uai} est celle d'un autre établissement que l'UAI {uai}.")
        except ValueError:
            pass  # the UAI field reports its own error
    try:
        box_academie = academie_for_departement(_departement_of_uai(box_uai))
    except ValueError:
        return warnings + [f"L'établissement {box_uai} n'est pas en Bourgogne-Franche-Comté."]
    if academie and box_academie != academie:
        warnings.append(f"L'établissement {box_uai} relève de l'académie de {box_academie}, "
                        f"pas de celle du domaine de l'adresse.")
    return warnings


def normalize_postcode(value: str) -> str:
    text = re.sub(r"\s", "", value or "")
    if not text:
        raise ValueError("Le code postal est vide.")
    if not text.isdigit():
        raise ValueError(f"Le code postal « {value} » ne doit contenir que des chiffres.")
    if len(text) == 4:
        raise ValueError(f"Le code postal « {value} » n'a que 4 chiffres : il en faut 5. En Bourgogne-Franche-Comté "
                         "ils commencent par 2, 3, 5, 7, 8 ou 9 ; ailleurs, un 0 initial a pu être effacé par "
                         f"le tableur (0{text} ?).")
    if len(text) != 5:
        raise ValueError(f"Le code postal « {value} » doit compter 5 chiffres.")
    return text


def normalize_naf(value: str) -> str:
    text = re.sub(r"\s", "", value or "").upper()
    match = _NAF.match(text)
    if not match:
        raise ValueError(f"Le code NAF « {value} » doit avoir la forme NN.NNL (par exemple 62.01Z).")
    a, b, letter = match.groups()
    return f"{a}.{b}{letter}"
