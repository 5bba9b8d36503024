"""Probing links, without agents: what a probe asks for and what a probe result stores (peers and the
control plane), called as the consumer would after decoding."""

from __future__ import annotations

import pytest
from edgeorch_wire import protocol as p

from edgeorch.jobs import services
from edgeorch.jobs.models import Measurement
from edgeorch.jobs.services import measurements
from edgeorch.plans.models import LinkSample

pytestmark = pytest.mark.django_db


def answer(measurement, links=(), control_plane=None) -> p.ProbeResult:
    return p.ProbeResult(str(measurement.pk), list(links), control_plane)


def test_the_link_probe_url_is_under_the_public_url_or_left_for_the_agent_to_resolve(settings):
    settings.PUBLIC_URL = ""
    assert measurements.control_plane_url() == "/api/agent/link-probe/"
    settings.PUBLIC_URL = "https://cp.example:8443/"
    assert measurements.control_plane_url() == "https://cp.example:8443/api/agent/link-probe/"


def test_a_probe_result_stores_the_peer_and_the_control_plane_links(devices):
    phone, edge = devices
    m = services.probe_links(phone)
    control = {"rtt_s": 0.004, "bandwidth_bps": 40e6, "error": None}
    to_edge = {"device_id": str(edge.pk), "rtt_s": 0.001, "bandwidth_bps": 900e6, "error": None}
    assert services.record_probe(phone.pk, answer(m, [to_edge], control)).state == "done"
    stored = {
        s.device_to_id: (s.bandwidth_bps, s.rtt_s) for s in LinkSample.objects.filter(device_from=phone)
    }
    assert stored == {edge.pk: (900e6, 0.001), None: (40e6, 0.004)}
    assert Measurement.objects.get(pk=m.pk).result["control_plane"] == control


def test_an_unmeasured_control_plane_link_is_kept_in_the_result_and_stores_no_sample(devices):
    phone, _ = devices
    m = services.probe_links(phone)
    failed = {"rtt_s": None, "bandwidth_bps": None, "error": "ControlProbeError: HTTP 413"}
    services.record_probe(phone.pk, answer(m, [], failed))
    assert not LinkSample.objects.exists()
    assert Measurement.objects.get(pk=m.pk).result == {"links": [], "control_plane": failed}
    older = services.probe_links(phone)
    services.record_probe(phone.pk, answer(older))  # an agent from before the control-plane link
    assert Measurement.objects.get(pk=older.pk).state == "done" and not LinkSample.objects.exists()


def test_a_probe_result_from_another_device_or_for_a_finished_probe_is_ignored(devices):
    phone, edge = devices
    m = services.probe_links(phone)
    control = {"rtt_s": 0.004, "bandwidth_bps": 40e6, "error": None}
    assert services.record_probe(edge.pk, answer(m, [], control)) is None
    assert services.record_probe(phone.pk, answer(m, [], control)) is not None
    assert services.record_probe(phone.pk, answer(m, [], control)) is None  # already done
    assert LinkSample.objects.count() == 1


def test_a_lone_agent_is_still_probed_periodically_for_its_control_plane_link(devices):
    phone, edge = devices
    edge.status = "offline"
    edge.save(update_fields=["status"])
    assert services.probe_fleet() == 1
    assert list(Measurement.objects.values_list("device_id", flat=True)) == [phone.pk]
    phone.channel_name = ""  # online by its rows, but no socket to ask on
    phone.save(update_fields=["channel_name"])
    assert services.probe_fleet() == 0
