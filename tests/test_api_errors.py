"""The API's answers as the schema states them (#17 item 8), one case each of what schemathesis found
(tests/test_api_schema.py): JSON 404s, strict paging, JSON read as typed, NUL refused, OPTIONS 405."""

import io

import pytest

from .support import token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def auth(alice):
    return {"HTTP_AUTHORIZATION": f"Token {token_for(alice)}"}


def test_a_path_under_api_that_names_nothing_is_a_json_404(client, auth):
    for path in ("/api/jobs/null,null/input.npy", "/api/devices/0.5/probe/", "/api/nothing/"):
        response = client.post(path, **auth) if path.endswith("probe/") else client.get(path, **auth)
        assert response.status_code == 404 and response.json() == {"detail": "Not found."}, path
    assert client.get("/api/devices", **auth).headers["Location"] == "/api/devices/"


@pytest.mark.parametrize("query", ["limit=x", "limit=0", "offset=-1", "offset=%C2%B2", "limit=1&limit=2"])
def test_a_page_that_cannot_be_read_is_a_400_naming_the_parameter(client, auth, query):
    response = client.get(f"/api/devices/?{query}", **auth)
    assert response.status_code == 400 and set(response.json()) <= {"limit", "offset"}


def test_huge_pages_are_bounded_not_a_500(client, auth):
    response = client.get(f"/api/devices/?limit={10**30}&offset={10**30}", **auth)
    assert response.status_code == 200 and response.json()["results"] == []


def test_a_json_body_is_read_as_the_schema_types_it(client, auth):
    body = {"name": "x", "max_uses": "3", "profile": 0}
    response = client.post("/api/enrollment-tokens/", body, content_type="application/json", **auth)
    assert response.status_code == 400
    assert set(response.json()) == {"max_uses", "profile"}
    good = {"name": "x", "max_uses": 3, "profile": ""}
    response = client.post("/api/enrollment-tokens/", good, content_type="application/json", **auth)
    assert response.status_code == 201


def test_a_nul_character_in_a_json_body_is_a_400(client, auth):
    body = {"model": "digits\u0000", "source": "camera"}
    response = client.post("/api/plans/", body, content_type="application/json", **auth)
    assert response.status_code == 400 and "NUL" in response.json()["detail"]


def test_a_nul_character_in_a_multipart_field_is_a_400_and_creates_nothing(client, auth):
    """A job upload naming a device with a NUL was a 500 (PostgreSQL refused the query); a model upload's
    name with one would have been too. Both are refused before any query, and nothing is stored."""
    from edgeorch.jobs.models import Job

    for devices in (["camera\u0000"], ["", "x\u0000y"]):
        body = {"model": "digits-cnn", "source": "camera", "devices": devices}
        response = client.post("/api/jobs/upload/", body, **auth)
        assert response.status_code == 400 and "NUL" in response.json()["detail"], response.content
    named = {"name": "a\u0000b", "file": io.BytesIO(b"onnx")}
    response = client.post("/api/models/", named, **auth)
    assert response.status_code == 400 and "NUL" in response.json()["detail"]
    assert not Job.objects.exists()


def test_a_multipart_body_past_djangos_file_limit_is_a_400_in_json_and_stores_nothing(client, auth, settings):
    from edgeorch.catalog.models import MLModel

    files = [io.BytesIO(b"x") for _ in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)]
    response = client.post(
        "/api/models/", {"name": "many", "file": files[0], "data_files": files[1:]}, **auth
    )
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert "number of files exceeded" in response.json()["detail"]
    assert not MLModel.objects.filter(name="many").exists()


def test_options_is_a_405_like_any_method_an_operation_lacks(client, auth):
    assert client.options("/api/devices/", **auth).status_code == 405


def test_a_key_that_is_not_utf8_is_refused_like_any_wrong_key(client):
    response = client.get("/api/devices/", HTTP_AUTHORIZATION="Token \xff\xfe")
    assert response.status_code == 401 and response.json() == {"detail": "Invalid token."}
