"""Hands (analyzer ``hands``): MediaPipe Hands (21 points) on crops around the pose wrists.

``requires = ("pose",)``. For every person of the ``pose`` track present (or filled) in a frame,
and for each side whose wrist is visible (``min_wrist_visibility``), a square crop is cut from the
**full-resolution** frame around where the hand should be (the pose's wrist, index and pinky
landmarks: centre at the knuckles (midpoint of the pose's index and pinky points), side
``crop_scale`` x the pose's hand length, at least half the forearm; :func:`hand_roi`) and scaled to
``crop_size`` px; each (person, side) slot has its own MediaPipe Hands instance in video mode,
so a hand found once is followed without re-running the palm detector. A hand is kept only
when its wrist lies within ``max_wrist_offset`` x the crop side of the pose wrist (otherwise it
is the other hand, or someone else's). When both slots of a person found the same hand (hands
together), the one whose pose wrist is nearer keeps it.

On frames where no person crop found a hand (the pose track has nobody, as in a close-up of a
hand, or its people show no hand), the whole analysis-size frame is searched
(``whole_frame="auto"``, up to two hands): a hand whose wrist lies at a pose wrist whose crop
missed it goes to that person's slot, the others to two unassigned slots (``person == -1``) by
MediaPipe's handedness. ``"absent"`` searches only
frames where the pose has nobody, ``"always"`` every frame, ``"never"`` none.

**Handedness**: MediaPipe's classifier assumes a mirrored (selfie) picture; reworld's frames
are not mirrored, so its label is swapped. In person slots the side comes from the pose (the
person's own left/right); ``handedness`` records how strongly MediaPipe's (swapped) label agrees.

In ``finalize``, gaps of at most ``max_gap`` frames with confident ends are interpolated (flagged
in ``filled``) and points are smoothed with the zero-lag One-Euro filter of the pose analyzer
(speed in hand lengths per second).

Track arrays (``T`` frames, ``H = 2 P + 2`` hand slots: slot ``2k`` is the **left** hand of pose
person ``k`` (``pose["ids"][k]``), ``2k + 1`` its **right** hand, the last two are unassigned
left/right hands found on the whole frame):

- ``landmarks``: ``(T, H, 21, 3)`` float32: x, y full-resolution px, z px (MediaPipe's relative
  depth, wrist = 0, negative = nearer the camera, times the crop side); smoothed; NaN where absent.
  Order: :data:`reworld.ops.pose.HAND_LANDMARKS`.
- ``world``: ``(T, H, 21, 3)`` float32 metres (MediaPipe's hand world landmarks, origin at the
  hand's centre); smoothed.
- ``raw``: ``(T, H, 21, 3)`` float32, ``landmarks`` before smoothing and filling.
- ``present``: ``(T, H)`` bool detected; ``filled``: ``(T, H)`` bool interpolated.
- ``score``: ``(T, H)`` float32 MediaPipe's handedness confidence of the detection (NaN absent).
- ``handedness``: ``(T, H)`` float32 in [0, 1]: MediaPipe's probability (label swapped for
  unmirrored frames) that the hand is the slot's side (NaN absent).
- ``box``: ``(T, H, 4)`` float32 ``x0, y0, x1, y1`` full-res px of the 21 points.
- ``person``: ``(H,)`` int32 pose person id of each slot (-1 = unassigned).
- ``side``: ``(H,)`` int8, 0 = left, 1 = right.

Meta: ``message``, ``hands`` (slots with at least one detection), ``coverage`` (per slot, share
of frames), ``frames_with_hands``, ``crops`` (crops run), ``wrist_frames`` (person-sides with a
visible pose wrist), ``too_small`` (of those, hands under ``min_hand_px`` not searched),
``found_rate`` (hands found at pose wrists / wrists searched), ``handedness_agreement`` (share of
person-slot detections whose MediaPipe label agrees with the pose side), ``mean_score``,
``jitter_raw`` / ``jitter_smoothed`` (hand lengths), ``ms_per_frame``.

Example:
    >>> from reworld.analysis.base import REGISTRY
    >>> REGISTRY["hands"].requires
    ('pose',)
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from reworld.analysis.base import (
    AnalysisContext,
    Analyzer,
    FrameChunk,
    allocate_arrays,
    check_overlay_args,
    register,
)
from reworld.analysis.tracks import Track
from reworld.errors import InvalidInput
from reworld.ops.pose import (
    HAND_BONES,
    HAND_LANDMARKS,
    crop_matrix,
    draw_skeleton,
    fill_gaps,
    jitter,
    person_colour,
    points_box,
    smooth_zero_lag,
    to_frame_pixels,
)

__all__ = ["HandsAnalyzer", "hand_roi", "overlay"]

WHOLE_FRAME = ("auto", "absent", "always", "never")
#: pose landmark indices per side (0 = left, 1 = right): elbow, wrist, pinky, index, thumb
_ARM = ((13, 15, 17, 19, 21), (14, 16, 18, 20, 22))
_GREY = (114, 114, 114)


def hand_roi(pose_points: np.ndarray, side: int, *, scale: float = 2.6, min_visibility: float = 0.3
             ) -> tuple[np.ndarray, float] | None:
    """Where to look for a hand from one person's 33 pose landmarks: ``(centre (2,), side px)``,
    or ``None`` when the wrist is not visible enough. ``side px / scale`` is the pose's estimate
    of the hand length (0 when the knuckles are missing).

    The pose's index and pinky landmarks sit near the knuckles; the hand reaches about as far
    again beyond them. Centre: the knuckles; side: ``scale`` x twice the wrist-knuckle distance
    (about a hand length), at least half the forearm.

    Args:
        pose_points: ``(33, 3)`` x, y, visibility.
        side: 0 = left, 1 = right (the person's).
        scale: crop side in hand lengths.
        min_visibility: least pose visibility of the wrist.

    Example:
        >>> p = np.zeros((33, 3)); p[:, 2] = 1
        >>> p[13, :2], p[15, :2], p[17, :2], p[19, :2] = (0, 0), (0, 50), (-5, 60), (5, 60)
        >>> c, s = hand_roi(p, 0)
        >>> c.tolist(), round(s, 1)
        ([0.0, 60.0], 52.0)
    """
    p = np.asarray(pose_points, np.float64)
    elbow, wrist, pinky, index, _thumb = (p[i] for i in _ARM[side])
    if not (np.isfinite(wrist).all() and wrist[2] >= min_visibility):
        return None
    knuckles = [q[:2] for q in (pinky, index) if np.isfinite(q).all()]
    if knuckles:
        mid = np.mean(knuckles, axis=0)
        v = mid - wrist[:2]
        hand = 2.0 * float(np.linalg.norm(v))
        centre = mid
    else:
        hand, centre = 0.0, wrist[:2].copy()
    forearm = float(np.linalg.norm(wrist[:2] - elbow[:2])) if np.isfinite(elbow).all() else 0.0
    side_px = max(scale * hand, 0.5 * forearm, 16.0)
    return centre.reshape(2), side_px


@register
class HandsAnalyzer(Analyzer):
    """21 hand landmarks per hand, assigned to pose people and sides (see module doc)."""

    name = "hands"
    version = 1
    requires = ("pose",)
    full_frames = True  # crops small people from full-resolution frames

    @dataclass(frozen=True)
    class Params:
        """Parameters.

        Attributes:
            model_complexity: 0 (lite) or 1 (full) MediaPipe hand landmark model (both ship).
            min_detection_confidence: palm detection threshold, in [0, 1].
            min_tracking_confidence: landmark tracking threshold, in [0, 1].
            min_wrist_visibility: least pose wrist visibility for a hand crop, in [0, 1].
            min_hand_px: hands shorter than this (full-res px, estimated from the pose: crop side
                / ``crop_scale``) are not searched: MediaPipe finds nothing in a few pixels.
            crop_size: side (px) hand crops are scaled to.
            crop_scale: crop side in hand lengths (from the pose).
            max_wrist_offset: a found hand's wrist must lie within this share of the crop side
                of the pose wrist.
            whole_frame: ``"auto"`` (search the whole frame when no person crop found a hand),
                ``"absent"`` (only when the pose has nobody), ``"always"`` or ``"never"``.
            max_gap: longest gap (frames) interpolated.
            min_cutoff: One-Euro cut-off (Hz) when still.
            beta: One-Euro speed coefficient (Hz per hand length per second).
            smooth: False keeps MediaPipe's raw points.
        """

        model_complexity: int = 1
        min_detection_confidence: float = 0.5
        min_tracking_confidence: float = 0.5
        min_wrist_visibility: float = 0.3
        min_hand_px: float = 12.0
        crop_size: int = 256
        crop_scale: float = 2.6
        max_wrist_offset: float = 0.3
        whole_frame: str = "auto"
        max_gap: int = 4
        min_cutoff: float = 0.8
        beta: float = 1.0
        smooth: bool = True

    def validate(self) -> None:
        p = self.params
        if p.model_complexity not in (0, 1) or isinstance(p.model_complexity, bool):
            raise InvalidInput("hands.model_complexity", p.model_complexity, "must be 0 (lite) or 1 (full)")
        if p.whole_frame not in WHOLE_FRAME:
            raise InvalidInput("hands.whole_frame", p.whole_frame, f"must be one of {', '.join(WHOLE_FRAME)}")
        for name, lo, hi in (("crop_size", 64, 1024), ("max_gap", 0, 10_000)):
            v = getattr(p, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
                raise InvalidInput(f"hands.{name}", v, f"must be an integer in [{lo}, {hi}]")
        for name, lo, hi, open_lo in (("min_detection_confidence", 0, 1, False), ("min_tracking_confidence", 0, 1, False),
                                      ("min_wrist_visibility", 0, 1, False), ("crop_scale", 0.5, 10, False),
                                      ("min_hand_px", 0, 10_000, False),
                                      ("max_wrist_offset", 0, 2, True), ("min_cutoff", 0, 100, True),
                                      ("beta", 0, 1000, False)):
            v = getattr(p, name)
            ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and \
                (lo < v if open_lo else lo <= v) and v <= hi
            if not ok:
                raise InvalidInput(f"hands.{name}", v, f"must be a number in {'(' if open_lo else '['}{lo}, {hi}]")
        if not isinstance(p.smooth, bool):
            raise InvalidInput("hands.smooth", p.smooth, "must be true or false")

    def _model(self, max_hands: int, static: bool = False) -> Any:
        from reworld.analysis._mediapipe import create

        p = self.params
        return create("hands", static_image_mode=static, max_num_hands=max_hands,
                      model_complexity=int(p.model_complexity),
                      min_detection_confidence=float(p.min_detection_confidence),
                      min_tracking_confidence=float(p.min_tracking_confidence))

    def setup(self, ctx: AnalysisContext) -> None:
        pose = ctx.tracks.get("pose")
        if pose is not None:
            self._pose = np.asarray(pose["image"])
            self._pose_on = np.asarray(pose["present"]) | np.asarray(pose["filled"])
            self._pose_ids = np.asarray(pose["ids"], np.int32)
        else:  # run by hand without a pose track: whole-frame search only
            self._pose = np.zeros((ctx.n_frames, 0, 33, 3), np.float32)
            self._pose_on = np.zeros((ctx.n_frames, 0), bool)
            self._pose_ids = np.zeros(0, np.int32)
        self._P = self._pose.shape[1]
        self._models: dict[int, Any] = {}
        self._whole: Any = None
        self._dets: dict[int, dict[int, tuple[np.ndarray, np.ndarray, float, float]]] = {}
        self._n = 0
        self._crops = 0
        self._wrist_frames = 0
        self._too_small = 0
        self._agree: list[bool] = []
        self._seconds = 0.0
        self._full_size: tuple[int, int] | None = None

    # ------------------------------------------------------------------ per frame

    def _run(self, model: Any, image: np.ndarray, back: np.ndarray, side_px: float
             ) -> list[tuple[np.ndarray, np.ndarray, str, float]]:
        """Hands in ``image``: ``[(points (21, 3) full px, world (21, 3) m, label, score)]`` with
        MediaPipe's label swapped (unmirrored frames) to the person's side ``"left"``/``"right"``."""
        from reworld.analysis._mediapipe import quiet_stderr

        with quiet_stderr():
            res = model.process(np.ascontiguousarray(image))
        if not res.multi_hand_landmarks:
            return []
        h, w = image.shape[:2]
        out = []
        worlds = res.multi_hand_world_landmarks or [None] * len(res.multi_hand_landmarks)
        for lms, wl, hd in zip(res.multi_hand_landmarks, worlds, res.multi_handedness, strict=False):
            a = np.array([(q.x, q.y, q.z) for q in lms.landmark], np.float64)
            uv = np.stack([a[:, 0] * w - 0.5, a[:, 1] * h - 0.5, np.ones(21)], 1)
            xy = uv @ back.T
            pts = np.concatenate([xy, (a[:, 2] * side_px)[:, None]], 1)
            world = (np.array([(q.x, q.y, q.z) for q in wl.landmark], np.float64) if wl is not None
                     else np.full((21, 3), np.nan))
            c = hd.classification[0]
            label = "right" if c.label.lower() == "left" else "left"  # MediaPipe assumes a mirror
            out.append((pts, world, label, float(c.score)))
        return out

    def _crop(self, full: np.ndarray, small: np.ndarray, s: float, centre: np.ndarray, side_px: float
              ) -> tuple[np.ndarray, np.ndarray]:
        import cv2

        n = int(self.params.crop_size)
        if full is None or side_px * s >= n:
            src, k = small, s
        else:
            src, k = full, 1.0
        to_src = np.array([[k, 0.0, 0.5 * k - 0.5], [0.0, k, 0.5 * k - 0.5]])
        c = to_src @ np.array([centre[0], centre[1], 1.0])
        m = crop_matrix((float(c[0]), float(c[1])), side_px * k, n)
        crop = cv2.warpAffine(src, m, (n, n), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                              borderValue=_GREY)
        fwd = np.vstack([m, [0, 0, 1]]) @ np.vstack([to_src, [0, 0, 1]])
        return crop, cv2.invertAffineTransform(fwd[:2])

    def process(self, chunk: FrameChunk, ctx: AnalysisContext) -> None:
        for i in range(len(chunk)):
            t0 = time.perf_counter()
            full = chunk.full[i] if chunk.full is not None else None
            self._frame(self._n, chunk.frames[i], full, ctx)
            self._seconds += time.perf_counter() - t0
            self._n += 1

    def _add(self, slot: int, t: int, pts: np.ndarray, world: np.ndarray, score: float, agree: float) -> None:
        self._dets.setdefault(slot, {})[t] = (pts.astype(np.float32), world.astype(np.float32), score, agree)

    def _frame(self, t: int, small: np.ndarray, full: np.ndarray | None, ctx: AnalysisContext) -> None:
        p = self.params
        if full is not None:
            s = small.shape[1] / full.shape[1]
            self._full_size = full.shape[:2]
        else:
            s = float(ctx.scale) if ctx.scale else 1.0
            self._full_size = (round(small.shape[0] / s), round(small.shape[1] / s))
        P = self._P
        anyone = t < len(self._pose_on) and bool(self._pose_on[t].any())
        found: dict[int, tuple[np.ndarray, np.ndarray, str, float, float]] = {}  # slot -> (.., dist)
        wrists: list[tuple[int, np.ndarray, float]] = []  # (slot, wrist px, crop side px)
        if anyone:
            for k in range(P):
                if not self._pose_on[t, k]:
                    continue
                pts = self._pose[t, k]
                for side in (0, 1):
                    roi = hand_roi(pts, side, scale=p.crop_scale, min_visibility=p.min_wrist_visibility)
                    if roi is None:
                        continue
                    self._wrist_frames += 1
                    centre, side_px = roi
                    if side_px / p.crop_scale < p.min_hand_px:
                        self._too_small += 1
                        continue
                    wrist = pts[_ARM[side][1], :2].astype(np.float64)
                    wrists.append((2 * k + side, wrist, side_px))
                    slot = 2 * k + side
                    if slot not in self._models:
                        self._models[slot] = self._model(1)
                    crop, back = self._crop(full, small, s, centre, side_px)
                    self._crops += 1
                    for hand, world, label, score in self._run(self._models[slot], crop, back, side_px):
                        dist = float(np.linalg.norm(hand[0, :2] - wrist)) / side_px
                        if dist <= p.max_wrist_offset:
                            agree = score if label == ("left", "right")[side] else 1.0 - score
                            found[slot] = (hand, world, label, score, dist, agree)
            # one hand claimed by both slots of a person: the nearer pose wrist keeps it
            for k in range(P):
                a, b = found.get(2 * k), found.get(2 * k + 1)
                if a is not None and b is not None:
                    size = max(float(np.ptp(a[0][:, 0])), float(np.ptp(a[0][:, 1])), 1.0)
                    if float(np.median(np.linalg.norm(a[0][:, :2] - b[0][:, :2], axis=1))) < 0.2 * size:
                        del found[2 * k + (1 if a[4] <= b[4] else 0)]
        search = {"always": True, "never": False, "absent": not anyone, "auto": not found}[p.whole_frame]
        if search:
            if self._whole is None:
                self._whole = self._model(2)
            to_full = np.array([[1 / s, 0, 0.5 / s - 0.5], [0, 1 / s, 0.5 / s - 0.5]])
            side_full = max(small.shape[:2]) / s
            for hand, world, label, score in self._run(self._whole, small, to_full, side_full):
                size = max(float(np.ptp(hand[:, 0])), float(np.ptp(hand[:, 1])), 1.0)
                if any(float(np.median(np.linalg.norm(hand[:, :2] - f[0][:, :2], axis=1))) < 0.2 * size
                       for f in found.values()):
                    continue  # a hand a crop already found
                # at a pose wrist whose crop missed it: that person's hand; else an unassigned one
                at = [(float(np.linalg.norm(hand[0, :2] - w)) / sp, slot) for slot, w, sp in wrists
                      if slot not in found and float(np.linalg.norm(hand[0, :2] - w)) <= p.max_wrist_offset * sp]
                if at:
                    dist, slot = min(at)
                    want = ("left", "right")[slot % 2]
                    found[slot] = (hand, world, label, score, dist, score if label == want else 1.0 - score)
                    continue
                slot = 2 * P + (0 if label == "left" else 1)
                if slot not in found or found[slot][3] < score:
                    found[slot] = (hand, world, label, score, 0.0, score)
        for slot, (hand, world, _label, score, _dist, agree) in found.items():
            self._add(slot, t, hand, world, score, agree)
            if slot < 2 * P:
                self._agree.append(agree >= 0.5)

    # ------------------------------------------------------------------ finalize

    def finalize(self, ctx: AnalysisContext) -> Track:
        p = self.params
        T = self._n
        P = self._P
        H = 2 * P + 2
        arrs = allocate_arrays({"landmarks": ((T, H, 21, 3), np.float32), "world": ((T, H, 21, 3), np.float32),
                                "raw": ((T, H, 21, 3), np.float32), "box": ((T, H, 4), np.float32),
                                "score": ((T, H), np.float32), "handedness": ((T, H), np.float32),
                                "present": ((T, H), bool), "filled": ((T, H), bool)}, ctx.scratch if T else None)
        for name in ("landmarks", "world", "raw", "box", "score", "handedness"):
            arrs[name][...] = np.nan
        fps = float(ctx.fps) if ctx.fps else 0.0
        dt = 1.0 / fps if fps > 0 else 1.0 / 25.0
        jr_all, js_all = [], []
        for slot, frames in self._dets.items():
            pts = np.full((T, 21, 3), np.nan, np.float32)
            world = np.full((T, 21, 3), np.nan, np.float32)
            score = np.full(T, np.nan, np.float32)
            agree = np.full(T, np.nan, np.float32)
            for t, (a, w, sc, ag) in frames.items():
                if t < T:
                    pts[t], world[t], score[t], agree[t] = a, w, sc, ag
            present = np.isfinite(score)
            arrs["raw"][:, slot] = pts
            both = np.concatenate([pts.reshape(T, -1), world.reshape(T, -1)], 1)
            both, filled = fill_gaps(both, present, max_gap=int(p.max_gap), confident=present & (score >= 0.5))
            pts, world = both[:, :63].reshape(T, 21, 3), both[:, 63:].reshape(T, 21, 3)
            size = np.array([_hand_length(pts[t]) for t in range(T)])
            if p.smooth:
                pts = smooth_zero_lag(pts, dt, min_cutoff=p.min_cutoff, beta=p.beta, scale=size)
                world = smooth_zero_lag(world, dt, min_cutoff=p.min_cutoff, beta=p.beta,
                                        scale=np.where(np.isfinite(size), 0.18, np.nan))
            arrs["landmarks"][:, slot] = pts
            arrs["world"][:, slot] = world
            arrs["present"][:, slot] = present
            arrs["filled"][:, slot] = filled
            arrs["score"][:, slot] = score
            arrs["handedness"][:, slot] = agree
            for t in range(T):
                if present[t] or filled[t]:
                    arrs["box"][t, slot] = points_box(pts[t])
            valid = np.repeat(present[:, None], 21, 1)
            jr, js = jitter(np.asarray(arrs["raw"][:, slot, :, :2]), valid, size), jitter(pts[..., :2], valid, size)
            n = int((present[2:] & present[1:-1] & present[:-2]).sum())
            if math.isfinite(jr) and math.isfinite(js):
                jr_all.append((jr, n))
                js_all.append((js, n))
        person = np.concatenate([np.repeat(self._pose_ids, 2), [-1, -1]]).astype(np.int32)
        side = np.tile(np.array([0, 1], np.int8), P + 1)
        present = np.asarray(arrs["present"])
        coverage = [round(float(present[:, h].mean()), 4) for h in range(H)] if T else [0.0] * H
        n_hands = int(present.any(axis=0).sum()) if T else 0
        frames_with = int(present.any(axis=1).sum()) if T else 0
        n_det = int(present[:, :2 * P].sum())  # hands found at pose wrists
        searched = self._wrist_frames - self._too_small
        scores = np.asarray(arrs["score"])[present]
        jr = sum(j * n for j, n in jr_all) / max(1, sum(n for _, n in jr_all)) if jr_all else None
        js = sum(j * n for j, n in js_all) / max(1, sum(n for _, n in js_all)) if js_all else None
        if n_hands == 0:
            why = ("no person in the pose track and none on the whole frame" if P == 0 else
                   f"{self._wrist_frames - self._too_small} visible pose wrists searched"
                   + (f", {self._too_small} hands under {p.min_hand_px:g} px not searched" if self._too_small else ""))
            message = f"no hands found in {T} frames ({why})"
        else:
            message = (f"{n_hands} hand{'s' if n_hands != 1 else ''} found; hands in {frames_with} of {T} frames"
                       + (f"; {n_det} of {searched} pose wrists searched had a hand" if searched else "")
                       + (f"; {int(present[:, 2 * P:].sum())} hands away from any pose wrist" if present[:, 2 * P:].any() else ""))
        meta = {"message": message, "hands": n_hands, "coverage": coverage, "frames_with_hands": frames_with,
                "crops": self._crops, "wrist_frames": self._wrist_frames, "too_small": self._too_small,
                "found_rate": round(n_det / searched, 4) if searched else None,
                "handedness_agreement": round(float(np.mean(self._agree)), 4) if self._agree else None,
                "mean_score": round(float(scores.mean()), 4) if scores.size else None,
                "jitter_raw": round(jr, 6) if jr is not None else None,
                "jitter_smoothed": round(js, 6) if js is not None else None,
                "ms_per_frame": round(1000 * self._seconds / T, 2) if T else None,
                "size": list(self._full_size) if self._full_size else None,
                "landmarks": list(HAND_LANDMARKS)}
        self._models, self._whole, self._dets = {}, None, {}
        arrays = {k: arrs[k] for k in ("landmarks", "world", "raw", "box", "score", "handedness", "present", "filled")}
        arrays["person"] = person
        arrays["side"] = side
        return Track(self.name, arrays, meta)


def _hand_length(pts: np.ndarray) -> float:
    """Wrist to middle-finger knuckle and on to its tip (px); NaN when missing."""
    if not np.isfinite(pts[:, :2]).all():
        return float("nan")
    return float(np.linalg.norm(pts[9, :2] - pts[0, :2]) + np.linalg.norm(pts[12, :2] - pts[9, :2])) or float("nan")


def overlay(track: Track, frame: np.ndarray, index: int) -> np.ndarray:
    """Hand skeletons of frame ``index``, coloured like their pose person, labelled L/R.

    Args:
        track: a ``hands`` track.
        frame: ``(H, W, 3)`` uint8 RGB frame ``index``.
        index: frame index in ``[0, T)``.

    Returns:
        ``(H, W, 3)`` uint8 RGB (a new array).
    """
    import cv2

    lm = track["landmarks"]
    check_overlay_args(frame, index, lm.shape[0])
    out = frame.copy()
    Hh, Ww = frame.shape[:2]
    thick = max(1, round(min(Hh, Ww) / 500))
    for h in range(lm.shape[1]):
        if not (track["present"][index, h] or track["filled"][index, h]):
            continue
        pts = to_frame_pixels(lm[index, h], track.meta.get("size"), (Hh, Ww))
        pts[:, 2] = 1.0  # every hand point is drawn (z is depth here, not visibility)
        pid = int(track["person"][h])
        colour = person_colour(pid)
        out = draw_skeleton(out, pts, HAND_BONES, colour, thickness=thick, dashed=bool(track["filled"][index, h]))
        label = "LR"[int(track["side"][h])]
        cv2.putText(out, label, (int(pts[0, 0]) + 3, int(pts[0, 1]) + 3), cv2.FONT_HERSHEY_SIMPLEX,
                    max(0.3, min(Hh, Ww) / 1200), colour, 1, cv2.LINE_AA)
    return out
