"""Ranges the control plane's storage cannot hold are refused when a message is decoded (issue 17), so
no value that a database would refuse reaches a write shared with other devices."""

from __future__ import annotations

import json

import pytest
from edgeorch_wire import protocol as p


def telemetry(**record) -> str:
    fields = {"seq": 0, "ts": 1.7e9, "metrics": {"cpu.percent": 1.0}, **record}
    return json.dumps({"v": 1, "type": "telemetry", "records": [fields]})


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (telemetry(seq=2**63), "seq"),
        (telemetry(ts=1e20), "ts"),
        (telemetry(ts=-1.0), "ts"),
        (telemetry(ts=float("inf")), "ts"),
        (telemetry(ts=float("nan")), "ts"),
        (
            json.dumps(
                {"v": 1, "type": "stream_done", "session_id": "s", "frames_sent": 2**31, "frames_ok": 0}
            ),
            "frames_sent",
        ),
        (
            json.dumps({"v": 1, "type": "deploy_status", "deployment_id": "d", "ok": True, "load_s": -1}),
            "load_s",
        ),
        (
            json.dumps(
                {"v": 1, "type": "profile_result", "profile_id": "p", "blocks": [{"median_s": float("nan")}]}
            ),
            "NaN",
        ),
        (
            json.dumps({"v": 1, "type": "stream_report", "session_id": "s", "frames": [{"request_id": -2}]}),
            "request_id",
        ),
    ],
)
def test_an_out_of_range_value_is_refused_naming_it(text, words):
    with pytest.raises(p.ProtocolError) as refused:
        p.decode(text, p.AGENT_MESSAGES)
    assert refused.value.code == "bad_value" and words in str(refused.value)


def test_the_largest_values_storage_holds_still_pass():
    message = p.decode(telemetry(seq=2**63 - 1, ts=4102444800.0), p.AGENT_MESSAGES)
    assert message.records[0].seq == 2**63 - 1
    report = {"v": 1, "type": "stream_report", "session_id": "s", "frames": [{"request_id": 2**31 - 1}]}
    assert p.decode(json.dumps(report), p.AGENT_MESSAGES).frames[0]["request_id"] == 2**31 - 1
