"""Plane-to-plane geometry: homographies, pinhole rotations, feature correspondences (layer 1).

Pure functions over numpy arrays; OpenCV is imported only by the two functions that track and
fit (:func:`track_features`, :func:`fit_homography`), so the math here loads without it.

Conventions:

- Points are ``(N, 2)`` float64 ``(x, y)`` pixels; a pixel's centre has integer coordinates
  (OpenCV's ``warpPerspective`` grid), so the frame's corner pixels are ``(0, 0)`` and
  ``(W - 1, H - 1)``.
- A homography is ``(3, 3)`` float64 acting on column vectors ``(x, y, 1)``; functions return
  it normalised to ``H[2, 2] == 1``.
- Camera axes are OpenCV's: x right, y down, z forward. ``K = [[f, 0, cx], [0, f, cy], [0, 0, 1]]``
  with the principal point at the frame centre ``((W - 1) / 2, (H - 1) / 2)``.
- Euler angles (radians) compose as ``R = Ry(yaw) @ Rx(pitch) @ Rz(roll)`` where ``R`` turns
  directions of the *moved* camera into directions of the *reference* camera. Positive yaw:
  the camera turned right (+x); positive pitch: it tilted up (−y); positive roll: it turned
  clockwise about its viewing axis as seen from behind it (the picture turns counter-clockwise
  on screen).

Example:
    >>> R = rotation_matrix(0.1, -0.05, 0.02)
    >>> [round(a, 6) for a in euler_from_rotation(R)]
    [0.1, -0.05, 0.02]
"""

from __future__ import annotations

import math

import numpy as np

from reworld.errors import InvalidInput

__all__ = [
    "change_grid",
    "corner_rms",
    "detect_features",
    "euler_from_rotation",
    "fit_homography",
    "fit_similarity",
    "frame_corners",
    "homography_from_points",
    "homography_from_rotation",
    "intrinsics",
    "nearest_rotation",
    "normalize_homography",
    "rotation_from_homography",
    "rotation_matrix",
    "similarity_motion",
    "track_features",
    "track_points",
    "transform_points",
]


def _check_h(h: np.ndarray, arg: str) -> np.ndarray:
    h = np.asarray(h, dtype=np.float64)
    if h.shape != (3, 3):
        raise InvalidInput(arg, h.shape, "must be a (3, 3) homography")
    if not np.all(np.isfinite(h)):
        raise InvalidInput(arg, "non-finite values", "must be finite")
    return h


def normalize_homography(h: np.ndarray, *, arg: str = "h") -> np.ndarray:
    """``h / h[2, 2]`` as float64 (a homography is defined up to scale).

    Raises:
        InvalidInput: not ``(3, 3)``, not finite, or ``h[2, 2]`` is (nearly) zero.

    Example:
        >>> float(normalize_homography(2 * np.eye(3))[0, 0])
        1.0
    """
    h = _check_h(h, arg)
    if abs(h[2, 2]) < 1e-12:
        raise InvalidInput(arg, h[2, 2], "must have h[2, 2] != 0")
    return h / h[2, 2]


def transform_points(h: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Map ``(N, 2)`` ``(x, y)`` points through homography ``h``.

    Returns:
        ``(N, 2)`` float64 mapped points.

    Example:
        >>> transform_points(np.array([[1, 0, 5], [0, 1, -2], [0, 0, 1.0]]), np.array([[0.0, 0.0]])).tolist()
        [[5.0, -2.0]]
    """
    h = _check_h(h, "h")
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    q = p @ h[:, :2].T + h[:, 2]
    return q[:, :2] / q[:, 2:3]


def frame_corners(width: int, height: int) -> np.ndarray:
    """``(4, 2)`` float64 centres of the corner pixels, clockwise from top-left.

    Example:
        >>> frame_corners(4, 3).tolist()
        [[0.0, 0.0], [3.0, 0.0], [3.0, 2.0], [0.0, 2.0]]
    """
    w, h = float(width - 1), float(height - 1)
    return np.array([[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]])


def corner_rms(h_a: np.ndarray, h_b: np.ndarray, width: int, height: int) -> float:
    """RMS distance (px) between the frame corners mapped by ``h_a`` and by ``h_b``.

    Example:
        >>> shift = np.array([[1, 0, 3], [0, 1, 4], [0, 0, 1.0]])
        >>> corner_rms(np.eye(3), shift, 64, 48)
        5.0
    """
    c = frame_corners(width, height)
    d = transform_points(h_a, c) - transform_points(h_b, c)
    return float(np.sqrt(np.mean(np.sum(d * d, axis=1))))


def change_grid(h: np.ndarray, sx: float, sy: float) -> np.ndarray:
    """Express a homography between frames of one pixel grid in a resized grid.

    A frame resized by ``(sx, sy)`` (new size / old size, as ``cv2.resize`` does it) has pixel
    centres at ``x' = sx · (x + 0.5) − 0.5``; with ``S`` that map, the result is ``S h S⁻¹``.
    ``change_grid(h, 1 / sx, 1 / sy)`` goes back.

    Args:
        h: ``(3, 3)`` homography in the old grid's pixels.
        sx, sy: new / old width and height (> 0).

    Returns:
        ``(3, 3)`` float64 homography in the new grid's pixels.

    Example:
        >>> shift = np.array([[1, 0, 2], [0, 1, 0], [0, 0, 1.0]])
        >>> float(change_grid(shift, 0.5, 0.5)[0, 2])
        1.0
    """
    h = _check_h(h, "h")
    if not (sx > 0 and sy > 0):
        raise InvalidInput("sx, sy", (sx, sy), "must both be > 0")
    s = np.array([[sx, 0.0, 0.5 * sx - 0.5], [0.0, sy, 0.5 * sy - 0.5], [0.0, 0.0, 1.0]])
    s_inv = np.array([[1 / sx, 0.0, 0.5 / sx - 0.5], [0.0, 1 / sy, 0.5 / sy - 0.5], [0.0, 0.0, 1.0]])
    return normalize_homography(s @ h @ s_inv)


def homography_from_points(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The exact homography taking 4 ``src`` points onto 4 ``dst`` points (float64 DLT).

    Args:
        src, dst: ``(4, 2)`` ``(x, y)`` points, no three of ``src`` collinear.

    Returns:
        ``(3, 3)`` float64 ``h`` with ``transform_points(h, src) ≈ dst``.

    Example:
        >>> c = frame_corners(10, 10)
        >>> np.allclose(homography_from_points(c, c + 1)[:, 2], [1, 1, 1])
        True
    """
    s = np.asarray(src, dtype=np.float64).reshape(-1, 2)
    d = np.asarray(dst, dtype=np.float64).reshape(-1, 2)
    if s.shape != (4, 2) or d.shape != (4, 2):
        raise InvalidInput("src, dst", (s.shape, d.shape), "must both be (4, 2) points")
    a = np.zeros((8, 8))
    b = np.zeros(8)
    for i, ((x, y), (u, v)) in enumerate(zip(s, d, strict=True)):
        a[2 * i] = [x, y, 1, 0, 0, 0, -u * x, -u * y]
        a[2 * i + 1] = [0, 0, 0, x, y, 1, -v * x, -v * y]
        b[2 * i], b[2 * i + 1] = u, v
    sol = np.linalg.solve(a, b)
    return np.append(sol, 1.0).reshape(3, 3)


def intrinsics(width: int, height: int, focal: float) -> np.ndarray:
    """Pinhole matrix ``K`` with square pixels and the principal point at the frame centre.

    Args:
        width, height: frame size in pixels.
        focal: focal length in pixels (> 0).

    Example:
        >>> intrinsics(640, 360, 768.0)[:2, 2].tolist()
        [319.5, 179.5]
    """
    if not focal > 0:
        raise InvalidInput("focal", focal, "must be > 0 pixels")
    return np.array([[focal, 0.0, (width - 1) / 2.0], [0.0, focal, (height - 1) / 2.0], [0.0, 0.0, 1.0]])


def rotation_matrix(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """``Ry(yaw) @ Rx(pitch) @ Rz(roll)`` (radians; see the module doc for the signs).

    Example:
        >>> np.round(rotation_matrix(math.pi / 2, 0, 0) @ [0, 0, 1], 6).tolist()
        [1.0, 0.0, 0.0]
    """
    cy, sy = math.cos(yaw), math.sin(yaw)
    cp, sp = math.cos(pitch), math.sin(pitch)
    cr, sr = math.cos(roll), math.sin(roll)
    ry = np.array([[cy, 0.0, sy], [0.0, 1.0, 0.0], [-sy, 0.0, cy]])
    rx = np.array([[1.0, 0.0, 0.0], [0.0, cp, -sp], [0.0, sp, cp]])
    rz = np.array([[cr, -sr, 0.0], [sr, cr, 0.0], [0.0, 0.0, 1.0]])
    return ry @ rx @ rz


def euler_from_rotation(r: np.ndarray) -> tuple[float, float, float]:
    """``(yaw, pitch, roll)`` radians of a rotation matrix, inverse of :func:`rotation_matrix`.

    Pitch is in ``[-π/2, π/2]``; yaw and roll in ``(-π, π]``.
    """
    r = np.asarray(r, dtype=np.float64)
    if r.shape != (3, 3):
        raise InvalidInput("r", r.shape, "must be a (3, 3) rotation matrix")
    pitch = math.asin(max(-1.0, min(1.0, -r[1, 2])))
    yaw = math.atan2(r[0, 2], r[2, 2])
    roll = math.atan2(r[1, 0], r[1, 1])
    return yaw, pitch, roll


def nearest_rotation(m: np.ndarray) -> np.ndarray:
    """The rotation matrix closest to ``m`` in the Frobenius norm (SVD, determinant +1).

    Example:
        >>> np.allclose(nearest_rotation(2 * np.eye(3)), np.eye(3))
        True
    """
    u, _, vt = np.linalg.svd(np.asarray(m, dtype=np.float64))
    d = np.sign(np.linalg.det(u @ vt)) or 1.0
    return u @ np.diag([1.0, 1.0, d]) @ vt


def homography_from_rotation(r: np.ndarray, k: np.ndarray) -> np.ndarray:
    """``K R K⁻¹``: pixels of the rotated camera → pixels of the reference camera."""
    return normalize_homography(k @ np.asarray(r, dtype=np.float64) @ np.linalg.inv(k))


def rotation_from_homography(h: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, float]:
    """Rotation of a purely rotating camera from the homography between its two views.

    Assumes ``h ≈ K R K⁻¹`` (same intrinsics, the camera turns about its centre, or the scene
    is far away). ``K⁻¹ h K`` is scaled to determinant 1 and projected onto the nearest
    rotation; how far it was from one measures how well the model fits (a zoom, a wrong focal
    length or a moving camera near a flat scene give a large residual).

    Args:
        h: ``(3, 3)`` pixels of view B → pixels of view A.
        k: ``(3, 3)`` intrinsics of both views.

    Returns:
        ``(R, residual)``: ``(3, 3)`` rotation (B directions → A directions) and
        ``‖M − R‖_F`` of the normalised ``M = K⁻¹ h K`` (0 for an exact rotation).

    Example:
        >>> k = intrinsics(640, 360, 768.0)
        >>> r, res = rotation_from_homography(homography_from_rotation(rotation_matrix(0.05, 0, 0), k), k)
        >>> round(euler_from_rotation(r)[0], 9), res < 1e-9
        (0.05, True)
    """
    h = _check_h(h, "h")
    m = np.linalg.inv(k) @ h @ k
    det = np.linalg.det(m)
    if abs(det) < 1e-15:
        return np.eye(3), float("inf")
    m = m / np.cbrt(det)
    r = nearest_rotation(m)
    return r, float(np.linalg.norm(m - r))


def similarity_motion(h: np.ndarray, width: int, height: int) -> tuple[float, float, float, float]:
    """The similarity part of a homography at the frame centre.

    Args:
        h: ``(3, 3)`` homography from frame A pixels to frame B pixels.
        width, height: frame size in pixels.

    Returns:
        ``(dx, dy, angle, scale)``: displacement (px) of the frame centre, and the rotation
        (radians, +x toward +y) and uniform scale of the closest similarity to ``h``'s Jacobian
        at the centre — what :func:`reworld.ops.quality.global_motion` reports, from a
        homography.

    Example:
        >>> similarity_motion(np.array([[1, 0, 2], [0, 1, -1], [0, 0, 1.0]]), 64, 48)
        (2.0, -1.0, 0.0, 1.0)
    """
    h = _check_h(h, "h")
    c = np.array([(width - 1) / 2.0, (height - 1) / 2.0, 1.0])
    q = h @ c
    x, y = q[0] / q[2], q[1] / q[2]
    # Jacobian of (x, y) at the centre: (A - p q^T) / w with A the top-left 2x2, p = (x, y).
    jac = (h[:2, :2] - np.outer([x, y], h[2, :2])) / q[2]
    a = 0.5 * (jac[0, 0] + jac[1, 1])
    b = 0.5 * (jac[1, 0] - jac[0, 1])
    return float(x - c[0]), float(y - c[1]), math.atan2(b, a), math.hypot(a, b)


def detect_features(grey: np.ndarray, *, max_points: int = 400) -> np.ndarray:
    """Shi–Tomasi corners of a grey frame, refined to sub-pixel accuracy.

    Args:
        grey: ``(H, W)`` uint8.
        max_points: most corners (≥ 8); they are kept at least ``min(H, W) / 50`` px apart.

    Returns:
        ``(N, 2)`` float32 ``(x, y)`` pixels (``N`` may be 0).
    """
    import cv2

    if not isinstance(grey, np.ndarray) or grey.ndim != 2 or grey.dtype != np.uint8:
        raise InvalidInput("grey", getattr(grey, "shape", type(grey).__name__), "must be a uint8 (H, W) frame")
    if isinstance(max_points, bool) or not isinstance(max_points, (int, np.integer)) or max_points < 8:
        raise InvalidInput("max_points", max_points, "must be an integer >= 8")
    h, w = grey.shape
    pts = cv2.goodFeaturesToTrack(grey, maxCorners=int(max_points), qualityLevel=0.005,
                                  minDistance=max(3, min(h, w) // 50), blockSize=7)
    if pts is None or len(pts) < 4:
        return np.zeros((0, 2), np.float32)
    pts = cv2.cornerSubPix(grey, pts, (5, 5), (-1, -1),
                           (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.01))
    return pts.reshape(-1, 2).astype(np.float32)


def track_points(prev: np.ndarray, cur: np.ndarray, points: np.ndarray, *, guess: np.ndarray | None = None,
                 max_fb_error: float = 0.5, levels: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Track points from ``prev`` into ``cur`` with pyramidal Lucas–Kanade, forward and back.

    A track is kept when it returns within ``max_fb_error`` px of where it started (the check
    :func:`reworld.ops.quality.global_motion` makes).

    Args:
        prev, cur: ``(H, W)`` uint8 grey frames of the same shape.
        points: ``(N, 2)`` ``(x, y)`` pixels in ``prev``.
        guess: ``(N, 2)`` predicted positions in ``cur`` (e.g. from the previous camera motion),
            so that large or long-range motions start near the answer; ``None`` starts at ``points``.
        max_fb_error: forward-backward tolerance in pixels.
        levels: pyramid levels above full size; LK's 21 px window then reaches about
            ``10 · 2^levels`` px from the start (3: ~80 px; 2 is enough, and faster, with a good
            ``guess``).

    Returns:
        ``(positions, ok)``: ``(N, 2)`` float64 positions in ``cur`` and an ``(N,)`` bool mask of
        the tracks kept.
    """
    import cv2

    if prev.shape != cur.shape or prev.ndim != 2 or prev.dtype != np.uint8 or cur.dtype != np.uint8:
        raise InvalidInput("prev, cur", (prev.shape, cur.shape), "must be two uint8 (H, W) frames of one shape")
    pts = np.ascontiguousarray(np.asarray(points, np.float32).reshape(-1, 1, 2))
    if len(pts) == 0:
        return np.zeros((0, 2)), np.zeros(0, bool)
    lk = {"winSize": (21, 21), "maxLevel": int(levels),
          "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01)}
    if guess is not None:
        init = np.ascontiguousarray(np.asarray(guess, np.float32).reshape(-1, 1, 2))
        nxt, st, _ = cv2.calcOpticalFlowPyrLK(prev, cur, pts, init.copy(), flags=cv2.OPTFLOW_USE_INITIAL_FLOW, **lk)
    else:
        nxt, st, _ = cv2.calcOpticalFlowPyrLK(prev, cur, pts, None, **lk)
    back, st2, _ = cv2.calcOpticalFlowPyrLK(cur, prev, nxt, pts.copy(), flags=cv2.OPTFLOW_USE_INITIAL_FLOW, **lk)
    fb = np.linalg.norm((back - pts).reshape(-1, 2), axis=1)
    ok = (st.ravel() == 1) & (st2.ravel() == 1) & (fb < max_fb_error)
    return nxt.reshape(-1, 2).astype(np.float64), ok


def track_features(prev: np.ndarray, cur: np.ndarray, *, max_points: int = 400,
                   max_fb_error: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Point correspondences between two grey frames: :func:`detect_features` + :func:`track_points`.

    Returns:
        ``(src, dst)``: ``(N, 2)`` float64 ``(x, y)`` pixels in ``prev`` and in ``cur``
        (``N`` may be 0).
    """
    pts = detect_features(prev, max_points=max_points)
    nxt, ok = track_points(prev, cur, pts, max_fb_error=max_fb_error)
    return pts[ok].astype(np.float64), nxt[ok]


def fit_homography(src: np.ndarray, dst: np.ndarray, *, threshold: float = 1.0
                   ) -> tuple[np.ndarray, np.ndarray] | None:
    """Robust homography ``src → dst`` (OpenCV USAC MAGSAC++), outliers (moving objects) ignored.

    Args:
        src, dst: ``(N, 2)`` corresponding ``(x, y)`` points, ``N ≥ 4``.
        threshold: MAGSAC's largest inlier residual in pixels.

    Returns:
        ``(h, inliers)``: ``(3, 3)`` float64 and an ``(N,)`` bool mask, or ``None`` when no
        model was found (fewer than 4 points, degenerate configuration).
    """
    import cv2

    s = np.asarray(src, dtype=np.float64).reshape(-1, 2)
    d = np.asarray(dst, dtype=np.float64).reshape(-1, 2)
    if len(s) < 4 or len(s) != len(d):
        return None
    # MAGSAC++ is randomised; OpenCV seeds its USAC generator with a fixed value by default,
    # so repeated calls on the same points give the same model.
    h, mask = cv2.findHomography(s, d, cv2.USAC_MAGSAC, ransacReprojThreshold=threshold,
                                 maxIters=5000, confidence=0.999)
    if h is None or mask is None or not np.all(np.isfinite(h)) or abs(h[2, 2]) < 1e-12:
        return None
    return h / h[2, 2], mask.ravel().astype(bool)


def fit_similarity(src: np.ndarray, dst: np.ndarray, *, threshold: float = 1.0
                   ) -> tuple[np.ndarray, np.ndarray] | None:
    """Robust rotation + uniform scale + translation ``src → dst`` (RANSAC, then refined).

    The fit :func:`reworld.ops.quality.global_motion` makes (``cv2.estimateAffinePartial2D``),
    as a ``(3, 3)`` matrix so :func:`similarity_motion` can read it.

    Args:
        src, dst: ``(N, 2)`` corresponding ``(x, y)`` points, ``N ≥ 2``.
        threshold: RANSAC inlier residual in pixels.

    Returns:
        ``(m, inliers)``: ``(3, 3)`` float64 and an ``(N,)`` bool mask, or ``None``.
    """
    import cv2

    s = np.asarray(src, dtype=np.float64).reshape(-1, 2)
    d = np.asarray(dst, dtype=np.float64).reshape(-1, 2)
    if len(s) < 2 or len(s) != len(d):
        return None
    m, mask = cv2.estimateAffinePartial2D(s, d, method=cv2.RANSAC, ransacReprojThreshold=threshold,
                                          maxIters=2000, confidence=0.995, refineIters=10)
    if m is None or mask is None:
        return None
    return np.vstack([m, [0.0, 0.0, 1.0]]), mask.ravel().astype(bool)
