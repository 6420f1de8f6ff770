"""FilterSets of the API's lists. They run inside the selectors of `rcu.apis.selectors`."""

from __future__ import annotations

import json
from typing import Any

import django_filters
from django.db import connection
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast
from django.db.models.lookups import Contains

from rcu.models import Customer, ImportJob, SourceRecord
from rcu.selectors.customers import customer_resolve, customer_search, customers_visible_to

# Criteria `customer_search` normalises and combines itself (`q` guesses which one it is).
CUSTOMER_SEARCH_CRITERIA = ("q", "name", "email", "phone", "postcode", "attribute", "attribute_value")


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Name, e-mail, phone or postcode")
    name = django_filters.CharFilter(label="Name (first and/or last, prefix)")
    email = django_filters.CharFilter(label="E-mail")
    phone = django_filters.CharFilter(label="Phone or mobile")
    postcode = django_filters.CharFilter(label="Postcode")
    attribute = django_filters.CharFilter(label="A custom attribute's name (with attribute_value)")
    attribute_value = django_filters.CharFilter(
        label="The custom attribute's value (its golden value, or a record's, as compared)"
    )
    updated_since = django_filters.IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte",
        label="Golden record changed at or after (customers merged away since included)",
    )

    class Meta:
        model = Customer
        fields: list[str] = []

    def __init__(self, data: Any = None, *, user, **kwargs: Any) -> None:
        self.user = user
        # A system catching up on changes must learn of merges: the retired ids too.
        retired = bool(data and data.get("updated_since"))
        super().__init__(data, queryset=customers_visible_to(user, retired=retired), **kwargs)

    def filter_queryset(self, queryset: QuerySet[Customer]) -> QuerySet[Customer]:
        # `customer_search` starts from the same visible customers and narrows them
        # with the normalised criteria; the remaining filters apply on top.
        criteria = {name: self.form.cleaned_data.get(name) or "" for name in CUSTOMER_SEARCH_CRITERIA}
        if any(criteria.values()):
            queryset = customer_search(user=self.user, **criteria)
        for name, value in self.form.cleaned_data.items():
            if name not in CUSTOMER_SEARCH_CRITERIA:
                queryset = self.filters[name].filter(queryset, value)
        return queryset


def _records_with_flag(records: QuerySet[SourceRecord], flag: str) -> QuerySet[SourceRecord]:
    if connection.features.supports_json_field_contains:
        return records.filter(quality_flags__contains=[flag])
    # SQLite keeps the list as JSON text: match the quoted element, so that
    # "email" does not also match "email.invalid".
    return records.filter(Contains(Cast("quality_flags", TextField()), json.dumps(flag)))


class RecordFilter(django_filters.FilterSet):
    source = django_filters.CharFilter(field_name="source__code", label="Source code")
    external_id = django_filters.CharFilter(field_name="external_id", label="External id")
    customer = django_filters.UUIDFilter(method="filter_customer", label="Customer public id")
    flag = django_filters.CharFilter(method="filter_flag", label="Quality flag")

    class Meta:
        model = SourceRecord
        fields: list[str] = []

    def filter_customer(self, queryset: QuerySet[SourceRecord], name: str, value) -> QuerySet[SourceRecord]:
        # A retired id still designates its survivor, as everywhere else.
        customer = customer_resolve(value)
        return queryset.filter(customer=customer) if customer else queryset.none()

    def filter_flag(self, queryset: QuerySet[SourceRecord], name: str, value: str) -> QuerySet[SourceRecord]:
        return _records_with_flag(queryset, value.strip())


class ImportJobFilter(django_filters.FilterSet):
    source = django_filters.CharFilter(field_name="source__code", label="Source code")
    status = django_filters.ChoiceFilter(choices=ImportJob.Status.choices, label="Status")

    class Meta:
        model = ImportJob
        fields: list[str] = []
