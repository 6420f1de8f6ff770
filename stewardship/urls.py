"""The stewards' workspace: queues, review, decisions, metrics."""

from __future__ import annotations

from django.urls import path

from stewardship.views import customers, metrics, queue, review

app_name = "stewardship"

urlpatterns = [
    path("queue/", queue.queue, name="queue"),
    path("queue/assign/", queue.assign, name="assign"),
    path("queue/bulk/", queue.bulk, name="bulk"),
    path("my-backlog/", queue.my_backlog, name="my_backlog"),
    path("candidates/<int:pk>/", review.review, name="review"),
    path("candidates/<int:pk>/merge/", review.merge, name="merge"),
    path("candidates/<int:pk>/reject/", review.reject, name="reject"),
    path("candidates/<int:pk>/skip/", review.skip, name="skip"),
    path("candidates/<int:pk>/reopen/", review.reopen, name="reopen"),
    path("customers/merge/", customers.customers_merge_review, name="customers_merge"),
    path("customers/<uuid:public_id>/decisions/", customers.decisions_panel,
         name="customer_decisions"),
    path("customers/<uuid:public_id>/detach/", customers.detach, name="detach"),
    path("customers/<uuid:public_id>/correct/", customers.correct, name="correct"),
    path("decisions/<int:pk>/undo/", customers.undo, name="undo"),
    path("metrics/", metrics.metrics, name="metrics"),
]
