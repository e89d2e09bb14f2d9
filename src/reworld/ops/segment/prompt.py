"""Segment the object a user points at: :func:`mask_from_prompt`.

A prompt (positive clicks, negative clicks and/or a box, see :func:`check_prompt`) becomes a soft
alpha in four steps:

1. **superpixels** (SLIC-O on CIELAB) and a **colour/texture model**: joint histograms of
   quantised RGB x local-contrast level (:class:`AppearanceModel`) for the foreground (clicked
   superpixels or the box interior) and the background (border superpixels, negative clicks,
   the outside of the box);
2. **superpixel growing**: the connected superpixels whose mean log-likelihood ratio favours
   the foreground, twice (the model is refitted on the grown region); negative clicks claim
   the superpixels geodesically nearer to them in colour (Bai & Sapiro 2007);
3. **graph-cut refinement** with :func:`cv2.grabCut` initialised from that mask, on a crop
   around it at a reduced size (``max_side``) — the only slow step (~0.1-0.5 s), meant for the
   key frame;
4. **edge snapping**: the hard mask is upsampled and passed through a guided filter
   (He et al. 2010) with the image as guide, which gives a soft edge that follows the image's
   edges.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from reworld.errors import InvalidInput
from reworld.ops.segment._checks import _check_image, check_prompt
from reworld.ops.segment._morph import _disk_mask, _keep_components, _snap
from reworld.ops.segment.appearance import AppearanceModel

__all__ = ["mask_from_prompt"]


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
