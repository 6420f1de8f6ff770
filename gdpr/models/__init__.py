from gdpr.models.access_log import AccessChannel, AccessLogEntry
from gdpr.models.erasure import (
    AcknowledgementKind,
    ErasureAcknowledgement,
    ErasureApproval,
    ErasureStatus,
    RequestLegalHold,
)
from gdpr.models.packs import AccessPack, PackKind
from gdpr.models.register import LegalBasis, ProcessingActivity
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
    "AccessChannel",
    "AccessLogEntry",
    "AccessPack",
    "AcknowledgementKind",
    "ErasureAcknowledgement",
    "ErasureApproval",
    "ErasureStatus",
    "LegalBasis",
    "LetterKind",
    "PackKind",
    "ProcessingActivity",
    "RequestAttachment",
    "RequestKind",
    "RequestLegalHold",
    "RequestLetter",
    "RequestNote",
    "RequestState",
    "RequestStep",
    "ScopeItem",
    "SubjectRequest",
]
