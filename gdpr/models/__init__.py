from gdpr.models.access_log import AccessChannel, AccessLogEntry
from gdpr.models.consents import (
    Channel,
    Consent,
    ConsentPurpose,
    ConsentStatement,
    Objection,
    StatementOrigin,
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
    "Channel",
    "Consent",
    "ConsentPurpose",
    "ConsentStatement",
    "LegalBasis",
    "LetterKind",
    "Objection",
    "PackKind",
    "ProcessingActivity",
    "RequestAttachment",
    "RequestKind",
    "RequestLetter",
    "RequestNote",
    "RequestState",
    "RequestStep",
    "ScopeItem",
    "StatementOrigin",
    "SubjectRequest",
]
