"""Relative inverse depth of one picture from monocular cues (static shots and photos).

A "pop-up" scene model (Hoiem et al. 2005 in spirit, no learning): sky at infinity, a ground
plane below the horizon (:func:`estimate_horizon`) whose inverse depth grows linearly with the
distance below the horizon (a flat ground seen from height ``h_c``: ``1/Z = (y − y_h) / (f h_c)``),
standing objects (Felzenszwalb segments crossing the horizon, and given person masks) at the
depth of the row where they touch the ground, and defocus as a weak cue (:data:`CUE_WEIGHTS`).
See :func:`monocular_depth` for the steps.

Example:
    >>> img = np.zeros((60, 80, 3), np.uint8); img[:24] = (110, 160, 230); img[24:] = (90, 120, 60)
    >>> sky = np.zeros((60, 80), np.float32); sky[:24] = 1
    >>> est = monocular_depth(img, sky_alpha=sky)
    >>> round(est.horizon), float(est.depth[:20].max()), bool(est.depth[-1].mean() > est.depth[30].mean())
    (24, 0.0, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from reworld.errors import InvalidInput
from reworld.ops.depth._common import _check_map, _smoothstep

__all__ = ["CUE_WEIGHTS", "SEGMENT_LONG_SIDE", "MonocularDepth", "estimate_horizon", "monocular_depth"]


#: monocular cues and their weights (documented in docs/analysis-depth.md). ``ground`` and
#: ``standing`` build the base map (a pixel takes the ground value of its row, or, on a standing
#: object, the ground value of the object's contact row); ``defocus`` adds at most ±weight/2 on
#: textured pixels; ``sky`` replaces the value by 0 in proportion to the sky alpha;
#: ``above_horizon`` is the inverse depth given to non-sky pixels above the horizon that stand
#: on nothing visible (distant hills, buildings far away).
CUE_WEIGHTS: dict[str, float] = {"ground": 1.0, "standing": 1.0, "defocus": 0.08, "sky": 1.0, "above_horizon": 0.04}
#: long side (px) at which images are segmented for the standing-object cue
SEGMENT_LONG_SIDE = 256


@dataclass
class MonocularDepth:
    """Result of :func:`monocular_depth`.

    Attributes:
        depth: ``(h, w)`` float32 in [0, 1], relative inverse depth (1 = near, sky 0).
        horizon: horizon row, pixels (may lie outside the frame).
        horizon_source: ``"given"``, ``"sky"``, ``"edge"`` or ``"default"``.
        confidence: in [0, 1], self-reported trust in the estimate (from the horizon cue).
        standing: number of standing objects placed on the ground (segments and masks).
    """

    depth: np.ndarray
    horizon: float
    horizon_source: str
    confidence: float
    standing: int


def _row_edges(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: strength of the *signed* mean vertical gradient (only edges running across the
    frame add up; texture cancels), its coherence (|Σ gy| / Σ |gy|), and the mean gradient energy."""
    h = grey.shape[0]
    g = cv2.GaussianBlur(grey, (0, 0), max(1.0, h / 150))
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3) / 8.0
    strength = np.abs(gy.mean(axis=1))
    coherence = np.abs(gy.sum(axis=1)) / (np.abs(gy).sum(axis=1) + 1e-6)
    energy = np.abs(gy).mean(axis=1) + np.abs(gx).mean(axis=1) + 1e-6
    return strength, coherence, energy


def _subpixel_peak(profile: np.ndarray, k: int) -> float:
    lo, hi = max(k - 1, 0), min(k + 1, len(profile) - 1)
    c0, c1, c2 = profile[lo], profile[k], profile[hi]
    den = c0 - 2 * c1 + c2
    off = 0.5 * (c0 - c2) / den if abs(den) > 1e-9 else 0.0
    return float(k + np.clip(off, -0.5, 0.5))


def estimate_horizon(image: np.ndarray, *, sky_alpha: np.ndarray | None = None) -> tuple[float, str, float]:
    """Row of the horizon of a level camera, pixels, with its source and a confidence.

    1. **Sky**: the ground hides the sky only below the horizon, so the horizon is at or below
       where the sky seen from the top ends: per column (of those whose top pixel is sky) the
       first non-sky row, 80th percentile over columns (a low percentile would follow heads,
       poles and mountains; columns where the sky runs down to the bottom are leaks and do not
       count).
       Mountains or a far shore can hide the horizon under the sky's end: when a straight
       horizontal edge (coherence ≥ 0.85, 1.5 × stronger than the edge where the sky ends)
       lies up to 0.3 h below it, that edge — a water line — is taken ("sky+edge").
    2. **Edge**: without sky, the strongest long horizontal edge (the row where the *signed*
       vertical gradient summed along the row is largest), weighted towards the middle.
    3. **Default**: 0.45 × height.

    Tilted horizons (camera roll) are not modelled: the horizon is one row.

    Args:
        image: ``(h, w, 3)`` uint8 RGB or ``(h, w)`` grey.
        sky_alpha: optional ``(h, w)`` sky alpha (float in [0, 1] or uint8 0-255).

    Returns:
        ``(row, source, confidence)``: ``source`` is ``"sky"``, ``"sky+edge"``, ``"edge"`` or
        ``"default"``.

    Example:
        >>> img = np.zeros((50, 40, 3), np.uint8); img[30:] = 200
        >>> estimate_horizon(img)[:2]
        (29.5, 'edge')
    """
    grey = _grey(image)
    h, w = grey.shape
    strength, coherence, energy = _row_edges(grey)
    if sky_alpha is not None:
        sky = np.clip(_check_map(sky_alpha, "sky_alpha", (h, w)), 0, 1) > 0.5
        through = sky.all(axis=0)  # sky down to the bottom: a leak, or a camera looking up
        cols = sky[0] & ~through
        if sky.mean() >= 0.01 and through.mean() > 0.5:
            return float(h), "sky", 0.3
        if sky.mean() >= 0.01 and cols.mean() >= 0.1:
            first = np.argmax(~sky, axis=0).astype(np.float32)
            row = float(np.percentile(first[cols], 80))
            conf = float(np.clip(0.5 + 0.5 * cols.mean(), 0, 1))
            k0 = int(np.clip(round(row), 0, h - 1))
            near = float(strength[max(0, k0 - max(2, h // 50)): k0 + max(2, h // 50) + 1].max())
            lo, hi = min(h - 1, k0 + max(2, h // 50)), min(h - 1, k0 + int(0.3 * h))
            if hi > lo:
                cand = np.where(coherence[lo:hi] >= 0.85, strength[lo:hi], 0.0)
                k = int(np.argmax(cand))
                if cand[k] > 1.5 * near and cand[k] > 0:
                    return _subpixel_peak(strength, lo + k), "sky+edge", conf * 0.8
            return row, "sky", conf
    rows = np.arange(h, dtype=np.float32)
    prior = np.exp(-0.5 * ((rows / h - 0.45) / 0.25) ** 2)
    score = strength * prior
    score[: max(1, h // 10)] = 0
    score[h - max(1, h // 10):] = 0
    k = int(np.argmax(score))
    if score[k] <= 0:
        return 0.45 * h, "default", 0.0
    conf = float(np.clip(strength[k] / (np.median(energy) * 4 + 1e-6), 0, 1)) * 0.6
    return _subpixel_peak(strength, k), "edge", conf


def _grey(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray):
        raise TypeError(f"`image` must be a numpy array, got {type(image).__name__}")
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)) or min(image.shape[:2]) < 8:
        raise InvalidInput("image", f"shape {image.shape}", "must be an (h, w, 3) RGB or (h, w) grey image, h, w >= 8")
    if image.dtype == np.uint8:
        im = image.astype(np.float32) / 255.0
    elif image.dtype.kind == "f":
        im = np.clip(image.astype(np.float32), 0, 1)
    else:
        raise InvalidInput("image", f"dtype {image.dtype}", "must be uint8 or float in [0, 1]")
    return cv2.cvtColor(im, cv2.COLOR_RGB2GRAY) if im.ndim == 3 else im


def _segments(image: np.ndarray) -> np.ndarray:
    """Felzenszwalb–Huttenlocher graph segmentation (OpenCV contrib), ``(h, w)`` int32 labels.

    Computed at most 256 px on the long side (it costs ~4x more at 512) and scaled back up.
    """
    rgb = image if image.ndim == 3 else np.dstack([image] * 3)
    if rgb.dtype != np.uint8:
        rgb = np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)
    h, w = rgb.shape[:2]
    s = min(1.0, SEGMENT_LONG_SIDE / max(h, w))
    small = rgb if s == 1.0 else cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    sh, sw = small.shape[:2]
    seg = cv2.ximgproc.segmentation.createGraphSegmentation(0.8, 300.0 * max(sh, sw) / 256.0, max(20, int(0.002 * sh * sw)))
    labels = seg.processImage(np.ascontiguousarray(small[..., ::-1]))
    if s != 1.0:
        labels = cv2.resize(labels, (w, h), interpolation=cv2.INTER_NEAREST)
    return labels


def _sharpness(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Local sharpness (high-frequency over edge energy, ranked to [0, 1]) and where it is defined."""
    h, w = grey.shape
    s = max(1.0, max(h, w) / 128.0)
    lap = np.abs(cv2.Laplacian(grey, cv2.CV_32F, ksize=3))
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    grad = np.hypot(gx, gy)
    lap_m = cv2.GaussianBlur(lap, (0, 0), 3 * s)
    grad_m = cv2.GaussianBlur(grad, (0, 0), 3 * s)
    textured = _smoothstep(0.02, 0.08, grad_m)
    ratio = lap_m / (grad_m + 1e-3)
    sel = textured > 0.5
    if sel.sum() < 50:
        return np.full_like(grey, 0.5), np.zeros_like(grey)
    lo, hi = np.percentile(ratio[sel], [5, 95])
    return np.clip((ratio - lo) / (hi - lo + 1e-6), 0, 1).astype(np.float32), textured.astype(np.float32)


def _boxes(labels: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per label ``0..n-1``: first row, last row, first column, last column (inf/-inf if absent)."""
    from scipy.ndimage import find_objects

    top, bot = np.full(n, np.inf), np.full(n, -np.inf)
    left, right = np.full(n, np.inf), np.full(n, -np.inf)
    for i, sl in enumerate(find_objects(labels + 1, max_label=n)):
        if sl is not None:
            top[i], bot[i] = sl[0].start, sl[0].stop - 1
            left[i], right[i] = sl[1].start, sl[1].stop - 1
    return top, bot, left, right


def _extent(labels: np.ndarray, n: int) -> np.ndarray:
    """Per label, ``max(x) − min(x) + 1`` over ``labels`` (a band of rows; 0 for labels absent)."""
    if labels.size == 0:
        return np.zeros(n)
    _t, _b, left, right = _boxes(labels, n)
    return np.where(np.isfinite(left), right - left + 1, 0.0)


def _standing_values(labels: np.ndarray, sky: np.ndarray, y_h: float, ground_row: np.ndarray
                     ) -> tuple[np.ndarray, int]:
    """Per segment label, the ground value of its contact row if it stands on the ground, else 0.

    A segment reaches above (below) the horizon when ≥ 10 % of it lies there. Segments that are
    not sky, narrower than 60 % of the frame and not "leaked" (reaching both ways but more than
    twice as wide below the horizon as above: ground merged with what stands on it) form
    *stacks*: A sits on B when ≥ 30 % of A's lower boundary lies on B, B reaches lower, and
    either A is all above the horizon while B reaches from it to below (a head on a body,
    whatever their widths) or B is not much wider than A (a shirt on trousers; the wider ground
    under a person is not part of the stack). A segment *stands* when its stack reaches above
    the horizon and its bottom lies below it; it gets the ground value of the stack's lowest
    row (the contact). Segments it encloses (≥ 70 % of their boundary: print on a shirt) take
    its value.
    """
    h, w = labels.shape
    n = int(labels.max()) + 1
    margin = max(2.0, 0.02 * h)
    lab = labels.ravel()
    count = np.bincount(lab, minlength=n).astype(np.float64)
    skyc = np.bincount(lab, weights=sky.ravel().astype(np.float64), minlength=n)
    ytop, ybot, xmin, xmax = _boxes(labels, n)
    nonsky = (count > 0) & (skyc < 0.3 * np.maximum(count, 1))
    width = xmax - xmin + 1
    # a segment reaches above (below) the horizon with >= 10 % of its pixels, not a sliver
    r_hi = int(np.clip(np.ceil(y_h - margin), 0, h))  # rows [0, r_hi) are above the horizon
    r_lo = int(np.clip(np.floor(y_h + margin) + 1, 0, h))  # rows [r_lo, h) are below it
    r_h = int(np.clip(np.ceil(y_h), 0, h))
    n_hi = np.bincount(labels[:r_hi].ravel(), minlength=n)
    n_lo = np.bincount(labels[r_lo:].ravel(), minlength=n)
    reach_hi = n_hi >= np.maximum(0.1 * count, 10)
    reach_lo = n_lo >= np.maximum(0.1 * count, 10)
    # much wider below the horizon than above it: ground merged with what stands on it
    wa = _extent(labels[:r_h], n)
    wb = _extent(labels[r_lo:], n)
    leaked = reach_hi & reach_lo & (wb > 2.0 * wa + 0.05 * w)
    narrow = nonsky & (width < 0.6 * w) & ~leaked
    up, dn = labels[:-1].ravel(), labels[1:].ravel()
    diff = up != dn
    # A sits on B when >= 30 % of A's lower boundary lies on B and B reaches lower. Two kinds
    # count: a segment all above the horizon on one reaching from it to below (a head on a
    # body, whatever their widths), and any narrow segment on one not much wider than itself (a
    # shirt on trousers; the wider ground under a person is not part of the stack)
    bottom_edge = np.bincount(up[diff], minlength=n)
    pair = diff & narrow[up] & narrow[dn]
    keys, counts = np.unique(up[pair].astype(np.int64) * n + dn[pair], return_counts=True)
    src, dst = keys // n, keys % n
    rests = (counts >= 0.3 * bottom_edge[src]) & (ybot[dst] > ybot[src])
    carry = reach_hi[src] & ~reach_lo[src] & (ytop[dst] < y_h + margin) & reach_lo[dst]
    similar = width[dst] <= 1.5 * width[src] + 0.05 * w
    on = rests & (carry | similar)
    src, dst = src[on], dst[on]
    ebot = np.where(narrow, ybot, -np.inf)
    top = (narrow & reach_hi).astype(np.int8)  # the stack above reaches over the horizon
    for _ in range(8):  # contact = the bottom of the stack below; "tall" flows down the stack
        np.maximum.at(ebot, src, ebot[dst])
        np.maximum.at(top, dst, top[src])
    stand = narrow & (top > 0) & (ebot > y_h + margin)
    contact = np.clip(np.round(np.where(np.isfinite(ebot), ebot, 0)), 0, h - 1).astype(int)
    val = np.where(stand, ground_row[contact], 0.0).astype(np.float32)
    # segments enclosed by a standing one (print on a shirt, a face in a hood) take its value
    a = np.concatenate([up, labels[:, :-1].ravel()])
    b = np.concatenate([dn, labels[:, 1:].ravel()])
    keep = a != b
    a, b = np.concatenate([a[keep], b[keep]]), np.concatenate([b[keep], a[keep]])
    border = np.bincount(a, minlength=n)
    sel = val[b] > 0
    keys, counts = np.unique(a[sel].astype(np.int64) * n + b[sel], return_counts=True)
    inner = counts >= 0.7 * border[keys // n]
    np.maximum.at(val, keys[inner] // n, val[keys[inner] % n])
    return val, int(stand.sum())


def monocular_depth(image: np.ndarray, *, sky_alpha: np.ndarray | None = None,
                    person_masks: np.ndarray | list | None = None, horizon: float | None = None) -> MonocularDepth:
    """Relative inverse depth of one picture from monocular cues (a "pop-up" scene model).

    Cues (weights in :data:`CUE_WEIGHTS`):

    1. **Horizon** (:func:`estimate_horizon`, or ``horizon`` when given): from the sky's lowest
       boundary, else the strongest long horizontal edge, else 0.45 h.
    2. **Ground plane** (weight 1): below the horizon ``g(y) = (y − y_h) / (h − 1 − y_h)`` —
       exact for flat ground, where inverse depth is proportional to the distance below the
       horizon; rows above it get ``above_horizon`` (0.04).
    3. **Standing objects** (replace the ground value): a region that crosses the horizon
       (a Felzenszwalb segment reaching above and below it, narrower than 60 % of the frame)
       and each mask in ``person_masks`` gets the ground value of its **contact row** (its
       lowest rows: where the feet touch the ground; a mask cut by the frame bottom is
       nearest). Overlapping masks keep the nearer contact (the lower feet occlude). Non-sky
       pixels above the horizon inherit, up their column until the sky, the value at the
       horizon row (a head on a body, a tree crown on its trunk).
    4. **Defocus** (weight 0.08): on textured pixels, sharper (high-frequency energy over edge
       energy, ranked within the picture) is slightly nearer — photographers focus on the
       subject. Weak and often wrong for deep focus; it only breaks ties.
    5. **Sky** (weight 1): blended to 0 (infinitely far) by the sky alpha.

    Args:
        image: ``(h, w, 3)`` uint8 RGB (or float in [0, 1]), ideally ≤ 512 px on the long side.
        sky_alpha: optional ``(h, w)`` sky alpha (float [0, 1] or uint8 0-255), e.g.
            :func:`reworld.ops.sky.sky_alpha`.
        person_masks: optional ``(n, h, w)`` (or a list of ``(h, w)``) bool/float masks of
            people or other objects standing on the ground.
        horizon: optional horizon row in pixels (skips the estimate).

    Returns:
        :class:`MonocularDepth`.

    Example:
        >>> img = np.zeros((60, 80, 3), np.uint8); img[30:] = 120
        >>> d = monocular_depth(img).depth
        >>> bool(d[-1].mean() > d[35].mean() > d[10].mean())
        True
    """
    grey = _grey(image)
    h, w = grey.shape
    alpha = np.zeros((h, w), np.float32) if sky_alpha is None else np.clip(_check_map(sky_alpha, "sky_alpha", (h, w)), 0, 1)
    masks: list[np.ndarray] = []
    if person_masks is not None:
        for i, m in enumerate(list(person_masks)):
            m = np.asarray(m)
            if m.shape != (h, w):
                raise InvalidInput(f"person_masks[{i}]", f"shape {m.shape}", f"must be a mask of shape {(h, w)}")
            masks.append(m.astype(np.float32) > 0.5)
    if masks:  # a person in front of the sky is not sky
        alpha = alpha * ~np.logical_or.reduce(masks)
    # 1. horizon
    if horizon is not None:
        y_h, source, h_conf = float(horizon), "given", 0.7
    else:
        y_h, source, h_conf = estimate_horizon(grey if image.ndim == 2 else image, sky_alpha=alpha if sky_alpha is not None else None)
    # 2. ground plane
    above = CUE_WEIGHTS["above_horizon"]
    rows = np.arange(h, dtype=np.float32)
    span = max(h - 1 - y_h, 1.0)
    ground_row = above + (1 - above) * np.clip((rows - y_h) / span, 0, 1)
    depth = np.repeat(ground_row[:, None], w, axis=1)
    # 3. standing objects: segments crossing the horizon, and the masks given
    n_standing = 0
    # sky is above the horizon: alpha well below it (sky-coloured ground, reflections) is dropped
    alpha = alpha * (1 - _smoothstep(y_h + 0.03 * h, y_h + 0.08 * h, rows))[:, None]
    sky = alpha > 0.5
    yh_i = int(np.clip(round(y_h), 0, h - 1))
    if 0 < y_h < h - 1:
        labels = _segments(image if image.ndim == 3 else grey)
        seg_val, n_seg = _standing_values(labels, sky, y_h, ground_row)
        depth = np.maximum(depth, seg_val[labels])
        n_standing += n_seg
    for m in masks:
        if not m.any():
            continue
        ys_m = np.nonzero(m)[0]
        contact = int(np.clip(round(float(np.percentile(ys_m, 98))), 0, h - 1))
        depth = np.where(m, np.maximum(depth, ground_row[contact]), depth)  # nearer contact wins
        n_standing += 1
    if 0 < yh_i < h:
        # billboards: non-sky pixels above the horizon take the value at the horizon row, up to the sky
        base = depth[yh_i]
        alive = np.cumprod(~sky[yh_i - 1::-1], axis=0)[::-1].astype(bool) if yh_i > 0 else np.zeros((0, w), bool)
        top = depth[:yh_i]
        depth[:yh_i] = np.where(alive, np.maximum(top, base[None, :]), top)
    # 4. defocus (weak)
    sharp, textured = _sharpness(grey)
    depth = depth + CUE_WEIGHTS["defocus"] * (sharp - 0.5) * textured
    # edge-aware smoothing: snap the blocky map to image edges
    r = max(2, round(max(h, w) / 128))
    depth = cv2.ximgproc.guidedFilter(grey, depth.astype(np.float32), r, 1e-3)
    # 5. sky at infinity
    depth = depth * (1 - CUE_WEIGHTS["sky"] * alpha)
    depth = np.clip(depth, 0, 1).astype(np.float32)
    conf = float(0.2 + 0.4 * h_conf)
    return MonocularDepth(depth, y_h, source, conf, n_standing)
