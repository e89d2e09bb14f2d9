"""Face analyzer: 478-point face meshes of every face, tracked with stable ids; head pose;
expression curves named as ARKit blendshapes.

Method (per frame, streamed):

1. **Find faces** with MediaPipe's full-range face detector on the full-resolution frame: every
   frame while no face is tracked, then every ``detect_every`` frames (to pick up faces that
   enter) while fewer than ``max_faces`` are tracked. A detection that overlaps a tracked face
   is that face; one near where a face was lost less than ``reacquire_s`` ago takes that face's
   id back; any other starts a new id.
2. **Mesh each face in its own crop**: a square around the face (the detection box x 2, or the
   previous frame's landmark box x 1.6) is cut from ``chunk.full`` and resized to
   ``crop_size`` px (small faces are upscaled: the webcam clip's 40 px faces become ~160 px),
   then MediaPipe's face mesh (``refine_landmarks=True``: 478 points with lips and irises, one
   model instance per tracked face, in tracking mode) runs on it and the points are mapped back
   to full-resolution pixels. A face whose mesh is not found is lost (its id is kept for
   ``reacquire_s``); two tracks that end up on one face are merged (the younger is dropped).

In ``finalize``:

3. **Smoothing** (:func:`reworld.ops.face.smooth_face`, here block by block): each mesh is split
   into a head pose and a shape in the face frame, and both are filtered by a zero-lag One-Euro
   filter (forward and backward passes averaged, so no lag; cut-off ``min_cutoff`` Hz at rest,
   rising by ``beta`` Hz per face size per second of speed). The shape's speed is that of the
   expression alone, so a moving head does not switch its smoothing off, while a blink or a
   jaw drop, being fast, passes through. Runs of frames between losses are filtered separately.
4. **Head pose**: a similarity fit of the canonical face's rigid landmarks to the mesh in 3-D
   (:func:`reworld.ops.face.head_pose`), translation from a pinhole camera of ``fov_deg``.
5. **Expression curves**: the mesh is moved into the face frame (pose removed, so turning the
   head does not read as expression), the raw measures of :data:`reworld.ops.face.MEASURES`
   are taken (distances in face-frame cm and ratios) and each face's curves are normalised to
   [0, 1] over the clip from the performer's own neutral (a low or middle percentile) and
   extreme (the ``high_percentile``, at least a minimum span): see ``docs/analysis-face.md``.

Arrays (``T`` frames, ``F`` faces found in the clip; ``F = 0`` when there is none):

- ``landmarks``: ``(T, F, 478, 3)`` float32, x, y full-resolution px, z in px (MediaPipe z x
  crop width, smaller = nearer); smoothed; NaN where the face is not present.
- ``present``: ``(T, F)`` bool, the face was meshed in this frame.
- ``box``: ``(T, F, 4)`` float32 ``x0, y0, x1, y1`` full-res px around the landmarks.
- ``rotation``: ``(T, F, 3, 3)`` float32 head rotation, face frame -> camera (OpenCV axes).
- ``translation``: ``(T, F, 3)`` float32 cm, face-frame origin in the camera frame (assumes
  ``fov_deg`` and an adult's eye distance: absolute depth is approximate).
- ``euler``: ``(T, F, 3)`` float32 degrees (pitch + nose up, yaw + nose to the image's right,
  roll + counter-clockwise on screen).
- ``scale``: ``(T, F)`` float32 px per face-frame cm; ``origin``: ``(T, F, 3)`` float32 image
  position of the face-frame origin (px).
- ``residual``: ``(T, F)`` float32 cm, RMS misfit of the rigid landmarks (pose quality).
- ``blendshapes``: ``(T, F, K)`` float32 in [0, 1], names in ``meta["blendshapes"]`` (ARKit).
- ``expression_raw``: ``(T, F, M)`` float32 raw measures (cm or ratios, names and units in
  ``meta["measures"]``), before normalisation.
- ``ids``: ``(F,)`` int32 stable face ids (0, 1, ... in order of first appearance).

Meta: ``message``, ``faces``, ``coverage`` (share of frames with at least one face),
``frames_with_face``, ``blinks`` (``{id: [peak frames]}``), ``neutral``/``extreme`` (``{id:
[per measure]}``), ``mean_residual_cm``, ``jitter_px_raw``/``jitter_px`` (landmark noise
relative to the head before/after smoothing: median over frames of the RMS second temporal
difference of the face-frame shape, in px), ``mesh_ms_per_frame`` (face detection + crop + mesh,
wall time per frame), ``detector_calls``, ``frame_size``, ``fov_deg``, ``blendshapes``,
``measures``.

Example:
    >>> from reworld.analysis.base import REGISTRY
    >>> REGISTRY["face"].Params().max_faces, len(REGISTRY["face"].Params().__dataclass_fields__) > 5
    (4, True)
"""

from __future__ import annotations

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
from reworld.ops import face as fops

__all__ = ["FaceAnalyzer", "crop_square", "overlay"]

#: crop side relative to the detection box (detections cover brows to chin) / to the landmark box
DETECTION_CROP, LANDMARK_CROP = 2.0, 1.6
#: frames are shrunk to this long side (px) for the face detector (its input is 192 x 192)
DETECT_LONG_SIDE = 640
#: two tracks whose landmark boxes overlap more than this are one face
DUPLICATE_IOU = 0.5
#: a new face's first mesh calls run with C++ logging silenced (MediaPipe's landmark projection
#: prints a notice on the first face it sees)
_QUIET_CALLS = 4
#: frames per smoothing block (bounded RAM in finalize)
_BLOCK = 256
#: blendshape bars drawn by :func:`overlay`
OVERLAY_BARS = ("jawOpen", "eyeBlinkLeft", "eyeBlinkRight", "mouthSmileLeft", "mouthSmileRight", "browInnerUp")


def crop_square(frame: np.ndarray, centre: tuple[float, float], side: float, size: int) -> tuple[np.ndarray, tuple[float, float]]:
    """Cut a ``side`` x ``side`` px square centred at ``centre`` out of ``frame`` (black outside
    it) and resize it to ``size`` x ``size`` (one ``warpAffine``).

    Coordinates are OpenCV's: a pixel's centre has integer coordinates.

    Returns:
        ``(crop, (x0, y0))``: the ``(size, size, 3)`` uint8 crop and the frame position of its
        top-left edge; a point at normalised crop position ``(a, b)`` (0 = left/top edge, 1 =
        right/bottom edge, MediaPipe's convention) is frame point ``(x0 + a * side, y0 + b * side)``.
    """
    import cv2

    k = size / side
    x0, y0 = centre[0] - side / 2.0, centre[1] - side / 2.0
    # crop pixel u covers frame [x0 + u / k, x0 + (u + 1) / k]: u = k (x - x0) - 0.5
    m = np.float32([[k, 0, -x0 * k - 0.5], [0, k, -y0 * k - 0.5]])
    crop = cv2.warpAffine(frame, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    return crop, (x0, y0)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def _centre_size(box: np.ndarray) -> tuple[np.ndarray, float]:
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2]), float(max(box[2] - box[0], box[3] - box[1]))


@dataclass
class _Live:
    """A face being tracked: its id, output slot, mesh model and where it was last seen."""

    id: int
    slot: int
    model: Any
    box: np.ndarray  # last landmark box (or the detection box of a new face), px of the frames meshed
    from_detection: bool
    born: int
    calls: int = 0


@dataclass
class _Lost:
    id: int
    box: np.ndarray
    frame: int


@register
class FaceAnalyzer(Analyzer):
    """Face meshes, head pose and expression curves of every face (see module doc)."""

    name = "face"
    version = 1
    full_frames = True  # crops small faces from full-resolution frames

    @dataclass(frozen=True)
    class Params:
        """Parameters.

        Attributes:
            max_faces: most faces tracked at once.
            crop_size: side in px of the square face crop the mesh runs on (upscaled or downscaled).
            detect_every: frames between searches for new faces while faces are tracked (every
                frame while none is).
            min_detection_confidence: face detector threshold.
            min_tracking_confidence: face-mesh presence threshold (below it the face is lost).
            reacquire_s: a face found again within this many seconds near where it was lost
                keeps its id.
            min_cutoff: smoothing cut-off at rest, Hz (One-Euro).
            beta: extra cut-off per face-size per second of landmark speed, Hz.
            fov_deg: assumed horizontal field of view of the camera (translation only).
            high_percentile: percentile of each raw measure taken as the performer's extreme.
        """

        max_faces: int = 4
        crop_size: int = 256
        detect_every: int = 10
        min_detection_confidence: float = 0.5
        min_tracking_confidence: float = 0.5
        reacquire_s: float = 1.0
        min_cutoff: float = 1.5
        beta: float = 20.0
        fov_deg: float = 60.0
        high_percentile: float = 98.0

    def validate(self) -> None:
        p = self.params
        ints = {"max_faces": (1, 16), "crop_size": (64, 1024), "detect_every": (1, 10_000)}
        for k, (lo, hi) in ints.items():
            v = getattr(p, k)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
                raise InvalidInput(f"face.{k}", v, f"must be an integer in [{lo}, {hi}]")
        for k in ("min_detection_confidence", "min_tracking_confidence"):
            v = getattr(p, k)
            if not isinstance(v, (int, float)) or not 0.0 < v < 1.0:
                raise InvalidInput(f"face.{k}", v, "must be in (0, 1)")
        for k, lo, hi in (("reacquire_s", 0.0, 3600.0), ("min_cutoff", 1e-3, 100.0), ("beta", 0.0, 1e4),
                          ("fov_deg", 1.0, 179.0), ("high_percentile", 50.5, 100.0)):
            v = getattr(p, k)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
                raise InvalidInput(f"face.{k}", v, f"must be a number in [{lo}, {hi}]")

    # -- streaming ---------------------------------------------------------------------------------
    def setup(self, ctx: AnalysisContext) -> None:
        from reworld.analysis._mediapipe import create

        p = self.params
        self._detector = create("face_detection", model_selection=1,
                                min_detection_confidence=float(p.min_detection_confidence))
        self._scratch = ctx.scratch
        self._n = 0
        self._cap = max(1, int(ctx.n_frames))
        S = int(p.max_faces)
        self._raw = allocate_arrays(self._shapes(self._cap), ctx.scratch)
        self._raw["slot_id"][:] = -1
        self._live: list[_Live] = []
        self._lost: list[_Lost] = []
        self._next_id = 0
        self._since_detect = 10**9
        self._force_detect = True
        self._detector_calls = 0
        self._mesh_seconds = 0.0
        self._times: list[float] = []
        self._frame_size: tuple[int, int] | None = None
        self._slots_used = [False] * S

    def _shapes(self, n: int) -> dict[str, tuple[tuple[int, ...], Any]]:
        S = int(self.params.max_faces)
        return {"lm": ((n, S, fops.N_LANDMARKS, 3), np.float32), "slot_id": ((n, S), np.int32)}

    def _grow(self, need: int) -> None:
        if need <= self._cap:
            return
        cap = max(need, 2 * self._cap)
        old = self._raw
        self._raw = allocate_arrays(self._shapes(cap), self._scratch, old, keep=self._n)
        self._raw["slot_id"][self._n:] = -1
        self._cap = cap

    def _new_model(self) -> Any:
        from reworld.analysis._mediapipe import create

        p = self.params
        return create("face_mesh", static_image_mode=False, max_num_faces=1, refine_landmarks=True,
                      min_detection_confidence=float(p.min_detection_confidence),
                      min_tracking_confidence=float(p.min_tracking_confidence))

    def _release(self, live: _Live, t: int, lost: bool) -> None:
        self._slots_used[live.slot] = False
        live.model.close()  # a model keeps tracking state: the next face starts on a fresh one
        if lost:
            self._lost.append(_Lost(live.id, live.box, t))

    def _detect(self, frame: np.ndarray) -> list[np.ndarray]:
        H, W = frame.shape[:2]
        self._detector_calls += 1
        k = DETECT_LONG_SIDE / max(H, W)
        if k < 1.0:  # the detector sees 192 x 192 anyway: a smaller copy is cheaper to hand over
            import cv2

            frame = cv2.resize(frame, (max(1, round(W * k)), max(1, round(H * k))), interpolation=cv2.INTER_AREA)
        res = self._detector.process(np.ascontiguousarray(frame))
        boxes = []
        for d in res.detections or []:
            bb = d.location_data.relative_bounding_box
            boxes.append(np.array([bb.xmin * W, bb.ymin * H, (bb.xmin + bb.width) * W, (bb.ymin + bb.height) * H]))
        return boxes

    def _mesh(self, live: _Live, frame: np.ndarray) -> np.ndarray | None:
        c, size = _centre_size(live.box)
        side = max(8.0, size * (DETECTION_CROP if live.from_detection else LANDMARK_CROP))
        n = int(self.params.crop_size)
        crop, (x0, y0) = crop_square(frame, (float(c[0]), float(c[1])), side, n)
        if live.calls < _QUIET_CALLS:  # the graph logs a start-up notice on its first face
            from reworld.analysis._mediapipe import quiet_stderr

            with quiet_stderr():
                res = live.model.process(crop)
        else:
            res = live.model.process(crop)
        live.calls += 1
        if not res.multi_face_landmarks:
            return None
        lm = res.multi_face_landmarks[0].landmark
        pts = np.array([(q.x, q.y, q.z) for q in lm], np.float64)
        if pts.shape[0] != fops.N_LANDMARKS:  # pragma: no cover - refine_landmarks is always on
            return None
        # normalised crop coordinates -> frame px (z: MediaPipe's z times the crop width)
        return np.stack([x0 + pts[:, 0] * side, y0 + pts[:, 1] * side, pts[:, 2] * side], -1)

    def process(self, chunk: FrameChunk, ctx: AnalysisContext) -> None:
        p = self.params
        # full-resolution frames when the runner gives them; otherwise the analysis-size ones,
        # with points scaled up to full-resolution pixels when stored
        frames = chunk.full if chunk.full is not None else chunk.frames
        to_full = 1.0 if chunk.full is not None else 1.0 / float(ctx.scale)
        fps = float(ctx.fps) if ctx.fps else 25.0
        self._grow(self._n + len(chunk))
        for i in range(len(chunk)):
            t = self._n
            frame = frames[i]
            self._frame_size = (round(frame.shape[0] * to_full), round(frame.shape[1] * to_full))
            self._times.append(float(chunk.times[i]) if chunk.times is not None and len(chunk.times) > i else t / fps)
            t0 = time.perf_counter()
            self._lost = [q for q in self._lost if (t - q.frame) <= p.reacquire_s * fps]
            if len(self._live) < p.max_faces and (self._force_detect or not self._live
                                                   or self._since_detect >= p.detect_every):
                self._admit(self._detect(frame), t)
                self._since_detect = 0
                self._force_detect = False
            else:
                self._since_detect += 1
            done: list[tuple[_Live, np.ndarray]] = []
            for live in list(self._live):
                pts = self._mesh(live, frame)
                if pts is not None and live.from_detection:
                    # settle a new track: mesh this frame again on the landmark-based crop (twice:
                    # the model's tracking state then refers to that crop), so its first frame
                    # matches the tracked frames after it instead of the detector's framing
                    for _ in range(2):
                        live.box, live.from_detection = fops.box_from_landmarks(pts), False
                        again = self._mesh(live, frame)
                        if again is None:
                            break
                        pts = again
                if pts is None or not np.isfinite(pts).all():
                    self._live.remove(live)
                    self._release(live, t, lost=not live.from_detection)
                    self._force_detect = True
                    continue
                live.box = fops.box_from_landmarks(pts)
                live.from_detection = False
                done.append((live, pts))
            # two tracks on one face: keep the older
            done.sort(key=lambda d: d[0].born)
            kept: list[tuple[_Live, np.ndarray]] = []
            for live, pts in done:
                if any(_iou(live.box, k.box) > DUPLICATE_IOU for k, _ in kept):
                    self._live.remove(live)
                    self._release(live, t, lost=False)
                    continue
                kept.append((live, pts))
            for live, pts in kept:
                self._raw["lm"][t, live.slot] = pts * to_full if to_full != 1.0 else pts
                self._raw["slot_id"][t, live.slot] = live.id
            self._mesh_seconds += time.perf_counter() - t0
            self._n += 1

    def _admit(self, boxes: list[np.ndarray], t: int) -> None:
        """Start tracks for detections that are not faces already tracked."""
        for box in boxes:
            if len(self._live) >= self.params.max_faces:
                return
            c, size = _centre_size(box)
            if any(_iou(box, lv.box) > 0.1 or np.all(np.abs(c - _centre_size(lv.box)[0]) < _centre_size(lv.box)[1] / 2)
                   for lv in self._live):
                continue
            fid = None
            best = None
            for q in self._lost:  # the same face coming back: nearest lost face within a face size
                qc, qs = _centre_size(q.box)
                d = float(np.linalg.norm(qc - c))
                if d < 0.75 * max(qs, size) and (best is None or d < best[0]):
                    best = (d, q)
            if best is not None:
                fid = best[1].id
                self._lost.remove(best[1])
            else:
                fid = self._next_id
                self._next_id += 1
            slot = self._slots_used.index(False)
            self._slots_used[slot] = True
            self._live.append(_Live(fid, slot, self._new_model(), box, True, t))

    # -- finalize ---------------------------------------------------------------------------------
    def finalize(self, ctx: AnalysisContext) -> Track:
        p = self.params
        T = self._n
        for live in self._live:
            self._release(live, T, lost=False)
        self._live = []
        self._detector.close()
        slot_id = np.asarray(self._raw["slot_id"][:T])
        seen = [int(i) for i in np.unique(slot_id) if i >= 0]
        first = {i: int(np.argmax((slot_id == i).any(1))) for i in seen}
        order = sorted(seen, key=lambda i: (first[i], i))
        F = len(order)
        K, M = len(fops.BLENDSHAPES), len(fops.MEASURES)
        shapes = {
            "landmarks": ((T, F, fops.N_LANDMARKS, 3), np.float32), "present": ((T, F), np.bool_),
            "box": ((T, F, 4), np.float32), "rotation": ((T, F, 3, 3), np.float32),
            "translation": ((T, F, 3), np.float32), "euler": ((T, F, 3), np.float32),
            "scale": ((T, F), np.float32), "origin": ((T, F, 3), np.float32), "residual": ((T, F), np.float32),
            "blendshapes": ((T, F, K), np.float32), "expression_raw": ((T, F, M), np.float32),
        }
        out = allocate_arrays(shapes, ctx.scratch)
        for name in shapes:
            if name != "present":
                out[name][...] = np.nan
        out["present"][...] = False
        fps = float(ctx.fps) if ctx.fps else 25.0
        times = np.asarray(self._times, np.float64)
        dt = float(np.median(np.diff(times))) if T > 2 and np.all(np.diff(times) > 0) else 1.0 / fps
        frame_size = self._frame_size or (int(ctx.size[0] / ctx.scale), int(ctx.size[1] / ctx.scale))
        blinks: dict[str, list[int]] = {}
        neutral: dict[str, list[float]] = {}
        extreme: dict[str, list[float]] = {}
        stats: dict[str, list[float]] = {"jit_raw": [], "jit": [], "resid": []}
        fwd = allocate_arrays({"fwd_shape": ((T, fops.N_LANDMARKS * 3), np.float32),
                               "fwd_pose": ((T, fops.POSE_DIMS), np.float64)}, ctx.scratch) if F else {}
        for f, fid in enumerate(order):
            where = slot_id == fid
            present = where.any(1)
            slots = np.argmax(where, 1)
            out["present"][:, f] = present
            raw_measures = np.full((T, M), np.nan)
            for s0, s1 in fops.true_runs(present):
                self._smooth_run(f, s0, s1, slots, out, fwd, dt, frame_size, raw_measures, stats)
            values, neu, ext = fops.normalise_curves(raw_measures, present, high=float(p.high_percentile))
            shapes_f = fops.compose_blendshapes(values)
            shapes_f[~present] = np.nan
            out["blendshapes"][:, f] = shapes_f
            out["expression_raw"][:, f] = raw_measures
            names = list(fops.BLENDSHAPE_NAMES)
            both = 0.5 * (shapes_f[:, names.index("eyeBlinkLeft")] + shapes_f[:, names.index("eyeBlinkRight")])
            blinks[str(f)] = [pk for _, _, pk in fops.blink_events(both, max_frames=max(1, round(0.6 / dt)))]
            neutral[str(f)] = [round(float(v), 4) for v in neu]
            extreme[str(f)] = [round(float(v), 4) for v in ext]
        fwd = {}
        jit_raw, jit, resid = stats["jit_raw"], stats["jit"], stats["resid"]
        any_face = out["present"].any(1) if F else np.zeros(T, bool)
        n_face = int(any_face.sum())
        ms = 1000.0 * self._mesh_seconds / max(1, T)
        if F == 0:
            message = f"no face found in {T} frames"
        else:
            message = (f"{F} face{'s' if F != 1 else ''} in {n_face} of {T} frames, "
                       f"{sum(len(v) for v in blinks.values())} blinks, {ms:.1f} ms/frame")
        meta = {
            "message": message, "faces": F, "ids": list(range(F)), "coverage": round(n_face / T, 4) if T else 0.0,
            "frames_with_face": n_face, "blinks": blinks, "neutral": neutral, "extreme": extreme,
            "mean_residual_cm": round(float(np.mean(resid)), 4) if resid else None,
            "jitter_px_raw": round(float(np.median(jit_raw)), 4) if jit_raw else None,
            "jitter_px": round(float(np.median(jit)), 4) if jit else None,
            "mesh_ms_per_frame": round(ms, 2), "detector_calls": self._detector_calls,
            "frame_size": list(frame_size), "fov_deg": float(p.fov_deg),
            "blendshapes": list(fops.BLENDSHAPE_NAMES),
            "measures": [{"name": m.name, "unit": m.unit, "how": m.how} for m in fops.MEASURES],
        }
        arrays = dict(out)
        arrays["ids"] = np.arange(F, dtype=np.int32)
        self._raw = {}
        return Track(self.name, arrays, meta)

    def _smooth_run(self, f: int, s0: int, s1: int, slots: np.ndarray, out: dict[str, np.ndarray],
                    fwd: dict[str, np.ndarray], dt: float, frame_size: tuple[int, int], raw_measures: np.ndarray,
                    stats: dict[str, list[float]]) -> None:
        """Frames ``[s0, s1)`` of face column ``f``: split each mesh into head pose and face-frame
        shape, zero-lag One-Euro both (forward pass into ``fwd``, backward pass merged with it,
        block by block: bounded RAM), recombine, and write the outputs and raw measures."""
        p = self.params
        lm_raw = self._raw["lm"]
        fov = float(p.fov_deg)
        kw = {"min_cutoff": float(p.min_cutoff), "beta": float(p.beta)}
        unit_cm = fops.FACE_SIZE_CM

        def raw_block(a: int, b: int) -> tuple[fops.HeadPose, np.ndarray]:
            x = np.asarray(lm_raw[np.arange(a, b), slots[a:b]], np.float64)
            hp = fops.head_pose(x, frame_size, fov_deg=fov)
            return hp, fops.to_face_frame(x, hp)

        hp0, _ = raw_block(s0, min(s1, s0 + _BLOCK))
        unit = float(np.median(hp0.scale)) * unit_cm  # face size in px: the pose vector's unit
        st_shape, st_pose = fops.OneEuroState(), fops.OneEuroState()
        for b0 in range(s0, s1, _BLOCK):
            b1 = min(s1, b0 + _BLOCK)
            hp, shape = raw_block(b0, b1)
            fwd["fwd_shape"][b0:b1] = fops.one_euro(shape.reshape(b1 - b0, -1) / unit_cm, dt, state=st_shape, **kw)
            fwd["fwd_pose"][b0:b1] = fops.one_euro(fops.pose_vector(hp.rotation, hp.scale, hp.origin, unit), dt,
                                                   state=st_pose, **kw)
        st_shape, st_pose = fops.OneEuroState(), fops.OneEuroState()
        for b1 in range(s1, s0, -_BLOCK):
            b0 = max(s0, b1 - _BLOCK)
            n = b1 - b0
            hp, shape = raw_block(b0, b1)
            back = fops.one_euro(shape.reshape(n, -1)[::-1] / unit_cm, dt, state=st_shape, **kw)[::-1]
            shape_s = (0.5 * unit_cm) * (np.asarray(fwd["fwd_shape"][b0:b1], np.float64) + back)
            shape_s = shape_s.reshape(shape.shape)
            vec = fops.pose_vector(hp.rotation, hp.scale, hp.origin, unit)
            back_p = fops.one_euro(vec[::-1], dt, state=st_pose, **kw)[::-1]
            rot, s, origin = fops.pose_from_vector(0.5 * (np.asarray(fwd["fwd_pose"][b0:b1]) + back_p), unit)
            lm = fops.from_face_frame(shape_s, rot, s, origin)
            out["landmarks"][b0:b1, f] = lm
            out["box"][b0:b1, f] = fops.box_from_landmarks(lm)
            out["rotation"][b0:b1, f] = rot
            out["translation"][b0:b1, f] = fops.camera_translation(origin, s, frame_size, fov)
            out["euler"][b0:b1, f] = fops.euler_from_rotation(rot)
            out["scale"][b0:b1, f] = s
            out["origin"][b0:b1, f] = origin
            out["residual"][b0:b1, f] = hp.residual
            raw_measures[b0:b1] = fops.expression_measures(shape_s)
            stats["resid"] += hp.residual.tolist()
            if n >= 3:  # landmark noise relative to the head: RMS second difference of the shape, px
                for arr, key in ((shape, "jit_raw"), (shape_s, "jit")):
                    d2 = arr[2:] - 2 * arr[1:-1] + arr[:-2]
                    stats[key] += (np.sqrt((d2 ** 2).sum(-1).mean(-1)) * s[1:-1]).tolist()


# -- overlay --------------------------------------------------------------------------------------
_COLOURS = [(80, 255, 120), (255, 200, 60), (90, 180, 255), (255, 110, 200)]


def overlay(track: Track, frame: np.ndarray, index: int) -> np.ndarray:
    """Face contours (lips, eyes, brows, irises, oval), head axes (x red, y green, z blue, 5 cm),
    the face id with (pitch, yaw, roll), and bars for a few blendshapes, on frame ``index``.

    Args:
        track: a ``face`` track.
        frame: ``(H, W, 3)`` uint8 RGB frame ``index`` (any size: points are scaled from the
            track's ``meta["frame_size"]``).
        index: frame index in ``[0, T)``.

    Returns:
        ``(H, W, 3)`` uint8 RGB (a new array).
    """
    import cv2

    lms = track["landmarks"]
    check_overlay_args(frame, index, lms.shape[0])
    out = frame.copy()
    H, W = frame.shape[:2]
    fh, fw = track.meta.get("frame_size", [H, W])
    sx, sy = W / fw, H / fh
    thick = max(1, round(H / 400))
    font = max(0.3, H / 700)
    names = track.meta.get("blendshapes", list(fops.BLENDSHAPE_NAMES))
    present = np.asarray(track["present"][index])
    if not present.any():
        cv2.putText(out, "no face", (5, max(12, H // 20)), cv2.FONT_HERSHEY_SIMPLEX, font, (255, 255, 255), 1, cv2.LINE_AA)
        return out
    for f in np.flatnonzero(present):
        col = _COLOURS[f % len(_COLOURS)]
        pts = np.asarray(lms[index, f], np.float64)
        xy = np.stack([pts[:, 0] * sx, pts[:, 1] * sy], -1)
        for idx in fops.CONTOURS.values():
            poly = np.round(xy[list(idx)] * 16).astype(np.int32)
            cv2.polylines(out, [poly], True, col, thick, cv2.LINE_AA, shift=4)
        # head axes from the face-frame origin
        o = np.asarray(track["origin"][index, f], np.float64)
        rot = np.asarray(track["rotation"][index, f], np.float64)
        s = float(track["scale"][index, f])
        if np.isfinite(o).all() and np.isfinite(rot).all():
            p0 = (round(o[0] * sx), round(o[1] * sy))
            for axis, c in ((0, (255, 60, 60)), (1, (60, 255, 60)), (2, (60, 120, 255))):
                v = rot[:, axis] * 5.0 * s
                p1 = (round((o[0] + v[0]) * sx), round((o[1] + v[1]) * sy))
                cv2.arrowedLine(out, p0, p1, c, thick, cv2.LINE_AA, tipLength=0.2)
        box = np.asarray(track["box"][index, f], np.float64) * [sx, sy, sx, sy]
        e = np.asarray(track["euler"][index, f], np.float64)
        label = f"id {int(track['ids'][f])}" + (f" p{e[0]:+.0f} y{e[1]:+.0f} r{e[2]:+.0f}" if np.isfinite(e).all() else "")
        ty = int(max(10, box[1] - 4))
        cv2.putText(out, label, (int(box[0]), ty), cv2.FONT_HERSHEY_SIMPLEX, font, col, 1, cv2.LINE_AA)
        # bars: right of the face box (or left when no room)
        bs = np.asarray(track["blendshapes"][index, f], np.float64)
        bar_w = max(20, int(0.6 * (box[2] - box[0])))
        bar_h = max(3, int(H / 60))
        x0 = int(box[2] + 4) if box[2] + 4 + bar_w < W else max(0, int(box[0] - 4 - bar_w))
        y0 = int(max(0, box[1]))
        for k, nm in enumerate(OVERLAY_BARS):
            if nm not in names:
                continue
            v = bs[names.index(nm)]
            yk = y0 + k * (bar_h + 2)
            cv2.rectangle(out, (x0, yk), (x0 + bar_w, yk + bar_h), (40, 40, 40), -1)
            if np.isfinite(v):
                cv2.rectangle(out, (x0, yk), (x0 + round(v * bar_w), yk + bar_h), col, -1)
            if H >= 240:
                cv2.putText(out, nm, (x0 + bar_w + 3, yk + bar_h), cv2.FONT_HERSHEY_SIMPLEX, font * 0.6,
                            (255, 255, 255), 1, cv2.LINE_AA)
    return out
