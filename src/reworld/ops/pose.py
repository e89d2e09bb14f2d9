"""Body and hand keypoints over time: skeleton constants, zero-lag smoothing, honest gap filling,
identity assignment between frames, bone lengths and jitter measures (layer 1, pure functions).

Nothing here runs a model: :mod:`reworld.analysis.pose` and :mod:`reworld.analysis.hands` call
MediaPipe and use these functions on the numbers it returns. OpenCV is imported only by
:func:`colour_histogram` and :func:`draw_skeleton`; SciPy only by :func:`assign`.

Conventions:

- A trajectory is ``(T, ...)`` float with frames first; NaN marks a missing value (a frame where
  the point was not detected). Functions never mutate their inputs.
- Boxes are ``(..., 4)`` float ``(x0, y0, x1, y1)`` pixels.
- Skeletons are MediaPipe's: 33 body landmarks (:data:`POSE_LANDMARKS`, BlazePose order, "left"
  = the person's left) and 21 hand landmarks (:data:`HAND_LANDMARKS`).

Smoothing (:func:`one_euro` and :func:`smooth_zero_lag`): the One-Euro filter (Casiez, Roussel
and Vogel, CHI 2012) is an exponential smoother whose cut-off frequency rises with speed,
``fc = min_cutoff + beta * |speed|``, so still points are smoothed hard and fast moves are
followed closely. A causal filter still lags by about ``1 / (2 pi fc)`` seconds; offline we run
it forward and backward over the sequence and average the two passes: their lags have opposite
signs and cancel, so the result is zero-lag (a symmetric kernel) with the same adaptivity.
Speeds may be divided by a per-frame ``scale`` (a person's height in pixels) so that ``beta`` is
in body heights per second whatever the person's size in the picture.

Example:
    >>> len(POSE_LANDMARKS), len(HAND_LANDMARKS), POSE_LANDMARKS[15]
    (33, 21, 'left_wrist')
    >>> x = np.array([0.0, 1.0, np.nan, np.nan, 4.0, 5.0])
    >>> out, filled = fill_gaps(x, max_gap=2)
    >>> out.tolist(), filled.tolist()
    ([0.0, 1.0, 2.0, 3.0, 4.0, 5.0], [False, False, True, True, False, False])
    >>> lag_frames(np.sin(np.arange(50) / 3.0), np.sin((np.arange(50) - 2) / 3.0))
    2
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from reworld.errors import InvalidInput

__all__ = [
    "BODY_BONES",
    "HAND_BONES",
    "HAND_LANDMARKS",
    "POSE_BONES",
    "POSE_LANDMARKS",
    "POSE_MIRROR",
    "assign",
    "bone_cv",
    "bone_lengths",
    "box_centre",
    "box_iou",
    "colour_histogram",
    "crop_matrix",
    "draw_skeleton",
    "fill_gaps",
    "hist_distance",
    "jitter",
    "lag_frames",
    "one_euro",
    "person_colour",
    "points_box",
    "runs",
    "smooth_zero_lag",
]

#: MediaPipe Pose's 33 landmarks, in its order (BlazePose topology); "left" is the person's left
POSE_LANDMARKS: tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
    "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel", "right_heel",
    "left_foot_index", "right_foot_index",
)
#: MediaPipe's ``POSE_CONNECTIONS`` (35 pairs of landmark indices), for drawing
POSE_BONES: tuple[tuple[int, int], ...] = (
    (0, 1), (0, 4), (1, 2), (2, 3), (3, 7), (4, 5), (5, 6), (6, 8), (9, 10), (11, 12), (11, 13),
    (11, 23), (12, 14), (12, 24), (13, 15), (14, 16), (15, 17), (15, 19), (15, 21), (16, 18),
    (16, 20), (16, 22), (17, 19), (18, 20), (23, 24), (23, 25), (24, 26), (25, 27), (26, 28),
    (27, 29), (27, 31), (28, 30), (28, 32), (29, 31), (30, 32),
)
#: the rigid segments of the body (upper/lower arms and legs, shoulder and hip widths, both
#: sides of the trunk) whose length should not change over time: what :func:`bone_cv` measures
BODY_BONES: tuple[tuple[int, int], ...] = (
    (11, 13), (13, 15), (12, 14), (14, 16), (23, 25), (25, 27), (24, 26), (26, 28),
    (11, 12), (23, 24), (11, 23), (12, 24),
)
#: index of each landmark's left/right counterpart (itself on the midline: the nose)
POSE_MIRROR: tuple[int, ...] = (
    0, 4, 5, 6, 1, 2, 3, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15, 18, 17, 20, 19, 22, 21, 24, 23,
    26, 25, 28, 27, 30, 29, 32, 31,
)
#: MediaPipe Hands' 21 landmarks, in its order
HAND_LANDMARKS: tuple[str, ...] = (
    "wrist", "thumb_cmc", "thumb_mcp", "thumb_ip", "thumb_tip", "index_mcp", "index_pip",
    "index_dip", "index_tip", "middle_mcp", "middle_pip", "middle_dip", "middle_tip", "ring_mcp",
    "ring_pip", "ring_dip", "ring_tip", "pinky_mcp", "pinky_pip", "pinky_dip", "pinky_tip",
)
#: MediaPipe's ``HAND_CONNECTIONS`` (21 pairs)
HAND_BONES: tuple[tuple[int, int], ...] = (
    (0, 1), (0, 5), (0, 17), (1, 2), (2, 3), (3, 4), (5, 6), (5, 9), (6, 7), (7, 8), (9, 10),
    (9, 13), (10, 11), (11, 12), (13, 14), (13, 17), (14, 15), (15, 16), (17, 18), (18, 19),
    (19, 20),
)


# --------------------------------------------------------------------------- runs and gaps

def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` of the runs of True in a ``(T,)`` bool array (``stop`` exclusive).

    Example:
        >>> runs(np.array([0, 1, 1, 0, 1], bool))
        [(1, 3), (4, 5)]
    """
    m = np.asarray(mask, bool).ravel()
    if m.size == 0:
        return []
    d = np.diff(np.concatenate([[0], m.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    return [(int(a), int(b)) for a, b in zip(starts, stops, strict=True)]


def _frame_present(x: np.ndarray) -> np.ndarray:
    flat = x.reshape(len(x), -1)
    return np.isfinite(flat).all(axis=1) if flat.shape[1] else np.zeros(len(x), bool)


def fill_gaps(x: np.ndarray, present: np.ndarray | None = None, *, max_gap: int = 3,
              confident: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Fill short gaps of a trajectory by linear interpolation, only where it is honest.

    A gap (a run of frames without a value) is filled when it is at most ``max_gap`` frames long,
    lies strictly inside the sequence (a value on both sides: never extrapolated), and the frames
    on both sides are ``confident``. Anything else stays NaN.

    Args:
        x: ``(T, ...)`` float trajectory (NaN = missing).
        present: ``(T,)`` bool frames that have a value (default: frames whose values are all finite).
        max_gap: longest gap (frames) filled; 0 fills nothing.
        confident: ``(T,)`` bool, frames trusted enough to anchor an interpolation (default: all).

    Returns:
        ``(filled_x, filled)``: a new float array like ``x`` and a ``(T,)`` bool of the frames filled.
    """
    if isinstance(max_gap, bool) or not isinstance(max_gap, (int, np.integer)) or max_gap < 0:
        raise InvalidInput("max_gap", max_gap, "must be an integer >= 0 (frames)")
    arr = np.asarray(x)
    out = np.array(arr, dtype=np.result_type(arr.dtype, np.float32), copy=True)
    T = len(out)
    have = _frame_present(out) if present is None else np.asarray(present, bool).copy()
    if have.shape != (T,):
        raise InvalidInput("present", have.shape, f"must be ({T},) bool, one value per frame")
    conf = np.ones(T, bool) if confident is None else np.asarray(confident, bool)
    if conf.shape != (T,):
        raise InvalidInput("confident", conf.shape, f"must be ({T},) bool, one value per frame")
    filled = np.zeros(T, bool)
    for a, b in runs(~have):
        if a == 0 or b == T or b - a > max_gap or not (conf[a - 1] and conf[b]):
            continue
        lo, hi = out[a - 1], out[b]
        for t in range(a, b):
            w = (t - a + 1) / (b - a + 1)
            out[t] = lo * (1 - w) + hi * w
        filled[a:b] = True
    return out, filled


# --------------------------------------------------------------------------- smoothing

def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
    tau = 1.0 / (2.0 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


def _check_filter_args(dt: float, min_cutoff: float, beta: float, d_cutoff: float) -> None:
    for name, v, lo in (("dt", dt, 0.0), ("min_cutoff", min_cutoff, 0.0), ("d_cutoff", d_cutoff, 0.0)):
        if not (isinstance(v, (int, float, np.floating)) and math.isfinite(v) and v > lo):
            raise InvalidInput(name, v, "must be a finite number > 0")
    if not (isinstance(beta, (int, float, np.floating)) and math.isfinite(beta) and beta >= 0):
        raise InvalidInput("beta", beta, "must be a finite number >= 0")


def _one_euro_run(x: np.ndarray, dt: float, min_cutoff: float, beta: float, d_cutoff: float,
                  scale: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Causal One-Euro over a run without gaps: ``x`` ``(n, N, D)`` float64; speed per point is the
    norm over ``D``. Also returns ``(n, N)`` the weight the first frame still has in each output
    (the product of ``1 - alpha``): 1 at the start, towards 0 once the filter has settled."""
    out = np.empty_like(x)
    memory = np.empty(x.shape[:2])
    out[0] = x[0]
    memory[0] = 1.0
    dx_hat = np.zeros(x.shape[1:2], np.float64)
    a_d = _alpha(d_cutoff, dt)
    prev = x[0]
    m = np.ones(x.shape[1:2])
    for t in range(1, len(x)):
        dx = np.linalg.norm(x[t] - prev, axis=-1) / dt  # speed of each point, units/s
        if scale is not None:
            dx = dx / max(float(scale[t]), 1e-9)
        dx_hat = a_d * dx + (1 - a_d) * dx_hat
        a = _alpha(min_cutoff + beta * dx_hat, dt)
        m = m * (1 - a)
        a = a[:, None]
        prev = a * x[t] + (1 - a) * prev
        out[t] = prev
        memory[t] = m
    return out, memory


def _one_euro(x: np.ndarray, dt: float, min_cutoff: float, beta: float, d_cutoff: float,
              scale: np.ndarray | None, reverse: bool) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """:func:`one_euro` on ``(T, N, D)`` float64 plus the start-up weights ``(T, N)``."""
    _check_filter_args(dt, min_cutoff, beta, d_cutoff)
    arr = np.asarray(x, np.float64)
    shape = arr.shape
    T = shape[0] if arr.ndim else 0
    if arr.ndim == 1:
        arr = arr[:, None, None]
    elif arr.ndim == 2:
        arr = arr[:, None, :]
    elif arr.ndim != 3:
        raise InvalidInput("x", shape, "must be (T,), (T, D) or (T, N, D)")
    sc = None
    if scale is not None:
        sc = np.asarray(scale, np.float64)
        if sc.shape != (T,):
            raise InvalidInput("scale", sc.shape, f"must be ({T},), one value per frame")
    out = np.full(arr.shape, np.nan)
    memory = np.ones(arr.shape[:2])
    ok = _frame_present(arr)
    if sc is not None:
        ok &= np.isfinite(sc) & (sc > 0)
    for a, b in runs(ok):
        seg, s = arr[a:b], (sc[a:b] if sc is not None else None)
        if reverse:
            seg, s = seg[::-1], (s[::-1] if s is not None else None)
        r, m = _one_euro_run(seg, float(dt), min_cutoff, beta, d_cutoff, s)
        out[a:b], memory[a:b] = (r[::-1], m[::-1]) if reverse else (r, m)
    return out, memory, shape


def one_euro(x: np.ndarray, dt: float, *, min_cutoff: float = 1.0, beta: float = 1.0,
             d_cutoff: float = 1.0, scale: np.ndarray | None = None, reverse: bool = False) -> np.ndarray:
    """Causal One-Euro filter of a trajectory; each run between NaN gaps is filtered on its own.

    Args:
        x: ``(T, N, D)`` (N points of D coordinates; ``(T,)`` and ``(T, D)`` are accepted too).
        dt: seconds between frames.
        min_cutoff: cut-off (Hz) when still: lower = smoother.
        beta: how fast the cut-off rises with speed (Hz per unit/s, or per ``scale``/s).
        d_cutoff: cut-off (Hz) of the speed estimate.
        scale: optional ``(T,)`` positive per-frame unit (e.g. body height in px) speeds are divided by.
        reverse: filter from the last frame to the first (the backward pass).

    Returns:
        float array like ``x`` (NaN where ``x`` has NaN in a frame).
    """
    out, _, shape = _one_euro(x, dt, min_cutoff, beta, d_cutoff, scale, reverse)
    return out.reshape(shape).astype(np.result_type(np.asarray(x).dtype, np.float32), copy=False)


def smooth_zero_lag(x: np.ndarray, dt: float, *, min_cutoff: float = 1.0, beta: float = 1.0,
                    d_cutoff: float = 1.0, scale: np.ndarray | None = None) -> np.ndarray:
    """Zero-lag One-Euro: a forward and a backward pass combined (see the module doc).

    Same arguments as :func:`one_euro`. In steady state the two passes are averaged: on a ramp the
    forward pass trails by ``d`` and the backward pass leads by ``d``, so the mean follows the ramp.
    Near the ends of a run a pass is still starting up (its first output is the raw value, and its
    lag grows from 0 to ``d`` as the weight ``m`` of its first frame decays), so the passes are
    weighted ``w_fwd = (1 - m_bwd) / ((1 - m_bwd) + (1 - m_fwd))``: the weights that cancel the two
    lags exactly on a ramp. At the first frame of a run that is the forward pass alone (and at the
    last frame the backward pass alone): unbiased, though not smoothed.

    Example:
        >>> ramp = np.arange(20.0)[:, None]
        >>> bool(np.allclose(smooth_zero_lag(ramp, 0.04, beta=0.0), ramp, atol=1e-9))
        True
    """
    f, mf, shape = _one_euro(x, dt, min_cutoff, beta, d_cutoff, scale, False)
    b, mb, _ = _one_euro(x, dt, min_cutoff, beta, d_cutoff, scale, True)
    lf, lb = 1.0 - mf, 1.0 - mb  # how settled each pass is (its lag, relative to steady state)
    tot = lf + lb
    w = np.where(tot > 1e-12, lb / np.where(tot > 1e-12, tot, 1.0), 0.5)[..., None]
    out = w * f + (1.0 - w) * b
    return out.reshape(shape).astype(np.result_type(np.asarray(x).dtype, np.float32), copy=False)


# --------------------------------------------------------------------------- measures

def jitter(x: np.ndarray, valid: np.ndarray | None = None, scale: np.ndarray | None = None) -> float:
    """Mean length of the second difference ``|x[t+1] - 2 x[t] + x[t-1]|`` of point trajectories.

    Args:
        x: ``(T, N, D)`` (or ``(T, D)``) float; NaN where missing.
        valid: optional ``(T, N)`` bool; a second difference counts only where the point is valid
            in all three frames.
        scale: optional ``(T,)`` unit per frame (e.g. body height in px): each second difference
            is divided by the unit of its middle frame.

    Returns:
        The mean over points and frames (NaN when no three consecutive valid frames exist).
    """
    a = np.asarray(x, np.float64)
    if a.ndim == 2:
        a = a[:, None, :]
    if a.ndim != 3:
        raise InvalidInput("x", a.shape, "must be (T, D) or (T, N, D)")
    if len(a) < 3:
        return float("nan")
    d2 = np.linalg.norm(a[2:] - 2 * a[1:-1] + a[:-2], axis=-1)
    if scale is not None:
        sc = np.asarray(scale, np.float64).reshape(-1)
        if sc.shape != (len(a),):
            raise InvalidInput("scale", sc.shape, f"must be ({len(a)},), one value per frame")
        d2 = d2 / sc[1:-1, None]
    ok = np.isfinite(d2)
    if valid is not None:
        v = np.asarray(valid, bool).reshape(a.shape[:2])
        ok &= v[2:] & v[1:-1] & v[:-2]
    return float(d2[ok].mean()) if ok.any() else float("nan")


def lag_frames(reference: np.ndarray, signal: np.ndarray, max_lag: int = 5) -> int:
    """By how many frames ``signal`` trails ``reference`` (negative: it leads), from the peak of
    the cross-correlation of their frame-to-frame changes.

    Args:
        reference, signal: ``(T,)`` or ``(T, D)`` trajectories (NaN frames are ignored).
        max_lag: largest lag tried, in frames.
    """
    r = np.asarray(reference, np.float64).reshape(len(reference), -1)
    s = np.asarray(signal, np.float64).reshape(len(signal), -1)
    if r.shape != s.shape:
        raise InvalidInput("signal", s.shape, f"must have the shape of reference {r.shape}")
    dr, ds = np.diff(r, axis=0), np.diff(s, axis=0)
    best, best_v = 0, -np.inf
    n = len(dr)
    for lag in range(-max_lag, max_lag + 1):
        a = dr[max(0, -lag): n - max(0, lag)]
        b = ds[max(0, lag): n - max(0, -lag) + 0]
        m = min(len(a), len(b))
        a, b = a[:m], b[:m]
        ok = np.isfinite(a).all(1) & np.isfinite(b).all(1)
        if ok.sum() < 3:
            continue
        v = float((a[ok] * b[ok]).sum() / ok.sum())
        if v > best_v:
            best, best_v = lag, v
    return best


def bone_lengths(points: np.ndarray, bones: Sequence[tuple[int, int]] = BODY_BONES) -> np.ndarray:
    """Lengths of ``bones`` (pairs of point indices): ``(..., K, D)`` points -> ``(..., len(bones))``."""
    p = np.asarray(points, np.float64)
    idx = np.asarray(bones, np.int64).reshape(-1, 2)
    if p.ndim < 2 or idx.size and idx.max() >= p.shape[-2]:
        raise InvalidInput("points", p.shape, "must be (..., K, D) with K above every bone index")
    return np.linalg.norm(p[..., idx[:, 0], :] - p[..., idx[:, 1], :], axis=-1)


def bone_cv(points: np.ndarray, bones: Sequence[tuple[int, int]] = BODY_BONES,
            valid: np.ndarray | None = None) -> float:
    """Mean coefficient of variation (std / mean, over time) of each bone's length.

    Args:
        points: ``(T, K, D)`` one person's points over time (NaN where missing).
        valid: optional ``(T, K)`` bool; a bone counts in a frame only where both ends are valid.

    Returns:
        The mean over bones measured in at least 3 frames (NaN when none is).
    """
    p = np.asarray(points, np.float64)
    L = bone_lengths(p, bones)  # (T, B)
    if valid is not None:
        v = np.asarray(valid, bool)
        idx = np.asarray(bones, np.int64)
        L = np.where(v[:, idx[:, 0]] & v[:, idx[:, 1]], L, np.nan)
    cvs = []
    for k in range(L.shape[1]):
        col = L[:, k][np.isfinite(L[:, k])]
        if len(col) >= 3 and col.mean() > 0:
            cvs.append(col.std() / col.mean())
    return float(np.mean(cvs)) if cvs else float("nan")


# --------------------------------------------------------------------------- boxes, identities

def points_box(points: np.ndarray, valid: np.ndarray | None = None, margin: float = 0.0) -> np.ndarray:
    """Bounding box ``(x0, y0, x1, y1)`` of ``(K, 2+)`` points (valid ones), grown by ``margin``
    times its size on each side; all-NaN when no point is valid."""
    p = np.asarray(points, np.float64)[:, :2]
    ok = np.isfinite(p).all(1)
    if valid is not None:
        ok &= np.asarray(valid, bool)
    if not ok.any():
        return np.full(4, np.nan)
    x0, y0 = p[ok].min(0)
    x1, y1 = p[ok].max(0)
    mx, my = (x1 - x0) * margin, (y1 - y0) * margin
    return np.array([x0 - mx, y0 - my, x1 + mx, y1 + my])


def box_centre(boxes: np.ndarray) -> np.ndarray:
    """``(..., 2)`` centres of ``(..., 4)`` boxes."""
    b = np.asarray(boxes, np.float64)
    return np.stack([(b[..., 0] + b[..., 2]) / 2, (b[..., 1] + b[..., 3]) / 2], -1)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(N, M)`` intersection over union of ``(N, 4)`` and ``(M, 4)`` boxes (0 for NaN boxes).

    Example:
        >>> box_iou(np.array([[0, 0, 2, 2]]), np.array([[1, 0, 3, 2], [5, 5, 6, 6]])).round(3).tolist()
        [[0.333, 0.0]]
    """
    A = np.asarray(a, np.float64).reshape(-1, 4)[:, None, :]
    B = np.asarray(b, np.float64).reshape(-1, 4)[None, :, :]
    iw = np.clip(np.minimum(A[..., 2], B[..., 2]) - np.maximum(A[..., 0], B[..., 0]), 0, None)
    ih = np.clip(np.minimum(A[..., 3], B[..., 3]) - np.maximum(A[..., 1], B[..., 1]), 0, None)
    inter = iw * ih
    area = lambda X: np.clip(X[..., 2] - X[..., 0], 0, None) * np.clip(X[..., 3] - X[..., 1], 0, None)
    union = area(A) + area(B) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(union > 0, inter / union, 0.0)
    return np.nan_to_num(out, nan=0.0)


def assign(cost: np.ndarray, max_cost: float = np.inf) -> list[tuple[int, int]]:
    """Optimal one-to-one matching (Hungarian, :func:`scipy.optimize.linear_sum_assignment`) of
    rows (tracks) to columns (detections), keeping only pairs with ``cost <= max_cost``; ``inf``
    or NaN entries are forbidden pairs.

    Example:
        >>> assign(np.array([[0.1, 0.9], [0.2, np.inf]]), max_cost=0.5)
        [(0, 0)]
    """
    from scipy.optimize import linear_sum_assignment

    c = np.asarray(cost, np.float64)
    if c.ndim != 2:
        raise InvalidInput("cost", c.shape, "must be a 2-D (tracks, detections) matrix")
    if c.size == 0:
        return []
    bad = ~np.isfinite(c) | (c > max_cost)
    big = (np.nanmax(np.where(bad, -np.inf, c)) if (~bad).any() else 0.0) + 1e6
    rows, cols = linear_sum_assignment(np.where(bad, big, c))
    return [(int(r), int(k)) for r, k in zip(rows, cols, strict=True) if not bad[r, k]]


def colour_histogram(image: np.ndarray, box: np.ndarray, bins: tuple[int, int] = (12, 6)) -> np.ndarray:
    """Normalised hue-saturation histogram of ``image`` (uint8 RGB) inside ``box`` (an appearance
    signature for re-identification); all zeros when the box holds no pixels."""
    import cv2

    H, W = image.shape[:2]
    b = np.asarray(box, np.float64)
    if not np.isfinite(b).all():
        return np.zeros(bins[0] * bins[1], np.float32)
    x0, y0 = int(max(0, math.floor(b[0]))), int(max(0, math.floor(b[1])))
    x1, y1 = int(min(W, math.ceil(b[2]))), int(min(H, math.ceil(b[3])))
    if x1 - x0 < 1 or y1 - y0 < 1:
        return np.zeros(bins[0] * bins[1], np.float32)
    hsv = cv2.cvtColor(np.ascontiguousarray(image[y0:y1, x0:x1]), cv2.COLOR_RGB2HSV)
    h = cv2.calcHist([hsv], [0, 1], None, list(bins), [0, 180, 0, 256]).ravel()
    s = float(h.sum())
    return (h / s).astype(np.float32) if s > 0 else h.astype(np.float32)


def hist_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Hellinger (Bhattacharyya) distance in [0, 1] between two normalised histograms; 1 when
    either is empty."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.sum() <= 0 or b.sum() <= 0:
        return 1.0
    bc = float(np.sqrt(a * b).sum())
    return float(math.sqrt(max(0.0, 1.0 - bc)))


def crop_matrix(centre: tuple[float, float], side: float, size: int) -> np.ndarray:
    """``(2, 3)`` affine that maps a square of ``side`` pixels centred on ``centre`` onto a
    ``size`` x ``size`` crop (for ``cv2.warpAffine``); a crop pixel ``(u, v)`` is at
    ``centre + ((u + 0.5) / size - 0.5) * side`` in the image.

    Example:
        >>> crop_matrix((100.0, 50.0), 64.0, 256).round(3).tolist()
        [[4.0, 0.0, -272.5], [0.0, 4.0, -72.5]]
    """
    if not (side > 0 and size > 0):
        raise InvalidInput("side", side, "must be > 0 (and size > 0)")
    s = size / side
    cx, cy = centre
    return np.array([[s, 0.0, size / 2 - cx * s - 0.5], [0.0, s, size / 2 - cy * s - 0.5]])


# --------------------------------------------------------------------------- drawing

def to_frame_pixels(points: np.ndarray, recorded: Sequence[int] | None, frame_hw: tuple[int, int]) -> np.ndarray:
    """Copy of ``(N, >=2)`` points with ``x, y`` moved from a frame of size ``recorded``
    ``(H, W)`` (``None``: the same size) to one of ``frame_hw``, pixel centres kept aligned.

    Example:
        >>> to_frame_pixels(np.array([[1.5, 0.5, 0.9]]), (2, 4), (4, 8))[0].tolist()
        [3.5, 1.5, 0.9]
    """
    h, w = frame_hw
    rh, rw = recorded if recorded else (h, w)
    out = np.array(points, np.float64)
    out[:, 0] = (out[:, 0] + 0.5) * (w / float(rw)) - 0.5
    out[:, 1] = (out[:, 1] + 0.5) * (h / float(rh)) - 0.5
    return out


def person_colour(pid: int) -> tuple[int, int, int]:
    """A distinct, bright RGB colour per person id (golden-ratio hues); white for ``pid < 0``.

    Example:
        >>> person_colour(0), person_colour(-1)
        ((255, 38, 38), (255, 255, 255))
    """
    import colorsys

    if pid < 0:
        return 255, 255, 255
    r, g, b = colorsys.hsv_to_rgb((pid * 0.618034) % 1.0, 0.85, 1.0)
    return round(r * 255), round(g * 255), round(b * 255)


def draw_skeleton(frame: np.ndarray, points: np.ndarray, bones: Sequence[tuple[int, int]],
                  colour: tuple[int, int, int], *, min_visibility: float = 0.5, thickness: int = 2,
                  dashed: bool = False) -> np.ndarray:
    """A copy of ``frame`` with ``bones`` drawn between ``points`` and white dots on them.

    Args:
        frame: ``(H, W, 3)`` uint8 RGB.
        points: ``(K, 3)`` x, y px and visibility; points below ``min_visibility`` (or NaN) and
            their bones are skipped.
        bones: pairs of point indices.
        colour: RGB of the bones.
        thickness: line width (px); dots have this radius.
        dashed: draw bones dashed (interpolated frames).

    Returns:
        ``(H, W, 3)`` uint8 RGB (a new array).
    """
    import cv2

    if not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise InvalidInput("frame", getattr(frame, "shape", type(frame).__name__), "must be an (H, W, 3) uint8 RGB frame")
    out = frame.copy()
    pts = np.asarray(points, np.float64)
    ok = np.isfinite(pts).all(1) & (pts[:, 2] >= min_visibility)
    xy = np.zeros((len(pts), 2), np.int64)
    xy[ok] = np.round(pts[ok, :2]).astype(np.int64)
    for a, b in bones:
        if not (ok[a] and ok[b]):
            continue
        pa, pb = xy[a], xy[b]
        if dashed:
            n = max(2, int(np.hypot(*(pb - pa)) // 6))
            for s in range(0, n, 2):
                q0, q1 = pa + (pb - pa) * s // n, pa + (pb - pa) * (s + 1) // n
                cv2.line(out, (int(q0[0]), int(q0[1])), (int(q1[0]), int(q1[1])), colour, thickness, cv2.LINE_AA)
        else:
            cv2.line(out, (int(pa[0]), int(pa[1])), (int(pb[0]), int(pb[1])), colour, thickness, cv2.LINE_AA)
    for k in np.flatnonzero(ok):
        cv2.circle(out, (int(xy[k, 0]), int(xy[k, 1])), max(1, thickness), (255, 255, 255), -1, cv2.LINE_AA)
    return out
