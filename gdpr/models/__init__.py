from gdpr.models.access_log import AccessChannel, AccessLogEntry
from gdpr.models.packs import AccessPack, PackKind
from gdpr.models.register import LegalBasis, ProcessingActivity
from gdpr.models.reminders import DeadlineReminder
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
    "DeadlineReminder",
    "LegalBasis",
    "LetterKind",
    "PackKind",
    "ProcessingActivity",
    "RequestAttachment",
    "RequestKind",
    "RequestLetter",
    "RequestNote",
    "RequestState",
    "RequestStep",
    "ScopeItem",
    "SubjectRequest",
]
