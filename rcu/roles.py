"""Roles are Django groups holding global permissions.

Department membership is a separate group per department (see `Department.group`);
what a department may see and do on its own sources is granted to that group as
django-guardian object permissions.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    STEWARD = "role:steward"
    DPO = "role:dpo"
    ADMIN = "role:admin"
    AUDITOR = "role:auditor"


_READ_EVERYTHING = [
    "rcu.view_department",
    "rcu.view_sourcesystem",
    "rcu.view_fieldmapping",
    "rcu.view_extraidentifier",
    "rcu.view_sourcerecord",
    "rcu.view_customer",
    "rcu.view_importjob",
    "rcu.view_matchsettings",
    "rcu.view_genericvalue",
    "rcu.view_matchrun",
    "rcu.view_pairdecision",
    "rcu.view_survivorshipsettings",
    "rcu.view_attributedefinition",
    "stewardship.view_mergecandidate",
    "stewardship.view_decision",
    "quality.view_qualityrule",
    "gdpr.view_consent",
]

# Global permissions of each role. Stewards get only the right to decide: which
# candidates they see and decide comes from their departments' object permissions.
ROLE_PERMISSIONS: dict[Role, list[str]] = {
    Role.STEWARD: [
        "stewardship.decide_mergecandidate",
        # The custom attributes' definitions (labels, types; no customer's data): a
        # steward's API client reads them to show the values it is given.
        "rcu.view_attributedefinition",
        # Consents of the customers they see: read, and a person's yes or no recorded.
        "gdpr.view_consent",
        "gdpr.add_consentstatement",
    ],
    Role.DPO: [
        *_READ_EVERYTHING,
        # Subject requests: recorded, handled and answered by the DPO alone.
        "gdpr.view_subjectrequest",
        "gdpr.add_subjectrequest",
        "gdpr.change_subjectrequest",
        "gdpr.handle_subjectrequest",
        "gdpr.view_accesspack",
        "gdpr.add_accesspack",
        "gdpr.view_accesslogentry",
        # An erasure is executed once a second person approved it (four eyes).
        "gdpr.approve_erasure",
        # Restriction of processing (art. 18): set and lifted by the DPO or an admin.
        "rcu.restrict_customer",
        # The re-import quarantine: the DPO releases or discards what it holds.
        "gdpr.view_quarantinedrecord",
        "gdpr.change_quarantinedrecord",
        # What the retention purges and deadline reminders did.
        "rcu.view_periodicrun",
        # Consents: recorded like a steward would; objections (art. 21) recorded and lifted;
        # the contactable lists.
        "gdpr.add_consentstatement",
        "gdpr.add_objection",
        "gdpr.change_objection",
        "gdpr.list_contactable",
        # The register of processing activities (art. 30): the DPO keeps it.
        "gdpr.view_processingactivity",
        "gdpr.add_processingactivity",
        "gdpr.change_processingactivity",
    ],
    Role.AUDITOR: list(_READ_EVERYTHING),
    Role.ADMIN: [
        *_READ_EVERYTHING,
        "rcu.add_department",
        "rcu.change_department",
        "rcu.add_sourcesystem",
        "rcu.change_sourcesystem",
        "rcu.ingest_sourcesystem",
        "rcu.add_fieldmapping",
        "rcu.change_fieldmapping",
        "rcu.delete_fieldmapping",
        "rcu.add_extraidentifier",
        "rcu.change_extraidentifier",
        "rcu.add_importjob",
        "rcu.change_importjob",  # cancel a job
        "rcu.change_matchsettings",
        "rcu.add_genericvalue",
        "rcu.change_genericvalue",
        "rcu.delete_genericvalue",
        "rcu.add_matchrun",
        # Propagation: subscriptions and the change feed.
        "rcu.view_subscription",
        "rcu.add_subscription",
        "rcu.change_subscription",
        # Data quality: the rules per source, and measuring now rather than at night.
        "quality.add_qualityrule",
        "quality.change_qualityrule",
        "quality.delete_qualityrule",
        "quality.add_qualitysnapshot",
        # Administration in the app: accounts, their roles and departments, its history.
        "auth.view_user",
        "auth.add_user",
        "auth.change_user",
        "rcu.view_adminevent",
        "rcu.view_periodicrun",
        "rcu.change_survivorshipsettings",
        "rcu.add_attributedefinition",
        "rcu.change_attributedefinition",
        # Account security: API tokens, unlocking sign-ins, resetting a lost device.
        "rcu.view_apitoken",
        "rcu.add_apitoken",
        "rcu.change_apitoken",
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
        "otp_totp.view_totpdevice",
        "otp_totp.delete_totpdevice",
        # The second pair of eyes on an erasure the DPO asks to execute.
        "gdpr.approve_erasure",
        "rcu.restrict_customer",
        # The contactable lists a marketing tool reads (with an admin account's API token),
        # and the consent purposes (Django admin).
        "gdpr.list_contactable",
        "gdpr.view_consentpurpose",
        "gdpr.add_consentpurpose",
        "gdpr.change_consentpurpose",
        # The register of processing activities: admins view and edit it with the DPO.
        "gdpr.view_processingactivity",
        "gdpr.add_processingactivity",
        "gdpr.change_processingactivity",
    ],
}

# Object permissions a department's group holds on each of its sources.
DEPARTMENT_SOURCE_PERMISSIONS = ["view_sourcesystem", "ingest_sourcesystem"]

# Object permission a department's group holds on the department itself.
DEPARTMENT_QUEUE_PERMISSION = "rcu.work_queue_department"
