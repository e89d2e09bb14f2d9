"""Pixel dtype conversions (layer 1: numpy only).

All image math in reworld runs on float32 in [0, 1]; clips cross the public edges as uint8
(or uint16 for 16-bit stills). The rules follow scikit-image's ``img_as_float32`` /
``img_as_ubyte``: integers are rescaled by their dtype's maximum, floats are kept as they are
but must already lie in [0, 1], and float -> integer rounds to nearest and clips.

Example:
    >>> import numpy as np
    >>> to_float01(np.array([0, 255], dtype=np.uint8)).tolist()
    [0.0, 1.0]
    >>> to_uint8(np.array([0.0, 0.5, 1.0], dtype=np.float32)).tolist()
    [0, 128, 255]
"""

from __future__ import annotations

import numpy as np

from reworld.errors import InvalidInput

__all__ = ["to_float01", "to_uint8", "to_uint16"]

#: how far a float input may stray outside [0, 1] before it is rejected (rounding slack)
FLOAT_TOLERANCE = 1e-6


def to_float01(frames: np.ndarray, *, arg: str = "frames") -> np.ndarray:
    """Convert pixels to float32 in [0, 1].

    Args:
        frames: array of any shape, typically ``(T, H, W, 3)`` or ``(H, W, 3)``. uint8 is divided
            by 255, uint16 by 65535, bool maps to {0, 1}; float arrays must already lie in
            [0, 1] (values within 1e-6 outside are clipped, as float rounding produces them).
        arg: the argument name used in error messages.

    Returns:
        float32 array of the same shape with values in [0, 1]. A new array unless ``frames`` is
        already float32 within [0, 1] (then it is returned as is, not copied; never modified).

    Raises:
        InvalidInput: ``frames`` is not an array of a supported dtype, or a float array holds
            NaN/inf or values outside [0, 1].

    Example:
        >>> to_float01(np.array([0, 65535], dtype=np.uint16)).tolist()
        [0.0, 1.0]
    """
    if isinstance(frames, np.generic):
        frames = np.asarray(frames)
    if not isinstance(frames, np.ndarray):
        raise InvalidInput(arg, type(frames).__name__, "must be a numpy array")
    kind = frames.dtype
    if kind == np.uint8:
        return frames.astype(np.float32) * np.float32(1.0 / 255.0)
    if kind == np.uint16:
        return frames.astype(np.float32) * np.float32(1.0 / 65535.0)
    if kind == np.bool_:
        return frames.astype(np.float32)
    if not np.issubdtype(kind, np.floating):
        raise InvalidInput(arg, f"dtype {kind}", "must be uint8, uint16 or float in [0, 1]")
    if frames.size == 0:
        return frames.astype(np.float32, copy=False)
    lo, hi = float(np.min(frames)), float(np.max(frames))
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise InvalidInput(arg, "non-finite values (NaN or inf)", "must hold finite floats in [0, 1]")
    if lo < -FLOAT_TOLERANCE or hi > 1.0 + FLOAT_TOLERANCE:
        raise InvalidInput(arg, f"values in [{lo:.6g}, {hi:.6g}]", "must hold floats in [0, 1]")
    out = frames.astype(np.float32, copy=False)
    if lo < 0.0 or hi > 1.0:
        out = np.clip(out, 0.0, 1.0)
    return out


def to_uint8(x: np.ndarray) -> np.ndarray:
    """Convert float pixels in [0, 1] to uint8 (round to nearest, clip to [0, 255]).

    Args:
        x: float array of any shape, nominally in [0, 1]; values outside are clipped, NaN
            becomes 0. uint8 input is returned unchanged (not copied).

    Returns:
        uint8 array of the same shape.

    Example:
        >>> to_uint8(np.array([-0.2, 0.501, 2.0])).tolist()
        [0, 128, 255]
    """
    return _to_uint(x, np.uint8, 255.0, arg="x")


def to_uint16(x: np.ndarray) -> np.ndarray:
    """Convert float pixels in [0, 1] to uint16 (round to nearest, clip to [0, 65535]).

    Args:
        x: float array of any shape, nominally in [0, 1]; values outside are clipped, NaN
            becomes 0. uint16 input is returned unchanged; uint8 input is rescaled (x * 257).

    Returns:
        uint16 array of the same shape.

    Example:
        >>> to_uint16(np.array([0.0, 1.0])).tolist()
        [0, 65535]
    """
    if isinstance(x, np.ndarray) and x.dtype == np.uint8:
        return x.astype(np.uint16) * np.uint16(257)
    return _to_uint(x, np.uint16, 65535.0, arg="x")


def _to_uint(x: np.ndarray, dtype: type, scale: float, *, arg: str) -> np.ndarray:
    if isinstance(x, np.generic):
        x = np.asarray(x)
    if not isinstance(x, np.ndarray):
        raise InvalidInput(arg, type(x).__name__, "must be a numpy array")
    if x.dtype == dtype:
        return x
    if x.dtype == np.bool_:
        return x.astype(dtype) * dtype(scale)
    if not np.issubdtype(x.dtype, np.floating):
        raise InvalidInput(arg, f"dtype {x.dtype}", "must be float in [0, 1] (or already the target dtype)")
    y = np.nan_to_num(x.astype(np.float32) * np.float32(scale), nan=0.0)
    return np.rint(np.clip(y, 0.0, scale)).astype(dtype)
