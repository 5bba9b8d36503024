"""The what-if page."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_what_if_page_renders_for_alice_with_the_chart_and_the_slider(
    client, alice, convnet, phone, edge, offsite_urls
):
    client.force_login(alice)
    response = client.get("/plans/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="whatif-chart"' in page and 'id="bandwidth-slider"' in page and 'type="range"' in page
    assert "convnet v1" in page and "phone" in page and "edge1" in page
    assert "/static/vendor/plotly-basic.min.js" in page and "plans/whatif.js" in page
    assert offsite_urls(page) == []
    assert 'data-sweep-url="/api/plans/sweep/"' in page


def test_the_what_if_page_explains_what_it_needs_when_the_catalog_is_empty(client, bob):
    client.force_login(bob)
    assert "needs a model" in client.get("/plans/").content.decode()


def test_the_what_if_page_asks_anonymous_visitors_to_log_in(client):
    response = client.get("/plans/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_page_script_is_served(client):
    from django.contrib.staticfiles import finders

    assert finders.find("plans/whatif.js")
