"""What is left of an erased person: a keyed hash of each public id that resolved to
them, so that the id answers "erased" (410 Gone) instead of "never existed"."""

from __future__ import annotations

import hashlib
import hmac
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def public_id_hash(public_id: uuid.UUID | str) -> str:
    """HMAC-SHA256 of a public id under RCU_ERASURE_HASH_KEY (hex)."""
    return hmac.new(settings.RCU_ERASURE_HASH_KEY.encode(), str(public_id).lower().encode(),
                    hashlib.sha256).hexdigest()


def public_id_pseudonym(public_id: uuid.UUID | str) -> uuid.UUID:
    """The keyed hash as a UUID, for columns that hold a public id (an access log entry
    keeps saying "an erased person" without saying who)."""
    return uuid.UUID(bytes=bytes.fromhex(public_id_hash(public_id))[:16], version=4)


class ErasedCustomer(models.Model):
    """One public id of an erased customer (its retired ids each have their own row).

    `public_id_hash` is HMAC-SHA256 of the public id under `RCU_ERASURE_HASH_KEY`
    (`rcu.services.erasure.public_id_hash`): the database alone cannot tell which id it
    was, but the id, when asked for again, is recognised.
    """

    public_id_hash = models.CharField(_("public id (keyed hash)"), max_length=64, unique=True)
    erased_at = models.DateTimeField(_("erased"))

    class Meta:
        verbose_name = _("erased customer")
        verbose_name_plural = _("erased customers")

    def __str__(self) -> str:
        return self.public_id_hash[:12]

    @classmethod
    def holds(cls, public_id: uuid.UUID | str) -> bool:
        """Was a customer of this public id erased? (410 Gone, not 404.)"""
        return cls.objects.filter(public_id_hash=public_id_hash(public_id)).exists()
