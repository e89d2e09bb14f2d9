"""Mask metrics of the DAVIS benchmark: region similarity J (:func:`mask_iou`) and boundary F
(:func:`boundary_f`, Perazzi et al. 2016).
"""

from __future__ import annotations

import cv2
import numpy as np

from reworld.errors import InvalidInput

__all__ = ["boundary_f", "mask_iou"]


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
