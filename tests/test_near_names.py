"""The near-identical-name index finds exactly what comparing every pair finds, with a bounded amount of work per
lookup (the import preview and the quality report stay linear in rows)."""

import difflib
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecole_entreprise.domain import near_names
from ecole_entreprise.domain.near_names import (
    NearNameIndex,
    common_subsequence,
    compatible,
    largest_difference,
    partners,
    reaches,
)
from ecole_entreprise.domain.validation import NAME_SIMILARITY, _similar


def _mutate(rng: random.Random, text: str, alphabet: str = "abcde ", edits: int = 5) -> str:
    chars = list(text)
    for _ in range(rng.randint(0, edits)):
        at = rng.randrange(len(chars) + 1)
        roll = rng.random()
        if roll < 0.33:
            chars.insert(at, rng.choice(alphabet))
        elif chars and roll < 0.66:
            chars.pop(min(at, len(chars) - 1))
        elif chars:
            chars[min(at, len(chars) - 1)] = rng.choice(alphabet)
    return "".join(chars) or "x"


def _lcs(a: str, b: str) -> int:
    """Longest common subsequence, by the textbook dynamic programme."""
    previous = [0] * (len(b) + 1)
    for letter in a:
        current = [0]
        for j, other in enumerate(b):
            current.append(previous[j] + 1 if letter == other else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def _bounds(a: str, b: str) -> bool:
    """The upper bounds of difflib's ratio only (its two cheap ones and 2 · LCS / total): the index must propose
    every pair within them, not only the similar ones."""
    matcher = difflib.SequenceMatcher(None, a, b)
    return (matcher.real_quick_ratio() >= NAME_SIMILARITY and matcher.quick_ratio() >= NAME_SIMILARITY
            and 2.0 * _lcs(a, b) / (len(a) + len(b)) >= NAME_SIMILARITY)


def _check_against_every_pair(entries, similar) -> int:
    """Add (place, name) entries one by one; before each, the index answers what comparing every earlier name of
    that place answers. Returns how many lookups found something."""
    index, seen, with_match = NearNameIndex(similar, NAME_SIMILARITY), [], 0
    for position, (place, name) in enumerate(entries):
        expected = [str(j) for j, (other_place, other) in enumerate(seen)
                    if other_place == place and (other == name or similar(name, other))]
        assert list(index.find(place, name)) == expected, (place, name)
        with_match += bool(expected)
        index.add(place, str(position), name)
        seen.append((place, name))
    return with_match


def test_same_answers_as_comparing_every_pair():
    rng = random.Random(20261201)
    probes = with_match = 0
    for _ in range(80):
        bases = ["".join(rng.choice("abcdefgh ") for _ in range(rng.randint(1, 70))) for _ in range(4)]
        names = [_mutate(rng, rng.choice(bases)) for _ in range(40)]
        entries = [("21231", name) for name in names]
        with_match += _check_against_every_pair(entries, _similar)
        index = NearNameIndex(_similar, NAME_SIMILARITY)
        for position, name in enumerate(names):
            index.add("21231", str(position), name)
        assert all(list(index.find("25056", name)) == [] for name in names)  # another place
        probes += len(names)
    assert with_match > probes / 3  # the comparison is not vacuous


def test_every_pair_within_the_bounds_of_difflibs_ratio_is_proposed():
    """The strongest form of the guarantee: with a `similar` that accepts whatever passes the upper bounds of
    difflib's ratio, the index still finds every such pair (anagrams and shuffled words included)."""
    rng = random.Random(14)
    with_match = 0
    for _ in range(60):
        base = "".join(rng.choice("abcdef ") for _ in range(rng.randint(1, 40)))
        names = []
        for _ in range(30):
            name = _mutate(rng, base, "abcdefg ", 4)
            names.append("".join(rng.sample(name, len(name))) if rng.random() < 0.4 else name)
        with_match += _check_against_every_pair([("21231", name) for name in names], _bounds)
    assert with_match > 60 * 30 / 3


edits = st.lists(st.tuples(st.integers(0, 40), st.sampled_from(["a", "b", "e", " ", ""])), max_size=4)
names_in_two_places = st.lists(st.tuples(st.sampled_from(["21231", "25056"]), st.integers(0, 3), edits),
                               min_size=1, max_size=40)


def _edited(base: str, changes) -> str:
    """`base` with letters inserted ("" = the letter there deleted)."""
    chars = list(base)
    for at, letter in changes:
        if letter:
            chars.insert(min(at, len(chars)), letter)
        elif chars:
            chars.pop(min(at, len(chars) - 1))
    return "".join(chars) or "x"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names_in_two_places, st.lists(st.text("abcdefghij ", min_size=1, max_size=45), min_size=4, max_size=4))
def test_random_name_sets_match_a_brute_force_check(drawn, bases):
    """Many near-identical spellings of a few names (up to four edits each) in one commune, and some in another."""
    entries = [(place, _edited(bases[base], changes)) for place, base, changes in drawn]
    _check_against_every_pair(entries, _similar)
    _check_against_every_pair(entries, _bounds)


@given(st.text("abc d", max_size=40), st.text("abc d", max_size=40))
def test_common_subsequence_is_the_longest(a, b):
    assert common_subsequence(a, b) == _lcs(a, b)


def test_identical_spellings_are_one_entry_and_report_every_row():
    index = NearNameIndex(_similar, NAME_SIMILARITY)
    for row_id, name in enumerate(["garage martin", "garage martine", "garage martin", "boulangerie petit",
                                   "garage martin"]):
        index.add("21231", str(row_id), name)
    assert list(index.find("21231", "garage martin")) == ["0", "1", "2", "4"]
    assert list(index.find("21231", "boulangerie petit")) == ["3"]
    assert list(index.find("25056", "garage martin")) == []
    assert list(index.find("21231", "")) == []


def test_largest_difference_bounds_every_compatible_pair():
    """τ(length) covers every pair of compatible lengths whose letters pass the quick_ratio bound."""
    for threshold in (NAME_SIMILARITY, 0.8, 0.75):
        for la in range(1, 151):
            expected = frozenset(lb for lb in range(1, 3 * la + 3) if compatible(la, lb, threshold))
            assert partners(la, threshold) == expected
            for lb in partners(la, threshold):
                common = min(c for c in range(0, min(la, lb) + 1) if reaches(c, la + lb, threshold))
                assert la + lb - 2 * common <= min(largest_difference(la, threshold),
                                                   largest_difference(lb, threshold))


def test_verifications_per_lookup_do_not_grow_with_the_number_of_names():
    """Distinct names sharing common words: difflib (the costly check) runs about as often per lookup for 200 as for
    2,000 names; what grows is only the width of the bitsets (one bit per name)."""
    rng = random.Random(3)
    words = ["atelier", "garage", "boulangerie", "menuiserie", "transports", "cabinet", "imprimerie"]

    def calls_per_lookup(count: int) -> float:
        calls = [0]

        def counting(a, b):
            calls[0] += 1
            return _similar(a, b)

        index = NearNameIndex(counting, NAME_SIMILARITY)
        for n in range(count):
            name = f"{rng.choice(words)} {''.join(rng.choice('bcdfglmnprstv') for _ in range(7))} {n}"
            list(index.find("21231", name))
            index.add("21231", str(n), name)
        return calls[0] / count

    small, large = calls_per_lookup(200), calls_per_lookup(2000)
    assert large <= 2 * small + 1, (small, large)


def test_a_flood_of_identical_names_stays_bounded(monkeypatch):
    monkeypatch.setattr(near_names, "MAX_SCANNED", 50)
    index = NearNameIndex(_similar, NAME_SIMILARITY)
    for n in range(500):
        index.add("21231", str(n), "garage martin")
    found = list(index.find("21231", "garage martin"))
    assert found == [str(n) for n in range(50)]


def test_a_flood_of_close_spellings_checks_at_most_the_cap(monkeypatch):
    """500 distinct spellings one letter away from the name all pass every bound: only MAX_SCANNED of them reach
    the costly check (the first added of each band of lengths first)."""
    monkeypatch.setattr(near_names, "MAX_SCANNED", 50)
    calls = [0]

    def counting(a, b):
        calls[0] += 1
        return _similar(a, b)

    base = "garage martin"
    spellings = sorted({base[:at] + letter + base[at + skip:] for at in range(len(base) + 1)
                        for letter in "abcdefghijklmnopqrstuvwxyz" for skip in (0, 1)} - {base})[:500]
    index = NearNameIndex(counting, NAME_SIMILARITY)
    for n, spelling in enumerate(spellings):
        index.add("21231", str(n), spelling)
    found = list(index.find("21231", base))
    assert calls[0] == 50 and len(found) == 50 and found == sorted(found, key=int) and found[0] == "0"
