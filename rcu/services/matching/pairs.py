"""Finding and scoring the pairs of stored records worth comparing."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import orjson
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.db.models import Q

from rcu.db import chunks as chunked
from rcu.db import is_postgresql
from rcu.engine.blocking import KeyKind, key_bucket, key_kind, pairs_of_blocks
from rcu.engine.columnar import pair_vector_counts, score_pairs
from rcu.engine.fellegi_sunter import weight_from_probability
from rcu.engine.scoring import (
    PairScore,
    block_pairs,
    block_pairs_touching,
    levels_text,
    usable_keys,
)
from rcu.engine.types import Level, MatchRecord
from rcu.models import MatchKey, MatchPair
from rcu.normalisation.record import POSTAL_KEY
from rcu.services.matching.context import MatchContext

CHUNK = 5000


def match_records_load(ids: Iterable[int]) -> dict[int, MatchRecord]:
    """The records as the engine sees them: id, source and comparison keys.

    The keys are read as JSON text and decoded by orjson: several times faster than
    letting the driver build every dict.
    """
    records: dict[int, MatchRecord] = {}
    loads = orjson.loads
    postgresql = is_postgresql()
    # One string per source and one empty mapping for all: a batch partition holds half
    # a million records.
    source_names: dict[int, str] = {}
    no_attributes: Mapping[str, str] = MappingProxyType({})
    with connection.cursor() as cursor:
        for chunk in chunked(sorted(set(ids)), 20_000 if postgresql else CHUNK):
            if postgresql:
                cursor.execute(
                    "SELECT id, source_id, keys::text FROM rcu_sourcerecord WHERE id = ANY(%s)",
                    [chunk],
                )
            else:
                cursor.execute(
                    f"SELECT id, source_id, keys FROM rcu_sourcerecord "
                    f"WHERE id IN ({', '.join(['%s'] * len(chunk))})",
                    chunk,
                )
            for record_id, source_id, keys in cursor.fetchall():
                source = source_names.get(source_id)
                if source is None:
                    source = source_names[source_id] = str(source_id)
                keys = loads(keys)
                # The postal form is never compared: not kept in a partition's memory.
                keys.pop(POSTAL_KEY, None)
                records[record_id] = MatchRecord(record_id, source, no_attributes, keys)
    return records


@dataclass
class CandidateSearch:
    candidates: dict[int, set[int]] = field(default_factory=dict)  # record → candidates
    oversized_blocks: int = 0


def candidates_find(records: Sequence[MatchRecord], context: MatchContext) -> CandidateSearch:
    """For each record, the stored records sharing one of its usable blocking keys.

    Reads only the blocks of these records' keys, through the (bucket, key) index: the
    cost does not grow with the base. A block larger than `max_block_size` is skipped
    and counted.
    """
    search = CandidateSearch()
    keys_of = {record.id: usable_keys(record, context.skip_keys) for record in records}
    all_keys = sorted({key for keys in keys_of.values() for key in keys})
    members: dict[str, list[int]] = defaultdict(list)
    for chunk in chunked(all_keys, 2000):
        rows = MatchKey.objects.filter(
            bucket__in={key_bucket(key) for key in chunk}, key__in=chunk
        ).values_list("key", "record_id")
        for key, record_id in rows:
            members[key].append(record_id)
    oversized = {
        key for key, ids in members.items() if len(ids) > block_limit(key, context.max_block_size)
    }
    search.oversized_blocks = len(oversized)
    for record_id, keys in keys_of.items():
        found: set[int] = set()
        for key in keys - oversized:
            found.update(members.get(key, ()))
        found.discard(record_id)
        search.candidates[record_id] = found
    return search


def pairs_score(
    records: Sequence[MatchRecord], context: MatchContext,
    prepared_out: dict[int, MatchRecord] | None = None,
) -> tuple[list[PairScore], int, int]:
    """Score each record against its candidates. Returns the pairs at or above the review
    threshold (each once), how many pairs were compared, and oversized blocks skipped.
    `prepared_out` receives every record compared, `prepare`d (explanations reuse them)."""
    search = candidates_find(records, context)
    others = set().union(*search.candidates.values()) if search.candidates else set()
    loaded = match_records_load(others - {r.id for r in records})
    scorer = context.scorer
    prepared = {r.id: scorer.prepare(r) for r in records}
    prepared.update({i: scorer.prepare(r) for i, r in loaded.items()})
    if prepared_out is not None:
        prepared_out.update(prepared)
    seen: set[tuple[int, int]] = set()
    kept: list[PairScore] = []
    score_at_least = scorer.score_at_least
    min_weight = weight_from_probability(context.review)
    for record_id, candidates in search.candidates.items():
        for other in candidates:
            pair = (record_id, other) if record_id < other else (other, record_id)
            if pair in seen or other not in prepared:
                continue
            seen.add(pair)
            score = score_at_least(prepared[pair[0]], prepared[pair[1]], min_weight)
            if score is not None and score.probability >= context.review:
                kept.append(score)
    return kept, len(seen), search.oversized_blocks


def _partition_blocks(
    *, first_bucket: int, last_bucket: int, skip: frozenset[str], pending_run: int | None
) -> tuple[dict[str, list[int]], set[int] | None]:
    """The blocks (key → record ids) of a range of buckets that can yield pairs and,
    for a pending run, the records of those blocks it claimed."""
    blocks: dict[str, list[int]] = defaultdict(list)
    with connection.cursor() as cursor:
        if pending_run is not None:
            cursor.execute(
                "SELECT k.key, k.record_id, p.record_id IS NOT NULL FROM rcu_matchkey k "
                "LEFT JOIN rcu_pendingmatch p ON p.record_id = k.record_id AND p.claimed_by = %s "
                "WHERE k.bucket >= %s AND k.bucket <= %s",
                [pending_run, first_bucket, last_bucket],
            )
            pending_blocks: set[str] = set()
            pending_records: set[int] = set()
            for key, record_id, pending in cursor.fetchall():
                if key not in skip:
                    blocks[key].append(record_id)
                    if pending:
                        pending_blocks.add(key)
                        pending_records.add(record_id)
            return (
                {k: v for k, v in blocks.items() if k in pending_blocks and len(v) > 1},
                pending_records,
            )
        cursor.execute(
            "SELECT key, record_id FROM rcu_matchkey WHERE bucket >= %s AND bucket <= %s",
            [first_bucket, last_bucket],
        )
        for key, record_id in cursor.fetchall():
            if key not in skip:
                blocks[key].append(record_id)
    return {k: v for k, v in blocks.items() if len(v) > 1}, None


def _partition_records_and_pairs(
    *, first_bucket: int, last_bucket: int, context: MatchContext, oversized: frozenset[str],
    pending_run: int | None,
) -> tuple[dict[int, MatchRecord], Iterator[tuple[int, int]]]:
    """The records of one batch partition (a range of buckets), `prepare`d, and its
    pairs (a < b); each pair comes from the partition of the smallest key its records
    share. With `pending_run`, only the pairs holding a record that run claimed."""
    skip = context.skip_keys | oversized
    blocks, pending = _partition_blocks(
        first_bucket=first_bucket, last_bucket=last_bucket, skip=skip, pending_run=pending_run
    )
    ids = {record_id for members in blocks.values() for record_id in members}
    scorer = context.scorer
    records = {i: scorer.prepare(r) for i, r in match_records_load(ids).items()}
    # Tuples: a set of ten keys takes three times the memory, and a partition of a 1M
    # base holds half a million records.
    keys_of = {i: tuple(usable_keys(r, skip)) for i, r in records.items()}
    blocks = {k: [i for i in v if i in records] for k, v in blocks.items()}
    # A pending run: only pairs holding a waiting record; the others are stored.
    pairs = (
        block_pairs(blocks, keys_of) if pending is None
        else block_pairs_touching(blocks, keys_of, pending)
    )
    return records, pairs


def _stored_key_rows(skip: frozenset[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(block, bucket, record) of every stored blocking key not in `skip`, as arrays;
    a block is a 64-bit hash of its key (see `pairs_of_blocks`). On PostgreSQL the
    hashes are made by the server and the rows come by a binary COPY (a million records
    hold about eight million keys)."""
    if not is_postgresql():
        blocks, buckets, records = [], [], []
        with connection.cursor() as cursor:
            cursor.execute("SELECT key, bucket, record_id FROM rcu_matchkey")
            while rows := cursor.fetchmany(50_000):
                for key, bucket, record_id in rows:
                    if key not in skip:
                        blocks.append(hash(key))  # one process computes them all
                        buckets.append(bucket)
                        records.append(record_id)
        return (np.array(blocks, dtype=np.int64), np.array(buckets, dtype=np.int16),
                np.array(records, dtype=np.int64))
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    pending = bytearray()
    skipped_header = False
    with connection.cursor() as wrapper, wrapper.cursor.copy(
        "COPY (SELECT hashtextextended(key, 0), bucket::int4, record_id FROM rcu_matchkey "
        "WHERE NOT (key = ANY(%s))) TO STDOUT (FORMAT BINARY)", [sorted(skip)]
    ) as copy:
        for chunk in copy:
            pending += chunk
            if len(pending) >= _COPY_SLAB:
                if not skipped_header:
                    del pending[:_COPY_HEADER]
                    skipped_header = True
                whole = len(pending) // _KEY_ROW.itemsize * _KEY_ROW.itemsize
                parts.append(_key_rows_parse(pending[:whole]))
                del pending[:whole]
    if not skipped_header:
        del pending[:_COPY_HEADER]
    parts.append(_key_rows_parse(pending[:-2]))  # less the trailer
    return tuple(np.concatenate(column) for column in zip(*parts, strict=True))  # type: ignore[return-value]


def _key_rows_parse(data: bytes | bytearray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whole rows of the binary COPY of `_stored_key_rows`, as compact arrays."""
    rows = np.frombuffer(data, dtype=_KEY_ROW)
    if len(rows) and not (
        (rows["fields"] == 3).all() and (rows["block_size"] == 8).all()
        and (rows["bucket_size"] == 4).all() and (rows["record_size"] == 8).all()
    ):
        raise ValueError("unexpected binary COPY layout of the blocking keys")
    return (rows["block"].astype(np.int64), rows["bucket"].astype(np.int16),
            rows["record"].astype(np.int64))


# PostgreSQL's binary COPY: a 19-byte header, then per row a field count and each field
# as its length and its big-endian value, then a 2-byte trailer.
_COPY_HEADER = 19
_COPY_SLAB = 32 * 1024 * 1024  # parsed as it comes: never the whole COPY in memory
_KEY_ROW = np.dtype([
    ("fields", ">i2"), ("block_size", ">i4"), ("block", ">i8"), ("bucket_size", ">i4"),
    ("bucket", ">i4"), ("record_size", ">i4"), ("record", ">i8"),
])


def full_run_pairs(*, skip: frozenset[str]) -> tuple[np.ndarray, np.ndarray]:
    """The pairs a full run compares (records sharing a stored blocking key not in
    `skip`), each once, and the bucket each is scored in (`pairs_of_blocks`): listed
    once when the run starts, not rebuilt from every record's keys in each partition."""
    blocks, buckets, records = _stored_key_rows(skip)
    return pairs_of_blocks(blocks, buckets, records)


def pairs_to_bytes(pairs: np.ndarray) -> bytes:
    return np.ascontiguousarray(pairs, dtype="<i8").tobytes()


def pairs_from_bytes(data: bytes | memoryview) -> np.ndarray:
    return np.frombuffer(bytes(data), dtype="<i8").reshape(-1, 2).astype(np.int64)


def listed_pairs_score(
    *, pairs: np.ndarray, context: MatchContext, columnar: bool | None = None
) -> tuple[list[PairScore], int]:
    """Score pairs of record ids (an (n, 2) array, a < b): the pairs at or above review
    and how many were compared. Each record is read and `prepare`d once."""
    if len(pairs) == 0:
        return [], 0
    scorer = context.scorer
    loaded = match_records_load(np.unique(pairs).tolist())
    ids = np.fromiter(loaded, dtype=np.int64, count=len(loaded))
    # A record gone since the run started (erased) takes its pairs with it.
    pairs = pairs[np.isin(pairs[:, 0], ids) & np.isin(pairs[:, 1], ids)]
    records = {i: scorer.prepare(r) for i, r in loaded.items()}
    return _pairs_at_review(records, pairs, context, columnar)


def _pairs_at_review(
    records: Mapping[int, MatchRecord], pairs: Iterable[tuple[int, int]] | np.ndarray,
    context: MatchContext, columnar: bool | None,
) -> tuple[list[PairScore], int]:
    """The pairs (ids of `records`, `prepare`d) at or above review, and how many were
    compared: as arrays (`rcu.engine.columnar`) unless `columnar` is False (default:
    the `RCU_COLUMNAR_SCORING` setting); pair by pair, the same pairs come out."""
    review = context.review
    min_weight = weight_from_probability(review)
    if columnar is None:
        columnar = django_settings.RCU_COLUMNAR_SCORING
    if columnar:
        return score_pairs(
            context.scorer, list(records.values()), pairs,
            min_weight=min_weight, min_probability=review,
        )
    score_at_least = context.scorer.score_at_least
    kept: list[PairScore] = []
    compared = 0
    for a, b in pairs.tolist() if isinstance(pairs, np.ndarray) else pairs:
        compared += 1
        score = score_at_least(records[a], records[b], min_weight)
        if score is not None and score.probability >= review:
            kept.append(score)
    return kept, compared


def pairs_score_all(
    *, records: Mapping[int, MatchRecord], pairs: Sequence[tuple[int, int]],
    context: MatchContext, columnar: bool | None = None,
) -> list[PairScore]:
    """Every one of these pairs (ids of `records`, `prepare`d; a < b) scored, however
    low: as arrays unless `columnar` is False (default: the `RCU_COLUMNAR_SCORING`
    setting), the same scores as `Scorer.score` pair by pair."""
    if columnar is None:
        columnar = django_settings.RCU_COLUMNAR_SCORING
    if not columnar:
        score = context.scorer.score
        return [score(records[a], records[b]) for a, b in pairs]
    scores, _ = score_pairs(
        context.scorer, list(records.values()), pairs, min_weight=-math.inf, min_probability=0.0,
    )
    return scores


def partition_scores(
    *, first_bucket: int, last_bucket: int, context: MatchContext, oversized: frozenset[str],
    pending_run: int | None = None,
) -> Iterator[PairScore]:
    """Every pair of one batch partition (a range of buckets), scored pair by pair (see
    `_partition_records_and_pairs`): what the columnar paths are checked against."""
    records, pairs = _partition_records_and_pairs(
        first_bucket=first_bucket, last_bucket=last_bucket, context=context,
        oversized=oversized, pending_run=pending_run,
    )
    score = context.scorer.score
    for a, b in pairs:
        yield score(records[a], records[b])


def partition_vectors(
    *, first_bucket: int, last_bucket: int, context: MatchContext, oversized: frozenset[str],
) -> Counter[tuple[Level, ...]]:
    """How many pairs of a range of buckets have each comparison vector (see
    `_partition_records_and_pairs`): what training learns from, compared as arrays."""
    records, pairs = _partition_records_and_pairs(
        first_bucket=first_bucket, last_bucket=last_bucket, context=context,
        oversized=oversized, pending_run=None,
    )
    return pair_vector_counts(context.scorer, list(records.values()), pairs)


def partition_pairs(
    *, first_bucket: int, last_bucket: int, context: MatchContext, oversized: frozenset[str],
    pending_run: int | None, columnar: bool | None = None,
) -> tuple[list[PairScore], int]:
    """The pairs of a partition of buckets at or above review, and how many pairs were
    compared (see `_pairs_at_review`)."""
    records, pairs = _partition_records_and_pairs(
        first_bucket=first_bucket, last_bucket=last_bucket, context=context,
        oversized=oversized, pending_run=pending_run,
    )
    return _pairs_at_review(records, pairs, context, columnar)


def shared_key_counts(min_records: int) -> dict[str, int]:
    """Blocking keys held by at least `min_records` records, with their counts: one pass
    over the keys serves both the oversized blocks and the generic values."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT key, COUNT(*) FROM rcu_matchkey GROUP BY key HAVING COUNT(*) >= %s",
            [min_records],
        )
        return dict(cursor.fetchall())


# Keys of these kinds (a name with a town, a mailbox name) find few duplicates that no
# other key finds, and a common name in a big town, or "jeanmartin" at any provider,
# makes a block of strangers: they get smaller blocks. Measured on the generated 1M set
# (in memory, same model): holding them to a tenth of the largest block (30 of 300)
# compares 30 % fewer pairs and loses 3 of 713,786 true pairs kept.
WEAK_KINDS = frozenset({KeyKind.FIRST_NAME_CITY, KeyKind.LAST_NAME_CITY, KeyKind.MAILBOX_NAME})
WEAK_BLOCK_SHARE = 0.1


def block_limit(key: str, max_block_size: int) -> int:
    if key_kind(key) in WEAK_KINDS:
        return max(10, int(max_block_size * WEAK_BLOCK_SHARE))
    return max_block_size


def oversized_keys(max_block_size: int, counts: dict[str, int] | None = None) -> frozenset[str]:
    """Blocking keys shared by more records than a block of their kind may hold."""
    if counts is None:
        counts = shared_key_counts(10)
    return frozenset(
        key for key, count in counts.items() if count > block_limit(key, max_block_size)
    )


_PAIR_COLUMNS = "record_a_id, record_b_id, probability, weight, levels, partition"
# Fewer pairs than this go in by one INSERT; more by COPY through a staging table.
COPY_MIN_PAIRS = 200


def match_pairs_store(pairs: Sequence[PairScore], *, partition: int | None = None) -> None:
    """Insert scored pairs (the caller has removed the ones they replace).

    A record matched at once (real-time ingest) while a batch run scores it may store
    the same pair meanwhile: the run keeps the pair already there (the ingest's is
    newer, and the record is queued again), the ingest replaces the run's. On
    PostgreSQL the rows go by COPY to a staging table, then in with ON CONFLICT.

    Rows go in in (record a, record b) order, whoever stores them: two writers of the
    same new pairs (a partition and an ingest, or two partitions whose blocks share a
    pair) wait for each other's uncommitted rows in one order, never in a cycle. The
    row locks of `rcu.services.locks` do not cover pairs: a partition locks no
    customer, so this order is what keeps it out of deadlocks."""
    if not pairs:
        return
    newest_wins = partition is None
    if is_postgresql():
        on_conflict = "ON CONFLICT (record_a_id, record_b_id) " + (
            "DO UPDATE SET probability = EXCLUDED.probability, weight = EXCLUDED.weight, "
            "levels = EXCLUDED.levels, partition = EXCLUDED.partition"
            if newest_wins else "DO NOTHING"
        )
        values = [
            (p.a, p.b, p.probability, p.weight, levels_text(p.levels), partition) for p in pairs
        ]
        if len(values) < COPY_MIN_PAIRS:
            values.sort(key=lambda row: (row[0], row[1]))
        with connection.cursor() as wrapper:
            if len(values) < COPY_MIN_PAIRS:
                wrapper.execute(
                    f"INSERT INTO rcu_matchpair ({_PAIR_COLUMNS}) VALUES "
                    + ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(values)) + " " + on_conflict,
                    [v for row in values for v in row],
                )
                return
            wrapper.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS rcu_matchpair_staging ON COMMIT DELETE ROWS "
                f"AS SELECT {_PAIR_COLUMNS} FROM rcu_matchpair WITH NO DATA"
            )
            with wrapper.cursor.copy(
                f"COPY rcu_matchpair_staging ({_PAIR_COLUMNS}) FROM STDIN"
            ) as copy:
                for row in values:
                    copy.write_row(row)
            wrapper.execute(
                f"INSERT INTO rcu_matchpair ({_PAIR_COLUMNS}) SELECT {_PAIR_COLUMNS} "
                f"FROM rcu_matchpair_staging ORDER BY record_a_id, record_b_id {on_conflict}"
            )
            wrapper.execute("DELETE FROM rcu_matchpair_staging")
        return
    rows = [
        MatchPair(record_a_id=p.a, record_b_id=p.b, probability=p.probability, weight=p.weight,
                  levels=levels_text(p.levels), partition=partition)
        for p in pairs
    ]
    if newest_wins:
        MatchPair.objects.bulk_create(
            rows, batch_size=1000, update_conflicts=True,
            unique_fields=["record_a", "record_b"],
            update_fields=["probability", "weight", "levels", "partition"],
        )
    else:
        MatchPair.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)


# Runs in the caller's transaction without a savepoint: no caller goes on after its errors.
@transaction.atomic(savepoint=False)
def match_pairs_replace(*, record_ids: Iterable[int], pairs: Sequence[PairScore]) -> None:
    """The stored pairs of these records become exactly `pairs`.

    The new scores go in first, in pair order like every writer of pairs, and the
    stale pairs go after. A delete never waits on a batch partition (its uncommitted
    pairs are invisible, and it locks none of the committed ones it keeps), whereas an
    insert may: deleting first, the ingest would hold a pair the partition reaches
    later while waiting on a new pair the partition stored before it, a cycle."""
    ids = sorted(set(record_ids))
    unique = {(p.a, p.b): p for p in pairs}
    match_pairs_store(list(unique.values()))
    stale: list[int] = []
    for chunk in chunked(ids):
        stale.extend(
            pk for pk, a, b in MatchPair.objects.filter(
                Q(record_a_id__in=chunk) | Q(record_b_id__in=chunk)
            ).values_list("pk", "record_a_id", "record_b_id")
            if (a, b) not in unique
        )
    for chunk in chunked(sorted(set(stale))):
        MatchPair.objects.filter(pk__in=chunk).delete()


def match_pairs_add(pairs: Sequence[PairScore]) -> None:
    """Store pairs of records that have none stored yet, each pair once."""
    unique = {(p.a, p.b): p for p in pairs}
    match_pairs_store(list(unique.values()))
