"""Relative depth from motion parallax and monocular cues, as pure array functions (layer 1).

Depth here is always **relative inverse depth** (disparity-like): ``(h, w)`` float32 in [0, 1],
1 = nearest, 0 = farthest (sky). It is not metric and has no fixed scale between frames except
through :func:`temporal_align`.

Two estimators and two combinators:

- :func:`parallax_depth` — for a camera that *moves*: the flow left after removing the
  camera's dominant motion (the homography of the background plane, or a pure rotation) is
  plane-plus-parallax, ``r(x) = γ(x)·(x − e)`` with ``e`` the epipole (Irani & Anandan;
  Sawhney 1994). It says whether there is parallax and where the epipole is; the rotation
  and epipole are then refined on the whole flow, inverse depth is read along the epipolar
  lines and its sign (which end is near) decided by votes (:data:`SIGN_VOTES`).
- :func:`monocular_depth` — for static shots and photos, a "pop-up" scene model (Hoiem et
  al. 2005 in spirit, no learning): sky at infinity, a ground plane below the horizon whose
  inverse depth grows linearly with the distance below the horizon (a flat ground seen from
  height ``h_c``: ``1/Z = (y − y_h) / (f h_c)``), standing objects at the depth of the row
  where they touch the ground, and defocus as a weak cue (:data:`CUE_WEIGHTS`).
- :func:`fuse_depth` — monocular depth aligned to parallax depth (robust scale/shift) and
  blended by the parallax confidence.
- :func:`temporal_align` — a frame's depth aligned (robust scale/shift) to the previous result
  warped by the flow, then blended with it by confidence, so depth is stable over time.

:func:`spearman` measures rank agreement (what relative depth can be judged on).

Example:
    >>> img = np.zeros((60, 80, 3), np.uint8); img[:24] = (110, 160, 230); img[24:] = (90, 120, 60)
    >>> sky = np.zeros((60, 80), np.float32); sky[:24] = 1
    >>> est = monocular_depth(img, sky_alpha=sky)
    >>> round(est.horizon), float(est.depth[:20].max()), bool(est.depth[-1].mean() > est.depth[30].mean())
    (24, 0.0, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from reworld.errors import InvalidInput

__all__ = [
    "CUE_WEIGHTS",
    "SIGN_VOTES",
    "MonocularDepth",
    "ParallaxDepth",
    "depth_to_rgb",
    "estimate_horizon",
    "fuse_depth",
    "homography_flow",
    "monocular_depth",
    "normalize_depth",
    "parallax_depth",
    "spearman",
    "temporal_align",
]

#: monocular cues and their weights (documented in docs/analysis-depth.md). ``ground`` and
#: ``standing`` build the base map (a pixel takes the ground value of its row, or, on a standing
#: object, the ground value of the object's contact row); ``defocus`` adds at most ±weight/2 on
#: textured pixels; ``sky`` replaces the value by 0 in proportion to the sky alpha;
#: ``above_horizon`` is the inverse depth given to non-sky pixels above the horizon that stand
#: on nothing visible (distant hills, buildings far away).
CUE_WEIGHTS: dict[str, float] = {"ground": 1.0, "standing": 1.0, "defocus": 0.08, "sky": 1.0, "above_horizon": 0.04}
#: weights of the votes that decide which sign of the parallax is near, each a value in [-1, 1]:
#: ``skew`` (most of a frame is far, the near end is the thinner tail), ``lower`` (rank
#: correlation with the row: the ground nearer at the bottom), ``prior`` (rank agreement with a
#: monocular estimate or the previous frame's result)
SIGN_VOTES: dict[str, float] = {"skew": 0.25, "lower": 0.5, "prior": 1.0}
#: long side (px) at which images are segmented for the standing-object cue
SEGMENT_LONG_SIDE = 256
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


# -- parallax --------------------------------------------------------------------------------
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


# -- monocular -------------------------------------------------------------------------------
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


# -- combination -----------------------------------------------------------------------------
def _robust_affine(x: np.ndarray, y: np.ndarray, wts: np.ndarray, *, iters: int = 5) -> tuple[float, float]:
    """``(a, b)`` minimising ``Σ w ρ(a x + b − y)`` (Huber, IRLS); ``a`` kept ≥ 0."""
    if x.size < 10 or float(wts.sum()) <= 1e-6:
        return 1.0, 0.0
    w = wts.astype(np.float64)
    x = x.astype(np.float64)
    y = y.astype(np.float64)
    a, b = 1.0, 0.0
    for _ in range(iters):
        sw = w.sum()
        mx, my = (w * x).sum() / sw, (w * y).sum() / sw
        vx = (w * (x - mx) ** 2).sum() / sw
        if vx < 1e-10:
            a, b = 0.0, my
            break
        a = max(0.0, (w * (x - mx) * (y - my)).sum() / sw / vx)
        b = my - a * mx
        res = np.abs(a * x + b - y)
        delta = max(1.4826 * float(np.median(res)), 1e-3)
        w = wts * np.minimum(1.0, delta / (res + 1e-12))
    return float(a), float(b)


def fuse_depth(parallax: np.ndarray, confidence: np.ndarray, mono: np.ndarray, *, mono_weight: float = 0.3,
               sky_alpha: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Fuse parallax depth and monocular depth into one map.

    The monocular map is first aligned to the parallax map by a robust (Huber) weighted least
    squares scale and shift, weighted by the parallax confidence — a monocular cue that does not
    agree with the parallax gets a scale near 0 and so adds nothing but an offset. Then each
    pixel is ``(c · parallax + m · mono_aligned) / (c + m)`` with ``c`` the parallax confidence
    (zeroed in the sky, where flow is unreliable) and ``m = mono_weight``; the sky is put at
    the far end and the result is mapped to [0, 1] (:func:`normalize_depth`).

    Args:
        parallax: ``(h, w)`` float in [0, 1] (:class:`ParallaxDepth` ``.depth``).
        confidence: ``(h, w)`` float in [0, 1] (``.confidence``).
        mono: ``(h, w)`` float in [0, 1] (:class:`MonocularDepth` ``.depth``).
        mono_weight: weight of the monocular map where the parallax confidence is 1 (≥ 0).
        sky_alpha: optional ``(h, w)`` sky alpha.

    Returns:
        ``(depth (h, w) float32 in [0, 1], confidence float)`` — the confidence is the mean
        effective parallax confidence.

    Example:
        >>> p = np.tile(np.linspace(0, 1, 8, dtype=np.float32), (6, 1))
        >>> d, c = fuse_depth(p, np.ones_like(p), 1 - p)
        >>> bool(np.all(np.diff(d[0]) >= 0)), round(c, 2)
        (True, 1.0)
    """
    p = _check_map(parallax, "parallax")
    hw = p.shape
    c = np.clip(_check_map(confidence, "confidence", hw), 0, 1)
    m = _check_map(mono, "mono", hw)
    if not (isinstance(mono_weight, (int, float)) and mono_weight >= 0):
        raise InvalidInput("mono_weight", mono_weight, "must be a number >= 0")
    a_sky = np.zeros(hw, np.float32) if sky_alpha is None else np.clip(_check_map(sky_alpha, "sky_alpha", hw), 0, 1)
    c = c * (1 - a_sky)
    sel = c > 0.05
    stride = max(1, int(sel.sum()) // 30000)
    idx = np.flatnonzero(sel.ravel())[::stride]
    a, b = _robust_affine(m.ravel()[idx], p.ravel()[idx], c.ravel()[idx])
    m_al = a * m + b
    fused = (c * p + mono_weight * m_al) / (c + mono_weight + 1e-6)
    if a_sky.any():
        far = float(np.percentile(fused[a_sky < 0.5], 1)) if (a_sky < 0.5).any() else 0.0
        fused = fused * (1 - a_sky) + min(far, float(fused.min())) * a_sky
    nonsky = a_sky < 0.5
    out = normalize_depth(fused.astype(np.float32), weight=nonsky if nonsky.any() else None)
    if a_sky.any():
        out = out * (1 - a_sky)
    return out.astype(np.float32), float(c.mean())


def temporal_align(depth_t: np.ndarray, depth_prev_warped: np.ndarray, confidence: np.ndarray, *,
                   memory: float = 0.6, leak: float = 0.1) -> tuple[np.ndarray, tuple[float, float]]:
    """Make a frame's depth consistent with the previous result warped onto it.

    Relative depth has a free scale and shift per frame. ``depth_t`` is mapped by ``a·d + b``
    fitted by robust (Huber, IRLS) weighted least squares to ``depth_prev_warped`` (weights
    ``confidence``: 0 where the previous frame did not see the pixel), pulled back towards
    itself by ``leak`` (so small scale errors do not add up over a long shot), then blended:
    ``out = (1 − k)·aligned + k·prev`` with ``k = memory · confidence``.

    Args:
        depth_t: ``(h, w)`` float in [0, 1], this frame's estimate.
        depth_prev_warped: ``(h, w)`` float, the previous result warped onto this frame.
        confidence: ``(h, w)`` float in [0, 1], trust in ``depth_prev_warped`` per pixel.
        memory: in [0, 1), weight of the past where confidence is 1.
        leak: in [0, 1], share of the unaligned estimate kept.

    Returns:
        ``(depth (h, w) float32 in [0, 1], (scale, shift))``.

    Example:
        >>> prev = np.tile(np.linspace(0, 1, 10, dtype=np.float32), (4, 1))
        >>> out, (a, b) = temporal_align(0.5 * prev + 0.2, prev, np.ones_like(prev))
        >>> round(a, 2), round(b, 2), float(np.abs(out - prev).max()) < 0.05
        (2.0, -0.4, True)
    """
    d = _check_map(depth_t, "depth_t")
    hw = d.shape
    prev = _check_map(depth_prev_warped, "depth_prev_warped", hw)
    c = np.clip(_check_map(confidence, "confidence", hw), 0, 1)
    if not (isinstance(memory, (int, float)) and 0 <= memory < 1):
        raise InvalidInput("memory", memory, "must be a number in [0, 1)")
    if not (isinstance(leak, (int, float)) and 0 <= leak <= 1):
        raise InvalidInput("leak", leak, "must be a number in [0, 1]")
    sel = c > 0.05
    stride = max(1, int(sel.sum()) // 30000)
    idx = np.flatnonzero(sel.ravel())[::stride]
    a, b = _robust_affine(d.ravel()[idx], prev.ravel()[idx], c.ravel()[idx])
    if a < 0.25 or a > 4.0:  # the two disagree (a cut missed, a sign flip): keep this frame as it is
        a, b = 1.0, 0.0
    aligned = (1 - leak) * (a * d + b) + leak * d
    k = memory * c
    out = np.clip((1 - k) * aligned + k * prev, 0, 1).astype(np.float32)
    return out, (a, b)


def depth_to_rgb(depth: np.ndarray) -> np.ndarray:
    """Colour-map relative inverse depth (inferno: near = bright yellow, far = black/purple).

    Args:
        depth: ``(h, w)`` float in [0, 1] (or uint8/float16; values clipped).

    Returns:
        ``(h, w, 3)`` uint8 RGB.

    Example:
        >>> depth_to_rgb(np.array([[0.0, 1.0]], np.float32)).shape
        (1, 2, 3)
    """
    d = _check_map(np.asarray(depth), "depth")
    u8 = np.clip(d * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return cv2.applyColorMap(u8, cv2.COLORMAP_INFERNO)[..., ::-1].copy()
