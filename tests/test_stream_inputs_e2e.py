"""A stream session whose frames come from a video file on the source device: a real agent decodes it with
OpenCV, preprocesses each frame with the digits model's catalog spec and streams it; every frame is stored
with its output, which is what the whole model says of the same preprocessed frame. A missing video fails
the session, naming the path. Frames pushed by an application on the device through its endpoint stream
the same way."""

from __future__ import annotations

import io

import numpy as np
import pytest
import requests
from edgeorch_wire import preprocess

from edgeorch.devices import services as device_services
from edgeorch.devices.models import Device
from edgeorch.jobs.models import Frame

from .support import finished, free_port, full_model_output, wait_until

cv2 = pytest.importorskip("cv2")

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

FRAMES = 12


def digits_video(path) -> tuple[list[np.ndarray], list[int]]:
    """scikit-learn's first digits drawn 64×64 into an MJPG video; the frames as OpenCV decodes them, and
    their labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 64))
    assert writer.isOpened()
    for k in range(FRAMES):
        image = np.clip(digits.images[k] * 16, 0, 255).astype(np.uint8)  # 16 grey levels -> 8 bits
        big = cv2.resize(image, (64, 64), interpolation=cv2.INTER_NEAREST)
        writer.write(cv2.cvtColor(big, cv2.COLOR_GRAY2BGR))
    writer.release()
    capture, frames = cv2.VideoCapture(str(path)), []
    while (read := capture.read())[0]:
        frames.append(read[1])
    capture.release()
    assert len(frames) == FRAMES
    return frames, [int(t) for t in digits.target[:FRAMES]]


def start(api, digits, phone, path):
    body = {"model": digits.pk, "source": phone.device_id, "strategy": "local", "rate": 40, "frames": 500}
    response = api.post(
        api.base + "/api/sessions/", json={**body, "input": {"kind": "video", "path": str(path)}}, timeout=10
    )
    assert response.status_code == 202, response.text
    assert response.json()["input"] == {"kind": "video", "loop": False, "path": str(path)}
    return response.json()["id"]


def test_a_video_session_streams_every_frame_and_each_output_is_the_models(fleet, api, digits, tmp_path):
    (phone,) = fleet("phone")
    video, labels = digits_video(tmp_path / "digits.avi")
    session = start(api, digits, phone, tmp_path / "digits.avi")
    body = finished(api, "sessions", session, timeout=60)
    assert body["state"] == "completed", (body, phone.log()[-3000:])
    # min(frames=500, the video's 12): the stream ended with the video.
    assert body["frames_sent"] == body["frames_ok"] == FRAMES
    assert Frame.objects.filter(session_id=session).count() == FRAMES
    stored = api.get(f"{api.base}/api/sessions/{session}/frames/", timeout=10).json()["results"]
    assert [f["request_id"] for f in stored] == list(range(FRAMES)) and all(f["ok"] for f in stored)
    spec = preprocess.parse(digits.preprocess)
    tops = []
    for frame, image in zip(stored, video, strict=True):
        expected = full_model_output(digits, preprocess.apply(spec, image))
        assert frame["output"]["shape"] == list(expected.shape)
        top, value = frame["output"]["top_k"][0]
        assert top == int(np.argmax(expected)) and value == pytest.approx(float(expected.max()), abs=1e-4)
        tops.append(top)
    assert sum(t == y for t, y in zip(tops, labels, strict=True)) >= FRAMES - 2  # the digits are read right

    missing = tmp_path / "no-such-video.mp4"
    failed = finished(api, "sessions", start(api, digits, phone, missing), timeout=30)
    assert failed["state"] == "failed" and failed["frames_sent"] == 0
    assert f"no video file at {missing}" in failed["reason"], failed["reason"]


def test_frames_pushed_by_a_local_application_stream_in_order_and_end_the_session(
    agents, worker, api, digits
):
    """An application on the phone pushes its frames to the agent's endpoint (PNG, or a .npy image); each is
    preprocessed and streamed like a video's, a frame that is no image is refused with the reason, and
    ``end`` completes the session once the pushed frames ran."""
    _, token = device_services.create_enrollment_token()
    phone = agents("phone")
    assert phone.enroll(token).returncode == 0
    port = free_port()
    phone.start("--serve-port", str(port))
    wait_until(
        lambda: Device.objects.filter(pk=phone.device_id, status="online").exists(), message="phone online"
    )
    body = {"model": digits.pk, "source": phone.device_id, "strategy": "local", "rate": 100, "frames": 500}
    response = api.post(api.base + "/api/sessions/", json={**body, "input": {"kind": "pushed"}}, timeout=10)
    assert response.status_code == 202, response.text
    session = response.json()["id"]
    base = f"http://127.0.0.1:{port}/v2/sessions"
    images = [np.clip(digits_images()[k] * 16, 0, 255).astype(np.uint8) for k in range(6)]
    with requests.Session() as http:
        assert http.post(f"{base}/no-such-session/frames", data=b"", timeout=5).status_code == 404

        def push(k: int) -> requests.Response:
            if k == 5:  # the last as a .npy array, the others as PNG files
                buffer = io.BytesIO()
                np.save(buffer, images[k])
                return http.post(f"{base}/{session}/frames", data=buffer.getvalue(), timeout=10)
            png = cv2.imencode(".png", images[k])[1].tobytes()
            headers = {"Content-Type": "image/png"}
            return http.post(f"{base}/{session}/frames", data=png, headers=headers, timeout=10)

        # The stream starts on the agent shortly after the 202: until then there is nothing to push to.
        wait_until(lambda: push(0).status_code == 202, timeout=30, message="the pushed stream open")
        for k in range(1, 6):
            accepted = push(k)
            assert accepted.status_code == 202 and accepted.json() == {"session": session, "accepted": True}
        buffer = io.BytesIO()
        np.save(buffer, np.zeros((8, 8), dtype=np.float32))
        refused = http.post(f"{base}/{session}/frames", data=buffer.getvalue(), timeout=10)
        assert refused.status_code == 400 and "float32" in refused.json()["error"], refused.text
        assert http.post(f"{base}/{session}/end", timeout=10).json() == {"session": session, "ended": True}
    record = finished(api, "sessions", session, timeout=60)
    assert record["state"] == "completed", (record, phone.log()[-3000:])
    assert record["frames_sent"] == record["frames_ok"] == 6
    stored = api.get(f"{api.base}/api/sessions/{session}/frames/", timeout=10).json()["results"]
    assert [f["request_id"] for f in stored] == list(range(6))
    spec = preprocess.parse(digits.preprocess)
    for frame, image in zip(stored, images, strict=True):
        expected = full_model_output(digits, preprocess.apply(spec, image))
        assert frame["output"]["top_k"][0][0] == int(np.argmax(expected))


def digits_images() -> np.ndarray:
    from sklearn.datasets import load_digits

    return load_digits().images
