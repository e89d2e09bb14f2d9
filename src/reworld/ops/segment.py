"""Masks from a user's prompt, mask refinement, warping and mask metrics (layer 1: numpy/cv2/scipy).

A prompt is positive clicks ``points``, negative clicks ``negative`` and/or a ``box``, all in the
image's pixels as ``(x, y)`` (``box`` = ``(x0, y0, x1, y1)``, right/bottom edges exclusive).
:func:`mask_from_prompt` turns it into a soft alpha in four steps:

1. **superpixels** (SLIC-O on CIELAB) and a **colour/texture model**: joint histograms of
   quantised RGB x local-contrast level (:class:`AppearanceModel`) for the foreground (clicked
   superpixels or the box interior) and the background (border superpixels, negative clicks,
   the outside of the box);
2. **superpixel growing**: the connected superpixels whose mean log-likelihood ratio favours
   the foreground, twice (the model is refitted on the grown region);
3. **graph-cut refinement** with :func:`cv2.grabCut` initialised from that mask, on a crop
   around it at a reduced size (``max_side``) — the only slow step (~0.1-0.5 s), meant for the
   key frame;
4. **edge snapping**: the hard mask is upsampled and passed through a guided filter
   (He et al. 2010) with the image as guide, which gives a soft edge that follows the image's
   edges.

:func:`refine_mask` re-segments one frame from a prior (e.g. the previous mask warped by optical
flow with :func:`warp_mask`): colour log-likelihood ratio + the blurred prior as a spatial
term, edge-aware smoothing, limited to a band around the prior; a few milliseconds, no grabCut.
:func:`mask_iou` and :func:`boundary_f` are the DAVIS region (J) and boundary (F) measures.

Example:
    >>> import numpy as np
    >>> img = np.zeros((60, 80, 3), np.uint8); img[20:40, 30:50] = (230, 120, 40)
    >>> alpha = mask_from_prompt(img, points=[(40, 30)])
    >>> truth = np.zeros((60, 80), bool); truth[20:40, 30:50] = True
    >>> mask_iou(alpha > 0.5, truth) > 0.9
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from scipy.ndimage import gaussian_filter

from reworld.errors import InvalidInput

__all__ = [
    "AppearanceModel",
    "boundary_f",
    "check_prompt",
    "mask_from_prompt",
    "mask_iou",
    "refine_mask",
    "warp_mask",
]

_EPS = 1e-6
_LLR_CLIP = 5.0


# -- validation ----------------------------------------------------------------------------------
def _check_image(image: np.ndarray, arg: str = "image") -> np.ndarray:
    """``(H, W, 3)`` uint8, or float in [0, 1] converted to uint8."""
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or min(image.shape[:2]) < 1:
        raise InvalidInput(arg, getattr(image, "shape", type(image).__name__), "must be an (H, W, 3) RGB array")
    if image.dtype == np.uint8:
        return image
    if np.issubdtype(image.dtype, np.floating):
        if not np.isfinite(image).all() or image.min() < -1e-6 or image.max() > 1 + 1e-6:
            raise InvalidInput(arg, f"{image.dtype} in [{image.min()}, {image.max()}]", "must hold values in [0, 1]")
        return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)
    raise InvalidInput(arg, str(image.dtype), "must be uint8 or float in [0, 1]")


def _check_alpha(alpha: np.ndarray, shape: tuple[int, int], arg: str) -> np.ndarray:
    if not isinstance(alpha, np.ndarray) or alpha.shape != shape:
        raise InvalidInput(arg, getattr(alpha, "shape", type(alpha).__name__), f"must be an array of shape {shape}")
    if alpha.dtype == np.uint8:
        return alpha.astype(np.float32) / 255.0
    a = alpha.astype(np.float32)
    if a.size and (not np.isfinite(a).all() or a.min() < -1e-6 or a.max() > 1 + 1e-6):
        raise InvalidInput(arg, f"values in [{a.min()}, {a.max()}]", "must be bool, uint8 or float in [0, 1]")
    return np.clip(a, 0, 1)


def _check_points(points, arg: str, width: int, height: int) -> np.ndarray:
    try:
        arr = np.asarray(points, dtype=np.float64).reshape(-1, 2) if len(points) else np.zeros((0, 2))
        if len(points) and np.asarray(points, dtype=np.float64).ndim != 2:
            raise ValueError
    except (TypeError, ValueError):
        raise InvalidInput(arg, points, "must be a list of (x, y) pixel pairs, e.g. [(120, 80)]") from None
    for x, y in arr:
        if not (np.isfinite(x) and np.isfinite(y) and 0 <= x < width and 0 <= y < height):
            raise InvalidInput(arg, (float(x), float(y)),
                               f"must lie inside the image: 0 <= x < {width} and 0 <= y < {height} (pixels)")
    return arr


def _check_box(box, width: int, height: int, arg: str = "box") -> np.ndarray | None:
    if box is None:
        return None
    try:
        b = np.asarray(box, dtype=np.float64)
        if b.shape != (4,):
            raise ValueError
    except (TypeError, ValueError):
        raise InvalidInput(arg, box, "must be (x0, y0, x1, y1) in pixels") from None
    x0, y0, x1, y1 = b
    if not np.isfinite(b).all() or not (0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height):
        raise InvalidInput(arg, tuple(float(v) for v in b),
                           f"must have positive area inside the image: 0 <= x0 < x1 <= {width} and "
                           f"0 <= y0 < y1 <= {height} (pixels)")
    return b


def check_prompt(points, negative, box, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Validate a prompt for a ``width`` x ``height`` image; return ``(points, negative, box)`` arrays.

    Raises:
        InvalidInput: a point outside the image, a box with zero area or outside the image, or
            neither a positive point nor a box.
    """
    pts = _check_points(points, "points", width, height)
    neg = _check_points(negative, "negative", width, height)
    bx = _check_box(box, width, height)
    if not len(pts) and bx is None:
        raise InvalidInput("points", list(points), "needs at least one positive (x, y) point, or give a box")
    return pts, neg, bx


# -- appearance model ----------------------------------------------------------------------------
@dataclass(frozen=True)
class AppearanceModel:
    """Foreground and background histograms of quantised colour x local contrast.

    Attributes:
        fg: ``(bins**3 * levels,)`` float32 foreground histogram (sums to 1).
        bg: same shape, background.
        bins: colour levels per RGB channel.
        levels: local-contrast (texture) levels: luma standard deviation in a 5x5 window.
    """

    fg: np.ndarray
    bg: np.ndarray
    bins: int = 16
    levels: int = 3

    @staticmethod
    def features(image: np.ndarray, bins: int = 16, levels: int = 3) -> np.ndarray:
        """Histogram bin of every pixel: ``(H, W)`` int32 in ``[0, bins**3 * levels)``."""
        img = _check_image(image)
        q = (img.astype(np.int32) * bins) >> 8
        idx = (q[..., 0] * bins + q[..., 1]) * bins + q[..., 2]
        if levels > 1:
            y = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
            m = cv2.blur(y, (5, 5))
            sd = np.sqrt(np.maximum(cv2.blur(y * y, (5, 5)) - m * m, 0))
            tex = np.digitize(sd, np.asarray([4.0, 12.0, 30.0][: levels - 1], np.float32)).astype(np.int32)
            idx = idx + tex * bins ** 3
        return idx

    @staticmethod
    def _hist(idx: np.ndarray, weights: np.ndarray, bins: int, levels: int) -> np.ndarray:
        h = np.bincount(idx.ravel(), weights=weights.ravel(), minlength=bins ** 3 * levels).astype(np.float32)
        h = gaussian_filter(h.reshape(levels, bins, bins, bins), (0.0, 0.8, 0.8, 0.8), mode="constant")
        h = h.reshape(-1)
        return h / max(float(h.sum()), _EPS)

    @classmethod
    def fit(cls, image: np.ndarray, alpha: np.ndarray, *, bg_weight: np.ndarray | None = None,
            band: int | None = None, bins: int = 16, levels: int = 3,
            idx: np.ndarray | None = None) -> AppearanceModel:
        """Fit from an image and its alpha.

        Args:
            image: ``(H, W, 3)`` uint8 RGB (or float in [0, 1]).
            alpha: ``(H, W)`` foreground weight in [0, 1] (bool/uint8 accepted).
            bg_weight: ``(H, W)`` background weight; default ``1 - alpha`` inside a band of
                ``band`` pixels around the mask (the local background matters most).
            band: background band width in pixels (default: the mask's equivalent radius,
                at least 8); ``0`` = the whole image.
            idx: precomputed :meth:`features` of ``image``.
        """
        img = _check_image(image)
        a = _check_alpha(alpha, img.shape[:2], "alpha")
        if idx is None:
            idx = cls.features(img, bins, levels)
        if bg_weight is None:
            bg_weight = 1.0 - a
            if band is None:
                band = max(8, int(np.sqrt(max(float(a.sum()), 1.0) / np.pi)))
            if band > 0 and a.max() > 0.5:
                bg_weight = bg_weight * (_distance_to(a > 0.5) <= band)
        fg = cls._hist(idx, a, bins, levels)
        bg = cls._hist(idx, np.asarray(bg_weight, np.float32), bins, levels)
        return cls(fg, bg, bins, levels)

    def llr(self, image: np.ndarray | None = None, *, idx: np.ndarray | None = None) -> np.ndarray:
        """Log-likelihood ratio log p(fg) / p(bg) per pixel: ``(H, W)`` float32 in [-5, 5].

        Colours neither histogram has seen get about 0 (undecided)."""
        if idx is None:
            idx = self.features(image, self.bins, self.levels)
        table = np.clip(np.log((self.fg + 2e-5) / (self.bg + 2e-5)), -_LLR_CLIP, _LLR_CLIP).astype(np.float32)
        return table[idx]

    def update(self, image: np.ndarray, alpha: np.ndarray, *, fg_rate: float = 0.1, bg_rate: float = 0.5,
               bg_weight: np.ndarray | None = None, idx: np.ndarray | None = None) -> AppearanceModel:
        """A new model blended towards the statistics of ``(image, alpha)``: ``(1 - rate) * old + rate * new``
        (``bg_weight`` as in :meth:`fit`)."""
        new = self.fit(image, alpha, bg_weight=bg_weight, bins=self.bins, levels=self.levels, idx=idx)
        fg = (1 - fg_rate) * self.fg + fg_rate * new.fg
        bg = (1 - bg_rate) * self.bg + bg_rate * new.bg
        return AppearanceModel(fg.astype(np.float32), bg.astype(np.float32), self.bins, self.levels)

    def similarity(self, idx: np.ndarray, mask: np.ndarray) -> float:
        """Bhattacharyya coefficient in [0, 1] between the foreground histogram and the pixels in ``mask``."""
        h = self._hist(idx, mask.astype(np.float32), self.bins, self.levels)
        return float(np.sqrt(h * self.fg).sum())


# -- prompt -> mask ------------------------------------------------------------------------------
def _superpixels(img: np.ndarray, count: int = 600) -> tuple[np.ndarray, int]:
    h, w = img.shape[:2]
    size = max(4, round(float(np.sqrt(h * w / count))))
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB)
    slic = cv2.ximgproc.createSuperpixelSLIC(lab, cv2.ximgproc.SLICO, size, 10.0)
    slic.iterate(8)
    slic.enforceLabelConnectivity(25)
    return slic.getLabels(), int(slic.getNumberOfSuperpixels())


def _adjacency(labels: np.ndarray, n: int):
    from scipy.sparse import coo_matrix

    a = np.concatenate([labels[:, :-1].ravel(), labels[:-1, :].ravel()])
    b = np.concatenate([labels[:, 1:].ravel(), labels[1:, :].ravel()])
    keep = a != b
    a, b = a[keep], b[keep]
    m = coo_matrix((np.ones(len(a) * 2, np.int8), (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(n, n))
    return m.tocsr()


def _grow(adj, accept: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Superpixels in ``accept`` connected to a seed through accepted superpixels."""
    from scipy.sparse.csgraph import connected_components

    nodes = np.flatnonzero(accept | seeds)
    sub = adj[nodes][:, nodes]
    _, comp = connected_components(sub, directed=False)
    keep = np.isin(comp, np.unique(comp[seeds[nodes]]))
    out = np.zeros(len(accept), bool)
    out[nodes[keep]] = True
    return out


def _geodesic_split(adj, labels: np.ndarray, n: int, lab: np.ndarray, fg: np.ndarray, bg: np.ndarray) -> np.ndarray:
    """Superpixels whose colour-geodesic distance to ``fg`` sources is below that to ``bg`` ones
    (Bai & Sapiro 2007 on the superpixel graph; edge cost = Lab distance of the means + 1)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    if not fg.any() or not bg.any():
        return np.ones(n, bool)
    counts = np.maximum(np.bincount(labels.ravel(), minlength=n), 1)
    means = np.stack([np.bincount(labels.ravel(), weights=lab[..., c].ravel().astype(np.float64), minlength=n)
                      for c in range(3)], 1) / counts[:, None]
    coo = adj.tocoo()
    cost = np.linalg.norm(means[coo.row] - means[coo.col], axis=1) + 1.0
    graph = csr_matrix((cost, (coo.row, coo.col)), shape=(n, n))
    d_fg = dijkstra(graph, directed=False, indices=np.flatnonzero(fg), min_only=True)
    d_bg = dijkstra(graph, directed=False, indices=np.flatnonzero(bg & ~fg), min_only=True)
    return d_fg < d_bg


def _disk_mask(shape: tuple[int, int], pts: np.ndarray, radius: int) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    for x, y in pts:
        cv2.circle(m, (int(x), int(y)), radius, 1, -1)
    return m.astype(bool)


def _keep_components(hard: np.ndarray, anchor: np.ndarray, *, fill_holes: float = 0.15) -> np.ndarray:
    """Components of ``hard`` that touch ``anchor`` (all when none does), small holes filled."""
    n, lab = cv2.connectedComponents(hard.astype(np.uint8), connectivity=8)
    if n <= 1:
        return hard
    ids = np.unique(lab[anchor & hard])
    ids = ids[ids > 0]
    out = np.isin(lab, ids) if len(ids) else hard
    if fill_holes > 0 and out.any():
        inv = (~out).astype(np.uint8)
        m, hl, stats, _ = cv2.connectedComponentsWithStats(inv, connectivity=4)
        area = out.sum()
        h, w = out.shape
        for i in range(1, m):
            x, y, bw, bh, a = stats[i]
            if x > 0 and y > 0 and x + bw < w and y + bh < h and a <= fill_holes * area:
                out[hl == i] = True
    return out


def _snap(image: np.ndarray, hard: np.ndarray, radius: int) -> np.ndarray:
    """Guided-filter a hard mask with the image as guide: a soft edge on the image's edges."""
    guide = image.astype(np.float32) * (1.0 / 255.0)
    radius = max(1, radius)
    soft = np.clip(cv2.ximgproc.guidedFilter(guide, hard.astype(np.float32), radius, 1e-3), 0.0, 1.0)
    # parts thinner than the filter window would fade: keep them as they are
    u8 = hard.astype(np.uint8)
    thin = u8 > cv2.morphologyEx(u8, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2))
    if thin.any():
        soft[thin] = np.maximum(soft[thin], 0.75)
    return soft


def mask_from_prompt(image: np.ndarray, *, points: Sequence = (), negative: Sequence = (), box=None,
                     max_side: int = 320, iterations: int = 4) -> np.ndarray:
    """Segment the object a user points at (see module doc for the method).

    Args:
        image: ``(H, W, 3)`` uint8 RGB (or float32 in [0, 1]).
        points: positive clicks, ``[(x, y), ...]`` in pixels of ``image``.
        negative: negative clicks (background), same form.
        box: ``(x0, y0, x1, y1)`` pixels, the object lies inside (right/bottom exclusive).
        max_side: the graph cut runs at most at this long side (pixels); the edge is snapped
            at full size.
        iterations: grabCut iterations.

    Returns:
        ``(H, W)`` float32 alpha in [0, 1] (soft at edges; threshold at 0.5 for a hard mask).

    Raises:
        InvalidInput: a point outside the image, a zero-area box, or no positive point nor box.

    Example:
        >>> img = np.zeros((40, 40, 3), np.uint8); img[10:30, 10:30] = 200
        >>> float(mask_from_prompt(img, box=(5, 5, 35, 35))[20, 20]) > 0.9
        True
    """
    img = _check_image(image)
    h0, w0 = img.shape[:2]
    pts, neg, bx = check_prompt(points, negative, box, w0, h0)
    if not isinstance(max_side, int) or max_side < 16:
        raise InvalidInput("max_side", max_side, "must be an integer >= 16 (pixels)")
    # 0. working size
    s = min(1.0, max_side / max(h0, w0))
    small = cv2.resize(img, (max(1, round(w0 * s)), max(1, round(h0 * s))), interpolation=cv2.INTER_AREA) if s < 1 else img
    h, w = small.shape[:2]
    scale = np.asarray([w / w0, h / h0])
    inbox = np.ones((h, w), bool)
    if bx is not None:
        x0, y0 = np.floor(bx[:2] * scale).astype(int)
        x1, y1 = np.maximum(np.ceil(bx[2:] * scale).astype(int), (x0 + 1, y0 + 1))
        inbox[:] = False
        inbox[y0:y1, x0:x1] = True
    # 1.-2. superpixels, colour/texture model, growing
    region = _grow_region(small, pts * scale if len(pts) else pts, neg * scale if len(neg) else neg,
                          inbox if bx is not None else None)
    # 3. graph cut on a crop around the region, taken from the full image
    hard, r = _graph_cut(img, region, inbox, scale, pts, neg, bx, max_side, iterations)
    # 4. edges snapped with a guided filter
    return _snap(img, hard, max(2, round(1.5 / r)))


def _grow_region(small: np.ndarray, pts: np.ndarray, neg: np.ndarray, inbox: np.ndarray | None) -> np.ndarray:
    """Steps 1-2 of :func:`mask_from_prompt` at the working size: the grown superpixel region."""
    h, w = small.shape[:2]
    labels, n = _superpixels(small)
    idx = AppearanceModel.features(small)
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB)
    counts = np.maximum(np.bincount(labels.ravel(), minlength=n), 1)

    def hit(p: np.ndarray) -> np.ndarray:
        out = np.zeros(n, bool)
        if len(p):
            out[labels[p[:, 1].astype(int), p[:, 0].astype(int)]] = True
        return out

    clicked, neg_sp = hit(pts), hit(neg)
    pos_sp = clicked.copy()
    if inbox is not None:
        outside = np.bincount(labels.ravel(), weights=(~inbox).ravel().astype(np.float64), minlength=n) / counts > 0.5
        bg_sp = outside | neg_sp
        # the box interior, shrunk by a fifth: where the object most likely is
        ys, xs = np.nonzero(inbox)
        my, mx = (ys.max() - ys.min()) // 5, (xs.max() - xs.min()) // 5
        seed_pix = np.zeros((h, w), bool)
        seed_pix[ys.min() + my:ys.max() + 1 - my, xs.min() + mx:xs.max() + 1 - mx] = True
        seed_pix |= _disk_mask((h, w), pts, 1)
    else:
        border = np.zeros(n, bool)
        border[np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))] = True
        bg_sp = (border & ~clicked) | neg_sp
        # seed with the clicked superpixels' pixels that look like the clicked pixel; a clicked
        # superpixel that is mostly something else (a small object) does not seed the growth
        labf = lab.astype(np.float32)
        seed_pix = _disk_mask((h, w), pts, 1)
        for x, y in pts.astype(int):
            ref = np.median(labf[max(0, y - 1):y + 2, max(0, x - 1):x + 2].reshape(-1, 3), axis=0)
            sp = labels == labels[y, x]
            like = sp & (np.linalg.norm(labf - ref, axis=2) < 20.0)
            seed_pix |= like
            if like.sum() < 0.5 * sp.sum() and np.linalg.norm(np.median(labf[sp], axis=0) - ref) > 60.0:
                pos_sp[labels[y, x]] = False
    bg_pix = bg_sp[labels]
    adj = _adjacency(labels, n)
    # negative clicks claim what is geodesically nearer (in colour) to them than to the object
    near_fg = np.ones(n, bool)
    if len(neg):
        near_fg = _geodesic_split(adj, labels, n, lab, clicked if inbox is None else ~bg_sp, neg_sp)
    region = seed_pix
    for _ in range(2):  # grow what the model calls foreground, refit on the grown region, again
        model = AppearanceModel.fit(small, region.astype(np.float32), bg_weight=bg_pix.astype(np.float32), idx=idx)
        sp_llr = np.bincount(labels.ravel(), weights=model.llr(idx=idx).ravel(), minlength=n) / counts
        accept = (sp_llr > 0) & near_fg & ~bg_sp
        if inbox is None:
            grown = _grow(adj, accept & (pos_sp | ~clicked), pos_sp) if pos_sp.any() else pos_sp
            bg_pix = bg_pix | ((sp_llr < -1.0) & ~grown)[labels]
        else:
            grown = accept
        region = grown[labels] | seed_pix
    return region


def _graph_cut(img: np.ndarray, region: np.ndarray, inbox: np.ndarray, scale: np.ndarray, pts: np.ndarray,
               neg: np.ndarray, bx: np.ndarray | None, max_side: int, iterations: int) -> tuple[np.ndarray, float]:
    """Step 3 of :func:`mask_from_prompt`: grabCut initialised from ``region`` (working size) on a
    crop of the full image at most ``max_side`` long, so small objects keep their pixels.
    Returns the full-size hard mask and the crop's scale."""
    h, w = region.shape
    h0, w0 = img.shape[:2]
    ys, xs = np.nonzero(region | (inbox if bx is not None else region))
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    if bx is not None:
        my, mx = max(4, (y1 - y0) // 5), max(4, (x1 - x0) // 5)
    else:
        my = mx = max(12, int(0.5 * max(y1 - y0, x1 - x0)), int(0.08 * max(h, w)))
    y0, y1, x0, x1 = max(0, y0 - my), min(h, y1 + my), max(0, x0 - mx), min(w, x1 + mx)
    gc = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
    gc[region] = cv2.GC_PR_FGD
    gc[~inbox] = cv2.GC_BGD
    fx0, fy0 = int(np.floor(x0 / scale[0])), int(np.floor(y0 / scale[1]))
    fx1, fy1 = min(w0, int(np.ceil(x1 / scale[0]))), min(h0, int(np.ceil(y1 / scale[1])))
    r = min(1.0, max_side / max(fx1 - fx0, fy1 - fy0))
    cw, ch = max(1, round((fx1 - fx0) * r)), max(1, round((fy1 - fy0) * r))
    crop_img = img[fy0:fy1, fx0:fx1]
    if (ch, cw) != crop_img.shape[:2]:
        crop_img = cv2.resize(crop_img, (cw, ch), interpolation=cv2.INTER_AREA)
    crop = cv2.resize(gc[y0:y1, x0:x1], (cw, ch), interpolation=cv2.INTER_NEAREST)

    def to_crop(p: np.ndarray) -> np.ndarray:
        if not len(p):
            return p
        q = (p - (fx0, fy0)) * (cw / (fx1 - fx0), ch / (fy1 - fy0))
        return q[(q[:, 0] >= 0) & (q[:, 1] >= 0) & (q[:, 0] < cw) & (q[:, 1] < ch)]

    crop[_disk_mask((ch, cw), to_crop(neg), 2)] = cv2.GC_BGD
    fg_pts = to_crop(pts)
    crop[_disk_mask((ch, cw), fg_pts, 1)] = cv2.GC_FGD
    init = np.isin(crop, (cv2.GC_FGD, cv2.GC_PR_FGD))
    if init.any() and (~init).sum() >= 8 and iterations > 0:
        bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
        try:
            cv2.grabCut(np.ascontiguousarray(crop_img), crop, None, bgd, fgd, iterations, cv2.GC_INIT_WITH_MASK)
        except cv2.error:
            pass  # degenerate colour statistics: keep the grown region
    hard = np.isin(crop, (cv2.GC_FGD, cv2.GC_PR_FGD))
    if hard.sum() < 0.25 * init.sum():
        hard = init  # the cut found no colour difference (fg and bg alike): keep the superpixel region
    opened = cv2.morphologyEx(hard.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool)
    anchor = _disk_mask((ch, cw), fg_pts, 2) if len(fg_pts) else hard
    if (opened & anchor).any() or not len(fg_pts):
        hard = opened  # unless opening would delete a thin clicked object
    if not len(fg_pts) and hard.any():  # box only: the biggest component and those near its size
        m, lab, stats, _ = cv2.connectedComponentsWithStats(hard.astype(np.uint8), connectivity=8)
        areas = stats[1:, cv2.CC_STAT_AREA]
        anchor = np.isin(lab, 1 + np.flatnonzero(areas >= 0.3 * areas.max())) if m > 1 else hard
    hard = _keep_components(hard, anchor)
    full = np.zeros((h0, w0), bool)
    if r < 1:
        hard = cv2.resize(hard.astype(np.float32), (fx1 - fx0, fy1 - fy0), interpolation=cv2.INTER_LINEAR) > 0.5
    full[fy0:fy1, fx0:fx1] = hard
    if bx is not None:
        keep = np.zeros_like(full)
        keep[int(bx[1]):int(np.ceil(bx[3])), int(bx[0]):int(np.ceil(bx[2]))] = True
        full &= keep
    return full, r


# -- per-frame refinement ------------------------------------------------------------------------
def refine_mask(image: np.ndarray, prior_alpha: np.ndarray, *, model: AppearanceModel | None = None,
                band: int | None = None, llr: np.ndarray | None = None, prior_sigma: float = 2.0,
                colour_weight: float = 1.0) -> np.ndarray:
    """Re-segment one frame around a prior mask (fast: no graph cut).

    Per pixel, score = ``colour_weight`` * colour log-likelihood ratio + logit of the prior
    blurred by ``prior_sigma``; the probability is smoothed edge-aware (guided filter), kept
    within ``band`` pixels of the prior, restricted to components touching the prior's core,
    and its edge snapped.

    Args:
        image: ``(H, W, 3)`` uint8 RGB (or float in [0, 1]).
        prior_alpha: ``(H, W)`` alpha in [0, 1] (e.g. the previous mask warped with :func:`warp_mask`).
        model: appearance model (default: fitted on ``image`` and the prior itself).
        band: how far (pixels) the mask may grow past the prior (default: 15 % of the prior's
            equivalent diameter, at least 4).
        llr: precomputed ``model.llr(image)`` (saves computing it twice).
        prior_sigma: blur of the prior (pixels): how much the flow may be off.
        colour_weight: weight of the colour term against the prior term.

    Returns:
        ``(H, W)`` float32 alpha in [0, 1].

    Example:
        >>> img = np.zeros((50, 50, 3), np.uint8); img[10:30, 10:30] = (250, 80, 20)
        >>> prior = np.zeros((50, 50), np.float32); prior[12:32, 12:32] = 1  # 2 px off
        >>> truth = np.zeros((50, 50), bool); truth[10:30, 10:30] = True
        >>> mask_iou(refine_mask(img, prior) > 0.5, truth) > 0.9
        True
    """
    img = _check_image(image)
    p = _check_alpha(prior_alpha, img.shape[:2], "prior_alpha")
    core = p > 0.5
    out = np.zeros(img.shape[:2], np.float32)
    if not core.any():
        return out
    if model is None:
        model = AppearanceModel.fit(img, p)
    if band is None:
        band = max(4, round(0.3 * float(np.sqrt(core.sum() / np.pi))))
    # work on a crop around the prior: cost follows the object's size, not the frame's
    ys, xs = np.nonzero(core)
    pad = band + 4 + int(3 * prior_sigma)
    y0, y1 = max(0, ys.min() - pad), min(img.shape[0], ys.max() + 1 + pad)
    x0, x1 = max(0, xs.min() - pad), min(img.shape[1], xs.max() + 1 + pad)
    crop, pc, corec = img[y0:y1, x0:x1], p[y0:y1, x0:x1], core[y0:y1, x0:x1]
    lc = model.llr(crop) if llr is None else llr[y0:y1, x0:x1]
    pb = np.clip(cv2.GaussianBlur(pc, (0, 0), prior_sigma) if prior_sigma > 0 else pc, 0.03, 0.97)
    score = colour_weight * lc + np.log(pb / (1 - pb))
    prob = 1.0 / (1.0 + np.exp(-np.clip(score, -20, 20)))
    prob = cv2.ximgproc.guidedFilter(crop.astype(np.float32) * (1 / 255.0), prob.astype(np.float32), 3, 1e-2)
    hard = (prob > 0.5) & (_distance_to(corec) <= band)
    hard = cv2.morphologyEx(hard.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool)
    inner = cv2.erode(corec.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    hard = _keep_components(hard, inner if inner.any() else corec)
    out[y0:y1, x0:x1] = _snap(crop, hard, 2)
    return out


def _distance_to(mask: np.ndarray) -> np.ndarray:
    """Euclidean distance (pixels, float32) from every pixel to the nearest pixel of ``mask``."""
    if not mask.any():
        return np.full(mask.shape, np.inf, np.float32)
    return cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 3)


# -- warping and metrics -------------------------------------------------------------------------
def warp_mask(alpha: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Carry a mask to another frame by backward warping: ``out[y, x] = alpha[y + dy, x + dx]``.

    Args:
        alpha: ``(H, W)`` alpha of the source frame (float in [0, 1], bool or uint8).
        flow: ``(H, W, 2)`` float32 (dx, dy) pixels from each pixel of the **target** frame to
            where it is in the source frame (``cv2.DISOpticalFlow.calc(target, source)``).

    Returns:
        ``(H, W)`` float32 in [0, 1]; pixels that map outside the source get 0.

    Example:
        >>> a = np.zeros((4, 6), np.float32); a[1, 1] = 1
        >>> f = np.zeros((4, 6, 2), np.float32); f[..., 0] = -2  # content moved 2 px right
        >>> int(np.argmax(warp_mask(a, f)[1]))
        3
    """
    if not isinstance(alpha, np.ndarray) or alpha.ndim != 2:
        raise InvalidInput("alpha", getattr(alpha, "shape", type(alpha).__name__), "must be an (H, W) array")
    a = _check_alpha(alpha, alpha.shape, "alpha")
    h, w = a.shape
    if not isinstance(flow, np.ndarray) or flow.shape != (h, w, 2):
        raise InvalidInput("flow", getattr(flow, "shape", type(flow).__name__), f"must be an array of shape {(h, w, 2)}")
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    mx = gx + flow[..., 0].astype(np.float32)
    my = gy + flow[..., 1].astype(np.float32)
    out = cv2.remap(a, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return np.clip(out, 0.0, 1.0)


def _binary(mask: np.ndarray, arg: str) -> np.ndarray:
    m = np.asarray(mask)
    if m.dtype == np.bool_:
        return m
    if m.dtype == np.uint8:
        return m > 127
    return m > 0.5


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Region similarity J (intersection over union) of two masks; 1.0 when both are empty.

    Masks are bool, uint8 (> 127) or float (> 0.5), same shape.

    Example:
        >>> a = np.zeros((4, 4), bool); a[:2] = True
        >>> mask_iou(a, np.ones((4, 4), bool))
        0.5
    """
    x, y = _binary(a, "a"), _binary(b, "b")
    if x.shape != y.shape:
        raise InvalidInput("b", y.shape, f"must have the shape of `a` {x.shape}")
    union = np.logical_or(x, y).sum()
    return 1.0 if union == 0 else float(np.logical_and(x, y).sum() / union)


def _boundary(m: np.ndarray) -> np.ndarray:
    u8 = m.astype(np.uint8)
    return (u8 - cv2.erode(u8, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0)).astype(bool)


def boundary_f(a: np.ndarray, b: np.ndarray, tol: float | None = None) -> float:
    """Boundary measure F of the DAVIS benchmark (Perazzi et al. 2016).

    Precision = share of ``a``'s boundary pixels within ``tol`` pixels of ``b``'s boundary;
    recall the other way; F = their harmonic mean. 1.0 when both masks are empty, 0.0 when
    only one is.

    Args:
        a: predicted mask (bool, uint8 > 127 or float > 0.5), ``(H, W)``.
        b: ground-truth mask, same shape.
        tol: distance tolerance in pixels (default DAVIS's 0.008 x image diagonal, at least 1).

    Example:
        >>> a = np.zeros((20, 20), bool); a[5:15, 5:15] = True
        >>> boundary_f(a, a), boundary_f(a, np.roll(a, 1, axis=1), tol=1)
        (1.0, 1.0)
    """
    x, y = _binary(a, "a"), _binary(b, "b")
    if x.shape != y.shape:
        raise InvalidInput("b", y.shape, f"must have the shape of `a` {x.shape}")
    if tol is None:
        tol = max(1.0, 0.008 * float(np.hypot(*x.shape)))
    bx, by = _boundary(x), _boundary(y)
    if not bx.any() and not by.any():
        return 1.0
    if not bx.any() or not by.any():
        return 0.0
    dx = cv2.distanceTransform((~bx).astype(np.uint8), cv2.DIST_L2, 5)
    dy = cv2.distanceTransform((~by).astype(np.uint8), cv2.DIST_L2, 5)
    precision = float((dy[bx] <= tol).mean())
    recall = float((dx[by] <= tol).mean())
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
