"""Set-based updates that still write simple-history rows, without loading instances.

`bulk_update_with_history` needs every model instance in memory; re-linking hundreds
of thousands of records to their customers would load every raw payload for one
foreign key. This updates the rows in SQL and copies the updated rows into the
history table with one INSERT … SELECT per chunk, as simple-history would have.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import connection, models

from rcu.ingestion import jsontext

CHUNK = 2000


def history_rows_copy(
    *, model: type[models.Model], ids: list[int], now: datetime, acting_user_id: int | None,
    reason: str, history_type: str = "~",
) -> None:
    """Insert one history row per id from the current table rows."""
    if not ids:
        return
    quote = connection.ops.quote_name
    insert_columns, select_parts, params = _history_select(
        model, source="t", now=now, acting_user_id=acting_user_id, reason=reason,
        history_type=history_type,
    )
    table = quote(model._meta.db_table)
    history_table = quote(model.history.model._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            placeholders = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {history_table} ({', '.join(insert_columns)}) "
                f"SELECT {', '.join(select_parts)} FROM {table} AS t WHERE t.id IN ({placeholders})",
                [*params, *chunk],
            )


# From this many rows, PostgreSQL updates go through COPY into a scratch table and one
# UPDATE … FROM, instead of one UPDATE per row.
PG_COPY_FROM = 500


def _history_select(model, *, source: str, now, acting_user_id, reason, history_type="~"):
    """The INSERT column list and SELECT list copying rows of `source` into history."""
    history_model = model.history.model
    quote = connection.ops.quote_name
    base_columns = {f.attname: f.column for f in model._meta.concrete_fields}
    extra = {
        "history_date": now, "history_change_reason": reason[:100],
        "history_type": history_type, "history_user_id": acting_user_id,
    }
    insert_columns, select_parts, params = [], [], []
    for f in history_model._meta.concrete_fields:
        if f.attname == "history_id":
            continue
        insert_columns.append(quote(f.column))
        if f.attname in base_columns:
            select_parts.append(f"{source}.{quote(base_columns[f.attname])}")
        else:
            select_parts.append("%s")
            params.append(extra[f.attname])
    return insert_columns, select_parts, params


def _pg_update_with_history(*, model, values, columns, meta_fields, now, acting_user_id, reason):
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    column_names = [quote(meta_fields[c].column) for c in columns]
    json_columns = {c for c in columns if isinstance(meta_fields[c], models.JSONField)}
    insert_columns, select_parts, params = _history_select(
        model, source="t", now=now, acting_user_id=acting_user_id, reason=reason
    )
    with connection.cursor() as wrapper:
        wrapper.execute(
            f"CREATE TEMP TABLE _rcu_update ON COMMIT DROP AS SELECT id, {', '.join(column_names)} "
            f"FROM {table} WITH NO DATA"
        )
        with wrapper.cursor.copy(
            f"COPY _rcu_update (id, {', '.join(column_names)}) FROM STDIN"
        ) as copy:
            for pk, row in values.items():
                copy.write_row([
                    pk,
                    *(
                        (jsontext.dumps(v).decode() if c in json_columns and v is not None else v)
                        for c, v in ((c, now if c == "updated_at" and c not in row else row[c])
                                     for c in columns)
                    ),
                ])
        wrapper.execute(
            f"UPDATE {table} AS t SET "
            + ", ".join(f"{name} = u.{name}" for name in column_names)
            + " FROM _rcu_update AS u WHERE t.id = u.id"
        )
        wrapper.execute(
            f"INSERT INTO {quote(model.history.model._meta.db_table)} ({', '.join(insert_columns)}) "
            f"SELECT {', '.join(select_parts)} FROM {table} AS t JOIN _rcu_update AS u ON t.id = u.id",
            params,
        )
        wrapper.execute("DROP TABLE _rcu_update")


def rows_update_with_history(
    *, model: type[models.Model], values: Mapping[int, Mapping[str, Any]], fields: list[str],
    now: datetime, acting_user_id: int | None, reason: str,
) -> None:
    """Set `fields` (attnames) of each row (`values`: id → {attname: value}) with one
    prepared UPDATE run for every row, then copy the rows into their history."""
    if not values:
        return
    meta_fields = {f.attname: f for f in model._meta.concrete_fields}
    columns = list(fields)
    if "updated_at" in meta_fields and "updated_at" not in columns:
        columns.append("updated_at")
    quote = connection.ops.quote_name
    sql = (
        f"UPDATE {quote(model._meta.db_table)} SET "
        + ", ".join(f"{quote(meta_fields[c].column)} = %s" for c in columns)
        + " WHERE id = %s"
    )
    ids = sorted(values)
    if connection.vendor == "postgresql" and len(ids) >= PG_COPY_FROM:
        _pg_update_with_history(
            model=model, values=values, columns=columns, meta_fields=meta_fields, now=now,
            acting_user_id=acting_user_id, reason=reason,
        )
        return
    with connection.cursor() as cursor:
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            params = []
            for pk in chunk:
                row = values[pk]
                params.append([
                    meta_fields[c].get_db_prep_save(now if c == "updated_at" and c not in row else row[c], connection)
                    for c in columns
                ] + [pk])
            cursor.executemany(sql, params)
            history_rows_copy(
                model=model, ids=chunk, now=now, acting_user_id=acting_user_id, reason=reason
            )
