"""The execution messages of protocol v1: what each side accepts and refuses."""

from __future__ import annotations

import json

import pytest
from edgeorch_wire.protocol import (
    AGENT_MESSAGES,
    SERVER_MESSAGES,
    Deploy,
    DeployStatus,
    Profile,
    ProfileProgress,
    ProtocolError,
    Result,
    Stream,
    decode,
)


def message(**fields) -> str:
    return json.dumps({"v": 1, **fields})


STAGE = {
    "stage": 0,
    "url": "http://cp/s0",
    "sha256": "ab" * 32,
    "inputs": [{"name": "x", "shape": [1, 3], "dtype": "float32"}],
    "outputs": [{"name": "y", "shape": [1, 3], "dtype": "float32"}],
    "next": {"device_id": "d2", "host": "10.0.0.2", "port": 7000, "codec": "fp16"},
}


def test_a_deploy_round_trips_through_json():
    deploy = Deploy("dep-1", "secret", [STAGE], threads=2)
    assert decode(deploy.to_json(), SERVER_MESSAGES) == deploy


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"url": 5}, "deploy.stages[0]: field 'url' must be a string"),
        (
            {"next": {"device_id": "d2", "host": "h", "port": "7000", "codec": "raw"}},
            "'port' must be an integer",
        ),
        ({"inputs": None}, "'inputs' must be an array"),
    ],
)
def test_a_deploy_with_a_malformed_stage_is_refused_saying_where(change, complaint):
    text = message(type="deploy", deployment_id="d", secret="s", stages=[{**STAGE, **change}])
    with pytest.raises(ProtocolError, match=complaint.replace("[", r"\[").replace("]", r"\]")):
        decode(text, SERVER_MESSAGES)


def test_a_profile_carries_the_deployments_thread_count_when_given():
    segments = [{"block": 0, "url": "http://cp/b0", "sha256": "ab" * 32, "inputs": STAGE["inputs"]}]
    profile = Profile("p-1", segments, threads=1)
    assert decode(profile.to_json(), SERVER_MESSAGES) == profile
    assert decode(message(type="profile", profile_id="p", segments=segments), SERVER_MESSAGES).threads is None
    with pytest.raises(ProtocolError, match="threads must be positive"):
        decode(message(type="profile", profile_id="p", segments=segments, threads=0), SERVER_MESSAGES)


def test_a_stream_needs_a_positive_rate_and_frame_count():
    base = dict(type="stream", deployment_id="d", session_id="s", first_stage=0, input_url="u", frames=3)
    stream = decode(message(**base, rate=30), SERVER_MESSAGES)
    assert isinstance(stream, Stream) and stream.rate == 30.0 and stream.max_in_flight == 1
    with pytest.raises(ProtocolError, match="rate must be positive"):
        decode(message(**base, rate=0), SERVER_MESSAGES)
    with pytest.raises(ProtocolError, match="max_in_flight must be positive"):
        decode(message(**base, rate=1, max_in_flight=0), SERVER_MESSAGES)


def test_every_execution_message_is_registered_on_its_side():
    assert {"deploy", "run", "stream", "stream_stop", "undeploy", "profile", "probe", "relayed"} <= set(
        SERVER_MESSAGES
    )
    assert {
        "deploy_status",
        "result",
        "stream_report",
        "stream_done",
        "stage_error",
        "profile_progress",
        "profile_result",
        "probe_result",
        "relay",
    } <= set(AGENT_MESSAGES)


def test_agent_replies_decode_on_the_server_side():
    status = DeployStatus("dep-1", False, "bad hash", 0.5)
    assert decode(status.to_json(), AGENT_MESSAGES) == status
    result = Result(
        "dep-1", 3, None, [{"stage": 0}], {"name": "y", "shape": [1], "dtype": "float32", "top_k": None}
    )
    assert decode(result.to_json(), AGENT_MESSAGES) == result


def test_a_stream_switch_names_its_session_deployment_stage_and_switch():
    from edgeorch_wire.protocol import SERVER_MESSAGES, ProtocolError, StreamSwitch, decode

    message = decode(StreamSwitch("s", "d", 0, "w").to_json(), SERVER_MESSAGES)
    assert message == StreamSwitch("s", "d", 0, "w", None)
    with pytest.raises(ProtocolError, match="first_stage"):
        StreamSwitch.from_dict({"session_id": "s", "deployment_id": "d", "switch_id": "w"})
    with pytest.raises(ProtocolError, match="stream_switch.entry"):
        StreamSwitch.from_dict(
            {
                "session_id": "s",
                "deployment_id": "d",
                "first_stage": 0,
                "switch_id": "w",
                "entry": {"device_id": "b", "host": "h", "port": 1},
            }
        )


def test_a_budget_names_its_edges_each_once_with_a_share_of_at_most_one():
    from edgeorch_wire.protocol import SERVER_MESSAGES, Budget, ProtocolError, decode

    edges = [
        {"device_id": "e1", "share": 0.4, "rate": 12.5, "name": "edge-1"},
        {"device_id": "e2", "share": 1},
    ]
    message = decode(Budget("s", "b1", "d", edges=edges).to_json(), SERVER_MESSAGES)
    assert message == Budget("s", "b1", "d", edges=edges) and message.edges[1].get("rate") is None
    assert decode(Budget("s", "b2").to_json(), SERVER_MESSAGES).edges is None  # no limit
    assert decode(Budget("s", "b3", edges=[]).to_json(), SERVER_MESSAGES).edges == []  # no edge
    with pytest.raises(ProtocolError, match="budget.edges"):
        Budget.from_dict({"session_id": "s", "budget_id": "b", "edges": [{"device_id": "e", "share": 1.5}]})
    with pytest.raises(ProtocolError, match="budget.edges"):
        Budget.from_dict({"session_id": "s", "budget_id": "b", "edges": [{"device_id": "e", "rate": 1}]})
    with pytest.raises(ProtocolError, match="listed twice"):
        Budget.from_dict({"session_id": "s", "budget_id": "b", "edges": [edges[0], edges[0]]})
    with pytest.raises(ProtocolError, match="budget_id"):
        Budget.from_dict({"session_id": "s"})


def test_profile_progress_round_trips_and_says_what_is_wrong_with_a_count():
    progress = ProfileProgress("p-1", 2, 5)
    assert decode(progress.to_json(), AGENT_MESSAGES) == progress
    assert decode(message(type="profile_progress", profile_id="p", done=0, total=1), AGENT_MESSAGES).done == 0
    for fields, complaint in [
        ({"done": 6, "total": 5}, r"done \(6\) is more than total \(5\)"),
        ({"done": -1, "total": 5}, r"done must be in \[0, .*not -1"),
        ({"done": 0, "total": 0}, r"total must be in \(0, .*not 0"),
        ({"done": "1", "total": 5}, "done"),
        ({"total": 5}, "done"),
    ]:
        with pytest.raises(ProtocolError, match=complaint):
            decode(message(type="profile_progress", profile_id="p", **fields), AGENT_MESSAGES)
