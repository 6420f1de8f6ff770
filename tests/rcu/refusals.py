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


ERROR_KEYS = {"detail", "code", "errors"}


def error_body(response, status: int, code: str | None = None) -> dict:
    """The body of a 4xx, checked against the one documented error shape."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    assert isinstance(body["detail"], str) and body["detail"], body
    assert isinstance(body["code"], str) and body["code"], body
    assert isinstance(body["errors"], list), body
    for error in body["errors"]:
        assert set(error) == {"field", "reason"}, body
        assert error["field"] is None or (isinstance(error["field"], str) and error["field"])
        assert isinstance(error["reason"], str) and error["reason"], body
    if status == 400:
        assert body["errors"], "a 400 names what is wrong"
    else:
        assert body["errors"] == [], body
    if code is not None:
        assert body["code"] == code, body
    return body


def refused_fields(response) -> list[str | None]:
    """The fields a 400 names, in order (None for the request as a whole)."""
    return [error["field"] for error in error_body(response, 400, "invalid")["errors"]]
