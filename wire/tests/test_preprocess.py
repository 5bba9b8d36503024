"""The preprocessing spec (``edgeorch_wire.preprocess``): what it makes of a frame, and what it refuses."""

from __future__ import annotations

import numpy as np
import pytest
from edgeorch_wire import preprocess as pp

RNG = np.random.default_rng(0)
FRAME = RNG.integers(0, 256, (37, 53, 3), dtype=np.uint8)  # BGR, as OpenCV reads it


def test_the_default_spec_makes_an_rgb_nchw_float32_batch_of_one_in_0_1():
    spec = pp.parse({})
    out = pp.apply(spec, FRAME)
    assert out.shape == (1, 3, 37, 53) and out.dtype == np.float32 and out.flags.c_contiguous
    assert np.allclose(out[0, 0], FRAME[:, :, 2] / 255.0)  # channel 0 is red: the frame's last (BGR)
    assert np.allclose(out[0, 2], FRAME[:, :, 0] / 255.0)
    assert spec.shape(37, 53) == (1, 3, 37, 53)


def test_gray_resize_scale_and_layout_as_the_digits_models_take_them():
    spec = pp.parse({"resize": [8, 8], "color": "gray", "scale": 16 / 255 / 16, "layout": "NCHW"})
    out = pp.apply(spec, FRAME)
    assert out.shape == (1, 1, 8, 8) and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0
    nhwc = pp.apply(pp.parse({"resize": [8, 8], "color": "gray", "layout": "NHWC"}), FRAME)
    assert nhwc.shape == (1, 8, 8, 1) and np.allclose(nhwc[0, :, :, 0], out[0, 0])


def test_mean_and_std_normalise_per_channel():
    spec = pp.parse({"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]})
    out = pp.apply(spec, FRAME)
    red = (FRAME[:, :, 2] / 255.0 - 0.485) / 0.229
    assert np.allclose(out[0, 0], red, atol=1e-5)
    one = pp.apply(pp.parse({"scale": 1.0, "mean": [128.0], "std": [64.0]}), FRAME)
    assert np.allclose(one[0, 1], (FRAME[:, :, 1] - 128.0) / 64.0)


def test_color_orders_and_gray_frames():
    rgb = pp.apply(pp.parse({"color": "rgb", "scale": 1.0}), FRAME, order="rgb")
    assert np.array_equal(rgb[0, 0], FRAME[:, :, 0])
    bgr = pp.apply(pp.parse({"color": "bgr", "scale": 1.0}), FRAME)
    assert np.array_equal(bgr[0, 0], FRAME[:, :, 0])
    gray = FRAME[:, :, 0]
    assert pp.apply(pp.parse({"color": "rgb"}), gray).shape == (1, 3, 37, 53)  # gray repeated
    assert pp.apply(pp.parse({"color": "gray"}), gray[:, :, None]).shape == (1, 1, 37, 53)
    bgra = np.concatenate([FRAME, np.zeros_like(FRAME[:, :, :1])], axis=2)
    assert np.array_equal(pp.apply(pp.parse({}), bgra), pp.apply(pp.parse({}), FRAME))
    luma = pp.apply(pp.parse({"color": "gray", "scale": 1.0}), FRAME)[0, 0]
    expected = 0.299 * FRAME[:, :, 2] + 0.587 * FRAME[:, :, 1] + 0.114 * FRAME[:, :, 0]
    assert np.allclose(luma, expected, atol=1e-3)


def test_uint8_input_keeps_pixels():
    out = pp.apply(pp.parse({"dtype": "uint8", "scale": 1, "layout": "NHWC", "color": "bgr"}), FRAME)
    assert out.dtype == np.uint8 and np.array_equal(out[0], FRAME)
    assert pp.apply(pp.parse({"dtype": "float16"}), FRAME).dtype == np.float16


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest", "area"])
def test_resize_keeps_a_constant_image_constant_and_an_identity_size_unchanged(interpolation):
    flat = np.full((40, 60, 3), 77, np.uint8)
    out = pp.resize(flat, 7, 9, interpolation)
    assert out.shape == (7, 9, 3) and np.allclose(out, 77)
    assert pp.resize(FRAME, 37, 53, interpolation) is FRAME


def test_resize_matches_known_values():
    ramp = np.arange(4, dtype=np.uint8).reshape(1, 4, 1) * 10  # 0 10 20 30
    # Half-pixel centres: output pixel k of 2 samples source x = 2k + 0.5 -> halfway between neighbours.
    assert np.allclose(pp.resize(ramp, 1, 2, "bilinear")[0, :, 0], [5, 25])
    assert np.allclose(pp.resize(ramp, 1, 2, "area")[0, :, 0], [5, 25])
    assert np.array_equal(pp.resize(ramp, 1, 2, "nearest")[0, :, 0], [10, 30])
    assert np.allclose(pp.resize(ramp, 1, 8, "bilinear")[0, :, 0], [0, 2.5, 7.5, 12.5, 17.5, 22.5, 27.5, 30])


def test_resize_agrees_with_opencv_within_rounding():
    cv2 = pytest.importorskip("cv2")
    for h, w in ((8, 8), (80, 100), (20, 31)):
        ours = pp.resize(FRAME, h, w, "bilinear")
        assert np.abs(ours - cv2.resize(FRAME, (w, h), interpolation=cv2.INTER_LINEAR)).max() <= 1.0
    big = RNG.integers(0, 256, (64, 96, 3), dtype=np.uint8)
    ours = pp.resize(big, 8, 12, "area")
    assert np.abs(ours - cv2.resize(big, (12, 8), interpolation=cv2.INTER_AREA)).max() <= 1.0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"resize": [8]}, "resize must be [height, width]"),
        ({"resize": [0, 8]}, "preprocess.resize[0] must be in (0, 16384], not 0"),
        ({"resize": "8x8"}, "preprocess: field 'resize' must be an array, not str"),
        ({"layout": "CHW"}, "preprocess: layout must be one of 'NCHW', 'NHWC', not 'CHW'"),
        ({"color": "hsv"}, "color must be one of 'bgr', 'gray', 'rgb', not 'hsv'"),
        ({"dtype": "int64"}, "dtype must be one of 'float16', 'float32', 'uint8', not 'int64'"),
        ({"interpolation": "cubic"}, "interpolation must be one of"),
        ({"mean": [1, 2]}, "mean has 2 values; rgb takes 1 or 3 (or none)"),
        ({"std": [1, 0, 1]}, "std must not contain 0"),
        ({"color": "gray", "std": [1, 2, 3]}, "std has 3 values; gray takes 1 (or none)"),
        ({"dtype": "uint8"}, "a uint8 input takes no normalisation"),
        ({"layot": "NCHW"}, "unknown field 'layot'"),
        ({"scale": "1/255"}, "field 'scale' must be"),
    ],
)
def test_a_bad_spec_is_refused_saying_what_is_wrong(data, message):
    with pytest.raises(pp.PreprocessError) as caught:
        pp.parse(data)
    assert message in str(caught.value)


def test_a_spec_that_is_not_an_object_is_refused():
    with pytest.raises(pp.PreprocessError, match="preprocess must be an object, not list"):
        pp.parse([8, 8])


@pytest.mark.parametrize(
    "frame",
    [
        np.zeros((4, 4, 3), np.float32),
        np.zeros((4, 4, 2), np.uint8),
        np.zeros((2, 4, 4, 3), np.uint8),
        np.zeros((0, 4, 3), np.uint8),
        [[1, 2], [3, 4]],
    ],
)
def test_a_frame_that_is_not_an_image_is_refused(frame):
    with pytest.raises(pp.PreprocessError, match="a frame must be"):
        pp.apply(pp.parse({}), frame)


def test_mismatch_says_why_a_spec_cannot_make_a_models_input():
    digits = pp.parse({"resize": [8, 8], "color": "gray"})
    assert pp.mismatch(digits, [1, 1, 8, 8], "float32") is None
    assert pp.mismatch(digits, ["N", 1, 8, 8], "tensor(float)") is None
    assert pp.mismatch(digits, [1, 3, 8, 8], "float32") == (
        "the model's input channels is 3; preprocess (NCHW) makes 1"
    )
    assert pp.mismatch(digits, [1, 1, 16, 16], "float32") == (
        "the model's input height is 16; preprocess (NCHW) makes 8"
    )
    assert "is int64; preprocess makes float32" in pp.mismatch(digits, [1, 1, 8, 8], "int64")
    assert "has 2 dimensions" in pp.mismatch(digits, [1, 64], "float32")
    assert pp.mismatch(pp.parse({}), [1, 3, 224, 224], "float32") is None  # no resize: any frame size


def test_a_spec_round_trips_through_json_data_with_every_field_said():
    spec = pp.parse({"resize": [8, 8], "color": "gray"})
    assert spec.to_dict() == {
        "resize": [8, 8],
        "interpolation": "bilinear",
        "color": "gray",
        "scale": 1 / 255,
        "mean": [],
        "std": [],
        "layout": "NCHW",
        "dtype": "float32",
    }
    assert pp.parse(spec.to_dict()) == spec
