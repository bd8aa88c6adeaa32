"""The near-identical-name index finds exactly what comparing every pair finds, with a bounded amount of work per
lookup (the import preview and the quality report stay linear in rows)."""

import random

from ecole_entreprise.domain import near_names
from ecole_entreprise.domain.near_names import NearNameIndex, segments
from ecole_entreprise.domain.validation import NAME_SIMILARITY, _similar


def _mutate(rng: random.Random, text: str) -> str:
    chars = list(text)
    for _ in range(rng.randint(0, 5)):
        at = rng.randrange(len(chars) + 1)
        roll = rng.random()
        if roll < 0.33:
            chars.insert(at, rng.choice("abcde "))
        elif chars and roll < 0.66:
            chars.pop(min(at, len(chars) - 1))
        elif chars:
            chars[min(at, len(chars) - 1)] = rng.choice("abcde ")
    return "".join(chars) or "x"


def test_same_answers_as_comparing_every_pair():
    rng = random.Random(20261201)
    probes = with_match = 0
    for _ in range(80):
        bases = ["".join(rng.choice("abcdefgh ") for _ in range(rng.randint(1, 70))) for _ in range(4)]
        names = [_mutate(rng, rng.choice(bases)) for _ in range(40)]
        index = NearNameIndex(_similar, NAME_SIMILARITY)
        for position, name in enumerate(names):
            expected = [str(j) for j, other in enumerate(names[:position]) if other == name or _similar(name, other)]
            assert list(index.find("21231", name)) == expected, name
            assert list(index.find("25056", name)) == []  # another place
            probes, with_match = probes + 1, with_match + bool(expected)
            index.add("21231", str(position), name)
    assert with_match > probes / 3  # the comparison is not vacuous


def test_segments_cover_the_name_and_allow_the_largest_distance():
    for length in range(1, 201):
        tau, cuts = segments(length, NAME_SIMILARITY)
        assert sum(size for _, size in cuts) == length and len(cuts) == tau + 1
        assert all(1 <= size <= 5 for _, size in cuts)
        assert cuts[0][0] == 0 and all(a[0] + a[1] == b[0] for a, b in zip(cuts, cuts[1:], strict=False))


def test_verifications_per_lookup_do_not_grow_with_the_number_of_names():
    """Distinct names sharing common words: difflib (the costly check) runs about as often per lookup for 200 as for
    2,000 names; what grows is only the scan of the index entries those words share (integer comparisons)."""
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
    assert 0 < len(found) <= 50 and found == sorted(found, key=int)
