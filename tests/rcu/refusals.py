"""Reading a 400 of the API as {field: [reasons]}, whatever the body's layout.

DRF's default layout is `{"field": ["reason"], "non_field_errors": [...]}`; the
documented one is `{"detail", "code", "errors": [{"field", "reason"}]}`. The whole
body's problems come out under "".
"""

from __future__ import annotations


def refusals(response) -> dict[str, list[str]]:
    body = response.json()
    found: dict[str, list[str]] = {}
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        for error in body["errors"]:
            found.setdefault(error.get("field") or "", []).append(str(error["reason"]))
        return found
    if isinstance(body, dict):
        for field, reasons in body.items():
            key = "" if field in ("non_field_errors", "detail") else field
            found.setdefault(key, []).extend(
                str(r) for r in (reasons if isinstance(reasons, list) else [reasons])
            )
    return found
