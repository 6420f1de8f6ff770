"""The quality pages: overview, one source's attributes, business KPIs, the records behind
a figure. Every table also downloads as CSV (`?export=<table>`)."""

from __future__ import annotations

import io

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from quality import tables
from quality.charts import Line, bar_chart, line_chart
from quality.models import GOLDEN, Metric, source_scope
from quality.selectors import (
    AGE_BANDS,
    DEFAULT_TREND_DAYS,
    TREND_DAYS,
    Series,
    quality_kpis,
    quality_overview,
    quality_records,
    quality_trend,
    sees_everything,
    source_attribute_quality,
    trend_pivot,
    visible_rules,
)
from quality.tasks import quality_snapshot_task
from rcu import hooks
from rcu.csv_safe import CSV_CONTENT_TYPE, people_csv_writer
from rcu.selectors.sources import source_get_for_user
from rcu.templatetags.rcu_ui import attribute_label
from rcu.views.pagination import page_number, slice_page

MEASURE_PERMISSION = "quality.add_qualitysnapshot"
RECORDS_PAGE_SIZE = 50


class TrendForm(forms.Form):
    days = forms.TypedChoiceField(
        label=gettext_lazy("Over the last"), required=False, coerce=int,
        choices=[(d, d) for d in TREND_DAYS],
    )

    def trend_days(self) -> int:
        if self.is_valid() and self.cleaned_data.get("days"):
            return self.cleaned_data["days"]
        return DEFAULT_TREND_DAYS


def _csv(table: tables.Table, filename: str) -> HttpResponse:
    out = io.StringIO(newline="")
    writer = people_csv_writer(out)
    writer.writerow(table.header)
    writer.writerows(table.rows)
    response = HttpResponse(out.getvalue(), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def _export(request: HttpRequest, available: dict, prefix: str) -> HttpResponse | None:
    name = request.GET.get("export")
    if not name:
        return None
    if name not in available:
        raise Http404("No such table")
    return _csv(available[name](), f"{prefix}-{name}")


def _lines(series) -> list[Line]:
    return [Line(s.name, [(day, rate.rate) for day, rate in s.points]) for s in series]


@login_required
@require_GET
def quality_dashboard(request: HttpRequest) -> HttpResponse:
    """Each visible source's rates, the rules not met, the golden customers against the
    best source, and the sources' completeness and validity over time."""
    form = TrendForm(request.GET)
    days = form.trend_days()
    overview = quality_overview(user=request.user)
    scopes = {s.source.code: source_scope(s.source.code) for s in overview.sources}
    completeness = quality_trend(scopes=scopes, metric=Metric.COMPLETENESS, days=days)
    validity = quality_trend(scopes=scopes, metric=Metric.VALIDITY, days=days)
    exported = _export(request, {
        "sources": lambda: tables.sources_table(overview),
        "golden": lambda: tables.golden_table(overview),
        "breaches": lambda: tables.breaches_table(overview),
        "completeness-trend": lambda: tables.trend_table(completeness),
        "validity-trend": lambda: tables.trend_table(validity),
    }, "quality")
    if exported is not None:
        return exported
    context = {
        "overview": overview,
        "form": form,
        "days": days,
        "completeness": completeness,
        "validity": validity,
        "trend_table": trend_pivot(
            [Series(f"{s.name} · {Metric.COMPLETENESS.label}", s.points) for s in completeness]
            + [Series(f"{s.name} · {Metric.VALIDITY.label}", s.points) for s in validity]
        ),
        "completeness_chart": line_chart(
            _lines(completeness), chart_id="chart-completeness",
            title=_("Completeness per source, last %(days)d days") % {"days": days},
            description=_("One line per source: the share of mapped attributes filled, day by day. "
                          "The same figures are in the table below."),
        ),
        "validity_chart": line_chart(
            _lines(validity), chart_id="chart-validity",
            title=_("Validity per source, last %(days)d days") % {"days": days},
            description=_("One line per source: the share of values received that are valid, "
                          "day by day. The same figures are in the table below."),
        ),
        "can_measure": request.user.has_perm(MEASURE_PERMISSION),
    }
    return render(request, "quality/dashboard.html", context)


@login_required
@require_POST
def quality_measure(request: HttpRequest) -> HttpResponse:
    """Measure now (admins): the daily task, queued (run at once without a broker)."""
    if not request.user.has_perm(MEASURE_PERMISSION):
        raise PermissionDenied
    quality_snapshot_task.delay(user_id=request.user.pk)
    messages.success(request, _("The quality measure was started; refresh the page in a moment."))
    return redirect("quality:dashboard")


@login_required
@require_GET
def quality_source(request: HttpRequest, code: str) -> HttpResponse:
    """One source: per attribute its rates and flags (each linked to its records), its
    rules, and an attribute's figures over time."""
    source = source_get_for_user(user=request.user, code=code)
    form = TrendForm(request.GET)
    days = form.trend_days()
    snapshot, attributes = source_attribute_quality(user=request.user, source=source)
    names = [a.attribute for a in attributes]
    chosen = request.GET.get("attribute") if request.GET.get("attribute") in names else (names[0] if names else "")
    scopes = {str(_("source")): source_scope(source.code)}
    if sees_everything(request.user):
        scopes[str(_("golden"))] = GOLDEN
    trend = {
        metric: quality_trend(scopes=scopes, metric=metric, attribute=chosen, days=days)
        for metric in (Metric.COMPLETENESS, Metric.VALIDITY)
    } if chosen else {}
    lines = []
    trend_rows = []
    for metric, series in trend.items():
        for s in series:
            if metric == Metric.VALIDITY and s.name != str(_("source")):
                continue  # golden customers carry no flags: no validity of their own
            named = Series(f"{s.name} · {Metric(metric).label}", s.points)
            trend_rows.append(named)
            lines.append(Line(named.name, [(d, r.rate) for d, r in s.points]))
    exported = _export(request, {
        "attributes": lambda: tables.attributes_table(attributes),
        "flags": lambda: tables.flags_table(attributes),
        "trend": lambda: tables.trend_table(trend_rows),
    }, f"quality-{source.code}")
    if exported is not None:
        return exported
    label = attribute_label(chosen) if chosen else ""
    context = {
        "source": source,
        "snapshot": snapshot,
        "attributes": attributes,
        "chosen": chosen,
        "chosen_label": label,
        "form": form,
        "days": days,
        "trend_table": trend_pivot(trend_rows),
        "rules": list(visible_rules(user=request.user).filter(source=source)),
        "chart": line_chart(
            lines, chart_id="chart-attribute",
            title=_("%(attribute)s: completeness and validity, last %(days)d days")
            % {"attribute": label, "days": days},
            description=_("The share of records with the attribute filled and of values valid, "
                          "day by day. The same figures are in the table below."),
        ),
    }
    return render(request, "quality/source.html", context)


@login_required
@require_GET
def quality_source_records(request: HttpRequest, code: str) -> HttpResponse:
    """The records behind a figure: a source's records carrying a flag or missing an
    attribute. Reading them is reading personal data: it is logged."""
    source = source_get_for_user(user=request.user, code=code)
    flag = (request.GET.get("flag") or "").strip()[:200]
    missing = (request.GET.get("missing") or "").strip()[:200]
    records = quality_records(user=request.user, source=source, flag=flag, missing=missing)
    page = slice_page(records.select_related("customer"), number=page_number(request.GET.get("page")),
                      per_page=RECORDS_PAGE_SIZE)
    hooks.personal_data_read(
        user=request.user, customers=[r.customer for r in page.object_list if r.customer_id],
        purpose="quality_drill_down",
    )
    params = request.GET.copy()
    params.pop("page", None)
    context = {"source": source, "flag": flag, "missing": missing, "page": page,
               "query": params.urlencode()}
    return render(request, "quality/records.html", context)


@login_required
@require_GET
def quality_kpi_page(request: HttpRequest) -> HttpResponse:
    """Duplicate and automatic link rates, backlog and its age, decisions per steward per
    day and overturns, for the base (who sees everything) and each visible department."""
    report = quality_kpis(user=request.user)
    exported = _export(request, {
        "kpis": lambda: tables.kpis_table(report),
        "stewards": lambda: tables.stewards_table(report),
        "steward-days": lambda: tables.steward_days_table(report),
        "ageing": lambda: tables.Table(
            ["department", *[_band_label(b) for b in AGE_BANDS]],
            [[k.scope.removeprefix("department:"), *k.ageing] for k in report.departments],
        ),
    }, "kpis")
    if exported is not None:
        return exported
    bands = [_band_label(b) for b in AGE_BANDS]
    context = {
        "report": report,
        "bands": bands,
        "ageing_chart": bar_chart(
            [(k.department.name if k.department else k.scope, k.ageing) for k in report.departments],
            segments=bands,
            chart_id="chart-ageing", title=_("Open candidates by age, per department"),
            description=_("For each department, its open candidates split by how long they "
                          "have waited. The same figures are in the table below."),
        ),
    }
    return render(request, "quality/kpis.html", context)


def _band_label(band: tuple[int, int | None]) -> str:
    low, high = band
    if low == 0 and high == 1:
        return _("under a day")
    if low == 0:
        return _("under %(days)d days") % {"days": high}
    if high is None:
        return _("over %(days)d days") % {"days": low}
    return _("%(low)d to %(high)d days") % {"low": low, "high": high}
