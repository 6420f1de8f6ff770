"""Re-normalising stored records: their raw payload mapped again, written as an import would.

When normalisation learns something (La Poste's postcode base, a new rule), records
already stored are brought up to date through the one write path every import takes
(`records_upsert`): an unchanged result writes nothing, a changed one updates the
record with history, recomputes its customer and queues it for matching.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from rcu.ingestion.mapping import MappedRow
from rcu.models import SourceRecord, SourceSystem
from rcu.selectors.sources import source_row_mapper
from rcu.services.changes import Actor
from rcu.services.ingestion import records_upsert

CHUNK = 2000
REASON = "renormalise"


@dataclass
class RenormaliseResult:
    source: str
    seen: int = 0
    updated: int = 0
    unchanged: int = 0
    # Records whose raw payload the current mapping no longer accepts, or maps to
    # another external id: left as they are, for a person to look at.
    skipped: list[str] = field(default_factory=list)


def source_records_renormalise(
    *, source: SourceSystem, acting_user: Actor, chunk_size: int = CHUNK
) -> RenormaliseResult:
    """Map every record of `source` again from its raw payload, in chunks of one
    transaction each (a run cut off keeps what it committed; running again is safe)."""
    mapper = source_row_mapper(source)
    result = RenormaliseResult(source=source.code)
    last_pk = 0
    while True:
        chunk = list(
            SourceRecord.objects.filter(source=source, pk__gt=last_pk)
            .order_by("pk")
            .values_list("pk", "external_id", "raw")[:chunk_size]
        )
        if not chunk:
            return result
        last_pk = chunk[-1][0]
        rows: list[MappedRow] = []
        for line, (_pk, external_id, raw) in enumerate(chunk, start=1):
            mapped = mapper.map(line, raw)
            if not isinstance(mapped, MappedRow) or mapped.external_id != external_id:
                result.skipped.append(external_id)
                continue
            rows.append(mapped)
        with transaction.atomic():
            upserted = records_upsert(  # stored payloads, not incoming ones: not screened
                screen=False,
                source=source, rows=rows, acting_user=acting_user, reason=REASON
            )
        result.seen += len(chunk)
        result.updated += upserted.updated
        result.unchanged += upserted.unchanged
