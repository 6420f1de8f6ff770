"""Display filters of the quality pages: rates in the person's locale."""

from __future__ import annotations

from django import template
from django.utils.formats import number_format

from quality.charts import percent

register = template.Library()


@register.filter
def rate_percent(rate) -> str:
    """A `Rate` (or a fraction) as "92,3 %"; "—" when there is nothing to measure."""
    value = getattr(rate, "rate", rate)
    return percent(value)


@register.filter
def per_thousand(rate) -> str:
    """Open candidates per 1,000 records, "12,5"."""
    value = rate.per_thousand() if rate is not None else None
    return "—" if value is None else number_format(round(value, 1), decimal_pos=1)


@register.filter
def breached(rate, minimum) -> bool:
    value = getattr(rate, "rate", rate)
    return value is not None and value < float(minimum)
