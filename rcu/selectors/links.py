"""Which golden customer every source record belongs to, for exports and analysis."""

from __future__ import annotations

from collections.abc import Iterator

from rcu.models import SourceRecord

LINK_COLUMNS = ("source", "external_id", "customer_id")


def record_links() -> Iterator[tuple[str, str, str]]:
    """(source code, external id, customer public id) of every record, streamed; the
    records of a restricted customer (art. 18) are left out."""
    rows = (
        SourceRecord.objects.exclude(customer__restricted_at__isnull=False).order_by("source__code", "external_id")
        .values_list("source__code", "external_id", "customer__public_id")
        .iterator(chunk_size=10_000)
    )
    for source, external_id, public_id in rows:
        yield source, external_id, str(public_id) if public_id else ""
