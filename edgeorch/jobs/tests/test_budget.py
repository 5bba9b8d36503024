"""Budgets (docs/qos.md, "Budgets"): the coordinator's rule for which edges each session's source may use and
its share of each — shares of an edge sum to at most 1, weighted by priority class, and a saturated edge's
budget moves to where its sessions have somewhere else to go — and the pass that sends each changed budget to
the session's source, records it and shows it in the session's API."""

from __future__ import annotations

import pytest
from django.utils import timezone
from edgeorch_wire import protocol as p
from edgeorch_wire import qos
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeorch.jobs.choices import RunState
from edgeorch.jobs.models import BudgetChange, Session
from edgeorch.jobs.services import budget, coordinator
from edgeorch.jobs.services.budget import User, shares, water_fill

from .test_coordinator import offloaded, queues
from .test_qos import token_header

EDGES = ("e1", "e2", "e3")

users_strategy = st.lists(
    st.builds(
        lambda i, priority, rate, compute, local: User(f"s{i}", priority, rate, compute, local),
        st.integers(0, 10**6),
        st.integers(0, qos.MAX_PRIORITY),
        st.floats(0.1, 100.0),
        st.dictionaries(st.sampled_from(EDGES), st.one_of(st.just(0.0), st.floats(1e-4, 0.5)), min_size=1),
        st.booleans(),
    ),
    min_size=1,
    max_size=12,
    unique_by=lambda u: u.session_id,
)


@settings(max_examples=200, deadline=None)
@given(
    users_strategy, st.sets(st.sampled_from(EDGES)), st.dictionaries(st.sampled_from(EDGES), st.floats(1, 8))
)
def test_the_shares_of_every_edge_sum_to_at_most_one_and_meet_every_demand_they_can(users, full, capacity):
    budgets = shares(users, full, capacity)
    asked = budget.demands(users, full, capacity)
    for edge in EDGES:
        on = {
            u.session_id: budgets[u.session_id][edge]["share"] for u in users if edge in budgets[u.session_id]
        }
        assert sum(on.values()) <= 1.0 + 1e-9 and all(0 <= v <= 1 for v in on.values())
        if on and sum(asked[edge].values()) <= 1.0:  # room for every demand: each gets at least its own
            assert all(on[k] >= asked[edge][k] - 0.0011 for k in on)  # (shares are rounded down to 0.001)
    for user in users:
        mine = set(budgets[user.session_id])
        assert mine <= set(user.compute_s)  # only edges its routes use
        # a saturated edge is kept only by a session with nowhere else to go
        if mine & full:
            assert not user.local and set(user.compute_s) <= full
        for edge, granted in budgets[user.session_id].items():
            compute = user.compute_s[edge]
            if compute > 0:  # the rate is what the share buys: share x capacity / compute per frame
                assert granted["rate"] == pytest.approx(
                    granted["share"] * capacity.get(edge, 1.0) / compute, rel=0.01, abs=1e-9
                )
            else:
                assert granted["rate"] is None


def test_on_a_contended_edge_each_class_weighs_twice_the_one_below():
    rank = {name: qos.priority_rank(name) for name in qos.PRIORITIES}
    flood = {name: User(name, rank[name], rate=100.0, compute_s={"e": 0.1}) for name in qos.PRIORITIES}
    got = {k: v["e"]["share"] for k, v in shares(flood.values(), set()).items()}
    assert got == {"low": 0.066, "normal": 0.133, "high": 0.266, "critical": 0.533}  # 1:2:4:8 of 1
    assert got["critical"] > got["high"] > got["normal"] > got["low"]
    # four floods asking 10 times the edge each: over-subscribed, which the coordinator moves users off
    assert budget.oversubscribed(flood.values(), set(), {}) == {"e": pytest.approx(40.0)}
    assert budget.oversubscribed([flood["low"]], set(), {}) == {}  # alone, it has all of it: no one to move
    assert budget.oversubscribed(flood.values(), set(), {"e": 64.0}) == {}  # a bigger edge holds them
    # a small demand is met in full whatever its class; the rest shares what is left, by weight
    small = User("small-low", rank["low"], rate=1.0, compute_s={"e": 0.05})
    high = User("flood-high", rank["high"], rate=100.0, compute_s={"e": 0.1})
    normal = User("flood-normal", rank["normal"], rate=100.0, compute_s={"e": 0.1})
    mixed = shares([small, high, normal], set())
    assert mixed["small-low"]["e"]["share"] == pytest.approx(0.05, abs=0.001)
    assert mixed["flood-high"]["e"]["share"] == pytest.approx(0.95 * 2 / 3, abs=0.001)
    assert mixed["flood-high"]["e"]["rate"] == pytest.approx(0.633 / 0.1, rel=0.01)  # frames/s it buys
    # nobody asks for all of it: what is left goes by weight too (a budget binds only under contention)
    light = shares(
        [User("a", rank["low"], 1.0, {"e": 0.01}), User("b", rank["high"], 1.0, {"e": 0.01})], set()
    )
    assert light["a"]["e"]["share"] == pytest.approx(0.01 + 0.98 / 5, abs=0.001)
    assert light["b"]["e"]["share"] == pytest.approx(0.01 + 0.98 * 4 / 5, abs=0.001)


def test_a_saturating_edge_moves_the_budget_of_users_with_somewhere_else_to_go_away_from_it():
    dynamic = User("dynamic", qos.NORMAL, rate=10.0, compute_s={"e1": 0.05, "e2": 0.05})  # configs on both
    local = User("ans", qos.LOW, rate=10.0, compute_s={"e1": 0.05}, local=True)  # can run on its device
    pinned = User("pinned", qos.LOW, rate=10.0, compute_s={"e1": 0.05})  # one route, on e1
    before = shares([dynamic, local, pinned], set())
    assert set(before["dynamic"]) == {"e1", "e2"} and set(before["ans"]) == {"e1"}
    after = shares([dynamic, local, pinned], {"e1"})
    assert set(after["dynamic"]) == {"e2"}  # its e1 share is gone; e2 it keeps
    assert after["ans"] == {}  # no edge: its device alone
    assert set(after["pinned"]) == {"e1"}  # nowhere else: it keeps e1, and all of it now
    assert after["pinned"]["e1"]["share"] > before["pinned"]["e1"]["share"]
    assert after["pinned"]["e1"]["share"] == 1.0
    # every edge saturated: a session with no other place keeps its own
    assert set(shares([dynamic], {"e1", "e2"})["dynamic"]) == {"e1", "e2"}


def test_water_fill_is_weighted_max_min():
    got = water_fill({"a": 0.1, "b": 5.0, "c": 5.0}, {"a": 1.0, "b": 1.0, "c": 3.0})
    assert got["a"] == pytest.approx(0.1) and got["c"] == pytest.approx(3 * got["b"])
    assert sum(got.values()) == pytest.approx(1.0)


@pytest.mark.demo
@pytest.mark.django_db(transaction=True)
def test_the_coordinator_sends_each_changed_budget_to_the_source_records_it_and_the_api_shows_it(
    digits, devices, monkeypatch, client, alice
):
    from edgeorch.jobs import agents

    phone, edge = devices
    sent: list = []
    monkeypatch.setattr(
        agents, "send", lambda device, message, data=None, **kw: sent.append((device, message))
    )
    high = offloaded(digits, phone, edge, "high")
    low = offloaded(digits, phone, edge, "low")
    queues(edge, 1, queued=0)
    assert coordinator.rebalance() == []
    budgets = {m.session_id: m for d, m in sent if isinstance(m, p.Budget)}
    assert set(budgets) == {str(high.pk), str(low.pk)}
    assert all(d.pk == phone.pk for d, m in sent if isinstance(m, p.Budget))  # to the source
    (h,), (lo,) = budgets[str(high.pk)].edges, budgets[str(low.pk)].edges
    assert h["device_id"] == lo["device_id"] == str(edge.pk) and h["name"] == "edge"
    assert h["share"] + lo["share"] <= 1.0 and h["share"] >= lo["share"] > 0
    assert budgets[str(high.pk)].deployment_id == str(high.deployment_id)

    sent.clear()
    assert coordinator.rebalance() == [] and not any(isinstance(m, p.Budget) for _, m in sent)  # unchanged
    phone.connected_at = timezone.now()  # its agent connected again (restarted, say): each is sent again
    phone.save(update_fields=["connected_at"])
    coordinator.rebalance()
    again = {m.session_id: m for _, m in sent if isinstance(m, p.Budget)}
    assert (
        set(again) == {str(high.pk), str(low.pk)} and again[str(low.pk)].edges == budgets[str(low.pk)].edges
    )
    assert (
        BudgetChange.objects.filter(session=low)
        .latest("at")
        .reason.startswith("sent again: phone reconnected")
    )
    sent.clear()

    Session.objects.filter(pk=low.pk).update(
        state=RunState.COMPLETED
    )  # a user left: the one left gets it all
    coordinator.rebalance()
    (again,) = [m for _, m in sent if isinstance(m, p.Budget)]
    assert again.session_id == str(high.pk) and again.edges[0]["share"] == 1.0
    assert BudgetChange.objects.filter(session=high).count() == 3

    response = client.get(f"/api/sessions/{high.pk}/", **token_header(alice))
    assert response.status_code == 200, response.content
    shown = response.json()
    assert shown["budget"]["id"] == again.budget_id and shown["budget"]["edges"][0]["share"] == 1.0
    assert [c["budget_id"] for c in shown["budget_changes"]][-1] == again.budget_id
    assert "edge: 100% of it" in shown["budget_changes"][-1]["reason"]


@pytest.mark.django_db
def test_a_budget_is_priced_on_the_compute_the_edge_measured_once_frames_are_answered(digits, devices):
    """Before any answer a session's compute on its edge is its plan's prediction, which sets no rate; once
    the edge has answered frames, the median of what it measured for them (their traces) prices its share,
    so that a prediction far off neither starves the source nor lets it flood the edge."""
    from edgeorch.jobs.models import Frame

    phone, edge = devices
    session = offloaded(digits, phone, edge, "high")
    _, (user,), _, capacity = budget.fleet()
    predicted = user.compute_s[str(edge.pk)]
    assert predicted > 0 and user.unmeasured == {str(edge.pk)}
    assert budget.shares([user], set(), capacity)[user.session_id][str(edge.pk)]["rate"] is None  # unpriced
    measured = [predicted * 7, predicted * 3, predicted * 5]  # the edge is slower than planned
    for k, seconds in enumerate(measured):
        step = {"stage": 0, "device": str(edge.pk), "queue_s": 0.0, "compute_s": seconds}
        Frame.objects.create(session=session, request_id=k, ok=True, latency_s=seconds, trace=[step])
    Frame.objects.create(session=session, request_id=9, ok=False, latency_s=0.0, trace=[], error="dropped")
    _, (user,), _, capacity = budget.fleet()
    assert user.compute_s == {str(edge.pk): pytest.approx(predicted * 5)} and not user.unmeasured
    entry = budget.shares([user], set(), capacity)[user.session_id][str(edge.pk)]
    assert entry["rate"] == pytest.approx(entry["share"] * capacity[str(edge.pk)] / (predicted * 5), rel=0.01)
