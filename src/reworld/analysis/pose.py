"""Body pose of every person (analyzer ``pose``): MediaPipe Pose per person, tracked, smoothed.

MediaPipe's bundled pose model (BlazePose GHUM, ``model_complexity=1``, the only one that ships
inside the package) finds **one** person per image. To get several people, the analyzer runs it
on one square crop per person, cut from the **full-resolution** frame (``chunk.full``) and scaled
to ``crop_size`` pixels, so that small, far-away people get enough pixels. Per frame:

1. **whole frame**: one MediaPipe instance in video mode runs on the full-resolution frame (on
   the analysis-size frame above 1920 px); it finds the most salient person and follows them
   (the single-person case costs just this: ~35-45 ms). When it keeps finding nobody in a
   multi-person clip (people too small for its detector) it runs only every 5th frame;
2. **tracked people**: every live track whose predicted box (last box moved by its velocity,
   damped while the person is unseen) is not served by the whole-frame detection gets a crop
   (``crop_margin`` x its median body height, centred on the prediction; other people who do
   not overlap it painted grey) fed to the track's own video-mode instance, which follows the
   person from frame to frame without re-running MediaPipe's detector;
3. **new people**: ``candidates`` regions not explained by a detection or a predicted box are
   searched with a static-mode instance (detector + landmarks) on a crop sized by the region and
   by the height of the people seen so far, known people painted grey, at most ``max_searches``
   per frame; a region whose search found nobody is not searched again for ``retry`` frames; a
   new person must show a torso. Sources: ``"motion"`` (foreground of a MOG2 background model,
   ignored on frames where most of the picture moves: a moving camera) and ``"segmentation"``
   (MediaPipe selfie segmentation blobs). A new person is also looked for backwards in the last
   ``backfill`` frames (kept in a small buffer);
4. **duplicates** (two crops that found the same person: median landmark distance below 15 % of
   the body height) are merged, keeping the most visible one;
5. **identities**: detections are matched to tracks by the Hungarian algorithm
   (:func:`reworld.ops.pose.assign`) on ``1 - IoU(predicted box, box)`` + centre distance in body
   heights + the change of the body's layout (median landmark displacement about the mean, in
   body heights) + a hue-saturation histogram distance of the torso. Pairs farther apart than
   ``max_step`` body heights (plus a margin per frame the track has been lost), of heights
   differing by more than 1.4x, whose layout changed by more than 0.35 body heights (MediaPipe
   sometimes fits a small person upside down), or whose torso colours differ by more than 0.45
   (Hellinger distance, once the track has 3 detections: people standing together are told
   apart by their clothes) are never matched. Unmatched detections start tracks; a track unseen
   for ``max_lost`` frames ends.

In ``finalize`` tracks seen in fewer than ``min_track_frames`` frames are dropped (spurious
detections), gaps of at most ``max_gap`` frames with confident frames (mean visibility >= 0.5)
on both sides are interpolated and flagged in ``filled`` (never extrapolated), and image and
world landmarks are smoothed with a zero-lag One-Euro filter (forward and backward passes
combined, :func:`reworld.ops.pose.smooth_zero_lag`; speed in body heights per second so the
filter does not depend on the person's size in the picture). Visibility is not smoothed.

Track arrays (``T`` frames, ``P`` people, 33 landmarks in MediaPipe's order:
:data:`reworld.ops.pose.POSE_LANDMARKS`):

- ``image``: ``(T, P, 33, 3)`` float32: x, y in full-resolution pixels (pixel centres at integer
  coordinates), visibility in [0, 1]; smoothed; NaN where the person is neither present nor filled.
- ``world``: ``(T, P, 33, 3)`` float32 metres, MediaPipe's world landmarks (origin between the
  hips, axes like the image's: x right, y down, z away from the camera); smoothed; NaN like
  ``image``.
- ``raw``: ``(T, P, 33, 3)`` float32, ``image`` before smoothing and gap filling (MediaPipe's
  own output mapped to full-resolution pixels).
- ``present``: ``(T, P)`` bool, detected in that frame.
- ``filled``: ``(T, P)`` bool, not detected but interpolated (short gap, confident both sides).
- ``box``: ``(T, P, 4)`` float32 ``x0, y0, x1, y1`` full-resolution px, box of the 33 landmarks.
- ``score``: ``(T, P)`` float32 mean visibility of the 33 landmarks (NaN where absent).
- ``ids``: ``(P,)`` int32 stable person ids (0, 1, ... in order of first appearance); the
  person axis is empty (``P = 0``) when nobody was found.

Meta: ``message``, ``people`` (P), ``coverage`` (per person: share of frames present),
``frames_with_people`` (frames where at least one person is present), ``mean_visibility``,
``jitter_raw`` / ``jitter_smoothed`` (mean |second difference| of visible image landmarks in
body heights), ``jitter_ratio``, ``bone_cv_world`` (mean coefficient of variation of the rigid
bone lengths of the smoothed world skeleton, :data:`reworld.ops.pose.BODY_BONES`), ``searches``
(static crop searches run), ``crops`` (tracked crops run), ``tracks_dropped`` (tracks shorter
than ``min_track_frames``), ``ms_per_frame`` (time in ``process``), ``size`` (full-resolution
``[H, W]``), ``landmarks`` (names).

Example:
    >>> from reworld.analysis.base import REGISTRY
    >>> REGISTRY["pose"].Params().crop_size
    256
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
    BODY_BONES,
    POSE_BONES,
    POSE_LANDMARKS,
    assign,
    bone_cv,
    box_centre,
    box_iou,
    colour_histogram,
    crop_matrix,
    draw_skeleton,
    fill_gaps,
    hist_distance,
    jitter,
    person_colour,
    points_box,
    runs,
    smooth_zero_lag,
    to_frame_pixels,
)

__all__ = ["CANDIDATE_SOURCES", "PoseAnalyzer", "overlay"]

#: sources of regions searched for new people
CANDIDATE_SOURCES = ("motion", "segmentation")
#: landmarks of the torso (shoulders, hips): the region of the appearance histogram
_TORSO = (11, 12, 23, 24)
#: two detections are the same person when their median landmark distance is below this share
#: of the body height
_DUPLICATE = 0.15
#: weight of the appearance (histogram) distance in the matching cost
_APPEARANCE = 1.0
#: largest appearance distance (Hellinger, torso hue-saturation histograms) of a match; on the
#: pedestrians clip one person's torso between frames: median 0.21, p90 0.34; two people side by
#: side: 0.46 and more
_MAX_APPEARANCE = 0.45
#: a static search ran here and found nobody: skip overlapping regions for ``retry`` frames
_FAILED_IOU = 0.3
#: a frame whose motion mask covers more than this share is a moving camera: motion ignored
_MOVING_CAMERA = 0.3
#: largest change of body height between a track and a detection matched to it (log ratio)
_MAX_SIZE_CHANGE = 0.35
#: largest change of a person's pose layout between a track and a detection matched to it
#: (median landmark displacement about the mean, in body heights)
_MAX_SHAPE_CHANGE = 0.35
#: per-frame damping of a lost person's predicted velocity
_DAMPING = 0.7
#: the whole-frame pass runs on the full-resolution frame up to this long side (px)
_WHOLE_MAX_SIDE = 1920
#: long side (px) of the frame the background model runs on
_MOTION_SIDE = 320


#: grey painted where a crop leaves the frame or hides another person
_GREY = (114, 114, 114)


@dataclass
class _Detection:
    image: np.ndarray  # (33, 3) x, y full-res px, visibility
    world: np.ndarray  # (33, 3) metres
    box: np.ndarray  # (4,)
    score: float  # mean visibility
    source: str  # "frame", "crop", "search"
    owner: int = -1  # the track whose crop produced it
    hist: np.ndarray | None = None

    @property
    def height(self) -> float:
        return max(float(self.box[3] - self.box[1]), float(self.box[2] - self.box[0]) * 0.5, 4.0)


def _same(a: _Detection, b: _Detection) -> bool:
    """Two detections of the same person: median landmark distance below 15 % of the body."""
    dist = np.linalg.norm(a.image[:, :2] - b.image[:, :2], axis=1)
    return float(np.median(dist)) < _DUPLICATE * max(a.height, b.height)


def _shape_distance(a: np.ndarray | None, b: np.ndarray) -> float:
    """Median distance (px) between two poses' landmarks, each taken relative to its mean: how
    different the body's layout is, wherever it stands (0 for ``a`` None)."""
    if a is None:
        return 0.0
    pa, pb = np.asarray(a, np.float64)[:, :2], np.asarray(b, np.float64)[:, :2]
    return float(np.median(np.linalg.norm((pa - pa.mean(0)) - (pb - pb.mean(0)), axis=1)))


def _grow(box: np.ndarray) -> np.ndarray:
    """A person's box grown by a quarter of its height left and right and a tenth up and down:
    what moves with a person (a bicycle, a bag, loose clothes, a shadow) is explained by them."""
    h = float(box[3] - box[1])
    return np.asarray(box, np.float64) + np.array([-0.25 * h, -0.1 * h, 0.25 * h, 0.1 * h])


def _plausible(d: _Detection) -> bool:
    """A newly found person must show a torso: both shoulders or both hips visible."""
    v = d.image[:, 2]
    return bool((v[11] >= 0.5 and v[12] >= 0.5) or (v[23] >= 0.5 and v[24] >= 0.5))


def _paint_person(crop: np.ndarray, points: np.ndarray, to_crop: np.ndarray) -> None:
    """Paint a person (landmarks in full-res px) grey in ``crop``: the convex hull of the
    landmarks grown by 20 % around its centre and topped up to cover the head."""
    import cv2

    pts = np.asarray(points, np.float64)
    ok = np.isfinite(pts[:, :2]).all(1) & (pts[:, 2] >= 0.3)
    if ok.sum() < 3:
        return
    xy = np.c_[pts[ok, :2], np.ones(int(ok.sum()))] @ np.asarray(to_crop).T
    h = float(xy[:, 1].max() - xy[:, 1].min())
    top = xy[xy[:, 1].argmin()]
    xy = np.vstack([xy, top + [0.0, -0.08 * h]])  # the head reaches above the eyes
    c = xy.mean(0)
    xy = c + (xy - c) * 1.2
    hull = cv2.convexHull(np.round(xy).astype(np.int32))
    cv2.fillConvexPoly(crop, hull, _GREY)


class _Person:
    """One track while streaming: its detections and its motion model."""

    def __init__(self, tid: int, t: int, det: _Detection) -> None:
        self.tid = tid
        self.frames: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, float]] = {}
        self.velocity = np.zeros(2)  # box centre px per frame
        self.hist = det.hist
        self.lost = 0
        self.model: Any = None  # video-mode MediaPipe instance following this person in crops
        self.last_points: np.ndarray | None = None
        self.heights: list[float] = []
        self.last_t = t
        self.box = det.box.copy()
        self.add(t, det)

    def add(self, t: int, det: _Detection) -> None:
        if self.frames:
            dt = max(1, t - self.last_t)
            v = (box_centre(det.box) - box_centre(self.box)) / dt
            self.velocity = v if len(self.frames) == 1 else 0.5 * self.velocity + 0.5 * v
        if det.hist is not None:
            self.hist = det.hist if self.hist is None else 0.8 * self.hist + 0.2 * det.hist
        self.frames[t] = (det.image.astype(np.float32), det.world.astype(np.float32),
                          det.box.astype(np.float32), float(det.score))
        self.box = det.box.copy()
        self.heights = (self.heights + [det.height])[-9:]
        self.last_points = det.image
        self.last_t = t
        self.lost = 0

    def predict(self, t: int) -> np.ndarray:
        """The box expected at frame ``t``: the last box moved by the velocity, which is trusted
        less and less while the person is not seen (damped: at most ~3 frames' worth)."""
        n = t - self.last_t
        d = self.velocity * ((1 - _DAMPING ** n) / (1 - _DAMPING))
        return self.box + np.array([d[0], d[1], d[0], d[1]])

    @property
    def height(self) -> float:
        """Body height (px): the median of the last detections (robust to one odd box)."""
        return float(np.median(self.heights)) if self.heights else 4.0

    def add_before(self, t: int, det: _Detection) -> None:
        """A detection older than every one so far (backfill); the motion model is not touched."""
        self.frames[t] = (det.image.astype(np.float32), det.world.astype(np.float32),
                          det.box.astype(np.float32), float(det.score))


@register
class PoseAnalyzer(Analyzer):
    """33 body landmarks (image px + world metres) per person, tracked and smoothed (module doc)."""

    name = "pose"
    version = 1
    requires = ()
    full_frames = True  # crops small people from full-resolution frames

    @dataclass(frozen=True)
    class Params:
        """Parameters.

        Attributes:
            max_people: most people tracked at the same time (1 = the whole-frame pass only).
            candidates: where to look for new people besides the whole frame: any of
                ``"motion"``, ``"segmentation"`` (empty: whole frame and tracked people only).
            crop_size: side (px) crops are scaled to before MediaPipe (it works at 256).
            crop_margin: crop side as a multiple of the person's box (long side).
            min_detection_confidence: MediaPipe's person detection threshold, in [0, 1].
            min_tracking_confidence: MediaPipe's landmark tracking threshold, in [0, 1].
            max_searches: most static crop searches for new people per frame.
            retry: frames before a region where a search found nobody is searched again.
            max_step: largest move of a person between frames, in body heights, for matching.
            max_lost: frames a track survives without a detection.
            min_track_frames: tracks detected in fewer frames are dropped.
            max_gap: longest gap (frames) interpolated (0 = no filling).
            backfill: when a new person is found, look for them in up to this many earlier
                frames (kept in a small buffer of full-resolution frames); 0 = off.
            min_cutoff: One-Euro cut-off (Hz) when still: lower = smoother.
            beta: One-Euro speed coefficient (Hz per body height per second): higher = less lag.
            smooth: False keeps MediaPipe's raw landmarks in ``image``/``world``.
        """

        max_people: int = 8
        candidates: tuple[str, ...] = ("motion",)
        crop_size: int = 256
        crop_margin: float = 1.5
        min_detection_confidence: float = 0.5
        min_tracking_confidence: float = 0.3
        max_searches: int = 3
        retry: int = 5
        max_step: float = 0.35
        max_lost: int = 10
        min_track_frames: int = 5
        max_gap: int = 4
        backfill: int = 4
        min_cutoff: float = 0.6
        beta: float = 4.0
        smooth: bool = True

    def validate(self) -> None:
        p = self.params
        cands = p.candidates
        if isinstance(cands, str) or not isinstance(cands, (tuple, list)) or any(c not in CANDIDATE_SOURCES for c in cands):
            raise InvalidInput("pose.candidates", cands, f"must be a list of sources from {', '.join(CANDIDATE_SOURCES)}")
        object.__setattr__(p, "candidates", tuple(cands))  # lists from JSON/dicts
        ints = {"max_people": (1, 64), "crop_size": (64, 1024), "max_searches": (0, 64), "retry": (0, 10_000),
                "max_lost": (0, 10_000), "min_track_frames": (1, 10_000), "max_gap": (0, 10_000),
                "backfill": (0, 64)}
        for name, (lo, hi) in ints.items():
            v = getattr(p, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
                raise InvalidInput(f"pose.{name}", v, f"must be an integer in [{lo}, {hi}]")
        floats = {"crop_margin": (1.0, 4.0, False), "min_detection_confidence": (0.0, 1.0, False),
                  "min_tracking_confidence": (0.0, 1.0, False), "max_step": (0.0, 10.0, True),
                  "min_cutoff": (0.0, 100.0, True), "beta": (0.0, 1000.0, False)}
        for name, (lo, hi, open_lo) in floats.items():
            v = getattr(p, name)
            ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and \
                (lo < v if open_lo else lo <= v) and v <= hi
            if not ok:
                raise InvalidInput(f"pose.{name}", v, f"must be a number in {'(' if open_lo else '['}{lo}, {hi}]")
        if not isinstance(p.smooth, bool):
            raise InvalidInput("pose.smooth", p.smooth, "must be true or false")

    def params_dict(self) -> dict[str, Any]:
        d = super().params_dict()
        d["candidates"] = list(d["candidates"])
        return d

    # ------------------------------------------------------------------ models

    def _pose_model(self, static: bool) -> Any:
        from reworld.analysis._mediapipe import create

        p = self.params
        return create("pose", model_complexity=1, static_image_mode=static, smooth_landmarks=False,
                      enable_segmentation=False, min_detection_confidence=float(p.min_detection_confidence),
                      min_tracking_confidence=float(p.min_tracking_confidence))

    def _take_model(self) -> Any:
        if self._pool:
            return self._pool.pop()
        return self._pose_model(static=False)

    def _release(self, person: _Person) -> None:
        if person.model is not None:
            from reworld.analysis._mediapipe import quiet_stderr

            with quiet_stderr():
                person.model.reset()  # forget the person it followed
            self._pool.append(person.model)
            person.model = None

    def setup(self, ctx: AnalysisContext) -> None:
        import scipy.optimize  # noqa: F401 - imported here (~0.5 s once), not in the first frame's matching

        from reworld.analysis._mediapipe import create

        p = self.params
        self._n = 0
        self._full_size: tuple[int, int] | None = None
        self._scale = float(ctx.scale) if ctx.scale else 1.0
        self._whole = self._pose_model(static=False)
        self._search = self._pose_model(static=True) if p.max_people > 1 and p.max_searches > 0 else None
        self._segmenter = (create("selfie_segmentation", model_selection=1)
                           if "segmentation" in p.candidates and p.max_people > 1 else None)
        self._bg: Any = None
        self._pool: list[Any] = []
        self._live: list[_Person] = []
        self._done: list[_Person] = []
        self._next_id = 0
        self._failed: list[tuple[int, np.ndarray]] = []  # (frame, box) of searches that found nobody
        self._whole_misses = 0
        self._buffer: list[tuple[int, tuple[np.ndarray | None, np.ndarray, float]]] = []
        self._searches = 0
        self._crops = 0
        self._seconds = 0.0

    # ------------------------------------------------------------------ per frame

    def _run(self, model: Any, image: np.ndarray, to_full: np.ndarray, source: str, owner: int = -1
             ) -> _Detection | None:
        """MediaPipe on ``image``; ``to_full`` ``(2, 3)`` maps its pixel coordinates (centres at
        integers) to full-resolution pixels."""
        from reworld.analysis._mediapipe import quiet_stderr

        with quiet_stderr():  # C++ notices of the graph (e.g. on non-square frames)
            res = model.process(np.ascontiguousarray(image))
        if res.pose_landmarks is None:
            return None
        h, w = image.shape[:2]
        lm = np.array([(q.x, q.y, q.visibility) for q in res.pose_landmarks.landmark], np.float64)
        uv = np.stack([lm[:, 0] * w - 0.5, lm[:, 1] * h - 0.5, np.ones(len(lm))], 1)
        xy = uv @ to_full.T
        img = np.concatenate([xy, lm[:, 2:3]], 1)
        if res.pose_world_landmarks is not None:
            world = np.array([(q.x, q.y, q.z) for q in res.pose_world_landmarks.landmark], np.float64)
        else:  # pragma: no cover - MediaPipe gives both or neither
            world = np.full((33, 3), np.nan)
        box = points_box(img)
        return _Detection(img, world, box, float(lm[:, 2].mean()), source, owner)

    def _crop(self, frames: tuple[np.ndarray | None, np.ndarray, float], centre: np.ndarray, side: float,
              hide: list[np.ndarray] = ()) -> tuple[np.ndarray, np.ndarray]:
        """A ``crop_size`` square of ``side`` full-res px around ``centre`` and the ``(2, 3)`` map
        of its pixels to full-res px. Cut from the full frame, or from the analysis frame when
        that already has at least ``crop_size`` pixels across the square (same detail, less
        work). ``hide``: landmark sets (``(33, 3)`` full-res px) of other people, painted over
        with grey so MediaPipe does not pick them instead."""
        import cv2

        full, small, s = frames
        n = int(self.params.crop_size)
        if full is None or side * s >= n:
            src, k = small, s
        else:
            src, k = full, 1.0
        to_src = np.array([[k, 0.0, 0.5 * k - 0.5], [0.0, k, 0.5 * k - 0.5]])  # full px -> src px
        c = to_src @ np.array([centre[0], centre[1], 1.0])
        m = crop_matrix((float(c[0]), float(c[1])), side * k, n)
        crop = cv2.warpAffine(src, m, (n, n), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                              borderValue=_GREY)
        fwd = np.vstack([m, [0, 0, 1]]) @ np.vstack([to_src, [0, 0, 1]])  # full px -> crop px
        for pts in hide:
            _paint_person(crop, pts, fwd[:2])
        return crop, cv2.invertAffineTransform(fwd[:2])

    def _motion_mask(self, small: np.ndarray) -> tuple[np.ndarray | None, float]:
        """Foreground of the candidate sources on a grid of long side <= 320 px (bool), and the
        factor from full-res px to that grid; ``None`` when there is nothing to use."""
        import cv2

        p = self.params
        h, w = small.shape[:2]
        k = min(1.0, _MOTION_SIDE / max(h, w))
        mh, mw = max(1, round(h * k)), max(1, round(w * k))
        masks = []
        if "motion" in p.candidates:
            tiny = cv2.resize(small, (mw, mh), interpolation=cv2.INTER_AREA) if k < 1 else small
            if self._bg is None:
                self._bg = cv2.createBackgroundSubtractorMOG2(history=50, varThreshold=25, detectShadows=False)
                self._bg.apply(tiny)  # the first frame is the initial background
            else:
                m = self._bg.apply(tiny)
                m = cv2.morphologyEx(m, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
                if float((m > 0).mean()) < _MOVING_CAMERA:
                    masks.append(m > 0)
        if self._segmenter is not None:
            from reworld.analysis._mediapipe import quiet_stderr

            with quiet_stderr():
                seg = self._segmenter.process(np.ascontiguousarray(small)).segmentation_mask
            if seg is not None:
                masks.append(cv2.resize(seg, (mw, mh), interpolation=cv2.INTER_AREA) > 0.5)
        if not masks:
            return None, k * self._scale
        return np.logical_or.reduce(masks), k * self._scale

    def _regions(self, mask: np.ndarray, k: float, explained: list[np.ndarray], prior: float) -> list[np.ndarray]:
        """Boxes (full-res px) of the foreground not inside ``explained`` boxes, largest first;
        ``prior`` is the expected body height (full-res px): smaller specks are ignored."""
        import cv2

        m = mask.astype(np.uint8)
        mh, mw = m.shape
        for b in explained:
            x0, y0 = max(0, int(b[0] * k)), max(0, int(b[1] * k))
            x1, y1 = min(mw, math.ceil(b[2] * k) + 1), min(mh, math.ceil(b[3] * k) + 1)
            if x1 > x0 and y1 > y0:
                m[y0:y1, x0:x1] = 0
        m = cv2.dilate(m, np.ones((5, 3), np.uint8))
        n, _, stats, _ = cv2.connectedComponentsWithStats(m)
        ph = prior * k
        min_area = max(12.0, 0.1 * ph * ph * 0.3)
        out = []
        for i in range(1, n):
            x, y, bw, bh, area = stats[i]
            if area < min_area or bh < 0.3 * ph:
                continue
            out.append((area, np.array([x, y, x + bw, y + bh], np.float64) / k))
        out.sort(key=lambda a: -a[0])
        return [b for _, b in out]

    def process(self, chunk: FrameChunk, ctx: AnalysisContext) -> None:
        for i in range(len(chunk)):
            t0 = time.perf_counter()
            full = chunk.full[i] if chunk.full is not None else None
            self._frame(self._n, chunk.frames[i], full)
            self._seconds += time.perf_counter() - t0
            self._n += 1

    def _frame(self, t: int, small: np.ndarray, full: np.ndarray | None) -> None:
        p = self.params
        if full is not None:
            self._full_size = full.shape[:2]
            s = small.shape[1] / full.shape[1]
        else:
            s = self._scale
            self._full_size = (round(small.shape[0] / s), round(small.shape[1] / s))
        frames = (full, small, s)
        multi = p.max_people > 1
        if multi and p.backfill:
            self._buffer = self._buffer[-p.backfill:]
        # 1. the whole frame, at full resolution up to 1920 px (MediaPipe crops its region of
        #    interest from it, so a person it tracks gets full detail), else at analysis size;
        #    when it keeps finding nobody (people too small for its detector), every 5th frame
        whole_full = full is not None and max(full.shape[:2]) <= _WHOLE_MAX_SIDE
        # a person at least this tall (full px) has full detail in the whole-frame pass's source
        big = 0.0 if whole_full or s >= 0.999 else p.crop_size / (p.crop_margin * s)
        dets: list[_Detection] = []
        if not multi or self._whole_misses < 3 or t % 5 == 0:
            if whole_full:
                d = self._run(self._whole, full, np.array([[1.0, 0, 0], [0, 1.0, 0]]), "frame")
            else:
                to_full = np.array([[1 / s, 0, 0.5 / s - 0.5], [0, 1 / s, 0.5 / s - 0.5]])
                d = self._run(self._whole, small, to_full, "frame")
            self._whole_misses = 0 if d is not None else self._whole_misses + 1
            if d is not None:
                dets.append(d)
        # 2. tracked people not served by the whole-frame detection: their own crops
        predicted = {q.tid: q.predict(t) for q in self._live}
        if multi:
            for q in self._live:
                pb = predicted[q.tid]
                if dets and dets[0].height >= big and box_iou(pb[None], dets[0].box[None])[0, 0] > 0.3:
                    continue
                others = [o.last_points for o in self._live if o is not q and o.last_points is not None
                          and box_iou(pb[None], predicted[o.tid][None])[0, 0] < 0.05]
                side = p.crop_margin * max(q.height, pb[2] - pb[0], 8.0)
                crop, back = self._crop(frames, box_centre(pb), side, others)
                if q.model is None:
                    q.model = self._take_model()
                self._crops += 1
                d = self._run(q.model, crop, back, "crop", q.tid)
                if d is not None and _plausible(d):
                    dets.append(d)
        # 3. motion nobody explains: search it for new people (known people painted out)
        mask, k = self._motion_mask(small) if multi and p.candidates else (None, 1.0)
        if mask is not None and self._search is not None and len(self._live) < p.max_people:
            heights = [q.height for q in self._live] + [d.height for d in dets]
            prior = float(np.median(heights)) if heights else 0.15 * self._full_size[0]
            explained = [_grow(b) for b in [d.box for d in dets] + [predicted[q.tid] for q in self._live if q.lost <= 1]]
            self._failed = [(tf, b) for tf, b in self._failed if t - tf < p.retry]
            n_search = 0
            for region in self._regions(mask, k, explained, prior):
                if n_search >= p.max_searches:
                    break
                if self._failed and box_iou(region[None], np.array([b for _, b in self._failed])).max() > _FAILED_IOU:
                    continue
                rh, rw = region[3] - region[1], region[2] - region[0]
                side = p.crop_margin * 1.1 * max(rh, rw, prior)
                crop, back = self._crop(frames, box_centre(region), side, [d.image for d in dets])
                self._searches += 1
                n_search += 1
                d = self._run(self._search, crop, back, "search")
                if d is None or not _plausible(d):
                    self._failed.append((t, region))
                    continue
                dets.append(d)
        # 4. merge duplicates, 5. match to tracks
        dets = [d for d in dets if np.isfinite(d.box).all()]
        own = {d.owner: d for d in dets if d.owner >= 0}
        dets = self._dedupe(dets, big)
        src, ks = (full, 1.0) if full is not None else (small, s)
        for d in dets:
            d.hist = colour_histogram(src, points_box(d.image[list(_TORSO)]) * ks)
        new = self._match(t, dets, predicted, own)
        for q in new:
            self._backfill(q, t)
        if multi and p.backfill:  # copies: the reader reuses its chunk buffer
            self._buffer.append((t, (None if full is None else full.copy(), small.copy(), s)))

    def _dedupe(self, dets: list[_Detection], big: float) -> list[_Detection]:
        """Drop detections of a person already detected (most visible first; a crop beats the
        whole frame for people too small for it)."""
        def rank(d: _Detection) -> float:
            return d.score + (0.2 if d.source == "frame" and d.height >= big else 0.0) - \
                (0.2 if d.source == "frame" and d.height < big else 0.0)

        keep: list[_Detection] = []
        for d in sorted(dets, key=lambda d: -rank(d)):
            if not any(_same(d, k) for k in keep):
                keep.append(d)
        return keep

    def _match(self, t: int, dets: list[_Detection], predicted: dict[int, np.ndarray],
               own: dict[int, _Detection]) -> list[_Person]:
        """Hungarian matching of ``dets`` to the live tracks; ``own[tid]`` is the detection the
        track's crop model returned (before duplicates were merged). Returns the new tracks."""
        p = self.params
        live = self._live
        pairs: list[tuple[int, int]] = []
        if live and dets:
            pb = np.array([predicted[q.tid] for q in live])
            iou = box_iou(pb, np.array([d.box for d in dets]))
            cost = np.full((len(live), len(dets)), np.inf)
            for i, q in enumerate(live):
                h = q.height
                gate = p.max_step * (1 + 0.25 * q.lost)
                for j, d in enumerate(dets):
                    dist = float(np.linalg.norm(box_centre(pb[i]) - box_centre(d.box))) / h
                    if dist > gate or abs(math.log(d.height / h)) > _MAX_SIZE_CHANGE:
                        continue
                    shape = _shape_distance(q.last_points, d.image) / h
                    if shape > _MAX_SHAPE_CHANGE:
                        continue  # a different pose altogether (e.g. MediaPipe's upside-down fit)
                    app = hist_distance(q.hist, d.hist) if q.hist is not None and d.hist is not None else 0.5
                    if app > _MAX_APPEARANCE and len(q.frames) >= 3:
                        continue  # other clothes: another person (a split beats a swap)
                    cost[i, j] = (1 - iou[i, j]) + dist + shape + _APPEARANCE * app - (0.1 if d.owner == q.tid else 0.0)
            pairs = assign(cost)
        got = {i: dets[j] for i, j in pairs}
        for i, q in enumerate(live):
            mine = own.get(q.tid)
            if i in got:
                q.add(t, got[i])
            else:
                q.lost += 1
            if mine is not None and q.model is not None:
                a = got.get(i)
                if a is None or not _same(a, mine):  # its crop model follows someone else: it re-detects from scratch
                    self._release(q)
        matched = {j for _, j in pairs}
        new = []
        for j, d in enumerate(dets):
            if j not in matched and len(self._live) < p.max_people:
                new.append(_Person(self._next_id, t, d))
                self._live.append(new[-1])
                self._next_id += 1
        still = []
        for q in self._live:
            if q.lost > p.max_lost:
                self._release(q)
                self._done.append(q)
            else:
                still.append(q)
        self._live = still
        return new

    def _backfill(self, q: _Person, t: int) -> None:
        """Look for a person found at frame ``t`` in the buffered earlier frames, backwards,
        until a frame where they are not found (or found too far from where they were next)."""
        p = self.params
        if self._search is None:
            return
        box = q.box
        later = None
        for tb, frames in reversed(self._buffer):
            if tb >= t:
                continue
            others = [o.frames[tb][0] for o in self._live + self._done if o is not q and tb in o.frames]
            side = p.crop_margin * max(q.height, box[2] - box[0], 8.0)
            crop, back = self._crop(frames, box_centre(box), side, others)
            self._searches += 1
            d = self._run(self._search, crop, back, "search")
            if d is None or not _plausible(d):
                break
            dist = float(np.linalg.norm(box_centre(d.box) - box_centre(box))) / q.height
            if dist > p.max_step or abs(math.log(d.height / q.height)) > _MAX_SIZE_CHANGE:
                break
            q.add_before(tb, d)
            if later is None:
                later = box_centre(box) - box_centre(d.box)
                q.velocity = later / max(1, t - tb)
            box = d.box

    # ------------------------------------------------------------------ finalize

    def finalize(self, ctx: AnalysisContext) -> Track:
        p = self.params
        T = self._n
        for q in self._live:
            self._release(q)
        people = sorted((q for q in self._done + self._live if len(q.frames) >= p.min_track_frames),
                        key=lambda q: (min(q.frames), q.tid))
        self._live, self._done, self._pool = [], [], []
        P = len(people)
        arrs = allocate_arrays({"image": ((T, P, 33, 3), np.float32), "world": ((T, P, 33, 3), np.float32),
                                "raw": ((T, P, 33, 3), np.float32), "box": ((T, P, 4), np.float32),
                                "score": ((T, P), np.float32), "present": ((T, P), bool),
                                "filled": ((T, P), bool)}, ctx.scratch if T * P else None)
        for name in ("image", "world", "raw", "box", "score"):
            arrs[name][...] = np.nan
        fps = float(ctx.fps) if ctx.fps else 0.0
        dt = 1.0 / fps if fps > 0 else 1.0 / 25.0
        jit_raw, jit_s, cvs, vis = [], [], [], []
        for k, q in enumerate(people):
            img = np.full((T, 33, 3), np.nan, np.float32)
            world = np.full((T, 33, 3), np.nan, np.float32)
            box = np.full((T, 4), np.nan, np.float32)
            score = np.full(T, np.nan, np.float32)
            for t, (a, w, b, sc) in q.frames.items():
                if t < T:
                    img[t], world[t], box[t], score[t] = a, w, b, sc
            present = np.isfinite(score)
            arrs["raw"][:, k] = img
            confident = present & (score >= 0.5)
            both = np.concatenate([img.reshape(T, -1), world.reshape(T, -1), box], 1)
            both, filled = fill_gaps(both, present, max_gap=int(p.max_gap), confident=confident)
            img = both[:, :99].reshape(T, 33, 3)
            world = both[:, 99:198].reshape(T, 33, 3)
            box = both[:, 198:]
            height = np.maximum(box[:, 3] - box[:, 1], 4.0)
            if p.smooth:
                img[..., :2] = smooth_zero_lag(img[..., :2], dt, min_cutoff=p.min_cutoff, beta=p.beta, scale=height)
                world = smooth_zero_lag(world, dt, min_cutoff=p.min_cutoff, beta=p.beta,
                                        scale=np.where(np.isfinite(height), 1.7, np.nan))
                for a, b in runs(present | filled):  # boxes of the smoothed landmarks
                    for t in range(a, b):
                        box[t] = points_box(img[t])
            arrs["image"][:, k] = img
            arrs["world"][:, k] = world
            arrs["box"][:, k] = box
            arrs["score"][:, k] = np.where(present, score, np.nan)
            arrs["present"][:, k] = present
            arrs["filled"][:, k] = filled
            visible = (img[..., 2] >= 0.5) & present[:, None]
            jr = jitter(np.asarray(arrs["raw"][:, k, :, :2]), visible, height)
            js = jitter(img[..., :2], visible, height)
            n = int((visible[2:] & visible[1:-1] & visible[:-2]).sum())
            if math.isfinite(jr) and math.isfinite(js):
                jit_raw.append((jr, n))
                jit_s.append((js, n))
            c = bone_cv(world, BODY_BONES, (world[..., 0] == world[..., 0]) & (img[..., 2] >= 0.5))
            if math.isfinite(c):
                cvs.append(c)
            vis.append(float(np.nanmean(score)))
        present = np.asarray(arrs["present"])
        coverage = [round(float(present[:, k].mean()), 4) for k in range(P)] if T else []
        frames_with = int(present.any(axis=1).sum()) if P else 0
        # pooled over every visible landmark-frame of every person (short tracks weigh little)
        jr = sum(j * n for j, n in jit_raw) / max(1, sum(n for _, n in jit_raw)) if jit_raw else None
        js = sum(j * n for j, n in jit_s) / max(1, sum(n for _, n in jit_s)) if jit_s else None
        if P == 0:
            message = f"no people found in {T} frames"
        else:
            message = (f"{P} {'person' if P == 1 else 'people'} tracked; someone present in {frames_with} of {T} frames; "
                       f"coverage {', '.join(f'{c:.0%}' for c in coverage[:8])}{'...' if P > 8 else ''}")
        meta = {"message": message, "people": P, "coverage": coverage, "frames_with_people": frames_with,
                "mean_visibility": round(float(np.mean(vis)), 4) if vis else None,
                "jitter_raw": round(jr, 6) if jr is not None else None,
                "jitter_smoothed": round(js, 6) if js is not None else None,
                "jitter_ratio": round(js / jr, 4) if jr and js is not None and jr > 0 else None,
                "bone_cv_world": round(float(np.mean(cvs)), 4) if cvs else None,
                "tracks_dropped": self._next_id - P, "searches": self._searches, "crops": self._crops,
                "ms_per_frame": round(1000 * self._seconds / T, 2) if T else None,
                "size": list(self._full_size) if self._full_size else None,
                "landmarks": list(POSE_LANDMARKS)}
        arrays = {name: arrs[name] for name in ("image", "world", "raw", "box", "score", "present", "filled")}
        arrays["ids"] = np.arange(P, dtype=np.int32)
        return Track(self.name, arrays, meta)


# ---------------------------------------------------------------------- drawing

def overlay(track: Track, frame: np.ndarray, index: int) -> np.ndarray:
    """Skeletons of frame ``index`` with person ids (``reworld analyze --overlay``).

    Each person gets a colour; interpolated (``filled``) frames are drawn dashed. Landmarks are
    scaled when ``frame`` is not the full-resolution size recorded in ``meta["size"]``.

    Args:
        track: a ``pose`` track.
        frame: ``(H, W, 3)`` uint8 RGB frame ``index``.
        index: frame index in ``[0, T)``.

    Returns:
        ``(H, W, 3)`` uint8 RGB (a new array).
    """
    import cv2

    image = track["image"]
    check_overlay_args(frame, index, image.shape[0])
    out = frame.copy()
    H, W = frame.shape[:2]
    ids = track["ids"]
    present, filled = track["present"][index], track["filled"][index]
    thick = max(1, round(min(H, W) / 300))
    font = max(0.35, min(H, W) / 900)
    for k in range(image.shape[1]):
        if not (present[k] or filled[k]):
            continue
        pts = to_frame_pixels(image[index, k], track.meta.get("size"), (H, W))
        colour = person_colour(int(ids[k]))
        out = draw_skeleton(out, pts, POSE_BONES, colour, thickness=thick, dashed=bool(filled[k]))
        shown = np.isfinite(pts).all(1) & (pts[:, 2] >= 0.5)
        if shown.any():
            x = pts[0, 0] if shown[0] else float(np.mean(pts[shown, 0]))
            y0 = float(np.min(pts[shown, 1]))
            cv2.putText(out, str(int(ids[k])), (int(x) - 4, max(10, int(y0) - 4 * thick)), cv2.FONT_HERSHEY_SIMPLEX,
                        font, colour, max(1, thick), cv2.LINE_AA)
    if image.shape[1] == 0:
        cv2.putText(out, "no people", (10, max(20, H // 20)), cv2.FONT_HERSHEY_SIMPLEX, font, (255, 255, 255), 1,
                    cv2.LINE_AA)
    return out
