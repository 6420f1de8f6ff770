"""Blocking keys: short strings two records must share to be compared at all.

Each record gets several keys of different kinds, so a duplicate missed by one (an
e-mail typo) is still caught by another (same phonetic surname and birth year). Every
key starts with its kind (`KeyKind`) and a colon; kinds never collide:

- ``em:<email>``: the normalised address.
- ``ph:<e164>``: every phone number, landline or mobile column alike, since sources
  disagree about which column a number belongs in.
- ``nb:<phonetic last name>:<birth year>``.
- ``np:<phonetic last name>:<postcode>``.
- ``nt:<phonetic name>:<phonetic name>``: the phonetic codes of first and last name in
  sorted order, so swapped first and last names meet.
- ``bd:<birth date>:<initial>``: one for the initial of the first name, one for the
  initial of the last name, so that swapped names, a missing first name or a surname
  with a typo still meet on the birth date; also emitted for the date with day and month
  swapped when that is another valid date, so a day/month inversion meets the truth.
- ``id:<code>:<value>``: every extra identifier (loyalty card, customer number…), and
  every custom attribute of type identifier (``id:custom_id:<name>:<value>``); other
  custom attributes ("custom:<name>" keys, rcu.engine.custom) are compared, not blocked.
- ``lc:<phonetic last name>:<city>`` and ``fc:<phonetic first name>:<city>``, and
  ``fp:<phonetic first name>:<postcode>``: a typo in one name, or a record that knows
  its town but not its postcode, still meets its duplicates.
- ``el:<e-mail local part>``: the mailbox name without dots, dashes, underscores and
  digits, when at least six letters long: a person changing providers keeps it.
"""

from __future__ import annotations

import re
import zlib
from datetime import date
from enum import StrEnum
from functools import lru_cache

import numpy as np

from rcu.engine.phonetic import phonetic_key
from rcu.engine.types import MatchRecord

_PHONE_ATTRIBUTES = ("phone", "mobile")
# Keys of custom attributes compared but not blocked on (rcu.engine.custom.CUSTOM_PREFIX).
CUSTOM_KEY_PREFIX = "custom:"
_LOCAL_PART_NOISE = re.compile(r"[0-9._\-]")
# Comparison keys that are not identifiers: every other key of `MatchRecord.keys` is an
# extra identifier declared by an administrator (loyalty card, customer number…).
# "postal" is the address in La Poste's postal form (rcu.normalisation.record): stored
# for people and mailings, never blocked or compared on.
NOT_IDENTIFIERS = frozenset(
    {"civility", "first_name", "last_name", "birth_date", "email", "phone", "mobile",
     "address", "postcode", "city", "country", "postal"}
)


class KeyKind(StrEnum):
    """What a blocking key is made of; its value is the key's prefix (stored in
    `MatchKey.key`, so the values never change)."""

    EMAIL = "em"
    PHONE = "ph"
    LAST_NAME_BIRTH_YEAR = "nb"
    LAST_NAME_POSTCODE = "np"
    NAMES = "nt"
    BIRTH_DATE_INITIAL = "bd"
    IDENTIFIER = "id"
    LAST_NAME_CITY = "lc"
    FIRST_NAME_CITY = "fc"
    FIRST_NAME_POSTCODE = "fp"
    MAILBOX_NAME = "el"

    @property
    def prefix(self) -> str:
        """The start of every key of this kind ("em:")."""
        return f"{self.value}:"


def key_kind(key: str) -> str:
    """The kind of a blocking key, as stored: a `KeyKind` value ("em", "ph"…)."""
    return key.partition(":")[0]


@lru_cache(maxsize=65_536)
def swapped_day_month(iso_date: str) -> str | None:
    """The date with day and month swapped ("1980-04-03" → "1980-03-04"); None when
    that is the same date or no date at all. Cached: a century holds 36,500 dates, and
    batch runs rebuild the keys of every record several times."""
    year, month, day = iso_date[:4], iso_date[5:7], iso_date[8:10]
    if month == day or len(iso_date) != 10:
        return None
    try:
        return date(int(year), int(day), int(month)).isoformat()
    except ValueError:
        return None


def mailbox_name(email: str) -> str:
    """The e-mail's local part without its "+tag", digits, dots, dashes and underscores:
    "jean.martin+promo59@x.fr" → "jeanmartin"."""
    return _LOCAL_PART_NOISE.sub("", email.partition("@")[0].partition("+")[0])


def blocking_keys(record: MatchRecord) -> set[str]:
    """Every blocking key of one record; a key whose parts are missing is skipped."""
    keys = record.keys
    blocking: set[str] = set()

    email = keys.get("email")
    if email:
        blocking.add(f"{KeyKind.EMAIL}:{email}")
    for attribute in _PHONE_ATTRIBUTES:
        number = keys.get(attribute)
        if number:
            blocking.add(f"{KeyKind.PHONE}:{number}")

    first = phonetic_key(keys.get("first_name", ""))
    last = phonetic_key(keys.get("last_name", ""))
    birth_date = keys.get("birth_date", "")
    if last:
        if birth_date:
            blocking.add(f"{KeyKind.LAST_NAME_BIRTH_YEAR}:{last}:{birth_date[:4]}")
        postcode = keys.get("postcode")
        if postcode:
            blocking.add(f"{KeyKind.LAST_NAME_POSTCODE}:{last}:{postcode}")
        if first:
            low, high = sorted((first, last))
            blocking.add(f"{KeyKind.NAMES}:{low}:{high}")

    initials = {name[0] for name in (keys.get("first_name"), keys.get("last_name")) if name}
    if birth_date and initials:
        swapped = swapped_day_month(birth_date)
        for initial in initials:
            blocking.add(f"{KeyKind.BIRTH_DATE_INITIAL}:{birth_date}:{initial}")
            if swapped:
                blocking.add(f"{KeyKind.BIRTH_DATE_INITIAL}:{swapped}:{initial}")
    city = keys.get("city")
    if city:
        if last:
            blocking.add(f"{KeyKind.LAST_NAME_CITY}:{last}:{city}")
        if first:
            blocking.add(f"{KeyKind.FIRST_NAME_CITY}:{first}:{city}")
    postcode = keys.get("postcode")
    if postcode and first:
        blocking.add(f"{KeyKind.FIRST_NAME_POSTCODE}:{first}:{postcode}")
    if email:
        local = mailbox_name(email)
        if len(local) >= 6:
            blocking.add(f"{KeyKind.MAILBOX_NAME}:{local}")
    for name, value in keys.items():
        if name not in NOT_IDENTIFIERS and value and not name.startswith(CUSTOM_KEY_PREFIX):
            blocking.add(f"{KeyKind.IDENTIFIER}:{name}:{value}")
    return blocking


BUCKETS = 4096
_BUCKET_BITS = 12  # BUCKETS is 2 ** 12


def key_bucket(key: str) -> int:
    """A stable hash of a blocking key in [0, BUCKETS): batch runs split the keys into
    partitions of buckets, and one key's records always fall in the same one."""
    return zlib.crc32(key.encode()) % BUCKETS


def pairs_of_blocks(
    blocks: np.ndarray, buckets: np.ndarray, records: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of records sharing a block, once, for a full run: from the rows
    (block, bucket, record) of the stored keys, as arrays, without a record's keys.

    `blocks` names each row's key by an integer (a 64-bit hash of it: two keys that
    collide only make one block of two, which adds pairs to compare, never loses one).
    Returns the pairs, an (n, 2) array of record ids (a < b, sorted), and for each the
    bucket of the block it is scored in (`pairs_split`): of the blocks a pair shares,
    one chosen by the pair itself, so that partitions of buckets stay even."""
    order = np.argsort(blocks)
    blocks, buckets, records = blocks[order], buckets[order], records[order]
    del order
    count = len(blocks)
    starts = np.flatnonzero(np.r_[True, blocks[1:] != blocks[:-1]]) if count else np.zeros(0, int)
    sizes = np.diff(np.r_[starts, count])
    # Row positions as 32-bit integers: the rows of eight million keys and the tens of
    # millions of pairs they make take half the memory.
    index = np.int32 if count < 2**31 else np.int64
    ends = np.repeat(starts + sizes, sizes).astype(index)
    # Records by position in id order: a pair of positions fits in one int64.
    ids, positions = np.unique(records, return_inverse=True)
    del records
    firsts: list[np.ndarray] = [np.zeros(0, dtype=index)]
    seconds: list[np.ndarray] = [np.zeros(0, dtype=index)]
    rows = np.flatnonzero(np.repeat(sizes > 1, sizes)).astype(index)
    del starts, sizes
    step = 1
    while len(rows):  # each row with the row `step` places further in its block
        rows = rows[rows + step < ends[rows]]
        others = rows + step
        distinct = positions[rows] != positions[others]  # one record under colliding keys
        firsts.append(rows[distinct])
        seconds.append(others[distinct])
        step += 1
    del ends
    first, second = np.concatenate(firsts), np.concatenate(seconds)
    del firsts, seconds
    low = np.minimum(positions[first], positions[second]).astype(np.int64)
    pair = np.maximum(positions[first], positions[second]).astype(np.int64)
    pair |= low << 32
    del low, second, positions
    # The block a pair is scored in: of the blocks it shares, the one whose hash mixed
    # with the pair's is the smallest (a draw of the pair's own, the same whoever
    # computes it); that hash's high bits with the block's bucket below them, so that
    # the smallest of a pair's values names the bucket.
    drawn = pair.view(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    drawn ^= blocks[first].view(np.uint64)
    drawn >>= np.uint64(_BUCKET_BITS)
    drawn <<= np.uint64(_BUCKET_BITS)
    drawn |= buckets[first].astype(np.uint64)
    del first
    order = np.argsort(pair)
    pair, drawn = pair[order], drawn[order]
    del order
    starts = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]]) if len(pair) else np.zeros(0, int)
    chosen = np.minimum.reduceat(drawn, starts) if len(pair) else drawn
    pair = pair[starts]
    listed = np.empty((len(pair), 2), dtype=np.int64)
    listed[:, 0] = ids[pair >> 32]
    listed[:, 1] = ids[pair & 0xFFFFFFFF]
    return listed, (chosen & np.uint64(BUCKETS - 1)).astype(np.int64)


def pairs_split(pairs: np.ndarray, buckets: np.ndarray, partitions: int) -> list[np.ndarray]:
    """The pairs of each of `partitions` even ranges of buckets."""
    partition = (buckets * partitions) // BUCKETS
    return [pairs[partition == p] for p in range(partitions)]
