"""Mask morphology shared by :mod:`reworld.ops.segment.prompt` and :mod:`reworld.ops.segment.refine`.

Click disks, keeping the components that touch an anchor (small holes filled), edge snapping
with a guided filter (He et al. 2010) and distance to a mask.
"""

from __future__ import annotations

import cv2
import numpy as np


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

def _distance_to(mask: np.ndarray) -> np.ndarray:
    """Euclidean distance (pixels, float32) from every pixel to the nearest pixel of ``mask``."""
    if not mask.any():
        return np.full(mask.shape, np.inf, np.float32)
    return cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 3)
