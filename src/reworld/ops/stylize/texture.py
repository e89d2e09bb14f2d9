"""Seeded textures (paper, canvas, strokes, hatching, film grain) and screen patterns (halftone, grid).

Textures are generated from a ``numpy.random.Generator`` **once per clip** at the frame size
(the engine may warp them with the scene; see docs/looks.md) and applied per frame; film
grain is either that static field or regenerated per frame from ``(seed, frame_index)``
(``animated``), always deterministic.

- :func:`paper_texture` — fractal value noise plus fine fibre noise, ``(H, W)`` in [0, 1];
- :func:`canvas_texture` — woven threads (two sine gratings with jittered thread widths);
- :func:`stroke_texture` — sparse seeds smeared along a direction (a line kernel): brush or
  pencil streaks at one angle;
- :func:`hatch_texture` — parallel lines with wobble, breaks and varying pressure (one layer of
  a "tonal art map", Praun et al. 2001);
- :func:`grain_field`, :func:`add_grain` — film grain, strongest in the mid-tones;
- :func:`apply_texture` — multiply / overlay a texture onto an image;
- :func:`halftone` — amplitude-modulated screening with round dots whose area equals the tone
  (exact coverage), one screen (two output levels) or four rotated CMYK screens;
- :func:`grid_overlay` — thin grid lines (blueprint paper).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from reworld.errors import InvalidInput
from reworld.ops.stylize._common import (
    check_image,
    check_range,
    gaussian,
    hex_to_rgb,
    luma,
    overlay,
    value_noise,
)

__all__ = [
    "add_grain",
    "apply_texture",
    "canvas_texture",
    "grain_field",
    "grid_overlay",
    "halftone",
    "hatch_texture",
    "paper_texture",
    "stroke_texture",
]


def _shape(shape: tuple[int, int]) -> tuple[int, int]:
    if len(shape) != 2 or min(shape) < 1:
        raise InvalidInput("shape", shape, "must be (H, W) with H, W >= 1")
    return int(shape[0]), int(shape[1])


def paper_texture(shape: tuple[int, int], rng: np.random.Generator, *, scale: float = 1.0) -> np.ndarray:
    """Paper: soft fractal cloudiness plus fine grain and a few fibres; ``(H, W)`` float32, mean ~0.5.

    Args:
        shape: (H, W). rng: generator. scale: feature size multiplier in [0.25, 8].

    Example:
        >>> p = paper_texture((32, 40), np.random.default_rng(0))
        >>> p.shape, bool(0 <= p.min() and p.max() <= 1)
        ((32, 40), True)
    """
    h, w = _shape(shape)
    s = check_range(scale, "scale", 0.25, 8.0)
    cloud = value_noise((h, w), 48.0 * s, rng, octaves=4)
    fine = value_noise((h, w), 1.5 * s, rng)
    fibres = stroke_texture((h, w), rng, length=18.0 * s, angle=float(rng.uniform(0, 180)), density=0.004)
    tex = 0.5 + 0.55 * (cloud - 0.5) + 0.35 * (fine - 0.5) - 0.25 * (fibres - fibres.mean())
    return np.clip(tex, 0.0, 1.0).astype(np.float32)


def canvas_texture(shape: tuple[int, int], rng: np.random.Generator, *, spacing: float = 4.0) -> np.ndarray:
    """Woven canvas: ``(H, W)`` float32 in [0, 1], threads every ``spacing`` px (in [2, 32]).

    Example:
        >>> canvas_texture((16, 16), np.random.default_rng(0)).shape
        (16, 16)
    """
    h, w = _shape(shape)
    sp = check_range(spacing, "spacing", 2.0, 32.0)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    jx = (value_noise((h, w), sp * 6, rng) - 0.5) * 1.2
    jy = (value_noise((h, w), sp * 6, rng) - 0.5) * 1.2
    warp = np.sin((xx / sp + jx) * np.float32(math.pi)) ** 2
    weft = np.sin((yy / sp + jy) * np.float32(math.pi)) ** 2
    checker = (np.floor(xx / sp) + np.floor(yy / sp)) % 2
    tex = np.where(checker > 0, 0.65 * warp + 0.35 * weft, 0.35 * warp + 0.65 * weft)
    tex = 0.75 * tex + 0.25 * value_noise((h, w), 1.0, rng)
    return np.clip(tex, 0.0, 1.0).astype(np.float32)


def stroke_texture(shape: tuple[int, int], rng: np.random.Generator, *, length: float = 12.0, angle: float = 45.0,
                   density: float = 0.02, width: float = 1.0) -> np.ndarray:
    """Streaks: random seeds smeared along ``angle`` by a line kernel; ``(H, W)`` in [0, 1].

    Args:
        length: stroke length in px, [2, 200]. angle: degrees, counter-clockwise from +x.
        density: fraction of pixels that seed a stroke, (0, 1]. width: blur across, [0, 8] px.

    Example:
        >>> s = stroke_texture((24, 24), np.random.default_rng(1), length=8.0)
        >>> s.shape, bool(s.max() <= 1.0)
        ((24, 24), True)
    """
    h, w = _shape(shape)
    ln = check_range(length, "length", 2.0, 200.0)
    check_range(density, "density", 1e-6, 1.0)
    check_range(width, "width", 0.0, 8.0)
    seeds = (rng.random((h, w), dtype=np.float32) < density).astype(np.float32)
    seeds *= rng.random((h, w), dtype=np.float32) * 0.5 + 0.5
    k = int(math.ceil(ln)) | 1
    kernel = np.zeros((k, k), np.float32)
    c = k // 2
    dx, dy = math.cos(math.radians(angle)), -math.sin(math.radians(angle))
    cv2.line(kernel, (int(round(c - dx * c)), int(round(c - dy * c))), (int(round(c + dx * c)), int(round(c + dy * c))), 1.0, 1)
    kernel /= max(kernel.sum(), 1.0)
    out = cv2.filter2D(seeds, -1, kernel, borderType=cv2.BORDER_REFLECT)
    if width > 0:
        out = gaussian(out, width * 0.5)
    m = float(np.percentile(out, 99.5)) or 1.0
    return np.clip(out / m, 0.0, 1.0).astype(np.float32)


def hatch_texture(shape: tuple[int, int], rng: np.random.Generator, *, spacing: float = 6.0, angle: float = 45.0,
                  thickness: float = 0.35, wobble: float = 1.0) -> np.ndarray:
    """Hand-drawn parallel hatching: ``(H, W)`` float32, 1 on a stroke, 0 on paper.

    Lines every ``spacing`` px at ``angle`` degrees wobble sideways (low-frequency noise), vary in
    pressure along their length and break now and then, like strokes of a pencil.

    Args:
        spacing: in [2, 64] px. thickness: stroke width as a share of the spacing, [0.05, 0.9].
        wobble: sideways wobble in px, [0, 8].

    Example:
        >>> t = hatch_texture((32, 32), np.random.default_rng(0), spacing=4.0)
        >>> 0.1 < float(t.mean()) < 0.6
        True
    """
    h, w = _shape(shape)
    sp = check_range(spacing, "spacing", 2.0, 64.0)
    th = check_range(thickness, "thickness", 0.05, 0.9)
    wb = check_range(wobble, "wobble", 0.0, 8.0)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    a = math.radians(angle)
    u = xx * np.float32(-math.sin(a)) - yy * np.float32(math.cos(a))  # across the lines
    u += (value_noise((h, w), sp * 8, rng) - 0.5) * np.float32(2 * wb)
    phase = (u / np.float32(sp)) % 1.0
    dist = np.minimum(phase, 1.0 - phase)  # 0 on a line's centre, 0.5 half-way between lines
    stroke = np.clip(1.0 - dist / np.float32(th * 0.5), 0.0, 1.0)  # antialiased, width th * spacing
    pressure = 0.55 + 0.45 * value_noise((h, w), sp * 5, rng)
    breaks = (value_noise((h, w), sp * 3, rng) > 0.18).astype(np.float32)
    return np.clip(stroke * pressure * breaks, 0.0, 1.0).astype(np.float32)


def grain_field(shape: tuple[int, int], rng: np.random.Generator, *, size: float = 1.0, mono: bool = True) -> np.ndarray:
    """Film grain: zero-mean noise of unit std, ``(H, W)`` (mono) or ``(H, W, 3)``, grain ``size`` px in [0.3, 6].

    Example:
        >>> g = grain_field((64, 64), np.random.default_rng(0))
        >>> abs(float(g.mean())) < 0.1 and 0.8 < float(g.std()) < 1.2
        True
    """
    h, w = _shape(shape)
    sz = check_range(size, "size", 0.3, 6.0)
    n = rng.standard_normal((h, w) if mono else (h, w, 3), dtype=np.float32)
    if sz > 0.5:
        n = gaussian(n, sz * 0.5)
    std = float(n.std()) or 1.0
    return (n / np.float32(std)).astype(np.float32)


def add_grain(image: np.ndarray, field: np.ndarray, *, amount: float = 0.04) -> np.ndarray:
    """Add grain, scaled by ``amount`` (std in [0, 0.5]) and by ``4 L (1 - L)`` (mid-tones most).

    Example:
        >>> img = np.full((8, 8, 3), 0.5, np.float32)
        >>> bool(np.array_equal(add_grain(img, np.zeros((8, 8), np.float32)), img))
        True
    """
    check_image(image)
    a = check_range(amount, "amount", 0.0, 0.5)
    y = luma(image)
    weight = (np.float32(4.0 * a) * y * (1.0 - y))[..., None]
    f = field if field.ndim == 3 else field[..., None]
    return np.clip(image + weight * f, 0.0, 1.0)


def apply_texture(image: np.ndarray, texture: np.ndarray, *, strength: float = 0.3, mode: str = "multiply") -> np.ndarray:
    """Imprint a ``(H, W)`` texture in [0, 1] (mean ~0.5) on an image.

    Args:
        strength: in [0, 1]. mode: ``"multiply"`` (scale by ``1 + 2 strength (t - 0.5)``:
            paper fibre, canvas), ``"overlay"`` (overlay blend, contrast-dependent).

    Example:
        >>> img = np.full((4, 4, 3), 0.5, np.float32)
        >>> bool(np.allclose(apply_texture(img, np.full((4, 4), 0.5, np.float32), mode="overlay"), img))
        True
    """
    check_image(image)
    s = check_range(strength, "strength", 0.0, 1.0)
    t = texture[..., None].astype(np.float32)
    if mode == "multiply":
        out = image * (1.0 + np.float32(2.0 * s) * (t - 0.5))
    elif mode == "overlay":
        out = image + s * (overlay(image, np.broadcast_to(t, image.shape)) - image)
    else:
        raise InvalidInput("mode", mode, "must be 'multiply' or 'overlay'")
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def _dot_threshold(shape: tuple[int, int], cell: float, angle: float, offset: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Per-pixel threshold of a round-dot screen: the share of a cell closer to its centre."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    a = math.radians(angle)
    u = (xx * np.float32(math.cos(a)) + yy * np.float32(math.sin(a))) / np.float32(cell) + offset[0]
    v = (-xx * np.float32(math.sin(a)) + yy * np.float32(math.cos(a))) / np.float32(cell) + offset[1]
    du = u - np.floor(u) - 0.5
    dv = v - np.floor(v) - 0.5
    r = np.sqrt(du * du + dv * dv)
    # area of (disc of radius r) ∩ (unit cell), exact for r <= sqrt(0.5)
    area = np.pi * r * r
    big = r > 0.5
    rb = r[big]
    area[big] = np.pi * rb * rb - 4.0 * (rb * rb * np.arccos(0.5 / rb) - 0.5 * np.sqrt(rb * rb - 0.25))
    return np.clip(area, 0.0, 1.0).astype(np.float32)


def halftone(image: np.ndarray, *, cell: float = 8.0, angle: float = 45.0, mode: str = "mono",
             ink: str = "#101010", paper: str = "#f4efe4", smooth: float = 0.0) -> np.ndarray:
    """AM halftone: round dots whose area equals the local darkness (``mono``) or four CMYK screens.

    Args:
        image: ``(H, W, 3)`` float32.
        cell: screen period in px, [3, 64]. angle: screen angle in degrees (mono; CMYK uses
            15/75/0/45 offset by ``angle - 45``).
        mode: ``"mono"`` (exactly two output colours, ``ink`` and ``paper``), ``"cmyk"``, or
            ``"benday"`` (Ben-Day dots of each pixel's own colour on ``paper``; darker colours
            get bigger dots, as in pop-art comic prints).
        ink, paper: ``"#rrggbb"``.
        smooth: tone pre-blur in px, [0, 16] (0 = sample the picture at full detail).

    Example:
        >>> img = np.random.default_rng(0).random((32, 32, 3), dtype=np.float32)
        >>> len(np.unique(halftone(img, cell=6).reshape(-1, 3), axis=0))
        2
    """
    check_image(image)
    c = check_range(cell, "cell", 3.0, 64.0)
    check_range(smooth, "smooth", 0.0, 16.0)
    src = gaussian(image, smooth) if smooth > 0 else image
    h, w = image.shape[:2]
    ink_c, paper_c = hex_to_rgb(ink), hex_to_rgb(paper)
    if mode == "mono":
        dark = 1.0 - luma(src)
        on = dark > _dot_threshold((h, w), c, angle)
        return np.where(on[..., None], ink_c, paper_c).astype(np.float32)
    if mode == "benday":
        cover = np.clip(0.3 + 0.9 * (1.0 - luma(src)), 0.0, 1.0)
        on = (cover > _dot_threshold((h, w), c, angle))[..., None]
        return np.where(on, image, paper_c).astype(np.float32)
    if mode != "cmyk":
        raise InvalidInput("mode", mode, "must be 'mono', 'cmyk' or 'benday'")
    k = 1.0 - src.max(axis=2)
    denom = np.maximum(1.0 - k, 1e-4)
    cmy = [(1.0 - src[..., i] - k) / denom for i in range(3)]
    out = np.broadcast_to(paper_c, image.shape).astype(np.float32).copy()
    inks = ((0, 0.68, 0.94), (0.93, 0.0, 0.55), (1.0, 0.95, 0.0))  # cyan, magenta, yellow (sRGB)
    for i, (amt, a) in enumerate(zip(cmy, (15.0, 75.0, 0.0))):
        on = (np.clip(amt, 0, 1) * 0.9 > _dot_threshold((h, w), c, a + angle - 45.0)).astype(np.float32)[..., None]
        out *= 1.0 - on * (1.0 - np.asarray(inks[i], np.float32))
    on = (k * 0.95 > _dot_threshold((h, w), c, angle)).astype(np.float32)[..., None]
    out = out * (1.0 - on) + on * ink_c
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def grid_overlay(image: np.ndarray, *, spacing: float = 32.0, colour: str = "#ffffff", opacity: float = 0.25,
                 minor: int = 4) -> np.ndarray:
    """Draft grid: major lines every ``spacing`` px (in [4, 512]) and ``minor`` fainter ones between.

    Example:
        >>> grid_overlay(np.zeros((8, 8, 3), np.float32), spacing=4.0)[0, 0].round(2).tolist()
        [0.25, 0.25, 0.25]
    """
    check_image(image)
    sp = check_range(spacing, "spacing", 4.0, 512.0)
    op = check_range(opacity, "opacity", 0.0, 1.0)
    h, w = image.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    major = ((xx % sp) < 1.0) | ((yy % sp) < 1.0)
    m = max(int(minor), 1)
    small = sp / m
    minor_l = ((xx % small) < 1.0) | ((yy % small) < 1.0)
    a = np.where(major, op, np.where(minor_l, op * 0.35, 0.0)).astype(np.float32)[..., None]
    return np.clip(image + a * (hex_to_rgb(colour) - image), 0.0, 1.0).astype(np.float32)
