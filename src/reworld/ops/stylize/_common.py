"""Helpers shared by the stylize ops: input checks, resizing, blending, colours, seeded noise.

Everything here is a pure function of its arguments (no global state, no I/O).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from reworld.errors import InvalidInput

REC709 = np.array([0.2126, 0.7152, 0.0722], np.float32)  #: luma weights on the sRGB signal


def check_image(image: np.ndarray, arg: str = "image") -> np.ndarray:
    """Validate an ``(H, W, 3)`` float32 image in [0, 1] and return it (never copied).

    Raises:
        InvalidInput: not an array, wrong shape or dtype, or NaN.

    Example:
        >>> check_image(np.zeros((2, 2, 3), np.float32)).shape
        (2, 2, 3)
    """
    if not isinstance(image, np.ndarray):
        raise InvalidInput(arg, type(image).__name__, "must be a numpy array")
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] < 1 or image.shape[1] < 1:
        raise InvalidInput(arg, image.shape, "must have shape (H, W, 3)")
    if image.dtype != np.float32:
        raise InvalidInput(arg, image.dtype, "must be float32 RGB in [0, 1] (use reworld.ops.dtype.to_float01)")
    return image


def check_map(value: np.ndarray | None, shape: tuple[int, int], arg: str) -> np.ndarray | None:
    """Validate an optional per-pixel map (depth, alpha) and resize it to ``shape`` (H, W).

    Accepts ``(h, w)`` float in [0, 1] or uint8 (0-255, rescaled); any size (resized bilinearly
    to ``shape``). Returns ``None`` for ``None``.

    Example:
        >>> check_map(np.ones((2, 2), np.float32), (4, 4), "depth").shape
        (4, 4)
    """
    if value is None:
        return None
    if not isinstance(value, np.ndarray) or value.ndim != 2:
        raise InvalidInput(arg, getattr(value, "shape", type(value).__name__), "must be an (H, W) array or None")
    if value.dtype == np.uint8:
        value = value.astype(np.float32) / np.float32(255.0)
    elif not np.issubdtype(value.dtype, np.floating):
        raise InvalidInput(arg, value.dtype, "must be float in [0, 1] or uint8")
    value = value.astype(np.float32, copy=False)
    if value.shape != tuple(shape):
        value = cv2.resize(value, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    return np.clip(value, 0.0, 1.0)


def check_amount(amount: float, arg: str = "amount") -> float:
    """Validate a strength in [0, 1].

    Example:
        >>> check_amount(0.5)
        0.5
    """
    if isinstance(amount, bool) or not isinstance(amount, (int, float, np.integer, np.floating)):
        raise InvalidInput(arg, amount, "must be a number in [0, 1]")
    if not math.isfinite(amount) or not 0.0 <= amount <= 1.0:
        raise InvalidInput(arg, amount, "must be in [0, 1]")
    return float(amount)


def check_range(value: float, arg: str, lo: float, hi: float) -> float:
    """Validate a number in [lo, hi] (closed) and return it as float."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidInput(arg, value, f"must be a number in [{lo:g}, {hi:g}]")
    if not math.isfinite(value) or not lo <= value <= hi:
        raise InvalidInput(arg, value, f"must be in [{lo:g}, {hi:g}]")
    return float(value)


def luma(image: np.ndarray) -> np.ndarray:
    """Rec.709 luma of the sRGB signal: ``(H, W, 3)`` -> ``(H, W)`` float32."""
    if image.ndim == 2:
        return image
    h, w = image.shape[:2]
    return cv2.transform(image.reshape(-1, 1, 3), REC709[None, :]).reshape(h, w)


def mix(a: np.ndarray, b: np.ndarray, t: float | np.ndarray) -> np.ndarray:
    """``a + t (b - a)``; ``t`` a scalar or an ``(H, W)`` / ``(H, W, 1)`` map. New array."""
    if np.isscalar(t):
        if t == 0.0:
            return a.copy()
        if t == 1.0:
            return b.copy() if b is not a else a.copy()
        return cv2.addWeighted(a, 1.0 - float(t), b, float(t), 0.0)
    t = np.asarray(t, np.float32)
    if t.ndim == a.ndim - 1:
        t = t[..., None]
    return a + t * (b - a)


def smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    """Hermite step from 0 at ``e0`` to 1 at ``e1``."""
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def hex_to_rgb(colour: str | Sequence[float]) -> np.ndarray:
    """``"#rrggbb"`` (or an RGB triple in [0, 1]) -> float32 ``(3,)`` in [0, 1].

    Example:
        >>> [round(float(v), 3) for v in hex_to_rgb("#ff8000")]
        [1.0, 0.502, 0.0]
    """
    if isinstance(colour, str):
        s = colour.lstrip("#")
        if len(s) != 6 or any(c not in "0123456789abcdefABCDEF" for c in s):
            raise InvalidInput("colour", colour, "must be '#rrggbb'")
        return np.array([int(s[i:i + 2], 16) / 255.0 for i in (0, 2, 4)], np.float32)
    rgb = np.asarray(colour, np.float32)
    if rgb.shape != (3,) or not np.all(np.isfinite(rgb)) or rgb.min() < 0 or rgb.max() > 1:
        raise InvalidInput("colour", colour, "must be '#rrggbb' or 3 numbers in [0, 1]")
    return rgb


def rgb_to_hex(rgb: Sequence[float]) -> str:
    """Inverse of :func:`hex_to_rgb` (rounded to 8 bits)."""
    r, g, b = (int(round(float(np.clip(v, 0, 1)) * 255)) for v in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def rotate_hue(colour: str, degrees: float) -> str:
    """Rotate a ``"#rrggbb"`` colour's CIELAB hue by ``degrees``, keeping L* and chroma.

    Out-of-gamut results lose chroma until they fit (so the lightness is kept).

    Example:
        >>> rotate_hue("#808080", 90.0)   # grey has no hue
        '#808080'
    """
    rgb = hex_to_rgb(colour).reshape(1, 1, 3)
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)[0, 0].astype(np.float64)
    c, h = math.hypot(lab[1], lab[2]), math.atan2(lab[2], lab[1]) + math.radians(degrees)
    for _ in range(24):
        new = np.array([[[lab[0], c * math.cos(h), c * math.sin(h)]]], np.float32)
        back = cv2.cvtColor(new, cv2.COLOR_Lab2RGB)[0, 0]
        again = cv2.cvtColor(np.clip(back, 0, 1).reshape(1, 1, 3), cv2.COLOR_RGB2Lab)[0, 0]
        if float(np.abs(again - new[0, 0]).max()) < 1.0:
            break
        c *= 0.9
    return rgb_to_hex(np.clip(back, 0.0, 1.0))


def resize(image: np.ndarray, size: tuple[int, int], *, nearest: bool = False) -> np.ndarray:
    """Resize to ``size`` = (H, W): area when shrinking, bilinear when growing (nearest if asked)."""
    h, w = size
    if image.shape[:2] == (h, w):
        return image
    if nearest:
        interp = cv2.INTER_NEAREST
    else:
        interp = cv2.INTER_AREA if h < image.shape[0] else cv2.INTER_LINEAR
    return cv2.resize(image, (w, h), interpolation=interp)


def work_size(shape: tuple[int, ...], long_side: int) -> tuple[int, int]:
    """(H, W) with the long side at most ``long_side`` (aspect kept, never upsampled)."""
    h, w = shape[:2]
    s = min(1.0, long_side / max(h, w))
    return max(1, round(h * s)), max(1, round(w * s))


def value_noise(shape: tuple[int, int], scale: float, rng: np.random.Generator, *, octaves: int = 1,
                persistence: float = 0.5) -> np.ndarray:
    """Smooth seeded noise (fractal value noise) in [0, 1], ``(H, W)`` float32.

    A grid of uniform random values every ``scale`` pixels is upsampled with bicubic
    interpolation; ``octaves`` halve the scale each time, weighted by ``persistence``.

    Example:
        >>> n = value_noise((32, 48), 8.0, np.random.default_rng(0), octaves=2)
        >>> n.shape, bool(0.0 <= n.min() and n.max() <= 1.0)
        ((32, 48), True)
    """
    h, w = shape
    out = np.zeros((h, w), np.float32)
    total, weight, s = 0.0, 1.0, float(max(scale, 1.0))
    for _ in range(max(1, octaves)):
        gh, gw = int(math.ceil(h / s)) + 3, int(math.ceil(w / s)) + 3
        grid = rng.random((gh, gw), dtype=np.float32)
        up = cv2.resize(grid, (int(round(gw * s)), int(round(gh * s))), interpolation=cv2.INTER_CUBIC)
        oy, ox = int(s), int(s)
        out += weight * up[oy:oy + h, ox:ox + w]
        total += weight
        weight *= persistence
        s = max(1.0, s / 2.0)
    out /= np.float32(total)
    return np.clip(out, 0.0, 1.0)


def gaussian(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur with reflected borders (no-op copy for sigma <= 0)."""
    if sigma <= 0:
        return image.copy()
    return cv2.GaussianBlur(image, (0, 0), float(sigma), borderType=cv2.BORDER_REFLECT)


def screen(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Screen blend ``1 - (1 - a)(1 - b)``."""
    return 1.0 - (1.0 - a) * (1.0 - b)


def overlay(base: np.ndarray, top: np.ndarray) -> np.ndarray:
    """Overlay blend (multiply in the darks, screen in the lights of ``base``)."""
    return np.where(base < 0.5, 2.0 * base * top, 1.0 - 2.0 * (1.0 - base) * (1.0 - top)).astype(np.float32)
