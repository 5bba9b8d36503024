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


def test_the_fleet_list_searches_filters_and_orders_and_refuses_what_it_does_not_know(db, alice):
    made = {}
    for name, tags, role in (
        ("cam-a", ["lab"], "end"),
        ("cam-b", ["lab", "north"], "end"),
        ("edge", [], "edge"),
    ):
        _, token = services.create_enrollment_token()
        device = services.enroll_device(token, name=name).device
        device.tags, device.role = tags, role
        device.save()
        made[name] = device
    Device.objects.filter(pk=made["cam-b"].pk).update(status="online")
    client = client_of(alice)

    def names(query: str) -> list[str]:
        response = client.get(f"/api/devices/?{query}")
        assert response.status_code == 200, response.json()
        return [d["name"] for d in response.json()["results"]]

    assert names("") == ["cam-a", "cam-b", "edge"]
    assert names("search=CAM") == ["cam-a", "cam-b"]
    assert names("search=north") == ["cam-b"]  # a tag matches
    assert names("tag=lab") == ["cam-a", "cam-b"] and names("tag=la") == []  # a whole tag
    assert names("status=online") == ["cam-b"]
    assert names("role=edge") == ["edge"]
    assert names("ordering=-name") == ["edge", "cam-b", "cam-a"]
    assert names("ordering=status&tag=lab") == ["cam-b", "cam-a"]  # "online" before "pending"
    for query, field, words in (
        ("status=asleep", "status", '"asleep" is not a status: one of pending, online, offline, revoked'),
        ("role=cloud", "role", '"cloud" is not a role: one of end, edge'),
        ("ordering=hostname", "ordering", '"hostname" is not an ordering'),
        ("tag=" + "x" * 33, "tag", "no more than 32 characters"),
    ):
        response = client.get(f"/api/devices/?{query}")
        assert response.status_code == 400 and words in response.json()[field][0], response.json()
