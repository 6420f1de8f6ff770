"""Reads of access packs: a request's pack in force, or why there is none."""

from __future__ import annotations

from django.utils import timezone

from gdpr.models import AccessPack, SubjectRequest


class PackNotBuilt(Exception):
    """The request was not executed yet: nothing to download (409)."""


class PackExpired(Exception):
    """The pack expired and its file is (or is about to be) deleted (410)."""


def request_pack_get(*, request: SubjectRequest) -> AccessPack:
    """The latest pack of a request the caller handles (resolved by
    `subject_request_get_for_user`), if it can still be downloaded."""
    pack = request.packs.order_by("-built_at", "-id").first()
    if pack is None:
        raise PackNotBuilt
    if pack.deleted_at is not None or pack.expires_at <= timezone.now() or not pack.file:
        raise PackExpired
    return pack


def request_packs(*, request: SubjectRequest) -> list[AccessPack]:
    return list(AccessPack.objects.filter(request=request).order_by("-built_at", "-id"))
