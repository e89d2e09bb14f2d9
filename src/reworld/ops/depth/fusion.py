"""Combining depth maps: parallax with monocular depth, and a frame with the previous result.

- :func:`fuse_depth` — monocular depth aligned to parallax depth (robust scale/shift) and
  blended by the parallax confidence.
- :func:`temporal_align` — a frame's depth aligned (robust scale/shift) to the previous result
  warped by the flow, then blended with it by confidence, so depth is stable over time.

Both fit the scale/shift with ``_robust_affine`` (Huber, IRLS) on evenly sampled pixels.
:func:`depth_to_rgb` colour-maps a result for display.
"""

from __future__ import annotations

import cv2
import numpy as np

from reworld.errors import InvalidInput
from reworld.ops.depth._common import _check_map, normalize_depth

__all__ = ["depth_to_rgb", "fuse_depth", "temporal_align"]


#: pixels sampled (evenly) for the robust scale/shift fits: plenty for two parameters
_FIT_SAMPLES = 8000


def _robust_affine(x: np.ndarray, y: np.ndarray, wts: np.ndarray, *, iters: int = 5) -> tuple[float, float]:
    """``(a, b)`` minimising ``Σ w ρ(a x + b − y)`` (Huber, IRLS); ``a`` kept ≥ 0."""
    if x.size < 10 or float(wts.sum()) <= 1e-6:
        return 1.0, 0.0
    w = wts.astype(np.float64)
    x = x.astype(np.float64)
    y = y.astype(np.float64)
    a, b = 1.0, 0.0
    for _ in range(iters):
        sw = w.sum()
        mx, my = (w * x).sum() / sw, (w * y).sum() / sw
        vx = (w * (x - mx) ** 2).sum() / sw
        if vx < 1e-10:
            a, b = 0.0, my
            break
        a = max(0.0, (w * (x - mx) * (y - my)).sum() / sw / vx)
        b = my - a * mx
        res = np.abs(a * x + b - y)
        delta = max(1.4826 * float(np.median(res)), 1e-3)
        w = wts * np.minimum(1.0, delta / (res + 1e-12))
    return float(a), float(b)


def fuse_depth(parallax: np.ndarray, confidence: np.ndarray, mono: np.ndarray, *, mono_weight: float = 0.3,
               sky_alpha: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Fuse parallax depth and monocular depth into one map.

    The monocular map is first aligned to the parallax map by a robust (Huber) weighted least
    squares scale and shift, weighted by the parallax confidence — a monocular cue that does not
    agree with the parallax gets a scale near 0 and so adds nothing but an offset. Then each
    pixel is ``(c · parallax + m · mono_aligned) / (c + m)`` with ``c`` the parallax confidence
    (zeroed in the sky, where flow is unreliable) and ``m = mono_weight``; the sky is put at
    the far end and the result is mapped to [0, 1] (:func:`normalize_depth`).

    Args:
        parallax: ``(h, w)`` float in [0, 1] (:class:`ParallaxDepth` ``.depth``).
        confidence: ``(h, w)`` float in [0, 1] (``.confidence``).
        mono: ``(h, w)`` float in [0, 1] (:class:`MonocularDepth` ``.depth``).
        mono_weight: weight of the monocular map where the parallax confidence is 1 (≥ 0).
        sky_alpha: optional ``(h, w)`` sky alpha.

    Returns:
        ``(depth (h, w) float32 in [0, 1], confidence float)`` — the confidence is the mean
        effective parallax confidence.

    Example:
        >>> p = np.tile(np.linspace(0, 1, 8, dtype=np.float32), (6, 1))
        >>> d, c = fuse_depth(p, np.ones_like(p), 1 - p)
        >>> bool(np.all(np.diff(d[0]) >= 0)), round(c, 2)
        (True, 1.0)
    """
    p = _check_map(parallax, "parallax")
    hw = p.shape
    c = np.clip(_check_map(confidence, "confidence", hw), 0, 1)
    m = _check_map(mono, "mono", hw)
    if not (isinstance(mono_weight, (int, float)) and mono_weight >= 0):
        raise InvalidInput("mono_weight", mono_weight, "must be a number >= 0")
    a_sky = np.zeros(hw, np.float32) if sky_alpha is None else np.clip(_check_map(sky_alpha, "sky_alpha", hw), 0, 1)
    c = c * (1 - a_sky)
    sel = c > 0.05
    stride = max(1, int(sel.sum()) // _FIT_SAMPLES)
    idx = np.flatnonzero(sel.ravel())[::stride]
    a, b = _robust_affine(m.ravel()[idx], p.ravel()[idx], c.ravel()[idx])
    m_al = a * m + b
    fused = (c * p + mono_weight * m_al) / (c + mono_weight + 1e-6)
    if a_sky.any():
        far = float(np.percentile(fused[a_sky < 0.5], 1)) if (a_sky < 0.5).any() else 0.0
        fused = fused * (1 - a_sky) + min(far, float(fused.min())) * a_sky
    nonsky = a_sky < 0.5
    out = normalize_depth(fused.astype(np.float32), weight=nonsky if nonsky.any() else None)
    if a_sky.any():
        out = out * (1 - a_sky)
    return out.astype(np.float32), float(c.mean())


def temporal_align(depth_t: np.ndarray, depth_prev_warped: np.ndarray, confidence: np.ndarray, *,
                   memory: float = 0.6, leak: float = 0.1) -> tuple[np.ndarray, tuple[float, float]]:
    """Make a frame's depth consistent with the previous result warped onto it.

    Relative depth has a free scale and shift per frame. ``depth_t`` is mapped by ``a·d + b``
    fitted by robust (Huber, IRLS) weighted least squares to ``depth_prev_warped`` (weights
    ``confidence``: 0 where the previous frame did not see the pixel), pulled back towards
    itself by ``leak`` (so small scale errors do not add up over a long shot), then blended:
    ``out = (1 − k)·aligned + k·prev`` with ``k = memory · confidence``.

    Args:
        depth_t: ``(h, w)`` float in [0, 1], this frame's estimate.
        depth_prev_warped: ``(h, w)`` float, the previous result warped onto this frame.
        confidence: ``(h, w)`` float in [0, 1], trust in ``depth_prev_warped`` per pixel.
        memory: in [0, 1), weight of the past where confidence is 1.
        leak: in [0, 1], share of the unaligned estimate kept.

    Returns:
        ``(depth (h, w) float32 in [0, 1], (scale, shift))``.

    Example:
        >>> prev = np.tile(np.linspace(0, 1, 10, dtype=np.float32), (4, 1))
        >>> out, (a, b) = temporal_align(0.5 * prev + 0.2, prev, np.ones_like(prev))
        >>> round(a, 2), round(b, 2), float(np.abs(out - prev).max()) < 0.05
        (2.0, -0.4, True)
    """
    d = _check_map(depth_t, "depth_t")
    hw = d.shape
    prev = _check_map(depth_prev_warped, "depth_prev_warped", hw)
    c = np.clip(_check_map(confidence, "confidence", hw), 0, 1)
    if not (isinstance(memory, (int, float)) and 0 <= memory < 1):
        raise InvalidInput("memory", memory, "must be a number in [0, 1)")
    if not (isinstance(leak, (int, float)) and 0 <= leak <= 1):
        raise InvalidInput("leak", leak, "must be a number in [0, 1]")
    sel = c > 0.05
    stride = max(1, int(sel.sum()) // _FIT_SAMPLES)
    idx = np.flatnonzero(sel.ravel())[::stride]
    a, b = _robust_affine(d.ravel()[idx], prev.ravel()[idx], c.ravel()[idx])
    if a < 0.25 or a > 4.0:  # the two disagree (a cut missed, a sign flip): keep this frame as it is
        a, b = 1.0, 0.0
    aligned = (1 - leak) * (a * d + b) + leak * d
    k = memory * c
    out = np.clip((1 - k) * aligned + k * prev, 0, 1).astype(np.float32)
    return out, (a, b)


def depth_to_rgb(depth: np.ndarray) -> np.ndarray:
    """Colour-map relative inverse depth (inferno: near = bright yellow, far = black/purple).

    Args:
        depth: ``(h, w)`` float in [0, 1] (or uint8/float16; values clipped).

    Returns:
        ``(h, w, 3)`` uint8 RGB.

    Example:
        >>> depth_to_rgb(np.array([[0.0, 1.0]], np.float32)).shape
        (1, 2, 3)
    """
    d = _check_map(np.asarray(depth), "depth")
    u8 = np.clip(d * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return cv2.applyColorMap(u8, cv2.COLORMAP_INFERNO)[..., ::-1].copy()
