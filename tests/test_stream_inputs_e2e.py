"""A stream session whose frames come from a video file on the source device: a real agent decodes it with
OpenCV, preprocesses each frame with the digits model's catalog spec and streams it; every frame is stored
with its output, which is what the whole model says of the same preprocessed frame. A missing video fails
the session, naming the path."""

from __future__ import annotations

import numpy as np
import pytest
from edgeorch_wire import preprocess

from edgeorch.jobs.models import Frame

from .support import finished, full_model_output

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
    stored = api.get(f"{api.base}/api/sessions/{session}/frames/", timeout=10).json()
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
