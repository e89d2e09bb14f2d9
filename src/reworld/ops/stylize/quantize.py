"""Colour quantization: clip-level palettes, palette mapping, soft luminance bands, pixel art.

A palette is fitted **once per clip** (:func:`fit_palette`, k-means in CIELAB on a few sample
frames, seeded k-means++ start) and then given to the per-frame functions as an argument — a
palette fitted per frame would change from frame to frame and flicker. Mapping uses a nearest-
colour index table over a 64³ RGB lattice (:func:`palette_table`, built once), so a 720p frame
is mapped with one table look-up per pixel; no dithering (dither patterns crawl in video).

- :func:`fit_palette` — k colours from sample frames (deterministic for a seed);
- :func:`palette_table`, :func:`map_to_palette` — nearest palette colour (CIELAB distance);
- :func:`quantize_luma` — soft lightness bands (Winnemöller, Olsen & Gooch 2006, "Real-time
  video abstraction": ``q + Δ/2 · tanh(φ (L - q))``), keeps a*b*, so shading reads as cel bands
  without hard flickering edges;
- :func:`pixelate` — block average then optional palette, upsampled nearest (pixel art).
"""

from __future__ import annotations

import cv2
import numpy as np

from reworld.errors import InvalidInput
from reworld.ops.match import srgb_to_lab
from reworld.ops.stylize._common import check_image, check_range

__all__ = ["fit_palette", "map_to_palette", "palette_table", "pixelate", "quantize_luma", "TABLE_BITS"]

TABLE_BITS = 6  #: bits per channel of the palette index lattice (64³ entries)


def _check_palette(palette: np.ndarray) -> np.ndarray:
    p = np.asarray(palette, np.float32)
    if p.ndim != 2 or p.shape[1] != 3 or not 1 <= p.shape[0] <= 256 or not np.isfinite(p).all():
        raise InvalidInput("palette", getattr(palette, "shape", palette), "must be (k, 3) RGB in [0, 1], 1 <= k <= 256")
    if p.min() < 0 or p.max() > 1:
        raise InvalidInput("palette", "values outside [0, 1]", "must be RGB in [0, 1]")
    return p


def fit_palette(samples: np.ndarray, k: int, rng: np.random.Generator, *, max_pixels: int = 20000,
                iterations: int = 20) -> np.ndarray:
    """Fit ``k`` palette colours to sample frames by k-means in CIELAB.

    Args:
        samples: ``(n, H, W, 3)`` or ``(H, W, 3)`` float32 RGB in [0, 1] (a few frames of the clip).
        k: number of colours in [1, 64].
        rng: generator for pixel subsampling and the k-means++ start (same seed → same palette).
        max_pixels: pixels drawn from the samples. iterations: Lloyd iterations.

    Returns:
        ``(k, 3)`` float32 RGB in [0, 1], sorted by lightness (dark first).

    Example:
        >>> img = np.zeros((8, 8, 3), np.float32); img[:, 4:] = 1.0
        >>> fit_palette(img, 2, np.random.default_rng(0)).round(2).tolist()
        [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]
    """
    if not isinstance(k, int) or not 1 <= k <= 64:
        raise InvalidInput("k", k, "must be an integer in [1, 64]")
    x = np.asarray(samples, np.float32).reshape(-1, 3)
    if x.shape[0] > max_pixels:
        x = x[rng.choice(x.shape[0], max_pixels, replace=False)]
    lab = srgb_to_lab(x).astype(np.float64)
    # k-means++ start
    centres = [lab[rng.integers(lab.shape[0])]]
    d2 = ((lab - centres[0]) ** 2).sum(1)
    for _ in range(1, k):
        total = d2.sum()
        idx = int(rng.integers(lab.shape[0])) if total <= 0 else int(rng.choice(lab.shape[0], p=d2 / total))
        centres.append(lab[idx])
        d2 = np.minimum(d2, ((lab - lab[idx]) ** 2).sum(1))
    c = np.array(centres)
    for _ in range(iterations):
        label = ((lab[:, None, :] - c[None]) ** 2).sum(-1).argmin(1)
        for j in range(k):
            members = lab[label == j]
            if len(members):
                c[j] = members.mean(0)
    rgb = np.empty((k, 3), np.float32)
    for j in range(k):  # the RGB mean of each cluster (exactly representable, in gamut)
        members = x[label == j]
        rgb[j] = members.mean(0) if len(members) else np.clip(x.mean(0), 0, 1)
    order = np.argsort(srgb_to_lab(rgb)[:, 0], kind="stable")
    return np.clip(rgb[order], 0.0, 1.0)


def palette_table(palette: np.ndarray, *, metric: str = "lab") -> np.ndarray:
    """Nearest-colour index of every point of a 64³ RGB lattice.

    Args:
        palette: ``(k, 3)`` RGB in [0, 1].
        metric: ``"lab"`` (CIELAB distance) or ``"lightness"`` (L* only: a monochrome palette
            such as the Game Boy's four greens is used as a tone ramp).

    Returns:
        ``(64 ** 3,)`` uint8 indices into ``palette`` (flat index ``(r * 64 + g) * 64 + b`` of
        the quantised channels ``round(c * 63)``).
    """
    p = _check_palette(palette)
    n = 1 << TABLE_BITS
    axis = np.linspace(0.0, 1.0, n, dtype=np.float32)
    r, g, b = np.meshgrid(axis, axis, axis, indexing="ij")
    lab = srgb_to_lab(np.stack([r, g, b], -1).reshape(-1, 3))
    plab = srgb_to_lab(p)
    if metric == "lightness":
        # spread the palette's lightness over 0-100 so the whole tone range is used
        lo, hi = float(plab[:, 0].min()), float(plab[:, 0].max())
        plab = np.where(np.arange(3) == 0, (plab - lo) / max(hi - lo, 1e-3) * 100.0, 0.0).astype(np.float32)
        lab = lab * np.array([1.0, 0.0, 0.0], np.float32)
    elif metric != "lab":
        raise InvalidInput("metric", metric, "must be 'lab' or 'lightness'")
    best = np.zeros(lab.shape[0], np.uint8)
    dist = np.full(lab.shape[0], np.inf, np.float32)
    for j in range(p.shape[0]):
        d = ((lab - plab[j]) ** 2).sum(1)
        better = d < dist
        best[better] = j
        dist[better] = d[better]
    return best


def map_to_palette(image: np.ndarray, palette: np.ndarray, table: np.ndarray | None = None) -> np.ndarray:
    """Replace every pixel by its nearest palette colour (no dithering).

    Args:
        image: ``(H, W, 3)`` float32 RGB in [0, 1].
        palette: ``(k, 3)`` RGB in [0, 1].
        table: its :func:`palette_table` (pass it to avoid rebuilding, ~0.2 s).

    Returns:
        ``(H, W, 3)`` float32 whose colours are all rows of ``palette``.

    Example:
        >>> pal = np.array([[0, 0, 0], [1, 1, 1]], np.float32)
        >>> map_to_palette(np.full((1, 2, 3), 0.7, np.float32), pal).tolist()
        [[[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]]
    """
    check_image(image)
    p = _check_palette(palette)
    if table is None:
        table = palette_table(p)
    s = np.float32((1 << TABLE_BITS) - 1)
    q = cv2.convertScaleAbs(np.clip(image, 0, 1), alpha=float(s)).astype(np.int32)  # round(c * 63)
    flat = (q[..., 0] << (2 * TABLE_BITS)) | (q[..., 1] << TABLE_BITS) | q[..., 2]
    return p[table[flat]]


def quantize_luma(image: np.ndarray, *, levels: int = 6, sharpness: float = 6.0) -> np.ndarray:
    """Soft quantization of CIELAB L* into ``levels`` bands, chroma kept (cel-style shading).

    ``L' = q + (Δ/2) tanh(sharpness (L - q) / Δ * 2)`` with ``q`` the nearest band centre and
    ``Δ = 100 / levels``: large ``sharpness`` gives hard steps, small keeps gradients.

    Args:
        image: ``(H, W, 3)`` float32 RGB. levels: in [2, 32]. sharpness: in [0.5, 50].

    Example:
        >>> y = quantize_luma(np.full((2, 2, 3), 0.5, np.float32), levels=4)
        >>> y.shape, y.dtype.name
        ((2, 2, 3), 'float32')
    """
    check_image(image)
    if not isinstance(levels, int) or not 2 <= levels <= 32:
        raise InvalidInput("levels", levels, "must be an integer in [2, 32]")
    phi = check_range(sharpness, "sharpness", 0.5, 50.0)
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2Lab)
    step = np.float32(100.0 / levels)
    L = lab[..., 0]
    q = (np.floor(L / step) + np.float32(0.5)) * step
    lab[..., 0] = q + step / 2 * np.tanh(np.float32(phi) * (L - q) / step * 2) / np.float32(np.tanh(phi))
    return np.clip(cv2.cvtColor(lab, cv2.COLOR_Lab2RGB), 0.0, 1.0)


def pixelate(image: np.ndarray, *, block: int = 8, palette: np.ndarray | None = None,
             table: np.ndarray | None = None) -> np.ndarray:
    """Pixel art: ``block``-pixel squares of the area-averaged colour, optionally palette-mapped.

    The grid is anchored at the top-left corner (fixed on screen, as in real pixel art).

    Args:
        image: ``(H, W, 3)`` float32. block: square size in pixels, [1, 256].
        palette, table: optional fixed palette (see :func:`map_to_palette`).

    Example:
        >>> img = np.random.default_rng(0).random((8, 8, 3), dtype=np.float32)
        >>> y = pixelate(img, block=4)
        >>> bool((y[:4, :4] == y[0, 0]).all())
        True
    """
    check_image(image)
    if not isinstance(block, (int, np.integer)) or not 1 <= block <= 256:
        raise InvalidInput("block", block, "must be an integer in [1, 256]")
    h, w = image.shape[:2]
    gh, gw = -(-h // block), -(-w // block)
    padded = cv2.copyMakeBorder(image, 0, gh * block - h, 0, gw * block - w, cv2.BORDER_REPLICATE)
    small = cv2.resize(padded, (gw, gh), interpolation=cv2.INTER_AREA)
    if palette is not None:
        small = map_to_palette(small, palette, table)
    big = cv2.resize(small, (gw * block, gh * block), interpolation=cv2.INTER_NEAREST)
    return np.ascontiguousarray(big[:h, :w])
