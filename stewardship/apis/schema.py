"""OpenAPI pieces shared by the stewardship endpoints."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

from rcu.apis.schema import NOT_AUTHENTICATED, NOT_FOUND
from rcu.apis.serializers import ErrorSerializer
from stewardship.apis.filters import ANY_STATUS, ASSIGNEE_KEYWORDS
from stewardship.apis.serializers import DecisionSerializer
from stewardship.models import MergeCandidate
from stewardship.selectors.queue import DEFAULT_SORT, SCORE_BANDS, SORTS

CANDIDATE_ID = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Candidate id."
)
NOT_DECIDER = OpenApiResponse(
    ErrorSerializer,
    description="The caller sees it but may not decide it: only stewards of one of its "
    "departments do (not the DPO, the auditor or an administrator without the steward role).",
)
CONFLICT = OpenApiResponse(
    ErrorSerializer,
    description="The state changed under the caller (already decided, reviewed by another "
    "steward, changed since `expected_updated_at`, customers merged meanwhile, a later "
    "decision in the way): nothing was written; `detail` says what happened.",
)
DECISION_REFUSED = OpenApiResponse(
    ErrorSerializer,
    description="The request is wrong; nothing was written. Each of `errors` names a field "
    "at fault (dotted for nested ones, e.g. `choices.email`), `null` when the whole body is.",
)

# What every decision endpoint answers.
DECISION_RESPONSES = {
    200: DecisionSerializer,
    400: DECISION_REFUSED,
    401: NOT_AUTHENTICATED,
    403: NOT_DECIDER,
    404: NOT_FOUND,
    409: CONFLICT,
}

CANDIDATE_FILTERS = [
    OpenApiParameter(
        "status", OpenApiTypes.STR, enum=[*MergeCandidate.Status.values, ANY_STATUS],
        description=f"Default `open`; `{ANY_STATUS}` for every status.",
    ),
    OpenApiParameter("department", OpenApiTypes.STR, description="Department code, e.g. `marketing`."),
    OpenApiParameter(
        "band", OpenApiTypes.STR, enum=list(SCORE_BANDS),
        description="Probability band, as in the review queue: `high` at least 0.9, "
        "`medium` 0.7 up to 0.9, `low` below 0.7.",
    ),
    OpenApiParameter(
        "source", OpenApiTypes.STR, description="Candidates with a record in this source (code)."
    ),
    OpenApiParameter("min_score", OpenApiTypes.FLOAT, description="Probability at least this."),
    OpenApiParameter("max_score", OpenApiTypes.FLOAT, description="Probability at most this."),
    OpenApiParameter(
        "assignee", OpenApiTypes.STR,
        description=f"Current lease: {', '.join(f'`{k}`' for k in ASSIGNEE_KEYWORDS)} "
        "(held by the caller, held by nobody, held by someone) or a username.",
    ),
    OpenApiParameter(
        "sort", OpenApiTypes.STR, enum=list(SORTS),
        description=f"`score` best first (default `{DEFAULT_SORT}`), `-score` lowest first, "
        "`age` oldest first, `-age` newest first.",
    ),
]

EXPLANATION_EXAMPLE = {
    "probability": 0.8123, "total_weight": 2.11, "prior_weight": -13.29, "link_guard": None,
    "contributions": [
        {"comparison": "first_name", "level": "exact", "weight": 4.2},
        {"comparison": "last_name", "level": "jaro_winkler_high", "weight": 3.6},
        {"comparison": "email", "level": "exact", "weight": 9.81},
        {"comparison": "birth_date", "level": None, "weight": 0.0},
        {"comparison": "address", "level": "different", "weight": -2.21},
    ],
}
CANDIDATE_EXAMPLE = OpenApiExample(
    "Open candidate",
    response_only=True,
    value={
        "id": 42, "status": "open", "probability": 0.8123, "weight": 2.11,
        "levels": "e3,l2,f3,a0", "explanation": EXPLANATION_EXAMPLE,
        "sentence": "Same e-mail, same first name, close last name, different addresses",
        "departments": ["marketing", "service-client"],
        "record_a": {"id": 7, "source": "crm", "external_id": "CRM-1042",
                     "customer_id": "0b6f1c1e-5d0c-4a53-9b43-4c1f2f0d8a11"},
        "record_b": {"id": 19, "source": "service_client", "external_id": None,
                     "customer_id": "5e0e2c53-2a7d-4a49-8d7e-0a5a8a1d9f02"},
        "leased_by": None, "leased_until": None, "decided_by": None, "decided_at": None,
        "can_decide": True,
        "created_at": "2024-05-03T10:00:00.123456+02:00",
        "updated_at": "2024-05-03T10:00:00.123456+02:00",
    },
)
MERGE_DECISION_EXAMPLE = OpenApiExample(
    "Merged",
    response_only=True,
    status_codes=["200"],
    value={
        "id": 311, "kind": "merge", "candidate": 42,
        "survivor": "0b6f1c1e-5d0c-4a53-9b43-4c1f2f0d8a11",
        "customers": ["0b6f1c1e-5d0c-4a53-9b43-4c1f2f0d8a11",
                      "5e0e2c53-2a7d-4a49-8d7e-0a5a8a1d9f02"],
        "choices": {"email": 19}, "reason": "same person, confirmed by phone",
        "decided_by": "steward_marketing", "decided_at": "2024-05-03T10:05:12.000000+02:00",
        "undoes": None,
    },
)
ALREADY_DECIDED_EXAMPLE = OpenApiExample(
    "Already decided",
    response_only=True,
    status_codes=["409"],
    value={"detail": "Already decided: Merged by steward_sc.", "code": "conflict", "errors": []},
)
