from __future__ import annotations

import numpy as np
import pytest
from edgeorch_wire.codecs import CODECS, CodecError, decode, encode


def relu_output(shape=(1, 64, 56, 56)) -> np.ndarray:
    """What activations between CNN blocks look like: about half zeros, the rest positive."""
    return np.maximum(np.random.default_rng(0).standard_normal(shape), 0).astype(np.float32)


def round_trip(codec: str, array: np.ndarray) -> np.ndarray:
    payload, params = encode(codec, array)
    return decode(codec, memoryview(payload).tobytes(), params, str(array.dtype), array.shape)


def test_the_registry_holds_the_four_codecs():
    assert set(CODECS) == {"raw", "zlib", "fp16", "int8"}


@pytest.mark.parametrize("codec", ["raw", "zlib"])
def test_raw_and_zlib_restore_the_tensor_exactly(codec):
    array = relu_output()
    assert np.array_equal(round_trip(codec, array), array)


def test_zlib_shrinks_a_relu_output():
    array = relu_output()
    assert len(encode("zlib", array)[0]) < 0.8 * array.nbytes


def test_fp16_halves_the_size_with_a_relative_error_near_one_in_a_thousand():
    array = relu_output() + 0.01
    back = round_trip("fp16", array)
    assert memoryview(encode("fp16", array)[0]).nbytes == array.nbytes // 2
    assert back.dtype == np.float32 and np.max(np.abs(back - array) / np.abs(array)) < 1e-3


def test_int8_quarters_the_size_with_an_error_bounded_by_half_its_scale():
    array = relu_output() * 3 - 1
    payload, params = encode("int8", array)
    back = round_trip("int8", array)
    assert memoryview(payload).nbytes == array.size
    assert np.max(np.abs(back - array)) <= params["scale"] / 2 * (1 + 1e-5)
    assert np.all(round_trip("int8", relu_output())[relu_output() == 0] == 0)  # zeros stay zeros


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_every_codec_passes_integer_and_constant_tensors_through(codec):
    integers = np.arange(24, dtype=np.int64).reshape(2, 3, 4)
    constant = np.full((3, 3), 2.5, np.float32)
    assert np.array_equal(round_trip(codec, integers), integers)
    assert np.allclose(round_trip(codec, constant), constant, rtol=1e-3)
    assert round_trip(codec, np.zeros((0, 4), np.float32)).shape == (0, 4)


def test_a_payload_that_does_not_fit_the_header_is_a_codec_error_not_a_tensor():
    payload, params = encode("raw", np.zeros((2, 2), np.float32))
    with pytest.raises(CodecError, match=r"as float32\[3, 3\]"):
        decode("raw", payload, params, "float32", (3, 3))
    with pytest.raises(CodecError, match="unknown codec 'lz5'"):
        encode("lz5", np.zeros(1))
