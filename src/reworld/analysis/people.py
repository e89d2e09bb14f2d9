"""People analyzer: a soft person alpha, per-person instance labels and soft body-part alphas.

Method, per frame (streamed; :mod:`reworld.ops.people` holds the array functions):

1. **person alpha**: MediaPipe selfie segmentation (landscape model, ``model_selection=1``) on
   the analysis frame. People that are small in the frame (box height below ``small_person`` x
   the frame height) are segmented again on an **upscaled crop** of the full-resolution frame
   (16:9 window, two box heights tall, resized to the model's 256x144 input) and the crop's
   answer replaces the frame-level one around the person (its box grown by half its height);
   the frame-level blob that the crop explains (often a blurry, too tall version of the person)
   is dropped. Small people come from the ``pose`` track's boxes (present or gap-filled), from
   small upright blobs of the frame-level alpha away from large people, from the previous
   frame's crops (followed while the crop still finds a person), and every ``discover_every``
   frames from a tiled pass (3 rows of 16:9 tiles of the full frame, 45 % of its height) that
   finds people too small for the frame-level model. Candidates whose crop sees nobody upright
   are dropped, and so is their frame-level blob (people lying down are missed);
   ``landmark_gate`` optionally keeps only blobs holding a pose box or a face;
2. **edges**: a guided filter (``edge_radius``, ``edge_eps``) whose guide is the frame
   projected on the Fisher axis between this frame's confident person and background colours
   snaps the network's blurry, low-resolution edge to the image's edges, and the edge is then
   steepened (``edge_gain``) (:func:`reworld.ops.people.refine_edges`); alpha below 0.1 becomes
   0, so ``mask > 0`` (what the camera analyzer excludes) is not the whole frame;
3. **time**: the previous output is moved onto this frame along the ``flow`` track (backward
   flow resized to the analysis size) and blended, ``out = (1 - k c) raw + k c warp(prev)``
   with ``k = temporal`` and ``c`` the forward-backward confidence (0 where occluded), so a
   moving person does not lag where the flow holds. Without a flow track (the analyzer run by
   hand) ``c`` comes from the frame difference instead (static camera assumption). A large
   change of a 32x18 thumbnail (a cut) restarts the filter, the crops and the colour model;
4. **instances**: person pixels (``mask >= 128``) go to the nearest skeleton of the ``pose``
   track's people present in the frame (label ``k + 1`` = pose slot ``k``); person pixels out of
   every skeleton's reach (or every person pixel without pose people) are connected components
   whose labels follow the previous frame's through the flow (labels above the pose slots);
5. **parts** (``parts=True``): landmarks of the ``face`` track (478-point mesh) and ``pose``
   track give regions (face oval, lip and eye contours, head, torso, limbs, hands); per-clip
   colour histograms of skin, hair, clothes and background, seeded from those regions, decide
   within them (:func:`reworld.ops.people.estimate_parts`); parts are blended over time like
   the mask. Without landmarks in a frame its parts are empty.

Arrays (``T`` frames, analysis size ``(h, w)``, parts size ``(ph, pw)`` = ``meta["parts_size"]``:
half the analysis size when its long side is at least 384 px, else the analysis size):

- ``mask``: ``(T, h, w)`` uint8, 0-255 = person alpha 0-1 (memory map under a scratch folder).
- ``instances``: ``(T, h, w)`` uint8, 0 = background, ``k + 1`` = pose person slot ``k``
  (``k < meta["pose_slots"]``), larger labels = people the pose track does not have, followed
  from frame to frame by overlap (memory map).
- ``parts``: ``(T, 8, ph, pw)`` uint8, 0-255 soft alphas, planes named by ``meta["parts"]``
  (``face, skin, hair, lips, eyes, upper_clothes, lower_clothes, hands``; they overlap: face
  contains lips, eyes and facial skin) (memory map).
- ``coverage``: ``(T,)`` float32, mean person alpha of each frame.
- ``people``: ``(T,)`` int16, instance labels present in each frame.
- ``crops``: ``(T,)`` int16, upscaled crops segmented in each frame (tiles not counted).

Meta: ``message`` (one line; says why parts are empty when they are), ``frames_with_people``,
``max_people``, ``mean_coverage``, ``stability_iou`` (mean IoU of each binary mask with the
previous one moved along the flow, over frames with people), ``parts``, ``parts_size``,
``pose_slots``, ``frames_with_faces``, ``frames_with_bodies``, ``motion_compensated``,
``cuts``, ``ms_per_frame`` (mask: steps 1-4), ``ms_per_frame_parts`` (step 5),
``ms_per_stage`` (mask time by step: segment, crops, edges, temporal, instances, other).

Example:
    >>> from reworld.analysis.base import REGISTRY
    >>> REGISTRY["people"].requires
    ('flow', 'pose', 'face')
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from typing import Any

import cv2
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
from reworld.ops.people import (
    PART_NAMES,
    ColourModel,
    blend_temporal,
    boxes_from_mask,
    change_confidence,
    crop_window,
    estimate_parts,
    flow_to_prev,
    refine_edges,
    resize_map,
    split_instances,
    track_components,
    warp_alpha,
    warp_planes,
)

__all__ = ["PART_COLOURS", "PeopleAnalyzer", "overlay"]

#: mean absolute change (0-1) of a 32x18 colour thumbnail above which the filter restarts
CUT_THRESHOLD = 0.12
#: the selfie model's input (landscape model): crops and tiles are resized to it
MODEL_INPUT = (256, 144)
#: alpha below this (0-1) is set to 0
ALPHA_FLOOR = 0.1
#: overlay colour of each part (RGB), and of person pixels without a part
PART_COLOURS: dict[str, tuple[int, int, int]] = {
    "face": (255, 215, 0), "skin": (255, 140, 100), "hair": (150, 60, 210), "lips": (230, 0, 60),
    "eyes": (0, 225, 255), "upper_clothes": (0, 200, 80), "lower_clothes": (40, 90, 255), "hands": (255, 0, 200)}
PERSON_COLOUR = (220, 220, 220)
_INSTANCE_COLOURS = np.array([(255, 255, 255), (255, 60, 60), (60, 255, 60), (60, 160, 255), (255, 200, 0),
                              (255, 0, 255), (0, 255, 255), (255, 128, 0)], np.uint8)


def _track_frame(track: Any, name: str, t: int) -> np.ndarray | None:
    if track is None or name not in track or t >= len(track[name]):
        return None
    return np.asarray(track[name][t])


def _people_at(track: Any, t: int) -> np.ndarray | None:
    """``(P,)`` bool: people of a ``pose``/``face`` track present (or honestly gap-filled:
    ``filled``) in frame ``t``; ``None`` without a track."""
    present = _track_frame(track, "present", t)
    filled = _track_frame(track, "filled", t)
    if present is None or filled is None or filled.shape != present.shape:
        return present
    return present | filled


@register
class PeopleAnalyzer(Analyzer):
    """Person alpha, instances and body parts (see module doc)."""

    name = "people"
    version = 1
    requires = ("flow", "pose", "face")
    full_frames = True  # upscaled crops of small people come from full-resolution frames

    @dataclass(frozen=True)
    class Params:
        """Parameters.

        Attributes:
            temporal: in [0, 1): weight of the previous frame (moved along the flow) in the
                recursive filter of mask and parts (0 = each frame on its own).
            edge_radius: guided-filter radius in analysis pixels (0 = no guided filter).
            edge_eps: guided-filter regulariser (> 0; variance of the guide, 0-1 scale).
            edge_gain: steepening of the alpha edge after the filter (>= 1; 1 = none).
            small_person: in (0, 1]: people whose box is less than this share of the frame
                height are re-segmented on an upscaled crop.
            max_crops: most crops per frame (>= 0; 0 = frame-level segmentation only).
            discover_every: frames between tiled passes that look for people too small for the
                frame-level model (0 = never; the pass costs about 6 model runs; while it finds
                nobody it runs every 2, then 4 times this).
            parts: compute part alphas.
            landmark_gate: keep only mask blobs that hold a ``pose`` person (its box) or a
                ``face`` of the same frame. The selfie model segments any foreground it takes
                for a person (a dog, a statue); the gate removes those, and also every person the
                landmark analyzers missed (small people), so it is off by default.
        """

        temporal: float = 0.5
        edge_radius: int = 4
        edge_eps: float = 1e-3
        edge_gain: float = 2.0
        small_person: float = 0.35
        max_crops: int = 6
        discover_every: int = 10
        parts: bool = True
        landmark_gate: bool = False

    def validate(self) -> None:
        p = self.params
        if not isinstance(p.temporal, (int, float)) or isinstance(p.temporal, bool) or not 0.0 <= p.temporal < 1.0:
            raise InvalidInput("people.temporal", p.temporal, "must be a number in [0, 1)")
        for field, lo in (("edge_radius", 0), ("max_crops", 0), ("discover_every", 0)):
            v = getattr(p, field)
            if isinstance(v, bool) or not isinstance(v, int) or v < lo:
                raise InvalidInput(f"people.{field}", v, f"must be an integer >= {lo}")
        if isinstance(p.edge_eps, bool) or not isinstance(p.edge_eps, (int, float)) or not p.edge_eps > 0:
            raise InvalidInput("people.edge_eps", p.edge_eps, "must be a number > 0")
        if isinstance(p.edge_gain, bool) or not isinstance(p.edge_gain, (int, float)) or not p.edge_gain >= 1:
            raise InvalidInput("people.edge_gain", p.edge_gain, "must be a number >= 1")
        if isinstance(p.small_person, bool) or not isinstance(p.small_person, (int, float)) or not 0 < p.small_person <= 1:
            raise InvalidInput("people.small_person", p.small_person, "must be a number in (0, 1]")
        for field in ("parts", "landmark_gate"):
            if not isinstance(getattr(p, field), bool):
                raise InvalidInput(f"people.{field}", getattr(p, field), "must be true or false")

    # -- streaming --------------------------------------------------------------------------
    def setup(self, ctx: AnalysisContext) -> None:
        from reworld.analysis._mediapipe import create

        h, w = ctx.size
        self._size = (int(h), int(w))
        half = max(h, w) >= 384
        self._psize = (max(1, round(h / 2)), max(1, round(w / 2))) if half else self._size
        self._model = create("selfie_segmentation", model_selection=1)
        # a folder of our own: array names like "mask" would collide with other analyzers'
        self._scratch = tempfile.mkdtemp(prefix="people-", dir=ctx.scratch) if ctx.scratch else None
        self._flow = ctx.tracks.get("flow")
        if self._flow is not None and not ("forward" in self._flow and "backward" in self._flow):
            self._flow = None
        self._pose = ctx.tracks.get("pose")
        self._face = ctx.tracks.get("face")
        pose_img = None if self._pose is None or "image" not in self._pose else self._pose["image"]
        self._slots = int(min(pose_img.shape[1], 254)) if pose_img is not None and pose_img.ndim == 4 else 0
        self._arrays: dict[str, np.ndarray] = {}
        self._n = 0
        self._allocate(max(ctx.n_frames, 1))
        self._prev: dict[str, Any] | None = None  # previous frame's outputs (float), frame, labels
        self._thumb: np.ndarray | None = None
        self._tracked: list[dict[str, Any]] = []  # small people followed by crops
        self._next_discovery, self._discovery_wait = 0, int(self.params.discover_every)
        self._colours = ColourModel.empty()
        self._cuts: list[int] = []
        self._iou: list[float] = []
        self._faces_frames = self._bodies_frames = 0
        self._t_mask = self._t_parts = 0.0
        self._stages: dict[str, float] = {}

    def _allocate(self, capacity: int) -> None:
        h, w = self._size
        ph, pw = self._psize
        shapes = {"mask": ((capacity, h, w), np.uint8), "instances": ((capacity, h, w), np.uint8),
                  "parts": ((capacity, len(PART_NAMES), ph, pw), np.uint8),
                  "coverage": ((capacity,), np.float32), "people": ((capacity,), np.int16),
                  "crops": ((capacity,), np.int16)}
        self._arrays = allocate_arrays(shapes, self._scratch, self._arrays, getattr(self, "_n", 0))

    def process(self, chunk: FrameChunk, ctx: AnalysisContext) -> None:
        for i in range(len(chunk)):
            full = chunk.full[i] if chunk.full is not None else None
            self._frame(np.ascontiguousarray(chunk.frames[i]), full, ctx)

    def _segment(self, rgb: np.ndarray) -> np.ndarray:
        res = self._model.process(np.ascontiguousarray(rgb))
        m = res.segmentation_mask
        if m is None:
            return np.zeros(rgb.shape[:2], np.float32)
        return np.array(m, np.float32)  # a copy: MediaPipe's buffer is read-only

    def _motion(self, t: int, frame: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        """``(remap map t -> t-1 or None, confidence)`` at the analysis size: along the flow
        track, or (no track, or a frame it does not cover) unmoved with the flow-free
        confidence of the frame difference."""
        if self._flow is not None and 0 < t <= len(self._flow["forward"]):
            return flow_to_prev(self._flow["backward"][t - 1], self._flow["forward"][t - 1], self._size)
        return None, change_confidence(frame, self._prev["frame"])

    def _frame(self, frame: np.ndarray, full: np.ndarray | None, ctx: AnalysisContext) -> None:
        t0 = time.perf_counter()
        t = self._n
        if t >= len(self._arrays["mask"]):
            self._allocate(max(2 * t, 16))
        h, w = self._size
        step = max(1, min(h, w) // 72)  # a decimated view first: the thumbnail is 32x18
        thumb = cv2.resize(frame[::step, ::step], (32, 18), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
        if self._thumb is not None and float(np.abs(thumb - self._thumb).mean()) > CUT_THRESHOLD:
            self._cuts.append(t)
            self._prev, self._tracked, self._colours = None, [], ColourModel.empty()
            self._next_discovery, self._discovery_wait = t, int(self.params.discover_every)
        self._thumb = thumb
        # full-resolution source for crops: the decoded frame, else the analysis frame
        src = full if full is not None else frame
        s = w / src.shape[1]  # analysis px per source px
        src_per_full = 1.0 if full is not None else float(ctx.scale)  # source px per full-res px
        # 1. person alpha: frame level, then upscaled crops of small people
        lap = self._lap("other", t0)
        raw = self._segment(frame)
        lap = self._lap("segment", lap)
        n_crops = 0
        if self.params.max_crops > 0:
            raw, n_crops = self._crops(raw, src, s, t, src_per_full)
        if self.params.landmark_gate:
            raw = self._gate(raw, t, ctx)
        lap = self._lap("crops", lap)
        # 2. edges
        if self.params.edge_radius > 0 or self.params.edge_gain != 1.0:
            raw = refine_edges(frame, raw, radius=self.params.edge_radius, eps=float(self.params.edge_eps),
                               gain=float(self.params.edge_gain), guide="lda")
        lap = self._lap("edges", lap)
        # 3. time
        where = conf = None
        if self._prev is not None:
            where, conf = self._motion(t, frame)
            moved = self._prev["mask"] if where is None else warp_alpha(self._prev["mask"], where)
            alpha = blend_temporal(raw, moved, conf, float(self.params.temporal))
        else:
            alpha = raw
        alpha[alpha < ALPHA_FLOOR] = 0.0
        m8 = np.clip(alpha * 255.0 + 0.5, 0, 255).astype(np.uint8)
        binary = m8 >= 128
        if self._prev is not None and (binary.any() or self._prev["binary"].any()):
            pb = self._prev["binary"].astype(np.uint8)
            pb = pb if where is None else warp_alpha(pb, where, nearest=True)
            union = np.logical_or(binary, pb).sum()
            self._iou.append(float(np.logical_and(binary, pb).sum() / union) if union else 1.0)
        lap = self._lap("temporal", lap)
        # 4. instances
        labels = self._instances(binary, t, ctx, where)
        lap = self._lap("instances", lap)
        arr = self._arrays
        arr["mask"][t] = m8
        arr["instances"][t] = labels
        arr["coverage"][t] = float(m8.mean()) / 255.0
        arr["people"][t] = int(np.count_nonzero(np.bincount(labels.ravel(), minlength=256)[1:]))
        arr["crops"][t] = n_crops
        self._lap("other", lap)
        self._t_mask += time.perf_counter() - t0
        # 5. parts
        t1 = time.perf_counter()
        parts = None
        if self.params.parts:
            parts = self._parts(frame, alpha, t, ctx, where, conf)
            if parts is not None:
                arr["parts"][t] = np.clip(parts * 255.0 + 0.5, 0, 255).astype(np.uint8)
            else:
                arr["parts"][t] = 0
        self._t_parts += time.perf_counter() - t1
        self._prev = {"mask": alpha, "binary": binary, "frame": frame.copy(), "labels": labels, "parts": parts}
        self._n = t + 1

    def _lap(self, stage: str, since: float) -> float:
        """Add the time since ``since`` to ``stage``; the current time."""
        now = time.perf_counter()
        self._stages[stage] = self._stages.get(stage, 0.0) + (now - since)
        return now

    # -- crops --------------------------------------------------------------------------------
    def _crops(self, raw: np.ndarray, src: np.ndarray, s: float, t: int,
               src_per_full: float) -> tuple[np.ndarray, int]:
        """``raw`` with small people re-segmented on upscaled crops; the number of crops."""
        H, W = src.shape[:2]
        h, w = self._size
        small = float(self.params.small_person)
        cands: list[tuple[np.ndarray, str]] = []  # (box in source px, origin)
        # pose boxes (full-resolution px -> source px)
        box = _track_frame(self._pose, "box", t)
        present = _people_at(self._pose, t)
        if box is not None and present is not None:
            for k in np.flatnonzero(present):
                b = box[k].astype(np.float32) * np.float32(src_per_full)
                if np.isfinite(b).all() and (b[3] - b[1]) < small * H and b[2] > b[0]:
                    cands.append((b, "pose"))
        blobs = boxes_from_mask(raw, threshold=0.5, min_area=6)
        # large people the frame-level model sees (source px, grown by a tenth of their height)
        bigs = [b[:4] / np.float32(s) for b in blobs if (b[3] - b[1]) >= small * h]

        def free(b: np.ndarray) -> bool:  # not part of a large person (a hand cut off by the threshold)
            return not any(_overlap(b, g, 0.1 * (g[3] - g[1])) for g in bigs)

        for tr in self._tracked:  # followed people (checked for being free when first found)
            cands.append((tr["box"], "tracked"))
        for b in blobs:
            bh, bw = b[3] - b[1], b[2] - b[0]
            bs = b[:4] / np.float32(s)
            if bh < small * h and bh >= 0.9 * bw and bh / s >= 8 and free(bs):  # small and upright
                cands.append((bs, "blob"))
        discovering = bool(self.params.discover_every) and t >= self._next_discovery
        if discovering:
            for b in self._discover(src):
                if free(b):
                    cands.append((b, "tiles"))
        boxes = _merge_boxes(cands)
        if not boxes:
            self._tracked = []
            if discovering:
                self._discovery_wait = min(2 * self._discovery_wait, 4 * self.params.discover_every)
                self._next_discovery = t + self._discovery_wait
            return raw, 0
        canvas = np.zeros((h, w), np.float32)  # the crops' answers, analysis px
        region = np.zeros((h, w), bool)  # where they are authoritative: the confirmed people's grown boxes
        confirmed: list[np.ndarray] = []  # their boxes, analysis px
        rejected: list[np.ndarray] = []  # blobs whose crop saw nobody, analysis px
        kept: list[dict[str, Any]] = []
        done = 0
        for b, origin in boxes[: self.params.max_crops]:
            x0, y0, x1, y1 = crop_window(b, (H, W), margin=2.0, aspect=MODEL_INPUT[0] / MODEL_INPUT[1])
            if x1 - x0 < 4 or y1 - y0 < 4:
                continue
            crop = cv2.resize(src[y0:y1, x0:x1], MODEL_INPUT, interpolation=cv2.INTER_LINEAR)
            ca = self._segment(crop)
            done += 1
            # keep the crop's answer only around the candidate person (box grown by half its
            # height on every side: the candidate may be a torso without its arms or head)
            bx0, by0, bx1, by1 = b[:4]
            g = 0.5 * (by1 - by0) + 2
            gx0, gy0, gx1, gy1 = max(bx0 - g, x0), max(by0 - g, y0), min(bx1 + g, x1), min(by1 + g, y1)
            sx, sy = MODEL_INPUT[0] / (x1 - x0), MODEL_INPUT[1] / (y1 - y0)
            keep = np.zeros(ca.shape, np.float32)
            cv2.rectangle(keep, (int((gx0 - x0) * sx), int((gy0 - y0) * sy)),
                          (int((gx1 - x0) * sx) - 1, int((gy1 - y0) * sy) - 1), 1.0, -1)
            ca *= keep
            found = boxes_from_mask(ca, threshold=0.5, min_area=4)
            f = found[0] if len(found) else None
            fb = None if f is None else np.float32([x0 + f[0] / sx, y0 + f[1] / sy, x0 + f[2] / sx, y0 + f[3] / sy])
            if fb is None or (origin != "pose" and (fb[3] - fb[1]) < 0.9 * (fb[2] - fb[0])):
                # the crop sees nobody (or nobody upright: people standing or walking only)
                if origin in ("blob", "tiles"):
                    rejected.append(np.float32(b[:4]) * np.float32(s))
                continue
            if origin == "tracked" and (fb[3] - fb[1]) > 1.5 * (b[3] - b[1]):
                fb = np.float32(b[:4])  # a sudden growth is the model bleeding into the scene: keep the box
            kept.append({"box": fb, "origin": origin})
            confirmed.append(fb * np.float32(s))
            ax0, ay0 = round(x0 * s), round(y0 * s)
            ax1, ay1 = min(w, max(ax0 + 1, round(x1 * s))), min(h, max(ay0 + 1, round(y1 * s)))
            part = cv2.resize(ca, (ax1 - ax0, ay1 - ay0), interpolation=cv2.INTER_LINEAR)
            np.maximum(canvas[ay0:ay1, ax0:ax1], part, out=canvas[ay0:ay1, ax0:ax1])
            region[int(gy0 * s):int(np.ceil(gy1 * s)), int(gx0 * s):int(np.ceil(gx1 * s))] = True
        self._tracked = [k for k in kept if (k["box"][3] - k["box"][1]) < min(1.0, 1.5 * small) * H]
        if discovering:  # back off while the tiles find nobody that a crop confirms: N, 2N, then 4N frames
            found = any(k.get("origin") == "tiles" for k in kept)
            self._discovery_wait = self.params.discover_every if found else min(
                2 * self._discovery_wait, 4 * self.params.discover_every)
            self._next_discovery = t + self._discovery_wait
        if not confirmed and not rejected:
            return raw, done
        # frame-level blobs that are a confirmed small person (overlapping its box by 30 %: the
        # frame model's blurry, often too tall version of it) or a rejected blob are dropped;
        # inside the confirmed people's regions the crops decide, next to any other frame-level
        # person (a large one walking by)
        out = raw.copy()
        n, comp, stats, _ = cv2.connectedComponentsWithStats((raw >= 0.25).astype(np.uint8), connectivity=8)
        for c in range(1, n):
            cb = np.float32([stats[c, 0], stats[c, 1], stats[c, 0] + stats[c, 2], stats[c, 1] + stats[c, 3]])
            if any(_inter(cb, q) >= 0.3 * _area(q) for q in confirmed) or any(_inter(cb, q) >= 0.5 * _area(cb) for q in rejected):
                sel = comp == c
                out[sel & ~region] = 0.0
                out[sel & region] = 0.0
        out[region] = np.maximum(canvas[region], out[region])
        return out, done

    def _gate(self, raw: np.ndarray, t: int, ctx: AnalysisContext) -> np.ndarray:
        """``raw`` without the blobs that hold no pose person's box centre region or face."""
        boxes = []
        box, present = _track_frame(self._pose, "box", t), _people_at(self._pose, t)
        if box is not None and present is not None:
            boxes += [box[k] for k in np.flatnonzero(present)]
        lm, fp = _track_frame(self._face, "landmarks", t), _people_at(self._face, t)
        if lm is not None and fp is not None:
            for f in np.flatnonzero(fp):
                xy = lm[f][:, :2]
                xy = xy[np.isfinite(xy).all(1)]
                if len(xy):
                    boxes.append(np.concatenate([xy.min(0), xy.max(0)]))
        n, comp = cv2.connectedComponents((raw >= 0.25).astype(np.uint8), connectivity=8)
        keep = np.zeros(n, bool)
        h, w = raw.shape
        for b in boxes:
            b = np.asarray(b, np.float32) * np.float32(ctx.scale)
            if not np.isfinite(b).all():
                continue
            x0, y0 = int(np.clip(b[0], 0, w - 1)), int(np.clip(b[1], 0, h - 1))
            x1, y1 = int(np.clip(np.ceil(b[2]), x0 + 1, w)), int(np.clip(np.ceil(b[3]), y0 + 1, h))
            keep[np.unique(comp[y0:y1, x0:x1])] = True
        keep[0] = False
        kept = cv2.dilate(keep[comp].astype(np.uint8), np.ones((7, 7), np.uint8))  # with their soft edges
        return raw * kept

    def _discover(self, src: np.ndarray) -> list[np.ndarray]:
        """Boxes (source px) of small upright people found on 16:9 tiles of the frame."""
        H, W = src.shape[:2]
        th = max(8, round(0.45 * H))
        tw = min(W, round(th * MODEL_INPUT[0] / MODEL_INPUT[1]))
        cols = 1 if tw >= W else int(np.ceil((W - tw) / (0.75 * tw))) + 1
        out = []
        for r in range(3):
            y0 = round(r * (H - th) / 2)
            for c in range(cols):
                x0 = 0 if cols == 1 else round(c * (W - tw) / (cols - 1))
                tile = cv2.resize(src[y0:y0 + th, x0:x0 + tw], MODEL_INPUT, interpolation=cv2.INTER_AREA)
                a = self._segment(tile)
                sx, sy = tw / MODEL_INPUT[0], th / MODEL_INPUT[1]
                for b in boxes_from_mask(a, threshold=0.5, min_area=8):
                    bb = np.float32([x0 + b[0] * sx, y0 + b[1] * sy, x0 + b[2] * sx, y0 + b[3] * sy])
                    bh, bw = bb[3] - bb[1], bb[2] - bb[0]
                    # a blob cut by the tile's edge is kept whatever its shape: its crop decides
                    inside = b[0] > 0 and b[1] > 0 and b[2] < MODEL_INPUT[0] and b[3] < MODEL_INPUT[1]
                    if (bh >= 0.9 * bw or not inside) and bh < self.params.small_person * H:
                        out.append(bb)
        return out

    # -- instances ------------------------------------------------------------------------------
    def _instances(self, binary: np.ndarray, t: int, ctx: AnalysisContext, where: np.ndarray | None) -> np.ndarray:
        pts = _track_frame(self._pose, "image", t)
        present = _people_at(self._pose, t)
        box = _track_frame(self._pose, "box", t)
        people: list[np.ndarray | None] = [None] * self._slots
        boxes: list[np.ndarray | None] = [None] * self._slots
        if pts is not None and present is not None:
            for k in np.flatnonzero(present[: self._slots]):
                p = pts[k].astype(np.float32).copy()
                p[:, :2] *= np.float32(ctx.scale)
                people[k] = p
                if box is not None:
                    boxes[k] = box[k].astype(np.float32) * np.float32(ctx.scale)
        labels = split_instances(binary, people, boxes=boxes) if any(p is not None for p in people) \
            else np.zeros(binary.shape, np.uint8)
        rest = binary & (labels == 0)
        if rest.any():
            prev = None
            if self._prev is not None:
                prev = self._prev["labels"] if where is None else warp_alpha(self._prev["labels"], where, nearest=True)
            comp = track_components(rest, prev, first_label=min(255, self._slots + 1))
            labels = np.where(rest, comp, labels).astype(np.uint8)
        return labels

    # -- parts ------------------------------------------------------------------------------------
    def _parts(self, frame: np.ndarray, alpha: np.ndarray, t: int, ctx: AnalysisContext,
               where: np.ndarray | None, conf: np.ndarray | None) -> np.ndarray | None:
        """``(8, ph, pw)`` float32 part alphas of frame ``t``, or ``None`` when all are 0."""
        ph, pw = self._psize
        h, w = self._size
        img = frame if (ph, pw) == (h, w) else cv2.resize(frame, (pw, ph), interpolation=cv2.INTER_AREA)
        person = alpha if (ph, pw) == (h, w) else cv2.resize(alpha, (pw, ph), interpolation=cv2.INTER_AREA)
        k = np.float32(ctx.scale * pw / w)  # parts px per full-resolution px
        faces, bodies = [], []
        lm, fp = _track_frame(self._face, "landmarks", t), _people_at(self._face, t)
        if lm is not None and fp is not None:
            for f in np.flatnonzero(fp):
                faces.append(lm[f][:, :2].astype(np.float32) * k)
        pts, pp = _track_frame(self._pose, "image", t), _people_at(self._pose, t)
        if pts is not None and pp is not None:
            for b in np.flatnonzero(pp):
                q = pts[b].astype(np.float32).copy()
                q[:, :2] *= k
                bodies.append(q)
        prev = self._prev.get("parts") if self._prev is not None else None
        if not faces and not bodies and prev is None:
            return None
        est = estimate_parts(img, person, faces, bodies, model=self._colours)
        self._colours = est.model
        self._faces_frames += est.faces > 0
        self._bodies_frames += est.bodies > 0
        parts = est.alphas
        if prev is not None and self.params.temporal > 0 and conf is not None:
            if (ph, pw) != (h, w):
                conf = cv2.resize(conf, (pw, ph), interpolation=cv2.INTER_AREA)
                where = None if where is None else resize_map(where, (ph, pw))
            moved = prev if where is None else warp_planes(prev, where)
            parts = blend_temporal(parts, moved, conf, float(self.params.temporal))
            parts[parts < ALPHA_FLOOR * 0.5] = 0.0
        return parts if parts.any() else None

    # -- end ----------------------------------------------------------------------------------------
    def finalize(self, ctx: AnalysisContext) -> Track:
        T = self._n
        arrays = {}
        for name, a in self._arrays.items():
            if isinstance(a, np.memmap):
                a.flush()
            arrays[name] = a[:T]
        if not self.params.parts:
            ph, pw = self._psize
            arrays["parts"] = np.zeros((T, len(PART_NAMES), ph, pw), np.uint8)
        cov = arrays["coverage"]
        with_people = int((arrays["people"] > 0).sum())
        parts_used = self.params.parts and (self._faces_frames or self._bodies_frames)
        if not with_people:
            message = f"no people found in {T} frames"
        else:
            message = (f"people in {with_people} of {T} frames (up to {int(arrays['people'].max())} at once), "
                       f"mean coverage {float(cov.mean()):.3f}")
        if self.params.parts and not parts_used:
            have = [n for n, tr in (("pose", self._pose), ("face", self._face)) if tr is not None]
            why = ("no pose or face track" if not have
                   else f"the {' and '.join(have)} track{'s' if len(have) > 1 else ''} found nobody")
            message += f"; parts empty: {why}"
        elif not self.params.parts:
            message += "; parts not computed (parts=false)"
        ph, pw = self._psize
        meta = {
            "message": message, "frames_with_people": with_people,
            "max_people": int(arrays["people"].max()) if T else 0,
            "mean_coverage": round(float(cov.mean()) if T else 0.0, 4),
            "stability_iou": round(float(np.mean(self._iou)), 4) if self._iou else None,
            "parts": list(PART_NAMES), "parts_size": [ph, pw], "mask_size": list(self._size),
            "pose_slots": self._slots, "frames_with_faces": int(self._faces_frames),
            "frames_with_bodies": int(self._bodies_frames), "motion_compensated": self._flow is not None,
            "cuts": list(self._cuts), "alpha_scale": "uint8 0-255 = alpha 0-1",
            "ms_per_frame": round(1000 * self._t_mask / max(T, 1), 2),
            "ms_per_frame_parts": round(1000 * self._t_parts / max(T, 1), 2),
            "ms_per_stage": {k: round(1000 * v / max(T, 1), 2) for k, v in self._stages.items()},
        }
        self._prev = None
        self._model.close()
        return Track(self.name, arrays, meta)


def _area(a: np.ndarray) -> float:
    return float(max(0.0, a[2] - a[0]) * max(0.0, a[3] - a[1]))


def _inter(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection area of boxes ``a`` and ``b`` (x0, y0, x1, y1)."""
    return float(max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1])))


def _overlap(a: np.ndarray, b: np.ndarray, grow: float = 0.0) -> bool:
    """Whether boxes ``a`` and ``b`` (x0, y0, x1, y1) overlap once ``b`` is grown by ``grow``."""
    return bool(a[0] < b[2] + grow and b[0] - grow < a[2] and a[1] < b[3] + grow and b[1] - grow < a[3])


def _merge_boxes(cands: list[tuple[np.ndarray, str]]) -> list[tuple[np.ndarray, str]]:
    """Candidates merged where they overlap (IoU > 0.3 or one inside the other), first origin
    kept; pose boxes first, then followed crops, then blobs, by area."""
    order = {"pose": 0, "tracked": 1, "blob": 2, "tiles": 3}
    cands = sorted(cands, key=lambda c: (order[c[1]], -float((c[0][2] - c[0][0]) * (c[0][3] - c[0][1]))))
    out: list[tuple[np.ndarray, str]] = []
    for b, origin in cands:
        for i, (o, oo) in enumerate(out):
            ix = max(0.0, min(b[2], o[2]) - max(b[0], o[0]))
            iy = max(0.0, min(b[3], o[3]) - max(b[1], o[1]))
            inter = ix * iy
            ab = (b[2] - b[0]) * (b[3] - b[1])
            ao = (o[2] - o[0]) * (o[3] - o[1])
            if inter > 0.3 * (ab + ao - inter) or inter > 0.7 * min(ab, ao):
                if oo != "pose":  # a pose box is kept as is; others grow to the union
                    out[i] = (np.float32([min(b[0], o[0]), min(b[1], o[1]), max(b[2], o[2]), max(b[3], o[3])]), oo)
                break
        else:
            out.append((np.asarray(b, np.float32), origin))
    return out


def _tint(frame: np.ndarray, alpha: np.ndarray, colour: tuple[int, int, int], strength: float) -> None:
    a = alpha.astype(np.float32) * np.float32(strength / 255.0)
    a = a[..., None]
    frame[:] = np.clip(frame * (1 - a) + np.float32(colour) * a + 0.5, 0, 255)


def overlay(track: Track, frame: np.ndarray, index: int) -> np.ndarray:
    """Parts tinted by colour (:data:`PART_COLOURS`; person pixels without a part light grey),
    instance outlines, and a label (``reworld analyze --overlay``).

    Args:
        track: a ``people`` track.
        frame: ``(H, W, 3)`` uint8 RGB frame ``index`` at any size (masks are resized).
        index: frame index in ``[0, T)``.

    Returns:
        ``(H, W, 3)`` uint8 RGB (a new array).
    """
    mask = track["mask"]
    check_overlay_args(frame, index, mask.shape[0])
    H, W = frame.shape[:2]
    out = frame.astype(np.float32)
    m = cv2.resize(np.asarray(mask[index]), (W, H), interpolation=cv2.INTER_LINEAR)
    _tint(out, m, PERSON_COLOUR, 0.35)
    names = list(track.meta.get("parts", PART_NAMES))
    if "parts" in track and track["parts"].shape[1] == len(names):
        parts = np.asarray(track["parts"][index])
        for name in ("upper_clothes", "lower_clothes", "skin", "hair", "face", "hands", "eyes", "lips"):
            if name in names:
                a = parts[names.index(name)]
                if a.any():
                    a = cv2.resize(a, (W, H), interpolation=cv2.INTER_LINEAR)
                    _tint(out, a, PART_COLOURS[name], 0.3 if name == "face" else 0.6)
    out = np.clip(out, 0, 255).astype(np.uint8)
    lab = cv2.resize(np.asarray(track["instances"][index]), (W, H), interpolation=cv2.INTER_NEAREST)
    thick = max(1, round(min(H, W) / 300))
    for v in np.unique(lab):
        if v == 0:
            continue
        contours, _ = cv2.findContours((lab == v).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        colour = tuple(int(c) for c in _INSTANCE_COLOURS[int(v) % len(_INSTANCE_COLOURS)])
        cv2.drawContours(out, contours, -1, colour, thick, cv2.LINE_AA)
    n = int(track["people"][index]) if "people" in track else len(np.unique(lab)) - 1
    fs = max(0.4, H / 900)
    cv2.putText(out, f"people {n}" if n else "no people", (10, max(20, H // 20)), cv2.FONT_HERSHEY_SIMPLEX, fs,
                (255, 255, 255), 1, cv2.LINE_AA)
    return out
