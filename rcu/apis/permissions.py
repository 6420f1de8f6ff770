"""Who may call the API at all.

Authentication is the only gate here. What a person may see or do on a given
source, record, customer or import job is decided by the access selectors
(`sources_for_user`, `source_get_for_user`, `customers_visible_to`…), which raise
Http404 or PermissionDenied; DRF turns those into 404 and 403.
"""

from __future__ import annotations

from rest_framework.permissions import IsAuthenticated

# Set explicitly on every API view (and on the schema and docs pages) so that a
# change to the global DRF default can never open the API to anonymous callers.
API_PERMISSIONS = (IsAuthenticated,)
