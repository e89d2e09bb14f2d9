"""Per-frame image-quality measures: blur, noise, exposure and global (camera) motion.

Pure functions over arrays (layer 1: numpy + OpenCV, no I/O). Every function takes one
frame as ``(H, W, 3)`` uint8 RGB or ``(H, W)`` uint8 grey and returns plain floats, so
:mod:`reworld.analysis.quality` can aggregate them over a few sampled frames.

Luma is BT.601 (``0.299 R + 0.587 G + 0.114 B``) in 0–255 levels, as OpenCV's
``COLOR_RGB2GRAY`` computes it.

Resolution: measures that depend on the pixel grid are taken at a fixed *analysis size*
(long side :data:`ANALYSIS_LONG_SIDE` = 512 px) so a 4K and a 480p copy of the same shot give
comparable numbers:

- :func:`sharpness` resizes every frame (down with area averaging, up with bilinear) to
  the analysis size, so a sharp but tiny frame scores as soft, as it will look when shown
  at 512 px.
- :func:`global_motion` tracks at the analysis size (never upsampled) and reports pixels of
  the *input* frame.
- :func:`noise_sigma` is the exception: resampling averages noise away, so it is measured at
  the input's own pixel grid (that is what "σ levels of noise" means).
- :func:`exposure_stats` counts pixels, which does not depend on the size.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import cv2
import numpy as np

from reworld.errors import InvalidInput

__all__ = [
    "ANALYSIS_LONG_SIDE",
    "GlobalMotion",
    "exposure_stats",
    "global_motion",
    "motion_luma",
    "noise_sigma",
    "sharpness",
    "to_luma",
]

#: Long side, in pixels, of the grid that :func:`sharpness` and :func:`global_motion` work on.
ANALYSIS_LONG_SIDE = 512

# Immerkær (1996) noise mask: the difference of two Laplacians; it cancels any locally
# quadratic signal. Its squared coefficients sum to 36, so white noise of std σ gives a
# residual of std 6σ.
_IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)

# minimum tracked points / RANSAC inliers before global_motion trusts the feature fit.
_MIN_TRACKS = 12
_MIN_INLIERS = 8


class GlobalMotion(NamedTuple):
    """Similarity motion between two frames (unpacks as ``dx, dy, angle_deg, scale, inliers``).

    Attributes:
        dx, dy: displacement in pixels of the input frame of the frame *centre*, from
            ``frame_a`` to ``frame_b`` (content moving right gives ``dx > 0``, down ``dy > 0``).
        angle_deg: rotation in degrees about the centre; positive turns +x toward +y
            (clockwise on screen, since image y points down).
        scale: zoom factor (``> 1`` when content grows in ``frame_b``).
        inliers: RANSAC inliers of the feature fit; ``0`` when too few features were found
            and the translation came from phase correlation (angle 0, scale 1 then).
    """

    dx: float
    dy: float
    angle_deg: float
    scale: float
    inliers: int


def to_luma(frame: np.ndarray, *, arg: str = "frame") -> np.ndarray:
    """Validate one frame and return its BT.601 luma.

    Args:
        frame: ``(H, W, 3)`` uint8 RGB or ``(H, W)`` uint8 grey, at least 8×8 pixels.
        arg: the argument name used in error messages.

    Returns:
        ``(H, W)`` uint8 luma in 0–255 levels (the input itself when already grey; never a
        writable view of it that this module writes to).

    Raises:
        InvalidInput: wrong type, dtype, shape, or a frame smaller than 8×8.

    Example:
        >>> int(to_luma(np.full((8, 8, 3), 200, np.uint8))[0, 0])
        200
    """
    if not isinstance(frame, np.ndarray):
        raise InvalidInput(arg, type(frame).__name__, "must be a numpy array")
    if frame.dtype != np.uint8:
        raise InvalidInput(arg, frame.dtype, "must have dtype uint8")
    if not (frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] == 3)):
        raise InvalidInput(arg, frame.shape, "must have shape (H, W, 3) RGB or (H, W) grey")
    if frame.shape[0] < 8 or frame.shape[1] < 8:
        raise InvalidInput(arg, frame.shape, "must be at least 8x8 pixels")
    if frame.ndim == 2:
        return frame
    return cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)


def _analysis_scale(shape: tuple[int, ...], *, upsample: bool) -> float:
    """Factor from the input grid to the analysis grid (long side → 512)."""
    s = ANALYSIS_LONG_SIDE / max(shape[0], shape[1])
    return s if (upsample or s < 1.0) else 1.0


def _resize(luma: np.ndarray, s: float) -> np.ndarray:
    if s == 1.0:
        return luma
    h, w = luma.shape
    size = (max(8, round(w * s)), max(8, round(h * s)))  # a sliver frame keeps >= 8 px across
    interp = cv2.INTER_AREA if s < 1.0 else cv2.INTER_LINEAR
    return cv2.resize(luma, size, interpolation=interp)


def sharpness(frame: np.ndarray) -> float:
    """Variance of the Laplacian of luma at the analysis size (higher = sharper).

    The frame is resized so its long side is 512 px (area averaging down, bilinear up) and
    filtered with the 4-neighbour Laplacian ``[[0,1,0],[1,-4,1],[0,1,0]]`` on float luma in
    0–255 levels. The result is in levels² at that size: roughly < 50 looks soft, 100–1000 is
    ordinary video, and textured sharp photos reach several thousand. It also grows with
    the amount of texture and with noise (white noise of std σ adds ``20 σ²``), so compare
    it between versions of one shot rather than across unrelated scenes.

    Args:
        frame: ``(H, W, 3)`` uint8 RGB or ``(H, W)`` uint8 grey.

    Returns:
        Laplacian variance in levels² at the analysis size (≥ 0).

    Example:
        >>> sharpness(np.full((64, 64), 128, np.uint8))
        0.0
    """
    luma = _resize(to_luma(frame), _analysis_scale(frame.shape, upsample=True))
    lap = cv2.Laplacian(luma.astype(np.float32), cv2.CV_32F, ksize=1, borderType=cv2.BORDER_REFLECT)
    return float(lap[1:-1, 1:-1].astype(np.float64).var())


def noise_sigma(frame: np.ndarray) -> float:
    """Estimated std of additive Gaussian noise, in 0–255 luma levels, at the input's pixel grid.

    Immerkær's (1996) fast estimator restricted to flat areas: the luma is filtered with
    the mask ``[[1,-2,1],[-2,4,-2],[1,-2,1]]`` (which cancels smooth shading), pixels near
    edges and texture (gradient magnitude above its 40th percentile, after smoothing) are
    dropped, and σ is ``sqrt(π/2) · mean|residual| / 6`` over what remains. When the frame
    has almost no flat area the lowest-gradient 10 % are used instead. It is measured
    without resampling (resizing would average the noise away). Clean 8-bit video reads
    about 0.3–1.5 (quantisation, compression), visible grain 3 and up.

    Args:
        frame: ``(H, W, 3)`` uint8 RGB or ``(H, W)`` uint8 grey.

    Returns:
        σ in luma levels (≥ 0).

    Example:
        >>> rng = np.random.default_rng(0)  # fixed seed: a reproducible noisy grey frame
        >>> img = np.clip(128 + rng.normal(0, 5, (128, 128)), 0, 255).round().astype(np.uint8)
        >>> round(noise_sigma(img))
        5
    """
    luma = to_luma(frame).astype(np.float32)
    res = np.abs(cv2.filter2D(luma, cv2.CV_32F, _IMMERKAER, borderType=cv2.BORDER_REFLECT))
    res = res[1:-1, 1:-1]
    # structure measure: Sobel gradient magnitude of a slightly smoothed image (noise alone
    # gives a gradient field that is spatially uniform, edges and texture stand out).
    smooth = cv2.GaussianBlur(luma, (0, 0), 1.0)
    gx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3)
    grad = cv2.GaussianBlur(cv2.magnitude(gx, gy), (0, 0), 1.5)[1:-1, 1:-1]
    # skip pixels at the clip limits: clipping hides noise.
    unclipped = (luma[1:-1, 1:-1] > 2) & (luma[1:-1, 1:-1] < 253)
    if unclipped.sum() < 64:
        return 0.0
    g = grad[unclipped]
    r = res[unclipped]
    flat = g <= np.percentile(g, 40)
    if flat.sum() < 64:
        flat = g <= np.percentile(g, 10)
    return float(math.sqrt(math.pi / 2.0) * r[flat].mean() / 6.0)


def exposure_stats(frame: np.ndarray) -> dict[str, float]:
    """Clipping fractions and luma distribution of one frame.

    Counted on uint8 BT.601 luma at the input's size (fractions do not depend on size).

    Args:
        frame: ``(H, W, 3)`` uint8 RGB or ``(H, W)`` uint8 grey.

    Returns:
        ``{"clip_high", "clip_low", "mean", "p1", "p50", "p99"}``: fractions in [0, 1] of
        pixels with luma ≥ 250 and ≤ 5; mean luma and its 1st/50th/99th percentiles in
        0–255 levels (percentiles are whole levels, the lowest level whose cumulative
        share reaches the percentile).

    Example:
        >>> s = exposure_stats(np.full((16, 16), 255, np.uint8))
        >>> s["clip_high"], s["p50"]
        (1.0, 255.0)
    """
    luma = to_luma(frame)
    hist = np.bincount(luma.ravel(), minlength=256).astype(np.float64)
    n = hist.sum()
    cdf = np.cumsum(hist) / n

    def pct(q: float) -> float:
        return float(np.searchsorted(cdf, q / 100.0, side="left"))

    return {
        "clip_high": float(hist[250:].sum() / n),
        "clip_low": float(hist[:6].sum() / n),
        "mean": float((hist * np.arange(256)).sum() / n),
        "p1": pct(1),
        "p50": pct(50),
        "p99": pct(99),
    }


def motion_luma(frame: np.ndarray, *, arg: str = "frame") -> np.ndarray:
    """BT.601 luma at the grid :func:`global_motion` tracks on (long side ≤ 512, never upsampled).

    :func:`global_motion` of two such lumas gives the same motion as of the original frames,
    with ``dx, dy`` in pixels of this grid; a caller that measures many consecutive pairs
    converts and resizes each frame once this way instead of twice.

    Args:
        frame: ``(H, W, 3)`` uint8 RGB or ``(H, W)`` uint8 grey.
        arg: the argument name used in error messages.

    Returns:
        ``(h, w)`` uint8 luma, area-averaged down when the long side exceeds 512.

    Example:
        >>> motion_luma(np.zeros((720, 1280, 3), np.uint8)).shape
        (288, 512)
    """
    luma = to_luma(frame, arg=arg)
    return _resize(luma, _analysis_scale(luma.shape, upsample=False))


def global_motion(frame_a: np.ndarray, frame_b: np.ndarray, *, max_points: int = 500) -> GlobalMotion:
    """Dominant (camera) similarity motion from ``frame_a`` to ``frame_b``.

    Both frames are reduced to luma at the analysis size (long side ≤ 512, never upsampled).
    Up to ``max_points`` Shi–Tomasi corners of ``frame_a`` are tracked with pyramidal Lucas–Kanade,
    kept when the backward track returns within 1 px, and a rotation + uniform scale +
    translation is fitted with RANSAC (``cv2.estimateAffinePartial2D``, 1 px threshold), so
    people or cars moving across a static shot are outliers and do not count as camera
    motion. With fewer than 12 tracks or 8 inliers (flat sky, fog, black frames) the
    translation comes from phase correlation instead (``inliers == 0``).

    Args:
        frame_a: ``(H, W, 3)`` uint8 RGB or ``(H, W)`` uint8 grey, the earlier frame.
        frame_b: same shape, the later frame.
        max_points: most corners to track (≥ 12). Tracking cost grows with it (about 20 ms
            for 500 at 512 px on one core, both directions); 200 still gives sub-0.1 px
            translations on textured frames and is what :func:`reworld.analysis.quality.assess_quality`
            uses for its many consecutive pairs.

    Returns:
        :class:`GlobalMotion` ``(dx, dy, angle_deg, scale, inliers)``; ``dx, dy`` are
        pixels of the input frames' width and height (displacement of the frame centre).

    Raises:
        InvalidInput: bad frames, frames of different shapes, or ``max_points`` < 12.

    Example:
        >>> rng = np.random.default_rng(1)  # fixed seed: a random texture
        >>> tex = cv2.GaussianBlur(rng.integers(0, 256, (300, 400), dtype=np.uint8), (0, 0), 2)
        >>> m = global_motion(tex[20:260, 20:340], tex[17:257, 25:345])  # content moves (-5, +3)
        >>> round(m.dx), round(m.dy)
        (-5, 3)
    """
    la = to_luma(frame_a, arg="frame_a")
    lb = to_luma(frame_b, arg="frame_b")
    if la.shape != lb.shape:
        raise InvalidInput("frame_b", frame_b.shape, f"must have the same shape as frame_a {frame_a.shape}")
    if isinstance(max_points, bool) or not isinstance(max_points, (int, np.integer)) or max_points < _MIN_TRACKS:
        raise InvalidInput("max_points", max_points, f"must be an integer >= {_MIN_TRACKS}")
    s = _analysis_scale(la.shape, upsample=False)
    ga, gb = _resize(la, s), _resize(lb, s)
    h, w = ga.shape
    sx, sy = w / la.shape[1], h / la.shape[0]  # analysis px per input px (equal unless a sliver)
    centre = np.array([(w - 1) / 2.0, (h - 1) / 2.0])

    fit = _feature_fit(ga, gb, int(max_points))
    if fit is None:
        (dx, dy), _resp = _phase_shift(ga, gb)
        return GlobalMotion(float(dx / sx), float(dy / sy), 0.0, 1.0, 0)
    m, inliers = fit
    moved = m[:, :2] @ centre + m[:, 2]
    dx, dy = moved - centre
    scale = math.hypot(m[0, 0], m[1, 0])
    angle = math.degrees(math.atan2(m[1, 0], m[0, 0]))
    return GlobalMotion(float(dx / sx), float(dy / sy), float(angle), float(scale), int(inliers))


def _feature_fit(ga: np.ndarray, gb: np.ndarray, max_points: int) -> tuple[np.ndarray, int] | None:
    h, w = ga.shape
    pts = cv2.goodFeaturesToTrack(
        ga, maxCorners=max_points, qualityLevel=0.01, minDistance=max(4, min(h, w) // 40), blockSize=7
    )
    if pts is None or len(pts) < _MIN_TRACKS:
        return None
    lk = dict(winSize=(21, 21), maxLevel=3, criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01))
    nxt, st, _ = cv2.calcOpticalFlowPyrLK(ga, gb, pts, None, **lk)
    back, st2, _ = cv2.calcOpticalFlowPyrLK(gb, ga, nxt, None, **lk)
    fb = np.linalg.norm((back - pts).reshape(-1, 2), axis=1)
    good = (st.ravel() == 1) & (st2.ravel() == 1) & (fb < 1.0)
    if good.sum() < _MIN_TRACKS:
        return None
    src, dst = pts[good].reshape(-1, 2), nxt[good].reshape(-1, 2)
    m, mask = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=1.0, maxIters=2000, confidence=0.995,
        refineIters=10,
    )
    if m is None or mask is None or int(mask.sum()) < _MIN_INLIERS:
        return None
    return m.astype(np.float64), int(mask.sum())


def _phase_shift(ga: np.ndarray, gb: np.ndarray) -> tuple[tuple[float, float], float]:
    a = ga.astype(np.float32)
    b = gb.astype(np.float32)
    win = cv2.createHanningWindow((a.shape[1], a.shape[0]), cv2.CV_32F)
    (dx, dy), resp = cv2.phaseCorrelate(a, b, win)
    return (float(dx), float(dy)), float(resp)
