"""Forms of the administration pages (the admin role, no superuser needed)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

from rcu import hooks
from rcu.attributes import CANONICAL_ATTRIBUTES
from rcu.models import AttributeDefinition, Department, ExtraIdentifier, FieldMapping, MatchSettings
from rcu.roles import Role
from rcu.selectors.attributes import custom_attributes_active

ROLE_LABELS = {
    "steward": _("Steward"),
    "dpo": _("DPO"),
    "admin": _("Administrator"),
    "auditor": _("Auditor (read only)"),
}
ROLE_HELP = {
    "steward": _("Reviews and decides the duplicates of their departments."),
    "dpo": _("Sees every customer; acts through subject requests."),
    "admin": _("Manages accounts, departments, sources, mappings and matching."),
    "auditor": _("Reads everything, changes nothing."),
}


def role_choices() -> list[tuple[str, StrOrPromise]]:
    return [(role.value.split(":", 1)[1], ROLE_LABELS[role.value.split(":", 1)[1]]) for role in Role]


def department_choices() -> list[tuple[str, str]]:
    return list(Department.objects.order_by("name").values_list("code", "name"))


class _AccountFields(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    roles = forms.MultipleChoiceField(
        label=_("Roles"), required=False, widget=forms.CheckboxSelectMultiple
    )
    departments = forms.MultipleChoiceField(
        label=_("Departments"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("A steward works the duplicate queues of these departments."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["roles"].choices = role_choices()
        self.fields["departments"].choices = department_choices()


class UserCreateForm(_AccountFields):
    username = forms.CharField(
        label=_("Username"), max_length=150,
        help_text=_("Letters, digits and @ . + - _ only; used to sign in."),
    )
    password = forms.CharField(
        label=_("Initial password"), required=False, strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Hand it over safely; the person changes it after signing in. "
                    "Leave empty to set one later."),
    )
    field_order = ["username", "first_name", "last_name", "email", "password", "roles", "departments"]


class UserEditForm(_AccountFields):
    is_active = forms.BooleanField(
        label=_("Active"), required=False,
        help_text=_("A deactivated account cannot sign in nor use its API tokens; its history stays."),
    )
    field_order = ["first_name", "last_name", "email", "is_active", "roles", "departments"]


class PasswordResetForm(forms.Form):
    password = forms.CharField(
        label=_("New password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class DepartmentCreateForm(forms.Form):
    code = forms.SlugField(
        label=_("Code"), max_length=50,
        help_text=_("Lower-case letters, digits and -; used by configuration files and the API. Fixed once created."),
    )
    name = forms.CharField(label=_("Name"), max_length=200, help_text=_("Shown everywhere in the app."))
    review_target_days = forms.IntegerField(
        label=_("Target age of a candidate (days)"), min_value=1, max_value=365, initial=7,
    )


class DepartmentEditForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    review_target_days = forms.IntegerField(
        label=_("Target age of a candidate (days)"), min_value=1, max_value=365,
        help_text=_("Candidates waiting longer are flagged overdue in the queue."),
    )
    members = forms.ModelMultipleChoiceField(
        label=_("Members"), required=False, queryset=get_user_model().objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = get_user_model().objects.filter(is_active=True).order_by("username")
        self.fields["members"].label_from_instance = (
            lambda u: f"{u.get_full_name()} ({u.username})" if u.get_full_name() else u.username
        )


def attribute_choices() -> list[tuple[StrOrPromise, object]]:
    canonical = [(a.name, a.label) for a in CANONICAL_ATTRIBUTES]
    extra = list(ExtraIdentifier.objects.order_by("label").values_list("code", "label"))
    custom = [(a.name, a.label) for a in custom_attributes_active()]
    choices: list[tuple[StrOrPromise, object]] = [("", _("— choose an attribute —")),
                                         (_("Customer attributes"), canonical)]
    if custom:
        choices.append((_("Custom attributes"), custom))
    if extra:
        choices.append((_("Extra identifiers"), extra))
    statements = sorted(hooks.statement_targets().items(), key=lambda item: str(item[1]))
    if statements:
        choices.append((_("Yes/no statements (consents)"), statements))
    return choices


SURVIVORSHIP_DEFAULT_LABELS = {
    "": _("Default order: most trusted source, most recent, most complete"),
    "most_recent": _("Most recent"),
    "most_complete": _("Most complete record"),
    "most_frequent": _("Most frequent across records"),
    "longest": _("Longest"),
    "validated_first": _("Validated value first"),
}


class AttributeDefinitionForm(forms.Form):
    """A custom attribute: name and type are set once, at creation."""

    name = forms.RegexField(
        label=_("Name"), regex=r"^[a-z][a-z0-9_]*$", max_length=50,
        help_text=_("Lower-case letters, digits and _; used in mappings, the API and exports. Never changes."),
    )
    label = forms.CharField(label=_("Label"), max_length=200)
    type = forms.ChoiceField(label=_("Type"), choices=AttributeDefinition.Type.choices,
                             help_text=_("How values are read and normalised. Never changes."))
    comparison = forms.ChoiceField(
        label=_("Comparison"), required=False, choices=AttributeDefinition.Comparison.choices,
        help_text=_("How the matching engine compares two values; it learns its weights at the next run."),
    )
    tolerance = forms.FloatField(label=_("Tolerance"), required=False, min_value=0.0, initial=0.0,
                                 help_text=_("Numbers only: two values this close are a partial agreement."))
    tells_apart = forms.BooleanField(
        label=_("Tells people apart"), required=False,
        help_text=AttributeDefinition._meta.get_field("tells_apart").help_text,
    )
    survivorship = forms.ChoiceField(
        label=_("Survivorship default"), required=False,
        choices=list(SURVIVORSHIP_DEFAULT_LABELS.items()),
        help_text=_("Used when the survivorship rules do not name this attribute."),
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True,
                                help_text=_("An archived attribute keeps its values but is no longer mapped nor compared."))

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            for name in ("name", "type"):
                self.fields[name].disabled = True
                self.fields[name].required = False


class MappingRowForm(forms.Form):
    """One attribute read from one or more source fields, with its transform."""

    attribute = forms.ChoiceField(label=_("Attribute"), required=False)
    source = forms.CharField(
        label=_("Source fields"), required=False, max_length=500,
        help_text=_("Several fields: separate them with a comma; they are joined in this order."),
        widget=forms.TextInput(attrs={"list": "sample-columns", "autocomplete": "off", "spellcheck": "false"}),
    )
    join_with = forms.CharField(label=_("Joined with"), required=False, strip=False, max_length=10,
                                widget=forms.TextInput(attrs={"size": 3}))
    case = forms.ChoiceField(label=_("Case"), choices=FieldMapping.Case.choices, initial="keep")
    trim = forms.BooleanField(label=_("Trim spaces"), required=False, initial=True)
    format = forms.CharField(
        label=_("Date format"), required=False, max_length=100,
        widget=forms.TextInput(attrs={"size": 10, "placeholder": "%d/%m/%Y", "spellcheck": "false"}),
    )
    phone_region = forms.CharField(
        label=_("Phone region"), required=False, max_length=2,
        widget=forms.TextInput(attrs={"size": 2, "placeholder": "FR"}),
    )
    date = forms.CharField(
        label=_("Date field"), required=False, max_length=200,
        help_text=_("A yes/no statement only: the field saying when the person said it."),
        widget=forms.TextInput(attrs={"list": "sample-columns", "autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attribute"].choices = attribute_choices()

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not data.get("attribute") and not (data.get("source") or "").strip()

    def as_field(self) -> dict:
        """The row in the configuration document's shape (what `configure_source` reads)."""
        data = self.cleaned_data
        names = [n.strip() for n in (data.get("source") or "").split(",") if n.strip()]
        field: dict = {"source": names, "attribute": data.get("attribute") or ""}
        if data.get("format"):
            field["format"] = data["format"].strip()
        if data.get("case") and data["case"] != "keep":
            field["case"] = data["case"]
        if not data.get("trim"):
            field["trim"] = False
        join_with = data.get("join_with")
        if join_with not in (None, "", " "):
            field["join_with"] = join_with
        if data.get("phone_region"):
            field["phone_region"] = data["phone_region"].strip().upper()
        if (data.get("date") or "").strip():
            field["date"] = data["date"].strip()
        return field

    @staticmethod
    def initial_from(field: dict) -> dict:
        return {
            "attribute": field.get("attribute", ""),
            "source": ", ".join(field.get("source") or []),
            "join_with": field.get("join_with", " "),
            "case": field.get("case", "keep"),
            "trim": field.get("trim", True),
            "format": field.get("format", ""),
            "phone_region": field.get("phone_region", ""),
            "date": field.get("date", ""),
        }


MappingFormSet = forms.formset_factory(MappingRowForm, extra=2, can_delete=True, max_num=60)


class SourceReadingForm(forms.Form):
    external_id = forms.CharField(label=_("External id field"), max_length=200)
    timestamp_field = forms.CharField(label=_("Business timestamp field"), max_length=200, required=False)
    timestamp_format = forms.CharField(
        label=_("Timestamp format"), max_length=100, required=False,
        help_text=_("strptime format, e.g. %d/%m/%Y %H:%M; empty means ISO 8601."),
    )
    sample = forms.FileField(
        label=_("Sample file"), required=False,
        help_text=_("CSV or JSON Lines: its columns are offered in the rows and its first lines previewed. Nothing is stored."),
    )


class MatchSettingsForm(forms.ModelForm):
    class Meta:
        model = MatchSettings
        fields = ["auto_link", "review", "max_block_size", "model_frozen"]


class MatchRunForm(forms.Form):
    full = forms.BooleanField(
        label=_("Whole base"), required=False,
        help_text=_("Rescore every pair instead of only the records waiting to be matched."),
    )
