"""Find near-identical names without comparing every pair: an index whose work per name does not grow with the
number of names indexed.

"Near-identical" stays what `validation._similar` says (difflib ratio ≥ a threshold); this index only proposes
candidates and never misses one, by the pigeonhole rule of Pass-Join (Li, Deng, Wang, Feng, VLDB 2011):
- difflib's matching blocks form a common subsequence, so ratio ≥ t implies that the two names differ by at most
  (1 - t) · (la + lb) insertions and deletions, and that their lengths are close (2 · min / (la + lb) ≥ t);
- an indexed name of length lb is cut into τ(lb) + 1 segments, τ(lb) being the largest such distance for any name
  of a compatible length: every insertion or deletion breaks at most one segment, so one segment survives whole
  and is found in the other name at most τ(lb) characters away from where it was.
Segments are 1 to 5 characters long, so a probe looks up a few substrings per character of the probe.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterator
from functools import lru_cache

# A probe stops after this many index entries: a file of thousands of identical names still takes linear time
# (each line then reports the near-identical names found among the first ones seen).
MAX_SCANNED = 5_000


def compatible(la: int, lb: int, threshold: float) -> bool:
    """difflib's real_quick_ratio bound: below it, the ratio cannot reach the threshold."""
    return la + lb > 0 and 2.0 * min(la, lb) / (la + lb) >= threshold


@lru_cache(maxsize=4096)
def _longest_partner(length: int, threshold: float) -> int:
    partner = math.floor(length * (2 - threshold) / threshold) + 1
    while partner > length and not compatible(length, partner, threshold):
        partner -= 1
    return partner


@lru_cache(maxsize=4096)
def segments(length: int, threshold: float) -> tuple[int, tuple[tuple[int, int], ...]]:
    """(τ, ((start, size), …)) for an indexed name of `length` characters."""
    tau = math.floor((1 - threshold) * (length + _longest_partner(length, threshold)) + 1e-6)
    count = min(tau + 1, max(length, 1))
    base, longer = divmod(length, count)
    cuts, start = [], 0
    for index in range(count):
        size = base + (1 if index >= count - longer else 0)
        cuts.append((start, size))
        start += size
    return tau, tuple(cuts)


@lru_cache(maxsize=4096)
def _probe_sizes(length: int, threshold: float) -> tuple[int, ...]:
    """Segment sizes of every indexed length that can match a probe of `length` characters."""
    low = max(1, math.floor(length * threshold / (2 - threshold)) - 1)
    sizes = {size for lb in range(low, _longest_partner(length, threshold) + 1) if compatible(length, lb, threshold)
             for _, size in segments(lb, threshold)[1]}
    return tuple(sorted(sizes))


class NearNameIndex:
    """Names by place; `find` yields the IDs of the indexed names of that place that `similar` accepts."""

    def __init__(self, similar: Callable[[str, str], bool], threshold: float):
        self.similar, self.threshold = similar, threshold
        self._postings: dict[tuple[str, str], list[tuple[int, int, int]]] = {}  # (order, start, tau)
        self._names: list[tuple[str, str, Counter]] = []  # by order: (row ID, name, its letters)

    def add(self, place: str, row_id: str, name: str) -> None:
        tau, cuts = segments(len(name), self.threshold)
        order = len(self._names)
        self._names.append((row_id, name, Counter(name)))
        for start, size in cuts:
            self._postings.setdefault((place, name[start:start + size]), []).append((order, start, tau))

    def find(self, place: str, name: str) -> Iterator[str]:
        """IDs in the order they were added, each once."""
        la, letters, checked, found = len(name), Counter(name), set(), []
        for position, (order, start, tau) in self._entries(place, name):
            row_id, other, other_letters = self._names[order]
            if order in checked or not self._may_match(position - start, la, len(other), tau):
                continue
            checked.add(order)
            if other == name or (self._letters_close(letters, other_letters, la + len(other))
                                 and self.similar(name, other)):
                found.append(order)
        yield from (self._names[order][0] for order in sorted(found))

    def _may_match(self, shift: int, la: int, lb: int, tau: int) -> bool:
        """A segment found `shift` characters from its place: the insertions and deletions before it, plus those
        the length difference still needs after it, must fit in what the ratio allows for these two lengths."""
        if abs(shift) > tau or not compatible(la, lb, self.threshold):
            return False
        return abs(shift) + abs(la - lb - shift) <= math.floor((1 - self.threshold) * (la + lb) + 1e-6)

    def _letters_close(self, mine: Counter, theirs: Counter, total: int) -> bool:
        """difflib's quick_ratio bound (letters in common, in any order), from letter counts kept at `add`."""
        common = sum(min(count, theirs[letter]) for letter, count in mine.items() if letter in theirs)
        return 2.0 * common / total >= self.threshold

    def _entries(self, place: str, name: str):
        """(position in `name`, index entry) for every indexed segment found in `name`, at most MAX_SCANNED."""
        scanned = 0
        for size in _probe_sizes(len(name), self.threshold):
            for position in range(len(name) - size + 1):
                for entry in self._postings.get((place, name[position:position + size]), ()):
                    yield position, entry
                    scanned += 1
                    if scanned >= MAX_SCANNED:
                        return
