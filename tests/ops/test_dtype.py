"""reworld.ops.dtype: pixel dtype conversions (kornia-style test names)."""

from __future__ import annotations

import numpy as np
import pytest

from reworld.errors import InvalidInput
from reworld.ops.dtype import to_float01, to_uint8, to_uint16


def test_smoke():
    out = to_float01(np.zeros((2, 2, 3), np.uint8))
    assert out.dtype == np.float32 and out.shape == (2, 2, 3)
    assert to_uint8(out).dtype == np.uint8
    assert to_uint16(out).dtype == np.uint16


@pytest.mark.parametrize("shape", [(1, 1, 3), (1, 1, 1, 3), (2, 3, 5, 3), (7,), (0, 3), ()])
def test_cardinality(shape):
    rng = np.random.default_rng(0)  # fixed seed: deterministic test data
    x = rng.random(shape).astype(np.float32)
    assert to_float01(x).shape == x.shape
    assert to_uint8(x).shape == x.shape
    assert to_uint16(x).shape == x.shape
    assert to_float01(to_uint8(x)).shape == x.shape


@pytest.mark.parametrize("bad", [np.array([1.5]), np.array([-0.1]), np.array([np.nan]), np.array([np.inf])])
def test_exception_float_range(bad):
    with pytest.raises(InvalidInput) as info:
        to_float01(bad.astype(np.float32), arg="reference_image")
    assert info.value.arg == "reference_image"
    assert "reference_image" in str(info.value)


@pytest.mark.parametrize("bad", [np.zeros(3, np.int32), np.zeros(3, np.complex64), [0.1, 0.2], "x"])
def test_exception_types(bad):
    with pytest.raises(InvalidInput) as info:
        to_float01(bad)
    assert info.value.arg == "frames"
    with pytest.raises(InvalidInput) as info:
        to_uint8(bad)
    assert info.value.arg == "x"


def test_unit_integer_scaling():
    assert to_float01(np.array([0, 51, 255], np.uint8)).tolist() == pytest.approx([0.0, 0.2, 1.0])
    assert to_float01(np.array([0, 65535], np.uint16)).tolist() == [0.0, 1.0]
    assert to_float01(np.array([True, False])).tolist() == [1.0, 0.0]


def test_unit_float_tolerance_and_passthrough():
    x = np.array([-5e-7, 0.5, 1.0 + 5e-7], np.float32)
    out = to_float01(x)
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert x[0] < 0  # input untouched
    y = np.array([0.25, 0.75], np.float32)
    assert to_float01(y) is y  # already float32 in range: no copy
    assert to_float01(np.array([0.25], np.float64)).dtype == np.float32


def test_unit_round_and_clip():
    x = np.array([-0.2, 0.0, 0.5, 0.501, 1.0, 2.0, np.nan], np.float32)
    assert to_uint8(x).tolist() == [0, 0, 128, 128, 255, 255, 0]
    assert to_uint16(np.array([0.0, 0.5, 1.0], np.float32)).tolist() == [0, 32768, 65535]
    assert to_uint16(np.array([0, 255], np.uint8)).tolist() == [0, 65535]
    levels = np.arange(256, dtype=np.uint8)
    assert np.array_equal(to_uint8(to_float01(levels)), levels)
    words = np.array([0, 1, 1000, 65534, 65535], np.uint16)
    assert np.array_equal(to_uint16(to_float01(words)), words)
