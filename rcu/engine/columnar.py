"""Columnar scoring: the pairs of a batch partition compared as arrays, not one by one.

`Scorer.score_at_least` compares one pair at a time in Python (about 10 µs a pair).
A batch run scores millions: here a chunk of pairs is a pair of position arrays into
the partition's records, each comparison turns them into an array of levels, the
levels become weights by indexing the model's tables, and only the pairs that reach
the review mark become `PairScore` objects. The result is the row-by-row one to the
pair (same pairs, same levels, same weights to the bit): tests/rcu/engine/
test_columnar.py compares the two on generated data.

How each comparison is made columnar, without copying its rules:

- values are read from the records once per partition (`Columns`), as strings and as
  integer codes (one code per distinct string), so equality is a comparison of ints;
- string similarities go through rapidfuzz's pairwise C++ functions
  (`process.cpdist`) with the scorer and the thresholds the comparator uses;
- a rule that is a function of two values only (two first names "compatible", two
  surnames sharing a word) is asked of the comparator's own function once per distinct
  pair of values;
- a rule that needs the records (a surname in the other's e-mail, identifiers, two
  house numbers) is asked of the comparator's own function, pair by pair, on the few
  pairs that reach it.

A comparison without a columnar form (`COLUMNAR`, by compare function) is made pair
by pair with its own `compare`: new comparisons are correct at once, and fast once
they get one. As `score_at_least` does, the comparisons are made cheapest first and a
pair that can no longer reach the mark is dropped before the costlier ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import chain, islice
from typing import Any

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler, Levenshtein
from rapidfuzz.fuzz import token_set_ratio

from rcu.engine import comparators as c
from rcu.engine.blocking import swapped_day_month
from rcu.engine.fellegi_sunter import probability_from_weight
from rcu.engine.scoring import PRUNE_TOLERANCE, PairScore, Scorer
from rcu.engine.types import Level, MatchRecord

# The level of a missing value in a level array (None in a comparison vector).
MISSING = -1
# Pairs compared together: large enough for the arrays to pay, small enough for
# memory (a dozen arrays of this length).
CHUNK_PAIRS = 200_000

IntArray = np.ndarray
Compare = Callable[["Columns", IntArray, IntArray], IntArray]


class Columns:
    """The partition's records by position, and the columns derived from them, each
    computed once and kept: a record is in many pairs.

    Strings get integer codes from one table shared by every column (0: missing), so
    values of two columns compare too (a first name against a surname)."""

    def __init__(self, records: Sequence[MatchRecord]) -> None:
        self.records = records
        self._codes: dict[str, int] = {}
        self.values: list[str] = [""]  # code → string
        self._cache: dict[str, Any] = {}

    def __len__(self) -> int:
        return len(self.records)

    def code(self, value: str | None) -> int:
        if value is None:
            return 0
        code = self._codes.get(value)
        if code is None:
            code = self._codes[value] = len(self.values)
            self.values.append(value)
        return code

    def _kept(self, name: str, compute: Callable[[], Any]) -> Any:
        found = self._cache.get(name)
        if found is None:
            found = self._cache[name] = compute()
        return found

    def derived(self, name: str, compute: Callable[[MatchRecord], object]) -> list:
        """compute(record) for every record, by position."""
        return self._kept("derived:" + name, lambda: [compute(r) for r in self.records])

    def strings(self, attribute: str) -> np.ndarray:
        """The key `attribute` of every record ("" when missing), as an object array."""
        return self._kept("strings:" + attribute, lambda: _objects(
            [r.keys.get(attribute) or "" for r in self.records]
        ))

    def codes(self, attribute: str) -> IntArray:
        """The code of the key `attribute` of every record; 0 when missing or empty."""
        return self.coded("key:" + attribute, lambda r: r.keys.get(attribute) or None)

    def coded(self, name: str, compute: Callable[[MatchRecord], str | None]) -> IntArray:
        """The code of compute(record) for every record (None: 0; "" has a code)."""
        code = self.code
        return self._kept("coded:" + name, lambda: np.fromiter(
            (code(compute(r)) for r in self.records), dtype=np.int64, count=len(self.records)
        ))

    def recode(self, name: str, codes: IntArray, transform: Callable[[str], str | None]) -> IntArray:
        """The code of transform(value) for the value of each code (0 stays 0), asked
        once per distinct value however many calls and pairs hold it."""
        table = self._cache.get("recode:" + name)
        if table is None or len(table) < len(self.values):
            grown = np.full(len(self.values), -1, dtype=np.int64)
            grown[0] = 0
            if table is not None:
                grown[: len(table)] = table
            table = self._cache["recode:" + name] = grown
        assert isinstance(table, np.ndarray)
        distinct = np.unique(codes)
        for value_code in distinct[table[distinct] < 0].tolist():
            table[value_code] = self.code(transform(self.values[value_code]))
        return table[codes]


def _objects(values: Sequence[object]) -> np.ndarray:
    """A one-dimensional object array (numpy would make tuples a second dimension)."""
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _similarity(scorer, xs: np.ndarray, ys: np.ndarray, **kwargs) -> np.ndarray:
    if len(xs) == 0:
        return np.zeros(0, dtype=np.float64)
    return process.cpdist(xs, ys, scorer=scorer, dtype=np.float64, workers=1, **kwargs)


def _distance(scorer, xs: np.ndarray, ys: np.ndarray, cutoff: int) -> np.ndarray:
    if len(xs) == 0:
        return np.zeros(0, dtype=np.int64)
    return process.cpdist(
        xs, ys, scorer=scorer, dtype=np.int64, workers=1, score_cutoff=cutoff
    ).astype(np.int64)


def _value_pairs(
    columns: Columns, x: IntArray, y: IntArray, rule: Callable[[str, str], bool]
) -> np.ndarray:
    """rule(x value, y value) for each pair of codes, asked once per distinct pair."""
    if len(x) == 0:
        return np.zeros(0, dtype=bool)
    width = np.int64(len(columns.values))
    combined = x * width + y
    distinct, inverse = np.unique(combined, return_inverse=True)
    values = columns.values
    answers = np.fromiter(
        (rule(values[k // width], values[k % width]) for k in distinct.tolist()),
        dtype=bool, count=len(distinct),
    )
    return answers[inverse]


def _pairwise(
    columns: Columns, ia: IntArray, ib: IntArray, rule: Callable[[MatchRecord, MatchRecord], bool]
) -> np.ndarray:
    """rule(record a, record b) for each pair, in Python: only for the few pairs that
    reach a rule needing the records."""
    records = columns.records
    return np.fromiter(
        (rule(records[a], records[b]) for a, b in zip(ia.tolist(), ib.tolist(), strict=True)),
        dtype=bool, count=len(ia),
    )


def _select(levels: np.ndarray, undecided: np.ndarray, mask: np.ndarray, level: int) -> None:
    """Give `level` to the undecided pairs where `mask` holds; they are decided."""
    chosen = undecided & mask
    levels[chosen] = level
    undecided &= ~mask


# --- names: the orientation, then first and last names -----------------------------


class _Names:
    """Both names of a pair in the orientation `comparators._oriented` chooses, and
    the similarities it computed (NaN where it computed none)."""

    def __init__(self, columns: Columns, ia: IntArray, ib: IntArray) -> None:
        first, last = columns.codes("first_name"), columns.codes("last_name")
        first_s, last_s = columns.strings("first_name"), columns.strings("last_name")
        a_first, a_last, b_first, b_last = first[ia], last[ia], first[ib], last[ib]
        n = len(ia)
        self.first_similarity = np.full(n, np.nan)
        self.last_similarity = np.full(n, np.nan)
        swapped = np.zeros(n, dtype=bool)
        both = (
            (a_first > 0) & (a_last > 0) & (b_first > 0) & (b_last > 0)
            & (a_first != b_first) & (a_last != b_last)
        )
        at = np.flatnonzero(both)
        if len(at):
            pa, pb = ia[at], ib[at]
            straight_first = _similarity(JaroWinkler.similarity, first_s[pa], first_s[pb])
            straight_last = _similarity(JaroWinkler.similarity, last_s[pa], last_s[pb])
            crossed_first = _similarity(JaroWinkler.similarity, first_s[pa], last_s[pb])
            crossed_last = _similarity(JaroWinkler.similarity, last_s[pa], first_s[pb])
            cross = crossed_first + crossed_last > straight_first + straight_last
            swapped[at] = cross
            self.first_similarity[at] = np.where(cross, crossed_first, straight_first)
            self.last_similarity[at] = np.where(cross, crossed_last, straight_last)
        self.swapped = swapped
        self.x_first, self.x_last = a_first, a_last
        self.y_first = np.where(swapped, b_last, b_first)
        self.y_last = np.where(swapped, b_first, b_last)
        # Positions of b's name read as first and as last name (for its strings).
        self.ib = ib
        self.ia = ia

    def strings(self, columns: Columns, which: str) -> tuple[np.ndarray, np.ndarray]:
        first_s, last_s = columns.strings("first_name"), columns.strings("last_name")
        if which == "first":
            return first_s[self.ia], np.where(self.swapped, last_s[self.ib], first_s[self.ib])
        return last_s[self.ia], np.where(self.swapped, first_s[self.ib], last_s[self.ib])


def _similarities(
    known: np.ndarray, xs: np.ndarray, ys: np.ndarray, at: np.ndarray
) -> np.ndarray:
    """The similarity of the pairs `at`: the one the orientation computed, else
    Jaro-Winkler computed now (as the comparator does)."""
    found = known[at]
    missing = np.isnan(found)
    if missing.any():
        where = at[missing]
        found[missing] = _similarity(JaroWinkler.similarity, xs[where], ys[where])
    return found


def columnar_first_name(columns: Columns, ia: IntArray, ib: IntArray) -> IntArray:
    names = _Names(columns, ia, ib)
    x, y = names.x_first, names.y_first
    levels = np.full(len(ia), MISSING, dtype=np.int8)
    undecided = (x > 0) & (y > 0)
    L = c.FirstNameLevel
    _select(levels, undecided, x == y, L.EXACT)
    at = np.flatnonzero(undecided)
    xs, ys = names.strings(columns, "first")
    similarity = _similarities(names.first_similarity, xs, ys, at)
    sub = np.full(len(at), L.DIFFERENT, dtype=np.int8)
    open_ = np.ones(len(at), dtype=bool)
    _select(sub, open_, similarity >= c.JARO_WINKLER_HIGH, L.JARO_WINKLER_HIGH)
    rest = np.flatnonzero(open_)
    compatible = np.zeros(len(at), dtype=bool)
    compatible[rest] = _value_pairs(
        columns, x[at[rest]], y[at[rest]], c._first_names_compatible
    )
    _select(sub, open_, compatible, L.COMPATIBLE)
    _select(sub, open_, similarity >= c.JARO_WINKLER_LOW, L.JARO_WINKLER_LOW)
    levels[at] = sub
    return levels


def _surnames_share_a_word(columns: Columns, x: IntArray, y: IntArray) -> np.ndarray:
    """Whether `_surname_tokens` of the two names meet. A name whose words come down to
    one is coded by that word, so most pairs compare codes; the others ask Python."""
    def token_codes(codes: IntArray) -> IntArray:
        def one_word(name: str) -> str | None:
            words = c._surname_tokens(name)
            if not words:
                return "\x00none"  # never equal to a word, never asked in Python
            return next(iter(words)) if len(words) == 1 else "\x00many"
        return columns.recode("surname_word", codes, one_word)

    tx, ty = token_codes(x), token_codes(y)
    none, many = columns.code("\x00none"), columns.code("\x00many")
    answer = (tx == ty) & (tx != none) & (tx != many)
    ask = ((tx == many) & (ty != none)) | ((ty == many) & (tx != none))
    at = np.flatnonzero(ask)
    if len(at):
        answer[at] = _value_pairs(
            columns, x[at], y[at],
            lambda p, q: bool(c._surname_tokens(p) & c._surname_tokens(q)),
        )
    return answer


def columnar_last_name(columns: Columns, ia: IntArray, ib: IntArray) -> IntArray:
    names = _Names(columns, ia, ib)
    x, y = names.x_last, names.y_last
    levels = np.full(len(ia), MISSING, dtype=np.int8)
    undecided = (x > 0) & (y > 0)
    L = c.LastNameLevel
    glued = columns.recode("glued_name", np.concatenate(
        [columns.codes("first_name"), columns.codes("last_name")]
    ), lambda name: name.replace(" ", ""))
    glued_first, glued_last = glued[: len(columns)], glued[len(columns) :]
    y_glued = np.where(names.swapped, glued_first[ib], glued_last[ib])
    _select(levels, undecided, (x == y) | (glued_last[ia] == y_glued), L.EXACT)
    at = np.flatnonzero(undecided)
    xs, ys = names.strings(columns, "last")
    similarity = _similarities(names.last_similarity, xs, ys, at)
    sub = np.full(len(at), L.DIFFERENT, dtype=np.int8)
    open_ = np.ones(len(at), dtype=bool)
    _select(sub, open_, similarity >= c.JARO_WINKLER_HIGH, L.JARO_WINKLER_HIGH)
    rest = np.flatnonzero(open_)
    shared = np.zeros(len(at), dtype=bool)
    shared[rest] = _surnames_share_a_word(columns, x[at[rest]], y[at[rest]])
    _select(sub, open_, shared, L.TOKEN_MATCH)
    _select(sub, open_, similarity >= c.JARO_WINKLER_LOW, L.JARO_WINKLER_LOW)
    # A surname in the other record's e-mail: only pairs where a mailbox name exists.
    mailbox = columns.coded("mailbox", lambda r: c._derived(r, "mailbox", c._mailbox) or None)
    rest = np.flatnonzero(open_)
    pa, pb = ia[at[rest]], ib[at[rest]]
    ask = rest[(mailbox[pa] > 0) | (mailbox[pb] > 0)]
    if len(ask):
        values = columns.values
        xa, ya = x[at[ask]].tolist(), y[at[ask]].tolist()
        records = columns.records
        in_email = np.fromiter(
            (
                c._other_name_in_email(records[a], records[b], values[p], values[q])
                for a, b, p, q in zip(
                    ia[at[ask]].tolist(), ib[at[ask]].tolist(), xa, ya, strict=True
                )
            ),
            dtype=bool, count=len(ask),
        )
        mask = np.zeros(len(at), dtype=bool)
        mask[ask] = in_email
        _select(sub, open_, mask, L.IN_OTHER_EMAIL)
    levels[at] = sub
    return levels


# --- dates, e-mails, phones, addresses, places, identifiers ------------------------


def columnar_birth_date(columns: Columns, ia: IntArray, ib: IntArray) -> IntArray:
    dates = columns.codes("birth_date")
    x, y = dates[ia], dates[ib]
    levels = np.full(len(ia), MISSING, dtype=np.int8)
    undecided = (x > 0) & (y > 0)
    L = c.BirthDateLevel
    _select(levels, undecided, x == y, L.EXACT)
    year = columns.recode("birth_year", dates, lambda d: d[:4])
    same_year = year[ia] == year[ib]
    swapped = columns.recode("birth_date_swapped", dates, swapped_day_month)
    _select(levels, undecided, same_year & (swapped[ia] == y) & (y > 0), L.DAY_MONTH_SWAPPED)
    at = np.flatnonzero(undecided)
    digits = columns.derived("birth_date_digits", lambda r: (r.keys.get("birth_date") or "")
                             .replace("-", ""))
    digit_strings = columns._kept("birth_date_digit_strings", lambda: _objects(digits))
    one_typo = np.zeros(len(ia), dtype=bool)
    one_typo[at] = _distance(
        DamerauLevenshtein.distance, digit_strings[ia[at]], digit_strings[ib[at]], 2
    ) == 1
    _select(levels, undecided, one_typo, L.ONE_TYPO)
    _select(levels, undecided, same_year, L.SAME_YEAR)
    levels[undecided] = L.DIFFERENT
    return levels


def columnar_email(columns: Columns, ia: IntArray, ib: IntArray) -> IntArray:
    emails = columns.codes("email")
    x, y = emails[ia], emails[ib]
    levels = np.full(len(ia), MISSING, dtype=np.int8)
    undecided = (x > 0) & (y > 0)
    L = c.EmailLevel
    _select(levels, undecided, x == y, L.EXACT)
    local = columns.recode("email_local", emails, lambda e: e.rpartition("@")[0])
    _select(levels, undecided, local[ia] == local[ib], L.SAME_LOCAL_PART)
    at = np.flatnonzero(undecided)
    strings = columns.strings("email")
    close = np.zeros(len(ia), dtype=bool)
    close[at] = _similarity(JaroWinkler.similarity, strings[ia[at]], strings[ib[at]]) >= c.EMAIL_CLOSE
    _select(levels, undecided, close, L.CLOSE)
    levels[undecided] = L.DIFFERENT
    return levels


def columnar_phone(columns: Columns, ia: IntArray, ib: IntArray) -> IntArray:
    numbers = columns.derived("phones", c._phone_numbers)
    slots = max((len(n) for n in numbers), default=0)
    levels = np.full(len(ia), MISSING, dtype=np.int8)
    if slots == 0:
        return levels
    code = columns.code
    table = columns._kept("phone_slots", lambda: np.array(
        [[code(n[k]) if k < len(n) else 0 for k in range(slots)] for n in numbers],
        dtype=np.int64,
    ))
    strings = columns._kept("phone_strings", lambda: [
        _objects([n[k] if k < len(n) else "" for n in numbers]) for k in range(slots)
    ])
    xa, yb = table[ia], table[ib]
    undecided = (xa[:, 0] > 0) & (yb[:, 0] > 0)
    L = c.PhoneLevel
    equal = np.zeros(len(ia), dtype=bool)
    for i in range(slots):
        for j in range(slots):
            equal |= (xa[:, i] == yb[:, j]) & (xa[:, i] > 0)
    _select(levels, undecided, equal, L.EXACT)
    typo = np.zeros(len(ia), dtype=bool)
    for i in range(slots):
        for j in range(slots):
            at = np.flatnonzero(undecided & (xa[:, i] > 0) & (yb[:, j] > 0))
            typo[at] |= _distance(
                Levenshtein.distance, strings[i][ia[at]], strings[j][ib[at]], 1
            ) <= 1
    _select(levels, undecided, typo, L.ONE_TYPO)
    kinds = columns.derived("line_kinds", lambda r: c._derived(r, "line_kinds", c._line_kinds))
    bits: dict[str | None, int] = {}
    masks = columns._kept("line_kind_masks", lambda: np.fromiter(
        (
            -1 if None in k else sum(bits.setdefault(kind, 1 << len(bits)) for kind in k)
            for k in kinds
        ),
        dtype=np.int64, count=len(kinds),
    ))
    ma, mb = masks[ia], masks[ib]
    _select(levels, undecided, (ma >= 0) & (mb >= 0) & ((ma & mb) == 0), L.OTHER_LINE_KIND)
    levels[undecided] = L.DIFFERENT
    return levels


def columnar_address(columns: Columns, ia: IntArray, ib: IntArray) -> IntArray:
    addresses = columns.codes("address")
    x, y = addresses[ia], addresses[ib]
    levels = np.full(len(ia), MISSING, dtype=np.int8)
    undecided = (x > 0) & (y > 0)
    L = c.AddressLevel
    _select(levels, undecided, x == y, L.EXACT)
    at = np.flatnonzero(undecided)
    strings = columns.strings("address")
    ratio = np.zeros(len(ia))
    ratio[at] = _similarity(
        token_set_ratio, strings[ia[at]], strings[ib[at]], score_cutoff=c.ADDRESS_MID
    )
    high = np.flatnonzero(undecided & (ratio >= c.ADDRESS_HIGH))
    if len(high):
        numbers = columns.derived("house_numbers", lambda r: c._house_numbers(
            r.keys.get("address") or ""))
        other_house = np.fromiter(
            (
                bool(numbers[a] and numbers[b] and numbers[a].isdisjoint(numbers[b]))
                for a, b in zip(ia[high].tolist(), ib[high].tolist(), strict=True)
            ),
            dtype=bool, count=len(high),
        )
        levels[high] = np.where(other_house, L.TOKEN_SET_MID, L.TOKEN_SET_HIGH)
        undecided[high] = False
    _select(levels, undecided, ratio >= c.ADDRESS_MID, L.TOKEN_SET_MID)
    levels[undecided] = L.DIFFERENT
    return levels


def columnar_postcode_city(columns: Columns, ia: IntArray, ib: IntArray) -> IntArray:
    postcodes, cities = columns.codes("postcode"), columns.codes("city")
    xp, yp, xc, yc = postcodes[ia], postcodes[ib], cities[ia], cities[ib]
    levels = np.full(len(ia), MISSING, dtype=np.int8)
    undecided = ((xp > 0) & (yp > 0)) | ((xc > 0) & (yc > 0))
    L = c.PostcodeCityLevel
    _select(levels, undecided, (xp > 0) & (xp == yp), L.SAME_POSTCODE)
    _select(levels, undecided, (xc > 0) & (xc == yc), L.SAME_CITY)
    department = columns.recode("department", postcodes, c._department)
    da, db = department[ia], department[ib]
    _select(levels, undecided, (xp > 0) & (yp > 0) & (da > 0) & (da == db), L.SAME_DEPARTMENT)
    levels[undecided] = L.DIFFERENT
    return levels


def _by_rule(compare: Callable[[MatchRecord, MatchRecord], Level], holds: str) -> Compare:
    """A comparison made by its own `compare`, pair by pair, only for the pairs where
    both records hold something `holds` names (a derived value): elsewhere missing."""
    def columnar(columns: Columns, ia: IntArray, ib: IntArray) -> IntArray:
        held = columns._kept("holds:" + holds, lambda: np.fromiter(
            (bool(c._derived(r, holds, getattr(c, holds))) for r in columns.records),
            dtype=bool, count=len(columns),
        ))
        levels = np.full(len(ia), MISSING, dtype=np.int8)
        at = np.flatnonzero(held[ia] & held[ib])
        levels[at] = _row_by_row(compare, columns, ia[at], ib[at])
        return levels
    return columnar


def _row_by_row(
    compare: Callable[[MatchRecord, MatchRecord], Level], columns: Columns,
    ia: IntArray, ib: IntArray,
) -> IntArray:
    records = columns.records
    return np.fromiter(
        (
            MISSING if (level := compare(records[a], records[b])) is None else level
            for a, b in zip(ia.tolist(), ib.tolist(), strict=True)
        ),
        dtype=np.int8, count=len(ia),
    )


# The columnar form of each comparator, by its compare function: a comparison whose
# function is not here (a new one, or one replaced) is made pair by pair.
COLUMNAR: dict[Callable, Compare] = {
    c.compare_first_name: columnar_first_name,
    c.compare_last_name: columnar_last_name,
    c.compare_birth_date: columnar_birth_date,
    c.compare_email: columnar_email,
    c.compare_phone: columnar_phone,
    c.compare_address: columnar_address,
    c.compare_postcode_city: columnar_postcode_city,
    c.compare_identifiers: _by_rule(c.compare_identifiers, "identifiers"),
}


# --- scoring -----------------------------------------------------------------------


class ColumnarScorer:
    """Scores many pairs of one set of records as arrays, with a `Scorer`'s model,
    order and term-frequency adjustments; same results as its `score_at_least`."""

    def __init__(self, scorer: Scorer) -> None:
        self.scorer = scorer
        compares = scorer._compares
        self._compares: tuple[Compare, ...] = tuple(
            COLUMNAR.get(compare) or _fallback(compare) for compare in compares
        )
        # Each comparison's weight by level, the missing level (-1) last.
        self._tables = tuple(
            np.array(
                [table[level] for level in range(len(table) - 1)] + [table[None]],
                dtype=np.float64,
            )
            for table in scorer.model.tables
        )

    def levels(
        self, columns: Columns, ia: IntArray, ib: IntArray, min_weight: float | None = None
    ) -> tuple[IntArray, np.ndarray, np.ndarray]:
        """The positions kept (into ia/ib), their levels (one row per pair, one column
        per comparison) and their term-frequency adjustments (same shape).

        With `min_weight`, a pair is dropped as soon as what is left to compare cannot
        lift it to the mark (the early stop of `Scorer.score_at_least`)."""
        scorer = self.scorer
        count = len(self._compares)
        kept = np.arange(len(ia))
        levels = np.full((len(ia), count), MISSING, dtype=np.int8)
        adjustments = np.zeros((len(ia), count), dtype=np.float64)
        partial = np.full(len(ia), scorer.model.prior_weight)
        for step, index in enumerate(scorer._order):
            if len(kept) == 0:
                break
            found = self._compares[index](columns, ia[kept], ib[kept])
            levels[kept, index] = found
            partial += self._tables[index][found]
            rule = scorer._tf_rules.get(index)
            if rule is not None:
                adjustment = np.where(
                    found == rule[0], self._record_adjustments(columns, index)[ia[kept]], 0.0
                )
                adjustments[kept, index] = adjustment
                partial += adjustment
            if min_weight is not None:
                alive = partial + scorer._headroom[step] >= min_weight - PRUNE_TOLERANCE
                if not alive.all():
                    kept, partial = kept[alive], partial[alive]
        return kept, levels[kept], adjustments[kept]

    def _record_adjustments(self, columns: Columns, index: int) -> np.ndarray:
        """Comparison `index`'s term-frequency adjustment for each record's value (the
        pair's lower record holds the value both agree on)."""
        scorer = self.scorer
        level = scorer._tf_rules[index][0]
        return columns._kept(f"tf:{index}", lambda: np.fromiter(
            (scorer.adjustment(index, level, r) for r in columns.records),
            dtype=np.float64, count=len(columns),
        ))

    def weights(self, levels: np.ndarray, adjustments: np.ndarray) -> np.ndarray:
        """`Scorer.total_weight` of each row: the level weights in the comparisons'
        order, then the adjustments, then the prior, the same sum in the same order
        (so the same float to the bit)."""
        total = np.zeros(len(levels))
        for index, table in enumerate(self._tables):
            total = total + table[levels[:, index]]
        for index in self.scorer._tf_rules:
            total = total + adjustments[:, index]
        return self.scorer.model.prior_weight + total

    def score_at_least(
        self, columns: Columns, ia: IntArray, ib: IntArray, min_weight: float,
        min_probability: float,
    ) -> list[PairScore]:
        """The pairs (a's record id below b's) scoring at least `min_weight` with a
        probability of at least `min_probability`, as `PairScore`s."""
        kept, levels, adjustments = self.levels(columns, ia, ib, min_weight)
        if len(kept) == 0:
            return []
        weights = self.weights(levels, adjustments)
        records = columns.records
        scores: list[PairScore] = []
        for row in np.flatnonzero(weights >= min_weight - PRUNE_TOLERANCE).tolist():
            weight = float(weights[row])
            probability = probability_from_weight(weight)
            if probability < min_probability:
                continue
            vector = tuple(None if level < 0 else level for level in levels[row].tolist())
            k = kept[row]
            scores.append(PairScore(
                records[ia[k]].id, records[ib[k]].id, vector, weight, probability
            ))
        return scores


def _fallback(compare: Callable[[MatchRecord, MatchRecord], Level]) -> Compare:
    return lambda columns, ia, ib: _row_by_row(compare, columns, ia, ib)


def score_pairs(
    scorer: Scorer, records: Sequence[MatchRecord], pairs: Iterable[tuple[int, int]],
    *, min_weight: float, min_probability: float, chunk: int = CHUNK_PAIRS,
) -> tuple[list[PairScore], int]:
    """Score pairs of record ids (a < b) of `records` (already `prepare`d) in chunks;
    returns the pairs kept and how many were compared."""
    ordered = sorted(records, key=lambda r: r.id)
    ids = np.fromiter((r.id for r in ordered), dtype=np.int64, count=len(ordered))
    columns = Columns(ordered)
    columnar = ColumnarScorer(scorer)
    kept: list[PairScore] = []
    compared = 0
    flat = chain.from_iterable(pairs)
    while True:
        block = np.fromiter(islice(flat, 2 * chunk), dtype=np.int64)
        if len(block) == 0:
            break
        block = block.reshape(-1, 2)
        compared += len(block)
        ia = np.searchsorted(ids, block[:, 0])
        ib = np.searchsorted(ids, block[:, 1])
        kept.extend(columnar.score_at_least(columns, ia, ib, min_weight, min_probability))
    return kept, compared
