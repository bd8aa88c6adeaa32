"""Find near-identical names without comparing every pair: per lookup, a fixed number of dictionary lookups and
bitset operations, then a check of the few names that can still reach the threshold.

"Near-identical" stays what `validation._similar` says (difflib ratio ≥ a threshold). The index proposes a superset
of the matches and `similar` decides; it never misses one, because a match passes difflib's two cheap upper bounds:
- real_quick_ratio: 2 · min(la, lb) / (la + lb) ≥ t (the lengths are close);
- quick_ratio: 2 · |A ∩ B| / (la + lb) ≥ t, A and B being the names' letter multisets; so the multisets differ by
  at most D = la + lb - 2 · ⌈t · (la + lb) / 2⌉ letters (counted both ways), D ≤ τ(lb), the largest such
  difference for a partner of a compatible length.
A multiset is a set of (letter, occurrence) elements ("aab" = {a1, a2, b1}), one bit each. The bits are dealt into
P = τ(lb) + REQUIRED classes; each differing element spoils one class, so a match has at least REQUIRED classes
whose elements are exactly the same in both names (pigeonhole, counting filter). The index keeps, per place and
(P, class, elements of the name in that class), the bitset of the spellings that have them; a lookup counts, with
bitwise operations, the spellings found in at least REQUIRED of its classes. Requiring several classes is what makes
the candidates few where names share a trade or a family name (a single class is often shared by chance).

Identical spellings of a place are one entry. A lookup checks at most MAX_SCANNED candidate spellings and reports
at most MAX_SCANNED row IDs, the first added: only a file of thousands of identical names (or anagrams) reaches it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache

# Classes that must agree: more classes, fewer candidates (REQUIRED = 4 leaves ≈ 9 candidates per lookup among
# 3,300 names of a commune in bench_import, 1 leaves ≈ 170).
REQUIRED = 4

# Candidate spellings checked, and row IDs reported, per lookup (the first added): a file of thousands of
# identical names still takes linear time.
MAX_SCANNED = 5_000


def reaches(matches: int, total: int, threshold: float) -> bool:
    """difflib's own ratio formula (2 · matches / total), so that rounding decides as it does there."""
    return total > 0 and 2.0 * matches / total >= threshold


def compatible(la: int, lb: int, threshold: float) -> bool:
    """difflib's real_quick_ratio bound: below it, the ratio cannot reach the threshold."""
    return reaches(min(la, lb), la + lb, threshold)


@lru_cache(maxsize=4096)
def partners(length: int, threshold: float) -> tuple[int, ...]:
    """The lengths compatible with `length` (an interval around it)."""
    low, high = max(1, int(length * threshold / (2 - threshold)) - 1), int(length * (2 - threshold) / threshold) + 2
    return tuple(lb for lb in range(low, high + 1) if compatible(length, lb, threshold))


@lru_cache(maxsize=4096)
def largest_difference(length: int, threshold: float) -> int:
    """τ: the most letters (counted both ways) by which a name of `length` can differ from a compatible one whose
    letters still pass the quick_ratio bound."""
    largest = 0
    for lb in partners(length, threshold):
        total = length + lb
        common = max(0, int(threshold * total / 2) - 1)
        while not reaches(common, total, threshold):
            common += 1
        largest = max(largest, total - 2 * common)
    return largest


@lru_cache(maxsize=4096)
def _probe_classes(length: int, threshold: float) -> tuple[int, ...]:
    """The class counts P of every indexed length that can match a probe of `length` characters."""
    return tuple(sorted({largest_difference(lb, threshold) + REQUIRED for lb in partners(length, threshold)}))


class _Place:
    """The names of one place: spellings (local number = bit), and the bitsets by (P, class, elements)."""

    __slots__ = ("spellings", "numbers", "postings")

    def __init__(self) -> None:
        self.spellings: list[tuple[str, int, list[int]]] = []  # (name, its letter bits, orders of its rows)
        self.numbers: dict[str, int] = {}
        self.postings: dict[tuple[int, int, int], int] = {}


class NearNameIndex:
    """Names by place; `find` yields the IDs of the indexed names of that place that `similar` accepts.

    `similar(a, b)` must imply difflib's real_quick_ratio and quick_ratio bounds at `threshold` (true of any test on
    difflib's ratio, which never exceeds them)."""

    def __init__(self, similar: Callable[[str, str], bool], threshold: float):
        self.similar, self.threshold = similar, threshold
        self._row_ids: list[str] = []  # by order of `add`
        self._places: dict[str, _Place] = {}
        self._elements: dict[tuple[str, int], int] = {}  # (letter, occurrence) -> bit number
        self._capacity = 0  # bits the class masks cover
        self._masks: dict[int, list[int]] = {}  # P -> mask of each class (bit number modulo P)

    def add(self, place: str, row_id: str, name: str) -> None:
        order = len(self._row_ids)
        self._row_ids.append(row_id)
        names = self._places.setdefault(place, _Place())
        number = names.numbers.get(name)
        if number is not None:
            names.spellings[number][2].append(order)
            return
        number, letters = len(names.spellings), self._letters(name)
        names.numbers[name] = number
        names.spellings.append((name, letters, [order]))
        classes, bit = largest_difference(len(name), self.threshold) + REQUIRED, 1 << number
        for position, mask in enumerate(self._class_masks(classes)):
            key = (classes, position, letters & mask)
            names.postings[key] = names.postings.get(key, 0) | bit

    def find(self, place: str, name: str) -> Iterator[str]:
        """IDs in the order they were added, each once."""
        names = self._places.get(place)
        if names is None or not name:
            return
        letters, found = self._letters(name), []
        candidates = self._candidates(names, letters, len(name))
        for number in _bits(candidates, MAX_SCANNED):
            other, other_letters, orders = names.spellings[number]
            if self._may_match(name, letters, other, other_letters):
                found += orders
        found.sort()
        yield from (self._row_ids[order] for order in found[:MAX_SCANNED])

    def _candidates(self, names: _Place, letters: int, length: int) -> int:
        """Bitset of the spellings sharing at least REQUIRED classes with `letters`: counters at[k] hold the
        spellings seen in more than k classes so far (a bitwise counting of the lookups)."""
        at = [0] * REQUIRED
        for classes in _probe_classes(length, self.threshold):
            for position, mask in enumerate(self._class_masks(classes)):
                found = names.postings.get((classes, position, letters & mask))
                if found:
                    for k in range(REQUIRED - 1, 0, -1):
                        at[k] |= at[k - 1] & found
                    at[0] |= found
        return at[-1]

    def _may_match(self, name: str, letters: int, other: str, other_letters: int) -> bool:
        if name == other:
            return True
        total, threshold = len(name) + len(other), self.threshold
        return (compatible(len(name), len(other), threshold)
                and reaches((letters & other_letters).bit_count(), total, threshold) and self.similar(name, other))

    def _letters(self, name: str) -> int:
        """The letter multiset as bits, one per (letter, occurrence)."""
        seen: dict[str, int] = {}
        bits = 0
        for letter in name:
            seen[letter] = occurrence = seen.get(letter, 0) + 1
            element = (letter, occurrence)
            bit = self._elements.get(element)
            if bit is None:
                bit = self._elements[element] = len(self._elements)
            bits |= 1 << bit
        return bits

    def _class_masks(self, classes: int) -> list[int]:
        """The masks of the `classes` classes (bit n in class n mod classes), covering every bit in use. Growing
        them keeps every bit in its class, so the keys already stored stay valid."""
        if len(self._elements) > self._capacity:
            self._capacity, self._masks = max(256, 2 * len(self._elements)), {}
        masks = self._masks.get(classes)
        if masks is None:
            masks = self._masks[classes] = [sum(1 << bit for bit in range(position, self._capacity, classes))
                                            for position in range(classes)]
        return masks


def _bits(bitset: int, limit: int) -> Iterator[int]:
    """Numbers of the bits set, lowest first, at most `limit`."""
    count = 0
    while bitset and count < limit:
        low = bitset & -bitset
        yield low.bit_length() - 1
        bitset ^= low
        count += 1
