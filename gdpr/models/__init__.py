from gdpr.models.access_log import AccessLogEntry
from gdpr.models.packs import AccessPack, PackKind
from gdpr.models.requests import (
    LetterKind,
    RequestAttachment,
    RequestKind,
    RequestLetter,
    RequestNote,
    RequestState,
    RequestStep,
    ScopeItem,
    SubjectRequest,
)

__all__ = [
    "AccessLogEntry",
    "AccessPack",
    "LetterKind",
    "PackKind",
    "RequestAttachment",
    "RequestKind",
    "RequestLetter",
    "RequestNote",
    "RequestState",
    "RequestStep",
    "ScopeItem",
    "SubjectRequest",
]
