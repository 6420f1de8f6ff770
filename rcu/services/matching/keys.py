"""Blocking keys of stored records, kept in the indexed `MatchKey` table.

Written with the records themselves (same transaction), so a record is findable by
its keys from the moment it exists. A new or changed record is also queued for
matching (`PendingMatch`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.db import connection

from rcu.matching.keys import blocking_keys, key_bucket
from rcu.matching.types import MatchRecord
from rcu.models import MatchKey, PendingMatch

COPY_MIN_ROWS = 200


def blocking_keys_of(keys: Mapping[str, str]) -> list[str]:
    """The blocking keys of a record's comparison keys, sorted."""
    return sorted(blocking_keys(MatchRecord(0, "", {}, keys)))


def _key_rows(records: Iterable[tuple[int, Iterable[str]]]) -> list[tuple[int, str, int]]:
    return [
        (key_bucket(key), key, record_id)
        for record_id, keys in records
        for key in keys
        if len(key) <= 200
    ]


def match_keys_write(
    *, records: Iterable[tuple[int, Iterable[str]]],
    previous: Iterable[tuple[int, Iterable[str]]] = (),
    queue: bool = True,
) -> int:
    """Store the blocking keys of these (record id, blocking keys) and queue the records
    for matching. `previous` are the keys changed records had: dropped first, through
    the primary key (the table has no index by record, which would slow every import).
    Without `queue`, the caller matches the records in this same transaction."""
    records = list(records)
    if not records:
        return 0
    ids = [record_id for record_id, _ in records]
    match_keys_delete(records=previous)
    rows = _key_rows(records)
    if connection.vendor == "postgresql" and len(rows) >= COPY_MIN_ROWS:
        with connection.cursor() as wrapper:
            with wrapper.cursor.copy(
                "COPY rcu_matchkey (bucket, key, record_id) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(row)
            if queue:
                wrapper.execute(
                    "INSERT INTO rcu_pendingmatch (record_id) SELECT unnest(%s::bigint[]) "
                    "ON CONFLICT DO NOTHING",
                    [ids],
                )
    else:
        MatchKey.objects.bulk_create(
            [MatchKey(bucket=b, key=k, record_id=r) for b, k, r in rows], batch_size=2000
        )
        if queue:
            PendingMatch.objects.bulk_create(
                [PendingMatch(record_id=i) for i in ids], batch_size=2000, ignore_conflicts=True
            )
    return len(rows)


def _chunks(ids: list[int], size: int = 5000):
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def match_keys_delete(*, records: Iterable[tuple[int, Iterable[str]]]) -> None:
    """Drop these (record id, blocking keys) rows, found by primary key."""
    rows = _key_rows(records)
    if not rows:
        return
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 1000):
            chunk = rows[start : start + 1000]
            cursor.execute(
                "DELETE FROM rcu_matchkey WHERE "
                + " OR ".join(["(bucket = %s AND key = %s AND record_id = %s)"] * len(chunk)),
                [value for row in chunk for value in row],
            )
