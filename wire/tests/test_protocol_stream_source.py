"""A ``stream``'s input source and preprocessing: checked on the control channel like any nested object."""

from __future__ import annotations

import json

import pytest
from edgeorch_wire.protocol import SERVER_MESSAGES, ProtocolError, Stream, decode
from edgeorch_wire.shapes import SOURCE_KINDS

BASE = {"v": 1, "type": "stream", "deployment_id": "d", "session_id": "s", "first_stage": 0}
BASE |= {"input_url": "http://x/input.npy", "rate": 10, "frames": 5}


def text(**fields) -> str:
    return json.dumps({**BASE, **fields})


def test_a_stream_with_a_source_and_preprocessing_round_trips():
    source = {"kind": "video", "path": "/data/clip.mp4", "loop": True, "input": {"shape": [1, 1, 8, 8]}}
    spec = {"resize": [8, 8], "color": "gray"}
    stream = decode(text(source=source, preprocess=spec), SERVER_MESSAGES)
    assert isinstance(stream, Stream) and stream.source == source and stream.preprocess == spec
    assert decode(stream.to_json(), SERVER_MESSAGES) == stream
    plain = decode(text(), SERVER_MESSAGES)
    assert plain.source is None and plain.preprocess is None  # the input tensor, every frame
    assert SOURCE_KINDS == ("video", "images", "camera", "pushed")


@pytest.mark.parametrize(
    ("fields", "code", "says"),
    [
        ({"source": {"kind": "video"}}, "bad_value", "stream.source: a video source needs a path"),
        ({"source": {"kind": "images", "path": ""}}, "bad_value", "an images source needs a path"),
        ({"source": {"kind": "dvd", "path": "/x"}}, "bad_value", "kind must be one of"),
        ({"source": {"kind": "camera", "index": -1}}, "bad_value", "index must be"),
        (
            {"source": {"kind": "video", "path": "/x", "loop": "yes"}},
            "wrong_type",
            "'loop' must be a boolean",
        ),
        ({"preprocess": {"layout": "CHW"}}, "bad_value", "stream.preprocess: layout must be one of"),
        ({"preprocess": {"mean": [1, 2]}}, "bad_value", "mean has 2 values"),
    ],
)
def test_a_bad_source_or_spec_is_refused_saying_what_is_wrong(fields, code, says):
    with pytest.raises(ProtocolError) as caught:
        decode(text(**fields), SERVER_MESSAGES)
    assert caught.value.code == code and says in str(caught.value)


def test_a_camera_needs_no_path_and_an_unknown_spec_field_passes_the_channel():
    stream = decode(text(source={"kind": "camera"}, preprocess={"future": 1}), SERVER_MESSAGES)
    assert stream.source == {"kind": "camera"}  # defaults are the agent's to fill in
    assert stream.preprocess == {"future": 1}  # a newer control plane's field: the channel lets it through
