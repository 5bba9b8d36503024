"""Device tags through the API (PATCH /api/devices/{id}/ replaces the list): kept in order, each once, shown
in the fleet snapshot; a bad tag or too many is a 400 that names what was wrong and changes nothing."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from edgeorch.dashboard import snapshots
from edgeorch.devices import services
from edgeorch.devices.models import MAX_TAGS, Device

pytestmark = pytest.mark.demo


@pytest.fixture
def device(db):
    _, token = services.create_enrollment_token()
    return services.enroll_device(token, name="pi").device


def client_of(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_an_operator_tags_a_device_and_the_fleet_snapshot_shows_them(device, alice):
    url = f"/api/devices/{device.pk}/"
    response = client_of(alice).patch(url, {"tags": ["lab", " floor-2 ", "lab", "v1.2:a_b"]}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["tags"] == ["lab", "floor-2", "v1.2:a_b"]
    assert Device.objects.get(pk=device.pk).tags == ["lab", "floor-2", "v1.2:a_b"]
    (row,) = snapshots.fleet_snapshot()["devices"]
    assert row["tags"] == ["lab", "floor-2", "v1.2:a_b"]
    # A rename leaves the tags alone; an empty list clears them.
    assert client_of(alice).patch(url, {"name": "pi-2"}, format="json").json()["tags"] == row["tags"]
    assert client_of(alice).patch(url, {"tags": []}, format="json").json()["tags"] == []


@pytest.mark.parametrize(
    "tags, words",
    [
        (["ok", "two words"], "'two words' is not a tag"),
        (["-dash-first"], "'-dash-first' is not a tag"),
        (["x" * 33], "is not a tag"),
        ([""], "'' is not a tag"),
        ("lab", "Expected a list of items"),
        ([f"t{i}" for i in range(MAX_TAGS + 1)], f"no more than {MAX_TAGS} elements"),
    ],
)
def test_a_bad_tag_list_is_a_400_that_says_why_and_changes_nothing(device, alice, tags, words):
    device.tags = ["kept"]
    device.save()
    response = client_of(alice).patch(f"/api/devices/{device.pk}/", {"tags": tags}, format="json")
    assert response.status_code == 400
    assert words in str(response.json()["tags"]), response.json()
    assert Device.objects.get(pk=device.pk).tags == ["kept"]


def test_a_viewer_cannot_tag(device, bob):
    response = client_of(bob).patch(f"/api/devices/{device.pk}/", {"tags": ["mine"]}, format="json")
    assert response.status_code == 403
    assert Device.objects.get(pk=device.pk).tags == []
