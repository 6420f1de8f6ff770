"""The subscribers' pages: who is subscribed, how late, what failed; replay and test."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rcu.csv_safe import CSV_CONTENT_TYPE, machine_csv_writer
from rcu.forms_propagation import ChangeFileForm, EventSearchForm, ReplayForm, SubscriptionForm
from rcu.models import Subscription
from rcu.selectors.change_files import (
    CsvLayout,
    SinceRefused,
    change_file_bodies,
    change_file_events,
    everything,
    jsonl_line,
)
from rcu.selectors.subscriptions import (
    MANAGE_SUBSCRIPTIONS,
    VIEW_SUBSCRIPTIONS,
    events_of_customer,
    subscriptions_overview,
)
from rcu.services.snapshots import subscription_snapshot_request
from rcu.services.subscriptions import (
    SubscriptionRefused,
    subscription_create,
    subscription_replay,
    subscription_test_send,
    subscription_update,
)


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


@login_required
@require_http_methods(["GET", "POST"])
def subscription_list(request: HttpRequest) -> HttpResponse:
    _require(request, VIEW_SUBSCRIPTIONS)
    form = SubscriptionForm(request.POST or None)
    secret = None
    if request.method == "POST":
        _require(request, MANAGE_SUBSCRIPTIONS)
        if form.is_valid():
            data = form.cleaned_data
            try:
                created = subscription_create(
                    name=data["name"], target_url=data["target_url"], purpose=data["purpose"],
                    event_types=data["event_types"], attributes=data["attributes"],
                    source=data["source"], acting_user=request.user,
                )
            except SubscriptionRefused as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.reason)
            else:
                secret = created.secret  # shown on this page, once
                form = SubscriptionForm()
    return render(request, "rcu/administration/subscriptions.html", {
        "rows": subscriptions_overview(), "form": form, "secret": secret,
        "replay_form": ReplayForm(),
    })


@login_required
@require_POST
def subscription_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    _require(request, MANAGE_SUBSCRIPTIONS)
    subscription = get_object_or_404(Subscription, pk=pk)
    if action in ("pause", "resume"):
        subscription_update(subscription=subscription, values={"paused": action == "pause"},
                            acting_user=request.user)
        messages.success(request, _("Paused.") if action == "pause" else _("Resumed."))
    elif action == "replay":
        form = ReplayForm(request.POST)
        if form.is_valid():
            again = subscription_replay(subscription=subscription, acting_user=request.user,
                                        from_event=form.cleaned_data["from_event"])
            messages.success(request, _("%(count)d events will be sent again.") % {"count": again})
        else:
            messages.error(request, _("Give the id of the first event to send again."))
    elif action == "snapshot":
        subscription_snapshot_request(subscription=subscription, acting_user=request.user)
        messages.success(request, _("A snapshot of every customer is on its way."))
    elif action == "test":
        outcome = subscription_test_send(subscription=subscription, acting_user=request.user)
        if outcome.error:
            messages.error(request, _("The test event failed: %(error)s") % {"error": outcome.error})
        else:
            messages.success(request, _("The test event was acknowledged (HTTP %(code)s).")
                             % {"code": outcome.status_code})
    else:
        raise PermissionDenied
    return redirect("admin_subscriptions")


@login_required
@require_GET
def event_search(request: HttpRequest) -> HttpResponse:
    _require(request, VIEW_SUBSCRIPTIONS)
    form = EventSearchForm(request.GET or None)
    events = []
    if form.is_valid() and form.cleaned_data["customer"]:
        events = events_of_customer(form.cleaned_data["customer"])
    return render(request, "rcu/administration/events.html", {
        "form": form, "events": events, "file_form": ChangeFileForm(initial={"since": "0"}),
    })


class _Echo:
    """A pseudo-buffer: the CSV writer hands each line back to the streaming response."""

    def write(self, text: str) -> str:
        return text




@login_required
@require_GET
def change_file_download(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The change file `export_changes` writes, downloaded by an admin (streamed; each
    customer in it is a read of personal data, in the access log)."""
    _require(request, VIEW_SUBSCRIPTIONS)
    form = ChangeFileForm(request.GET)
    if form.is_valid():
        subscription = form.cleaned_data["subscriber"] or everything()
        try:
            events = change_file_events(subscription=subscription, since=form.cleaned_data["since"])
        except SinceRefused as exc:
            form.add_error("since", str(exc))
    if not form.is_valid():
        return render(request, "rcu/administration/events.html", {
            "form": EventSearchForm(), "events": [], "file_form": form}, status=400)

    bodies = change_file_bodies(subscription=subscription, events=events, read_by=request.user,
                                purpose="change_file")
    name = f"changes-{subscription.name}-after-{form.cleaned_data['since'] or '0'}"
    if form.cleaned_data["format"] == "jsonl":
        response = StreamingHttpResponse((jsonl_line(b) for b in bodies),
                                         content_type="application/x-ndjson; charset=utf-8")
        name += ".jsonl"
    else:
        layout = CsvLayout.of(subscription)
        writer = machine_csv_writer(_Echo())

        def lines():
            yield writer.writerow(layout.columns)
            for body in bodies:
                yield writer.writerow(layout.row(body))

        response = StreamingHttpResponse(lines(), content_type=CSV_CONTENT_TYPE)
        name += ".csv"
    safe_name = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    response["Content-Disposition"] = f'attachment; filename="{safe_name}"'
    return response
