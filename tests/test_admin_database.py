"""The admin pages of rejections read the analytics database even when another router answers first."""
from __future__ import annotations

import pytest
from django.test import override_settings

from openedx_analytics.models import RejectedEventSample, RejectionCount

pytestmark = pytest.mark.django_db(databases=["default", "analytics"])

# Only the LMS's read-replica router: it answers "default" for every model, ours is never asked.
ONLY_READ_REPLICA = ["edx_django_utils.db.read_replica.ReadReplicaRouter"]


@pytest.fixture
def operator(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "pw"))
    return client


def test_rejection_pages_list_and_open_rows_of_the_analytics_database(operator):
    RejectionCount.objects.using("analytics").create(source="browser", reason="bad_time_xyz", count=3)
    sample = RejectedEventSample.objects.using("analytics").create(
        source="browser", reason="bad_time_xyz", name="play_video", detail="time is not a date")
    with override_settings(DATABASE_ROUTERS=ONLY_READ_REPLICA):
        counts = operator.get("/admin/openedx_analytics/rejectioncount/")
        samples = operator.get("/admin/openedx_analytics/rejectedeventsample/?reason=bad_time_xyz")
        one = operator.get(f"/admin/openedx_analytics/rejectedeventsample/{sample.pk}/change/")
    assert counts.status_code == 200 and "bad_time_xyz" in counts.content.decode()
    assert samples.status_code == 200 and "play_video" in samples.content.decode()
    assert one.status_code == 200 and "time is not a date" in one.content.decode()


def test_operators_delete_samples_where_they_live(operator):
    sample = RejectedEventSample.objects.using("analytics").create(source="browser", reason="r", name="n")
    with override_settings(DATABASE_ROUTERS=ONLY_READ_REPLICA):
        response = operator.post("/admin/openedx_analytics/rejectedeventsample/",
                                 {"action": "delete_selected", "_selected_action": [sample.pk], "post": "yes"})
    assert response.status_code == 302
    assert not RejectedEventSample.objects.using("analytics").filter(pk=sample.pk).exists()
