"""A stream's input sources (``executor.inputs``): videos, image folders, pushed frames, and streams that
take their frames from them, preprocessed, failing the session on a bad path, file or shape."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from edgeorch_agent.executor.inputs import ImageFolder, InputError, Pushed, VideoFile, open_source
from edgeorch_wire import preprocess
from edgeorch_wire.protocol import Deploy, Stream, StreamSwitch
from execution_fixtures import chain_stages, conv_chain, file_server, node, npy, run_model

cv2 = pytest.importorskip("cv2")

SPEC = {"resize": [8, 8], "color": "rgb", "interpolation": "area"}  # conv_chain takes float32[1, 3, 8, 8]


def same(frame):
    return frame


def make_video(path: Path, count: int = 7, size: tuple[int, int] = (32, 24)) -> list[np.ndarray]:
    """A short MJPG video of ``count`` distinct frames; returns the frames as OpenCV decodes them."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, size)
    assert writer.isOpened()
    rng = np.random.default_rng(1)
    for k in range(count):
        frame = np.zeros((size[1], size[0], 3), np.uint8)
        frame[:, :, k % 3] = 40 + 30 * k
        frame[: size[1] // 2] = rng.integers(0, 256, (size[1] // 2, size[0], 3), dtype=np.uint8)
        writer.write(frame)
    writer.release()
    capture, frames = cv2.VideoCapture(str(path)), []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    assert len(frames) == count
    return frames


def make_images(folder: Path, names: list[str]) -> dict[str, np.ndarray]:
    folder.mkdir(parents=True, exist_ok=True)
    images = {}
    for k, name in enumerate(names):
        image = np.full((10, 12, 3), 20 * k, np.uint8)
        image[0, 0] = (k, 2 * k, 3 * k)
        assert cv2.imwrite(str(folder / name), image)
        images[name] = image
    return images


async def read_all(source, limit: int = 100, prepare=same) -> list[np.ndarray]:
    await source.open()
    frames = []
    try:
        while len(frames) < limit:
            frame = await source.read(prepare)
            if frame is None:
                break
            frames.append(frame)
    finally:
        await source.close()
    return frames


# --- the sources ---------------------------------------------------------------------------------------


def test_a_video_file_gives_its_frames_in_order_then_ends(tmp_path):
    expected = make_video(tmp_path / "clip.avi")
    frames = asyncio.run(read_all(VideoFile(str(tmp_path / "clip.avi"))))
    assert len(frames) == 7 and all(np.array_equal(a, b) for a, b in zip(frames, expected, strict=True))
    assert frames[0].shape == (24, 32, 3) and frames[0].dtype == np.uint8


def test_a_looping_video_starts_again_at_its_end(tmp_path):
    expected = make_video(tmp_path / "clip.avi", count=3)
    frames = asyncio.run(read_all(VideoFile(str(tmp_path / "clip.avi"), loop=True), limit=8))
    assert len(frames) == 8
    assert all(np.array_equal(f, expected[k % 3]) for k, f in enumerate(frames))


def test_an_image_folder_gives_its_images_in_name_order_and_skips_other_files(tmp_path):
    images = make_images(tmp_path / "imgs", ["b.png", "a.png", "c.bmp"])
    (tmp_path / "imgs" / "notes.txt").write_text("not an image")
    frames = asyncio.run(read_all(ImageFolder(str(tmp_path / "imgs"))))
    assert [f[0, 0].tolist() for f in frames] == [
        images[n][0, 0].tolist() for n in ("a.png", "b.png", "c.bmp")
    ]
    looped = asyncio.run(read_all(ImageFolder(str(tmp_path / "imgs"), loop=True), limit=5))
    assert [int(f[5, 5, 0]) for f in looped] == [20, 0, 40, 20, 0]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"kind": "video", "path": "/no/such/clip.mp4"}, "no video file at /no/such/clip.mp4"),
        ({"kind": "images", "path": "/no/such/folder"}, "no image folder at /no/such/folder"),
    ],
)
def test_a_missing_path_is_an_input_error_naming_it(source, message):
    with pytest.raises(InputError, match=message):
        asyncio.run(read_all(open_source(source, "s")))


def test_a_file_that_is_not_a_video_is_an_input_error_naming_it(tmp_path):
    bad = tmp_path / "clip.mp4"
    bad.write_bytes(b"this is not a video" * 100)
    with pytest.raises(InputError) as caught:
        asyncio.run(read_all(VideoFile(str(bad))))
    assert str(bad) in str(caught.value)
    assert "cannot open" in str(caught.value) or "could be decoded" in str(caught.value)
    with pytest.raises(InputError, match="is not a video file"):
        asyncio.run(read_all(VideoFile(str(tmp_path))))


def test_an_unreadable_image_fails_the_read_naming_the_file_and_an_empty_folder_fails_the_open(tmp_path):
    make_images(tmp_path / "imgs", ["a.png", "b.png"])
    (tmp_path / "imgs" / "c.png").write_bytes(b"\x89PNG broken")
    source = ImageFolder(str(tmp_path / "imgs"))

    async def scenario():
        await source.open()
        good = [await source.read(same), await source.read(same)]
        with pytest.raises(InputError, match=f"cannot read the image {tmp_path / 'imgs' / 'c.png'}"):
            await source.read(same)
        await source.close()
        return good

    assert len(asyncio.run(scenario())) == 2
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no image files in"):
        asyncio.run(read_all(ImageFolder(str(tmp_path / "empty"))))


def test_without_opencv_a_video_source_says_to_install_the_video_extra(tmp_path, monkeypatch):
    make_video(tmp_path / "clip.avi", count=1)
    monkeypatch.setitem(sys.modules, "cv2", None)  # import cv2 raises ImportError
    with pytest.raises(InputError, match=r"\[video\] extra"):
        asyncio.run(read_all(VideoFile(str(tmp_path / "clip.avi"))))


def test_reading_and_preparing_run_off_the_event_loop(tmp_path):
    make_video(tmp_path / "clip.avi", count=3)

    def slow(frame):
        time.sleep(0.1)
        return frame

    async def scenario():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.005)
                ticks += 1

        task = asyncio.create_task(ticker())
        frames = await read_all(VideoFile(str(tmp_path / "clip.avi")), prepare=slow)
        task.cancel()
        return frames, ticks

    frames, ticks = asyncio.run(scenario())
    assert len(frames) == 3 and ticks >= 20  # the loop kept turning through 0.3 s of reading


def test_pushed_frames_are_read_in_order_until_closed():
    async def scenario():
        source = Pushed("s", size=2)
        frames = [np.full((4, 4, 3), k, np.uint8) for k in range(3)]
        pushing = asyncio.create_task(_push_all(source, frames))
        read = [await source.read(same) for _ in range(3)]
        await pushing
        await source.close()
        assert await source.read(same) is None
        with pytest.raises(InputError, match="takes no more frames"):
            await source.push(frames[0])
        with pytest.raises(InputError, match="uint8 image array, not a float32 array"):
            await Pushed("t").push(np.zeros((4, 4, 3), np.float32))
        with pytest.raises(InputError, match="H×W or H×W×3 pixels"):
            await Pushed("t").push(np.zeros((1, 4, 4, 3), np.uint8))
        return read

    assert [int(f[0, 0, 0]) for f in asyncio.run(scenario())] == [0, 1, 2]


async def _push_all(source, frames):
    for frame in frames:
        await source.push(frame)


# --- streams from a source -----------------------------------------------------------------------------


def model_files() -> dict[str, bytes]:
    x = np.zeros((1, 3, 8, 8), np.float32)
    return {**conv_chain(), "input.npy": npy(x)}


def stream(files, source, frames=100, spec=SPEC, session="s") -> Stream:
    return Stream(
        "dep-1", session, 0, files.url("input.npy"), 500.0, frames, 2, 3, source=source, preprocess=spec
    )


def run_stream(tmp_path, files, message, during=None):
    async def scenario():
        async with node("alice", tmp_path) as alice:
            stages = chain_stages(files, [alice.hop(), alice.hop(), None])
            await alice.executor.handle(Deploy("dep-1", "top-secret", stages, 1))
            assert (await alice.wait_for("deploy_status"))[-1].ok
            await alice.executor.handle(message)
            if during is not None:
                await during(alice)
            (done,) = await alice.wait_for("stream_done", timeout=20)
            frames = sorted(
                (f for r in alice.of_type("stream_report") for f in r.frames), key=lambda f: f["request_id"]
            )
            return done, frames, alice.of_type("stage_error")

    return asyncio.run(scenario())


def test_a_video_stream_sends_each_frame_preprocessed_and_reports_its_output(tmp_path):
    video = make_video(tmp_path / "clip.avi")
    with file_server(model_files()) as files:
        done, frames, errors = run_stream(
            tmp_path, files, stream(files, {"kind": "video", "path": str(tmp_path / "clip.avi")})
        )
        full = files.files["full"]
    assert not errors
    assert (done.frames_sent, done.frames_ok) == (7, 7)  # min(frames=100, the video's 7)
    assert [f["request_id"] for f in frames] == list(range(7)) and all(f["ok"] for f in frames)
    spec = preprocess.parse(SPEC)
    for frame, image in zip(frames, video, strict=True):
        expected = run_model(full, preprocess.apply(spec, image))
        assert frame["output"]["name"] == "y" and frame["output"]["shape"] == [1, 10]
        assert frame["output"]["top_k"][0][0] == int(np.argmax(expected))
        assert frame["output"]["top_k"][0][1] == pytest.approx(float(expected.max()), abs=1e-4)


def test_a_looping_video_stream_sends_the_frames_asked_for(tmp_path):
    make_video(tmp_path / "clip.avi", count=3)
    source = {"kind": "video", "path": str(tmp_path / "clip.avi"), "loop": True}
    with file_server(model_files()) as files:
        done, frames, errors = run_stream(tmp_path, files, stream(files, source, frames=8))
    assert not errors and (done.frames_sent, done.frames_ok) == (8, 8)
    tops = [f["output"]["top_k"][0] for f in frames]
    assert tops[0] == tops[3] == tops[6] and tops[2] == tops[5]


def test_a_stream_from_a_missing_video_fails_the_session_naming_the_path(tmp_path):
    with file_server(model_files()) as files:
        message = stream(files, {"kind": "video", "path": str(tmp_path / "gone.mp4")})
        done, frames, errors = run_stream(tmp_path, files, message)
    assert (done.frames_sent, done.frames_ok) == (0, 0) and not frames
    (error,) = errors
    assert error.request_id == -1 and error.session_id == "s"
    assert error.error == f"no video file at {tmp_path / 'gone.mp4'}"


def test_frames_that_do_not_fit_the_first_stage_fail_the_session_naming_both_shapes(tmp_path):
    make_video(tmp_path / "clip.avi", count=3)
    with file_server(model_files()) as files:
        message = stream(
            files, {"kind": "video", "path": str(tmp_path / "clip.avi")}, spec={"resize": [4, 4]}
        )
        done, frames, errors = run_stream(tmp_path, files, message)
    assert (done.frames_sent, done.frames_ok) == (0, 0)
    (error,) = errors
    assert error.request_id == -1
    assert "frame 0 of the video" in error.error and "does not fit" in error.error
    assert "expected float32[1, 3, 8, 8], received float32[1, 3, 4, 4]" in error.error
    with file_server(model_files()) as files:  # no spec: a raw 24×32×3 uint8 frame is no model input
        message = stream(files, {"kind": "video", "path": str(tmp_path / "clip.avi")}, spec=None)
        done, _, errors = run_stream(tmp_path, files, message)
    assert done.frames_sent == 0 and "no preprocess spec" in errors[0].error
    assert "received uint8[24, 32, 3]" in errors[0].error


def test_an_unreadable_image_ends_the_stream_after_the_frames_before_it(tmp_path):
    make_images(tmp_path / "imgs", ["a.png", "b.png"])
    (tmp_path / "imgs" / "c.png").write_bytes(b"broken")
    with file_server(model_files()) as files:
        message = stream(files, {"kind": "images", "path": str(tmp_path / "imgs")})
        done, frames, errors = run_stream(tmp_path, files, message)
    assert (done.frames_sent, done.frames_ok) == (2, 2) and len(frames) == 2
    (error,) = errors
    assert error.request_id == -1 and str(tmp_path / "imgs" / "c.png") in error.error


def test_a_pushed_stream_sends_what_the_local_application_pushes_until_it_closes(tmp_path):
    async def push(alice):
        for _ in range(200):
            if "p" in alice.executor.shared.pushed:
                break
            await asyncio.sleep(0.01)
        source = alice.executor.shared.pushed["p"]
        for k in range(4):
            await source.push(np.full((16, 16, 3), 50 * k, np.uint8))
        await source.close()

    with file_server(model_files()) as files:
        message = stream(files, {"kind": "pushed"}, session="p")
        done, frames, errors = run_stream(tmp_path, files, message, during=push)
    assert not errors and (done.frames_sent, done.frames_ok) == (4, 4)
    assert all(f["output"]["shape"] == [1, 10] for f in frames)


def test_a_stream_without_a_source_sends_its_input_tensor_every_frame_as_before(tmp_path):
    with file_server(model_files()) as files:
        done, frames, errors = run_stream(tmp_path, files, stream(files, None, frames=5, spec=None))
        expected = run_model(files.files["full"], np.zeros((1, 3, 8, 8), np.float32))
    assert not errors and (done.frames_sent, done.frames_ok) == (5, 5)
    assert {f["output"]["top_k"][0][0] for f in frames} == {int(np.argmax(expected))}


def test_a_stream_switch_keeps_the_source_the_next_frames_go_on_from_where_it_was(tmp_path, caplog):
    caplog.set_level("INFO", logger="edgeorch_agent.executor.streams")
    video = make_video(tmp_path / "clip.avi")

    async def scenario(files):
        async with node("alice", tmp_path) as alice:
            for deployment in ("dep-1", "dep-2"):
                stages = chain_stages(files, [alice.hop(), alice.hop(), None])
                await alice.executor.handle(Deploy(deployment, f"secret-{deployment}", stages, 1))
            await alice.wait_for("deploy_status", 2)
            message = Stream(
                "dep-1",
                "s",
                0,
                files.url("input.npy"),
                20.0,
                100,
                1,
                1,
                source={"kind": "video", "path": str(tmp_path / "clip.avi")},
                preprocess=SPEC,
            )
            await alice.executor.handle(message)
            await asyncio.sleep(0.15)
            await alice.executor.handle(StreamSwitch("s", "dep-2", 0, "sw-1"))
            (done,) = await alice.wait_for("stream_done", timeout=20)
            frames = sorted(
                (f for r in alice.of_type("stream_report") for f in r.frames), key=lambda f: f["request_id"]
            )
            return done, frames

    with file_server(model_files()) as files:
        done, frames = asyncio.run(scenario(files))
        full = files.files["full"]
    assert (done.frames_sent, done.frames_ok) == (7, 7)  # the video once: not started again by the switch
    assert "session s now streams to deployment dep-2" in caplog.text
    spec = preprocess.parse(SPEC)
    for frame, image in zip(frames, video, strict=True):
        assert frame["output"]["top_k"][0][0] == int(
            np.argmax(run_model(full, preprocess.apply(spec, image)))
        )
