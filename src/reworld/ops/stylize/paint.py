"""Painterly media: oil paint, watercolour, chalk pastel, and relief lighting of a paint surface.

- :func:`oil_paint` — smooth Kuwahara patches (:func:`.abstraction.kuwahara`, at a reduced
  working size) painted over by :func:`brush_strokes` (Hertzmann 1998, straight strokes on
  seeded anchors, coarse to fine, oriented along the structure tensor's edge direction) and lit
  as impasto (:func:`relief`);
- :func:`orient_strokes` — four stroke textures at 0/45/90/135° blended by the local edge
  direction (a cheap stand-in for line-integral convolution), for streaky media;
- :func:`watercolour` — Bousseau, Kaplan, Thollot & Sillion 2006 ("Interactive watercolor
  rendering with temporal coherence and abstraction"): an abstracted image is wobbled by
  low-frequency noise (hand-made edges), then its pigment density is modulated by paper
  texture, turbulent granulation and edge darkening with their colour model
  ``C' = C (1 − (1 − C)(d − 1))``;
- :func:`pastel` — chalk on toned paper: colour laid only where the paper's tooth catches it
  (coverage grows with the stroke pressure), with directional strokes;
- :func:`relief` — light a height field (luma and/or a texture) with one directional light:
  impasto ridges, clay thumbprints, embossed paper.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from reworld.errors import InvalidInput
from reworld.ops.stylize._common import (
    check_image,
    check_range,
    gaussian,
    hex_to_rgb,
    luma,
    resize,
    smoothstep,
    work_size,
)
from reworld.ops.stylize.abstraction import abstract, kuwahara

__all__ = ["StrokeLayout", "brush_strokes", "make_strokes", "oil_paint", "orient_strokes", "pastel", "relief", "watercolour"]


def relief(image: np.ndarray, height: np.ndarray, *, strength: float = 1.0, azimuth: float = 135.0,
           elevation: float = 45.0, specular: float = 0.0) -> np.ndarray:
    """Shade ``image`` by lighting a height field ``(H, W)`` (units: grey levels; slope ~ edges).

    Normals ``n ∝ (−s ∂h/∂x, −s ∂h/∂y, 1)`` (Sobel derivatives, ~8x the per-pixel slope) with ``s = strength``; the shading is
    ``(n·l) / l_z`` (1 on flat ground) plus an optional Blinn specular.

    Args:
        strength: in [0, 8]. azimuth: light direction in degrees (0 = from the right, 90 =
            from the top). elevation: in [5, 90] degrees. specular: in [0, 1].

    Example:
        >>> img = np.full((8, 8, 3), 0.5, np.float32)
        >>> bool(np.allclose(relief(img, np.zeros((8, 8), np.float32)), img))
        True
    """
    check_image(image)
    st = check_range(strength, "strength", 0.0, 8.0)
    el = np.radians(check_range(elevation, "elevation", 5.0, 90.0))
    sp = check_range(specular, "specular", 0.0, 1.0)
    az = np.radians(azimuth)
    lx, ly, lz = np.cos(el) * np.cos(az), -np.cos(el) * np.sin(az), np.sin(el)
    gx = cv2.Sobel(height, cv2.CV_32F, 1, 0, ksize=3, borderType=cv2.BORDER_REFLECT) * np.float32(st)
    gy = cv2.Sobel(height, cv2.CV_32F, 0, 1, ksize=3, borderType=cv2.BORDER_REFLECT) * np.float32(st)
    norm = np.sqrt(gx * gx + gy * gy + 1.0)
    ndotl = (-gx * np.float32(lx) - gy * np.float32(ly) + np.float32(lz)) / norm
    shade = np.clip(ndotl / np.float32(lz), 0.0, 2.0)
    out = image * shade[..., None]
    if sp > 0:
        hx, hy, hz = lx, ly, lz + 1.0
        hn = np.sqrt(hx * hx + hy * hy + hz * hz)
        ndoth = (-gx * np.float32(hx / hn) - gy * np.float32(hy / hn) + np.float32(hz / hn)) / norm
        out = out + np.float32(sp) * np.clip(ndoth, 0.0, 1.0)[..., None] ** 40
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def orient_strokes(image: np.ndarray, layers: Sequence[np.ndarray], *, sigma: float = 6.0) -> np.ndarray:
    """Blend four stroke textures made at 0/45/90/135° by the local edge (tangent) direction.

    The structure tensor of the luma (smoothed by ``sigma`` px, computed at ≤ 320 px) gives the
    dominant gradient angle θ; strokes run along the edges (θ + 90°). Layer weights are
    ``cos²(angle_i − tangent)``-like (a partition of unity over the four angles).

    Returns:
        ``(H, W)`` float32 in [0, 1].
    """
    if len(layers) != 4:
        raise InvalidInput("layers", len(layers), "must be 4 stroke layers (0, 45, 90, 135 degrees)")
    h, w = image.shape[:2]
    small = resize(luma(image), work_size(image.shape, 320))
    gx = cv2.Sobel(small, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(small, cv2.CV_32F, 0, 1, ksize=3)
    s = max(0.5, sigma * small.shape[1] / w)
    jxx, jyy, jxy = gaussian(gx * gx, s), gaussian(gy * gy, s), gaussian(gx * gy, s)
    # doubled-angle representation of the tangent (edge) direction, in image coordinates
    c2, s2 = -(jxx - jyy), -2.0 * jxy
    mag = np.sqrt(c2 * c2 + s2 * s2) + 1e-6
    c2, s2 = resize(c2 / mag, (h, w)), resize(s2 / mag, (h, w))
    out = np.zeros((h, w), np.float32)
    total = np.zeros((h, w), np.float32)
    for layer, ang in zip(layers, (0.0, 45.0, 90.0, 135.0)):
        a2 = np.radians(2 * ang)
        # texture angles are counter-clockwise with y up; image y points down
        wgt = np.clip(c2 * np.float32(np.cos(a2)) - s2 * np.float32(np.sin(a2)), 0.0, 1.0) ** 2 + 0.05
        out += wgt * layer
        total += wgt
    return out / total


@dataclass(frozen=True)
class StrokeLayout:
    """Seeded brush-stroke anchors for :func:`brush_strokes` (made once per clip).

    Attributes:
        centres: list per layer (coarse first) of ``(n, 2)`` float32 (x, y) in [0, 1) of the frame.
        jitter: list per layer of ``(n,)`` float32 in [-1, 1]: per-stroke paint variation.
        brush: brush width per layer in px at 720 lines.
    """

    centres: tuple[np.ndarray, ...]
    jitter: tuple[np.ndarray, ...]
    brush: tuple[float, ...]


def make_strokes(rng: np.random.Generator, *, aspect: float = 16 / 9, brush: float = 12.0, layers: int = 2) -> StrokeLayout:
    """Jittered-grid stroke anchors, shuffled, per layer (each layer's brush 1/1.6 of the last).

    Args:
        rng: generator. aspect: frame width / height. brush: coarse brush width in px at 720
            lines, [2, 64]. layers: [1, 3].

    Example:
        >>> lay = make_strokes(np.random.default_rng(0), brush=24.0, layers=1)
        >>> lay.centres[0].shape[1], len(lay.brush)
        (2, 1)
    """
    b = check_range(brush, "brush", 2.0, 64.0)
    if not 1 <= layers <= 3:
        raise InvalidInput("layers", layers, "must be 1, 2 or 3")
    centres, jitter, brushes = [], [], []
    for k in range(layers):
        bk = b / 1.6**k
        step = bk * 0.8 / 720.0  # anchor spacing as a share of the frame height
        ny, nx = int(np.ceil(1.0 / step)), int(np.ceil(aspect / step))
        gy, gx = np.mgrid[0:ny, 0:nx].astype(np.float64)
        pts = np.stack([(gx.ravel() + rng.random(gx.size)) * step / aspect, (gy.ravel() + rng.random(gy.size)) * step], 1)
        pts = pts[(pts[:, 0] < 1.0) & (pts[:, 1] < 1.0)]
        pts = pts[rng.permutation(len(pts))]
        centres.append(pts.astype(np.float32))
        jitter.append(rng.uniform(-1.0, 1.0, len(pts)).astype(np.float32))
        brushes.append(bk)
    return StrokeLayout(tuple(centres), tuple(jitter), tuple(brushes))


def brush_strokes(image: np.ndarray, layout: StrokeLayout, *, length: float = 2.5, detail: float = 0.08,
                  variation: float = 0.06) -> np.ndarray:
    """Paint the image with straight brush strokes (Hertzmann 1998, "Painterly rendering with curved
    brush strokes of multiple sizes", simplified to straight strokes on fixed seeded anchors).

    Every anchor of the coarse layer gets a stroke of the coarse brush, coloured by the blurred
    picture at the anchor and oriented along the local edge direction (structure tensor); finer
    layers add strokes only where the picture differs from the painting so far by more than
    ``detail``. Anchors are fixed for the clip (warpable), colours and directions follow the
    frame, so strokes stay put on a static shot.

    Args:
        image: ``(H, W, 3)`` float32. layout: from :func:`make_strokes`.
        length: stroke length in brush widths, [1, 8]. detail: [0, 1] colour error (RGB
            distance) above which finer strokes are laid. variation: per-stroke brightness
            jitter, [0, 0.3].

    Returns:
        ``(H, W, 3)`` float32 (8-bit precision: strokes are drawn anti-aliased on 8 bits, on a
        canvas of long side ≤ 800 px that is then resized to the frame).

    Example:
        >>> img = np.random.default_rng(0).random((36, 64, 3), dtype=np.float32)
        >>> brush_strokes(img, make_strokes(np.random.default_rng(1), brush=40.0)).shape
        (36, 64, 3)
    """
    check_image(image)
    ln = check_range(length, "length", 1.0, 8.0)
    dt = check_range(detail, "detail", 0.0, 1.0)
    var = check_range(variation, "variation", 0.0, 0.3)
    h, w = image.shape[:2]
    px = h / 720.0
    # edge tangent directions at low resolution
    small = resize(luma(image), work_size(image.shape, 320))
    gx = cv2.Sobel(small, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(small, cv2.CV_32F, 0, 1, ksize=3)
    sig = max(1.0, 4.0 * small.shape[0] / 180.0)
    jxx, jyy, jxy = gaussian(gx * gx, sig), gaussian(gy * gy, sig), gaussian(gx * gy, sig)
    theta = 0.5 * np.arctan2(2.0 * jxy, jxx - jyy) + np.pi / 2  # tangent = gradient + 90 degrees
    canvas = None
    # colours are sampled from blurred copies made at a reduced size (cheap; blur hides the scale),
    # and strokes are drawn on a canvas of long side <= 800 px, upsampled at the end
    lsize = work_size(image.shape, 480)
    lscale = lsize[0] / h
    low = resize(image, lsize)
    ch, cw = work_size(image.shape, 800)
    cs = ch / h
    for k, (centres, jit, brush) in enumerate(zip(layout.centres, layout.jitter, layout.brush)):
        bw = max(1.0, brush * px)
        ref_low = gaussian(low, max(0.5, bw * lscale / 3.0))
        if canvas is None:
            under = resize(gaussian(low, max(0.5, bw * lscale)), (ch, cw))
            canvas = np.clip(under * 255.0 + 0.5, 0, 255).astype(np.uint8)
        xs = np.clip((centres[:, 0] * cw).astype(np.int32), 0, cw - 1)
        ys = np.clip((centres[:, 1] * ch).astype(np.int32), 0, ch - 1)
        sample = ref_low[np.clip((centres[:, 1] * lsize[0]).astype(np.int32), 0, lsize[0] - 1),
                         np.clip((centres[:, 0] * lsize[1]).astype(np.int32), 0, lsize[1] - 1)]
        cols = sample * (1.0 + var * jit)[:, None]
        if k > 0 and dt > 0:
            err = np.linalg.norm(canvas[ys, xs].astype(np.float32) / 255.0 - sample, axis=1)
            keep = err > dt
            xs, ys, cols = xs[keep], ys[keep], cols[keep]
        th = theta[np.clip(ys * small.shape[0] // ch, 0, small.shape[0] - 1),
                   np.clip(xs * small.shape[1] // cw, 0, small.shape[1] - 1)]
        half = 0.5 * ln * bw * cs * 16.0  # in 1/16 canvas pixels (cv2 shift=4)
        dx, dy = (np.cos(th) * half).astype(np.int32), (np.sin(th) * half).astype(np.int32)
        cols8 = np.clip(cols * 255.0 + 0.5, 0, 255).astype(np.int32).tolist()
        thick = max(1, int(round(bw * cs)))
        line = cv2.line
        for x, y, ddx, ddy, c in zip((xs * 16).tolist(), (ys * 16).tolist(), dx.tolist(), dy.tolist(), cols8):
            line(canvas, (x - ddx, y - ddy), (x + ddx, y + ddy), c, thick, cv2.LINE_AA, shift=4)
    canvas = resize(canvas, (h, w))
    return canvas.astype(np.float32) / np.float32(255.0)


def oil_paint(image: np.ndarray, layout: StrokeLayout | None = None, *, radius: int = 4, work_long_side: int = 640,
              impasto: float = 1.0, azimuth: float = 120.0, length: float = 2.5, detail: float = 0.08) -> np.ndarray:
    """Oil paint: Kuwahara patches painted over with brush strokes, lit as impasto.

    Args:
        image: ``(H, W, 3)`` float32.
        layout: optional :class:`StrokeLayout` (no strokes without it: Kuwahara patches only).
        radius: Kuwahara radius at the working size, [1, 16].
        work_long_side: Kuwahara working long side in [128, 4096] (upsampled bilinearly).
        impasto: relief strength of the paint ridges, [0, 4]. azimuth: light direction, degrees.
        length: stroke length in brush widths, [1, 8]. detail: see :func:`brush_strokes`.

    Example:
        >>> img = np.random.default_rng(0).random((24, 32, 3), dtype=np.float32)
        >>> oil_paint(img, radius=2).shape
        (24, 32, 3)
    """
    check_image(image)
    imp = check_range(impasto, "impasto", 0.0, 4.0)
    if not 128 <= work_long_side <= 4096:
        raise InvalidInput("work_long_side", work_long_side, "must be in [128, 4096]")
    size = work_size(image.shape, work_long_side)
    painted = resize(kuwahara(resize(image, size), radius=radius, sharpness=8.0), image.shape[:2])
    if layout is not None:
        painted = brush_strokes(painted, layout, length=length, detail=detail)
    if imp > 0:
        painted = relief(painted, luma(painted), strength=imp, azimuth=azimuth, elevation=55.0,
                         specular=0.1 * min(imp, 1.0))
    return np.clip(painted, 0.0, 1.0)


def watercolour(image: np.ndarray, paper: np.ndarray, granulation: np.ndarray, wobble: np.ndarray, *,
                abstraction: float = 1.0, edge_darkening: float = 1.0, granulation_strength: float = 0.6,
                paper_strength: float = 0.5, wobble_px: float = 3.0, work_long_side: int = 640) -> np.ndarray:
    """Watercolour after Bousseau et al. 2006 (see the module docstring).

    Args:
        image: ``(H, W, 3)`` float32.
        paper: ``(H, W)`` paper texture; granulation: ``(H, W)`` turbulence texture; both mean ~0.5.
        wobble: ``(H, W, 2)`` displacement noise in [0, 1] (0.5 = none).
        abstraction: smoothing strength, [0, 2]. edge_darkening: [0, 3] (pigment gathers at
            the borders of washes). granulation_strength, paper_strength: [0, 2].
        wobble_px: edge wobble amplitude in px, [0, 16].
        work_long_side: abstraction working size, [128, 4096].

    Example:
        >>> img = np.full((16, 16, 3), 0.6, np.float32); t = np.full((16, 16), 0.5, np.float32)
        >>> watercolour(img, t, t, np.full((16, 16, 2), 0.5, np.float32)).shape
        (16, 16, 3)
    """
    check_image(image)
    ab = check_range(abstraction, "abstraction", 0.0, 2.0)
    ed = check_range(edge_darkening, "edge_darkening", 0.0, 3.0)
    gs = check_range(granulation_strength, "granulation_strength", 0.0, 2.0)
    ps = check_range(paper_strength, "paper_strength", 0.0, 2.0)
    wp = check_range(wobble_px, "wobble_px", 0.0, 16.0)
    h, w = image.shape[:2]
    base = image
    if ab > 0:
        base = abstract(image, sigma_s=30.0 * ab + 5.0, sigma_r=0.12 + 0.1 * ab, iterations=3,
                        work_long_side=work_long_side)
    if wp > 0:
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        mx = xx + (wobble[..., 0] - 0.5) * np.float32(2 * wp)
        my = yy + (wobble[..., 1] - 0.5) * np.float32(2 * wp)
        base = cv2.remap(base, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    # edge darkening: pigment migrates to the border of a wash (gradient of the blurred wash)
    small = resize(base, work_size(base.shape, 480))
    blur = gaussian(small, 1.5)
    gx = cv2.Sobel(blur, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(blur, cv2.CV_32F, 0, 1, ksize=3)
    edge = np.sqrt((gx * gx + gy * gy).sum(axis=2))
    edge = resize(np.clip(edge * 2.0, 0.0, 1.0), (h, w))
    density = 1.0 + ed * 0.6 * edge + gs * 0.5 * (granulation - 0.5) + ps * 0.5 * (paper - 0.5)
    d = (density - 1.0)[..., None]
    out = base * (1.0 - (1.0 - base) * d)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def pastel(image: np.ndarray, paper: np.ndarray, strokes: np.ndarray, *, paper_colour: str = "#e9e0cf",
           coverage: float = 0.7, work_long_side: int = 480) -> np.ndarray:
    """Chalk pastel on toned paper.

    Args:
        image: ``(H, W, 3)`` float32. paper: ``(H, W)`` tooth texture; strokes: ``(H, W)``.
        paper_colour: ``"#rrggbb"`` colour of the paper showing through.
        coverage: in [0, 1]; how much pigment is laid overall.
        work_long_side: abstraction working size.

    Example:
        >>> t = np.full((16, 16), 0.5, np.float32)
        >>> pastel(np.full((16, 16, 3), 0.4, np.float32), t, t).shape
        (16, 16, 3)
    """
    check_image(image)
    cov = check_range(coverage, "coverage", 0.0, 1.0)
    base = abstract(image, sigma_s=20.0, sigma_r=0.2, iterations=2, work_long_side=work_long_side)
    y = luma(base)
    pressure = np.clip(cov * (0.55 + 0.45 * (1.0 - y)) + 0.5 * (strokes - 0.3), 0.0, 1.0)
    catch = smoothstep(-0.25, 0.25, pressure - (1.0 - np.clip(paper, 0, 1)))
    catch = catch[..., None]
    pc = hex_to_rgb(paper_colour)
    chalk = np.clip(base * 1.08 + 0.03, 0.0, 1.0)
    return np.clip(pc + catch * (chalk - pc), 0.0, 1.0).astype(np.float32)
