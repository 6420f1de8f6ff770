"""Subscriptions to changes (admins), the change feed, and a source's cross-reference."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from rcu.apis.schema import NOT_ALLOWED, NOT_AUTHENTICATED, NOT_FOUND, REFUSED
from rcu.models import ChangeEvent, Subscription
from rcu.selectors.change_files import restricted_left_out
from rcu.selectors.subscriptions import (
    MANAGE_SUBSCRIPTIONS,
    VIEW_SUBSCRIPTIONS,
    SubscriptionStats,
    events_after,
    subscription_stats,
)
from rcu.services.deliveries import cross_references, delivery_body
from rcu.services.snapshots import subscription_snapshot_request
from rcu.services.subscriptions import (
    SubscriptionRefused,
    subscription_create,
    subscription_replay,
    subscription_rotate_secret,
    subscription_test_send,
    subscription_update,
)

FEED_PAGE = 500


class CanManageSubscriptions(BasePermission):
    """Reading subscriptions and the feed: view; anything else: change (admin role)."""

    def has_permission(self, request, view) -> bool:
        perm = VIEW_SUBSCRIPTIONS if request.method in ("GET", "HEAD", "OPTIONS") else MANAGE_SUBSCRIPTIONS
        return request.user.has_perm(perm)


PERMISSIONS = (IsAuthenticated, CanManageSubscriptions)


class SubscriptionSerializer(serializers.ModelSerializer):
    # The API's field "source" shadows Field.source in DRF's stubs (drf-stubs#158).
    source = serializers.CharField(  # type: ignore[assignment]
        source="source.code", default=None, allow_null=True, read_only=True)
    paused = serializers.SerializerMethodField()
    pending = serializers.SerializerMethodField()
    lag_seconds = serializers.SerializerMethodField(
        help_text="Age of the oldest event not delivered yet (null: none waiting).")

    class Meta:
        model = Subscription
        fields = [
            "id", "name", "target_url", "purpose", "event_types", "attributes", "source", "active",
            "paused", "paused_at", "paused_reason", "last_success_at", "created_at", "pending",
            "lag_seconds",
        ]

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_paused(self, subscription: Subscription) -> bool:
        return subscription.paused_at is not None

    def _stats(self, subscription: Subscription):
        # Two fields read the same figures: measured once per subscription.
        cache: dict[int, SubscriptionStats] = self.__dict__.setdefault("_stats_by_pk", {})
        if subscription.pk not in cache:
            cache[subscription.pk] = subscription_stats(subscription)
        return cache[subscription.pk]

    @extend_schema_field(OpenApiTypes.INT)
    def get_pending(self, subscription: Subscription) -> int:
        return self._stats(subscription).pending

    @extend_schema_field({"type": "number", "nullable": True})
    def get_lag_seconds(self, subscription: Subscription) -> float | None:
        return self._stats(subscription).lag_seconds


class SubscriptionCreatedSerializer(SubscriptionSerializer):
    secret = serializers.SerializerMethodField(help_text="The signing secret (whsec_…): shown once.")

    class Meta(SubscriptionSerializer.Meta):
        fields = [*SubscriptionSerializer.Meta.fields, "secret"]

    @extend_schema_field(OpenApiTypes.STR)
    def get_secret(self, subscription: Subscription) -> str:
        return self.context["secret"]


class SubscriptionWriteSerializer(serializers.Serializer):
    name = serializers.SlugField(max_length=50)
    target_url = serializers.URLField(max_length=500)
    purpose = serializers.ChoiceField(choices=Subscription.Purpose.choices)
    event_types = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    attributes = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    # The API's field "source" shadows Field.source in DRF's stubs (drf-stubs#158).
    source = serializers.CharField(  # type: ignore[assignment]
        required=False, allow_null=True, allow_blank=True, default=None)
    from_now = serializers.BooleanField(required=False, default=True, help_text=(
        "Receive changes from now on (default), or every event still kept."))


class SubscriptionPatchSerializer(serializers.Serializer):
    target_url = serializers.URLField(max_length=500, required=False)
    purpose = serializers.ChoiceField(choices=Subscription.Purpose.choices, required=False)
    event_types = serializers.ListField(child=serializers.CharField(), required=False)
    attributes = serializers.ListField(child=serializers.CharField(), required=False)
    active = serializers.BooleanField(required=False)
    paused = serializers.BooleanField(required=False, help_text="false resumes a paused subscriber.")


class ReplaySerializer(serializers.Serializer):
    from_event = serializers.IntegerField(required=False, min_value=1)
    from_time = serializers.DateTimeField(required=False)


def _refused(exc: SubscriptionRefused) -> serializers.ValidationError:
    return serializers.ValidationError({exc.field: [exc.reason]})


ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)


@extend_schema_view(
    get=extend_schema(summary="Subscriptions", responses={
        200: SubscriptionSerializer(many=True), 401: NOT_AUTHENTICATED, 403: NOT_ALLOWED}),
    post=extend_schema(
        summary="Subscribe a system to changes",
        description="The answer holds the signing secret, once.",
        request=SubscriptionWriteSerializer,
        responses={201: SubscriptionCreatedSerializer, 400: REFUSED, 401: NOT_AUTHENTICATED,
                   403: NOT_ALLOWED}),
)
class SubscriptionListApi(APIView):
    permission_classes = PERMISSIONS

    def get(self, request: Request) -> Response:
        subscriptions = Subscription.objects.select_related("source").order_by("name")
        return Response(SubscriptionSerializer(subscriptions, many=True).data)

    def post(self, request: Request) -> Response:
        form = SubscriptionWriteSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            created = subscription_create(acting_user=request.user, **form.validated_data)
        except SubscriptionRefused as exc:
            raise _refused(exc) from exc
        body = SubscriptionCreatedSerializer(created.subscription, context={"secret": created.secret}).data
        return Response(body, status=status.HTTP_201_CREATED)


class SubscriptionDetailApi(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(summary="A subscription", parameters=[ID], responses={
        200: SubscriptionSerializer, 401: NOT_AUTHENTICATED, 403: NOT_ALLOWED, 404: NOT_FOUND})
    def get(self, request: Request, id: int) -> Response:
        return Response(SubscriptionSerializer(get_object_or_404(Subscription, pk=id)).data)

    @extend_schema(summary="Change a subscription", parameters=[ID], request=SubscriptionPatchSerializer,
                   responses={200: SubscriptionSerializer, 400: REFUSED, 401: NOT_AUTHENTICATED,
                              403: NOT_ALLOWED, 404: NOT_FOUND})
    def patch(self, request: Request, id: int) -> Response:
        subscription = get_object_or_404(Subscription, pk=id)
        form = SubscriptionPatchSerializer(data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        try:
            subscription = subscription_update(subscription=subscription, values=form.validated_data,
                                               acting_user=request.user)
        except SubscriptionRefused as exc:
            raise _refused(exc) from exc
        return Response(SubscriptionSerializer(subscription).data)

    @extend_schema(summary="Stop a subscription", description="It stays listed, inactive: its "
                   "deliveries are kept for the record.", parameters=[ID],
                   responses={204: None, 401: NOT_AUTHENTICATED, 403: NOT_ALLOWED, 404: NOT_FOUND})
    def delete(self, request: Request, id: int) -> Response:
        subscription = get_object_or_404(Subscription, pk=id)
        subscription_update(subscription=subscription, values={"active": False}, acting_user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SubscriptionRotateSecretApi(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(summary="Rotate the signing secret", description="The new secret is in the "
                   "answer, once; the previous one also signs for 24 hours.", parameters=[ID],
                   request=None, responses={200: SubscriptionCreatedSerializer, 401: NOT_AUTHENTICATED,
                                            403: NOT_ALLOWED, 404: NOT_FOUND})
    def post(self, request: Request, id: int) -> Response:
        rotated = subscription_rotate_secret(subscription=get_object_or_404(Subscription, pk=id),
                                             acting_user=request.user)
        return Response(SubscriptionCreatedSerializer(rotated.subscription,
                                                      context={"secret": rotated.secret}).data)


class SubscriptionReplayApi(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(summary="Send events again", description="Every event from `from_event` (or "
                   "`from_time`) on is sent again, in order, with the same webhook-id.",
                   parameters=[ID], request=ReplaySerializer,
                   responses={202: OpenApiTypes.OBJECT, 400: REFUSED, 401: NOT_AUTHENTICATED,
                              403: NOT_ALLOWED, 404: NOT_FOUND})
    def post(self, request: Request, id: int) -> Response:
        subscription = get_object_or_404(Subscription, pk=id)
        form = ReplaySerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            again = subscription_replay(subscription=subscription, acting_user=request.user,
                                        **form.validated_data)
        except SubscriptionRefused as exc:
            raise _refused(exc) from exc
        return Response({"pending_again": again}, status=status.HTTP_202_ACCEPTED)


class SubscriptionSnapshotApi(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(summary="Send every customer as it stands",
                   description="For a new subscriber: every active customer it may see is "
                   "sent as a `customer.snapshot` event (projected like any event, carrying "
                   "the customer's latest version), written in the background, then "
                   "delivered in order with the changes that follow. Asking again starts a "
                   "new snapshot.", parameters=[ID], request=None,
                   responses={202: OpenApiTypes.OBJECT, 401: NOT_AUTHENTICATED, 403: NOT_ALLOWED,
                              404: NOT_FOUND})
    def post(self, request: Request, id: int) -> Response:
        subscription = subscription_snapshot_request(
            subscription=get_object_or_404(Subscription, pk=id), acting_user=request.user)
        return Response({"snapshot_requested_at": subscription.snapshot_requested_at,
                         "snapshot_done_at": subscription.snapshot_done_at},
                        status=status.HTTP_202_ACCEPTED)


class SubscriptionTestApi(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(summary="Send a signed sample event", parameters=[ID], request=None,
                   responses={200: OpenApiTypes.OBJECT, 401: NOT_AUTHENTICATED, 403: NOT_ALLOWED,
                              404: NOT_FOUND})
    def post(self, request: Request, id: int) -> Response:
        outcome = subscription_test_send(subscription=get_object_or_404(Subscription, pk=id),
                                         acting_user=request.user)
        return Response({"status_code": outcome.status_code, "error": outcome.error})


class EventFeedApi(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(
        summary="Change feed",
        description="Events after a cursor, oldest first, projected on what the subscription "
        "may receive: each result is the webhook body plus its `id` (its webhook-id). Follow "
        "`next` until it is null, then poll again with the last cursor.",
        parameters=[
            OpenApiParameter("subscription", OpenApiTypes.STR, required=True,
                             description="The subscription whose projection applies."),
            OpenApiParameter("after", OpenApiTypes.INT, description="The last event id read."),
            OpenApiParameter("types", OpenApiTypes.STR, description="Event types, comma-separated."),
        ],
        responses={200: OpenApiTypes.OBJECT, 400: REFUSED, 401: NOT_AUTHENTICATED,
                   403: NOT_ALLOWED, 404: NOT_FOUND},
    )
    def get(self, request: Request) -> Response:
        name = request.query_params.get("subscription", "")
        subscription = get_object_or_404(Subscription, name=name)
        after_text = request.query_params.get("after", "0") or "0"
        if not after_text.isdigit():
            raise serializers.ValidationError({"after": ["an event id (a whole number)"]})
        types = [t for t in request.query_params.get("types", "").split(",") if t]
        unknown = sorted(set(types) - set(ChangeEvent.Type.values))
        if unknown:
            raise serializers.ValidationError({"types": [f"unknown: {', '.join(unknown)}"]})
        page = events_after(subscription=subscription, after=int(after_text), types=types,
                            limit=FEED_PAGE + 1)
        more = len(page) > FEED_PAGE
        page = page[:FEED_PAGE]
        # A restricted customer's events are left out for a marketing subscriber (art. 18);
        # the cursor still moves past them.
        visible = restricted_left_out(subscription, page)
        refs = cross_references(subscription, [e.customer_id for e in visible])
        results = [{"id": e.webhook_id, "cursor": e.pk, **delivery_body(subscription, e, refs)}
                   for e in visible]
        next_url = None
        if more:
            query = request.query_params.copy()
            query["after"] = str(page[-1].pk)
            next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        return Response({"next": next_url, "results": results})
