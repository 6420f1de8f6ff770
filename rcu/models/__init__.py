from rcu.models.administration import AdminEvent
from rcu.models.attributes import AttributeDefinition
from rcu.models.audits import ImportAudit
from rcu.models.customers import Customer, CustomerQuerySet
from rcu.models.departments import Department
from rcu.models.erasure import ErasedCustomer, public_id_hash, public_id_pseudonym
from rcu.models.events import ChangeEvent
from rcu.models.imports import ImportJob, ImportRowError
from rcu.models.matching import (
    GenericValue,
    MatchKey,
    MatchPair,
    MatchRun,
    MatchRunPartition,
    MatchSettings,
    PairDecision,
    PendingMatch,
)
from rcu.models.periodic import PeriodicRun
from rcu.models.records import SourceRecord
from rcu.models.sources import ExtraIdentifier, FieldMapping, SourceSystem
from rcu.models.stats import SourceStats
from rcu.models.subscriptions import Delivery, Subscription
from rcu.models.survivorship import SurvivorshipSettings
from rcu.models.tokens import ApiToken, api_token_digest

__all__ = [
    "AdminEvent",
    "ApiToken",
    "AttributeDefinition",
    "ChangeEvent",
    "Customer",
    "CustomerQuerySet",
    "Delivery",
    "Department",
    "ErasedCustomer",
    "ExtraIdentifier",
    "FieldMapping",
    "GenericValue",
    "ImportAudit",
    "ImportJob",
    "ImportRowError",
    "MatchKey",
    "MatchPair",
    "MatchRun",
    "MatchRunPartition",
    "MatchSettings",
    "PairDecision",
    "PendingMatch",
    "PeriodicRun",
    "SourceRecord",
    "SourceStats",
    "SourceSystem",
    "Subscription",
    "SurvivorshipSettings",
    "api_token_digest",
    "public_id_hash",
    "public_id_pseudonym",
]
