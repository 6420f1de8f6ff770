"""Paging without COUNT(*): fetch one row more than a page to know if another follows.

On a large base a search can match many customers; counting them all on every
keystroke costs more than showing them, so the search pages "previous / next".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet


@dataclass(frozen=True)
class SlicePage:
    object_list: list[Any]
    number: int
    per_page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.object_list else 0

    @property
    def end_index(self) -> int:
        return self.start_index + len(self.object_list) - 1 if self.object_list else 0


def page_number(raw: str | None, *, maximum: int = 10_000) -> int:
    try:
        number = int(raw or 1)
    except ValueError:
        return 1
    return min(max(number, 1), maximum)


def slice_page(
    queryset: QuerySet, *, number: int, per_page: int, ids_first: bool = False
) -> SlicePage:
    """One page of the queryset. With `ids_first`, the page's primary keys are found by
    a narrow query and only those rows are then read with their joins: a deep page no
    longer drags every skipped row through the joins (two queries instead of one)."""
    start = (number - 1) * per_page
    window = slice(start, start + per_page + 1)  # one row more: is there a next page?
    if ids_first:
        ids = list(queryset.values_list("pk", flat=True)[window])
        by_id = queryset.order_by().in_bulk(ids[:per_page]) if ids else {}
        rows = [by_id[pk] for pk in ids[:per_page] if pk in by_id]
        has_next = len(ids) > per_page
    else:
        rows = list(queryset[window])
        has_next = len(rows) > per_page
    return SlicePage(object_list=rows[:per_page], number=number, per_page=per_page, has_next=has_next)
