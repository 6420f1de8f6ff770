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

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import chain, islice
from typing import Any

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler, Levenshtein
from rapidfuzz.fuzz import token_set_ratio

from rcu.engine import comparators as c
from rcu.engine.blocking import swapped_day_month
from rcu.engine.fellegi_sunter import probability_from_weight
from rcu.engine.nicknames import known_short_form
from rcu.engine.scoring import PRUNE_TOLERANCE, PairScore, Scorer
from rcu.engine.types import Level, MatchRecord

# The level of a missing value in a level array (None in a comparison vector).
MISSING = -1
# Pairs compared together: large enough for the arrays to pay, small enough for
# memory (a dozen arrays of this length).
CHUNK_PAIRS = 200_000

IntArray = np.ndarray
Compare = Callable[["Columns", IntArray, IntArray], IntArray]


class Lazy:
    """One value (or one row of `width` values) per record, computed the first time a
    pair asks for it: a record whose pairs are all dropped before a comparison never
    has that comparison's forms made (as `Scorer.score_at_least` never compares what it
    gave up). `many` computes the values of a list of records at once."""

    def __init__(self, records: Sequence[MatchRecord], many: Callable[[list], list],
                 dtype: Any, width: int = 0) -> None:
        self._records = records
        self._many = many
        self._values = np.zeros((len(records), width) if width else len(records), dtype=dtype)
        self._done = np.zeros(len(records), dtype=bool)

    def __getitem__(self, positions: IntArray) -> np.ndarray:
        missing = positions[~self._done[positions]]
        if len(missing):
            todo = _distinct(missing, len(self._done))
            records = self._records
            found = self._many([records[i] for i in todo.tolist()])
            self._values[todo] = _objects(found) if self._values.dtype == object else found
            self._done[todo] = True
        return self._values[positions]


class Columns:
    """The partition's records by position, and the per-record columns derived from
    them (`Lazy`): a record is in many pairs, each form is made once.

    Strings get integer codes from one table shared by every column (0: missing), so
    values of two columns compare too (a first name against a surname), and `text`
    turns codes back into strings for rapidfuzz."""

    def __init__(self, records: Sequence[MatchRecord]) -> None:
        self.records = records
        self._codes: dict[str, int] = {}
        self.values: list[str] = [""]  # code → string
        self._texts = _objects([""])  # the same, as an object array (see `text`)
        self._texts_filled = 1
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

    def text(self, codes: IntArray) -> np.ndarray:
        """The strings of these codes ("" for 0), as an object array."""
        filled, count = self._texts_filled, len(self.values)
        if filled < count:
            if len(self._texts) < count:
                grown = np.empty(max(count, 2 * len(self._texts)), dtype=object)
                grown[:filled] = self._texts[:filled]
                self._texts = grown
            self._texts[filled:count] = self.values[filled:count]
            self._texts_filled = count
        return self._texts[codes]

    def _kept(self, name: str, compute: Callable[[], Any]) -> Any:
        found = self._cache.get(name)
        if found is None:
            found = self._cache[name] = compute()
        return found

    def lazy(self, name: str, compute: Callable[[MatchRecord], Any], dtype: Any = object) -> Lazy:
        """compute(record) by position, made on first use."""
        return self._kept("lazy:" + name, lambda: Lazy(
            self.records, lambda records: [compute(r) for r in records], dtype
        ))

    def codes(self, attribute: str) -> Lazy:
        """The code of the key `attribute` of each record; 0 when missing or empty."""
        codes, values = self._codes, self.values

        def many(records: list[MatchRecord]) -> list[int]:
            found = []
            for record in records:
                value = record.keys.get(attribute)
                if not value:
                    found.append(0)
                    continue
                code = codes.get(value)
                if code is None:
                    code = codes[value] = len(values)
                    values.append(value)
                found.append(code)
            return found

        return self._kept("key:" + attribute, lambda: Lazy(self.records, many, np.int64))

    def coded(self, name: str, compute: Callable[[MatchRecord], str | None]) -> Lazy:
        """The code of compute(record) for each record (None: 0; "" has a code)."""
        code = self.code
        return self.lazy("coded:" + name, lambda r: code(compute(r)), np.int64)

    def value_table(self, name: str, codes: IntArray, compute: Callable[[str | None], float]) -> np.ndarray:
        """compute(value) for the value of each code (None for 0), as floats, asked once
        per distinct value."""
        table = self._cache.get("floats:" + name)
        if table is None or len(table) < len(self.values):
            grown = np.full(max(len(self.values), 2 * (0 if table is None else len(table))), np.nan)
            if table is not None:
                grown[: len(table)] = table
            table = self._cache["floats:" + name] = grown
        distinct = _distinct(codes, len(table))
        for value_code in distinct[np.isnan(table[distinct])].tolist():
            table[value_code] = compute(self.values[value_code] if value_code else None)
        return table[codes]

    def recode(self, name: str, codes: IntArray, transform: Callable[[str], str | None]) -> IntArray:
        """The code of transform(value) for the value of each code (0 stays 0), asked
        once per distinct value however many calls and pairs hold it."""
        table = self._cache.get("recode:" + name)
        if table is None or len(table) < len(self.values):
            grown = np.full(max(len(self.values), 2 * (0 if table is None else len(table))),
                            -1, dtype=np.int64)
            grown[0] = 0
            if table is not None:
                grown[: len(table)] = table
            table = self._cache["recode:" + name] = grown
        distinct = _distinct(codes, len(table))
        for value_code in distinct[table[distinct] < 0].tolist():
            table[value_code] = self.code(transform(self.values[value_code]))
        return table[codes]


def _level_array(table: Mapping[Level, float]) -> np.ndarray:
    return np.array(
        [table[level] for level in range(len(table) - 1)] + [table[None]], dtype=np.float64
    )


def _distinct(values: IntArray, bound: int) -> IntArray:
    """The distinct values (all in [0, bound)), in order: by marking them in an array
    of `bound` flags, several times faster than sorting a chunk's positions or codes,
    unless they are few against the bound."""
    if len(values) * 16 < bound:
        return np.unique(values)
    seen = np.zeros(bound, dtype=bool)
    seen[values] = True
    return np.flatnonzero(seen)


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
    columns: Columns, x: IntArray, y: IntArray, rule: Callable[[str, str], bool], name: str
) -> np.ndarray:
    """rule(x value, y value) for each pair of codes, asked once per distinct pair for
    all the chunks of the partition (the answers are kept with the columns, under the
    rule's `name`)."""
    if len(x) == 0:
        return np.zeros(0, dtype=bool)
    combined = (x.astype(np.int64) << 32) | y.astype(np.int64)
    distinct, inverse = np.unique(combined, return_inverse=True)
    known: dict[int, bool] = columns._kept(f"value_pairs:{name}", dict)
    values = columns.values
    mask = (1 << 32) - 1

    def answer(k: int) -> bool:
        found = known.get(k)
        if found is None:
            found = known[k] = bool(rule(values[k >> 32], values[k & mask]))
        return found

    answers = np.fromiter(map(answer, distinct.tolist()), dtype=bool, count=len(distinct))
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
            text = columns.text
            af, al, bf, bl = text(a_first[at]), text(a_last[at]), text(b_first[at]), text(b_last[at])
            straight_first = _similarity(JaroWinkler.similarity, af, bf)
            straight_last = _similarity(JaroWinkler.similarity, al, bl)
            crossed_first = _similarity(JaroWinkler.similarity, af, bl)
            crossed_last = _similarity(JaroWinkler.similarity, al, bf)
            cross = crossed_first + crossed_last > straight_first + straight_last
            swapped[at] = cross
            self.first_similarity[at] = np.where(cross, crossed_first, straight_first)
            self.last_similarity[at] = np.where(cross, crossed_last, straight_last)
        self.swapped = swapped
        self.x_first, self.x_last = a_first, a_last
        self.y_first = np.where(swapped, b_last, b_first)
        self.y_last = np.where(swapped, b_first, b_last)


def _similarities(
    columns: Columns, known: np.ndarray, x: IntArray, y: IntArray, at: IntArray
) -> np.ndarray:
    """The similarity of the pairs `at`: the one the orientation computed, else
    Jaro-Winkler computed now (as the comparator does)."""
    found = known[at]
    missing = np.isnan(found)
    if missing.any():
        where = at[missing]
        found[missing] = _similarity(
            JaroWinkler.similarity, columns.text(x[where]), columns.text(y[where])
        )
    return found


def _surnames_share_a_word(columns: Columns, x: IntArray, y: IntArray) -> np.ndarray:
    """Whether `_surname_tokens` of the two names meet. A name whose words come down to
    one is coded by that word, so most pairs compare codes; the others ask Python."""
    def one_word(name: str) -> str | None:
        words = c._surname_tokens(name)
        if not words:
            return NO_WORD
        return next(iter(words)) if len(words) == 1 else MANY_WORDS

    tx = columns.recode("surname_word", x, one_word)
    ty = columns.recode("surname_word", y, one_word)
    none, many = columns.code(NO_WORD), columns.code(MANY_WORDS)
    answer = (tx == ty) & (tx != none) & (tx != many)
    ask = ((tx == many) & (ty != none)) | ((ty == many) & (tx != none))
    at = np.flatnonzero(ask)
    if len(at):
        answer[at] = _value_pairs(
            columns, x[at], y[at],
            lambda p, q: bool(c._surname_tokens(p) & c._surname_tokens(q)), "surname_words_meet",
        )
    return answer


def _names_in_mailboxes(columns: Columns, names: IntArray, mailboxes: IntArray) -> np.ndarray:
    """`comparators._name_in_mailbox` for each pair of codes (mailbox 0: none, False).
    A name with one word long enough to count is looked for as a substring, in one
    comprehension; a name with several asks the comparator's own function."""
    def mailbox_word(name: str) -> str:
        words = [w for w in c._surname_tokens(name) if len(w) >= c.MAILBOX_NAME_MIN]
        if not words:
            return NO_WORD
        return words[0] if len(words) == 1 else MANY_WORDS

    found = np.zeros(len(names), dtype=bool)
    words = columns.recode("mailbox_word", names, mailbox_word)
    held = (mailboxes > 0) & (words > 0) & (words != columns.code(NO_WORD))
    several = held & (words == columns.code(MANY_WORDS))
    values = columns.values
    at = np.flatnonzero(held & ~several)
    if len(at):
        found[at] = np.fromiter(
            (values[w] in values[m] for w, m in zip(words[at].tolist(), mailboxes[at].tolist(), strict=True)),
            dtype=bool, count=len(at),
        )
    at = np.flatnonzero(several)
    if len(at):
        found[at] = np.fromiter(
            (c._name_in_mailbox(values[n], values[m])
             for n, m in zip(names[at].tolist(), mailboxes[at].tolist(), strict=True)),
            dtype=bool, count=len(at),
        )
    return found


# Stand-ins no name is written as (a control character leads them).
NO_WORD = "\x00no word"
MANY_WORDS = "\x00many words"


def columnar_last_name(columns: Columns, ia: IntArray, ib: IntArray) -> IntArray:
    names = _Names(columns, ia, ib)
    x, y = names.x_last, names.y_last
    levels = np.full(len(ia), MISSING, dtype=np.int8)
    undecided = (x > 0) & (y > 0)
    L = c.LastNameLevel

    def glued(name: str) -> str:
        return name.replace(" ", "")

    same_glued = columns.recode("glued", x, glued) == columns.recode("glued", y, glued)
    _select(levels, undecided, (x == y) | same_glued, L.EXACT)
    at = np.flatnonzero(undecided)
    similarity = _similarities(columns, names.last_similarity, x, y, at)
    sub = np.full(len(at), L.DIFFERENT, dtype=np.int8)
    open_ = np.ones(len(at), dtype=bool)
    _select(sub, open_, similarity >= c.JARO_WINKLER_HIGH, L.JARO_WINKLER_HIGH)
    rest = np.flatnonzero(open_)
    shared = np.zeros(len(at), dtype=bool)
    shared[rest] = _surnames_share_a_word(columns, x[at[rest]], y[at[rest]])
    _select(sub, open_, shared, L.TOKEN_MATCH)
    _select(sub, open_, similarity >= c.JARO_WINKLER_LOW, L.JARO_WINKLER_LOW)
    # A surname in the other record's e-mail (`comparators._other_name_in_email`): x in
    # b's mailbox name and y not, or y in a's and x not.
    rest = np.flatnonzero(open_)
    if len(rest):
        mailbox_a, mailbox_b = _mailboxes(columns, ia[at[rest]]), _mailboxes(columns, ib[at[rest]])
        ask = np.flatnonzero((mailbox_a > 0) | (mailbox_b > 0))
        if len(ask):
            xs, ys = x[at[rest[ask]]], y[at[rest[ask]]]
            ma, mb = mailbox_a[ask], mailbox_b[ask]
            in_email = (
                _names_in_mailboxes(columns, xs, mb) & ~_names_in_mailboxes(columns, ys, mb)
            ) | (_names_in_mailboxes(columns, ys, ma) & ~_names_in_mailboxes(columns, xs, ma))
            mask = np.zeros(len(at), dtype=bool)
            mask[rest[ask]] = in_email
            _select(sub, open_, mask, L.IN_OTHER_EMAIL)
    levels[at] = sub
    return levels


def columnar_first_name(columns: Columns, ia: IntArray, ib: IntArray) -> IntArray:
    names = _Names(columns, ia, ib)
    x, y = names.x_first, names.y_first
    levels = np.full(len(ia), MISSING, dtype=np.int8)
    undecided = (x > 0) & (y > 0)
    L = c.FirstNameLevel
    _select(levels, undecided, x == y, L.EXACT)
    at = np.flatnonzero(undecided)
    if len(at) == 0:
        return levels
    similarity = _similarities(columns, names.first_similarity, x, y, at)
    sub = np.full(len(at), L.DIFFERENT, dtype=np.int8)
    open_ = np.ones(len(at), dtype=bool)
    _select(sub, open_, similarity >= c.JARO_WINKLER_HIGH, L.JARO_WINKLER_HIGH)
    # Two rules of two names only: asked once per distinct pair of names.
    for rule, level in ((c._first_names_compatible, L.COMPATIBLE), (known_short_form, L.SHORT_FORM)):
        rest = np.flatnonzero(open_)
        mask = np.zeros(len(at), dtype=bool)
        mask[rest] = _value_pairs(columns, x[at[rest]], y[at[rest]], rule, rule.__name__)
        _select(sub, open_, mask, level)
    rest = np.flatnonzero(open_)
    if len(rest):
        low = similarity[rest] >= c.JARO_WINKLER_LOW
        typo = np.flatnonzero(~low)
        low[typo] = _distance(
            DamerauLevenshtein.distance, columns.text(x[at[rest[typo]]]),
            columns.text(y[at[rest[typo]]]), 1,
        ) <= 1
        mask = np.zeros(len(at), dtype=bool)
        mask[rest] = low
        _select(sub, open_, mask, L.JARO_WINKLER_LOW)
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

    def year(d: str) -> str:
        return d[:4]

    same_year = columns.recode("birth_year", x, year) == columns.recode("birth_year", y, year)
    swapped = columns.recode("birth_date_swapped", x, swapped_day_month)
    _select(levels, undecided, same_year & (swapped == y), L.DAY_MONTH_SWAPPED)
    at = np.flatnonzero(undecided)
    if len(at):
        def digits(d: str) -> str:
            return d.replace("-", "")

        one_typo = np.zeros(len(ia), dtype=bool)
        one_typo[at] = _distance(
            DamerauLevenshtein.distance,
            columns.text(columns.recode("birth_date_digits", x[at], digits)),
            columns.text(columns.recode("birth_date_digits", y[at], digits)), 2,
        ) == 1
        _select(levels, undecided, one_typo, L.ONE_TYPO)
    _select(levels, undecided, same_year, L.SAME_YEAR)
    levels[undecided] = L.DIFFERENT
    return levels


def _mailboxes(columns: Columns, positions: IntArray) -> IntArray:
    """The code of each record's mailbox name (`comparators._mailbox`; 0: none), made
    once per distinct address."""
    return columns.recode(
        "mailbox", columns.codes("email")[positions], lambda email: c.mailbox_name(email) or None
    )


def columnar_email(columns: Columns, ia: IntArray, ib: IntArray) -> IntArray:
    emails = columns.codes("email")
    x, y = emails[ia], emails[ib]
    levels = np.full(len(ia), MISSING, dtype=np.int8)
    undecided = (x > 0) & (y > 0)
    L = c.EmailLevel
    _select(levels, undecided, x == y, L.EXACT)
    # Addresses spelling the same names: few pairs, made by the comparator itself.
    spelt = columns.lazy(
        "mailbox_of_names", lambda r: c._derived(r, "mailbox_of_names", c._spelt_from_names), bool
    )
    at = np.flatnonzero(undecided)
    # Only the records of pairs with one mailbox name get the (costlier) spelling test.
    at = at[_mailboxes(columns, ia[at]) == _mailboxes(columns, ib[at])]
    names_only = np.zeros(len(ia), dtype=bool)
    names_only[at] = spelt[ia[at]] & spelt[ib[at]]
    at = np.flatnonzero(names_only)
    levels[at] = _row_by_row(c.compare_email, columns, ia[at], ib[at])
    undecided &= ~names_only

    def local_part(email: str) -> str:
        return email.rpartition("@")[0]

    same_local = columns.recode("email_local", x, local_part) == columns.recode(
        "email_local", y, local_part
    )
    _select(levels, undecided, same_local, L.SAME_LOCAL_PART)
    at = np.flatnonzero(undecided)
    close = np.zeros(len(ia), dtype=bool)
    close[at] = _similarity(
        JaroWinkler.similarity, columns.text(x[at]), columns.text(y[at])
    ) >= c.EMAIL_CLOSE
    _select(levels, undecided, close, L.CLOSE)
    levels[undecided] = L.DIFFERENT
    return levels


# Numbers per record compared as arrays; a pair with a record holding more is compared
# by `compare_phone` itself.
PHONE_SLOTS = 4


def _phone_rows(columns: Columns) -> Callable[[list], list]:
    """Each record's number count, then the codes of its first `PHONE_SLOTS` numbers."""
    code = columns.code

    def many(records: list[MatchRecord]) -> list[list[int]]:
        rows = []
        for record in records:
            numbers = c._phone_numbers(record)
            row = [len(numbers)] + [code(n) for n in numbers[:PHONE_SLOTS]]
            rows.append(row + [0] * (PHONE_SLOTS + 1 - len(row)))
        return rows
    return many


# A number's line kind as a bit (`comparators.phone_line_kind`); a kind it cannot tell.
LINE_KIND_BITS = {c.MOBILE: 1.0, c.LANDLINE: 2.0}
NO_LINE_KIND = -1.0


def _line_kinds(columns: Columns, slots: list[IntArray]) -> IntArray:
    """The line kinds of each record's numbers (`slots`: their codes, 0 for none) as
    bits; -1 when one of them has no kind (`comparators._line_kinds` holds None). Each
    distinct number is asked its kind once."""
    def bit(number: str | None) -> float:
        if not number:
            return 0.0
        kind = c.phone_line_kind(number)
        return NO_LINE_KIND if kind is None else LINE_KIND_BITS[kind]

    mask = np.zeros(len(slots[0]), dtype=np.int64)
    unknown = np.zeros(len(slots[0]), dtype=bool)
    for codes in slots:
        bits = columns.value_table("line_kind", codes, bit)
        unknown |= bits < 0
        mask |= np.where(bits > 0, bits, 0).astype(np.int64)
    return np.where(unknown, -1, mask)


def columnar_phone(columns: Columns, ia: IntArray, ib: IntArray) -> IntArray:
    table = columns._kept("phones", lambda: Lazy(
        columns.records, _phone_rows(columns), np.int64, PHONE_SLOTS + 1
    ))
    rows_a, rows_b = table[ia], table[ib]
    na, nb = rows_a[:, 0], rows_b[:, 0]
    levels = np.full(len(ia), MISSING, dtype=np.int8)
    many = np.flatnonzero((na > PHONE_SLOTS) | (nb > PHONE_SLOTS))
    if len(many):
        levels[many] = _row_by_row(c.compare_phone, columns, ia[many], ib[many])
    undecided = (na > 0) & (nb > 0) & (na <= PHONE_SLOTS) & (nb <= PHONE_SLOTS)
    at = np.flatnonzero(undecided)
    if len(at) == 0:
        return levels
    slots = int(max(na[at].max(), nb[at].max()))
    xs = [rows_a[at, 1 + k] for k in range(slots)]
    ys = [rows_b[at, 1 + k] for k in range(slots)]
    L = c.PhoneLevel
    sub = np.full(len(at), L.DIFFERENT, dtype=np.int8)
    open_ = np.ones(len(at), dtype=bool)
    equal = np.zeros(len(at), dtype=bool)
    for x in xs:
        for y in ys:
            equal |= (x == y) & (x > 0)
    _select(sub, open_, equal, L.EXACT)
    typo = np.zeros(len(at), dtype=bool)
    for x in xs:
        for y in ys:
            both = np.flatnonzero(open_ & (x > 0) & (y > 0))
            typo[both] |= _distance(
                Levenshtein.distance, columns.text(x[both]), columns.text(y[both]), 1
            ) <= 1
    _select(sub, open_, typo, L.ONE_TYPO)
    rest = np.flatnonzero(open_)
    if len(rest):
        ma = _line_kinds(columns, [x[rest] for x in xs])
        mb = _line_kinds(columns, [y[rest] for y in ys])
        other = np.zeros(len(at), dtype=bool)
        other[rest] = (ma >= 0) & (mb >= 0) & ((ma & mb) == 0)
        _select(sub, open_, other, L.OTHER_LINE_KIND)
    levels[at] = sub
    return levels


def columnar_address(columns: Columns, ia: IntArray, ib: IntArray) -> IntArray:
    addresses = columns.codes("address")
    x, y = addresses[ia], addresses[ib]
    levels = np.full(len(ia), MISSING, dtype=np.int8)
    undecided = (x > 0) & (y > 0)
    L = c.AddressLevel
    _select(levels, undecided, x == y, L.EXACT)
    at = np.flatnonzero(undecided)
    ratio = np.zeros(len(ia))
    ratio[at] = _similarity(
        token_set_ratio, columns.text(x[at]), columns.text(y[at]), score_cutoff=c.ADDRESS_MID
    )
    high = np.flatnonzero(undecided & (ratio >= c.ADDRESS_HIGH))
    if len(high):
        numbers = columns.lazy(
            "house_numbers", lambda r: c._house_numbers(r.keys.get("address") or "")
        )
        xn, yn = numbers[ia[high]], numbers[ib[high]]
        other_house = np.fromiter(
            (bool(p and q and p.isdisjoint(q)) for p, q in zip(xn, yn, strict=True)),
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
    both_postcodes = (xp > 0) & (yp > 0)
    same_postcode = both_postcodes & (xp == yp)
    same_city = (xc > 0) & (xc == yc)
    levels = np.full(len(ia), MISSING, dtype=np.int8)
    undecided = both_postcodes | ((xc > 0) & (yc > 0))
    L = c.PostcodeCityLevel
    _select(levels, undecided, same_postcode & same_city, L.SAME_POSTCODE_AND_CITY)
    _select(levels, undecided, same_postcode, L.SAME_POSTCODE)
    _select(levels, undecided, same_city, L.SAME_CITY)
    at = np.flatnonzero(undecided & both_postcodes)
    if len(at):
        xd = columns.recode("department", xp[at], c._department)
        yd = columns.recode("department", yp[at], c._department)
        mask = np.zeros(len(ia), dtype=bool)
        mask[at] = (xd > 0) & (xd == yd)
        _select(levels, undecided, mask, L.SAME_DEPARTMENT)
    levels[undecided] = L.DIFFERENT
    return levels


def _by_rule(
    compare: Callable[[MatchRecord, MatchRecord], Level], holds: Callable[[MatchRecord], bool]
) -> Compare:
    """A comparison made by its own `compare`, pair by pair, only for the pairs where
    both records hold something (`holds`): elsewhere the value is missing."""
    def columnar(columns: Columns, ia: IntArray, ib: IntArray) -> IntArray:
        held = columns.lazy("holds:" + compare.__name__, holds, bool)
        levels = np.full(len(ia), MISSING, dtype=np.int8)
        at = np.flatnonzero(held[ia] & held[ib])
        levels[at] = _row_by_row(compare, columns, ia[at], ib[at])
        return levels
    return columnar


def _holds_identifiers(record: MatchRecord) -> bool:
    """Whether `comparators.identifiers(record)` is not empty: a key outside the
    attributes that are not identifiers (a set operation, not the dict)."""
    return not record.keys.keys() <= c.NOT_IDENTIFIERS


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
    c.compare_postcode_city: columnar_postcode_city,
    c.compare_last_name: columnar_last_name,
    c.compare_birth_date: columnar_birth_date,
    c.compare_email: columnar_email,
    c.compare_phone: columnar_phone,
    c.compare_address: columnar_address,
    c.compare_identifiers: _by_rule(c.compare_identifiers, _holds_identifiers),
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
        # Each comparison's weight by level, the missing level (-1) last; and what the
        # early stop adds up (`Model.bound_tables`).
        model = scorer.model
        self._tables = tuple(_level_array(table) for table in model.tables)
        self._bound_tables = tuple(_level_array(table) for table in model.bound_tables)
        # The household comparisons whose disagreements may get weight back.
        self._shared = tuple(
            sorted(scorer._names.index(name) for name in model.household_disagreements)
        )

    def levels(
        self, columns: Columns, ia: IntArray, ib: IntArray, min_weight: float | None = None,
        *, adjust: bool = True,
    ) -> tuple[IntArray, np.ndarray, np.ndarray]:
        """The positions kept (into ia/ib), their levels (one row per pair, one column
        per comparison) and their term-frequency adjustments (same shape; zeros when
        not `adjust`).

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
            partial += self._bound_tables[index][found]
            rules = scorer._tf_rules.get(index) if adjust else None
            if rules:
                adjustment = np.zeros(len(kept))
                for level in rules:
                    agreeing = np.flatnonzero(found == level)
                    adjustment[agreeing] = self._adjustments(columns, index, level, ia[kept[agreeing]])
                adjustments[kept, index] = adjustment
                partial += adjustment
            if min_weight is not None:
                alive = partial + scorer._headroom[step] >= min_weight - PRUNE_TOLERANCE
                if not alive.all():
                    kept, partial = kept[alive], partial[alive]
        return kept, levels[kept], adjustments[kept]

    def _adjustments(self, columns: Columns, index: int, level: int, positions: IntArray) -> np.ndarray:
        """Comparison `index`'s term-frequency adjustment at `level` for the value of the
        records at `positions` (a pair's lower record: it holds the value both agree
        on), asked of `Scorer.adjustment` once per distinct value."""
        scorer = self.scorer
        attribute = scorer._tf_rules[index][level]

        def adjustment(value: str | None) -> float:
            holder = MatchRecord(0, "", {}, {attribute: value} if value else {})
            return scorer.adjustment(index, level, holder)

        codes = columns.codes(attribute)[positions]
        return columns.value_table(f"tf:{index}:{level}", codes, adjustment)

    def weights(self, levels: np.ndarray, adjustments: np.ndarray) -> np.ndarray:
        """`Scorer.total_weight` of each row: the level weights in the comparisons'
        order, then the adjustments, then the prior, the same sum in the same order
        (so the same float to the bit)."""
        total = np.zeros(len(levels))
        for index, table in enumerate(self._tables):
            total = total + table[levels[:, index]]
        for index in self.scorer._tf_rules:
            total = total + adjustments[:, index]
        for back in self._shared_differences(levels):
            total = total + back
        return self.scorer.model.prior_weight + total

    def _shared_differences(self, levels: np.ndarray) -> list[np.ndarray]:
        """`Model.shared_differences` of each row, one array per household comparison
        in index order (0 where nothing comes back), asked once per distinct
        combination of household levels."""
        if not self._shared or not len(levels):
            return []
        model = self.scorer.model
        shared = levels[:, self._shared]
        combos, inverse = np.unique(shared, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        width = len(self.scorer._names)
        backs = {i: np.zeros(len(combos)) for i in self._shared}
        any_back = False
        for row, combo in enumerate(combos.tolist()):
            vector: list[Level] = [None] * width
            for i, level in zip(self._shared, combo, strict=True):
                vector[i] = None if level < 0 else level
            for i, back in model.shared_differences(vector):
                backs[i][row] = back
                any_back = True
        if not any_back:
            return []
        return [backs[i][inverse] for i in self._shared]

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


def vector_counts(
    scorer: Scorer, records: Sequence[MatchRecord],
    position_pairs: Iterable[tuple[IntArray, IntArray]],
) -> Counter[tuple[Level, ...]]:
    """How many pairs have each comparison vector: `Scorer.vector` of every pair,
    counted, as model training wants it. `position_pairs`: chunks of pairs, each two
    arrays of positions into `records` (already `prepare`d)."""
    columns = Columns(records)
    columnar = ColumnarScorer(scorer)
    counts: Counter[tuple[Level, ...]] = Counter()
    for ia, ib in position_pairs:
        if not len(ia):
            continue
        _, levels, _ = columnar.levels(columns, ia, ib, adjust=False)
        rows, found = np.unique(levels, axis=0, return_counts=True)
        for row, count in zip(rows.tolist(), found.tolist(), strict=True):
            counts[tuple(None if level < 0 else level for level in row)] += count
    return counts


def _fallback(compare: Callable[[MatchRecord, MatchRecord], Level]) -> Compare:
    return lambda columns, ia, ib: _row_by_row(compare, columns, ia, ib)


def _positions(
    records: Sequence[MatchRecord], pairs: Iterable[tuple[int, int]] | np.ndarray, chunk: int
) -> tuple[list[MatchRecord], Iterator[tuple[IntArray, IntArray]]]:
    """The records in id order, and the pairs of record ids as chunks of two position
    arrays into them."""
    ordered = sorted(records, key=lambda r: r.id)
    ids = np.fromiter((r.id for r in ordered), dtype=np.int64, count=len(ordered))
    return ordered, (
        (np.searchsorted(ids, block[:, 0]), np.searchsorted(ids, block[:, 1]))
        for block in _chunks(pairs, chunk)
    )


def score_pairs(
    scorer: Scorer, records: Sequence[MatchRecord],
    pairs: Iterable[tuple[int, int]] | np.ndarray,
    *, min_weight: float, min_probability: float, chunk: int = CHUNK_PAIRS,
) -> tuple[list[PairScore], int]:
    """Score pairs of record ids (a < b) of `records` (already `prepare`d) in chunks;
    returns the pairs kept and how many were compared. `pairs`: tuples, or an (n, 2)
    array of ids."""
    ordered, positions = _positions(records, pairs, chunk)
    columns = Columns(ordered)
    columnar = ColumnarScorer(scorer)
    kept: list[PairScore] = []
    compared = 0
    for ia, ib in positions:
        compared += len(ia)
        kept.extend(columnar.score_at_least(columns, ia, ib, min_weight, min_probability))
    return kept, compared


def pair_vector_counts(
    scorer: Scorer, records: Sequence[MatchRecord],
    pairs: Iterable[tuple[int, int]] | np.ndarray, *, chunk: int = CHUNK_PAIRS,
) -> Counter[tuple[Level, ...]]:
    """`vector_counts` of pairs of record ids of `records` (already `prepare`d)."""
    ordered, positions = _positions(records, pairs, chunk)
    return vector_counts(scorer, ordered, positions)


def _chunks(pairs: Iterable[tuple[int, int]] | np.ndarray, size: int) -> Iterator[np.ndarray]:
    """The pairs as (n, 2) arrays of at most `size` rows."""
    if isinstance(pairs, np.ndarray):
        for start in range(0, len(pairs), size):
            yield pairs[start : start + size]
        return
    flat = chain.from_iterable(pairs)
    while len(block := np.fromiter(islice(flat, 2 * size), dtype=np.int64)):
        yield block.reshape(-1, 2)
