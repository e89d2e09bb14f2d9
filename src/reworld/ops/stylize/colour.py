"""Per-pixel colour ops for looks, and a fast 3D colour table to bake a chain of them into.

Every function here maps each pixel's colour on its own (no neighbours, no image statistics),
so a chain of them is one colour function that can be baked into a 3D table once per clip
(:func:`bake_table`) and applied per frame in a few milliseconds (:func:`apply_table`). That is
how film looks stay fast and flicker-free: the same input colour gives the same output in
every frame.

Ops (``x`` is ``(..., 3)`` float32 sRGB in [0, 1]; ``amount`` in [0, 1], 0 = identity):

- :func:`grade_op` — the primary grade of :mod:`reworld.ops.color` (exposure, contrast,
  white balance, lift/gamma/gain, curves …) with every field scaled toward identity by ``amount``;
- :func:`split_tone` — colour the shadows and highlights (CIELAB a*b* offsets weighted by L*);
- :func:`channel_mix` — a 3x3 channel mixer plus offset (false colour, infrared, 2-strip);
- :func:`mono` — black-and-white through a coloured filter (a red filter darkens blue sky);
- :func:`gradient_map` — luma mapped through colour stops (thermal, duotone, sepia, phosphor);
- :func:`hue_shift` — rotate/saturate one band of hues in CIELAB LCh (greens to autumn orange);
- :func:`tint` — multiply / screen / colour-blend with one colour;
- :func:`fade` — map black and white to chosen colours (lifted, tinted blacks of old prints);
- :func:`bleach` — bleach bypass: luma overlaid on colour, partly desaturated.

The table (:func:`bake_table`, :func:`apply_table`) is the idea of a grading 3D LUT; it is laid
out as a 2D image so OpenCV's ``remap`` does the bilinear part (two remaps and one lerp along
blue), which is far faster than gathering eight corners in numpy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import cv2
import numpy as np

from reworld.errors import InvalidInput
from reworld.ops.color import GradeParams, grade_function
from reworld.ops.match import lab_to_srgb, srgb_to_lab
from reworld.ops.stylize._common import REC709, check_amount, check_range, hex_to_rgb, overlay

__all__ = [
    "apply_table",
    "bake_table",
    "bleach",
    "channel_mix",
    "fade",
    "grade_op",
    "gradient_map",
    "hue_shift",
    "mono",
    "split_tone",
    "tint",
    "TABLE_SIZE",
]

TABLE_SIZE = 33  #: lattice points per axis of a baked colour table

_GRADE_NEUTRAL: dict[str, Any] = {
    "exposure": 0.0, "contrast": 1.0, "saturation": 1.0, "vibrance": 0.0, "temperature": 0.0, "tint": 0.0,
    "lift": (0.0, 0.0, 0.0), "gamma": (1.0, 1.0, 1.0), "gain": (1.0, 1.0, 1.0),
    "shadows": 0.0, "midtones": 0.0, "highlights": 0.0,
}


def _luma(x: np.ndarray) -> np.ndarray:
    return x @ REC709


def grade_op(x: np.ndarray, amount: float = 1.0, **params: Any) -> np.ndarray:
    """Primary grade (:class:`reworld.ops.color.GradeParams` fields) scaled toward identity.

    Each numeric field moves from its neutral value by ``amount``; curve points move toward the
    diagonal (``y -> x + amount (y - x)``). Ranges are those of ``GradeParams``.

    Example:
        >>> x = np.full((1, 3), 0.5, np.float32)
        >>> bool(np.allclose(grade_op(x, 0.0, exposure=1.0), x, atol=1e-6))
        True
    """
    a = check_amount(amount)
    fields: dict[str, Any] = {}
    for key, value in params.items():
        if key == "curves":
            fields["curves"] = {k: tuple((px, px + a * (py - px)) for px, py in pts) for k, pts in value.items()}
        elif key in _GRADE_NEUTRAL:
            neutral = _GRADE_NEUTRAL[key]
            if isinstance(neutral, tuple):
                fields[key] = tuple(n + a * (float(v) - n) for n, v in zip(neutral, value))
            else:
                fields[key] = neutral + a * (float(value) - neutral)
        else:
            raise InvalidInput("grade", key, f"is not a grade field (use {', '.join([*_GRADE_NEUTRAL, 'curves'])})")
    return grade_function(GradeParams(**fields))(x)


def split_tone(x: np.ndarray, amount: float = 1.0, *, shadows: str = "#2050a0", highlights: str = "#ffb060",
               strength: float = 0.5, balance: float = 0.0) -> np.ndarray:
    """Tint shadows and highlights, keeping L* (CIELAB a*b* offsets weighted by lightness).

    Args:
        shadows, highlights: ``"#rrggbb"`` colours whose a*b* are added (scaled by ``strength``).
        strength: in [0, 2]; 1 adds each colour's full chroma at the tonal extreme.
        balance: in [-1, 1]; > 0 gives the highlight colour more of the range.

    Example:
        >>> y = split_tone(np.full((1, 3), 0.5, np.float32), 1.0, strength=0.0)
        >>> bool(np.allclose(y, 0.5, atol=1e-3))
        True
    """
    a = check_amount(amount) * check_range(strength, "strength", 0.0, 2.0)
    check_range(balance, "balance", -1.0, 1.0)
    lab = srgb_to_lab(x)
    t = np.clip(lab[..., :1] / 100.0 + 0.5 * balance, 0.0, 1.0)
    w_s, w_h = (1.0 - t) ** 2, t**2
    ab_s = srgb_to_lab(hex_to_rgb(shadows)[None])[0, 1:]
    ab_h = srgb_to_lab(hex_to_rgb(highlights)[None])[0, 1:]
    lab[..., 1:] += a * (w_s * ab_s + w_h * ab_h)
    return lab_to_srgb(lab)


def channel_mix(x: np.ndarray, amount: float = 1.0, *, matrix: Sequence[Sequence[float]] = ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
                offset: Sequence[float] = (0.0, 0.0, 0.0)) -> np.ndarray:
    """``out = M x + offset`` on the sRGB signal, ``M`` moved from identity by ``amount``; clipped.

    Args:
        matrix: 3 rows (R', G', B') of 3 weights each, entries in [-4, 4].
        offset: per-channel offset in [-1, 1].

    Example:
        >>> channel_mix(np.array([[1.0, 0.0, 0.0]], np.float32), matrix=((0, 1, 0), (1, 0, 0), (0, 0, 1))).tolist()
        [[0.0, 1.0, 0.0]]
    """
    a = check_amount(amount)
    m = np.asarray(matrix, np.float32)
    off = np.asarray(offset, np.float32)
    if m.shape != (3, 3) or not np.isfinite(m).all() or np.abs(m).max() > 4:
        raise InvalidInput("matrix", matrix, "must be 3x3 numbers in [-4, 4]")
    if off.shape != (3,) or np.abs(off).max() > 1:
        raise InvalidInput("offset", offset, "must be 3 numbers in [-1, 1]")
    m = np.eye(3, dtype=np.float32) + a * (m - np.eye(3, dtype=np.float32))
    return np.clip(x @ m.T + a * off, 0.0, 1.0).astype(np.float32)


def mono(x: np.ndarray, amount: float = 1.0, *, filter: str = "#808080", filter_strength: float = 1.0) -> np.ndarray:
    """Black and white as if shot through a coloured filter.

    Weights ``w_i ∝ rec709_i (0.05 + f_i) ** filter_strength`` (``f`` the filter colour),
    normalised to sum 1: a red filter (``"#ff3010"``) darkens blue sky and clears skin, a green
    one darkens skin. Grey (``"#808080"``) gives plain Rec.709 luma.

    Args:
        filter: ``"#rrggbb"`` filter colour. filter_strength: in [0, 4].

    Example:
        >>> y = mono(np.array([[0.2, 0.6, 0.9]], np.float32))
        >>> bool(np.allclose(y[0], y[0, 0]))
        True
    """
    a = check_amount(amount)
    k = check_range(filter_strength, "filter_strength", 0.0, 4.0)
    w = REC709 * (0.05 + hex_to_rgb(filter)) ** k
    w = (w / w.sum()).astype(np.float32)
    grey = (x @ w)[..., None]
    return (x + a * (grey - x)).astype(np.float32)


def gradient_map(x: np.ndarray, amount: float = 1.0, *, stops: Sequence[tuple[float, str]] = ((0.0, "#000000"), (1.0, "#ffffff")),
                 gamma: float = 1.0) -> np.ndarray:
    """Map Rec.709 luma through colour stops ``[(position, "#rrggbb"), ...]`` (positions increasing in [0, 1]).

    Args:
        stops: at least two stops; luma between stops interpolates linearly in sRGB.
        gamma: in (0, 4]; the luma is raised to ``1 / gamma`` first (> 1 lifts the mids).

    Example:
        >>> gradient_map(np.array([[1.0, 1.0, 1.0]], np.float32), stops=((0, "#000000"), (1, "#ff0000"))).tolist()
        [[1.0, 0.0, 0.0]]
    """
    a = check_amount(amount)
    g = check_range(gamma, "gamma", 1e-3, 4.0)
    pos = np.array([p for p, _ in stops], np.float32)
    if len(stops) < 2 or np.any(np.diff(pos) <= 0) or pos.min() < 0 or pos.max() > 1:
        raise InvalidInput("stops", stops, "must be >= 2 (position, colour) pairs with increasing positions in [0, 1]")
    cols = np.stack([hex_to_rgb(c) for _, c in stops])
    y = np.clip(_luma(x), 0.0, 1.0) ** np.float32(1.0 / g)
    mapped = np.stack([np.interp(y, pos, cols[:, i]) for i in range(3)], -1).astype(np.float32)
    return (x + a * (mapped - x)).astype(np.float32)


def hue_shift(x: np.ndarray, amount: float = 1.0, *, shift: float = 0.0, centre: float = 0.0, width: float = 360.0,
              saturation: float = 1.0, lightness: float = 0.0) -> np.ndarray:
    """Rotate, saturate and lighten one band of hues in CIELAB LCh.

    Hues are CIELAB angles in degrees (red ~40, yellow ~95, green ~135, cyan ~200, blue ~290,
    magenta ~330). The band is centred on ``centre`` with full effect inside ``width / 2`` and
    a smooth fall-off over as much again (``width = 360`` = every hue).

    Args:
        shift: hue rotation in degrees, [-180, 180]. centre: [0, 360]. width: (0, 360].
        saturation: chroma scale in [0, 4] inside the band. lightness: L* offset in [-50, 50].

    Example:
        >>> x = np.array([[0.5, 0.5, 0.5]], np.float32)    # grey has no hue: unchanged
        >>> bool(np.allclose(hue_shift(x, shift=90.0), x, atol=2e-3))
        True
    """
    a = check_amount(amount)
    check_range(shift, "shift", -180.0, 180.0)
    check_range(centre, "centre", 0.0, 360.0)
    check_range(width, "width", 1e-3, 360.0)
    check_range(saturation, "saturation", 0.0, 4.0)
    check_range(lightness, "lightness", -50.0, 50.0)
    lab = srgb_to_lab(x)
    c = np.hypot(lab[..., 1], lab[..., 2])
    h = np.degrees(np.arctan2(lab[..., 2], lab[..., 1]))
    if width >= 360.0:
        w = np.ones_like(c)
    else:
        d = np.abs((h - centre + 180.0) % 360.0 - 180.0)
        half = width / 2.0
        w = np.clip(1.0 - (d - half) / max(half, 1e-3), 0.0, 1.0)
        w = w * w * (3 - 2 * w)
    w *= np.clip((c - 3.0) / 20.0, 0.0, 1.0)  # near-greys have no reliable hue (and carry JPEG chroma noise)
    w *= a
    h2 = np.radians(h + shift * w)
    c2 = c * (1.0 + (saturation - 1.0) * w)
    lab[..., 0] += lightness * w
    lab[..., 1] = c2 * np.cos(h2)
    lab[..., 2] = c2 * np.sin(h2)
    return lab_to_srgb(lab)


def tint(x: np.ndarray, amount: float = 1.0, *, colour: str = "#ffffff", mode: str = "multiply",
         strength: float = 1.0) -> np.ndarray:
    """Blend one colour over the image.

    Args:
        colour: ``"#rrggbb"``.
        mode: ``"multiply"``, ``"screen"``, ``"overlay"`` or ``"colour"`` (keeps the pixel's L*,
            takes the colour's a*b*).
        strength: in [0, 1], the blend opacity at ``amount`` 1.

    Example:
        >>> tint(np.ones((1, 3), np.float32), colour="#ff0000").tolist()
        [[1.0, 0.0, 0.0]]
    """
    a = check_amount(amount) * check_range(strength, "strength", 0.0, 1.0)
    c = hex_to_rgb(colour)
    if mode == "multiply":
        top = x * c
    elif mode == "screen":
        top = 1.0 - (1.0 - x) * (1.0 - c)
    elif mode == "overlay":
        top = overlay(x, np.broadcast_to(c, x.shape))
    elif mode == "colour":
        lab = srgb_to_lab(x)
        lab[..., 1:] = srgb_to_lab(c[None])[0, 1:]
        top = lab_to_srgb(lab)
    else:
        raise InvalidInput("mode", mode, "must be one of multiply, screen, overlay, colour")
    return (x + a * (top - x)).astype(np.float32)


def fade(x: np.ndarray, amount: float = 1.0, *, black: str = "#000000", white: str = "#ffffff") -> np.ndarray:
    """Map black to ``black`` and white to ``white`` (per channel, linear in between).

    Example:
        >>> [round(float(v), 2) for v in fade(np.zeros((1, 3), np.float32), black="#333333")[0]]
        [0.2, 0.2, 0.2]
    """
    a = check_amount(amount)
    lo = a * hex_to_rgb(black)
    hi = 1.0 + a * (hex_to_rgb(white) - 1.0)
    return (lo + x * (hi - lo)).astype(np.float32)


def bleach(x: np.ndarray, amount: float = 1.0, *, strength: float = 0.7, desaturate: float = 0.5) -> np.ndarray:
    """Bleach bypass: luma overlaid on the colour (harder contrast) and partly desaturated.

    Args:
        strength: in [0, 1], opacity of the overlay. desaturate: in [0, 1].

    Example:
        >>> bleach(np.full((1, 3), 0.5, np.float32)).round(3).tolist()
        [[0.5, 0.5, 0.5]]
    """
    a = check_amount(amount)
    s = check_range(strength, "strength", 0.0, 1.0)
    d = check_range(desaturate, "desaturate", 0.0, 1.0)
    y = _luma(x)[..., None]
    ov = overlay(np.broadcast_to(y, x.shape), x)
    ov = ov + d * (y - ov)
    out = x + s * (ov - x)
    return np.clip(x + a * (out - x), 0.0, 1.0).astype(np.float32)


def bake_table(fn: Callable[[np.ndarray], np.ndarray], size: int = TABLE_SIZE) -> np.ndarray:
    """Sample a per-pixel colour function on a ``size``³ lattice for :func:`apply_table`.

    Args:
        fn: maps ``(N, 3)`` float32 RGB in [0, 1] to ``(N, 3)``.
        size: lattice points per axis in [2, 129].

    Returns:
        ``(size, size * size, 3)`` float32 table; entry ``[g, b * size + r]`` holds ``fn`` at
        lattice point (r, g, b).

    Example:
        >>> t = bake_table(lambda x: x, 5)
        >>> t.shape
        (5, 25, 3)
    """
    if not isinstance(size, int) or not 2 <= size <= 129:
        raise InvalidInput("size", size, "must be an integer in [2, 129]")
    axis = np.linspace(0.0, 1.0, size, dtype=np.float32)
    g, b, r = np.meshgrid(axis, axis, axis, indexing="ij")  # [g, b, r] order = the table layout
    grid = np.stack([r, g, b], -1).reshape(-1, 3)
    values = np.clip(np.asarray(fn(grid), np.float32), 0.0, 1.0)
    if values.shape != grid.shape or not np.isfinite(values).all():
        raise InvalidInput("fn", values.shape, "must return finite (N, 3) values")
    return np.ascontiguousarray(values.reshape(size, size * size, 3))


def apply_table(image: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Apply a baked colour table (trilinear interpolation) to an ``(H, W, 3)`` float32 image.

    Bilinear interpolation over (r, g) is done by ``cv2.remap`` (weights quantised to 1/32 of
    a lattice cell: 1/1024 of the range at size 33), linear over b in float32.

    Example:
        >>> img = np.random.default_rng(0).random((4, 5, 3), dtype=np.float32)
        >>> bool(np.abs(apply_table(img, bake_table(lambda x: x, 17)) - img).max() < 2e-3)
        True
    """
    n = table.shape[0]
    if table.ndim != 3 or table.shape[1] != n * n or table.shape[2] != 3:
        raise InvalidInput("table", table.shape, "must be (n, n*n, 3) from bake_table")
    s = float(n - 1)
    r, g, b = cv2.split(np.clip(image, 0.0, 1.0))
    r *= np.float32(s)
    g *= np.float32(s)
    b0 = np.floor(b * np.float32(s))
    np.minimum(b0, np.float32(n - 2), out=b0)
    fb = b * np.float32(s) - b0
    mapx = cv2.scaleAdd(b0, float(n), r)  # b0 * n + r
    lo = cv2.remap(table, mapx, g, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    mapx += np.float32(n)
    hi = cv2.remap(table, mapx, g, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    hi = cv2.subtract(hi, lo)
    cv2.multiply(hi, cv2.merge((fb, fb, fb)), dst=hi)
    return cv2.add(lo, hi)


def chain(steps: Sequence[tuple[Callable[..., np.ndarray], float, Mapping[str, Any]]]) -> Callable[[np.ndarray], np.ndarray]:
    """Compose pixel ops ``[(fn, amount, params), ...]`` into one ``(N, 3) -> (N, 3)`` function."""

    def fn(x: np.ndarray) -> np.ndarray:
        for op, amount, params in steps:
            x = np.clip(op(x, amount, **params), 0.0, 1.0).astype(np.float32)
        return x

    return fn
