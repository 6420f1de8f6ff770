"""Blocking keys of stored records, kept in the indexed `MatchKey` table.

Written with the records themselves (same transaction), so a record is findable by
its keys from the moment it exists. A new or changed record is also queued for
matching (`PendingMatch`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from django.db import connection
from django.db.models import Count

from rcu.db import chunks, is_postgresql
from rcu.engine.blocking import blocking_keys, key_bucket
from rcu.engine.types import MatchRecord
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


_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")


def _copy_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _copy_text(rows: list[tuple[int, str, int]]) -> bytes:
    """The rows in COPY's text format, built at once (the hundreds of thousands of keys
    of an import: a call per row cost more than the rest of writing them)."""
    return "".join(
        f"{bucket}\t{_copy_escape(key) if _COPY_SPECIAL.search(key) else key}\t{record_id}\n"
        for bucket, key, record_id in rows
    ).encode()


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
    previous = list(previous)
    match_keys_delete(records=previous)
    rows = _key_rows(records)
    if is_postgresql() and len(rows) >= COPY_MIN_ROWS:
        with connection.cursor() as wrapper, wrapper.cursor.copy(
            "COPY rcu_matchkey (bucket, key, record_id) FROM STDIN"
        ) as copy:
            copy.write(_copy_text(rows))
    else:
        MatchKey.objects.bulk_create(
            [MatchKey(bucket=b, key=k, record_id=r) for b, k, r in rows], batch_size=2000
        )
    if queue:
        pending_queue(ids)
    else:
        before = {record_id: set(keys) for record_id, keys in previous}
        blocks_resized_queue(
            joined={k for record_id, keys in records for k in keys if k not in before.get(record_id, ())},
            left={k for record_id, keys in before.items() for k in keys}
            - {k for _, keys in records for k in keys},
            exclude=ids,
        )
    return len(rows)


def blocks_resized_queue(
    *, joined: Iterable[str] = (), left: Iterable[str] = (), exclude: Iterable[int] = ()
) -> int:
    """Queue the records of blocks a write just made oversized (`joined`: keys records
    joined) or brought back to size (`left`: keys records left): their pairs depend on
    it. Batch runs find such blocks themselves; this serves the writes matched at once
    (real-time ingest, deletions at the source). Returns how many were queued."""
    from rcu.services.matching.context import match_context
    from rcu.services.matching.pairs import block_limit

    context = match_context()
    wanted = {key: 1 for key in joined} | {key: 0 for key in left}
    wanted = {k: v for k, v in wanted.items() if k not in context.skip_keys and len(k) <= 200}
    if not wanted:
        return 0
    counts: dict[str, int] = {}
    for chunk in chunks(sorted(wanted), 1000):
        rows = MatchKey.objects.filter(bucket__in={key_bucket(k) for k in chunk}, key__in=chunk)
        for key, count in rows.values("key").annotate(n=Count("record_id")).values_list("key", "n"):
            counts[key] = count
    # A block crossed its limit when a record joining made it one over, or one leaving
    # brought it back to the limit exactly.
    crossed = [
        key for key, grew in wanted.items()
        if counts.get(key, 0) == block_limit(key, context.max_block_size) + grew
    ]
    if not crossed:
        return 0
    members = set(
        MatchKey.objects.filter(bucket__in={key_bucket(k) for k in crossed}, key__in=crossed)
        .values_list("record_id", flat=True)
    ) - set(exclude)
    if members:
        pending_queue(sorted(members))
    return len(members)


def pending_queue(record_ids: Iterable[int]) -> None:
    """Queue these records for matching. One a batch run has claimed is queued again
    (claim cleared): the run saw it before this change."""
    ids = list(record_ids)
    if is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO rcu_pendingmatch (record_id) SELECT unnest(%s::bigint[]) "
                "ON CONFLICT (record_id) DO UPDATE SET claimed_by = NULL",
                [ids],
            )
        return
    PendingMatch.objects.bulk_create(
        [PendingMatch(record_id=i) for i in ids], batch_size=2000,
        update_conflicts=True, unique_fields=["record"], update_fields=["claimed_by"],
    )


def match_keys_delete(*, records: Iterable[tuple[int, Iterable[str]]]) -> int:
    """Drop these (record id, blocking keys) rows, found by primary key; how many went."""
    rows = _key_rows(records)
    deleted = 0
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 1000):
            chunk = rows[start : start + 1000]
            cursor.execute(
                "DELETE FROM rcu_matchkey WHERE "
                + " OR ".join(["(bucket = %s AND key = %s AND record_id = %s)"] * len(chunk)),
                [value for row in chunk for value in row],
            )
            deleted += max(cursor.rowcount, 0)
    return deleted
