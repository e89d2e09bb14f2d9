"""Camera track: the camera's path as homographies, its rotation, a smoothed path and shake.

How (all at the analysis size, long side ≤ 512; results converted to full-resolution pixels):

1. Each frame is aligned to the current *key frame*: the frame is warped onto the key frame
   with the motion predicted from the last pair, the key frame's Shi–Tomasi corners are tracked
   into it with pyramidal Lucas–Kanade (forward-backward checked), and a homography is fitted
   with OpenCV's USAC MAGSAC++ (:func:`reworld.ops.geometry.fit_homography`), so people, cars
   and leaves moving over a fixed background are outliers. Fitting to a key frame instead of
   the previous frame keeps errors from adding up frame after frame; a new key frame is taken
   when fewer than 60 % of its corners survive or the view has turned > 10° or zoomed > 20 %.
   **Features stay on the static background** (:class:`_Background`; ``requires = ("flow",)``):
   key-frame corners are not taken on the sky (alpha > 0.5, estimated on each key frame, or a
   ``sky`` track when one is given), on pixels the ``flow`` track finds moving on their own
   (flow more than ``motion_threshold`` px off the homography that fits the flow field's
   dominant motion, or failing its forward–backward check), or on pixels of the
   :data:`EXCLUDE_TRACK` hook (people masks, later); tracked points that land on moving (or
   excluded) pixels are dropped before the fit. MAGSAC alone follows whichever motion owns the
   most *corners* — a large, strongly textured object in front can own most of them — while
   the flow's dominant motion is that of the largest *area*. Without tracks (e.g.
   :func:`estimate_camera` on frames) only the sky mask applies.
2. When the key-frame fit fails, the previous frame is tried (fresh corners); when that fails
   too — a scene cut, a flash, a blank frame — the pair is not ``valid``, the chain carries on
   as if the camera had not moved, and a new key frame starts.
3. The shake measure uses each pair's own motion, tracked from the previous frame (about 200
   tracks) with the similarity fit of :func:`reworld.ops.quality.global_motion`, so its
   ``speed`` and ``jerk`` read as ``reworld probe``'s do (``docs/probe-advice.md``).

Track ``"camera"`` arrays (``T`` frames; pair ``i`` is frames ``i → i+1``):

- ``homography (T, 3, 3) float64``: full-resolution pixels of frame ``t`` → frame 0
  (``homography[0]`` is the identity).
- ``pair_homography (T-1, 3, 3) float64``: pixels of frame ``i+1`` → frame ``i`` (the identity
  where the pair is not ``valid``).
- ``inliers (T-1,) int32``: MAGSAC inliers of the fit that placed frame ``i+1`` (0 when no model;
  0 for a repeated frame).
- ``reproj_error (T-1,) float32``: RMS residual of those inliers, full-resolution px (``inf``
  when no model was found).
- ``valid (T,) bool``: ``valid[t]`` — the pair ``t-1 → t`` is trustworthy (``valid[0]`` is True).
  False when too few tracks or inliers, too low an inlier share (a scene cut collapses it)
  or too large a residual. The chain carries on across it as if the camera had not moved.
- ``rotation (T, 3) float64``: cumulative ``(yaw, pitch, roll)`` radians of a purely rotating
  camera (:mod:`reworld.ops.geometry` signs: yaw right, pitch up, roll clockwise seen from
  behind), from ``K⁻¹ H K`` with the focal length assumed (``focal`` × width).
- ``rotation_error (T-1,) float32``: how far each pair is from a pure rotation
  (:func:`reworld.ops.geometry.rotation_from_homography` residual; ≲ 0.002 when it fits).
- ``velocity (T-1, 4) float32``: the probe's motion vector of each pair, ‰ of the diagonal
  per frame: ``1000 · (dx/diag, dy/diag, angle/2, (scale−1)/2)`` of the frame centre, content
  moving from frame ``i`` to ``i+1`` (``docs/probe-advice.md``); 0 for pairs that are not
  valid and for repeated frames.
- ``smoothed_homography (T, 3, 3) float64``: frame ``t`` → frame 0 along the smoothed path
  (a zero-phase Gaussian of ``smooth_seconds`` over the frame-corner trajectories, each run of
  valid frames separately, ends extended by odd reflection so steady pans stay put).
- ``jitter (T,) float32``: mean distance of the four frame corners between raw and smoothed
  path, full-resolution px (what stabilising would move them).

``meta`` holds what the background mask used (``background``: flow, sky source, exclusion
hook), how many tracked points it left out (``masked_points``) and how many sky estimates it
made (``sky_estimates``), the focal length used, the shake measure (``speed`` = median ``|v|`` ‰/frame over
valid moving pairs, ``jerk`` = median ``|v_{i+1} − v_i|`` ‰/frame² over consecutive ones, ``None``
when not measurable; ``shaky`` = both above :class:`reworld.analysis.quality.Thresholds`
``min_shake_speed`` and ``max_jerk``), counts (``n_pairs``, ``n_invalid``, ``n_duplicate``) and
medians of inliers, residuals and jitter.

Translation is not recovered: without depth a homography cannot tell a camera that moves from
one that turns. ``rotation`` is only meaningful where ``rotation_error`` is small.

Example:
    >>> CameraAnalyzer().params.focal
    1.2
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from reworld.analysis.base import AnalysisContext, Analyzer, FrameChunk, register
from reworld.analysis.quality import Thresholds
from reworld.analysis.tracks import Track
from reworld.errors import InvalidInput
from reworld.ops import geometry as geo

__all__ = ["EXCLUDE_TRACK", "CameraAnalyzer", "estimate_camera", "overlay"]

#: pairs whose grey frames differ by less than this mean level are repeats (as the probe says)
_DUPLICATE_LEVEL = 0.1
#: about this many tracks measure each pair's own motion (the probe's ``MOTION_POINTS``)
_MOTION_POINTS = 200
#: hook for masks of things that move on their own (people, animals, vehicles): when
#: ``ctx.tracks`` holds a track of this name, its ``mask`` array ``(T, h, w)`` (bool or uint8,
#: analysis size, > 0 = exclude) keeps features off those pixels. No analyzer makes it yet; add
#: the name to ``CameraAnalyzer.requires`` once one does, or pass ``exclude_mask`` to
#: :func:`estimate_camera`.
EXCLUDE_TRACK = "people"
#: about this many samples of the flow field fit its dominant motion
_FLOW_SAMPLES = 800


@dataclass
class _Pair:
    inliers: int
    tracks: int
    rms: float  # analysis px
    duplicate: bool
    ok: bool
    similarity: tuple[float, float, float, float] | None = None  # (dx, dy, angle, scale), analysis px, i -> i+1


@dataclass
class _Key:
    grey: np.ndarray
    points: np.ndarray  # (N, 2) float32 analysis px in the key frame
    to0: np.ndarray  # analysis px, key frame -> frame 0


class _Background:
    """Where the static background of frame ``t`` is, from the ``flow`` track, the sky and the
    exclusion hook (any of them may be missing; with none, everything is background).

    *Moving* pixels are those whose flow disagrees with the frame's dominant motion by more than
    ``threshold`` analysis px, or that fail the flow's forward–backward check (occluded,
    uncovered, leaving the frame). The dominant motion is a homography fitted (RANSAC) to about
    800 samples of the flow field spread over the frame (sky and excluded pixels left out), so
    it is the motion of the largest *area* — not of the most corners, which a strongly textured
    object in front can own. Frame ``t`` uses the backward flow ``t → t-1`` (frame 0 the
    forward flow ``0 → 1``).

    *Sky* is sky alpha > 0.5 (clouds drift; flat sky has no reliable corners): from a ``sky``
    track when there is one (:func:`estimate_camera` can be given it), else estimated with
    :func:`reworld.ops.sky.estimate_sky` on a 256-px copy of each frame that picks features (key
    frames only, so the camera analyzer needs no extra decode pass after the sky analyzer's).
    """

    def __init__(self, ctx: AnalysisContext, threshold: float, estimate_sky: bool = True) -> None:
        self.h, self.w = ctx.size
        self.threshold = float(threshold)
        flow = ctx.tracks.get("flow")
        self.flow = flow if flow is not None and "forward" in flow and len(flow["forward"]) else None
        sky = ctx.tracks.get("sky")
        self.sky = sky["alpha"] if estimate_sky and sky is not None and "alpha" in sky else None
        self.estimate = self.sky is None and estimate_sky
        excl = ctx.tracks.get(EXCLUDE_TRACK)
        self.exclude = excl["mask"] if excl is not None and "mask" in excl else None
        self._cache: tuple[int, np.ndarray | None] | None = None
        self._rgb: dict[int, np.ndarray] = {}  # the last two frames, for sky estimates
        self._sky_est: tuple[int, np.ndarray | None] | None = None  # latest estimate (frame, mask)
        self.n_sky_estimates = 0
        if self.flow is not None:
            self.pairs = len(self.flow["forward"])
            self.fh, self.fw = self.flow["forward"].shape[1:3]
            self.sx, self.sy = self.w / self.fw, self.h / self.fh  # analysis px per stored px
            step = max(1, round(math.sqrt(self.fh * self.fw / _FLOW_SAMPLES)))
            ys, xs = np.mgrid[step // 2:self.fh:step, step // 2:self.fw:step]
            self._samples = np.stack([xs.ravel(), ys.ravel()], 1)
            gy, gx = np.mgrid[0:self.fh, 0:self.fw].astype(np.float32)
            self._grid = np.dstack([gx, gy])

    @property
    def active(self) -> bool:
        return self.flow is not None or self.sky is not None or self.estimate or self.exclude is not None

    def sky_source(self) -> str:
        return "track" if self.sky is not None else ("estimated at key frames" if self.estimate else "off")

    def observe(self, t: int, rgb: np.ndarray) -> None:
        """Remember frame ``t`` (RGB, analysis size) for a sky estimate; keeps the last two."""
        if self.estimate:
            self._rgb = {k: v for k, v in self._rgb.items() if k == t - 1}
            self._rgb[t] = rgb.copy()  # the runner may reuse its chunk buffer

    def _frame_mask(self, arr: Any, t: int, limit: int) -> np.ndarray | None:
        if arr is None or not 0 <= t < len(arr):
            return None
        m = np.asarray(arr[t]) > limit
        if m.shape != (self.h, self.w):
            m = cv2.resize(m.astype(np.uint8), (self.w, self.h), interpolation=cv2.INTER_NEAREST) > 0
        return m

    def _estimated_sky(self, t: int, fresh: bool) -> np.ndarray | None:
        """Sky of frame ``t`` estimated from its pixels (``fresh``), or the latest estimate."""
        if self._sky_est is not None and (self._sky_est[0] == t or not fresh):
            return self._sky_est[1]
        if not fresh or t not in self._rgb:
            return None
        from reworld.ops.sky import estimate_sky

        rgb = self._rgb[t]
        s = min(1.0, 256 / max(self.h, self.w))
        small = rgb if s >= 1.0 else cv2.resize(rgb, (max(8, round(self.w * s)), max(8, round(self.h * s))),
                                                interpolation=cv2.INTER_AREA)
        alpha = estimate_sky(np.ascontiguousarray(small)).alpha
        self.n_sky_estimates += 1
        mask = None
        if alpha.max() > 0.5:
            if alpha.shape != (self.h, self.w):
                alpha = cv2.resize(alpha, (self.w, self.h), interpolation=cv2.INTER_LINEAR)
            mask = alpha > 0.5
        self._sky_est = (t, mask)
        return mask

    def _unwanted(self, t: int, sky: str = "track") -> np.ndarray | None:
        """Sky or excluded pixels of frame ``t`` (analysis size), ``None`` when there are none.

        ``sky``: ``"track"`` uses only a sky track (per-frame truth); ``"fresh"`` also estimates
        this frame's sky; ``"stale"`` falls back to the latest estimate (good enough to leave
        samples out of a fit, not to judge where a tracked point now is).
        """
        if self.sky is not None:
            sk = self._frame_mask(self.sky, t, 127)
        elif self.estimate and sky != "track":
            sk = self._estimated_sky(t, fresh=sky == "fresh")
        else:
            sk = None
        excl = self._frame_mask(self.exclude, t, 0)
        if sk is None:
            return excl
        return sk if excl is None else sk | excl

    def moving(self, t: int) -> np.ndarray | None:
        """``(fh, fw)`` bool on the stored flow grid: pixels of frame ``t`` not moving with the
        dominant motion (or not trusted); ``None`` without flow or when no motion fits."""
        if self._cache is not None and self._cache[0] == t:
            return self._cache[1]
        out = self._moving(t)
        self._cache = (t, out)
        return out

    def _moving(self, t: int) -> np.ndarray | None:
        from reworld.ops.flow import FB_ALPHA, FB_BETA, fb_consistency

        if self.flow is None or not 0 <= t <= self.pairs:
            return None
        if t >= 1:
            f, b = self.flow["backward"][t - 1], self.flow["forward"][t - 1]
        else:
            f, b = self.flow["forward"][0], self.flow["backward"][0]
        f = np.asarray(f, np.float32)
        s = 1.0 / self.sx
        occ, _err = fb_consistency(f, np.asarray(b, np.float32), alpha=FB_ALPHA, beta=FB_BETA * s * s)
        unwanted = self._unwanted(t, sky="stale")
        bad = occ
        if unwanted is not None:
            bad = bad | (cv2.resize(unwanted.astype(np.uint8), (self.fw, self.fh),
                                    interpolation=cv2.INTER_AREA) > 0)
        xs, ys = self._samples[:, 0], self._samples[:, 1]
        use = ~bad[ys, xs]
        if use.sum() < 16:
            return None
        src = self._samples[use].astype(np.float64)
        dst = src + f[ys[use], xs[use]]
        thr = self.threshold / self.sx  # stored-grid px
        # a tight fit (DIS is good to ~0.1 px on texture) so that the model does not lean
        # towards a second motion just outside the threshold
        hom, _inl = cv2.findHomography(src, dst, cv2.RANSAC, ransacReprojThreshold=0.5 * thr, maxIters=2000,
                                       confidence=0.995)
        if hom is None or not np.all(np.isfinite(hom)):
            return None
        pred = cv2.perspectiveTransform(self._grid.reshape(-1, 1, 2), hom).reshape(self.fh, self.fw, 2)
        res = self._grid + f - pred
        moving = (res[..., 0] * res[..., 0] + res[..., 1] * res[..., 1]) > thr * thr
        moving |= occ
        # a feature's tracking window reaches a few px: keep a small margin around moving things
        return cv2.dilate(moving.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0

    def feature_mask(self, t: int) -> np.ndarray | None:
        """``(h, w)`` uint8 mask for ``goodFeaturesToTrack`` (255 = static background), or
        ``None`` to use the whole frame (nothing known, or too little background left)."""
        bad = self._unwanted(t, sky="fresh")
        mov = self.moving(t)
        if mov is not None:
            mov_a = cv2.resize(mov.astype(np.uint8), (self.w, self.h), interpolation=cv2.INTER_NEAREST) > 0
            bad = mov_a if bad is None else bad | mov_a
        if bad is None or not bad.any() or bad.mean() > 0.95:
            return None
        return np.where(bad, 0, 255).astype(np.uint8)

    def keep(self, t: int, pts: np.ndarray) -> np.ndarray:
        """``(N,)`` bool: points ``(x, y)`` (analysis px in frame ``t``) on the static background."""
        keep = np.ones(len(pts), bool)
        if not len(pts):
            return keep
        x = np.clip(np.round(pts[:, 0]).astype(np.int64), 0, self.w - 1)
        y = np.clip(np.round(pts[:, 1]).astype(np.int64), 0, self.h - 1)
        bad = self._unwanted(t, sky="track")
        if bad is not None:
            keep &= ~bad[y, x]
        mov = self.moving(t)
        if mov is not None:
            fx = np.clip(np.round((pts[:, 0] + 0.5) / self.sx - 0.5).astype(np.int64), 0, self.fw - 1)
            fy = np.clip(np.round((pts[:, 1] + 0.5) / self.sy - 0.5).astype(np.int64), 0, self.fh - 1)
            keep &= ~mov[fy, fx]
        return keep


def _detect(grey: np.ndarray, max_points: int, mask: np.ndarray | None) -> np.ndarray:
    """:func:`reworld.ops.geometry.detect_features` restricted to ``mask`` (255 = allowed)."""
    if mask is None:
        return geo.detect_features(grey, max_points=max_points)
    h, w = grey.shape
    pts = cv2.goodFeaturesToTrack(grey, maxCorners=int(max_points), qualityLevel=0.005,
                                  minDistance=max(3, min(h, w) // 50), blockSize=7, mask=mask)
    if pts is None or len(pts) < 4:
        return geo.detect_features(grey, max_points=max_points)  # too little background: use all
    pts = cv2.cornerSubPix(grey, pts, (5, 5), (-1, -1),
                           (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.01))
    return pts.reshape(-1, 2).astype(np.float32)


@register
class CameraAnalyzer(Analyzer):
    """Camera path, rotation and shake (see the module doc for the arrays)."""

    name = "camera"
    version = 2
    requires = ("flow",)

    @dataclass(frozen=True)
    class Params:
        """Attributes:
            max_points: corners of each key frame (cost grows with it; with 400 a frame costs
                about 20 ms of one core at 512x288).
            ransac_threshold: MAGSAC's largest inlier residual, px at the analysis size.
            min_inliers: fewer inliers make a pair not ``valid``.
            min_inlier_ratio: a smaller share of inliers among the key frame's corners (or, for
                the previous-frame fallback, among the tracks) makes it not ``valid``.
            max_reproj_error: a larger inlier RMS (px at the analysis size) makes it not ``valid``.
            focal: focal length as a multiple of the frame width (1.2 ≈ a normal lens, 43 mm in
                35 mm terms; no EXIF is read from video).
            smooth_seconds: std of the Gaussian that smooths the path, seconds.
            motion_threshold: px at the analysis size: features whose flow disagrees with the
                frame's dominant motion by more are on something moving on its own and are
                left out (with the ``flow`` track; see :class:`_Background`).
            mask_sky: keep features off the sky (from a ``sky`` track when given, else estimated
                on each key frame).
        """

        max_points: int = 400
        ransac_threshold: float = 1.0
        min_inliers: int = 20
        min_inlier_ratio: float = 0.3
        max_reproj_error: float = 1.0
        focal: float = 1.2
        smooth_seconds: float = 0.5
        motion_threshold: float = 1.0
        mask_sky: bool = True

    def validate(self) -> None:
        p = self.params
        if isinstance(p.max_points, bool) or not isinstance(p.max_points, int) or p.max_points < 16:
            raise InvalidInput("camera.max_points", p.max_points, "must be an integer >= 16")
        if isinstance(p.min_inliers, bool) or not isinstance(p.min_inliers, int) or p.min_inliers < 4:
            raise InvalidInput("camera.min_inliers", p.min_inliers, "must be an integer >= 4")
        for name, lo, hi in (("ransac_threshold", 0.05, 20.0), ("min_inlier_ratio", 0.0, 1.0),
                             ("max_reproj_error", 0.01, 50.0), ("focal", 0.1, 20.0), ("smooth_seconds", 0.0, 60.0),
                             ("motion_threshold", 0.1, 50.0)):
            v = getattr(p, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
                raise InvalidInput(f"camera.{name}", v, f"must be a number in [{lo:g}, {hi:g}]")
        if not isinstance(p.mask_sky, bool):
            raise InvalidInput("camera.mask_sky", p.mask_sky, "must be true or false")

    def setup(self, ctx: AnalysisContext) -> None:
        self._prev: np.ndarray | None = None
        self._key: _Key | None = None
        self._seen: tuple[np.ndarray, np.ndarray] | None = None  # key points' positions in the last frame, kept
        self._hs: list[np.ndarray] = []  # analysis px, frame t -> frame 0
        self._pairs: list[_Pair] = []
        self._bg = _Background(ctx, self.params.motion_threshold, estimate_sky=self.params.mask_sky)
        self._t = 0  # index of the frame being processed
        self._masked: dict[int, int] = {}  # frame -> tracked points left out (moving, sky, excluded)

    def process(self, chunk: FrameChunk, ctx: AnalysisContext) -> None:
        for frame in chunk.frames:
            grey = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
            self._bg.observe(self._t, frame)
            if self._prev is None:
                self._hs.append(np.eye(3))
                self._rekey(grey, np.eye(3))
            else:
                self._step(self._prev, grey)
            self._prev = grey
            self._t += 1

    # Each frame is fitted to the current *key frame* (not to the previous frame), starting
    # from the motion predicted by the last pair, so errors do not add up frame after frame;
    # a new key frame is taken when the view has changed too much to track. When the key fit
    # fails it is retried from a standing camera, then from a phase-correlation shift, then the
    # previous frame is tried, before the pair is declared not valid.
    def _rekey(self, grey: np.ndarray, to0: np.ndarray) -> None:
        mask = self._bg.feature_mask(self._t) if self._bg.active else None
        self._key = _Key(grey, _detect(grey, self.params.max_points, mask), to0)
        self._seen = (self._key.points.astype(np.float64), np.ones(len(self._key.points), bool))

    def _step(self, prev: np.ndarray, grey: np.ndarray) -> None:
        h_prev = self._hs[-1]
        if float(cv2.absdiff(prev, grey).mean()) < _DUPLICATE_LEVEL:
            self._hs.append(h_prev)
            self._pairs.append(_Pair(0, 0, 0.0, True, True, (0.0, 0.0, 0.0, 1.0)))
            return
        key = self._key
        assert key is not None and self._seen is not None
        motion = np.linalg.inv(self._hs[-2]) @ h_prev if len(self._hs) > 1 else np.eye(3)  # last pair, t-1 -> t-2
        # predictions of frame t -> key: the camera keeps its velocity, or (a jolt) stands still
        guesses = [(np.linalg.inv(key.to0) @ h_prev @ motion, 2)]
        if not np.allclose(motion, np.eye(3), atol=1e-3):
            guesses.append((np.linalg.inv(key.to0) @ h_prev, 3))
        while guesses:
            guess_tk, levels = guesses.pop(0)
            fit, pos, ok = self._fit_to_key(key, grey, guess_tk, levels)
            if fit is None or not fit[1].ok:
                if not guesses and levels != 4:  # a jump too big for LK: start from phase correlation
                    (dx, dy), _resp = cv2.phaseCorrelate(prev.astype(np.float32), grey.astype(np.float32),
                                                         _hanning(grey.shape))
                    jump = np.array([[1.0, 0.0, -dx], [0.0, 1.0, -dy], [0.0, 0.0, 1.0]])  # frame t -> t-1
                    guesses.append((np.linalg.inv(key.to0) @ h_prev @ jump, 4))
                continue
            h_tk, pair, inl = fit
            kept = np.zeros(len(ok), bool)
            kept[np.flatnonzero(ok)[inl]] = True
            h_t = geo.normalize_homography(key.to0 @ h_tk)
            # the shake measure wants the pair's own motion, tracked from the previous frame as the
            # probe does (a fit to the key frame carries interpolation bias that changes frame to frame)
            step = np.linalg.inv(h_t) @ h_prev  # frame t-1 -> t, as just measured
            last = self._seen[0][self._seen[1]]
            last = last[:: max(1, len(last) // _MOTION_POINTS)]  # the probe's 200 points are plenty here
            nxt, got = geo.track_points(prev, grey, last, guess=geo.transform_points(step, last), levels=2)
            pair.similarity = _similarity(last[got], nxt[got], step, grey.shape)
            self._hs.append(h_t)
            self._pairs.append(pair)
            self._seen = (pos, kept)
            _dx, _dy, ang, sc = geo.similarity_motion(h_tk, grey.shape[1], grey.shape[0])
            if pair.inliers < 0.6 * len(key.points) or abs(math.log(sc)) > 0.2 or abs(ang) > math.radians(10):
                self._rekey(grey, h_t)
            return
        src, dst = self._track_fresh(prev, grey)
        fit = self._fit(dst, src)
        if fit is not None and fit[1].ok:
            h_t = geo.normalize_homography(h_prev @ fit[0])
            pair = fit[1]
            pair.similarity = _similarity(src[fit[2]], dst[fit[2]], np.linalg.inv(fit[0]), grey.shape)
        else:
            h_t = h_prev
            pair = fit[1] if fit is not None else _Pair(0, len(src), math.inf, False, False)
        self._hs.append(h_t)
        self._pairs.append(pair)
        self._rekey(grey, h_t)

    def _track_fresh(self, prev: np.ndarray, grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fresh corners of the previous frame tracked into this one: ``(src, dst)`` analysis px."""
        if not self._bg.active:
            return geo.track_features(prev, grey, max_points=self.params.max_points)
        pts = _detect(prev, self.params.max_points, self._bg.feature_mask(self._t - 1))
        nxt, ok = geo.track_points(prev, grey, pts)
        ok &= self._keep(nxt, ok)
        return pts[ok].astype(np.float64), nxt[ok]

    def _keep(self, pos: np.ndarray, ok: np.ndarray) -> np.ndarray:
        """``ok`` less the tracks that end on moving, sky or excluded pixels of this frame."""
        if not self._bg.active or not ok.any():
            return ok
        keep = ok.copy()
        keep[ok] = self._bg.keep(self._t, pos[ok])
        if keep.sum() < self.params.min_inliers:  # too little background left: trust MAGSAC alone
            return ok
        self._masked[self._t] = int(ok.sum() - keep.sum())
        return keep

    def _fit_to_key(self, key: _Key, grey: np.ndarray, guess_tk: np.ndarray, levels: int
                    ) -> tuple[tuple[np.ndarray, _Pair, np.ndarray] | None, np.ndarray, np.ndarray]:
        """Fit frame → key, starting from ``guess_tk``: ``(fit, positions in the frame, tracked)``."""
        # warp this frame onto the key frame with the prediction, then track only the residual:
        # LK stays accurate under zoom, rotation and perspective that would deform its window
        warped = cv2.warpPerspective(grey, guess_tk, (grey.shape[1], grey.shape[0]), flags=cv2.INTER_CUBIC,
                                     borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        pos, ok = geo.track_points(key.grey, warped, key.points, levels=levels)
        pos = geo.transform_points(np.linalg.inv(guess_tk), pos)  # warped -> this frame's pixels
        m = 10.0  # px margin: a track must stay clear of the border the warp invents
        ok &= ((pos[:, 0] > m) & (pos[:, 0] < grey.shape[1] - 1 - m)
               & (pos[:, 1] > m) & (pos[:, 1] < grey.shape[0] - 1 - m))
        ok = self._keep(pos, ok)
        return self._fit(pos[ok], key.points[ok].astype(np.float64), total=len(key.points)), pos, ok

    def _fit(self, pts: np.ndarray, ref: np.ndarray, total: int | None = None
             ) -> tuple[np.ndarray, _Pair, np.ndarray] | None:
        """Homography ``pts → ref`` (analysis px), its quality (inlier share of ``total`` tracks), inliers."""
        p = self.params
        fit = geo.fit_homography(pts, ref, threshold=p.ransac_threshold)
        if fit is None:
            return None
        h, mask = fit
        n_in = int(mask.sum())
        res = geo.transform_points(h, pts[mask]) - ref[mask] if n_in else np.full((1, 2), np.inf)
        rms = float(np.sqrt(np.mean(np.sum(res * res, axis=1))))
        ok = n_in >= p.min_inliers and n_in >= p.min_inlier_ratio * (total or len(pts)) and rms <= p.max_reproj_error
        return h, _Pair(n_in, len(pts), rms, False, ok), mask

    def finalize(self, ctx: AnalysisContext) -> Track:
        p = self.params
        n = len(self._hs)
        h_a, w_a = ctx.size
        full_h, full_w = _full_size(ctx)
        sx, sy = w_a / full_w, h_a / full_h
        px_full = 2.0 / (sx + sy)  # full-resolution px per analysis px
        k = geo.intrinsics(full_w, full_h, p.focal * full_w)
        diag_a = math.hypot(w_a, h_a)  # the velocity is a ratio: analysis px over the analysis diagonal
        m = max(n - 1, 0)
        pair_h = np.tile(np.eye(3), (m, 1, 1))
        inliers = np.zeros(m, np.int32)
        reproj = np.zeros(m, np.float32)
        rot_err = np.zeros(m, np.float32)
        velocity = np.zeros((m, 4), np.float32)
        valid = np.ones(n, bool)
        usable = np.zeros(m, bool)  # valid and not a repeated frame: counts for the shake measure
        rotation = np.zeros((n, 3))
        homography = np.tile(np.eye(3), (n, 1, 1))
        for t, h in enumerate(self._hs):
            homography[t] = geo.change_grid(h, 1.0 / sx, 1.0 / sy)
            r, _res = geo.rotation_from_homography(homography[t], k)
            rotation[t] = geo.euler_from_rotation(r)
        for i, pr in enumerate(self._pairs):
            inliers[i] = pr.inliers
            reproj[i] = pr.rms * px_full if math.isfinite(pr.rms) else np.inf
            valid[i + 1] = pr.ok
            if pr.ok and not pr.duplicate:
                pair_h[i] = geo.normalize_homography(np.linalg.inv(homography[i]) @ homography[i + 1])
                _r, rot_err[i] = geo.rotation_from_homography(pair_h[i], k)
                dx, dy, ang, sc = pr.similarity or geo.similarity_motion(np.linalg.inv(pair_h[i]), w_a, h_a)
                velocity[i] = 1000.0 * np.array([dx / diag_a, dy / diag_a, 0.5 * ang, 0.5 * (sc - 1.0)])
                usable[i] = True
        fps = float(ctx.fps) if ctx.fps else 25.0
        sigma = p.smooth_seconds * fps
        smoothed, jitter = _smooth_path(homography, valid, sigma, full_w, full_h)
        speed, jerk = _shake(velocity, usable)
        th = Thresholds()
        shaky = bool(speed is not None and jerk is not None and speed > th.min_shake_speed and jerk > th.max_jerk)
        dup = sum(pr.duplicate for pr in self._pairs)

        def med(a: np.ndarray) -> float | None:
            a = a[np.isfinite(a)]
            return round(float(np.median(a)), 4) if a.size else None

        real = usable  # pairs that were estimated (not repeats, not rejected)
        meta: dict[str, Any] = {
            "full_size": [full_h, full_w],
            "focal_px": round(p.focal * full_w, 3),
            "focal_note": "assumed (no EXIF in video): focal × frame width",
            "model": "pair homographies (MAGSAC++); rotation assumes a purely rotating camera, translation is not recovered",
            "speed": None if speed is None else round(speed, 4),
            "jerk": None if jerk is None else round(jerk, 4),
            "shaky": shaky,
            "min_shake_speed": th.min_shake_speed,
            "max_jerk": th.max_jerk,
            "units": {"speed": "‰ of the diagonal per frame", "jerk": "‰ of the diagonal per frame²",
                      "homography": "full-resolution px", "rotation": "rad", "jitter": "full-resolution px",
                      "reproj_error": "full-resolution px"},
            "n_pairs": m,
            "n_invalid": int(m - valid[1:].sum()),
            "n_duplicate": int(dup),
            "median_inliers": med(inliers[real].astype(np.float64)),
            "median_reproj_error": med(reproj[real].astype(np.float64)),
            "median_rotation_error": med(rot_err[real].astype(np.float64)),
            "smooth_sigma_frames": round(sigma, 3),
            "background": {"flow": self._bg.flow is not None, "sky": self._bg.sky_source(),
                           EXCLUDE_TRACK: self._bg.exclude is not None},
            "sky_estimates": self._bg.n_sky_estimates,
            "masked_points": int(sum(self._masked.values())),
            "mean_jitter": round(float(jitter.mean()), 4) if n else 0.0,
            "max_jitter": round(float(jitter.max()), 4) if n else 0.0,
        }
        arrays = {
            "homography": homography, "pair_homography": pair_h, "inliers": inliers, "reproj_error": reproj,
            "valid": valid, "rotation": rotation, "rotation_error": rot_err, "velocity": velocity,
            "smoothed_homography": smoothed, "jitter": jitter,
        }
        return Track(self.name, arrays, meta)


def _hanning(shape: tuple[int, ...]) -> np.ndarray:
    return cv2.createHanningWindow((shape[1], shape[0]), cv2.CV_32F)


def _similarity(src: np.ndarray, dst: np.ndarray, fallback: np.ndarray, shape: tuple[int, ...]
                ) -> tuple[float, float, float, float]:
    """Similarity motion ``src → dst`` of the frame centre, fitted to the pair's own matches as the
    probe does (:func:`reworld.ops.geometry.fit_similarity`), or that of the ``fallback`` homography
    (frame i → i+1) when fewer than 12 matches are left."""
    fit = geo.fit_similarity(src, dst) if len(src) >= 12 else None
    return geo.similarity_motion(fit[0] if fit is not None else fallback, shape[1], shape[0])


def _full_size(ctx: AnalysisContext) -> tuple[int, int]:
    """``(H, W)`` of the decoded (upright) frames: the probed size, or the analysis size / scale."""
    v = getattr(ctx.info, "video", None)
    if v is not None and v.width and v.height:
        return int(v.height), int(v.width)
    h, w = ctx.size
    return max(1, round(h / ctx.scale)), max(1, round(w / ctx.scale))


def _smooth_path(homography: np.ndarray, valid: np.ndarray, sigma: float, width: int, height: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian-smoothed corner paths → ``(smoothed_homography, jitter)`` (see module doc)."""
    from scipy.ndimage import gaussian_filter1d

    n = len(homography)
    corners = geo.frame_corners(width, height)
    path = np.array([geo.transform_points(h, corners).ravel() for h in homography]).reshape(n, 8)
    smooth = path.copy()
    starts = [0] + [t for t in range(1, n) if not valid[t]] + [n]
    if sigma > 0:
        pad = math.ceil(4 * sigma)
        for a, b in itertools.pairwise(starts):
            if b - a < 2:
                continue
            seg = np.pad(path[a:b], ((pad, pad), (0, 0)), mode="reflect", reflect_type="odd")
            smooth[a:b] = gaussian_filter1d(seg, sigma, axis=0, mode="nearest")[pad:pad + b - a]
    out = np.empty_like(homography)
    for t in range(n):
        out[t] = geo.homography_from_points(corners, smooth[t].reshape(4, 2))
    jitter = np.linalg.norm((path - smooth).reshape(n, 4, 2), axis=2).mean(axis=1).astype(np.float32)
    return out, jitter


def _shake(velocity: np.ndarray, usable: np.ndarray) -> tuple[float | None, float | None]:
    """Speed (median |v|) and jerk (median |v_{i+1} − v_i| over consecutive usable pairs)."""
    v = velocity.astype(np.float64)
    speed = float(np.median(np.linalg.norm(v[usable], axis=1))) if usable.any() else None
    both = usable[:-1] & usable[1:]
    jerk = float(np.median(np.linalg.norm(v[1:][both] - v[:-1][both], axis=1))) if both.any() else None
    return speed, jerk


def estimate_camera(frames: np.ndarray, *, fps: float = 25.0, params: Any = None,
                    long_side: int = 512, tracks: dict[str, Any] | None = None,
                    exclude_mask: np.ndarray | None = None) -> Track:
    """Run :class:`CameraAnalyzer` on frames in memory (what the runner does for a file).

    Args:
        frames: ``(T, H, W, 3)`` uint8 RGB at full resolution.
        fps: frame rate (sets the smoothing width in frames).
        params: :class:`CameraAnalyzer.Params` or a dict of them.
        long_side: analysis resolution (long side in px, never upscaled), as the runner's.
        tracks: optional ``flow`` / ``sky`` tracks of these frames at that analysis size (as
            ``analyze`` makes them); without them features are not masked.
        exclude_mask: optional ``(T, h, w)`` bool, pixels to keep features off (people...), at
            any size (resized to the analysis size): the :data:`EXCLUDE_TRACK` hook.

    Returns:
        The ``"camera"`` :class:`reworld.analysis.tracks.Track`, in pixels of ``frames``.
    """
    from fractions import Fraction
    from types import SimpleNamespace

    if not isinstance(frames, np.ndarray) or frames.ndim != 4 or frames.shape[3] != 3 or frames.dtype != np.uint8:
        raise InvalidInput("frames", getattr(frames, "shape", type(frames).__name__), "must be (T, H, W, 3) uint8 RGB")
    t, full_h, full_w, _ = frames.shape
    s = min(1.0, long_side / max(full_h, full_w))
    h, w = max(1, round(full_h * s)), max(1, round(full_w * s))
    analyzer = CameraAnalyzer(params)
    # no file was probed: a stand-in carrying the only fact the analyzer reads from it
    info = SimpleNamespace(video=SimpleNamespace(width=full_w, height=full_h))
    ctx = AnalysisContext(info=info, n_frames=t, size=(h, w), scale=s,  # type: ignore[arg-type]
                          fps=Fraction(fps).limit_denominator(1000), tracks=dict(tracks or {}))
    if exclude_mask is not None:
        m = np.asarray(exclude_mask)
        if m.ndim != 3 or len(m) != t:
            raise InvalidInput("exclude_mask", getattr(m, "shape", None), f"must be ({t}, h, w), one mask per frame")
        if m.shape[1:] != (h, w):
            m = np.stack([cv2.resize(x.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) for x in m])
        ctx.tracks[EXCLUDE_TRACK] = {"mask": m > 0}
    analyzer.setup(ctx)
    for start in range(0, t, 16):
        part = frames[start:start + 16]
        if (h, w) != (full_h, full_w):
            part = np.stack([cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA) for f in part])
        analyzer.process(FrameChunk(part, start, np.arange(start, start + len(part)) / fps), ctx)
    ctx.n_frames = t
    return analyzer.finalize(ctx)


def overlay(track: Track, frame: np.ndarray, index: int) -> np.ndarray:
    """Draw the camera track on one full-resolution frame (a new array; the input is not changed).

    Yellow: the outline of frame 0 seen from this frame. Red: the raw path of the frame centre
    over ±1 s (30 frames) around ``index``; green: the smoothed path. A label gives the jitter,
    or says the pair was not valid.

    Args:
        track: the ``"camera"`` track.
        frame: ``(H, W, 3)`` uint8 RGB.
        index: the frame's index in the clip.
    """
    out = np.ascontiguousarray(frame).copy()
    hom = track["homography"]
    if not 0 <= index < len(hom):
        return out
    full_h, full_w = track.meta.get("full_size", [frame.shape[0], frame.shape[1]])
    fh, fw = frame.shape[:2]
    to_frame = np.diag([fw / full_w, fh / full_h, 1.0])
    inv = np.linalg.inv(hom[index])
    outline = geo.transform_points(to_frame @ inv, geo.frame_corners(full_w, full_h))
    cv2.polylines(out, [np.round(outline).astype(np.int32).reshape(-1, 1, 2)], True, (255, 220, 0), 2, cv2.LINE_AA)
    centre = np.array([[(full_w - 1) / 2.0, (full_h - 1) / 2.0]])
    lo, hi = max(0, index - 30), min(len(hom), index + 31)
    for key, colour in (("homography", (255, 40, 40)), ("smoothed_homography", (40, 255, 40))):
        pts = np.array([geo.transform_points(to_frame @ inv @ track[key][t], centre)[0] for t in range(lo, hi)])
        if len(pts) > 1 and np.all(np.isfinite(pts)):
            cv2.polylines(out, [np.round(pts).astype(np.int32).reshape(-1, 1, 2)], False, colour, 2, cv2.LINE_AA)
    valid = bool(track["valid"][index])
    label = f"camera jitter {float(track['jitter'][index]):.1f}px" if valid else "camera: pair not valid"
    cv2.putText(out, label, (10, max(20, fh // 20)), cv2.FONT_HERSHEY_SIMPLEX, max(0.4, fh / 900), (255, 255, 255), 1,
                cv2.LINE_AA)
    return out
