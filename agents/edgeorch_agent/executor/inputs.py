"""Where a stream's frames come from on its source device (``stream.source``): a video file, a camera, a
folder of images, frames a local application pushes, or (no source) the session's one input tensor.

Every source is read one frame at a time with ``read(prepare)``, which returns the frame made the model's
input by ``prepare`` (the model's preprocessing), or None once the source has ended. Opening, reading,
decoding and preparing run in a worker thread (``asyncio.to_thread``), never on the event loop; a source's
reads and its close are serialised by a lock, so closing never pulls a capture from under a read.

OpenCV (``cv2``) decodes videos, cameras and images. It is the agent's optional ``[video]`` extra, imported
only when such a source opens: without it, the source fails saying how to install it. Frames are what
OpenCV gives: H×W×3 uint8, BGR.

A failure a stream cannot go on from (a missing path, a file that cannot be decoded, a pushed array that
is no image) raises ``InputError``, a ``StageError``: the stream fails the session with its message.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..runtime import StageError

Prepare = Callable[[np.ndarray], np.ndarray]

IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pbm", ".jp2"}
)
PUSHED_QUEUE = 8  # frames a local application may push ahead of the stream before ``push`` waits


class InputError(StageError):
    """A stream's input source cannot give (more) frames; the message names the source and why."""


def opencv() -> Any:
    """The cv2 module, or ``InputError`` naming the agent's [video] extra that installs it."""
    try:
        import cv2
    except ImportError:
        raise InputError(
            "reading video, camera or image frames needs OpenCV, which is not installed: install the agent "
            "with its [video] extra (pip install 'edgeorch-agent[video]')"
        ) from None
    return cv2


class FrameSource:
    """Frames for one stream. ``open`` before the first ``read``; ``close`` when done (idempotent)."""

    what = "input"

    async def open(self) -> None:
        return None

    async def read(self, prepare: Prepare) -> np.ndarray | None:
        raise NotImplementedError

    async def close(self) -> None:
        return None


class TensorFrames(FrameSource):
    """No source: every frame is the session's input tensor, already the model's input (not prepared)."""

    def __init__(self, array: np.ndarray):
        self.array = array
        self.what = "the session's input tensor"

    async def read(self, prepare: Prepare) -> np.ndarray | None:
        return self.array


class _Threaded(FrameSource):
    """A source read in a worker thread, one call at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._closed = False
        self.count = 0  # frames read

    async def open(self) -> None:
        await asyncio.to_thread(self._locked, self._open)

    async def read(self, prepare: Prepare) -> np.ndarray | None:
        return await asyncio.to_thread(self._locked, self._read_prepared, prepare)

    async def close(self) -> None:
        await asyncio.to_thread(self._locked, self._close_once)

    def _locked(self, call: Callable[..., Any], *args: Any) -> Any:
        with self._lock:
            return call(*args)

    def _read_prepared(self, prepare: Prepare) -> np.ndarray | None:
        if self._closed:
            return None
        frame = self._read()
        if frame is None:
            return None
        self.count += 1
        return prepare(frame)

    def _close_once(self) -> None:
        if not self._closed:
            self._closed = True
            self._close()

    def _open(self) -> None:
        raise NotImplementedError

    def _read(self) -> np.ndarray | None:
        raise NotImplementedError

    def _close(self) -> None:
        return None


class VideoFile(_Threaded):
    """A video file, frame by frame; with ``loop``, from its first frame again at its end."""

    def __init__(self, path: str, loop: bool = False):
        super().__init__()
        self.path = Path(path)
        self.loop = loop
        self.what = f"the video {path}"
        self._capture: Any = None

    def _open(self) -> None:
        if not self.path.exists():
            raise InputError(f"no video file at {self.path}")
        if not self.path.is_file():
            raise InputError(f"{self.path} is not a video file")
        cv2 = opencv()
        capture = cv2.VideoCapture(str(self.path))
        if not capture.isOpened():
            capture.release()
            raise InputError(f"cannot open {self.path} as a video (not a video, or a codec OpenCV lacks)")
        self._capture = capture

    def _read(self) -> np.ndarray | None:
        ok, frame = self._capture.read()
        if not ok and self.loop and self.count > 0:
            self._capture.set(opencv().CAP_PROP_POS_FRAMES, 0)
            ok, frame = self._capture.read()
        if not ok:
            if self.count == 0:
                raise InputError(f"no frame of the video {self.path} could be decoded")
            return None
        return np.asarray(frame)

    def _close(self) -> None:
        if self._capture is not None:
            self._capture.release()


class Camera(_Threaded):
    """A camera (OpenCV's ``index``, or a device path or stream URL in ``path``); it ends when it stops
    giving frames."""

    def __init__(self, index: int = 0, path: str | None = None):
        super().__init__()
        self.device: int | str = path if path else index
        self.what = f"camera {self.device}"
        self._capture: Any = None

    def _open(self) -> None:
        cv2 = opencv()
        capture = cv2.VideoCapture(self.device)
        if not capture.isOpened():
            capture.release()
            raise InputError(f"cannot open camera {self.device}")
        self._capture = capture

    def _read(self) -> np.ndarray | None:
        ok, frame = self._capture.read()
        if not ok:
            if self.count == 0:
                raise InputError(f"camera {self.device} gave no frame")
            return None
        return np.asarray(frame)

    def _close(self) -> None:
        if self._capture is not None:
            self._capture.release()


class ImageFolder(_Threaded):
    """The image files of a folder in name order (``IMAGE_SUFFIXES``); with ``loop``, again from the first.
    A file that cannot be decoded fails the stream, naming it."""

    def __init__(self, path: str, loop: bool = False):
        super().__init__()
        self.path = Path(path)
        self.loop = loop
        self.what = f"the image folder {path}"
        self.files: list[Path] = []
        self._next = 0
        self.opencv: Any = None

    def _open(self) -> None:
        if not self.path.exists():
            raise InputError(f"no image folder at {self.path}")
        if not self.path.is_dir():
            raise InputError(f"{self.path} is not a folder")
        try:
            entries = sorted(self.path.iterdir())
        except OSError as exc:
            raise InputError(f"cannot list the image folder {self.path}: {exc.strerror or exc}") from None
        self.files = [p for p in entries if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
        if not self.files:
            kinds = ", ".join(sorted(IMAGE_SUFFIXES))
            raise InputError(f"no image files in {self.path} (looked for {kinds})")
        self.opencv = opencv()

    def _read(self) -> np.ndarray | None:
        if self._next == len(self.files):
            if not self.loop:
                return None
            self._next = 0
        file = self.files[self._next]
        self._next += 1
        frame = self.opencv.imread(str(file), self.opencv.IMREAD_COLOR)
        if frame is None:
            raise InputError(f"cannot read the image {file} (missing, unreadable, or not an image)")
        return np.asarray(frame)


class Pushed(FrameSource):
    """Frames a local application pushes (``push``; ``close`` ends the stream once they are sent). At most
    ``size`` frames wait: a push beyond that waits for the stream to take one."""

    def __init__(self, session_id: str, size: int = PUSHED_QUEUE):
        self.session_id = session_id
        self.what = f"frames pushed for session {session_id}"
        self._queue: asyncio.Queue[np.ndarray | None] = asyncio.Queue()
        self._space = asyncio.Semaphore(size)
        self.closed = False

    async def push(self, frame: np.ndarray) -> None:
        """Queue one frame (an image: uint8, H×W or H×W×3 BGR); ``InputError`` once the stream has ended or
        for an array that is no image."""
        _check_image(frame)
        if self.closed:
            raise InputError(f"session {self.session_id} takes no more frames")
        await self._space.acquire()
        if self.closed:
            self._space.release()
            raise InputError(f"session {self.session_id} takes no more frames")
        self._queue.put_nowait(frame)

    async def read(self, prepare: Prepare) -> np.ndarray | None:
        if self.closed and self._queue.empty():
            return None
        frame = await self._queue.get()
        if frame is None:
            return None
        self._space.release()
        return await asyncio.to_thread(prepare, frame)

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._queue.put_nowait(None)  # wakes a waiting read; frames pushed before it are read first


def _check_image(frame: Any) -> None:
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8:
        kind = f"{frame.dtype} array" if isinstance(frame, np.ndarray) else type(frame).__name__
        raise InputError(f"a pushed frame must be a uint8 image array, not a {kind}")
    if frame.ndim not in (2, 3) or (frame.ndim == 3 and frame.shape[2] not in (1, 3, 4)):
        raise InputError(f"a pushed frame must be H×W or H×W×3 pixels, not shape {tuple(frame.shape)}")


def open_source(source: dict[str, Any], session_id: str) -> FrameSource:
    """The frame source a ``stream.source`` object names (not yet opened)."""
    kind = source.get("kind")
    path = source.get("path")
    loop = bool(source.get("loop", False))
    if kind == "video":
        return VideoFile(str(path), loop)
    if kind == "images":
        return ImageFolder(str(path), loop)
    if kind == "camera":
        return Camera(int(source.get("index") or 0), path)
    if kind == "pushed":
        return Pushed(session_id)
    raise InputError(f"unknown input source kind {kind!r}")
