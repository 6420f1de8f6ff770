"""Stewardship over the API: /api/v1/candidates/ and customer unmerge."""

from __future__ import annotations

urlpatterns: list = []
