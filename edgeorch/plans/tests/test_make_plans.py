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
