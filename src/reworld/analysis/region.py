"""Track a region a user picked (clicks or a box on any frame) through the whole clip.

:func:`track_region` segments the prompted frame with :func:`reworld.ops.segment.mask_from_prompt`
and propagates the mask **forward and backward** from it, frame by frame:

1. the previous alpha is warped to the next frame along DIS optical flow (computed here between
   consecutive analysis frames, next -> previous);
2. the frame is re-segmented around the warped prior with the carried colour/texture model
   (:func:`reworld.ops.segment.refine_mask`); the background histogram follows the local
   background every frame, the foreground one adapts slowly and only while the whole object is
   seen;
3. **occlusion**: when the mask shrinks below ``lost_area`` of the object's reference area (or its
   pixels stop looking like the object) the region is marked not visible;
4. **re-detection**: while lost, every frame is searched near the predicted place (last seen
   position + velocity, in a window that grows with time lost) for a connected blob that the
   appearance model calls foreground and whose histogram matches the object's; it becomes the
   new prior.

Arrays of the returned :class:`~reworld.analysis.tracks.Track` (``kind="region"``):

- ``alpha`` ``(T, h, w)`` uint8 0-255, the soft mask at the analysis size ``meta["size"]``
  (``meta["full_size"]`` is the clip's size);
- ``area`` ``(T,)`` float32: mask area as a fraction of the frame;
- ``confidence`` ``(T,)`` float32 in [0, 1]: mean foreground posterior of the mask's pixels,
  lowered when less than half of the object's reference area is seen;
- ``visible`` ``(T,)`` bool: False while the region is occluded or out of frame;
- ``box`` ``(T, 4)`` float32: ``(x0, y0, x1, y1)`` full-resolution pixels, NaN when not visible.

Results are cached (:class:`reworld.analysis.cache.AnalysisCache`) under the file hash + prompt;
alphas live in memory maps, so RAM stays flat with clip length. See docs/analysis-region.md.

Example:
    >>> track = track_region("clip.mp4", frame=0, points=[(320, 180)])  # doctest: +SKIP
    >>> track["alpha"].shape, track["visible"].mean()  # doctest: +SKIP
    ((120, 288, 512), 0.96)
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from reworld.analysis.cache import AnalysisCache, cache_key, file_hash, key_fields
from reworld.analysis.runner import analysis_size
from reworld.analysis.tracks import Track
from reworld.errors import InvalidInput
from reworld.io.reader import ClipReader
from reworld.io.writer import ClipWriter
from reworld.ops.segment import (
    AppearanceModel,
    check_prompt,
    mask_from_prompt,
    mask_iou,
    refine_mask,
    warp_mask,
)
from reworld.progress import CancelToken, ProgressCallback, check_cancel, stage_reporter

__all__ = ["VERSION", "overlay_video", "track_region", "write_masks"]

#: bump when the output of :func:`track_region` changes (part of the cache key)
VERSION = 1
#: the region is lost when its mask falls below this share of the object's reference area
LOST_AREA = 0.03
#: ... or when its pixels' mean foreground posterior falls below this
LOST_COLOUR = 0.3
#: a re-detected blob must cover this share of the reference area and match this well
REDETECT_AREA = 0.04
REDETECT_SIMILARITY = 0.4
#: a mask larger than this many times the reference area may not grow further than 2 px a frame
GROWTH_LIMIT = 1.5
_MIN_PX = 12


@dataclass
class _State:
    """What one propagation direction carries from frame to frame."""

    model: AppearanceModel
    anchor: AppearanceModel  # the key frame's model, never updated
    alpha: np.ndarray  # (h, w) float32 of the last frame
    ref_area: float  # pixels of the whole object
    centre: np.ndarray  # (x, y) of the last full view
    velocity: np.ndarray  # (x, y) pixels per step
    since_full: int = 0  # steps since the whole object was last seen
    visible: bool = True


def _centre(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    return np.asarray([xs.mean(), ys.mean()], np.float64)


def _box_around(mask: np.ndarray, pad: int) -> tuple[int, int, int, int]:
    """``(y0, y1, x0, x1)`` of ``mask``'s bounding box grown by ``pad``, inside the frame."""
    ys, xs = np.nonzero(mask)
    h, w = mask.shape
    return max(0, ys.min() - pad), min(h, ys.max() + 1 + pad), max(0, xs.min() - pad), min(w, xs.max() + 1 + pad)


def _redetect(frame: np.ndarray, st: _State) -> np.ndarray | None:
    """Search near the predicted place for a blob that looks like the object; its mask or None."""
    h, w = frame.shape[:2]
    size = np.sqrt(st.ref_area)
    cx, cy = st.centre + st.velocity * st.since_full
    r = size * (1.5 + 0.3 * st.since_full)
    x0, x1 = int(max(0, cx - r)), int(min(w, cx + r + 1))
    y0, y1 = int(max(0, cy - r)), int(min(h, cy + r + 1))
    if x1 - x0 < 3 or y1 - y0 < 3:
        x0, y0, x1, y1 = 0, 0, w, h  # the prediction left the frame: search everywhere
    idx = AppearanceModel.features(frame[y0:y1, x0:x1], st.model.bins, st.model.levels)
    cand = (st.model.llr(idx=idx) > 1.0).astype(np.uint8)
    cand = cv2.morphologyEx(cand, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    n, lab, stats, cents = cv2.connectedComponentsWithStats(cand, connectivity=8)
    best, best_score = None, 0.0
    for i in range(1, n):
        area = stats[i, cv2.CC_STAT_AREA]
        if area < max(_MIN_PX, REDETECT_AREA * st.ref_area):
            continue
        comp = lab == i
        sim = st.model.similarity(idx, comp)
        if sim < REDETECT_SIMILARITY:
            continue
        d = np.hypot(cents[i, 0] + x0 - cx, cents[i, 1] + y0 - cy)
        score = min(1.0, area / st.ref_area) * sim * np.exp(-0.5 * (d / max(r, 1.0)) ** 2)
        if score > best_score:
            best, best_score = comp, score
    if best is None:
        return None
    out = np.zeros((h, w), bool)
    out[y0:y1, x0:x1] = best
    return out


def _lost(st: _State, shape: tuple[int, int]) -> tuple[np.ndarray, float, bool]:
    st.visible = False
    st.alpha = np.zeros(shape, np.float32)
    return st.alpha, 0.0, False


def _warp_prior(st: _State, grey: np.ndarray, prev_grey: np.ndarray, dis) -> np.ndarray | None:
    """The last alpha carried to this frame along DIS flow (this frame -> last), computed on a crop
    around the object that is wide enough for its motion; None when nothing lands in the frame."""
    y0, y1, x0, x1 = _box_around(st.alpha > 0.5, int(max(48.0, 1.5 * np.sqrt(st.ref_area))))
    flow = dis.calc(np.ascontiguousarray(grey[y0:y1, x0:x1]), np.ascontiguousarray(prev_grey[y0:y1, x0:x1]), None)
    prior = np.zeros(grey.shape, np.float32)
    prior[y0:y1, x0:x1] = warp_mask(st.alpha[y0:y1, x0:x1], flow)
    return prior if (prior > 0.5).any() else None


def _step(frame: np.ndarray, prior: np.ndarray | None, st: _State) -> tuple[np.ndarray, float, bool]:
    """Track one frame from the warped ``prior`` (None: lost, search): returns (alpha float32
    (h, w), confidence, visible) and updates ``st``. Work happens on a crop around the prior, so
    the cost follows the object's size."""
    shape = frame.shape[:2]
    if prior is None:
        st.since_full += 1
        found = _redetect(frame, st)
        if found is None:
            return _lost(st, shape)
        prior = found.astype(np.float32)
    # the flow already moved the prior: a whole, steady object needs little room to grow; one
    # coming back from an occlusion needs room for the newly revealed part
    size = np.sqrt(st.ref_area)
    band = max(3, round((0.1 if st.since_full == 0 else 0.25) * float(size)))
    ring = max(8.0, size)  # width of the background ring the model learns from
    y0, y1, x0, x1 = _box_around(prior > 0.5, int(max(band, ring)) + 12)
    crop, pc = frame[y0:y1, x0:x1], prior[y0:y1, x0:x1]
    idx = AppearanceModel.features(crop, st.model.bins, st.model.levels)
    llr = st.model.llr(idx=idx)
    alpha = refine_mask(crop, pc, model=st.model, llr=llr, band=band)
    hard = alpha > 0.5
    area = float(hard.sum())
    if area > GROWTH_LIMIT * st.ref_area:  # spilling into a look-alike neighbour: stay close to the prior
        alpha = refine_mask(crop, pc, model=st.model, llr=llr, band=2)
        hard = alpha > 0.5
        area = float(hard.sum())
    colour = float(np.mean(1.0 / (1.0 + np.exp(-llr[hard])))) if area else 0.0
    if area < max(_MIN_PX, LOST_AREA * st.ref_area) or colour < LOST_COLOUR:
        st.since_full = max(st.since_full, 1)
        return _lost(st, shape)
    ratio = area / st.ref_area
    st.visible = True
    st.alpha = np.zeros(shape, np.float32)
    st.alpha[y0:y1, x0:x1] = alpha
    # background statistics: the local ring around the mask, minus a margin (soft edges, parts
    # the mask missed) and minus colours the key-frame model is sure belong to the object
    dist = cv2.distanceTransform((~hard).astype(np.uint8), cv2.DIST_L2, 3)
    bg_weight = ((dist > 4) & (dist <= ring) & (st.anchor.llr(idx=idx) < 1.0)).astype(np.float32)
    if 0.7 <= ratio <= 1.4 and colour > 0.55:  # the whole object is in view
        c = _centre(hard) + (x0, y0)
        st.velocity = 0.5 * st.velocity + 0.5 * (c - st.centre) / max(1, st.since_full)
        st.centre = c
        st.since_full = 0
        if 0.8 <= ratio <= 1.25:
            st.ref_area = 0.9 * st.ref_area + 0.1 * area
        st.model = st.model.update(crop, alpha, fg_rate=0.05, bg_rate=0.3, bg_weight=bg_weight, idx=idx)
    else:
        st.since_full += 1
        st.model = st.model.update(crop, alpha, fg_rate=0.0, bg_rate=0.1, bg_weight=bg_weight, idx=idx)
    return st.alpha, colour * min(1.0, ratio / 0.5), True


def _track_frames(frames: np.ndarray, key: int, alpha0: np.ndarray, out: np.ndarray, *,
                  report=None, cancel: CancelToken | None = None) -> dict[str, np.ndarray]:
    """Propagate ``alpha0`` (key frame) through ``frames`` (T, h, w, 3) into ``out`` (T, h, w) uint8."""
    n, h, w = frames.shape[:3]
    area = np.zeros(n, np.float32)
    conf = np.zeros(n, np.float32)
    vis = np.zeros(n, bool)
    hard0 = alpha0 > 0.5
    out[key] = np.round(alpha0 * 255).astype(np.uint8)
    model0 = AppearanceModel.fit(frames[key], alpha0)
    idx0 = AppearanceModel.features(frames[key])
    llr0 = model0.llr(idx=idx0)
    area[key] = hard0.mean()
    vis[key] = bool(hard0.any())
    conf[key] = float(np.mean(1 / (1 + np.exp(-llr0[hard0])))) if hard0.any() else 0.0
    done = 1
    if report:
        report(done)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
    for direction in (1, -1):
        st = _State(model0, model0, alpha0.astype(np.float32), max(float(hard0.sum()), 1.0),
                    _centre(hard0) if hard0.any() else np.asarray([w / 2, h / 2]), np.zeros(2), 0, bool(hard0.any()))
        prev_grey = cv2.cvtColor(np.asarray(frames[key]), cv2.COLOR_RGB2GRAY)
        for i in range(key + direction, n if direction > 0 else -1, direction):
            check_cancel(cancel)
            frame = np.asarray(frames[i])
            grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
            prior = _warp_prior(st, grey, prev_grey, dis) if st.visible else None
            alpha, c, v = _step(frame, prior, st)
            out[i] = np.round(alpha * 255).astype(np.uint8)
            area[i] = float((alpha > 0.5).mean())
            conf[i] = c
            vis[i] = v
            prev_grey = grey
            done += 1
            if report:
                report(done)
    return {"area": area, "confidence": conf, "visible": vis}


def _boxes(alpha: np.ndarray, visible: np.ndarray, scale_x: float, scale_y: float) -> np.ndarray:
    out = np.full((len(alpha), 4), np.nan, np.float32)
    for i in np.flatnonzero(visible):
        ys, xs = np.nonzero(np.asarray(alpha[i]) > 127)
        if len(xs):
            out[i] = (xs.min() / scale_x, ys.min() / scale_y, (xs.max() + 1) / scale_x, (ys.max() + 1) / scale_y)
    return out


def _stability(alpha: np.ndarray, visible: np.ndarray) -> float | None:
    ious = [mask_iou(alpha[i] > 127, alpha[i + 1] > 127) for i in range(len(alpha) - 1) if visible[i] and visible[i + 1]]
    return float(np.mean(ious)) if ious else None


def track_region(path: str | os.PathLike, *, frame: int, points=(), negative=(), box=None, long_side: int = 512,
                 progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
                 cache: AnalysisCache | None = None) -> Track:
    """Segment a prompted region on one frame and track it through the whole clip.

    Args:
        path: the video file.
        frame: index of the prompted frame (0-based).
        points: positive clicks ``[(x, y), ...]`` in **full-resolution** pixels of that frame.
        negative: negative clicks, same form.
        box: ``(x0, y0, x1, y1)`` full-resolution pixels around the object.
        long_side: long side of the analysis size (pixels; frames are never upscaled).
        progress: callback; stages ``"decode"`` then ``"track"`` (one unit per frame).
        cancel: checked at every frame.
        cache: where results are kept (default :class:`AnalysisCache` at its default root).

    Returns:
        ``Track("region", ...)`` with arrays ``alpha``, ``area``, ``confidence``, ``visible``,
        ``box`` (module doc) and meta ``prompt``, ``frame``, ``method``, ``size``, ``full_size``,
        ``scale``, ``fps``, ``n_frames``, ``stability``, ``ms_per_frame``.

    Raises:
        InvalidInput: ``frame`` outside ``[0, T-1]``, a point outside the frame, a zero-area
            box, no positive point nor box, or ``long_side`` < 16.
    """
    # 1. check inputs
    if isinstance(frame, bool) or not isinstance(frame, (int, np.integer)):
        raise InvalidInput("frame", frame, "must be an integer frame index")
    if isinstance(long_side, bool) or not isinstance(long_side, int) or long_side < 16:
        raise InvalidInput("long_side", long_side, "must be an integer >= 16 (pixels)")
    frame = int(frame)
    reader = ClipReader(path, arg="path")
    full_h, full_w = reader.size
    pts, neg, bx = check_prompt(points, negative, box, full_w, full_h)
    if not 0 <= frame < len(reader):
        raise InvalidInput("frame", frame, f"must be a frame index in [0, {len(reader) - 1}]")
    h, w, _ = analysis_size(full_h, full_w, long_side)
    sx, sy = w / full_w, h / full_h
    # 2. cache lookup
    cache = cache if cache is not None else AnalysisCache()
    prompt = {"points": [[float(x), float(y)] for x, y in pts], "negative": [[float(x), float(y)] for x, y in neg],
              "box": None if bx is None else [float(v) for v in bx]}
    params = {"frame": frame, **prompt, "long_side": long_side}
    fields = key_fields(file_hash(path), "region", VERSION, params)
    key = cache_key(fields["clip_hash"], "region", VERSION, params)
    hit = cache.get(key, mmap=True)
    if hit is not None:
        side = cache.get_meta(key) or {}
        return Track("region", hit, dict(side.get("meta", {})).get("result", {}))
    with tempfile.TemporaryDirectory(prefix="reworld-region-") as scratch:
        # 3. decode once into a uint8 memmap at the analysis size
        raw = Path(scratch) / "frames.u8"
        n = 0
        with open(raw, "wb") as f:
            for chunk in reader.chunks(progress=progress, cancel=cancel, stage="decode"):
                for fr in chunk.frames:
                    check_cancel(cancel)
                    small = fr if (h, w) == fr.shape[:2] else cv2.resize(fr, (w, h), interpolation=cv2.INTER_AREA)
                    f.write(np.ascontiguousarray(small).tobytes())
                    n += 1
        if not 0 <= frame < n:
            raise InvalidInput("frame", frame, f"must be a frame index in [0, {n - 1}]")
        frames = np.memmap(raw, np.uint8, "r", shape=(n, h, w, 3))
        alphas = np.memmap(Path(scratch) / "alpha.u8", np.uint8, "w+", shape=(n, h, w))
        # 4. segment the prompted frame, 5. propagate both ways
        t0 = time.perf_counter()
        scaled = {"points": pts * (sx, sy) if len(pts) else (), "negative": neg * (sx, sy) if len(neg) else (),
                  "box": None if bx is None else np.clip(bx * (sx, sy, sx, sy), 0, (w, h, w, h))}
        if scaled["box"] is not None and not (scaled["box"][2] > scaled["box"][0] and scaled["box"][3] > scaled["box"][1]):
            raise InvalidInput("box", tuple(bx), "is too small to cover a pixel at the analysis size")
        alpha0 = mask_from_prompt(np.asarray(frames[frame]), **scaled)
        t_key = time.perf_counter() - t0
        report = stage_reporter(progress, "track", total=n)
        result = _track_frames(frames, frame, alpha0, alphas, report=report, cancel=cancel)
        elapsed = time.perf_counter() - t0
        alphas.flush()
        arrays = {"alpha": alphas, **result, "box": _boxes(alphas, result["visible"], sx, sy)}
        fps = reader.fps
        meta: dict[str, Any] = {
            "prompt": prompt, "frame": frame, "size": [h, w], "full_size": [full_h, full_w], "scale": sx,
            "fps": f"{fps.numerator}/{fps.denominator}", "n_frames": n, "long_side": long_side,
            "method": "SLIC superpixels + colour/texture histograms + grabCut on the prompted frame; "
                      "DIS flow warp + colour-model re-segmentation + guided-filter edges per frame; "
                      "occlusion by area/colour drop, re-detection by histogram back-projection",
            "stability": _stability(alphas, result["visible"]),
            "visible_fraction": float(result["visible"].mean()),
            "ms_per_frame": 1000.0 * (elapsed - t_key) / max(1, n - 1), "key_frame_ms": 1000.0 * t_key,
        }
        cache.put(key, arrays, {**fields, "result": meta})
        del frames
        stored = cache.get(key, mmap=True)
        if stored is None:  # cache root not readable back: keep the arrays in memory
            stored = {k: np.array(v) for k, v in arrays.items()}
        del alphas, arrays
    return Track("region", stored, meta)


# -- outputs -------------------------------------------------------------------------------------
def _fps(track: Track) -> Fraction:
    return Fraction(str(track.meta.get("fps", "25/1")))


def _full_alpha(track: Track, i: int) -> np.ndarray:
    full_h, full_w = track.meta["full_size"]
    a = np.asarray(track["alpha"][i])
    if a.shape != (full_h, full_w):
        a = cv2.resize(a, (full_w, full_h), interpolation=cv2.INTER_LINEAR)
    return a


def _check_track(track: Track) -> None:
    if not isinstance(track, Track) or track.kind != "region" or "alpha" not in track or "full_size" not in track.meta:
        raise InvalidInput("track", getattr(track, "kind", type(track).__name__), "must be a Track from track_region")


def write_masks(track: Track, path: str | os.PathLike, *, progress: ProgressCallback | None = None,
                cancel: CancelToken | None = None) -> Path:
    """Write the mask as a grey video (``.mp4``/``.mov``/``.mkv``) or a PNG sequence (``.png``),
    at the clip's full size (alpha upscaled bilinearly; white = region).

    Returns:
        The written path (atomically replaced, see :class:`reworld.io.writer.ClipWriter`).
    """
    _check_track(track)
    report = stage_reporter(progress, "write", total=len(track["alpha"]))
    with ClipWriter(path, fps=_fps(track), crf=12, arg="path") as w:
        for i in range(len(track["alpha"])):
            check_cancel(cancel)
            a = _full_alpha(track, i)
            w.write(np.repeat(a[..., None], 3, axis=2))
            report(i + 1)
    return Path(path)


def overlay_video(path: str | os.PathLike, track: Track, out: str | os.PathLike, *,
                  color: tuple[int, int, int] = (255, 60, 40), opacity: float = 0.5,
                  progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> Path:
    """Write ``path`` with the tracked region tinted in ``color`` (RGB 0-255) at ``opacity`` (0-1)
    and outlined, for review. Keeps the source's timing and audio."""
    _check_track(track)
    if not 0.0 <= float(opacity) <= 1.0:
        raise InvalidInput("opacity", opacity, "must be in [0, 1]")
    tint = np.asarray(color, np.float32).reshape(1, 1, 3)
    n = len(track["alpha"])
    with ClipReader(path, arg="path") as reader:
        report = stage_reporter(progress, "overlay", total=len(reader))
        with ClipWriter(out, fps=reader.fps, time_base=reader.time_base, audio_from=path, inputs=(path,),
                        arg="out") as w:
            for chunk in reader.chunks(cancel=cancel):
                result = np.empty_like(chunk.frames)
                for j, fr in enumerate(chunk.frames):
                    check_cancel(cancel)
                    a = _full_alpha(track, min(chunk.start + j, n - 1))
                    k = (a.astype(np.float32) * (opacity / 255.0))[..., None]
                    img = fr.astype(np.float32) * (1 - k) + tint * k
                    edge = cv2.morphologyEx((a > 127).astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
                    img[edge.astype(bool)] = tint[0, 0]
                    result[j] = np.clip(np.round(img), 0, 255).astype(np.uint8)
                w.write(result, chunk.pts)
                report(chunk.start + len(chunk))
    return Path(out)
