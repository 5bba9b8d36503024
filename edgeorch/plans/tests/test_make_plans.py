"""``make_plans``: several plans over one assembly of the fleet answer as ``make_plan`` does one by one, and a
parameter set with no plan reads None without failing the others."""

from __future__ import annotations

import pytest

from edgeorch.plans import services
from edgeorch.plans.overrides import PlanInputError

pytestmark = pytest.mark.django_db


def test_every_cut_planned_on_one_assembly_equals_each_planned_alone(convnet, phone, edge):
    n = len(convnet.blocks)
    params = [{"cut": cut, "device": str(edge.pk)} for cut in range(n + 1)] + [{"cut": n + 5}]
    together = services.make_plans(convnet, [phone, edge], phone, "split", params, deadline=0.5)
    assert len(together) == n + 2
    assert together[-1] is None  # no such cut: no plan, and the others still come
    for p, plan in zip(params[:-1], together[:-1], strict=True):
        alone = services.make_plan(convnet, [phone, edge], phone, "split", deadline=0.5, params=p)
        assert plan == alone
    assert len({round(plan["latency"], 12) for plan in together[:-1]}) > 1  # the cuts differ


def test_an_unknown_strategy_is_refused_by_name(convnet, phone, edge):
    with pytest.raises(PlanInputError, match="unknown strategy 'nope'"):
        services.make_plans(convnet, [phone, edge], phone, "nope", [{}])


def test_a_split_sweep_holds_every_cut_with_a_plan(convnet, phone, edge):
    swept = services.split_sweep(convnet, [phone, edge], phone, device=str(edge.pk), deadline=0.5)["plans"]
    assert sorted(swept) == list(range(len(convnet.blocks) + 1))
    for cut, plan in swept.items():
        alone = services.make_plan(
            convnet, [phone, edge], phone, "split", deadline=0.5, params={"cut": cut, "device": str(edge.pk)}
        )
        assert plan == alone
    with pytest.raises(PlanInputError, match="not 'local'"):
        services.split_sweep(convnet, [phone, edge], phone, "local", device=str(edge.pk))
