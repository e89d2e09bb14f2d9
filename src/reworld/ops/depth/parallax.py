"""Relative inverse depth from the motion parallax of a frame pair (a camera that *moves*).

The flow left after removing the camera's dominant motion (the homography of the background
plane, or a pure rotation, :func:`homography_flow`) is plane-plus-parallax,
``r(x) = γ(x)·(x − e)`` with ``e`` the epipole (Irani & Anandan; Sawhney 1994). It says whether
there is parallax and where the epipole is; the rotation and epipole are then refined on the
whole flow, inverse depth is read along the epipolar lines and its sign (which end is near)
decided by votes (:data:`SIGN_VOTES`). See :func:`parallax_depth` for the steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from reworld.errors import InvalidInput
from reworld.ops.depth._common import (
    _check_flow,
    _check_map,
    _smoothstep,
    normalize_depth,
    spearman,
)

__all__ = ["SIGN_VOTES", "ParallaxDepth", "homography_flow", "parallax_depth"]


#: weights of the votes that decide which sign of the parallax is near, each a value in [-1, 1]:
#: ``skew`` (most of a frame is far, the near end is the thinner tail), ``lower`` (rank
#: correlation with the row: the ground nearer at the bottom), ``prior`` (rank agreement with a
#: monocular estimate or the previous frame's result)
SIGN_VOTES: dict[str, float] = {"skew": 0.25, "lower": 0.5, "prior": 1.0}


def homography_flow(h: np.ndarray, height: int, width: int) -> np.ndarray:
    """The flow a homography induces: ``flow(x) = h(x) − x`` for every pixel of a grid.

    Args:
        h: ``(3, 3)`` homography from pixels of the first frame to pixels of the second, in the
            grid's pixels.
        height, width: the grid.

    Returns:
        ``(height, width, 2)`` float32 ``(dx, dy)`` pixels.

    Example:
        >>> homography_flow(np.array([[1, 0, 2.0], [0, 1, -1], [0, 0, 1]]), 2, 3)[1, 2].tolist()
        [2.0, -1.0]
    """
    h = np.asarray(h, np.float64)
    if h.shape != (3, 3) or not np.all(np.isfinite(h)):
        raise InvalidInput("h", f"shape {h.shape}", "must be a finite (3, 3) homography")
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    den = h[2, 0] * xs + h[2, 1] * ys + h[2, 2]
    den = np.where(np.abs(den) < 1e-12, 1e-12, den)
    u = (h[0, 0] * xs + h[0, 1] * ys + h[0, 2]) / den - xs
    v = (h[1, 0] * xs + h[1, 1] * ys + h[1, 2]) / den - ys
    return np.dstack([u, v]).astype(np.float32)

@dataclass
class ParallaxDepth:
    """Result of :func:`parallax_depth`.

    Attributes:
        depth: ``(h, w)`` float32 in [0, 1], relative inverse depth (1 = near).
        confidence: ``(h, w)`` float32 in [0, 1] per pixel (0 where occluded, low where the
            residual is within the noise, all 0 when the pair shows no usable parallax).
        strength: 95th percentile of the residual flow, pixels of the flow's grid.
        epipole: ``(3,)`` homogeneous epipole in centred coordinates (pixels / diagonal);
            ``epipole[2] ≈ 0`` for a sideways move (epipole at infinity).
        alignment: share of the translational flow's energy along the epipolar lines (≈ 1
            for parallax, ≈ 0.5 for noise).
        votes: the sign votes (:data:`SIGN_VOTES` names → value in [-1, 1], positive = the
            raw reading ``(flow − rot)·(x − e)/|x − e|²`` grows towards near).
    """

    depth: np.ndarray
    confidence: np.ndarray
    strength: float
    epipole: np.ndarray
    alignment: float
    votes: dict[str, float] = field(default_factory=dict)


def _fit_epipole(pts: np.ndarray, vec: np.ndarray, wts: np.ndarray) -> np.ndarray:
    """Homogeneous point ``e`` closest to the lines ``pts + t·vec`` (IRLS on angular error)."""
    p1 = np.column_stack([pts, np.ones(len(pts))])
    p2 = np.column_stack([pts + vec, np.ones(len(pts))])
    lines = np.cross(p1, p2)
    lines /= np.linalg.norm(lines[:, :2], axis=1, keepdims=True) + 1e-12
    w = wts.copy()
    e = np.array([1.0, 0.0, 0.0])
    for _ in range(4):
        _u, _s, vt = np.linalg.svd(lines * w[:, None], full_matrices=False)
        e = vt[-1]
        d = e[2] * pts - e[:2]
        dn = d / (np.linalg.norm(d, axis=1, keepdims=True) + 1e-12)
        vn = vec / (np.linalg.norm(vec, axis=1, keepdims=True) + 1e-12)
        sin = np.abs(dn[:, 0] * vn[:, 1] - dn[:, 1] * vn[:, 0])
        w = wts / (1.0 + (sin / 0.15) ** 2)
    return e / (np.linalg.norm(e) + 1e-12)


def _rotation_flow(x: np.ndarray, y: np.ndarray, omega: np.ndarray, f: float) -> tuple[np.ndarray, np.ndarray]:
    """Flow of a small camera rotation ``omega`` at centred coordinates, focal ``f`` (same units)."""
    wx, wy, wz = omega
    u = x * y / f * wx - (f + x * x / f) * wy + y * wz
    v = (f + y * y / f) * wx - x * y / f * wy - x * wz
    return u, v


def _epipole_from_angles(p: np.ndarray) -> np.ndarray:
    th, ph = p
    return np.array([np.cos(th) * np.cos(ph), np.sin(th) * np.cos(ph), np.sin(ph)])


def _fit_motion(x: np.ndarray, y: np.ndarray, u: np.ndarray, v: np.ndarray, wts: np.ndarray, e0: np.ndarray,
                f: float, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Rotation ``ω`` and epipole ``e`` that make ``flow − rot(ω)`` point along lines through ``e``.

    Robust (soft-L1) least squares on the perpendicular component, 5 unknowns, from three starts
    (no rotation; the epipole ``e0`` of the residual flow, infinity along the median flow, the
    centre); a few steps from each, then the lowest cost is run to convergence.
    """
    from scipy.optimize import least_squares

    sw = np.sqrt(wts)

    def perp(p: np.ndarray) -> np.ndarray:
        e = _epipole_from_angles(p[3:])
        ru, rv = _rotation_flow(x, y, p[:3], f)
        dx, dy = e[2] * x - e[0], e[2] * y - e[1]
        n = np.sqrt(dx * dx + dy * dy) + 1e-9
        return sw * ((u - ru) * dy - (v - rv) * dx) / n

    # rotation + forward motion can mimic a sideways move (the bas-relief ambiguity): start from
    # the residual's epipole, from infinity along the mean flow, and from the centre; keep the best
    mean = np.array([np.median(u), np.median(v), 0.0])
    starts = [e0, mean / (np.linalg.norm(mean) + 1e-12) if np.linalg.norm(mean) > 0 else e0, np.array([0.0, 0.0, 1.0])]
    best = None
    for s in starts:  # a few steps from each start, then the best one to convergence
        s = s if s[2] >= 0 else -s
        p0 = np.array([0.0, 0.0, 0.0, np.arctan2(s[1], s[0]), np.arcsin(np.clip(s[2], -1, 1))])
        sol = least_squares(perp, p0, loss="soft_l1", f_scale=scale, max_nfev=6, x_scale="jac")
        if best is None or sol.cost < best.cost:
            best = sol
    best = least_squares(perp, best.x, loss="soft_l1", f_scale=scale, max_nfev=30, x_scale="jac")
    return best.x[:3], _epipole_from_angles(best.x[3:])


def parallax_depth(flow: np.ndarray, homography_flow: np.ndarray, *, occlusion: np.ndarray | None = None,
                   weight: np.ndarray | None = None, prior: np.ndarray | None = None,
                   noise: float = 0.15, focal: float | None = None) -> ParallaxDepth:
    """Relative inverse depth from the motion parallax of one frame pair.

    The residual ``r = flow − homography_flow`` is what the camera's dominant motion (the plane
    the homography locks onto, or a pure rotation) does not explain: for a camera that
    translates, ``r(x) = γ(x)·(x − e)`` with ``γ ∝ 1/Z − 1/Z_plane(x)`` (plane + parallax:
    Irani & Anandan 1996, Sawhney 1994). It gates and seeds the estimate:

    1. A pair whose residual's 95th percentile is below ``3 × noise`` shows no parallax (a
       camera that only turns, or a flat scene): confidence 0. Else the epipole ``e`` is fitted
       to the strong residuals (each residual's line through its pixel, least squares in
       homogeneous coordinates with angular reweighting, so an epipole at infinity — a sideways
       move — is fine).
    2. Inverse depth itself is read from the *whole* flow, not from the residual, so a tilted
       plane (the ground) keeps its gradient and a homography that mixes several depths does
       no harm: the camera rotation ``ω`` (``focal`` assumed) and the epipole are refined by
       robust least squares so that ``flow − rot(ω)`` points along lines through ``e``
       (:func:`_fit_motion`, three starts against the rotation/translation ambiguity); then
       ``1/Z ∝ (flow − rot(ω))·(x − e) / |x − e|²``. For a sideways move the split between
       yaw and a constant inverse depth stays open: only a shift, removed by the normalisation.
    3. The sign (which end is near) is voted (:data:`SIGN_VOTES`): ``skew`` — most of a frame
       is far, the near end is the thinner tail; ``lower`` — the bottom of the frame is usually
       nearer; ``prior`` — rank agreement with ``prior``. Then the map goes to [0, 1] by
       percentiles.

    Moving objects add their own motion to ``r`` and are misread (usually as nearer).

    Args:
        flow: ``(h, w, 2)`` float flow of this frame to another (pixels).
        homography_flow: ``(h, w, 2)`` float flow the camera's homography or rotation alone
            would give (:func:`homography_flow`).
        occlusion: optional ``(h, w)`` bool, pixels not visible in the other frame.
        weight: optional ``(h, w)`` float in [0, 1], per-pixel trust in the flow (e.g. texture,
            not sky); multiplies the confidence.
        prior: optional ``(h, w)`` relative inverse depth from another cue; only its rank
            agreement votes on the sign.
        noise: flow noise, pixels of the flow's grid: residuals below it carry no depth, and a
            pair whose 95th-percentile residual is below ``3 × noise`` has no usable parallax.
        focal: focal length in pixels of the flow's grid (default 1.2 × width, the camera
            analyzer's assumption); only the plane term uses it.

    Returns:
        :class:`ParallaxDepth` (``depth``, ``confidence``, ``strength``, ``epipole``,
        ``alignment``, ``votes``).

    Example:
        >>> f = np.zeros((40, 60, 2), np.float32); f[10:30, 20:40, 0] = 3.0   # a near square
        >>> p = parallax_depth(f, np.zeros_like(f))
        >>> round(float(p.depth[20, 30]), 1), round(float(p.depth[5, 5]), 1)
        (1.0, 0.0)
    """
    flow = _check_flow(flow, "flow")
    hw = flow.shape[:2]
    hflow = _check_flow(homography_flow, "homography_flow", hw)
    occ = np.zeros(hw, bool) if occlusion is None else np.asarray(occlusion, bool)
    if occ.shape != hw:
        raise InvalidInput("occlusion", f"shape {occ.shape}", f"must be a bool map of shape {hw}")
    wgt = np.ones(hw, np.float32) if weight is None else np.clip(_check_map(weight, "weight", hw), 0, 1)
    pri = None if prior is None else _check_map(prior, "prior", hw)
    if not noise > 0:
        raise InvalidInput("noise", noise, "must be > 0 pixels")
    h, w = hw
    focal = 1.2 * w if focal is None else float(focal)
    if not focal > 0:
        raise InvalidInput("focal", focal, "must be > 0 pixels")
    r = flow - hflow
    mag = np.hypot(r[..., 0], r[..., 1])
    good = (~occ) & (wgt > 0.05) & np.isfinite(mag)
    none = ParallaxDepth(np.full(hw, 0.5, np.float32), np.zeros(hw, np.float32), 0.0, np.array([1.0, 0, 0]), 0.0)
    if good.sum() < 50:
        return none
    strength = float(np.percentile(mag[good], 95))
    none.strength = strength
    # 1. epipole from the strong residuals (centred coordinates, pixels / diagonal)
    diag = float(np.hypot(h, w))
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = (xs - (w - 1) / 2) / diag, (ys - (h - 1) / 2) / diag
    strong = good & (mag > max(2 * noise, 0.3 * strength))
    idx = np.flatnonzero(strong)
    if len(idx) < 20 or strength < 3 * noise:
        return none
    if len(idx) > 6000:
        idx = idx[np.linspace(0, len(idx) - 1, 6000).astype(int)]
    pts = np.column_stack([cx.ravel()[idx], cy.ravel()[idx]]).astype(np.float64)
    vec = r.reshape(-1, 2)[idx].astype(np.float64) / diag
    e = _fit_epipole(pts, vec, (wgt.ravel()[idx] * mag.ravel()[idx]).astype(np.float64))
    # 2. rotation and epipole refined on the whole flow (the homography may mix planes)
    f_n = focal / diag
    sel = np.flatnonzero(good.ravel())
    sel = sel[np.linspace(0, len(sel) - 1, min(len(sel), 1500)).astype(int)]
    xs_s, ys_s = cx.ravel()[sel].astype(np.float64), cy.ravel()[sel].astype(np.float64)
    fu, fv = flow[..., 0].ravel()[sel] / diag, flow[..., 1].ravel()[sel] / diag
    omega, e = _fit_motion(xs_s, ys_s, fu.astype(np.float64), fv.astype(np.float64),
                           wgt.ravel()[sel].astype(np.float64), e, f_n, noise / diag)
    ru, rv = _rotation_flow(cx, cy, omega, f_n)
    tu, tv = flow[..., 0] / diag - ru, flow[..., 1] / diag - rv  # translational flow
    # inverse depth along the epipolar lines: d = e3 x - e12 points away from the epipole
    d = np.dstack([e[2] * cx - e[0], e[2] * cy - e[1]]).astype(np.float32)
    dd = d[..., 0] ** 2 + d[..., 1] ** 2
    floor = max(float(np.percentile(dd, 5)), 0.05**2 * max(float(e[2]) ** 2, 1e-6))
    along = tu * d[..., 0] + tv * d[..., 1]
    inv = (along / np.maximum(dd, floor)).astype(np.float32)
    tmag2 = tu * tu + tv * tv
    alignment = float(np.sum(wgt[good] * along[good] ** 2 / (dd[good] + 1e-12)) / (np.sum(wgt[good] * tmag2[good]) + 1e-12))
    # 3. which sign is near: votes
    g = good & np.isfinite(inv)
    lo, mid, hi = np.percentile(inv[g], [5, 50, 95])
    votes = {"skew": float(((hi - mid) - (mid - lo)) / (hi - lo + 1e-12))}
    sub = np.flatnonzero(g.ravel())[:: max(1, int(g.sum()) // 20000)]
    votes["lower"] = spearman(inv.ravel()[sub], ys.ravel()[sub])
    if pri is not None:
        votes["prior"] = spearman(inv.ravel()[sub], pri.ravel()[sub])
    total = sum(SIGN_VOTES[k] * v for k, v in votes.items())
    sign = -1.0 if total < 0 else 1.0
    depth = normalize_depth(np.where(g, sign * inv, np.median(sign * inv[g])).astype(np.float32), weight=g)
    # 4. confidence: the pair's parallax against the noise, the epipolar fit, the pixel
    frame_conf = float(_smoothstep(3 * noise, 10 * noise, np.float32(strength))) * float(
        _smoothstep(0.6, 0.9, np.float32(alignment)))
    pixel = 0.5 + 0.5 * _smoothstep(noise, 3 * noise, mag)
    conf = (frame_conf * pixel * wgt * (~occ)).astype(np.float32)
    return ParallaxDepth(depth, conf, strength, e, alignment, votes)
