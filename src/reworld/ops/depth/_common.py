"""Shared pieces of :mod:`reworld.ops.depth`: input checks, normalisation to [0, 1], rank agreement.

Depth is **relative inverse depth**: ``(h, w)`` float32 in [0, 1], 1 = nearest, 0 = farthest.
:func:`normalize_depth` maps a raw inverse-depth map to that range by robust percentiles
(:data:`NORMALIZE_PERCENTILES`); :func:`spearman` measures rank agreement, the only thing
relative depth can be judged on. The private checks (``_check_map``, ``_check_flow``) and
``_smoothstep`` are used by the parallax, monocular and fusion modules.
"""

from __future__ import annotations

import numpy as np

from reworld.errors import InvalidInput

__all__ = ["NORMALIZE_PERCENTILES", "normalize_depth", "spearman"]

#: percentiles that map a raw map to [0, 1] in :func:`normalize_depth`
NORMALIZE_PERCENTILES = (2.0, 98.0)

def _check_map(x: np.ndarray, arg: str, shape: tuple[int, int] | None = None) -> np.ndarray:
    if not isinstance(x, np.ndarray):
        raise TypeError(f"`{arg}` must be a numpy array, got {type(x).__name__}")
    if x.ndim != 2 or x.size == 0 or (shape is not None and x.shape != shape):
        want = f"{shape}" if shape is not None else "(h, w)"
        raise InvalidInput(arg, f"shape {x.shape}", f"must be a 2-D map of shape {want}")
    if x.dtype.kind not in "fbu":
        raise InvalidInput(arg, f"dtype {x.dtype}", "must be float, bool or unsigned")
    out = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)
    return out


def _check_flow(flow: np.ndarray, arg: str, shape: tuple[int, int] | None = None) -> np.ndarray:
    if not isinstance(flow, np.ndarray):
        raise TypeError(f"`{arg}` must be a numpy array, got {type(flow).__name__}")
    if flow.ndim != 3 or flow.shape[2] != 2 or flow.shape[0] < 2 or flow.shape[1] < 2 or (
            shape is not None and flow.shape[:2] != shape):
        want = f"({shape[0]}, {shape[1]}, 2)" if shape else "(h, w, 2)"
        raise InvalidInput(arg, f"shape {flow.shape}", f"must be a flow field of shape {want}")
    if flow.dtype.kind != "f":
        raise InvalidInput(arg, f"dtype {flow.dtype}", "must be a float array (pixels)")
    return flow.astype(np.float32)


def _smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def normalize_depth(x: np.ndarray, *, weight: np.ndarray | None = None) -> np.ndarray:
    """Map a raw inverse-depth map to [0, 1] by its 2nd and 98th percentiles (clipped).

    Args:
        x: ``(h, w)`` float map, larger = nearer.
        weight: optional ``(h, w)`` map; only pixels with weight > 0 set the percentiles.

    Returns:
        ``(h, w)`` float32 in [0, 1] (all 0.5 when the map is flat).

    Example:
        >>> normalize_depth(np.arange(101, dtype=np.float32).reshape(1, -1))[0, [0, 50, 100]].tolist()
        [0.0, 0.5, 1.0]
    """
    x = _check_map(x, "x")
    sel = x if weight is None else x[np.asarray(weight) > 0]
    if sel.size < 2:
        sel = x
    lo, hi = np.percentile(sel, NORMALIZE_PERCENTILES)
    if not hi - lo > 1e-12:
        return np.full(x.shape, 0.5, np.float32)
    return np.clip((x - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)


def spearman(a: np.ndarray, b: np.ndarray, *, mask: np.ndarray | None = None) -> float:
    """Spearman rank correlation of two arrays (ties get average ranks), over ``mask`` if given.

    Args:
        a, b: arrays of the same shape.
        mask: optional bool array of that shape: only these elements count.

    Returns:
        float in [-1, 1]; 0.0 when either side is constant.

    Example:
        >>> spearman(np.array([1.0, 2, 3, 4]), np.array([10.0, 20, 30, 100]))
        1.0
    """
    from scipy.stats import rankdata

    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise InvalidInput("b", f"shape {b.shape}", f"must have the shape of `a` {a.shape}")
    if mask is not None:
        mask = np.asarray(mask, bool)
        if mask.shape != a.shape:
            raise InvalidInput("mask", f"shape {mask.shape}", f"must have the shape of `a` {a.shape}")
        a, b = a[mask], b[mask]
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    if a.size < 2:
        return 0.0
    ra, rb = rankdata(a), rankdata(b)
    ra -= ra.mean()
    rb -= rb.mean()
    den = float(np.sqrt((ra * ra).sum() * (rb * rb).sum()))
    return 0.0 if den == 0 else float(np.clip((ra * rb).sum() / den, -1.0, 1.0))
