"""The records of a generated data set, normalised exactly as the importer normalises them.

Reads the four source files of a `generate_dataset` output directory with the project's
readers and a `RowMapper` built from `examples/sources/<code>.json`, without Django or a
database. Benchmarks of any matcher (ours, Splink) start from these same normalised keys,
so they compare matchers, not normalisations.

    for row in load_dataset_records(data_dir):   # streaming, one record at a time
        row.source, row.external_id, row.keys
    truth = load_truth(data_dir)                 # {(source, external_id): person_id}
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from rcu.demo import EXAMPLES_DIR, SOURCE_CODES, SOURCE_FORMATS
from rcu.demo.sources import TRUTH_FILE_NAME
from rcu.ingestion.config import SourceConfig, parse_source_config
from rcu.ingestion.mapping import MappedRow, RowMapper
from rcu.ingestion.readers import Row, inspect_file, iter_rows

RecordId = tuple[str, str]  # (source code, external id), as in truth.csv


class NormalisedRow(NamedTuple):
    source: str
    external_id: str
    keys: dict[str, str]  # MappedRow.keys: first_name, last_name, birth_date, email, ...

    @property
    def record_id(self) -> RecordId:
        return (self.source, self.external_id)


def source_config(code: str, examples_dir: Path = EXAMPLES_DIR) -> SourceConfig:
    """The example configuration of a demo source, parsed and checked."""
    path = examples_dir / f"{code}.json"
    return parse_source_config(json.loads(path.read_text(encoding="utf-8")))


def row_mapper(config: SourceConfig, custom: tuple[tuple[str, str, str], ...] = ()) -> RowMapper:
    """The RowMapper the importer would build for this source (see
    `rcu.selectors.sources.source_row_mapper`), from the configuration alone.

    The time zone only dates the business timestamp, which no comparison key uses, so it
    is left out: no Django settings needed.
    """
    return RowMapper(
        external_id_field=config.external_id_field,
        fields=sorted(config.fields, key=lambda spec: spec.position),
        custom=custom,
        default_region=config.default_country,
        timestamp_field=config.business_timestamp_field,
        timestamp_format=config.business_timestamp_format,
    )


def iter_source_file(code: str, path: Path, mapper: RowMapper) -> Iterator[NormalisedRow]:
    """The good rows of one source file; unreadable lines and rejected rows are skipped."""
    with path.open("rb") as stream:
        facts = inspect_file(stream, path.name)
        for item in iter_rows(stream, facts):
            if not isinstance(item, Row):
                continue  # ReadError: a truncated line
            mapped = mapper.map(item.line, item.data)
            if isinstance(mapped, MappedRow):
                yield NormalisedRow(code, mapped.external_id, mapped.keys)


def load_dataset_records(
    data_dir: Path, *, sources: tuple[str, ...] | None = None
) -> Iterator[NormalisedRow]:
    """Every good record of the data set in `data_dir`, source by source, streaming."""
    data_dir = Path(data_dir)
    for code in sources or SOURCE_CODES:
        path = data_dir / SOURCE_FORMATS[code].file_name
        if not path.exists():
            continue  # a data set generated with fewer sources
        yield from iter_source_file(code, path, row_mapper(source_config(code)))


def load_truth(data_dir: Path) -> dict[RecordId, str]:
    """truth.csv as {(source, external_id): person_id}: same person_id, same person."""
    with (Path(data_dir) / TRUTH_FILE_NAME).open(encoding="utf-8", newline="") as f:
        return {
            (row["source"], row["external_id"]): row["person_id"] for row in csv.DictReader(f)
        }


def truth_by_record(data_dir: Path) -> tuple[dict[int, str], dict[int, int]]:
    """The truth keyed by the base's record ids, and each record's customer, from the
    database Django is set up on (records of the base without a truth row left out)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.id, s.code, r.external_id, r.customer_id FROM rcu_sourcerecord r "
            "JOIN rcu_sourcesystem s ON s.id = r.source_id"
        )
        rows = cursor.fetchall()
    customer = {pk: customer_id for pk, _, _, customer_id in rows}
    record_of = {(code, external_id): pk for pk, code, external_id, _ in rows}
    del rows
    truth = {record_of[record]: person for record, person in load_truth(data_dir).items()
             if record in record_of}
    return truth, customer
