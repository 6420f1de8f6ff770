"""The DPO's CSV files (for people: `rcu.csv_safe.people_csv_writer`, formulas neutralised)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from gdpr.models import AccessLogEntry, ProcessingActivity
from rcu.csv_safe import CSV_CONTENT_TYPE, PEOPLE_CSV_BOM, people_csv_writer


def register_columns() -> list[str]:
    return [
        _("name"), _("purpose"), _("legal basis"), _("legal basis, details"),
        _("categories of personal data"), _("categories of people"), _("recipients"),
        _("transfers outside the EU"), _("safeguards for the transfers"), _("retention"),
        _("security measures"), _("sources concerned"), _("controller"), _("joint controller"),
        _("active"), _("updated"),
    ]


def register_row(a: ProcessingActivity) -> list:
    sources = ", ".join(sorted(s.name for s in a.sources.all())) or _("every source")
    return [
        a.name, a.purpose, a.get_legal_basis_display(), a.legal_basis_detail, a.data_categories,
        a.people_categories, a.recipients, a.transfers_outside_eu, a.transfer_safeguards,
        a.retention, a.security_measures, sources, a.controller, a.joint_controller,
        _("yes") if a.active else _("no"), timezone.localtime(a.updated_at).strftime("%Y-%m-%d %H:%M"),
    ]


class _Echo:
    def write(self, value: str) -> str:
        return value


def register_csv_response(activities: Sequence[ProcessingActivity]) -> HttpResponse:
    out = io.StringIO(newline="")
    writer = people_csv_writer(out)
    writer.writerow(register_columns())
    for activity in activities:
        writer.writerow(register_row(activity))
    response = HttpResponse(out.getvalue(), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = (
        f'attachment; filename="register-{timezone.localdate():%Y-%m-%d}.csv"'
    )
    return response


def access_log_columns() -> list[str]:
    return [_("When"), _("Who"), _("Customer"), _("Purpose"), _("What was read"), _("Channel"),
            _("Reference"), _("Subject request")]


def access_log_row(entry: AccessLogEntry) -> list:
    return [
        timezone.localtime(entry.at).strftime("%Y-%m-%d %H:%M:%S"),
        entry.user.get_username() if entry.user else entry.actor,
        str(entry.customer_public_id or ""), entry.purpose, entry.what_label(),
        entry.get_channel_display(), entry.reference, entry.subject_request_id or "",
    ]


def access_log_csv_response(entries: Iterable[AccessLogEntry]) -> StreamingHttpResponse:
    """Streamed: a year of log can be long."""
    writer = people_csv_writer(_Echo(), bom=False)

    def lines():
        yield PEOPLE_CSV_BOM
        yield writer.writerow(access_log_columns())
        for entry in entries:
            yield writer.writerow(access_log_row(entry))

    response = StreamingHttpResponse(lines(), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = (
        f'attachment; filename="access-log-{timezone.localdate():%Y-%m-%d}.csv"'
    )
    return response
