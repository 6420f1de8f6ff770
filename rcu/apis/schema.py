"""OpenAPI pieces shared by several endpoints, and the schema class that documents errors.

Every 4xx of the API has one shape (rcu.apis.errors, the `Error` component).
`ApiAutoSchema` adds it for the codes any operation can answer, so a view declares
only its own: 401 (no valid token or session), 403 (a source-bound token outside its
source, or no right), 429 (throttled) everywhere; 404 on every route with a path
parameter and on paginated lists (a page past the end); 400 and 415 on every write.
A view's own declaration for a code wins.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse

from rcu.apis.serializers import ErrorSerializer

NOT_AUTHENTICATED = OpenApiResponse(
    ErrorSerializer, description="No valid token or session (expired, revoked, unknown)."
)
NOT_FOUND = OpenApiResponse(
    ErrorSerializer, description="No such object, or the caller may not see it."
)
ERASED = OpenApiResponse(
    ErrorSerializer, description="The customer was erased (GDPR art. 17): the id will never "
    "answer again.",
)
FORBIDDEN = OpenApiResponse(
    ErrorSerializer, description="The caller sees the source but may not send data into it."
)
NOT_ALLOWED = OpenApiResponse(
    ErrorSerializer,
    description="The caller may not do this: their role does not allow it, or their token "
    "is bound to a source and may only send records and files to it.",
)
BAD_FILTER = OpenApiResponse(
    ErrorSerializer, description="A filter value cannot be read: `errors` names each parameter."
)
REFUSED = OpenApiResponse(
    ErrorSerializer,
    description="Refused; nothing was stored. `errors` names each field at fault (dotted for "
    "nested ones), `null` when the whole body is.",
)
UNSUPPORTED_MEDIA_TYPE = OpenApiResponse(
    ErrorSerializer, description="The body is not of a media type this operation reads."
)
THROTTLED = OpenApiResponse(
    ErrorSerializer, description="Too many requests: wait the seconds `Retry-After` says."
)
PAGE_NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such page.")
CONFLICT = OpenApiResponse(
    ErrorSerializer, description="The state changed under the caller: nothing was written."
)

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})


class ApiAutoSchema(AutoSchema):
    def error_responses(self) -> dict[int, OpenApiResponse]:
        """The 4xx this operation can answer whatever the view does."""
        responses = {401: NOT_AUTHENTICATED, 403: NOT_ALLOWED, 429: THROTTLED}
        if "{" in self.path:
            responses[404] = NOT_FOUND
        elif self.method == "GET" and self._is_list_view() and self._get_paginator():
            responses[404] = PAGE_NOT_FOUND
        if self.method in WRITE_METHODS:
            responses[400] = REFUSED
            responses[415] = UNSUPPORTED_MEDIA_TYPE
        return responses

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        # Here rather than in get_response_serializers(), which @extend_schema replaces.
        responses = super()._get_response_bodies(direction)
        for status, response in sorted(self.error_responses().items()):
            if str(status) not in responses:
                responses[str(status)] = self._get_response_for_code(
                    response, str(status), direction=direction
                )
        return responses
