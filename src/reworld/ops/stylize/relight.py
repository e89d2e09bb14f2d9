"""Relighting from estimated geometry, and sky recolouring.

- :func:`normals_from_depth` — surface normals from a relative inverse depth map: the depth is
  smoothed, its gradient scaled (``relief``) and ``n ∝ (−∂d/∂x, −∂d/∂y, 1)`` normalised. With no
  depth, :func:`normals_from_luma` uses blurred luma as a height field ("shape from shading"
  folk method: brighter = nearer the light); both are coarse, so they are used for soft shading
  only.
- :func:`depth_edges` — rim and occlusion maps from the depth's unsharp mask (Luft, Colditz &
  Deussen 2006, "Image enhancement by unsharp masking the depth buffer"): light catches the
  near side of a depth edge, the far side is shadowed;
- :func:`relight` — ``I · (ambient + key · max(0, n·l))`` with the lights mixed in linear light
  and a coloured key light from ``azimuth``/``elevation``, darkened by occlusion, plus a rim
  light on the rim map (and the inner band of a person mask) — a Lambertian relight as in
  classic image-based relighting demos. The shading is computed at ≤ 320 px (it is smooth).
- :func:`sky_gradient` — replace the sky (by its alpha) with a vertical colour gradient,
  keeping the sky's own light and dark (clouds) as a ratio.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from reworld.errors import InvalidInput
from reworld.ops.stylize._common import check_image, check_map, check_range, gaussian, hex_to_rgb, luma, resize, work_size

__all__ = ["depth_edges", "normals_from_depth", "normals_from_luma", "relight", "sky_gradient"]

_SKY_LUMA = np.float32(0.65)  #: reference sky luma for keeping cloud detail


def _normals(gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    n = np.stack([-gx, gy, np.ones_like(gx)], -1)  # y up
    return (n / np.linalg.norm(n, axis=-1, keepdims=True) + 0.0).astype(np.float32)  # + 0.0: no -0.0


def _gradients(height: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    gx = cv2.Sobel(height, cv2.CV_32F, 1, 0, ksize=3, borderType=cv2.BORDER_REFLECT) / np.float32(8.0)
    gy = cv2.Sobel(height, cv2.CV_32F, 0, 1, ksize=3, borderType=cv2.BORDER_REFLECT) / np.float32(8.0)
    return gx, gy


def normals_from_depth(depth: np.ndarray, shape: tuple[int, int] | None = None, *, relief: float = 30.0,
                       smooth: float = 3.0, edge: float = 0.02) -> np.ndarray:
    """Normals ``(H, W, 3)`` float32 (x right, y up, z toward the viewer) from relative inverse depth.

    Computed at ≤ 320 px (gradients of a coarse map), then resized to ``shape`` (``None``: kept
    at the working size, which is what :func:`relight` needs). Depth steps
    steeper than ``edge`` per working pixel are occlusion boundaries, not surfaces: their
    gradient is faded out (``g · exp(−(|g| / edge)²)``), so a person in front of a wall does not
    get a tilted band (a halo) around the silhouette; :func:`depth_edges` lights those instead.

    Args:
        depth: ``(h, w)`` in [0, 1], 1 = near. relief: gradient gain, [0, 500]. smooth: px, [0, 20].
        edge: discontinuity threshold in depth units per working pixel, (0, 1].

    Example:
        >>> n = normals_from_depth(np.full((8, 8), 0.5, np.float32), (8, 8))
        >>> n[4, 4].round(3).tolist()
        [0.0, 0.0, 1.0]
    """
    r = check_range(relief, "relief", 0.0, 500.0)
    s = check_range(smooth, "smooth", 0.0, 20.0)
    e = check_range(edge, "edge", 1e-4, 1.0)
    d = check_map(depth, depth.shape, "depth")
    small = resize(d, work_size(d.shape, 320))
    if s > 0:
        small = gaussian(small, s)
    gx, gy = _gradients(small)
    keep = np.exp(-(gx * gx + gy * gy) / np.float32(e * e))
    k = np.float32(r * small.shape[1] / 320.0)
    n = _normals(gx * keep * k, gy * keep * k)
    return n if shape is None else resize(n, shape)


def normals_from_luma(image: np.ndarray, *, relief: float = 6.0, smooth: float = 6.0,
                      full_size: bool = True) -> np.ndarray:
    """Coarse normals from blurred luma (a height field, "brighter = nearer the light").

    Returns ``(H, W, 3)``, or the ≤ 320 px working size when ``full_size`` is false.

    Example:
        >>> normals_from_luma(np.full((8, 8, 3), 0.5, np.float32))[2, 2].round(3).tolist()
        [0.0, 0.0, 1.0]
    """
    check_image(image)
    r = check_range(relief, "relief", 0.0, 500.0)
    s = check_range(smooth, "smooth", 0.0, 50.0)
    small = resize(luma(image), work_size(image.shape, 320))
    scale = small.shape[1] / image.shape[1]
    gx, gy = _gradients(gaussian(small, max(0.5, s * scale)))
    k = np.float32(r * small.shape[1] / 320.0)
    n = _normals(gx * k, gy * k)
    return resize(n, image.shape[:2]) if full_size else n


def depth_edges(depth: np.ndarray, shape: tuple[int, int] | None = None, *,
                radius: float = 0.012) -> tuple[np.ndarray, np.ndarray]:
    """Rim and occlusion maps from the depth's unsharp mask (Luft, Colditz & Deussen 2006).

    ``Δ = d − blur(d)`` is positive just inside the near side of a depth edge (where a rim light
    catches a silhouette) and negative just outside it (the background that the near object
    shadows: ambient occlusion).

    Args:
        depth: ``(h, w)`` relative inverse depth. shape: output (H, W) (``None``: the ≤ 320 px
            working size).
        radius: blur radius as a share of the image height, (0, 0.2].

    Returns:
        ``(rim, occlusion)``, both ``(H, W)`` float32 in [0, 1].

    Example:
        >>> d = np.zeros((40, 40), np.float32); d[10:30, 10:30] = 1.0
        >>> rim, occ = depth_edges(d, (40, 40))
        >>> bool(rim[11, 20] > rim[20, 20]), bool(occ[8, 20] > occ[0, 0])
        (True, True)
    """
    rad = check_range(radius, "radius", 1e-3, 0.2)
    d = check_map(depth, depth.shape, "depth")
    small = resize(d, work_size(d.shape, 320))
    delta = small - gaussian(small, max(1.0, rad * small.shape[0]))
    rim = np.clip(delta * 5.0, 0.0, 1.0) ** 1.5
    occ = np.clip(-delta * 4.0, 0.0, 1.0)
    if shape is not None:
        rim, occ = resize(rim, shape), resize(occ, shape)
    return rim, occ


def relight(image: np.ndarray, normals: np.ndarray, *, azimuth: float = 135.0, elevation: float = 35.0,
            key: str = "#ffffff", key_strength: float = 1.0, ambient: str = "#ffffff", ambient_strength: float = 0.6,
            rim: str = "#ffffff", rim_strength: float = 0.0, rim_map: np.ndarray | None = None,
            occlusion: np.ndarray | None = None, person_alpha: np.ndarray | None = None) -> np.ndarray:
    """Lambert key light + ambient + rim; lights are mixed in linear light.

    ``shade = a·A + k·K·max(0, n·l) / l_z`` (linear light; flat ground facing the camera gets
    ``a·A + k·K``, so choose ``a + k ≈ 1`` to keep exposure), darkened by ``1 − 0.3·occlusion``.
    Shading is smooth, so it is computed at the size of ``normals`` (e.g. ≤ 320 px), upsampled,
    and applied to the sRGB signal as ``I · shade^(1/2.2)`` (exact for a 2.2 power law, close
    to sRGB); the rim adds ``0.5·r·R^(1/2.2)·rim_map·(0.3 + I)``.

    Args:
        image: ``(H, W, 3)`` float32 sRGB. normals: ``(h, w, 3)`` unit normals (x right, y up),
            any size (resized).
        azimuth: key direction in degrees (0 = from the right, 90 = from above).
        elevation: [0, 90] degrees above the image plane (90 = from the camera).
        key, ambient, rim: ``"#rrggbb"``. key_strength, ambient_strength, rim_strength: [0, 4].
        rim_map, occlusion: optional ``(h, w)`` in [0, 1] (e.g. :func:`depth_edges`), resized.
        person_alpha: optional ``(h, w)`` alpha; its inner border is added to the rim map.

    Example:
        >>> img = np.full((4, 4, 3), 0.5, np.float32)
        >>> n = np.zeros((4, 4, 3), np.float32); n[..., 2] = 1
        >>> out = relight(img, n, elevation=90.0, key_strength=0.4, ambient_strength=0.6)
        >>> bool(np.allclose(out, img, atol=1e-3))
        True
    """
    check_image(image)
    el = math.radians(check_range(elevation, "elevation", 0.0, 90.0))
    ks = check_range(key_strength, "key_strength", 0.0, 4.0)
    am = check_range(ambient_strength, "ambient_strength", 0.0, 4.0)
    rs = check_range(rim_strength, "rim_strength", 0.0, 4.0)
    if not isinstance(normals, np.ndarray) or normals.ndim != 3 or normals.shape[2] != 3:
        raise InvalidInput("normals", getattr(normals, "shape", type(normals).__name__), "must be (h, w, 3)")
    shape = image.shape[:2]
    low = normals.shape[:2]
    az = math.radians(azimuth)
    lvec = np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)], np.float32)
    lam = np.clip(normals.astype(np.float32) @ lvec, 0.0, None) / np.float32(max(lvec[2], 0.25))
    shade = am * hex_to_rgb(ambient) ** 2.2 + (ks * lam)[..., None] * hex_to_rgb(key) ** 2.2
    occ = check_map(occlusion, low, "occlusion")
    if occ is not None:
        shade = shade * (1.0 - 0.3 * occ)[..., None]
    gain = resize(np.power(np.maximum(shade, 0.0), np.float32(1 / 2.2)).astype(np.float32), shape)
    out = image * gain
    if rs > 0:
        r = check_map(rim_map, shape, "rim_map")
        r = np.zeros(shape, np.float32) if r is None else r
        alpha = check_map(person_alpha, shape, "person_alpha")
        if alpha is not None:
            inner = np.clip(alpha - gaussian(alpha, max(1.5, shape[0] / 240.0)), 0.0, 1.0) * 2.0
            r = np.maximum(r, np.clip(inner, 0.0, 1.0))
        out += (np.float32(0.5 * rs) * r)[..., None] * hex_to_rgb(rim) * (np.float32(0.3) + image)
    return np.clip(out, 0.0, 1.0)


def sky_gradient(image: np.ndarray, sky_alpha: np.ndarray | None, *, top: str = "#1b3b8a", horizon: str = "#f0a060",
                 detail: float = 0.6, strength: float = 1.0, horizon_row: float = 0.6) -> np.ndarray:
    """Recolour the sky with a vertical gradient (top → horizon), keeping cloud light as a ratio.

    The gradient runs from the top row to ``horizon_row`` (a share of the height, fixed so it
    never jumps between frames); the sky's luma relative to a typical sky (0.65) scales it, so
    clouds stay lighter. Without ``sky_alpha`` the image is returned unchanged (a copy).

    Args:
        sky_alpha: ``(h, w)`` alpha in [0, 1] (uint8 accepted) or ``None``.
        top, horizon: ``"#rrggbb"``. detail: [0, 2] how much of the sky's own luma modulation
            is kept. strength: [0, 1] opacity. horizon_row: (0, 1].

    Example:
        >>> img = np.full((4, 4, 3), 0.5, np.float32)
        >>> bool(np.array_equal(sky_gradient(img, None), img))
        True
    """
    check_image(image)
    dt = check_range(detail, "detail", 0.0, 2.0)
    st = check_range(strength, "strength", 0.0, 1.0)
    check_range(horizon_row, "horizon_row", 1e-3, 1.0)
    alpha = check_map(sky_alpha, image.shape[:2], "sky_alpha")
    if alpha is None or st == 0 or float(alpha.max()) <= 0.0:
        return image.copy()
    h = image.shape[0]
    y = np.clip(np.arange(h, dtype=np.float32) / np.float32(max(horizon_row * h, 1.0)), 0.0, 1.0) ** 1.3
    grad = hex_to_rgb(top)[None, :] + y[:, None] * (hex_to_rgb(horizon) - hex_to_rgb(top))[None, :]
    grad = np.broadcast_to(grad[:, None, :], image.shape)
    ratio = (1.0 + np.float32(dt) * (luma(image) - _SKY_LUMA) / _SKY_LUMA)[..., None]
    sky = np.clip(grad * ratio, 0.0, 1.0)
    a = (alpha * np.float32(st))[..., None]
    return (image + a * (sky - image)).astype(np.float32)
