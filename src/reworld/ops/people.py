"""People and body-part masks as pure array functions (layer 1: numpy, OpenCV, SciPy).

Four families, used by the ``people`` analyzer (:mod:`reworld.analysis.people`) but free of any
model or track:

- **edges**: :func:`refine_edges` snaps a coarse person alpha (a segmentation network's
  low-resolution output, upsampled) to the image's edges with a guided filter (He, Sun & Tang
  2010; ``cv2.ximgproc.guidedFilter``);
- **time**: :func:`flow_to_prev` turns a pair of stored flows into a ``cv2.remap`` map and a
  per-pixel confidence (forward-backward check); :func:`change_confidence` is the flow-free
  substitute (1 where the picture did not change); :func:`blend_temporal` is the recursive
  filter ``out = (1 - k c) raw + k c warp(prev)`` either one feeds;
- **instances**: :func:`split_instances` gives each person pixel to the nearest skeleton (pose
  landmarks) and :func:`track_components` labels the rest by connected components whose labels
  follow the previous frame's;
- **parts**: :func:`estimate_parts` derives soft part alphas (:data:`PART_NAMES`) from face-mesh
  and pose landmarks (geometry: face oval, lip and eye contours, torso, limb capsules, hands) and
  a per-clip :class:`ColourModel` (histograms of skin, hair, clothes and background colour in
  YCrCb, seeded from landmark regions and carried from frame to frame).

Coordinates: landmarks are ``(x, y)`` pixels **of the image passed in** (the analyzer converts
from full-resolution pixels); dense maps are ``(h, w)`` float32 alphas in [0, 1].

Example:
    >>> img = np.zeros((40, 40, 3), np.uint8); img[10:30, 12:28] = 200  # the person
    >>> truth = np.zeros((40, 40), np.float32); truth[10:30, 12:28] = 1
    >>> coarse = np.zeros((40, 40), np.float32); coarse[8:32, 10:30] = 1.0  # too big and blurred
    >>> coarse = cv2.GaussianBlur(coarse, (0, 0), 1.5)
    >>> fine = refine_edges(img, coarse, radius=3, gain=2.0)
    >>> bool(np.abs(fine - truth).mean() < 0.5 * np.abs(coarse - truth).mean())
    True
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from reworld.errors import InvalidInput
from reworld.ops.flow import FB_BETA, fb_consistency

__all__ = [
    "EDGE_GUIDES",
    "PART_NAMES",
    "ColourModel",
    "PartsEstimate",
    "blend_temporal",
    "body_regions",
    "boxes_from_mask",
    "change_confidence",
    "colour_index",
    "crop_window",
    "estimate_parts",
    "face_regions",
    "flow_to_prev",
    "refine_edges",
    "resize_map",
    "split_instances",
    "track_components",
    "warp_alpha",
    "warp_planes",
]

#: part names, in the order of the ``parts`` axis
PART_NAMES: tuple[str, ...] = ("face", "skin", "hair", "lips", "eyes", "upper_clothes", "lower_clothes", "hands")

# -- MediaPipe topology (478-point face mesh with refined irises; 33-point pose) --------------
#: face oval, a closed loop
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
             152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)
LIPS_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)
LIPS_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191)
LEFT_EYE = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
RIGHT_EYE = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
LEFT_BROW = (276, 283, 282, 295, 285, 336, 296, 334, 293, 300)
RIGHT_BROW = (46, 53, 52, 65, 55, 107, 66, 105, 63, 70)
FOREHEAD_TOP, CHIN, CHEEK_RIGHT, CHEEK_LEFT = 10, 152, 234, 454
#: pose landmarks (MediaPipe order)
NOSE, SHOULDERS, HIPS = 0, (11, 12), (23, 24)
HEAD_POINTS = tuple(range(11))
ARMS = ((11, 13), (13, 15), (12, 14), (14, 16))
LEGS = ((23, 25), (25, 27), (24, 26), (26, 28))
HANDS = ((15, 17, 19, 21), (16, 18, 20, 22))
#: a pose landmark counts when its visibility is at least this
MIN_VISIBILITY = 0.5

_YCC_BINS = 16
_EPS = 1e-6


# -- checks ---------------------------------------------------------------------------------
def _check_image(image: np.ndarray, arg: str = "image") -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise InvalidInput(arg, f"{getattr(image, 'dtype', type(image).__name__)} {getattr(image, 'shape', '')}",
                           "must be an (h, w, 3) uint8 RGB image")
    return image


def _check_alpha(alpha: np.ndarray, shape: tuple[int, int], arg: str) -> np.ndarray:
    """``alpha`` as float32 in [0, 1] (uint8 is scaled by 1/255); shape must be ``shape``."""
    if not isinstance(alpha, np.ndarray) or alpha.shape != tuple(shape):
        raise InvalidInput(arg, f"shape {getattr(alpha, 'shape', type(alpha).__name__)}", f"must have shape {tuple(shape)}")
    if alpha.dtype == np.uint8:
        return alpha.astype(np.float32) * np.float32(1 / 255.0)
    if alpha.dtype == np.bool_:
        return alpha.astype(np.float32)
    if alpha.dtype.kind != "f":
        raise InvalidInput(arg, f"dtype {alpha.dtype}", "must be float in [0, 1], uint8 or bool")
    return np.clip(alpha.astype(np.float32, copy=False), 0.0, 1.0)


# -- edges ----------------------------------------------------------------------------------
#: guides of :func:`refine_edges`
EDGE_GUIDES = ("lda", "rgb", "luma")


def _lda_guide(crop: np.ndarray, alpha: np.ndarray) -> np.ndarray | None:
    """``crop`` projected on the Fisher axis between person (alpha > 0.9) and background
    (alpha < 0.1) colours, scaled to [0, 1]; ``None`` when either side has too few pixels."""
    step = max(1, int(np.sqrt(alpha.size / 16000)))  # statistics from ~16000 pixels
    px = crop[::step, ::step].reshape(-1, 3)
    a = alpha[::step, ::step].ravel()
    fg, bg = px[a > 0.9], px[a < 0.1]
    if len(fg) < 16 or len(bg) < 16:
        return None
    fg = fg.astype(np.float32) * np.float32(1 / 255.0)
    bg = bg.astype(np.float32) * np.float32(1 / 255.0)
    sw = np.cov(fg.T) + np.cov(bg.T) + 1e-4 * np.eye(3)
    wv = np.linalg.solve(sw, fg.mean(0) - bg.mean(0))
    g = cv2.transform(crop.astype(np.float32), (wv / 255.0).reshape(1, 3).astype(np.float32))
    g = g.reshape(crop.shape[:2])
    lo, hi = float(g.min()), float(g.max())
    if hi - lo < 1e-6:
        return None
    g -= np.float32(lo)
    g *= np.float32(1.0 / (hi - lo))
    return g


def refine_edges(image: np.ndarray, alpha: np.ndarray, *, radius: int = 4, eps: float = 1e-3,
                 guide: str = "lda", gain: float = 1.0, subsample: int = 1) -> np.ndarray:
    """Snap a coarse alpha to the image's edges with a guided filter (He et al. 2010).

    The filter fits, in every ``(2 radius + 1)^2`` window, a linear model ``alpha ~ a I + b`` of
    the guide ``I`` (in [0, 1]); flat alpha stays flat, and a blurred alpha edge takes the
    shape of the image edge it lies on. ``eps`` is the regulariser in units of guide variance:
    small values follow weak edges (and texture), large ones smooth like a box filter. Guides:
    ``"lda"`` (default) the colours projected on the Fisher axis that best separates this
    frame's confident person (alpha > 0.9) and background (alpha < 0.1) colours — the idea of
    :mod:`reworld.ops.sky`: as discriminative as a colour guide at the cost of a grey one;
    ``"rgb"`` the colour image (~5x slower); ``"luma"``. The filter runs only on the bounding
    box of the uncertain band (``0.02 < alpha < 0.98``, grown by ``2 radius``), so its cost
    follows the people's size, not the frame's; with ``subsample`` it runs on that box shrunk
    by this factor (radius too) and its result is enlarged back. ``gain`` then steepens the
    edge, ``clip((q - 0.5) gain + 0.5, 0, 1)``: a segmentation network's upsampled output is
    softer than the true edge (docs/analysis-people.md measures both steps).

    Args:
        image: ``(h, w, 3)`` uint8 RGB guide.
        alpha: ``(h, w)`` float in [0, 1], uint8 0-255 or bool.
        radius: window radius in pixels (``0``: no filtering, only the ``gain``).
        eps: regulariser (> 0).
        guide: one of :data:`EDGE_GUIDES` (``"lda"`` falls back to ``"luma"`` when the frame
            has too few confident person or background pixels).
        gain: edge steepening (>= 1; 1 = none).
        subsample: filter at 1/subsample of the resolution (integer >= 1).

    Returns:
        ``(h, w)`` float32 in [0, 1].
    """
    _check_image(image)
    a = _check_alpha(alpha, image.shape[:2], "alpha")
    if isinstance(radius, bool) or not isinstance(radius, (int, np.integer)) or radius < 0:
        raise InvalidInput("radius", radius, "must be an integer >= 0 pixels")
    if not eps > 0:
        raise InvalidInput("eps", eps, "must be > 0")
    if guide not in EDGE_GUIDES:
        raise InvalidInput("guide", guide, f"must be one of {', '.join(EDGE_GUIDES)}")
    if not gain >= 1.0:
        raise InvalidInput("gain", gain, "must be >= 1")
    if isinstance(subsample, bool) or not isinstance(subsample, (int, np.integer)) or subsample < 1:
        raise InvalidInput("subsample", subsample, "must be an integer >= 1")
    out = np.array(a, np.float32)  # a copy: never write into the input
    unsure = (out > 0.02) & (out < 0.98)
    if radius > 0 and unsure.any():
        ys, xs = np.flatnonzero(unsure.any(1)), np.flatnonzero(unsure.any(0))
        m = 2 * int(radius)
        y0, y1 = max(0, int(ys[0]) - m), min(out.shape[0], int(ys[-1]) + m + 1)
        x0, x1 = max(0, int(xs[0]) - m), min(out.shape[1], int(xs[-1]) + m + 1)
        crop = image[y0:y1, x0:x1]
        src = np.ascontiguousarray(out[y0:y1, x0:x1])
        r, size = int(radius), (x1 - x0, y1 - y0)
        if subsample > 1 and min(size) >= 4 * subsample:
            small = (max(1, size[0] // subsample), max(1, size[1] // subsample))
            crop = cv2.resize(crop, small, interpolation=cv2.INTER_AREA)
            src = cv2.resize(src, small, interpolation=cv2.INTER_AREA)
            r = max(1, round(radius / subsample))
        g = _lda_guide(crop, src) if guide == "lda" else None
        if g is None:
            g = crop if guide == "rgb" else cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
            g = g.astype(np.float32) * np.float32(1 / 255.0)
        q = cv2.ximgproc.guidedFilter(g, src, r, float(eps))
        if q.shape[:2] != (y1 - y0, x1 - x0):
            q = cv2.resize(q, size, interpolation=cv2.INTER_LINEAR)
        out[y0:y1, x0:x1] = q
    if gain != 1.0:
        out -= np.float32(0.5)
        out *= np.float32(gain)
        out += np.float32(0.5)
    return np.clip(out, 0.0, 1.0, out=out)


# -- time -----------------------------------------------------------------------------------
@functools.lru_cache(maxsize=8)
def _grid(h: int, w: int) -> np.ndarray:
    """``(h, w, 2)`` float32 pixel coordinates ``(x, y)`` (read-only, shared)."""
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    grid = np.dstack([xs, ys])
    grid.flags.writeable = False
    return grid


def resize_map(where: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A ``cv2.remap`` map (``x + flow`` on an ``(h, w)`` grid) carried to a grid of ``size``.

    Example:
        >>> m = resize_map(_grid(4, 6) + np.float32([2, 0]), (2, 3))
        >>> float(m[0, 0, 0])
        1.0
    """
    h, w = where.shape[:2]
    H, W = int(size[0]), int(size[1])
    if (h, w) == (H, W):
        return where
    flow = cv2.resize(where - _grid(h, w), (W, H), interpolation=cv2.INTER_AREA if H <= h else cv2.INTER_LINEAR)
    flow *= np.float32([W / w, H / h])
    return flow + _grid(H, W)


def flow_to_prev(backward: np.ndarray, forward: np.ndarray, size: tuple[int, int], *,
                 confidence_px: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Where each pixel of frame ``t`` was in frame ``t-1``, and how far to trust it.

    Args:
        backward: ``(fh, fw, 2)`` flow of frame ``t`` to frame ``t-1`` (pixels of the stored grid,
            e.g. ``flow["backward"][t-1]``; float16 is fine).
        forward: ``(fh, fw, 2)`` flow of frame ``t-1`` to ``t`` (``flow["forward"][t-1]``).
        size: ``(h, w)`` grid to produce (the flow is resized and its vectors scaled).
        confidence_px: round-trip error (pixels of ``size``) at which confidence is ``1/e``.

    Returns:
        ``(where, confidence)``: ``(h, w, 2)`` float32 ``cv2.remap`` map (``x + flow``) and
        ``(h, w)`` float32 in [0, 1], 0 where the forward-backward check fails (occluded or
        uncovered pixels, pixels coming from outside the frame).

    Example:
        >>> b = np.zeros((4, 6, 2), np.float32); b[..., 0] = -1  # content moved 1 px right
        >>> where, conf = flow_to_prev(b, -b, (8, 12))
        >>> float(where[0, 5, 0]), float(conf[4, 6])
        (3.0, 1.0)
    """
    h, w = int(size[0]), int(size[1])
    bwd = np.asarray(backward, np.float32)
    fwd = np.asarray(forward, np.float32)
    if bwd.ndim != 3 or bwd.shape[2] != 2 or fwd.shape != bwd.shape:
        raise InvalidInput("backward", f"shape {bwd.shape}", f"must be (fh, fw, 2) like `forward` {fwd.shape}")
    fh, fw = bwd.shape[:2]
    s = w / fw  # target px per stored px (x); y uses h / fh
    occ, err = fb_consistency(bwd, fwd, beta=FB_BETA / max(s * s, _EPS))
    err *= np.float32(s / confidence_px)
    conf = cv2.exp(-cv2.multiply(err, err))
    conf[occ] = 0.0
    if (fh, fw) != (h, w):
        conf = cv2.resize(conf, (w, h), interpolation=cv2.INTER_LINEAR)
        bwd = cv2.resize(bwd * np.float32([w / fw, h / fh]), (w, h), interpolation=cv2.INTER_LINEAR)
    return bwd + _grid(h, w), conf


def warp_alpha(alpha: np.ndarray, where: np.ndarray, *, nearest: bool = False) -> np.ndarray:
    """Sample ``alpha`` (any 2-D or ``(h, w, c)`` array, c <= 4) at the ``cv2.remap`` map ``where``.

    Samples outside the frame repeat the border. ``nearest`` for label images.

    Example:
        >>> a = np.arange(6, dtype=np.float32).reshape(2, 3)
        >>> warp_alpha(a, _grid(2, 3) + np.float32([1, 0]))[0].tolist()
        [1.0, 2.0, 2.0]
    """
    mode = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
    return cv2.remap(np.ascontiguousarray(alpha), where, None, mode, borderMode=cv2.BORDER_REPLICATE)


def warp_planes(planes: np.ndarray, where: np.ndarray) -> np.ndarray:
    """:func:`warp_alpha` of every plane of a ``(K, h, w)`` float32 stack (4 planes per remap).

    Example:
        >>> p = np.zeros((6, 2, 3), np.float32); p[:, 0, 2] = 1
        >>> warp_planes(p, _grid(2, 3) + np.float32([1, 0]))[:, 0].tolist()[5]
        [0.0, 1.0, 1.0]
    """
    K = planes.shape[0]
    out = np.empty_like(planes, dtype=np.float32)
    for k in range(0, K, 4):
        group = np.ascontiguousarray(np.moveaxis(planes[k:k + 4], 0, -1), np.float32)
        moved = cv2.remap(group, where, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        out[k:k + 4] = np.moveaxis(moved.reshape(*moved.shape[:2], -1), -1, 0)
    return out


def change_confidence(frame: np.ndarray, prev: np.ndarray, *, sigma: float = 12.0, blur: float = 2.0) -> np.ndarray:
    """Flow-free temporal confidence: 1 where the picture did not change since ``prev``.

    ``exp(-(d / sigma)^2)`` of the blurred absolute luma difference ``d`` (0-255 levels): a
    recursive filter fed with it smooths static parts of the mask and follows anything that
    moves, without optical flow (a static camera; the analyzer's fallback without a flow track).

    Args:
        frame: ``(h, w, 3)`` uint8 RGB, frame ``t``.
        prev: ``(h, w, 3)`` uint8 RGB, frame ``t-1``.
        sigma: luma change (levels) at which confidence is ``1/e``.
        blur: Gaussian sigma (pixels) of the difference (noise suppression).

    Returns:
        ``(h, w)`` float32 in [0, 1].

    Example:
        >>> a = np.zeros((8, 32, 3), np.uint8); b = a.copy(); b[:, 16:] = 200
        >>> c = change_confidence(b, a); round(float(c[0, 0]), 2), round(float(c[0, 31]), 2)
        (1.0, 0.0)
    """
    _check_image(frame, "frame")
    _check_image(prev, "prev")
    if prev.shape != frame.shape:
        raise InvalidInput("prev", f"shape {prev.shape}", f"must match `frame` {frame.shape}")
    ya = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    yb = cv2.cvtColor(prev, cv2.COLOR_RGB2GRAY).astype(np.float32)
    d = cv2.absdiff(ya, yb)
    if blur > 0:
        d = cv2.GaussianBlur(d, (0, 0), blur)
    d *= np.float32(1.0 / sigma)
    return cv2.exp(-cv2.multiply(d, d))


def blend_temporal(raw: np.ndarray, prev: np.ndarray | None, confidence: np.ndarray | None, k: float) -> np.ndarray:
    """One step of the recursive filter ``out = (1 - k c) raw + k c prev``.

    Args:
        raw: ``(..., h, w)`` float32 this frame's estimate.
        prev: the previous output already moved onto this frame (same shape), or ``None`` (the
            first frame of a shot: ``raw`` is returned).
        confidence: ``(h, w)`` float32 in [0, 1] per-pixel trust in ``prev`` (``None`` = 1).
        k: weight of the past in [0, 1).

    Returns:
        float32 array shaped like ``raw``.

    Example:
        >>> blend_temporal(np.ones((1, 2), np.float32), np.zeros((1, 2), np.float32),
        ...                np.float32([[1, 0]]), 0.5).tolist()
        [[0.5, 1.0]]
    """
    if not 0.0 <= k < 1.0:
        raise InvalidInput("k", k, "must be in [0, 1)")
    raw = np.asarray(raw, np.float32)
    if prev is None or k == 0.0:
        return raw.copy()
    kc = np.float32(k) if confidence is None else np.float32(k) * np.asarray(confidence, np.float32)
    return raw + kc * (np.asarray(prev, np.float32) - raw)


# -- crops ----------------------------------------------------------------------------------
def boxes_from_mask(alpha: np.ndarray, *, threshold: float = 0.5, min_area: int = 12) -> np.ndarray:
    """Bounding boxes of the connected components of ``alpha >= threshold``.

    Args:
        alpha: ``(h, w)`` float in [0, 1] or uint8.
        threshold: in (0, 1].
        min_area: components smaller than this (pixels) are skipped.

    Returns:
        ``(n, 5)`` float32 rows ``x0, y0, x1, y1, area`` (pixels; right/bottom exclusive),
        largest first.

    Example:
        >>> a = np.zeros((20, 20), np.float32); a[2:10, 3:6] = 1
        >>> boxes_from_mask(a).tolist()
        [[3.0, 2.0, 6.0, 10.0, 24.0]]
    """
    a = _check_alpha(alpha, np.shape(alpha), "alpha") if np.ndim(alpha) == 2 else None
    if a is None:
        raise InvalidInput("alpha", np.shape(alpha), "must be an (h, w) array")
    n, _, stats, _ = cv2.connectedComponentsWithStats((a >= threshold).astype(np.uint8), connectivity=8)
    rows = [(s[0], s[1], s[0] + s[2], s[1] + s[3], s[4]) for s in stats[1:n] if s[4] >= min_area]
    rows.sort(key=lambda r: -r[4])
    return np.asarray(rows, np.float32).reshape(-1, 5)


def crop_window(box: Sequence[float], size: tuple[int, int], *, margin: float = 1.2,
                aspect: float = 16 / 9) -> tuple[int, int, int, int]:
    """A crop window of aspect ``aspect`` (w/h) around ``box``, ``margin`` box heights tall.

    The window is centred on the box, made at least ``margin`` times the box's height and
    ``margin`` times its width, widened to ``aspect`` and shifted (not shrunk) to stay inside an
    image of ``size = (H, W)`` where it fits.

    Returns:
        ``(x0, y0, x1, y1)`` integer pixels, right/bottom exclusive, inside the image.

    Example:
        >>> crop_window((100, 100, 120, 160), (480, 640), margin=2.0)
        (3, 70, 216, 190)
    """
    x0, y0, x1, y1 = (float(v) for v in box[:4])
    H, W = int(size[0]), int(size[1])
    bh, bw = max(y1 - y0, 1.0), max(x1 - x0, 1.0)
    ch = max(bh * margin, bw * margin / aspect)
    cw = ch * aspect
    ch, cw = min(ch, H), min(cw, W)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    wx0 = round(min(max(cx - cw / 2, 0.0), W - cw))
    wy0 = round(min(max(cy - ch / 2, 0.0), H - ch))
    return wx0, wy0, min(W, wx0 + round(cw)), min(H, wy0 + round(ch))


# -- instances -------------------------------------------------------------------------------
def _visible(points: np.ndarray) -> np.ndarray:
    p = np.asarray(points, np.float32)
    ok = np.isfinite(p[:, 0]) & np.isfinite(p[:, 1])
    if p.shape[1] > 2:
        ok &= np.nan_to_num(p[:, 2], nan=0.0) >= MIN_VISIBILITY
    return ok


def _nearest(seeds: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every pixel, ``(distance, row, col)`` of the nearest ``True`` pixel of ``seeds``
    (``cv2.distanceTransformWithLabels``, which numbers seed pixels in raster order)."""
    dist, lab = cv2.distanceTransformWithLabels((~seeds).astype(np.uint8), cv2.DIST_L2, 3,
                                                labelType=cv2.DIST_LABEL_PIXEL)
    ys, xs = np.nonzero(seeds)
    ys = np.concatenate([[0], ys]).astype(np.intp)
    xs = np.concatenate([[0], xs]).astype(np.intp)
    return dist, ys[lab], xs[lab]


_SKELETON = ((11, 12), (11, 23), (12, 24), (23, 24), (0, 11), (0, 12), *ARMS, *LEGS,
             (15, 19), (16, 20), (27, 31), (28, 32), (0, 2), (0, 5))


def split_instances(mask: np.ndarray, people: Sequence[np.ndarray | None], *,
                    boxes: Sequence[Sequence[float] | None] | None = None, reach: float = 0.6) -> np.ndarray:
    """Label person pixels with the nearest person's skeleton (a Voronoi split along bones).

    Args:
        mask: ``(h, w)`` bool person pixels.
        people: per person slot ``k`` (label ``k + 1``) an ``(L, 2 or 3)`` array of landmarks
            ``x, y[, visibility]`` in pixels of ``mask`` (pose: 33 points; NaN or visibility
            below :data:`MIN_VISIBILITY` = missing), or ``None`` for an absent person.
        boxes: optional per slot ``(x0, y0, x1, y1)`` pixels, used when a person has fewer than
            two visible landmarks (its centre is the seed) and to bound the reach.
        reach: pixels farther from every skeleton than ``reach`` x that person's height (box
            height, else landmark extent) stay unlabelled (0), unless they are connected
            (through person pixels) to a labelled pixel: then they take the nearest label of
            their connected region (a raised hand, the top of a head).

    Returns:
        ``(h, w)`` uint8 labels: 0 = not a person or a region out of every person's reach,
        ``k + 1`` = slot ``k``.

    Example:
        >>> m = np.zeros((20, 40), bool); m[2:18, 3:12] = m[2:18, 25:36] = True
        >>> a = np.array([[7, 4], [7, 16]], np.float32); b = np.array([[30, 4], [30, 16]], np.float32)
        >>> lab = split_instances(m, [a, b])
        >>> int(lab[10, 5]), int(lab[10, 30]), int(lab[0, 0])
        (1, 2, 0)
    """
    if not isinstance(mask, np.ndarray) or mask.ndim != 2:
        raise InvalidInput("mask", getattr(mask, "shape", type(mask).__name__), "must be an (h, w) bool array")
    h, w = mask.shape
    if len(people) > 254:
        raise InvalidInput("people", len(people), "must have at most 254 slots (uint8 labels)")
    m = mask.astype(bool)
    labels = np.zeros((h, w), np.uint8)
    if not m.any():
        return labels
    # work on the bounding box of the person pixels (people rarely fill the frame)
    ys, xs = np.nonzero(m.any(1))[0], np.nonzero(m.any(0))[0]
    y0, y1, x0, x1 = int(ys[0]), int(ys[-1]) + 1, int(xs[0]), int(xs[-1]) + 1
    if (y1 - y0) * (x1 - x0) < 0.8 * h * w:
        shift = np.float32([x0, y0])
        moved = [None if q is None else np.concatenate([np.asarray(q, np.float32)[:, :2] - shift,
                                                        np.asarray(q, np.float32)[:, 2:]], 1) for q in people]
        mb = None if boxes is None else [None if b is None else np.asarray(b, np.float32) - np.tile(shift, 2)
                                         for b in boxes]
        labels[y0:y1, x0:x1] = split_instances(m[y0:y1, x0:x1], moved, boxes=mb, reach=reach)
        return labels
    best = np.full((h, w), np.inf, np.float32)
    for k, pts in enumerate(people):
        if pts is None:
            continue
        p = np.asarray(pts, np.float32)
        ok = _visible(p)
        seeds = np.full((h, w), 255, np.uint8)
        box = None if boxes is None or boxes[k] is None else np.asarray(boxes[k], np.float32)
        if ok.sum() >= 2:
            xy = p[:, :2]
            drew = False
            for i, j in _SKELETON:
                if i < len(p) and j < len(p) and ok[i] and ok[j]:
                    cv2.line(seeds, tuple(round(v) for v in xy[i]), tuple(round(v) for v in xy[j]), 0, 1)
                    drew = True
            if not drew:
                for q in xy[ok]:
                    cv2.circle(seeds, (round(q[0]), round(q[1])), 1, 0, -1)
            ext = float(np.ptp(xy[ok, 1])) if box is None else float(box[3] - box[1])
        elif box is not None and np.isfinite(box).all():
            cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
            cv2.line(seeds, (int(cx), int(box[1] + 0.2 * (box[3] - box[1]))),
                     (int(cx), int(box[3] - 0.2 * (box[3] - box[1]))), 0, 1)
            ext = float(box[3] - box[1])
            del cy
        else:
            continue
        if seeds.all():  # every seed outside the image
            continue
        d = cv2.distanceTransform(seeds, cv2.DIST_L2, 3)
        d[d > reach * max(ext, 8.0)] = np.inf
        closer = d < best
        best[closer] = d[closer]
        labels[closer] = k + 1
    labels[~m] = 0
    rest = m & (labels == 0)
    if rest.any() and labels.any():
        _n, comp = cv2.connectedComponents(m.astype(np.uint8), connectivity=8)
        touched = np.unique(comp[labels > 0])
        fill = rest & np.isin(comp, touched)
        if fill.any():
            _, ny, nx = _nearest(labels > 0)
            near = labels[ny, nx]
            # the nearest label, only when it lies in the same connected region
            same = comp[ny, nx] == comp
            labels[fill & same] = near[fill & same]
    return labels


def track_components(mask: np.ndarray, prev: np.ndarray | None, *, first_label: int = 1,
                     min_overlap: float = 0.3, fragment: float = 0.05) -> np.ndarray:
    """Label the connected components of ``mask``, keeping the labels of the previous frame.

    Fragments (components smaller than ``fragment`` x the largest one, lying within twice their
    own size of a larger component: a hand cut off at the wrist by the threshold; and specks of
    fewer than ``max(16, 3e-4 h w)`` pixels wherever they lie) join the nearest larger
    component. Every other component takes the most frequent label
    ``>= first_label`` of ``prev`` (the previous frame's labels moved onto this frame) under it
    when that label covers at least ``min_overlap`` of the component, else the smallest label
    ``>= first_label`` not in use.

    Args:
        mask: ``(h, w)`` bool.
        prev: ``(h, w)`` uint8 previous labels, or ``None``.
        first_label: the smallest label this function hands out (1-255).
        min_overlap: in (0, 1].
        fragment: in [0, 1): relative area below which a component near a larger one is a
            fragment of it (0 = none).

    Returns:
        ``(h, w)`` uint8; 0 outside ``mask``. Components beyond label 255 get 255.

    Example:
        >>> m = np.zeros((4, 9), bool); m[:, :3] = m[:, 6:] = True
        >>> prev = np.zeros((4, 9), np.uint8); prev[:, 6:] = 7
        >>> track_components(m, prev)[0].tolist()
        [1, 1, 1, 0, 0, 0, 7, 7, 7]
    """
    if not isinstance(mask, np.ndarray) or mask.ndim != 2:
        raise InvalidInput("mask", getattr(mask, "shape", type(mask).__name__), "must be an (h, w) bool array")
    if not 1 <= int(first_label) <= 255:
        raise InvalidInput("first_label", first_label, "must be in [1, 255]")
    out = np.zeros(mask.shape, np.uint8)
    n, comp, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n <= 1:
        return out
    areas = stats[1:, cv2.CC_STAT_AREA]
    small = areas < fragment * areas.max()
    fragments: list[int] = []
    if small.any():  # small components near a larger one join it (after the labelling below)
        big = np.isin(comp, np.flatnonzero(~small) + 1)
        dist, ny, nx = _nearest(big)
        speck = max(16.0, 3e-4 * mask.size)
        for c in np.flatnonzero(small) + 1:
            if areas[c - 1] < speck or float(dist[comp == c].min()) <= 2.0 * np.sqrt(areas[c - 1]) + 2.0:
                fragments.append(int(c))
    used: set[int] = set()
    fresh: list[int] = []
    for c in range(1, n):
        if c in fragments:
            continue
        sel = comp == c
        label = 0
        if prev is not None:
            under = prev[sel]
            under = under[under >= first_label]
            if under.size:
                vals, counts = np.unique(under, return_counts=True)
                i = int(np.argmax(counts))
                if counts[i] >= min_overlap * sel.sum() and int(vals[i]) not in used:
                    label = int(vals[i])
        if label:
            used.add(label)
            out[sel] = label
        else:
            fresh.append(c)
    nxt = int(first_label)
    for c in fresh:
        while nxt in used and nxt < 255:
            nxt += 1
        out[comp == c] = nxt
        used.add(nxt)
    for c in fragments:
        sel = comp == c
        d = np.where(sel, dist, np.inf)
        i = np.unravel_index(int(np.argmin(d)), d.shape)
        out[sel] = out[ny[i], nx[i]]
    return out


# -- colour models ----------------------------------------------------------------------------
#: classes of :class:`ColourModel`, in the order of its ``counts`` rows
COLOUR_CLASSES = ("skin", "hair", "clothes", "background")


def _ycc_index(image: np.ndarray) -> np.ndarray:
    """``(h, w)`` int32 histogram bin of each pixel (16 x 16 x 16 YCrCb bins)."""
    ycc = cv2.cvtColor(image, cv2.COLOR_RGB2YCrCb) >> 4
    return (ycc[..., 0].astype(np.int32) * _YCC_BINS + ycc[..., 1]) * _YCC_BINS + ycc[..., 2]


def _smooth3(h: np.ndarray) -> np.ndarray:
    """A [1, 2, 1] / 4 blur along each axis of a 3-D histogram (edges repeated)."""
    for ax in range(3):
        p = np.concatenate([np.take(h, [0], ax), h, np.take(h, [-1], ax)], axis=ax)
        n = h.shape[ax]
        h = 0.5 * h + 0.25 * (np.take(p, range(n), ax) + np.take(p, range(2, n + 2), ax))
    return h


@functools.lru_cache(maxsize=1)
def _skin_prior() -> np.ndarray:
    """A generic skin histogram: the YCrCb box Cr 133-173, Cb 77-127, Y > 40 (Chai & Ngan 1999)."""
    y, cr, cb = np.meshgrid(*(np.arange(_YCC_BINS) * 16 + 8,) * 3, indexing="ij")
    box = (cr >= 133) & (cr <= 173) & (cb >= 77) & (cb <= 127) & (y > 40)
    return box.astype(np.float32).ravel()


@dataclass(frozen=True)
class ColourModel:
    """Colour histograms of :data:`COLOUR_CLASSES`, carried along a clip (a per-clip model).

    Attributes:
        counts: ``(4, 4096)`` float32 decayed, weighted pixel counts per class over 16^3 YCrCb
            bins; rows in :data:`COLOUR_CLASSES` order.
        decay: weight of the past at each :meth:`update` (0 = this frame only).
    """

    counts: np.ndarray
    decay: float = 0.9

    @staticmethod
    def empty(decay: float = 0.9) -> ColourModel:
        """A model that knows nothing yet (skin falls back to a generic YCrCb prior)."""
        return ColourModel(np.zeros((len(COLOUR_CLASSES), _YCC_BINS ** 3), np.float32), decay)

    def update(self, image: np.ndarray, weights: dict[str, np.ndarray], *, decay: float | None = None,
               index: np.ndarray | None = None) -> ColourModel:
        """A new model: ``decay`` x the old counts + this frame's pixels weighted by ``weights``.

        Args:
            image: ``(h, w, 3)`` uint8 RGB.
            weights: class name -> ``(h, w)`` float32 in [0, 1] (seed weight of each pixel).
            decay: this update's decay (default: the model's; 1 = add to the same frame).
            index: the image's :func:`colour_index`, when already computed.
        """
        idx = (colour_index(image) if index is None else index).ravel()
        counts = self.counts * np.float32(self.decay if decay is None else decay)
        for name, wmap in weights.items():
            c = COLOUR_CLASSES.index(name)
            wv = np.asarray(wmap, np.float32).ravel()
            sel = wv > 0.05
            if sel.any():
                counts[c] += np.bincount(idx[sel], wv[sel], minlength=_YCC_BINS ** 3).astype(np.float32)
        return ColourModel(counts, self.decay)

    def known(self, name: str, min_pixels: float = 20.0) -> bool:
        """Whether class ``name`` has seen at least ``min_pixels`` (decayed) pixels."""
        return float(self.counts[COLOUR_CLASSES.index(name)].sum()) >= min_pixels

    def densities(self) -> np.ndarray:
        """``(4, 4096)`` float32 smoothed, normalised histograms (unknown classes: uniform; an
        unknown skin class: the generic YCrCb skin prior, a tenth of it spread uniformly).
        Computed once per model (models are immutable)."""
        return self._densities

    @functools.cached_property
    def _densities(self) -> np.ndarray:
        out = np.empty_like(self.counts)
        n_bins = self.counts.shape[1]
        for c, name in enumerate(COLOUR_CLASSES):
            h = self.counts[c]
            if not self.known(name):
                h = _skin_prior() + 0.1 * _skin_prior().sum() / n_bins if name == "skin" else np.ones(n_bins, np.float32)
            else:
                h = _smooth3(h.reshape((_YCC_BINS,) * 3)).ravel()
            h = h + 1e-3 * h.sum() / n_bins  # never exactly zero
            out[c] = h / h.sum()
        return out

    def ratio(self, image: np.ndarray, name: str, k: float = 4.0, *, index: np.ndarray | None = None) -> np.ndarray:
        """``(h, w)`` float32 ``p / (p + k / bins)``: how much denser than ``k`` x a uniform
        density class ``name`` is at each pixel's colour (0.5 at ``k`` times uniform).
        ``index``: the image's :func:`colour_index`, when already computed."""
        idx = colour_index(image) if index is None else index
        d = self.densities()[COLOUR_CLASSES.index(name)]
        r = d / (d + np.float32(k / d.size))
        return r[idx].astype(np.float32)

    def posteriors(self, image: np.ndarray, classes: Sequence[str] = COLOUR_CLASSES, *,
                   index: np.ndarray | None = None) -> np.ndarray:
        """``(len(classes), h, w)`` float32 posterior of each class among ``classes`` (equal
        priors). ``index``: the image's :func:`colour_index`, when already computed."""
        idx = colour_index(image) if index is None else index
        dens = self.densities()[[COLOUR_CLASSES.index(c) for c in classes]]
        lik = dens[:, idx]
        return lik / np.maximum(lik.sum(0, keepdims=True), _EPS)


def colour_index(image: np.ndarray) -> np.ndarray:
    """``(h, w)`` int32 :class:`ColourModel` bin of each pixel of an ``(h, w, 3)`` uint8 RGB image
    (16 x 16 x 16 YCrCb bins).

    Example:
        >>> int(colour_index(np.zeros((1, 1, 3), np.uint8))[0, 0])  # Y 0, Cr 128, Cb 128
        136
    """
    return _ycc_index(_check_image(image))


# -- landmark geometry -----------------------------------------------------------------------
def _poly(shape: tuple[int, int], pts: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Anti-aliased filled polygon (float32 in [0, 1]) added (max) into ``out``."""
    canvas = np.zeros(shape, np.uint8)
    p = np.round(np.asarray(pts, np.float64) * 16).astype(np.int32)
    cv2.fillPoly(canvas, [p], 255, cv2.LINE_AA, shift=4)
    a = canvas.astype(np.float32) * np.float32(1 / 255.0)
    return a if out is None else np.maximum(out, a, out=out)


def _capsule(shape: tuple[int, int], p: np.ndarray, q: np.ndarray, r: float, out: np.ndarray) -> np.ndarray:
    canvas = np.zeros(shape, np.uint8)
    t = max(1, round(2 * r))
    cv2.line(canvas, (round(p[0] * 16), round(p[1] * 16)), (round(q[0] * 16), round(q[1] * 16)),
             255, t, cv2.LINE_AA, shift=4)
    for c in (p, q):
        cv2.circle(canvas, (round(c[0] * 16), round(c[1] * 16)), round(r * 16), 255, -1, cv2.LINE_AA, shift=4)
    return np.maximum(out, canvas.astype(np.float32) * np.float32(1 / 255.0), out=out)


def _ellipse(shape: tuple[int, int], centre: np.ndarray, axes: tuple[float, float], angle: float,
             out: np.ndarray) -> np.ndarray:
    canvas = np.zeros(shape, np.uint8)
    cv2.ellipse(canvas, (round(centre[0] * 16), round(centre[1] * 16)),
                (max(1, round(axes[0] * 16)), max(1, round(axes[1] * 16))), angle, 0, 360, 255, -1,
                cv2.LINE_AA, shift=4)
    return np.maximum(out, canvas.astype(np.float32) * np.float32(1 / 255.0), out=out)


def _half_plane(shape: tuple[int, int], origin: np.ndarray, normal: np.ndarray, soft: float) -> np.ndarray:
    """Soft indicator (float32) of ``(x - origin) . normal > 0``, ramp ``soft`` pixels wide."""
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    d = (xs - origin[0]) * normal[0] + (ys - origin[1]) * normal[1]
    return np.clip(d / max(soft, 1.0) + 0.5, 0.0, 1.0).astype(np.float32)


def face_regions(shape: tuple[int, int], landmarks: np.ndarray) -> dict[str, np.ndarray] | None:
    """Regions of one face from its 478-point MediaPipe mesh (``x, y`` pixels of ``shape``).

    Returns:
        ``None`` when the landmarks are not finite, else name -> ``(h, w)`` float32 in [0, 1]:
        ``face`` (the face oval), ``lips`` (outer minus inner lip contour), ``eyes`` (both eye
        contours), ``brows``, ``skin_seed`` (cheeks, forehead and nose: the oval shrunk by 20 %
        minus the grown eyes, brows and lips), ``head`` (an ellipse around the face grown
        upwards and sideways: where hair may be), ``hair_seed`` (a band just above the oval's
        top, inside the head), ``below`` (soft half-plane below the chin along the face's
        axis), and the scalars ``height`` and ``width`` (face size, pixels) as 0-d arrays.
    """
    lm = np.asarray(landmarks, np.float32)
    if lm.ndim != 2 or lm.shape[0] < 468 or lm.shape[1] < 2:
        raise InvalidInput("landmarks", f"shape {lm.shape}", "must be (478, 2+) face-mesh points")
    xy = lm[:, :2]
    if not np.isfinite(xy[list(FACE_OVAL)]).all():
        return None
    oval = xy[list(FACE_OVAL)]
    top, chin = xy[FOREHEAD_TOP], xy[CHIN]
    up = top - chin
    fh = float(np.hypot(*up))
    fw = float(np.hypot(*(xy[CHEEK_LEFT] - xy[CHEEK_RIGHT])))
    if fh < 1.0 or fw < 1.0:
        return None
    up = up / fh
    right = np.float32([-up[1], up[0]])  # perpendicular to the face's axis
    centre = oval.mean(0)
    zeros = np.zeros(shape, np.float32)
    face = _poly(shape, oval)
    lips = np.clip(_poly(shape, xy[list(LIPS_OUTER)]) - _poly(shape, xy[list(LIPS_INNER)]), 0, 1)
    eyes = _poly(shape, xy[list(RIGHT_EYE)], _poly(shape, xy[list(LEFT_EYE)]))
    brows = _poly(shape, xy[list(RIGHT_BROW)], _poly(shape, xy[list(LEFT_BROW)]))
    core = _poly(shape, centre + 0.8 * (oval - centre))
    grow = max(1, round(0.06 * fw))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))
    features = cv2.dilate(np.maximum(np.maximum(eyes, brows), _poly(shape, xy[list(LIPS_OUTER)])), kernel)
    skin_seed = np.clip(core - features, 0, 1)
    angle = float(np.degrees(np.arctan2(-up[0], up[1])))  # ellipse axis 1 along `up`
    head = _ellipse(shape, centre + up * 0.22 * fh, (0.5 * fw * 1.45, 0.5 * fh * 1.5), angle, zeros.copy())
    band = _ellipse(shape, top + up * 0.16 * fh, (0.5 * fw * 0.9, 0.2 * fh), angle, zeros.copy())
    hair_seed = np.clip(band * head - face, 0, 1)
    below = _half_plane(shape, chin - up * 0.15 * fh, -up, 0.1 * fh)
    chest = _poly(shape, np.stack([chin - up * 0.7 * fh + q for q in
                                   (-right * 1.1 * fw, right * 1.1 * fw, right * 1.1 * fw - up * 1.3 * fh,
                                    -right * 1.1 * fw - up * 1.3 * fh)]))
    brow_mid = (xy[list(LEFT_BROW)].mean(0) + xy[list(RIGHT_BROW)].mean(0)) / 2
    lower_face = face * _half_plane(shape, brow_mid, -up, 0.05 * fh)  # the oval below the brows
    return {"face": face, "lips": lips, "eyes": eyes, "brows": brows, "skin_seed": skin_seed, "head": head,
            "hair_seed": hair_seed, "below": below, "chest": chest, "lower_face": lower_face, "chin": chin, "up": up,
            "height": np.float32(fh), "width": np.float32(fw)}


def body_regions(shape: tuple[int, int], pose: np.ndarray) -> dict[str, np.ndarray] | None:
    """Regions of one body from its 33 pose landmarks (``x, y, visibility``, pixels of ``shape``).

    Landmarks with visibility below :data:`MIN_VISIBILITY` or NaN are ignored; a body without
    both shoulders visible gives ``None``. Sizes follow the shoulder width ``sw``.

    Returns:
        name -> ``(h, w)`` float32 in [0, 1]: ``upper`` (torso from the shoulders to 85 % of the
        way to the hips, and arm capsules), ``lower`` (the hip region and leg capsules, down to
        the ankles), ``hands`` (a disk over each hand's wrist and finger points), ``head`` (an
        ellipse over the head points, where hair and face may be), ``face`` (a coarse ellipse
        over the facial points, for bodies without a face mesh), ``skin_seed`` (the centre of
        that face ellipse).
    """
    p = np.asarray(pose, np.float32)
    if p.ndim != 2 or p.shape[0] < 33 or p.shape[1] < 3:
        raise InvalidInput("pose", f"shape {p.shape}", "must be (33, 3) x, y, visibility")
    ok = _visible(p)
    if not (ok[11] and ok[12]):
        return None
    xy = p[:, :2]
    sw = float(np.hypot(*(xy[11] - xy[12])))
    if sw < 2.0:
        return None
    zeros = np.zeros(shape, np.float32)
    out = {k: zeros.copy() for k in ("upper", "torso", "lower", "hands", "head", "face", "skin_seed")}
    sh_mid = (xy[11] + xy[12]) / 2
    if ok[23] and ok[24]:
        hip_l, hip_r = xy[23], xy[24]
    else:  # hips out of view: a torso of 1.6 shoulder widths straight down
        hip_l, hip_r = xy[11] + np.float32([0, 1.6 * sw]), xy[12] + np.float32([0, 1.6 * sw])
    waist_l, waist_r = xy[11] + 0.85 * (hip_l - xy[11]), xy[12] + 0.85 * (hip_r - xy[12])
    out_dir = (xy[11] - xy[12]) / sw  # from right to left shoulder
    pad = 0.12 * sw
    hip_mid = (hip_l + hip_r) / 2
    body_up = sh_mid - hip_mid
    body_up = body_up / max(float(np.hypot(*body_up)), _EPS)
    lift = body_up * 0.25 * sw  # clothes reach above the shoulder joints (collar, trapezius)
    _poly(shape, np.stack([xy[11] + out_dir * pad + lift, xy[12] - out_dir * pad + lift, waist_r - out_dir * pad,
                           waist_l + out_dir * pad]), out["upper"])
    c = (xy[11] + xy[12] + waist_l + waist_r) / 4  # the torso's middle, clear of the arms and neck
    _poly(shape, np.stack([c + 0.6 * (q - c) for q in (xy[11], xy[12], waist_r, waist_l)]), out["torso"])
    for i, j in ARMS:
        if ok[i] and ok[j]:
            _capsule(shape, xy[i], xy[j], 0.17 * sw, out["upper"])
    if ok[23] and ok[24]:
        _poly(shape, np.stack([waist_l + out_dir * pad, waist_r - out_dir * pad, hip_r - out_dir * pad * 1.5,
                               hip_l + out_dir * pad * 1.5]), out["lower"])
        for i, j in LEGS:
            if ok[i] and ok[j]:
                _capsule(shape, xy[i], xy[j], 0.22 * sw, out["lower"])
    for pts in HANDS:
        vis = [q for q in pts if ok[q]]
        if len(vis) >= 2:
            c = xy[vis].mean(0)
            r = max(float(np.max(np.hypot(*(xy[vis] - c).T))) * 1.3, 0.12 * sw)
            cv2.circle(out["hands"], (round(c[0]), round(c[1])), round(r), 1.0, -1, cv2.LINE_AA)
    head_pts = [q for q in HEAD_POINTS if ok[q]]
    if len(head_pts) >= 3:
        c = xy[head_pts].mean(0)
        up = sh_mid - c
        n = float(np.hypot(*up))
        up = -up / n if n > 0 else np.float32([0, -1])
        angle = float(np.degrees(np.arctan2(-up[0], up[1])))
        hs = 0.5 * sw  # head half-height ~ a quarter of... about half the shoulder width
        _ellipse(shape, c + up * 0.25 * hs, (0.85 * hs, 1.15 * hs), angle, out["head"])
        _ellipse(shape, c - up * 0.1 * hs, (0.6 * hs, 0.8 * hs), angle, out["face"])
        _ellipse(shape, c - up * 0.1 * hs, (0.3 * hs, 0.35 * hs), angle, out["skin_seed"])
    return out


# -- parts --------------------------------------------------------------------------------------
@dataclass
class PartsEstimate:
    """What :func:`estimate_parts` returns.

    Attributes:
        alphas: ``(8, h, w)`` float32 in [0, 1], one plane per :data:`PART_NAMES` entry.
        model: the updated :class:`ColourModel` (pass it to the next frame).
        faces: faces whose mesh was used; bodies: bodies whose pose was used.
    """

    alphas: np.ndarray
    model: ColourModel
    faces: int = 0
    bodies: int = 0


def estimate_parts(image: np.ndarray, person: np.ndarray, faces: Sequence[np.ndarray], bodies: Sequence[np.ndarray], *,
                   model: ColourModel | None = None) -> PartsEstimate:
    """Soft part alphas of one frame from landmarks and colour models.

    Geometry gives where each part may be; colour decides within it, through per-clip
    histograms (:class:`ColourModel`) seeded this frame from landmark regions: skin from the
    cheeks/forehead/nose of each face mesh (or the centre of a pose head), hair from a band
    above each face, clothes from the torso (pose) or below the chin (face only), background
    from pixels outside the person. Every part is multiplied by the soft ``person`` alpha except
    the landmark-drawn ``face``, ``lips`` and ``eyes``. Parts overlap by design: ``face``
    contains ``lips`` and ``eyes`` and the facial ``skin``; ``skin`` is any bare skin (face,
    neck, arms, hands, legs) minus eyes, brows and lips; ``hands`` are hand regions whatever
    their colour; clothes are person pixels of the body regions that are not skin, hair, face
    or hands. Without a face mesh for a body, its ``face`` is a coarse ellipse from the pose's
    head points (and it gets no lips or eyes); with a face but no body, upper clothes are the
    person below the chin down to ~3 face heights and lower clothes below that.

    Args:
        image: ``(h, w, 3)`` uint8 RGB.
        person: ``(h, w)`` float32 in [0, 1] (or uint8) person alpha.
        faces: per face a ``(478, 2+)`` mesh in pixels of ``image``.
        bodies: per body a ``(33, 3)`` pose (``x, y, visibility``) in pixels of ``image``.
        model: the colour model so far (``None``: a new one).

    Returns:
        :class:`PartsEstimate`. With neither faces nor bodies every alpha is 0.
    """
    _check_image(image)
    shape = image.shape[:2]
    p = _check_alpha(person, shape, "person")
    model = model if model is not None else ColourModel.empty()
    K = len(PART_NAMES)
    alphas = np.zeros((K, *shape), np.float32)
    fr = [r for r in (face_regions(shape, f) for f in faces) if r is not None]
    br = [r for r in (body_regions(shape, b) for b in bodies) if r is not None]
    if not fr and not br:
        return PartsEstimate(alphas, model, 0, 0)
    zeros = np.zeros(shape, np.float32)

    def union(items: list[dict], key: str) -> np.ndarray:
        out = zeros.copy()
        for r in items:
            np.maximum(out, r[key], out=out)
        return out

    face = union(fr, "face")
    # a pose head counts as a face only where no face mesh lies (small people: no mesh)
    pose_face = union(br, "face")
    pose_face *= 1.0 - cv2.dilate(face, np.ones((3, 3), np.uint8)) if fr else 1.0
    lips, eyes, brows = union(fr, "lips"), union(fr, "eyes"), union(fr, "brows")
    head = np.maximum(union(fr, "head"), union(br, "head"))
    upper_geo, lower_geo, hands_geo = union(br, "upper"), union(br, "lower"), union(br, "hands")
    for r in fr:  # face-only anthropometry for bodies the pose did not see
        if any(float((b["upper"] * r["face"]).sum()) > 0 or float((b["head"] * r["face"]).sum()) > 0 for b in br):
            continue
        fh = float(r["height"])
        upper_band = r["below"] * (1.0 - _half_plane(shape, r["chin"] - r["up"] * 3.0 * fh, -r["up"], 0.2 * fh))
        np.maximum(upper_geo, upper_band, out=upper_geo)
        np.maximum(lower_geo, r["below"] - upper_band, out=lower_geo)
    # -- colour model: seeds of this frame; skin first, so that hair seeds can leave out
    # pixels coloured like this person's skin (a bald head, a forehead under the band)
    skin_seed = np.maximum(union(fr, "skin_seed"), union(br, "skin_seed") * (1.0 - face)) * p
    bg_seed = (p < 0.05).astype(np.float32)
    bg_seed[::2, :] = 0  # a subsample is plenty
    idx = colour_index(image)
    model = model.update(image, {"skin": skin_seed, "background": bg_seed}, index=idx)
    skin_like = model.ratio(image, "skin", index=idx) if model.known("skin") else np.zeros(shape, np.float32)
    hair_seed = union(fr, "hair_seed") * p * (1.0 - skin_like)
    # clothes: the torso (pose) or the chest below the neck (face only), whatever the colour
    clothes_seed = np.maximum(union(br, "torso"), union(fr, "chest")) * (p > 0.7) * (1.0 - head)
    model = model.update(image, {"hair": hair_seed, "clothes": clothes_seed}, decay=1.0, index=idx)
    on_person = model.posteriors(image, ("skin", "hair", "clothes"), index=idx)  # bare skin, hair, clothes
    # -- parts
    skin = p * on_person[0] * (1.0 - np.maximum(np.maximum(eyes, brows), lips))
    hair_region = head * (1.0 - union(fr, "lower_face"))  # scalp hair: not on the face below the brows
    if br and not fr:
        hair_region *= 1.0 - pose_face
    hair = p * hair_region * on_person[1]
    hair *= 1.0 if model.known("hair") else 0.0
    hands = hands_geo * p * (0.4 + 0.6 * on_person[0])
    face_all = np.maximum(face, pose_face * p)
    not_other = (1.0 - skin) * (1.0 - hair) * (1.0 - face_all) * (1.0 - hands)
    upper = upper_geo * p * not_other
    lower = lower_geo * (1.0 - upper_geo) * p * not_other
    for i, a in enumerate((face_all, skin, hair, lips, eyes, upper, lower, hands)):
        alphas[i] = a
    np.clip(alphas, 0.0, 1.0, out=alphas)
    return PartsEstimate(alphas, model, len(fr), len(br))
