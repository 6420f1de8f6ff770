"""Every table of the quality pages as plain rows, for the CSV exports.

Rates are written as fractions from 0 to 1 with their numerator and denominator (the
API's convention), so that a spreadsheet can recompute or re-aggregate them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from quality.selectors import AttributeQuality, KpiReport, QualityOverview, Rate, Series


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list]


def _rate(rate: Rate | None) -> list:
    if rate is None:
        return ["", "", ""]
    return [round(rate.rate, 6) if rate.rate is not None else "", rate.numerator, rate.denominator]


def _rate_header(name: str) -> list[str]:
    return [name, f"{name}_numerator", f"{name}_denominator"]


def sources_table(overview: QualityOverview) -> Table:
    names = ["completeness", "validity", "consistency", "uniqueness", "candidates", "freshness", "agreement"]
    header = ["source", "department", "records"] + [h for n in names for h in _rate_header(n)] + [
        "last_import_at", "rules_breached"]
    rows = [
        [s.source.code, s.source.department.code, s.records,
         *(v for n in names for v in _rate(getattr(s, n))),
         s.last_import_at.isoformat() if s.last_import_at else "", len(s.breaches)]
        for s in overview.sources
    ]
    return Table(header, rows)


def golden_table(overview: QualityOverview) -> Table:
    header = ["attribute", *_rate_header("golden_completeness"), *_rate_header("best_source_completeness")]
    rows = [[a.attribute, *_rate(a.completeness), *_rate(overview.best_source_completeness.get(a.attribute))]
            for a in overview.golden]
    return Table(header, rows)


def breaches_table(overview: QualityOverview) -> Table:
    header = ["source", "attribute", "metric", "minimum", "rate", "numerator", "denominator", "day"]
    rows = [[b.rule.source.code, b.rule.attribute, b.rule.metric, float(b.rule.minimum),
             round(b.rate, 6), b.numerator, b.denominator, b.taken_on.isoformat()]
            for b in overview.breaches]
    return Table(header, rows)


def attributes_table(attributes: Iterable[AttributeQuality]) -> Table:
    names = ["completeness", "validity", "consistency", "agreement", "golden_completeness"]
    header = ["attribute", "total"] + [h for n in names for h in _rate_header(n)]
    rows = [[a.attribute, a.total, *(v for n in names for v in _rate(getattr(a, n)))]
            for a in attributes]
    return Table(header, rows)


def flags_table(attributes: Iterable[AttributeQuality]) -> Table:
    header = ["attribute", "flag", "rate", "records", "total"]
    rows = [[a.attribute, f.flag, round(f.rate, 6) if f.rate is not None else "", f.records, f.total]
            for a in attributes for f in a.flags]
    return Table(header, rows)


def trend_table(series: Iterable[Series]) -> Table:
    header = ["series", "day", "rate", "numerator", "denominator"]
    rows = [[s.name, day.isoformat(), *_rate(rate)] for s in series for day, rate in s.points]
    return Table(header, rows)


def kpis_table(report: KpiReport) -> Table:
    header = ["scope", "records", *_rate_header("duplicate_rate"), *_rate_header("auto_link_rate"),
              "open_candidates", "median_wait_seconds", "longest_wait_seconds",
              *_rate_header("overturn_rate")]
    rows = []
    for k in ([report.base] if report.base else []) + report.departments:
        median = (report.now - k.median_open_since).total_seconds() if k.median_open_since else ""
        oldest = (report.now - k.oldest_open_since).total_seconds() if k.oldest_open_since else ""
        open_now = k.candidates.numerator if k.open_candidates is None else k.open_candidates
        rows.append([k.scope, k.records, *_rate(k.duplicate_rate), *_rate(k.auto_link_rate),
                     open_now, median, oldest, *_rate(k.overturn_rate)])
    return Table(header, rows)


def steward_days_table(report: KpiReport) -> Table:
    header = ["steward", "day", "decisions"]
    rows = [[s.steward, day.isoformat(), n] for s in report.stewards for day, n in s.by_day]
    return Table(header, rows)


def stewards_table(report: KpiReport) -> Table:
    header = ["steward", "decisions", "days_with_decisions", "decisions_per_day", "busiest_day"]
    rows = [[s.steward, s.decisions, s.days, round(s.per_day, 3), s.busiest] for s in report.stewards]
    return Table(header, rows)
