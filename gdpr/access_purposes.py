"""The one table from a read's purpose code (the screen or endpoint that read) to what
was read and through which channel: the access log stores both, the DPO filters by them.

Callers pass only the purpose (`rcu.hooks.personal_data_read(purpose=…)`); a code not
listed here is read by its prefix (`api_…`: the API, `admin…`: the Django admin,
`export_…`: an export), and is otherwise a screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from gdpr.models.access_log import AccessChannel


@dataclass(frozen=True)
class Purpose:
    code: str
    what: str | Promise
    channel: str


_TABLE = [
    # Screens
    Purpose("customer_search", _("customer search"), AccessChannel.UI),
    Purpose("customer_page", _("customer page"), AccessChannel.UI),
    Purpose("customer_consents", _("customer consents panel"), AccessChannel.UI),
    Purpose("merge_queue", _("merge queue"), AccessChannel.UI),
    Purpose("candidate_review", _("merge candidate review"), AccessChannel.UI),
    Purpose("quality_drill_down", _("records behind a quality figure"), AccessChannel.UI),
    Purpose("survivorship_preview", _("survivorship rules preview"), AccessChannel.UI),
    Purpose("customers_merge", _("customers compared before a merge"), AccessChannel.UI),
    Purpose("import_rejects", _("rejected rows of an import"), AccessChannel.UI),
    Purpose("access_log_person_search", _("person searched in the access log"), AccessChannel.UI),
    # API
    Purpose("api_customer_list", _("API customer search"), AccessChannel.API),
    Purpose("api_customer", _("API customer"), AccessChannel.API),
    Purpose("api_record_list", _("API source records"), AccessChannel.API),
    Purpose("api_record", _("API source record"), AccessChannel.API),
    Purpose("api_match_search", _("API match search"), AccessChannel.API),
    Purpose("api_customer_consents", _("API customer consents"), AccessChannel.API),
    Purpose("api_contactable", _("API contactable list (a page)"), AccessChannel.API),
    Purpose("api_access_log_person_search", _("person searched in the access log"), AccessChannel.API),
    # Django admin
    Purpose("admin", _("Django admin page"), AccessChannel.ADMIN),
    # Exports (files)
    Purpose("export_import_rejects", _("rejected rows file of an import"), AccessChannel.EXPORT),
    Purpose("change_file", _("change file downloaded"), AccessChannel.EXPORT),
    Purpose("export_contactable", _("contactable list downloaded (CSV)"), AccessChannel.EXPORT),
    # Commands
    Purpose("export_links", _("export_links file"), AccessChannel.COMMAND),
    Purpose("export_candidates", _("export_candidates file"), AccessChannel.COMMAND),
    Purpose("export_changes", _("export_changes file"), AccessChannel.COMMAND),
    # Access packs (subject requests)
    Purpose("gdpr_pack_build", _("access pack built"), AccessChannel.PACK),
    Purpose("gdpr_pack_download", _("access pack downloaded"), AccessChannel.PACK),
    Purpose("gdpr_request_search", _("person searched for a subject request"), AccessChannel.PACK),
]
PURPOSES: dict[str, Purpose] = {p.code: p for p in _TABLE}

_PREFIXES = [
    ("api_", AccessChannel.API),
    ("admin", AccessChannel.ADMIN),
    ("export_", AccessChannel.EXPORT),
    ("pack_", AccessChannel.PACK),
]


def purpose_describe(code: str) -> Purpose:
    """What and through which channel a read with this purpose code read."""
    known = PURPOSES.get(code)
    if known is not None:
        return known
    for prefix, channel in _PREFIXES:
        if code.startswith(prefix):
            return Purpose(code, code.replace("_", " "), channel)
    return Purpose(code, code.replace("_", " "), AccessChannel.UI)
