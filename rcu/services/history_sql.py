"""Set-based writes that still write simple-history rows, without model instances.

Only `rcu.services.changes` calls this module. The ORM's `bulk_create` and
`bulk_update_with_history` cost more per row than everything else an import does and
need every instance in memory; re-linking hundreds of thousands of records would load
every raw payload for one foreign key. Here rows are inserted by COPY (ids allocated
from the table's sequence first, so the caller can link rows to each other) and
updated in SQL, and the history table gets the same rows simple-history would have
written: same columns, model defaults, auto timestamps, a "+" or "~" row per object
with user and reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection, models
from simple_history.utils import get_history_model_for_model

from rcu.copy_rows import Step, column_of, copy_plan, copy_values, copy_write
from rcu.db import chunks, copy_worthwhile, is_postgresql
from rcu.ingestion import jsontext

# Rows per UPDATE batch and history INSERT … SELECT.
CHUNK = 2000


def history_rows_copy(
    *, model: type[models.Model], ids: Sequence[int], now: datetime, acting_user_id: int | None,
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
    history_table = quote(get_history_model_for_model(model)._meta.db_table)
    with connection.cursor() as cursor:
        for chunk in chunks(ids, CHUNK):
            chunk_params: list[Any]
            if is_postgresql():
                where, chunk_params = "t.id = ANY(%s)", [list(chunk)]
            else:
                where, chunk_params = f"t.id IN ({', '.join(['%s'] * len(chunk))})", list(chunk)
            cursor.execute(
                f"INSERT INTO {history_table} ({', '.join(insert_columns)}) "
                f"SELECT {', '.join(select_parts)} FROM {table} AS t WHERE {where} ORDER BY t.id",
                [*params, *chunk_params],
            )


def _history_select(model, *, source: str, now, acting_user_id, reason, history_type="~"):
    """The INSERT column list and SELECT list copying rows of `source` into history."""
    history_model = get_history_model_for_model(model)
    quote = connection.ops.quote_name
    base_columns = {f.attname: f.column for f in model._meta.concrete_fields}
    extra = {
        "history_date": now, "history_change_reason": reason,
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
    history_table = quote(get_history_model_for_model(model)._meta.db_table)
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
            f"INSERT INTO {history_table} ({', '.join(insert_columns)}) "
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
        + ", ".join(f"{quote(column_of(meta_fields[c]))} = %s" for c in columns)
        + " WHERE id = %s"
    )
    ids = sorted(values)
    if copy_worthwhile(len(ids)):
        _pg_update_with_history(
            model=model, values=values, columns=columns, meta_fields=meta_fields, now=now,
            acting_user_id=acting_user_id, reason=reason,
        )
        return
    with connection.cursor() as cursor:
        for chunk in chunks(ids, CHUNK):
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


@cache
def _plan(model: type[models.Model]) -> tuple[list[models.Field], list[Step], list[models.Field]]:
    fields, steps = copy_plan(model)
    history_model = get_history_model_for_model(model)
    history_fields = [f for f in history_model._meta.concrete_fields if f.attname != "history_id"]
    return fields, steps, history_fields


def _created(*, now: datetime, acting_user_id: int | None, reason: str) -> dict[str, Any]:
    """The history columns of a "+" row, beside the tracked ones."""
    return {"history_date": now, "history_change_reason": reason, "history_type": "+",
            "history_user_id": acting_user_id}


def _history_row(history_fields, values: dict[str, Any], extra: dict[str, Any]) -> list[Any]:
    """A history row repeats the tracked columns: the prepared (dumped) values are reused."""
    return [extra[f.attname] if f.attname in extra else values[f.attname] for f in history_fields]


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
    fields, steps = copy_plan(model)
    table = model._meta.db_table
    with connection.cursor() as wrapper:
        wrapper.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, len(rows)],
        )
        ids = [r[0] for r in wrapper.fetchall()]
        prepared = []
        for new_id, row in zip(ids, rows, strict=True):
            row["id"] = new_id
            prepared.append(list(copy_values(steps, row, now).values()))
        copy_write(wrapper.cursor, table, fields, prepared)
    # The "+" rows copied from the rows just written, in the database: neither formatted
    # here nor parsed there a second time.
    history_rows_copy(model=model, ids=ids, now=now, acting_user_id=acting_user_id,
                      reason=reason, history_type="+")
    return ids



def pg_insert_new_with_history(
    *,
    model: type[models.Model],
    rows: list[dict[str, Any]],
    unique_on: Sequence[str],
    now: datetime,
    acting_user_id: int | None,
    reason: str,
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
    column_list = ", ".join(quote(column_of(f)) for f in columns)
    unique_columns = [column_of(model._meta.get_field(name)) for name in unique_on]
    conflict = ", ".join(quote(c) for c in unique_columns)
    returning = ", ".join(quote(c) for c in ["id", *unique_columns])
    prepared = [copy_values(steps, row, now) for row in rows]
    with connection.cursor() as wrapper:
        if not copy_worthwhile(len(rows)):
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
            copy_write(wrapper.cursor, f"staging_{table}", columns,
                  [[v[f.attname] for f in columns] for v in prepared])
            wrapper.execute(
                f"INSERT INTO {quote(table)} ({column_list}) SELECT {column_list} FROM {staging} "
                f"ON CONFLICT ({conflict}) DO NOTHING RETURNING {returning}"
            )
        inserted = {tuple(found[1:]): found[0] for found in wrapper.fetchall()}
        extra = _created(now=now, acting_user_id=acting_user_id, reason=reason)
        history_rows = []
        for row_values in prepared:
            new_id = inserted.get(tuple(row_values[name] for name in unique_on))
            if new_id is None:
                continue
            row_values["id"] = new_id
            history_rows.append(_history_row(history_fields, row_values, extra))
        copy_write(wrapper.cursor, get_history_model_for_model(model)._meta.db_table, history_fields, history_rows)
    return inserted
