"""Access and portability packs: what one subject request's answer holds, built once,
downloadable for a while, then deleted (the row stays as the proof it was built)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gdpr.models.requests import SubjectRequest


class PackKind(models.TextChoices):
    ACCESS = "access", _("access (art. 15)")
    PORTABILITY = "portability", _("portability (art. 20)")


def _pack_path(instance: AccessPack, filename: str) -> str:
    return f"gdpr/packs/{instance.request_id}/{filename}"


class AccessPack(models.Model):
    request = models.ForeignKey(SubjectRequest, on_delete=models.CASCADE, related_name="packs")
    kind = models.CharField(_("kind"), max_length=20, choices=PackKind.choices)
    schema_version = models.PositiveIntegerField(default=1)
    file = models.FileField(_("file"), upload_to=_pack_path, max_length=300, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    built_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    built_at = models.DateTimeField(_("built"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)

    class Meta:
        ordering = ["-built_at", "-id"]
        verbose_name = _("access pack")
        verbose_name_plural = _("access packs")
        indexes = [
            # The nightly purge: packs past their expiry whose file is still there.
            models.Index(fields=["expires_at"], name="gdpr_pack_live_expiry_idx",
                         condition=models.Q(deleted_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} {self.kind} {self.built_at:%Y-%m-%d}"
