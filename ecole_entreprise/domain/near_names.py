"""Find near-identical names without comparing every pair: per lookup, a fixed number of dictionary lookups and
bitwise operations, then a check of the few names that can still reach the threshold.

"Near-identical" stays what `validation._similar` says (difflib ratio ≥ t, t = 0.9). The index proposes a superset
of the matches and `similar` decides. It never misses one (but for MAX_SCANNED below), because difflib's ratio never
exceeds these bounds, so a match passes them all:
- real_quick_ratio: 2 · min(la, lb) / (la + lb) ≥ t: lb is one of the `partners` of la;
- quick_ratio: 2 · |A ∩ B| / (la + lb) ≥ t, A and B being the letter multisets of the names; their symmetric
  difference then has at most la + lb - 2 · c letters, c the least count of common letters that passes (difflib's
  own formula and rounding), and that is at most τ = largest_difference(lb), the most for any partner of lb;
- 2 · LCS / (la + lb) ≥ t: difflib's matching blocks are a common subsequence (this one spares difflib nearly
  every near miss: names with the same letters in another order).
A multiset is a set of (letter, occurrence) elements ("aab" = {a1, a2, b1}), one bit each; the bits are dealt into
P = τ(lb) + REQUIRED classes (bit n in class n mod P). Each differing element spoils one class, so a match has at
least REQUIRED classes whose elements are exactly the same in both names (pigeonhole, counting filter). Per place
and P (a band of lengths), the index keeps for each (class, elements of a name in that class) the bitset of the
spellings that have them; a lookup counts, with bitwise operations, the spellings found in at least REQUIRED of its
classes, then checks those with the three bounds and `similar`. Requiring several classes is what keeps candidates
few where names share a trade or a family name: one class alone is often shared by chance.

Identical spellings of a place are one entry (its rows are all reported). MAX_SCANNED caps a lookup: at most that
many candidate spellings are checked (per band, the first added first) and at most that many row IDs reported (the
first added). In bench_import a lookup has about 14 candidates among the 3,300 names of Dijon: only a file of
thousands of identical names, or of anagrams, reaches the cap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache

# Classes that must agree (`_candidates` counts up to 4, written out): among the 3,300 names of Dijon in
# bench_import, a lookup has ≈ 14 candidates with 4, 22 with 3, 170 with 1; counting further costs more than the
# candidates it saves.
REQUIRED = 4

# Candidate spellings checked, and row IDs reported, per lookup (the first added): a file of thousands of
# identical names or anagrams still takes linear time.
MAX_SCANNED = 5_000


def reaches(matches: int, total: int, threshold: float) -> bool:
    """difflib's own ratio formula (2 · matches / total), so that rounding decides as it does there."""
    return total > 0 and 2.0 * matches / total >= threshold


def compatible(la: int, lb: int, threshold: float) -> bool:
    """difflib's real_quick_ratio bound: below it, the ratio cannot reach the threshold."""
    return reaches(min(la, lb), la + lb, threshold)


@lru_cache(maxsize=4096)
def partners(length: int, threshold: float) -> frozenset[int]:
    """The lengths compatible with `length` (an interval around it)."""
    low, high = max(1, int(length * threshold / (2 - threshold)) - 1), int(length * (2 - threshold) / threshold) + 2
    return frozenset(lb for lb in range(low, high + 1) if compatible(length, lb, threshold))


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


def common_subsequence(a: str, b: str) -> int:
    """Length of the longest common subsequence, one bitwise step per letter of `a` (Hyyrö's bit-vector form of
    the dynamic programme: the zeros of `row` are the columns where the LCS grows)."""
    where: dict[str, int] = {}
    for position, letter in enumerate(b):
        where[letter] = where.get(letter, 0) | 1 << position
    full = (1 << len(b)) - 1
    row = full
    for letter in a:
        matched = row & where.get(letter, 0)
        row = ((row + matched) | (row - matched)) & full
    return len(b) - row.bit_count()


class _Band:
    """The spellings of one place whose letters are dealt into the same number of classes (a band of lengths):
    their local number is their bit in the bitsets of `postings`, keyed by (class, elements of the class)."""

    __slots__ = ("spellings", "postings")

    def __init__(self) -> None:
        self.spellings: list[tuple[str, int, list[int]]] = []  # (name, its letter bits, orders of its rows)
        self.postings: dict[tuple[int, int], int] = {}


class NearNameIndex:
    """Names by place; `find` yields the IDs of the indexed names of that place that `similar` accepts.

    `similar(a, b)` must imply difflib's real_quick_ratio and quick_ratio bounds and the common subsequence bound
    at `threshold` (true of any test on difflib's ratio, which never exceeds them)."""

    def __init__(self, similar: Callable[[str, str], bool], threshold: float):
        self.similar, self.threshold = similar, threshold
        self._row_ids: list[str] = []  # by order of `add`
        self._bands: dict[tuple[str, int], _Band] = {}  # (place, classes) -> its spellings
        self._spelled: dict[tuple[str, str], list[int]] = {}  # (place, name) -> orders of its rows
        self._elements = 0  # bits given to (letter, occurrence) elements
        self._first_occurrences: dict[str, list[int]] = {}  # letter -> masks of its first k occurrences
        self._last: tuple[str, int] = ("", 0)
        self._capacity = 0  # bits the class masks cover
        self._masks: dict[int, list[int]] = {}  # P -> mask of each class (bit number modulo P)

    def add(self, place: str, row_id: str, name: str) -> None:
        order = len(self._row_ids)
        self._row_ids.append(row_id)
        orders = self._spelled.get((place, name))
        if orders is not None:  # identical spellings are one entry
            orders.append(order)
            return
        orders = self._spelled[place, name] = [order]
        classes, letters = largest_difference(len(name), self.threshold) + REQUIRED, self._letters(name)
        band = self._bands.setdefault((place, classes), _Band())
        bit = 1 << len(band.spellings)
        band.spellings.append((name, letters, orders))
        for position, mask in enumerate(self._class_masks(classes)):
            key = (position, letters & mask)
            band.postings[key] = band.postings.get(key, 0) | bit

    def find(self, place: str, name: str) -> Iterator[str]:
        """IDs in the order they were added, each once."""
        if not name:
            return
        letters, length, threshold = self._letters(name), len(name), self.threshold
        lengths, found, checked = partners(length, threshold), [], 0
        for classes in _probe_classes(length, threshold):
            band = self._bands.get((place, classes))
            candidates = self._candidates(band, classes, letters) if band else 0
            while candidates and checked < MAX_SCANNED:  # lowest bit first: the spellings added first
                low = candidates & -candidates
                candidates ^= low
                checked += 1
                other, other_letters, orders = band.spellings[low.bit_length() - 1]
                total = length + len(other)
                if other == name or (len(other) in lengths  # the three bounds, cheapest first, then difflib
                                     and reaches((letters & other_letters).bit_count(), total, threshold)
                                     and reaches(common_subsequence(name, other), total, threshold)
                                     and self.similar(name, other)):
                    found += orders
        found.sort()
        yield from (self._row_ids[order] for order in found[:MAX_SCANNED])

    def _candidates(self, band: _Band, classes: int, letters: int) -> int:
        """Bitset of the spellings of `band` sharing at least REQUIRED (4) classes with `letters`: `one` … `four`
        hold the spellings found in at least 1 … 4 of the classes looked up so far (bitwise counting)."""
        postings, one, two, three, four = band.postings, 0, 0, 0, 0
        for position, mask in enumerate(self._class_masks(classes)):
            found = postings.get((position, letters & mask))
            if found:
                four |= three & found
                three |= two & found
                two |= one & found
                one |= found
        return four

    def _letters(self, name: str) -> int:
        """The letter multiset as bits, one per (letter, occurrence); the last one is kept, for the `add` that
        follows the `find` of a line."""
        if self._last[0] == name:
            return self._last[1]
        bits = 0
        for letter in set(name):
            count, masks = name.count(letter), self._first_occurrences.get(letter)
            if masks is None or len(masks) <= count:
                masks = self._new_occurrences(letter, count)
            bits |= masks[count]
        self._last = (name, bits)
        return bits

    def _new_occurrences(self, letter: str, count: int) -> list[int]:
        """Bits for the occurrences of `letter` up to `count`: masks[k] holds occurrences 1 to k."""
        masks = self._first_occurrences.setdefault(letter, [0])
        while len(masks) <= count:
            self._elements += 1
            masks.append(masks[-1] | 1 << (self._elements - 1))
        return masks

    def _class_masks(self, classes: int) -> list[int]:
        """The masks of the `classes` classes (bit n in class n mod classes), covering every bit in use. Growing
        them keeps every bit in its class, so the keys already stored stay valid."""
        if self._elements > self._capacity:
            self._capacity, self._masks = max(256, 2 * self._elements), {}
        masks = self._masks.get(classes)
        if masks is None:
            masks = self._masks[classes] = [sum(1 << bit for bit in range(position, self._capacity, classes))
                                            for position in range(classes)]
        return masks
