from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from rcu.models import ImportAudit, SourceSystem
from rcu.selectors.attributes import custom_attributes_current
from rcu.selectors.sources import INGEST, sources_for_user

if TYPE_CHECKING:
    from django.db.models import QuerySet

MAX_PREVIEW_BYTES = 256 * 1024


class CustomerSearchForm(forms.Form):
    """One box that guesses what it was given, plus optional precise criteria."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "autocomplete": "off",
                "spellcheck": "false",
                "placeholder": _("Name, e-mail, phone or postcode"),
                "data-search-input": "",
            }
        ),
    )
    name = forms.CharField(label=_("Name"), required=False, max_length=200)
    email = forms.CharField(
        label=_("E-mail"), required=False, max_length=254,
        widget=forms.TextInput(attrs={"inputmode": "email", "autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Phone"), required=False, max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    postcode = forms.CharField(
        label=_("Postcode"), required=False, max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    attribute = forms.ChoiceField(label=_("Custom attribute"), required=False)
    attribute_value = forms.CharField(label=_("Its value"), required=False, max_length=255)

    ADVANCED = ("name", "email", "phone", "postcode", "attribute_value")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        custom = [(a.name, a.label) for a in custom_attributes_current()]
        if custom:
            self.fields["attribute"].choices = [("", _("— choose —")), *custom]
        else:  # nothing to choose: the two fields are not shown
            del self.fields["attribute"]
            del self.fields["attribute_value"]

    def criteria(self) -> dict[str, str]:
        """The non-blank criteria, ready for `customer_search` (a custom attribute only
        with a value, and the other way round)."""
        if not self.is_valid():
            return {}
        found = {k: v.strip() for k, v in self.cleaned_data.items() if v and v.strip()}
        if not (found.get("attribute") and found.get("attribute_value")):
            found.pop("attribute", None)
            found.pop("attribute_value", None)
        return found

    def has_advanced(self) -> bool:
        return any(self.data.get(name, "").strip() for name in self.ADVANCED)


class ImportUploadForm(forms.Form):
    source = forms.ModelChoiceField(
        label=_("Source"),
        queryset=SourceSystem.objects.none(),
        empty_label=_("Choose a source…"),
        help_text=_("Only the sources you may send records into are listed."),
    )
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV with a header line (comma or semicolon, UTF-8 or Windows-1252) or JSON Lines."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,.jsonl,.ndjson,.json"}),
    )
    snapshot = forms.BooleanField(
        label=_("Full snapshot of the source"),
        required=False,
        help_text=_("The file holds every customer of the source: the source's records absent "
                    "from it are marked deleted at the source (kept and flagged, never dropped)."),
    )
    # What the source field offers: the active sources the person may send records into.
    ingestable_sources: QuerySet[SourceSystem]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.ingestable_sources = sources_for_user(user, perm=INGEST).filter(active=True)
        self.fields["source"].queryset = self.ingestable_sources

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload is not None and upload.size == 0:
            raise forms.ValidationError(_("The file is empty."))
        return upload


class MappingPreviewForm(forms.Form):
    """A few sample rows to run through a source's mappings; nothing is stored."""

    sample = forms.CharField(
        label=_("Sample rows"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 100, "spellcheck": "false"}),
        help_text=_("CSV with its header line, or JSON Lines (one object a line)."),
    )
    file = forms.FileField(
        label=_("or a sample file"),
        required=False,
        help_text=_("Only the first rows are read."),
    )

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        sample = cleaned.get("sample") or ""
        if upload is not None:
            content = upload.read(MAX_PREVIEW_BYTES)
            if len(content) == MAX_PREVIEW_BYTES and b"\n" in content:
                content = content[: content.rindex(b"\n") + 1]  # no half row at the end
            name = upload.name
        elif sample.strip():
            content = sample.encode("utf-8")
            name = "sample.jsonl" if sample.lstrip().startswith("{") else "sample.csv"
        else:
            raise forms.ValidationError(_("Paste a few rows or choose a file."))
        cleaned["content"] = content
        cleaned["name"] = name
        return cleaned


class AuditUploadForm(forms.Form):
    file = forms.FileField(
        label=_("File or sample"),
        help_text=_("CSV with a header line (comma or semicolon, UTF-8 or Windows-1252) or "
                    "JSON Lines. Nothing is loaded: only the report is kept."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,.jsonl,.ndjson,.json"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload is not None and upload.size == 0:
            raise forms.ValidationError(_("The file is empty."))
        return upload


class AuditCompareForm(forms.Form):
    """Two succeeded audits of one source: the earlier and the later sample."""

    a: forms.ModelChoiceField[ImportAudit] = forms.ModelChoiceField(
        label=_("Earlier audit"), queryset=None
    )
    b: forms.ModelChoiceField[ImportAudit] = forms.ModelChoiceField(
        label=_("Later audit"), queryset=None
    )

    def __init__(self, *args, audits, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("a", "b"):
            self.fields[name].queryset = audits
            self.fields[name].label_from_instance = _audit_label


def _audit_label(audit) -> str:
    when = date_format(timezone.localtime(audit.created_at), "SHORT_DATETIME_FORMAT")
    return f"#{audit.pk} {audit.file_name} ({when})"


class RestrictionForm(forms.Form):
    """Restricting a customer's processing (GDPR art. 18), or lifting it: always with a reason."""

    action = forms.ChoiceField(choices=[("restrict", _("Restrict")), ("lift", _("Lift the restriction"))])
    reason = forms.CharField(label=_("Why"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
