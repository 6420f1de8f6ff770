from gdpr.models.access_log import AccessChannel, AccessLogEntry
from gdpr.models.consents import (
    Channel,
    Consent,
    ConsentPurpose,
    ConsentStatement,
    Objection,
    StatementOrigin,
)
from gdpr.models.erasure import (
    AcknowledgementKind,
    ErasureAcknowledgement,
    ErasureApproval,
    ErasureStatus,
    RequestLegalHold,
)
from gdpr.models.packs import AccessPack, PackKind
from gdpr.models.quarantine import ErasedIdentifier, QuarantinedRecord, QuarantineStatus
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
    "AcknowledgementKind",
    "Channel",
    "Consent",
    "ConsentPurpose",
    "ConsentStatement",
    "DeadlineReminder",
    "ErasedIdentifier",
    "ErasureAcknowledgement",
    "ErasureApproval",
    "ErasureStatus",
    "LegalBasis",
    "LetterKind",
    "Objection",
    "PackKind",
    "ProcessingActivity",
    "QuarantineStatus",
    "QuarantinedRecord",
    "RequestAttachment",
    "RequestKind",
    "RequestLegalHold",
    "RequestLetter",
    "RequestNote",
    "RequestState",
    "RequestStep",
    "ScopeItem",
    "StatementOrigin",
    "SubjectRequest",
]
