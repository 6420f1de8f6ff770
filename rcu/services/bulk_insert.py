"""Fast bulk inserts with their history rows, through PostgreSQL's COPY.

The ORM's bulk_create costs more per row than everything else an import does
(model instances, then array parameters for each column). This writes plain rows
straight into the table and its simple-history table with COPY, ids allocated
from the table's sequence first so the caller can link rows to each other. It
mirrors what `bulk_create_with_history` stores: same columns, model defaults,
auto timestamps, and a "+" history row per object with user and reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection, models

from rcu.ingestion import jsontext

_AUTO, _JSON, _PLAIN = 0, 1, 2


@cache
def _plan(model: type[models.Model]) -> tuple[list[models.Field], list[tuple[str, int, models.Field]], list[models.Field]]:
    """Per column: how to fill it when a row does not say (auto timestamp, default)."""
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
    history_model = model.history.model
    history_fields = [f for f in history_model._meta.concrete_fields if f.attname != "history_id"]
    return fields, steps, history_fields


def _prepared(steps, row: dict[str, Any], now: datetime) -> dict[str, Any]:
    values = {}
    for attname, kind, field in steps:
        value = row.get(attname, _MISSING)
        if value is _MISSING:
            value = now if kind == _AUTO else field.get_default()
        if kind == _JSON and value is not None:
            value = jsontext.dumps(value).decode()
        values[attname] = value
    return values


_MISSING = object()


def _copy(cursor, table: str, fields: Sequence[models.Field], rows: Sequence[Sequence[Any]]) -> None:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    # The raw psycopg cursor raises psycopg's errors: make them Django's (a DataError
    # for a NUL or a value too long), which callers know how to isolate.
    with connection.wrap_database_errors, cursor.copy(
        f"COPY {quote(table)} ({columns}) FROM STDIN"
    ) as copy:
        for row in rows:
            copy.write_row(row)


def pg_insert_with_history(
    *,
    model: type[models.Model],
    rows: list[dict[str, Any]],
    now: datetime,
    acting_user_id: int | None,
    reason: str,
) -> list[int]:
    """Insert `rows` (dicts keyed by attname) and their history; return the new ids."""
    if not rows:
        return []
    fields, steps, history_fields = _plan(model)
    table = model._meta.db_table
    with connection.cursor() as wrapper:
        wrapper.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, len(rows)],
        )
        ids = [r[0] for r in wrapper.fetchall()]
        cursor = wrapper.cursor  # the psycopg cursor, for COPY
        history_extra = {
            "history_date": now,
            "history_change_reason": reason,
            "history_type": "+",
            "history_user_id": acting_user_id,
        }
        prepared, history_rows = [], []
        for new_id, row in zip(ids, rows, strict=True):
            row["id"] = new_id
            values = _prepared(steps, row, now)
            prepared.append(list(values.values()))
            # History rows repeat the tracked columns: reuse the prepared (dumped) values.
            history_rows.append([
                history_extra[f.attname] if f.attname in history_extra else values[f.attname]
                for f in history_fields
            ])
        _copy(cursor, table, fields, prepared)
        _copy(cursor, model.history.model._meta.db_table, history_fields, history_rows)
    return ids



def pg_insert_new_with_history(
    *,
    model: type[models.Model],
    rows: list[dict[str, Any]],
    unique_on: Sequence[str],
    now: datetime,
    acting_user_id: int | None,
    reason: str,
    copy_from: int = 200,
) -> dict[tuple, int]:
    """Insert the `rows` whose `unique_on` values are not in the table yet, with their
    history; return the new ids by those values.

    Two writers that both found a row missing (two real-time ingests proposing the same
    pair) must not fail the later one: ON CONFLICT DO NOTHING skips the row the other
    committed, and the caller reads it back. Many rows go through a staging table by COPY.
    """
    if not rows:
        return {}
    fields, steps, history_fields = _plan(model)
    quote = connection.ops.quote_name
    table = model._meta.db_table
    columns = [f for f in fields if f.attname != "id"]
    column_list = ", ".join(quote(f.column) for f in columns)
    unique_columns = [model._meta.get_field(name).column for name in unique_on]
    conflict = ", ".join(quote(c) for c in unique_columns)
    returning = ", ".join(quote(c) for c in ["id", *unique_columns])
    prepared = [_prepared(steps, row, now) for row in rows]
    with connection.cursor() as wrapper:
        if len(rows) < copy_from:
            placeholders = ", ".join(["%s"] * len(columns))
            values = ", ".join([f"({placeholders})"] * len(rows))
            wrapper.execute(
                f"INSERT INTO {quote(table)} ({column_list}) VALUES {values} "
                f"ON CONFLICT ({conflict}) DO NOTHING RETURNING {returning}",
                [v[f.attname] for v in prepared for f in columns],
            )
        else:
            staging = quote(f"staging_{table}")
            wrapper.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {staging} ON COMMIT DROP AS "
                f"SELECT {column_list} FROM {quote(table)} WITH NO DATA"
            )
            wrapper.execute(f"TRUNCATE {staging}")
            _copy(wrapper.cursor, f"staging_{table}", columns,
                  [[v[f.attname] for f in columns] for v in prepared])
            wrapper.execute(
                f"INSERT INTO {quote(table)} ({column_list}) SELECT {column_list} FROM {staging} "
                f"ON CONFLICT ({conflict}) DO NOTHING RETURNING {returning}"
            )
        inserted = {tuple(found[1:]): found[0] for found in wrapper.fetchall()}
        history_extra = {
            "history_date": now,
            "history_change_reason": reason,
            "history_type": "+",
            "history_user_id": acting_user_id,
        }
        history_rows = []
        for values in prepared:
            new_id = inserted.get(tuple(values[name] for name in unique_on))
            if new_id is None:
                continue
            values["id"] = new_id
            history_rows.append([
                history_extra[f.attname] if f.attname in history_extra else values[f.attname]
                for f in history_fields
            ])
        _copy(wrapper.cursor, model.history.model._meta.db_table, history_fields, history_rows)
    return inserted
