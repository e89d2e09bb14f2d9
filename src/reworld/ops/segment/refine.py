"""Per-frame mask refinement and warping: :func:`refine_mask`, :func:`warp_mask`.

:func:`refine_mask` re-segments one frame from a prior (e.g. the previous mask warped by optical
flow with :func:`warp_mask`): colour log-likelihood ratio + the blurred prior as a spatial
term, edge-aware smoothing, limited to a band around the prior; a few milliseconds, no grabCut.
"""

from __future__ import annotations

import cv2
import numpy as np

from reworld.errors import InvalidInput
from reworld.ops.segment._checks import _check_alpha, _check_image
from reworld.ops.segment._morph import _distance_to, _keep_components, _snap
from reworld.ops.segment.appearance import AppearanceModel

__all__ = ["refine_mask", "warp_mask"]


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
        >>> from reworld.ops.segment.metrics import mask_iou
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
