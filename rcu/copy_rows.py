"""Rows written by PostgreSQL's COPY, from dicts keyed by attname, without model instances.

The one place that turns such dicts into COPY rows: a column a row does not give gets
its model default (or the write's time for an auto timestamp), JSON is dumped once.
The recording helper's set-based inserts build on it for tables with history; the
outbox (`rcu.services.events`) for its large batches of events.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection, models
from django.db.models import ForeignObjectRel

from rcu.ingestion import jsontext

_AUTO, _JSON, _PLAIN = 0, 1, 2
_MISSING = object()

Step = tuple[str, int, models.Field]


def column_of(field: models.Field | ForeignObjectRel) -> str:
    """The column of a concrete field (every one has a column; a relation has none)."""
    if isinstance(field, ForeignObjectRel) or field.column is None:
        raise TypeError(f"{field!r} is not a concrete field")
    return field.column


@cache
def copy_plan(model: type[models.Model]) -> tuple[list[models.Field], list[Step]]:
    """The model's concrete fields, and per column how to fill it when a row does not say."""
    fields = list(model._meta.concrete_fields)
    steps = []
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            kind = _AUTO
        elif isinstance(f, models.JSONField):
            kind = _JSON
        else:
            kind = _PLAIN
        steps.append((f.attname, kind, f))
    return fields, steps


def copy_values(steps: Sequence[Step], row: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The row's values as COPY takes them. A value the row lacks is its default (`now`
    for an auto timestamp), written back into `row` too: the caller then holds what was
    stored (a new customer's public id, for its `customer.created` event)."""
    values = {}
    for attname, kind, field in steps:
        value = row.get(attname, _MISSING)
        if value is _MISSING:
            value = row[attname] = now if kind == _AUTO else field.get_default()
        if kind == _JSON and value is not None:
            value = jsontext.dumps(value).decode()
        values[attname] = value
    return values


def copy_write(cursor, table: str, fields: Sequence[models.Field], rows: Sequence[Sequence[Any]]) -> None:
    """COPY `rows` (values in the order of `fields`) into `table` on the raw psycopg cursor."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column_of(f)) for f in fields)
    # The raw psycopg cursor raises psycopg's errors: make them Django's (a DataError
    # for a NUL or a value too long), which callers know how to isolate.
    with connection.wrap_database_errors, cursor.copy(
        f"COPY {quote(table)} ({columns}) FROM STDIN"
    ) as copy:
        for row in rows:
            copy.write_row(row)


def copy_insert(*, model: type[models.Model], rows: Sequence[dict[str, Any]], now: datetime) -> None:
    """Insert `rows` of a table without history (the outbox); ids from its sequence.
    PostgreSQL only."""
    if not rows:
        return
    fields, steps = copy_plan(model)
    fields = [f for f in fields if f.attname != "id"]
    steps = [step for step in steps if step[0] != "id"]
    with connection.cursor() as wrapper:
        copy_write(wrapper.cursor, model._meta.db_table, fields,
                   [list(copy_values(steps, row, now).values()) for row in rows])
