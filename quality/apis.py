"""Quality API: /api/v1/quality/sources/, /sources/{code}/attributes/, /sources/{code}/trend/,
/kpis/.

Rates are fractions from 0 to 1 (null when there is nothing to measure) beside their
numerator and denominator. Same rules as the pages: a source's figures for whoever sees
the source; the golden customers and the whole base for whoever sees every customer.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from quality.models import source_scope
from quality.selectors import (
    DEFAULT_TREND_DAYS,
    TREND_DAYS,
    AttributeQuality,
    KpiReport,
    Rate,
    quality_kpis,
    quality_overview,
    quality_trend,
    source_attribute_quality,
)
from rcu.apis.permissions import API_PERMISSIONS
from rcu.apis.schema import BAD_FILTER, NOT_AUTHENTICATED, NOT_FOUND
from rcu.selectors.sources import source_get_for_user


def _rate(rate: Rate | None, name: str, numerator: str, denominator: str) -> dict:
    if rate is None:
        return {name: None, numerator: None, denominator: None}
    return {name: rate.rate, numerator: rate.numerator, denominator: rate.denominator}


# --- shapes (for the schema) ---------------------------------------------------------------

class RateSerializer(serializers.Serializer):
    rate = serializers.FloatField(allow_null=True, min_value=0, max_value=1)
    numerator = serializers.IntegerField()
    denominator = serializers.IntegerField()


class BreachSerializer(serializers.Serializer):
    attribute = serializers.CharField()
    metric = serializers.ChoiceField(choices=["completeness", "validity"])
    minimum = serializers.FloatField()
    rate = serializers.FloatField()
    numerator = serializers.IntegerField()
    denominator = serializers.IntegerField()


class SourceQualitySerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    department = serializers.CharField()
    taken_on = serializers.DateField()
    records = serializers.IntegerField()
    completeness = RateSerializer(help_text="Mapped attributes filled, over records times attributes.")
    validity = RateSerializer(help_text="Values received that are valid.")
    consistency = RateSerializer(help_text="Records whose fields agree (postcode/city, mobile, civility).")
    uniqueness = RateSerializer(help_text="Records sharing their customer with another record.")
    open_candidates = RateSerializer(help_text="Open merge candidates touching the source, per record.")
    freshness = RateSerializer(help_text="Records whose business timestamp is under a year old.")
    agreement = RateSerializer(help_text="Values equal to the golden customer's.")
    last_import_at = serializers.DateTimeField(allow_null=True)
    breaches = BreachSerializer(many=True)


class FlagSerializer(serializers.Serializer):
    flag = serializers.CharField()
    rate = serializers.FloatField(allow_null=True)
    records = serializers.IntegerField()
    total = serializers.IntegerField()
    records_url = serializers.CharField(help_text="The records behind the figure (the records API's filters).")


class AttributeQualitySerializer(serializers.Serializer):
    attribute = serializers.CharField()
    total = serializers.IntegerField()
    completeness = serializers.FloatField(allow_null=True)
    filled = serializers.IntegerField()
    validity = serializers.FloatField(allow_null=True)
    valid = serializers.IntegerField()
    received = serializers.IntegerField()
    consistency = serializers.FloatField(allow_null=True)
    consistent = serializers.IntegerField(allow_null=True)
    checked = serializers.IntegerField(allow_null=True)
    agreement = serializers.FloatField(allow_null=True)
    agreeing = serializers.IntegerField()
    compared = serializers.IntegerField()
    golden_completeness = serializers.FloatField(allow_null=True)
    golden_filled = serializers.IntegerField(allow_null=True)
    golden_total = serializers.IntegerField(allow_null=True)
    flags = FlagSerializer(many=True)


class ScopeKpisSerializer(serializers.Serializer):
    scope = serializers.CharField()
    department = serializers.CharField(allow_null=True)
    records = serializers.IntegerField()
    duplicate_rate = RateSerializer()
    auto_link_rate = RateSerializer()
    open_candidates = serializers.IntegerField()
    median_wait_seconds = serializers.FloatField(allow_null=True)
    longest_wait_seconds = serializers.FloatField(allow_null=True)
    overturn_rate = RateSerializer(allow_null=True)
    backlog_ageing = serializers.ListField(child=serializers.IntegerField())


class DayCountSerializer(serializers.Serializer):
    day = serializers.DateField()
    decisions = serializers.IntegerField()


class StewardDaySerializer(serializers.Serializer):
    steward = serializers.CharField()
    decisions = serializers.IntegerField()
    days = serializers.IntegerField()
    decisions_per_day = serializers.FloatField()
    busiest_day = serializers.IntegerField()
    by_day = DayCountSerializer(many=True)


class KpisSerializer(serializers.Serializer):
    taken_on = serializers.DateField(allow_null=True)
    base = ScopeKpisSerializer(allow_null=True)
    departments = ScopeKpisSerializer(many=True)
    stewards = StewardDaySerializer(many=True)
    steward_days = serializers.IntegerField()


# --- payloads ------------------------------------------------------------------------------

def attribute_payload(a: AttributeQuality, *, source_code: str) -> dict:
    return {
        "attribute": a.attribute, "total": a.total,
        **_rate(a.completeness, "completeness", "filled", "total"),
        **_rate(a.validity, "validity", "valid", "received"),
        **_rate(a.consistency, "consistency", "consistent", "checked"),
        **_rate(a.agreement, "agreement", "agreeing", "compared"),
        **_rate(a.golden_completeness, "golden_completeness", "golden_filled", "golden_total"),
        "flags": [{"flag": f.flag, "rate": f.rate, "records": f.records, "total": f.total,
                   "records_url": f"{reverse('api-v1-record-list')}?"
                   f"{urlencode({'source': source_code, 'flag': f.flag})}"}
                  for f in a.flags],
    }


def kpis_payload(report: KpiReport) -> dict:
    def scope(k) -> dict:
        return {
            "scope": k.scope, "department": k.department.code if k.department else None,
            "records": k.records,
            "duplicate_rate": k.duplicate_rate.to_json(),
            "auto_link_rate": k.auto_link_rate.to_json(),
            "open_candidates": k.candidates.numerator if k.open_candidates is None else k.open_candidates,
            "median_wait_seconds": (report.now - k.median_open_since).total_seconds()
            if k.median_open_since else None,
            "longest_wait_seconds": (report.now - k.oldest_open_since).total_seconds()
            if k.oldest_open_since else None,
            "overturn_rate": k.overturn_rate.to_json() if k.overturn_rate else None,
            "backlog_ageing": list(k.ageing),
        }

    return {
        "taken_on": report.snapshot.taken_on if report.snapshot else None,
        "base": scope(report.base) if report.base else None,
        "departments": [scope(k) for k in report.departments],
        "stewards": [{"steward": s.steward, "decisions": s.decisions, "days": s.days,
                      "decisions_per_day": s.per_day, "busiest_day": s.busiest,
                      "by_day": [{"day": day, "decisions": n} for day, n in s.by_day]}
                     for s in report.stewards],
        "steward_days": report.steward_days,
    }


# --- views ---------------------------------------------------------------------------------

class QualitySourceListApi(APIView):
    permission_classes = API_PERMISSIONS

    @extend_schema(
        summary="Quality per visible source",
        description="The latest daily snapshot's rates for each source the caller may see, "
        "with the quality rules it does not meet. An empty list before the first snapshot.",
        responses={200: SourceQualitySerializer(many=True), 401: NOT_AUTHENTICATED},
    )
    def get(self, request: Request) -> Response:
        overview = quality_overview(user=request.user)
        day = overview.snapshot.taken_on if overview.snapshot else None
        return Response([
            {
                "code": s.source.code, "name": s.source.name, "department": s.source.department.code,
                "taken_on": day, "records": s.records,
                "completeness": s.completeness.to_json(), "validity": s.validity.to_json(),
                "consistency": s.consistency.to_json(), "uniqueness": s.uniqueness.to_json(),
                "open_candidates": s.candidates.to_json(), "freshness": s.freshness.to_json(),
                "agreement": s.agreement.to_json(), "last_import_at": s.last_import_at,
                "breaches": [
                    {"attribute": b.rule.attribute, "metric": b.rule.metric,
                     "minimum": float(b.rule.minimum), "rate": b.rate,
                     "numerator": b.numerator, "denominator": b.denominator}
                    for b in s.breaches
                ],
            }
            for s in overview.sources
        ])


class QualitySourceAttributesApi(APIView):
    permission_classes = API_PERMISSIONS

    @extend_schema(
        summary="Quality of one source, per attribute",
        description="Completeness, validity, consistency and agreement with the golden value of "
        "each attribute the source maps, with the records carrying each quality flag. "
        "`golden_*` only for callers who see every customer.",
        parameters=[OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH,
                                     description="Source code, e.g. `crm`.")],
        responses={200: AttributeQualitySerializer(many=True), 401: NOT_AUTHENTICATED,
                   404: NOT_FOUND},
    )
    def get(self, request: Request, code: str) -> Response:
        source = source_get_for_user(user=request.user, code=code)
        _snapshot, attributes = source_attribute_quality(user=request.user, source=source)
        return Response([attribute_payload(a, source_code=source.code) for a in attributes])


class TrendPointSerializer(serializers.Serializer):
    day = serializers.DateField()
    rate = serializers.FloatField(allow_null=True)
    numerator = serializers.IntegerField()
    denominator = serializers.IntegerField()


TREND_METRICS = ("completeness", "validity", "consistency", "agreement")


class QualitySourceTrendApi(APIView):
    permission_classes = API_PERMISSIONS

    @extend_schema(
        summary="One source's figure over time",
        description="A metric of the source day by day (the nightly measures kept), summed "
        "over its attributes or of one `attribute`, oldest first.",
        parameters=[
            OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH,
                             description="Source code, e.g. `crm`."),
            OpenApiParameter("metric", OpenApiTypes.STR, enum=TREND_METRICS,
                             description="Default `completeness`."),
            OpenApiParameter("attribute", OpenApiTypes.STR,
                             description="One attribute, e.g. `email`; all of them when absent."),
            OpenApiParameter("days", OpenApiTypes.INT, enum=TREND_DAYS,
                             description=f"Default {DEFAULT_TREND_DAYS}."),
        ],
        responses={200: TrendPointSerializer(many=True), 400: BAD_FILTER,
                   401: NOT_AUTHENTICATED, 404: NOT_FOUND},
    )
    def get(self, request: Request, code: str) -> Response:
        source = source_get_for_user(user=request.user, code=code)
        metric = request.query_params.get("metric") or "completeness"
        days_text = request.query_params.get("days") or str(DEFAULT_TREND_DAYS)
        errors = []
        if metric not in TREND_METRICS:
            errors.append({"metric": f"one of {', '.join(TREND_METRICS)}"})
        if days_text not in {str(d) for d in TREND_DAYS}:
            errors.append({"days": f"one of {', '.join(str(d) for d in TREND_DAYS)}"})
        if errors:
            raise ValidationError({k: [v] for e in errors for k, v in e.items()})
        attribute = request.query_params.get("attribute") or None
        series = quality_trend(scopes={source.code: source_scope(source.code)}, metric=metric,
                               attribute=attribute, days=int(days_text))
        points = series[0].points if series else []
        return Response([{"day": day, **rate.to_json()} for day, rate in points])


class QualityKpisApi(APIView):
    permission_classes = API_PERMISSIONS

    @extend_schema(
        summary="Business KPIs",
        description="Duplicate rate, automatic link rate, backlog and its age, overturn rate: "
        "for the whole base (callers who see every customer) and each department whose queue "
        "the caller may look at; decisions per steward per day over the last 30 days.",
        responses={200: KpisSerializer, 401: NOT_AUTHENTICATED},
    )
    def get(self, request: Request) -> Response:
        return Response(kpis_payload(quality_kpis(user=request.user)))


urlpatterns = [
    path("sources/", QualitySourceListApi.as_view(), name="api-v1-quality-sources"),
    path("sources/<slug:code>/attributes/", QualitySourceAttributesApi.as_view(),
         name="api-v1-quality-source-attributes"),
    path("sources/<slug:code>/trend/", QualitySourceTrendApi.as_view(),
         name="api-v1-quality-source-trend"),
    path("kpis/", QualityKpisApi.as_view(), name="api-v1-quality-kpis"),
]
