"""A session's input source: POST /api/sessions/ with ``input``, what the source is told (``stream.source``
and the model's ``preprocess``), and each frame's output stored and shown."""

from __future__ import annotations

import pytest
from edgeorch_wire import protocol as p

from edgeorch.catalog.preprocessing import zoo_default
from edgeorch.jobs import services
from edgeorch.jobs.models import Frame, Session
from edgeorch.jobs.services import commands

pytestmark = pytest.mark.django_db


def token_header(user) -> dict:
    from edgeorch.api.keys import create_key

    return {"HTTP_AUTHORIZATION": f"Token {create_key(user)}"}


def post(client, user, **body):
    return client.post("/api/sessions/", body, content_type="application/json", **token_header(user))


def session_body(digits, devices, **extra):
    return {
        "model": digits.pk,
        "source": str(devices[0].pk),
        "strategy": "local",
        "rate": 10,
        "frames": 50,
        **extra,
    }


def test_a_session_takes_its_frames_from_a_video_on_the_source_and_shows_where(
    client, alice, digits, devices
):
    response = post(
        client, alice, **session_body(digits, devices, input={"kind": "video", "path": "/data/a.mp4"})
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["input"] == {"kind": "video", "loop": False, "path": "/data/a.mp4"}
    assert Session.objects.get(pk=body["id"]).input_source == body["input"]
    detail = client.get(f"/api/sessions/{body['id']}/", **token_header(alice)).json()
    assert detail["input"] == body["input"]
    camera = post(client, alice, **session_body(digits, devices, input={"kind": "camera", "index": 1}))
    assert camera.status_code == 202 and camera.json()["input"] == {
        "kind": "camera",
        "loop": False,
        "index": 1,
    }
    plain = post(client, alice, **session_body(digits, devices))
    assert plain.status_code == 202 and plain.json()["input"] is None


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ({"kind": "dvd", "path": "/x"}, "input.kind must be one of video, images, camera, pushed, not 'dvd'"),
        ({"kind": "video"}, "input: a video source needs a path"),
        ({"kind": "images", "path": ""}, "input: an images source needs a path"),
        ({"kind": "video", "path": "/x", "loop": "yes"}, "input: field 'loop' must be a boolean, not str"),
        ({"kind": "camera", "index": -1}, "input: index must be >= 0, not -1"),
        (
            {"kind": "video", "path": "/x", "fps": 3},
            "input: unknown field 'fps' (known: kind, path, loop, index)",
        ),
        ("video", "input must be an object: {kind, path?, loop?, index?}"),
    ],
)
def test_a_bad_input_is_refused_saying_what_is_wrong(client, alice, digits, devices, given, says):
    response = post(client, alice, **session_body(digits, devices, input=given))
    assert response.status_code == 400
    assert response.json() == {"input": [says]}
    assert not Session.objects.exists()


def test_a_model_without_a_preprocess_spec_cannot_take_frames_from_a_source(client, alice, digits, devices):
    digits.preprocess = None
    digits.save()
    response = post(client, alice, **session_body(digits, devices, input={"kind": "pushed"}))
    assert response.status_code == 400
    assert response.json()["detail"] == (
        f"{digits} has no preprocess spec, so frames from a pushed source cannot become its input: set one "
        f"(PUT /api/models/{digits.pk}/preprocess/)"
    )


def test_the_stream_message_carries_the_source_the_first_stages_input_and_the_models_spec(digits, devices):
    session = services.start_session(
        model=digits,
        source=devices[0],
        strategy="local",
        rate=10,
        frames=50,
        input_source={"kind": "images", "path": "/data/frames", "loop": True},
        base_url="http://cp",
    )
    services.dispatch_session(str(session.pk))
    session.refresh_from_db()
    _, message, _ = commands.start_message(session, session.deployment)
    assert isinstance(message, p.Stream)
    assert message.source == {
        "kind": "images",
        "loop": True,
        "path": "/data/frames",
        "input": {"name": "input", "shape": [1, 1, 8, 8], "dtype": "float32"},
    }
    assert message.preprocess == digits.preprocess == zoo_default("digits-cnn")
    decoded = p.decode(message.to_json(), p.SERVER_MESSAGES)  # what the agent reads: it passes the checks
    assert decoded.source == message.source and decoded.preprocess == message.preprocess
    plain = services.start_session(model=digits, source=devices[0], strategy="local", rate=10, frames=5)
    services.dispatch_session(str(plain.pk))
    plain.refresh_from_db()
    assert commands.start_message(plain, plain.deployment)[1].source is None


def test_each_frames_output_is_stored_and_shown(client, alice, digits, devices):
    session = services.start_session(model=digits, source=devices[0], strategy="local", rate=10, frames=2)
    output = {"name": "logits", "shape": [1, 10], "dtype": "float32", "top_k": [[3, 9.5], [8, 1.0]]}
    frames = [
        {"request_id": 0, "ok": True, "latency_s": 0.01, "error": None, "trace": [], "output": output},
        {"request_id": 1, "ok": False, "latency_s": 0.01, "error": "boom", "trace": [], "output": None},
    ]
    assert services.record_frames(session.pk, frames, devices[0].pk) == 2
    assert Frame.objects.get(session=session, request_id=0).output == output
    shown = client.get(f"/api/sessions/{session.pk}/frames/", **token_header(alice)).json()["results"]
    assert [f["output"] for f in shown] == [output, None]


def test_a_serving_session_is_shown_as_requests_served_not_as_a_frame_count(client, alice, digits, devices):
    response = post(client, alice, model=digits.pk, source=str(devices[0].pk), strategy="local", serve=True)
    assert response.status_code == 202, response.content
    session = Session.objects.get(pk=response.json()["id"])
    Session.objects.filter(pk=session.pk).update(frames_ok=3, frames_sent=3)
    client.force_login(alice)
    pages = {
        "list": client.get("/runs/").content.decode(),
        "record": client.get(f"/runs/sessions/{session.pk}/").content.decode(),
        "live": client.get(f"/live/sessions/{session.pk}/").content.decode(),
    }
    for name, page in pages.items():
        assert str(session.frames) not in page, name  # no 2147483647 frames
    assert "3 served" in pages["list"]
    assert "served at the source" in pages["record"] and "served at the source" in pages["live"]
    assert "0 served" in pages["live"]  # the live counter starts there; session.js counts requests
