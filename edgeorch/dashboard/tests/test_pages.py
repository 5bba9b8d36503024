"""The dashboard's pages on the server side: access, read-only viewers, the run form."""

import pytest

from edgeorch.devices import services

pytestmark = [pytest.mark.django_db, pytest.mark.demo]


def device():
    _, plain = services.create_enrollment_token()
    return services.enroll_device(plain, name="pi-shelf").device


def test_an_anonymous_visitor_is_sent_to_log_in_from_every_dashboard_page(client):
    pk = device().pk
    for url in ["/run/", f"/devices/{pk}/", "/live/sessions/00000000-0000-0000-0000-000000000000/"]:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/"), url


def test_the_device_page_links_its_snapshot_and_live_topic(client, bob):
    pk = device().pk
    client.force_login(bob)
    page = client.get(f"/devices/{pk}/").content.decode()
    assert f"/api/dashboard/devices/{pk}/" in page and f'data-device="{pk}"' in page and "pi-shelf" in page
    assert "/static/plotly/plotly.min.js" in page  # the server's own copy, never a CDN


def test_an_operator_gets_an_enabled_run_form(client, alice):
    device()
    client.force_login(alice)
    page = client.get("/run/").content.decode()
    assert 'id="run-start">' in page and "read-only" not in page and "csrfmiddlewaretoken" in page


def test_a_viewer_sees_the_run_form_disabled_and_the_api_refuses_him(client, bob):
    pk = device().pk
    client.force_login(bob)
    page = client.get("/run/").content.decode()
    assert 'id="run-start" disabled' in page and 'id="read-only"' in page
    refused = client.post("/api/sessions/", {"model": 1, "source": str(pk), "rate": 1, "frames": 1})
    assert refused.status_code == 403
