"""History rows deleted or scrubbed by an erasure: the documented exception to
"history is only ever appended" (docs/erasure.md).

Only erasures call this module (`rcu.services.erasure` and the apps' receivers of
`rcu.hooks.person_erasing`). Every other change to tracked data goes through
`rcu.services.changes`, which appends history rows; an erasure must instead leave no
personal data of the person in them, so it deletes the rows of what it erases and
rewrites, field by field, the rows of others that held the person's values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models
from simple_history.utils import get_history_model_for_model

from rcu.db import chunks


def history_model(model: type[models.Model]) -> type[models.Model]:
    return get_history_model_for_model(model)


def history_rows_count(model: type[models.Model], *, field: str, ids: Iterable[int]) -> int:
    """How many history rows of `model` have `field` in `ids` (a preview)."""
    history = history_model(model)
    return sum(
        history._default_manager.filter(**{f"{field}__in": chunk}).count()
        for chunk in chunks(sorted(set(ids)))
    )


def history_rows_delete(model: type[models.Model], *, field: str, ids: Iterable[int]) -> int:
    """Delete every history row of `model` whose `field` is in `ids`; how many."""
    history = history_model(model)
    deleted = 0
    for chunk in chunks(sorted(set(ids))):
        deleted += history._default_manager.filter(**{f"{field}__in": chunk})._raw_delete(
            history._default_manager.db
        )
    return deleted


def history_rows_read(
    model: type[models.Model], *, field: str, ids: Iterable[int], fields: Iterable[str]
) -> list[dict[str, Any]]:
    """History rows of `model` whose `field` is in `ids`, as dicts (history_id always)."""
    history = history_model(model)
    names = ("history_id", "history_date", *fields)
    rows: list[dict[str, Any]] = []
    for chunk in chunks(sorted(set(ids))):
        rows += history._default_manager.filter(**{f"{field}__in": chunk}).values(*names)
    return rows


def history_rows_rewrite(
    model: type[models.Model], *, values: Mapping[int, Mapping[str, Any]]
) -> int:
    """Set columns of history rows by history id (history id → {attname: value})."""
    history = history_model(model)
    for history_id, fields in values.items():
        history._default_manager.filter(history_id=history_id).update(**fields)
    return len(values)


def history_reasons_scrub(
    model: type[models.Model], *, field: str, ids: Iterable[int], values: Iterable[str],
    replacement: str,
) -> int:
    """Replace the person's values quoted in the reasons (`history_change_reason`, a
    steward's words) of these rows' history; how many rows changed."""
    import re

    patterns = [re.compile(re.escape(v), re.IGNORECASE) for v in sorted(values, key=len, reverse=True)]
    if not patterns:
        return 0
    history = history_model(model)
    changed = {}
    for history_id, reason in (
        row for chunk in chunks(sorted(set(ids)))
        for row in history._default_manager.filter(**{f"{field}__in": chunk})
        .exclude(history_change_reason=None).values_list("history_id", "history_change_reason")
    ):
        cleaned = reason
        for pattern in patterns:
            cleaned = pattern.sub(replacement, cleaned)
        if cleaned != reason:
            changed[history_id] = {"history_change_reason": cleaned}
    return history_rows_rewrite(model, values=changed)
