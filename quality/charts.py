"""Server-rendered SVG charts: no JavaScript, no library, readable without colour.

A chart is a picture of figures the page also shows as a table (the table is the
accessible form; the SVG carries a title and a description for screen readers).
Numbers and dates are written in the person's locale (`django.utils.formats`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.utils.formats import date_format, number_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Distinguishable for the common colour blindnesses (Okabe-Ito), each line also dashed
# differently so that the chart reads in grey.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "4 4", "1 2", "10 4")
DOTS_UP_TO = 62


@dataclass(frozen=True)
class Line:
    name: str
    points: Sequence[tuple[date, float | None]]  # a rate from 0 to 1, None: nothing measured


def percent(value: float | None, digits: int = 1) -> str:
    """0.923 → "92,3 %" in French, "92.3 %" in English; None → "—"."""
    if value is None:
        return "—"
    # Rounded first: number_format cuts the digits beyond decimal_pos.
    return f"{number_format(round(value * 100, digits), decimal_pos=digits)}\u00a0%"


def line_chart(lines: Sequence[Line], *, title: str, description: str, chart_id: str,
               width: int = 720, height: int = 240) -> SafeString:
    """Rates over days, one line per series, the y axis from 0 % to 100 %."""
    left, right, top, bottom = 48, 150, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    days = sorted({day for line in lines for day, _value in line.points})
    parts = [
        f'<svg class="chart" id="{chart_id}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1):
        y = top + plot_h * (1 - tick)
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" class="chart-grid"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="chart-label">'
                     f'{escape(percent(tick, 0))}</text>')
    if not days:
        parts.append(f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" text-anchor="middle" '
                     f'class="chart-label">—</text></svg>')
        return mark_safe("".join(parts))  # every text above is escaped
    first, last = days[0], days[-1]
    span = max((last - first).days, 1)

    def x_of(day: date) -> float:
        return left + plot_w * ((day - first).days / span) if len(days) > 1 else left + plot_w / 2

    for day in {first, last, days[len(days) // 2]}:
        parts.append(f'<text x="{x_of(day):.1f}" y="{height - 8}" text-anchor="middle" '
                     f'class="chart-label">{escape(date_format(day, "SHORT_DATE_FORMAT"))}</text>')
    for i, line in enumerate(lines):
        colour, dash = COLOURS[i % len(COLOURS)], DASHES[i % len(DASHES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        segment: list[str] = []
        segments: list[list[str]] = [segment]
        for day, value in line.points:
            if value is None:
                segment = []
                segments.append(segment)
                continue
            segment.append(f"{x_of(day):.1f},{top + plot_h * (1 - value):.1f}")
        for points in segments:
            if len(points) > 1:
                parts.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" '
                             f'stroke-width="2"{dash_attr}/>')
            # Dots only where they can be told apart; a long series is its line.
            for point in points if len(line.points) <= DOTS_UP_TO else ():
                cx, cy = point.split(",")
                parts.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{colour}"/>')
        legend_y = top + 14 + 18 * i
        parts.append(f'<line x1="{left + plot_w + 12}" x2="{left + plot_w + 36}" y1="{legend_y - 4}" '
                     f'y2="{legend_y - 4}" stroke="{colour}" stroke-width="2"{dash_attr}/>')
        parts.append(f'<text x="{left + plot_w + 40}" y="{legend_y}" class="chart-label">'
                     f'{escape(line.name[:18])}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text above is escaped


def bar_chart(bars: Sequence[tuple[str, Sequence[int]]], *, segments: Sequence[str], title: str,
              description: str, chart_id: str, width: int = 720) -> SafeString:
    """Horizontal stacked bars: one bar per label, one segment per entry of `segments`."""
    row_h, left, right, top = 26, 160, 60, 24
    height = top + row_h * max(len(bars), 1) + 10
    plot_w = width - left - right
    biggest = max((sum(values) for _label, values in bars), default=0) or 1
    parts = [
        f'<svg class="chart" id="{chart_id}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]
    x: float = left
    for i, name in enumerate(segments):
        parts.append(f'<rect x="{x}" y="4" width="10" height="10" fill="{COLOURS[i % len(COLOURS)]}"/>')
        parts.append(f'<text x="{x + 14}" y="13" class="chart-label">{escape(name)}</text>')
        x += 14 + 8 * len(name) + 16
    for row, (label, values) in enumerate(bars):
        y = top + row * row_h
        parts.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end" class="chart-label">'
                     f'{escape(label[:24])}</text>')
        x = left
        for i, value in enumerate(values):
            w = plot_w * value / biggest
            if w > 0:
                parts.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" '
                             f'fill="{COLOURS[i % len(COLOURS)]}"/>')
            x += w
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 15}" class="chart-label">'
                     f'{escape(number_format(sum(values), force_grouping=True))}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text above is escaped
