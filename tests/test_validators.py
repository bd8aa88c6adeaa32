"""Identifier and contact normalizers: real public identifiers, plus property-based round trips and corruptions."""

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ecole_entreprise.domain.validators import (
    academie_for_departement,
    normalize_email,
    normalize_naf,
    normalize_phone,
    normalize_postcode,
    normalize_siren,
    normalize_siret,
    normalize_uai,
    staff_email_warnings,
)

UAI_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


def reference_luhn(number: str) -> bool:
    """Independent Luhn: sum of the digits of (digit × weight), weights 1, 2, 1, 2… from the right."""
    weights = [1 + (i % 2) for i in range(len(number))][::-1]
    return sum(sum(divmod(int(d) * w, 10)) for d, w in zip(number, weights, strict=True)) % 10 == 0


def with_check_digit(body: str) -> str:
    return next(body + str(d) for d in range(10) if reference_luhn(body + str(d)))


def corrupt(number: str, position: int, replacement: str) -> str:
    return number[:position] + replacement + number[position + 1:]


digits = lambda n: st.text("0123456789", min_size=n, max_size=n)  # noqa: E731
sirens = digits(8).map(with_check_digit)
sirets = digits(13).map(with_check_digit).filter(lambda s: not s.startswith("356000000"))
separators = st.sampled_from(["", " ", ".", "-", "\u00a0"])


def noisy(text: str, seps: list[str]) -> str:
    return "".join(c + (seps[i] if i < len(seps) else "") for i, c in enumerate(text))


# ---- SIRET / SIREN -------------------------------------------------------------------------------------------


def test_real_siret_and_siren():
    assert normalize_siret("73282932000074") == "73282932000074"
    assert normalize_siret("732 829 320 00074") == "73282932000074"
    assert normalize_siren("732 829 320") == "732829320"
    with pytest.raises(ValueError, match="clé de contrôle"):
        normalize_siret("73282932000075")
    with pytest.raises(ValueError, match="14 chiffres"):
        normalize_siret("7328293200007")
    with pytest.raises(ValueError, match="que des chiffres"):
        normalize_siret("7328293200007A")


def test_la_poste_exception():
    assert normalize_siret("35600000000048") == "35600000000048"  # head office: Luhn
    assert not reference_luhn("35600000049837")  # an establishment: Luhn fails, digit sum 45
    assert normalize_siret("356 000 000 49837") == "35600000049837"
    with pytest.raises(ValueError):
        normalize_siret("35600000049838")  # digit sum 46
    assert normalize_siren("356000000") == "356000000"


def test_dropped_leading_zero_hint_only_when_it_would_be_valid():
    siret = with_check_digit("0" + "123456789012")
    with pytest.raises(ValueError, match=f"0{siret[1:]}"):
        normalize_siret(siret[1:])
    truncated = "7328293200007"  # the last digit is missing, not the first
    assert not reference_luhn("0" + truncated)
    with pytest.raises(ValueError) as error:
        normalize_siret(truncated)
    assert "0 initial" not in str(error.value)


@given(sirets, st.lists(separators, max_size=14))
def test_siret_round_trip_and_noise(siret, seps):
    assert normalize_siret(noisy(siret, seps)) == siret
    assert normalize_siret(normalize_siret(siret)) == siret


@given(sirets, st.integers(0, 13), st.integers(1, 9))
def test_siret_single_digit_corruption_rejected(siret, position, shift):
    bad = corrupt(siret, position, str((int(siret[position]) + shift) % 10))
    assume(not bad.startswith("356000000"))  # La Poste's rule is not Luhn
    with pytest.raises(ValueError):
        normalize_siret(bad)


@given(sirens, st.lists(separators, max_size=9))
def test_siren_round_trip_and_noise(siren, seps):
    assert normalize_siren(noisy(siren, seps)) == siren
    assert normalize_siren(normalize_siren(siren)) == siren


@given(sirens, st.integers(0, 8), st.integers(1, 9))
def test_siren_single_digit_corruption_rejected(siren, position, shift):
    with pytest.raises(ValueError):
        normalize_siren(corrupt(siren, position, str((int(siren[position]) + shift) % 10)))


@given(digits(4))
def test_la_poste_establishments_follow_the_digit_sum_rule(tail):
    body = "356000000" + tail
    valid = body + str(-sum(int(c) for c in body) % 5)  # 0..4 makes the sum a multiple of 5
    assume(valid != "35600000000048")
    assert normalize_siret(valid) == valid
    invalid = valid[:-1] + str(int(valid[-1]) + 1)
    with pytest.raises(ValueError):
        normalize_siret(invalid)


# ---- UAI -----------------------------------------------------------------------------------------------------


def test_real_uai():
    assert normalize_uai("0210015C") == "0210015C"  # lycée Carnot, Dijon
    assert normalize_uai(" 0250007x ") == "0250007X"  # lycée Louis-Pasteur, Besançon
    assert normalize_uai("210015C") == "0210015C"  # the leading zero a spreadsheet dropped
    with pytest.raises(ValueError, match="lettre de contrôle devrait être C"):
        normalize_uai("0210015D")
    with pytest.raises(ValueError, match="7 chiffres"):
        normalize_uai("02100C")


uais = digits(7).map(lambda d: d + UAI_LETTERS[int(d) % 23])


@given(uais, st.booleans())
def test_uai_round_trip_case_insensitive(uai, lower):
    typed = uai.lower() if lower else uai
    assert normalize_uai(typed) == uai
    assert normalize_uai(normalize_uai(typed)) == uai


@given(digits(6))
def test_uai_dropped_zero_restored(six):
    uai = "0" + six + UAI_LETTERS[int(six) % 23]
    assert normalize_uai(uai[1:]) == uai


@given(uais, st.integers(0, 6), st.integers(1, 9))
def test_uai_single_digit_corruption_rejected(uai, position, shift):
    with pytest.raises(ValueError):
        normalize_uai(corrupt(uai, position, str((int(uai[position]) + shift) % 10)))


@given(uais, st.sampled_from(UAI_LETTERS))
def test_uai_wrong_letter_rejected(uai, letter):
    assume(letter != uai[-1])
    with pytest.raises(ValueError):
        normalize_uai(uai[:-1] + letter)


# ---- phone ---------------------------------------------------------------------------------------------------


def test_phone_examples():
    assert normalize_phone("03 80 44 84 00") == "+33380448400"
    assert normalize_phone("03.80.44.84.00") == "+33380448400"
    assert normalize_phone("+33 (0)3 80 44 84 00") == "+33380448400"
    assert normalize_phone("0033 3 80 44 84 00") == "+33380448400"
    assert normalize_phone("+41 22 730 11 11") == "+41227301111"  # Geneva, Switzerland
    with pytest.raises(ValueError, match="0380448400"):
        normalize_phone("380448400")
    with pytest.raises(ValueError, match="commencer par 0"):
        normalize_phone("33380448400")
    with pytest.raises(ValueError):
        normalize_phone("01 02")
    with pytest.raises(ValueError):
        normalize_phone("pas de téléphone")


french_numbers = st.one_of(
    digits(8).map(lambda d: "03" + d),  # geographic, Bourgogne-Franche-Comté zone
    st.tuples(st.sampled_from("01245678"), digits(7)).map(lambda t: "06" + t[0] + t[1]),  # mobile
)


@given(french_numbers, st.sampled_from([" ", ".", "-", ""]), st.booleans())
def test_phone_round_trip_and_noise(number, sep, international):
    expected = "+33" + number[1:]
    pairs = [number[i:i + 2] for i in range(0, 10, 2)]
    typed = sep.join(pairs) if not international else "+33 " + sep.join([number[1]] + pairs[1:])
    assert normalize_phone(typed) == expected
    assert normalize_phone(expected) == expected


@given(french_numbers)
def test_phone_without_leading_zero_refused_with_hint(number):
    with pytest.raises(ValueError, match=number):
        normalize_phone(number[1:])


# ---- email ---------------------------------------------------------------------------------------------------


def test_email_examples():
    assert normalize_email(" Jean.Dupont@AC-Dijon.FR ") == "Jean.Dupont@ac-dijon.fr"
    with pytest.raises(ValueError, match="il manque le @"):
        normalize_email("jean.dupont.ac-dijon.fr")
    with pytest.raises(ValueError, match="espace"):
        normalize_email("jean dupont@ac-dijon.fr")
    with pytest.raises(ValueError, match="domaine"):
        normalize_email("jean@localhost")


locals_ = st.from_regex(r"[a-z0-9]{1,8}([._-][a-z0-9]{1,8}){0,2}", fullmatch=True)
labels = st.from_regex(r"[a-z][a-z0-9]{1,10}", fullmatch=True)


@given(locals_, st.lists(labels, min_size=1, max_size=2), st.sampled_from(["fr", "com", "org", "eu"]),
       st.booleans())
def test_email_round_trip_lowercases_domain(local, labels_, tld, shout):
    domain = ".".join(labels_ + [tld])
    typed = f"{local}@{domain.upper() if shout else domain}"
    assert normalize_email(typed) == f"{local}@{domain}"
    assert normalize_email(normalize_email(typed)) == f"{local}@{domain}"


def test_academies():
    assert [academie_for_departement(d) for d in ("21", "58", "71", "89")] == ["Dijon"] * 4
    assert [academie_for_departement(d) for d in ("25", "39", "70", "90")] == ["Besançon"] * 4
    with pytest.raises(ValueError, match="Bourgogne-Franche-Comté"):
        academie_for_departement("75")


def test_staff_email_warnings():
    assert staff_email_warnings("jean.dupont@ac-dijon.fr", "21", "") == []
    assert staff_email_warnings("ce.0210015C@ac-dijon.fr", "21", "0210015c") == []
    assert "académique" in staff_email_warnings("jean.dupont@gmail.com", "21", "")[0]
    assert "académie de Dijon" in staff_email_warnings("jean.dupont@ac-besancon.fr", "21", "")[0]
    other_school = staff_email_warnings("ce.0210015C@ac-dijon.fr", "21", "0250007X")
    assert len(other_school) == 1 and "autre établissement" in other_school[0]
    wrong_academie = staff_email_warnings("ce.0250007X@ac-dijon.fr", "", "")
    assert len(wrong_academie) == 1 and "Besançon" in wrong_academie[0]
    assert "UAI valide" in staff_email_warnings("ce.0210015D@ac-dijon.fr", "21", "")[0]


# ---- postcode, NAF -------------------------------------------------------------------------------------------


def test_postcode_examples():
    assert normalize_postcode("21000") == "21000"
    assert normalize_postcode(" 25 000 ") == "25000"
    with pytest.raises(ValueError, match="4 chiffres"):
        normalize_postcode("1590")
    with pytest.raises(ValueError, match="chiffres"):
        normalize_postcode("21OOO")
    with pytest.raises(ValueError, match="5 chiffres"):
        normalize_postcode("210000")


@given(digits(5), st.sampled_from(["", " "]))
def test_postcode_round_trip(code, pad):
    assert normalize_postcode(pad + code + pad) == code
    assert normalize_postcode(normalize_postcode(code)) == code


@given(digits(4))
def test_four_digit_postcode_refused(code):
    with pytest.raises(ValueError, match="4 chiffres"):
        normalize_postcode(code)


def test_naf_examples():
    assert normalize_naf("62.01Z") == "62.01Z"
    assert normalize_naf("6201z") == "62.01Z"
    assert normalize_naf(" 10.71c ") == "10.71C"
    for bad in ("62.1Z", "620.1Z", "62.01", "62-01Z", "AB.CDZ"):
        with pytest.raises(ValueError, match="NN.NNL"):
            normalize_naf(bad)


@given(digits(2), digits(2), st.sampled_from("ABCDEFGHJKLMNPZ"), st.booleans(), st.booleans())
def test_naf_round_trip(a, b, letter, dot, lower):
    typed = f"{a}{'.' if dot else ''}{b}{letter.lower() if lower else letter}"
    assert normalize_naf(typed) == f"{a}.{b}{letter}"
    assert normalize_naf(normalize_naf(typed)) == f"{a}.{b}{letter}"
