"""OpenAPI pieces shared by several endpoints."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse

from rcu.apis.serializers import ErrorSerializer, RefusalSerializer

NOT_AUTHENTICATED = OpenApiResponse(ErrorSerializer, description="No valid token or session.")
NOT_FOUND = OpenApiResponse(
    ErrorSerializer, description="No such object, or the caller may not see it."
)
FORBIDDEN = OpenApiResponse(
    ErrorSerializer, description="The caller sees the source but may not send data into it."
)
BAD_FILTER = OpenApiResponse(
    OpenApiTypes.OBJECT, description="A filter value cannot be read: parameter → messages."
)
REFUSED = OpenApiResponse(RefusalSerializer, description="Refused; nothing was stored.")
