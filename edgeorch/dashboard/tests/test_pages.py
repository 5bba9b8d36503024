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
    assert "/static/vendor/plotly-basic.min.js" in page  # the server's own copy, never a CDN


def test_an_operator_gets_an_enabled_run_form(client, alice):
    device()
    client.force_login(alice)
    page = client.get("/run/").content.decode()
    assert 'id="run-start">' in page and "read-only" not in page and "csrfmiddlewaretoken" in page


def test_the_run_form_has_a_field_for_every_parameter_of_every_strategy(client, alice):
    """The registry's parameters, each a field of its strategy (run.js posts the chosen strategy's as
    ``params``): qoe-bandit's split offers ans, whose k and edge it takes too."""
    from edgeorch import planning

    pk = device().pk
    client.force_login(alice)
    page = client.get("/run/").content.decode()
    for info in planning.STRATEGIES.values():
        for param in info.params:
            assert f'name="{info.name}.{param.name}" data-param="{param.name}"' in page, (info.name, param)
    split = page.split('name="qoe-bandit.split"', 1)[1].split("</select>", 1)[0]
    assert '<option value="ans">ans</option>' in split and "default (device-edge)" in split
    edge = page.split('name="qoe-bandit.edge"', 1)[1].split("</select>", 1)[0]
    assert f'<option value="{pk}">' in edge  # a device parameter offers the devices
    assert 'name="ans.k" data-param="k" data-type="int" type="number"' in page
    prune = page.split('name="ans.prune" data-param="prune" data-type="bool"', 1)[1].split("</select>", 1)[0]
    assert (
        '<option value="">default (true)</option>' in prune
        and '<option value="false">false</option>' in prune
    )


def test_a_viewer_sees_the_run_form_disabled_and_the_api_refuses_him(client, bob):
    pk = device().pk
    client.force_login(bob)
    page = client.get("/run/").content.decode()
    assert 'id="run-start" disabled' in page and 'id="read-only"' in page
    refused = client.post("/api/sessions/", {"model": 1, "source": str(pk), "rate": 1, "frames": 1})
    assert refused.status_code == 403


def test_the_served_plotly_is_the_basic_bundle_of_the_version_the_python_package_draws_for():
    """Figures are made by the plotly package (its JSON) and drawn by the vendored plotly.js: one version."""
    from django.contrib.staticfiles import finders
    from plotly.offline import get_plotlyjs_version

    head = open(finders.find("vendor/plotly-basic.min.js")).read(200)
    assert "plotly.js (basic - minified)" in head and f"v{get_plotlyjs_version()}\n" in head
