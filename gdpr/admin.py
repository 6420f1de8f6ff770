from django.contrib import admin

from gdpr.models import AccessLogEntry, ConsentPurpose


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(admin.ModelAdmin):
    """Read-only for everyone: entries are never changed, only the retention purge
    deletes them. The DPO reads the log at /gdpr/access-log/."""

    list_display = ["at", "user", "actor", "purpose", "channel", "customer_public_id", "reference"]
    list_filter = ["channel", "purpose"]
    search_fields = ["customer_public_id", "user__username"]
    date_hierarchy = "at"
    show_full_result_count = False  # no COUNT(*) of the whole log on every page

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ConsentPurpose)
class ConsentPurposeAdmin(admin.ModelAdmin):
    """Admins extend the purposes people are asked to consent to; a purpose is retired
    (`active` off), never deleted: statements name it as their proof."""

    list_display = ["code", "label", "marketing", "active", "position"]
    list_editable = ["position"]
    list_filter = ["active", "marketing"]

    def get_readonly_fields(self, request, obj=None):
        return ["code"] if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        return False
