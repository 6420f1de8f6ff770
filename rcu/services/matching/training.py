"""Learning what the engine needs from the base itself: generic values and the model."""

from __future__ import annotations

import random

from django.db import connection, transaction
from django.utils import timezone

from rcu.engine.blocking import BUCKETS, KeyKind, key_kind
from rcu.engine.fellegi_sunter import TrainingReport
from rcu.engine.generic import detect_generic_values, email_placeholder_rule
from rcu.engine.training import train_model
from rcu.models import GenericValue, MatchSettings, SourceRecord
from rcu.services.changes import Actor, change_delete, change_save
from rcu.services.matching.context import MatchContext, match_settings_get
from rcu.services.matching.pairs import match_records_load, partition_vectors, shared_key_counts

MIN_RECORDS = 10
SAMPLE_RECORDS = 20_000
EM_TARGET_RECORDS = 20_000  # about as many records' blocks feed expectation-maximisation
SEED = 7


def _placeholder_emails() -> list[tuple[str, int]]:
    found = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT key, COUNT(*) FROM rcu_matchkey WHERE key LIKE %s GROUP BY key",
            [f"{KeyKind.EMAIL.prefix}%"],
        )
        for key, count in cursor.fetchall():
            if email_placeholder_rule(key[len(KeyKind.EMAIL.prefix):]) is not None:
                found.append((key, count))
    return found


@transaction.atomic
def generic_values_refresh(*, acting_user: Actor, key_counts: dict[str, int] | None = None) -> int:
    """Detect the generic values of the base and store them; administrators' additions
    and dismissals are kept. Returns how many values are generic now.

    `key_counts`: blocking keys held by at least MIN_RECORDS records (`shared_key_counts`).
    """
    if key_counts is None:
        key_counts = shared_key_counts(MIN_RECORDS)
    keys = {
        key: count for key, count in key_counts.items()
        if count >= MIN_RECORDS and key_kind(key) in (KeyKind.EMAIL, KeyKind.PHONE)
    }
    keys.update(_placeholder_emails())
    ids: set[int] = set()
    if keys:
        with connection.cursor() as cursor:
            key_list = sorted(keys)
            for start in range(0, len(key_list), 1000):
                chunk = key_list[start : start + 1000]
                cursor.execute(
                    f"SELECT record_id FROM rcu_matchkey WHERE key IN ({', '.join(['%s'] * len(chunk))})",
                    chunk,
                )
                ids.update(row[0] for row in cursor.fetchall())
    detected = detect_generic_values(match_records_load(ids).values(), min_records=MIN_RECORDS)
    existing = {(g.kind, g.value): g for g in GenericValue.objects.all()}
    seen = set()
    for value in detected:
        seen.add((value.kind, value.value))
        row = existing.get((value.kind, value.value))
        fields = dict(reason=value.reason, rule=value.rule, records=value.records,
                      distinct_names=value.distinct_names)
        if row is None:
            row = GenericValue(kind=value.kind, value=value.value,
                               origin=GenericValue.Origin.DETECTED, **fields)
            change_save(row, acting_user=acting_user, reason="detected")
        elif any(getattr(row, k) != v for k, v in fields.items()):
            for k, v in fields.items():
                setattr(row, k, v)
            change_save(row, acting_user=acting_user, reason="detected")
    for key, row in existing.items():
        if key not in seen and row.origin == GenericValue.Origin.DETECTED and not row.dismissed:
            change_delete(row, acting_user=acting_user, reason="no longer generic")
    return GenericValue.objects.filter(dismissed=False).count()


def _sample_records(size: int) -> list:
    highest = SourceRecord.objects.order_by("-pk").values_list("pk", flat=True).first()
    if not highest:
        return []
    rng = random.Random(SEED)
    wanted = range(1, highest + 1) if highest <= size else rng.sample(range(1, highest + 1), size)
    return list(match_records_load(wanted).values())


def _oversized_pairs_by_kind(oversized: frozenset[str], key_counts: dict[str, int]) -> dict[str, float]:
    """Pairs of records in the oversized blocks, by key kind: never compared, yet two
    records there share the key's value."""
    pairs: dict[str, float] = {}
    for key in oversized:
        count = key_counts.get(key, 0)
        kind = key_kind(key)
        pairs[kind] = pairs.get(kind, 0.0) + count * (count - 1) / 2
    return pairs


def model_train(
    *, context: MatchContext, oversized: frozenset[str], key_counts: dict[str, int]
) -> tuple[dict, TrainingReport]:
    """Retrain the model's parameters from the base (no labels).

    `key_counts`: the record count of each shared key, oversized ones included
    (`shared_key_counts`).
    """
    total = SourceRecord.objects.count()
    share = 1.0 if total <= EM_TARGET_RECORDS else EM_TARGET_RECORDS / total
    last_bucket = max(0, min(BUCKETS, round(BUCKETS * share)) - 1)
    vectors = partition_vectors(
        first_bucket=0, last_bucket=last_bucket, context=context, oversized=oversized
    )
    model, report = train_model(
        record_count=total,
        blocked_share=(last_bucket + 1) / BUCKETS,
        sample=_sample_records(SAMPLE_RECORDS), blocked_vectors=vectors,
        generic=context.scorer.generic, comparisons=context.comparisons,
        unblocked_pairs=_oversized_pairs_by_kind(oversized - context.skip_keys, key_counts),
    )
    return model.to_dict(), report


def match_settings_store_model(*, model: dict, acting_user: Actor) -> MatchSettings:
    settings = match_settings_get()
    settings.model = model
    settings.model_trained_at = timezone.now()
    change_save(settings, acting_user=acting_user, reason="model retrained")
    return settings
