"""Streaming edit propagation along the flow track: keyframes or an edited first frame -> every frame.

This is the temporal-coherence machinery of the modify engines (the CPU engine and, later, the
diffusion one plug their per-frame stylisation into it), after the open restylers
(Rerender-A-Video, FRESCO, TokenFlow, EbSynth workflows): stylise a few keyframes, carry them to
the other frames along optical flow with occlusion-aware blending, fill what no keyframe sees
from the source frame itself through a guide transfer, and finish with a flow-guided temporal
filter. Two modes:

- **keyframes** (``stylise`` given, no ``first_frame``): keyframes are chosen from the flow and
  the cuts (:func:`track_keyframes`); each in-between frame blends the previous keyframe warped
  forward and the next one warped backward (:func:`reworld.ops.temporal.bidirectional_blend`),
  weighted by temporal distance x per-pixel validity. The frames between two keyframes wait in
  a buffer (RAM, or a scratch memory map past ``buffer_bytes``) until the next keyframe is
  stylised: memory is O(largest keyframe gap), whatever the clip length. After the last
  keyframe of a scene, propagation is one-sided.
- **first frame** (``first_frame`` given): the user's edited frame 0 is the anchor; every frame
  samples it through a dense correspondence chained along the flow (once, never re-warped),
  corrected for drift against the anchor's source, with revealed areas filled by the guide
  transfer fitted on (source 0 -> edit 0). At each keyframe the output is **re-anchored**: it
  becomes a second anchor for what frame 0 does not see (so a revealed area keeps its fill
  instead of re-deriving it every frame), and the guide is refitted on the trusted
  propagated pixels (cells follow the content; older statistics decay). Frame 0's pixels
  always win where they are visible, so colour and texture do not drift.

Per frame, on the flow grid (the track's stored size, e.g. 256 px wide): the correspondence
maps are chained (``ops.propagate.chain_coords``), their validity chained and cleared at
disocclusions (forward-backward check of the stored flow), optionally refined by a small
residual flow between the current source and the anchor's source warped by the map (drift
correction), and confirmed photometrically (the anchor's source sampled at the map must look
like the current source). At full resolution: the map is upsampled and the anchor sampled once,
masks feathered inward, the fill computed only where needed.

Example:
    >>> PropagationParams().max_gap
    30
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from reworld.errors import InvalidInput
from reworld.ops.flow import FB_BETA, fb_consistency, flow_confidence, resize_flow
from reworld.ops.flow import _grid as _pixel_grid
from reworld.ops.propagate import (
    CorrespondenceRefiner,
    GuideModel,
    GuideStats,
    apply_guide,
    blend_guides,
    chain_coords,
    chain_visibility,
    extrapolate_coords,
    guide_stats,
    identity_coords,
    photometric_confidence,
    sample_image,
    select_keyframes,
    solve_guide,
    upsample_coords,
)
from reworld.ops.temporal import WarpErrorMeter, disocclusion, feather, temporal_filter
from reworld.progress import CancelToken, check_cancel

__all__ = ["PropagationParams", "Propagator", "track_keyframes"]

_CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))

Stylise = Callable[[np.ndarray, int], np.ndarray]


@dataclass(frozen=True)
class PropagationParams:
    """Settings of :class:`Propagator` (defaults measured in docs/propagation.md).

    Attributes:
        max_disocclusion: keyframe when the area revealed since the last one passes this
            fraction of the frame.
        max_motion: keyframe when the summed median motion since the last one passes this
            fraction of the frame's long side.
        min_gap, max_gap: least and most frames between keyframes (cuts aside).
        feather: width of the seam between propagated and filled pixels, in flow-grid pixels.
        photo_tolerance: source difference (0-1) at which a correspondence's confidence is 1/e.
        refine: correct drift every ``refine_every`` frames by matching each frame directly to
            the anchor's source, starting from the chained correspondence
            (:class:`reworld.ops.propagate.CorrespondenceRefiner` preset: ``"auto"`` = ``"fine"`` in
            first-frame mode, ``"balanced"`` in keyframe mode; None: off).
        refine_gain: how far a trusted chain moves towards the direct match per correction
            (low: no jitter; 1: take the match).
        refine_smooth: Gaussian sigma (flow-grid pixels) of the correction applied to trusted
            chains (0: none).
        match_long_side: long side of the frames matched against the anchor (never above the
            frame size nor below the flow grid): matching at twice the flow grid halves the
            error of the match (docs/propagation.md).
        photo_keep: photometric confidence under which a chained pixel is dropped.
        photo_full: confidence from which a pixel takes the anchor fully (a ramp from
            ``photo_keep``).
        photo_revalidate: confidence over which a pixel is (re)accepted whatever its chain
            (areas seen again after an occlusion).
        guide_cells: guide-transfer cells along the long side; guide_bins: luma bins.
        guide_decay: weight kept by older guide statistics at each keyframe.
        filter_strength: temporal-filter weight of the past on filled (guide) pixels.
        filter_anchored: the same on pixels propagated from a keyframe (already coherent).
        filter_tolerance: channel difference at which the filter lets go (real change), or None.
        buffer_bytes: RAM for frames waiting for the next keyframe; past it, a scratch memory map.
        interpolation: sampling of anchors, ``"linear"`` or ``"cubic"``.
    """

    max_disocclusion: float = 0.15
    max_motion: float = 0.1
    min_gap: int = 4
    max_gap: int = 30
    feather: float = 1.5
    photo_tolerance: float = 0.08
    refine: str | None = "auto"
    refine_every: int = 1
    refine_gain: float = 0.6
    refine_smooth: float = 1.5
    match_long_side: int = 512
    photo_keep: float = 0.2
    photo_full: float = 0.5
    photo_revalidate: float = 0.6
    guide_cells: int = 12
    guide_bins: int = 8
    guide_decay: float = 0.5
    filter_strength: float = 0.6
    filter_anchored: float = 0.0
    filter_tolerance: float | None = 0.2
    buffer_bytes: int = 256 << 20
    interpolation: str = "linear"

    def validate(self) -> PropagationParams:
        for name in ("max_disocclusion", "max_motion", "photo_tolerance"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and v > 0):
                raise InvalidInput(f"params.{name}", v, "must be a number > 0")
        for name in ("min_gap", "max_gap", "refine_every", "guide_cells", "match_long_side"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise InvalidInput(f"params.{name}", v, "must be an integer >= 1")
        if self.max_gap < self.min_gap:
            raise InvalidInput("params.max_gap", self.max_gap, f"must be >= min_gap ({self.min_gap})")
        if isinstance(self.guide_bins, bool) or not isinstance(self.guide_bins, int) or self.guide_bins < 2:
            raise InvalidInput("params.guide_bins", self.guide_bins, "must be an integer >= 2")
        for name in ("guide_decay", "filter_strength", "filter_anchored"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and 0 <= v < 1):
                raise InvalidInput(f"params.{name}", v, "must be in [0, 1)")
        if not self.feather >= 0:
            raise InvalidInput("params.feather", self.feather, "must be >= 0")
        if self.filter_tolerance is not None and not self.filter_tolerance > 0:
            raise InvalidInput("params.filter_tolerance", self.filter_tolerance, "must be > 0 or None")
        if self.refine is not None and self.refine != "auto" and self.refine not in CorrespondenceRefiner.SETTINGS:
            raise InvalidInput("params.refine", self.refine, f"must be None or one of {', '.join(CorrespondenceRefiner.SETTINGS)}")
        for name in ("refine_gain", "photo_keep", "photo_full", "photo_revalidate"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and 0 <= v <= 1):
                raise InvalidInput(f"params.{name}", v, "must be in [0, 1]")
        if self.interpolation not in ("linear", "cubic"):
            raise InvalidInput("params.interpolation", self.interpolation, "must be 'linear' or 'cubic'")
        return self


# -- flow track access ---------------------------------------------------------------------------
class _Flow:
    """The pairs of a flow track as float32 on its stored grid, with the disocclusion rule."""

    def __init__(self, track: Any, n_frames: int) -> None:
        try:
            fwd, bwd, occ = track["forward"], track["backward"], track["occlusion"]
        except (KeyError, TypeError) as exc:
            raise InvalidInput("flow_track", type(track).__name__, "must be a flow track with forward/backward/occlusion arrays") from exc
        if fwd.ndim != 4 or fwd.shape[-1] != 2 or bwd.shape != fwd.shape or occ.shape != fwd.shape[:3]:
            raise InvalidInput("flow_track", f"forward {fwd.shape}", "must hold (T-1, h, w, 2) forward/backward and (T-1, h, w) occlusion")
        if len(fwd) < n_frames - 1:
            raise InvalidInput("n_frames", n_frames, f"must be at most the track's pairs + 1 ({len(fwd) + 1})")
        self.forward, self.backward, self.occlusion = fwd, bwd, occ
        self.size = (int(fwd.shape[1]), int(fwd.shape[2]))
        meta = getattr(track, "meta", {}) or {}
        s = float((meta.get("to_analysis") or [1.0])[0])  # analysis px per stored px
        self.beta = FB_BETA / (s * s)  # the track's check ran at the analysis size
        self.conf_scale = 1.0 / s      # 1 analysis pixel of round-trip error -> 1/e

    def pair(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """(forward, backward) of pair ``i`` (frame i -> i+1, frame i+1 -> i) as float32."""
        return np.asarray(self.forward[i], np.float32), np.asarray(self.backward[i], np.float32)

    def disocclusion_fractions(self, n_pairs: int) -> np.ndarray:
        """Per pair, the fraction of frame i+1 newly revealed: the forward-backward disocclusion
        opened by a 3x3 square (isolated pixels are noise of the check, not revealed areas)."""
        out = np.empty(n_pairs, np.float64)
        k = np.ones((3, 3), np.uint8)
        for i in range(n_pairs):
            f, b = self.pair(i)
            d = disocclusion(f, b, beta=self.beta).astype(np.uint8)
            out[i] = cv2.morphologyEx(d, cv2.MORPH_OPEN, k).mean()
        return out


def track_keyframes(flow_track: Any, n_frames: int, *, cuts: Sequence[int] = (),
                    params: PropagationParams | None = None) -> list[int]:
    """Keyframes of a clip from its flow track (and cuts): :func:`reworld.ops.propagate.select_keyframes`
    fed with the disoccluded fraction of each pair (forward-backward check on the stored flow)
    and the track's median motion over the full-resolution long side.

    Args:
        flow_track: the ``flow`` track (:mod:`reworld.analysis.flow`).
        n_frames: frames in the clip.
        cuts: first frames of new scenes (the ``cuts`` track's ``cuts`` array).
        params: thresholds and gaps.

    Returns:
        Sorted keyframe indices (0 and every cut included).
    """
    p = (params or PropagationParams()).validate()
    flow = _Flow(flow_track, n_frames)
    n_pairs = max(n_frames - 1, 0)
    meta = getattr(flow_track, "meta", {}) or {}
    long_side = max(meta.get("full_size") or [max(flow.size)])
    motion = None
    if "magnitude" in getattr(flow_track, "arrays", {}):
        motion = np.asarray(flow_track["magnitude"][:n_pairs], np.float64) / float(long_side)
        motion = np.nan_to_num(np.maximum(motion, 0))
    dis = flow.disocclusion_fractions(n_pairs)
    # a pair across a cut is garbage: it does not count towards the next keyframe
    for c in cuts:
        if 0 < c < n_frames:
            dis[c - 1] = 0.0
            if motion is not None:
                motion[c - 1] = 0.0
    return select_keyframes(n_frames, cuts=cuts, disocclusion=dis, motion=motion, max_disocclusion=p.max_disocclusion,
                            max_motion=p.max_motion, min_gap=p.min_gap, max_gap=p.max_gap)


# -- anchors -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Src:
    """A source frame reduced for matching: RGB on the flow grid, luma at the match size."""

    grid: np.ndarray   # (fh, fw, 3) float32 in [0, 1]
    luma: np.ndarray   # (mh, mw) uint8


@dataclass
class _Anchor:
    """A frame whose edit is known, and the current frame's correspondence into it."""

    index: int
    edit: np.ndarray             # (H, W, 3) uint8, full resolution
    src: _Src                    # the anchor's source, reduced
    coords: np.ndarray           # (fh, fw, 2) current frame -> anchor (grid pixels)
    visible: np.ndarray          # (fh, fw) bool, chained validity
    validity: np.ndarray | None = None  # (fh, fw) float32 soft validity for the current frame

    @classmethod
    def at(cls, index: int, edit: np.ndarray, src: _Src) -> _Anchor:
        fh, fw = src.grid.shape[:2]
        return cls(index, edit, src, identity_coords(fh, fw), np.ones((fh, fw), bool),
                   np.ones((fh, fw), np.float32))

    def advance(self, flow: np.ndarray, occluded: np.ndarray) -> None:
        """Move the correspondence one frame (``flow``: new frame -> previous current frame);
        isolated occluded pixels (noise of the forward-backward check) are ignored."""
        self.coords = chain_coords(self.coords, flow)
        occ = cv2.morphologyEx(occluded.astype(np.uint8), cv2.MORPH_OPEN, _CROSS).astype(bool)
        self.visible = chain_visibility(self.visible, flow, occ)


@dataclass
class _Stats:
    frames: int = 0
    keyframes: int = 0
    stylise_s: float = 0.0
    propagate_s: float = 0.0
    fill_pixels: int = 0


class _FrameBuffer:
    """Frames waiting for the next keyframe: ``capacity`` slots in RAM, or in a scratch memory map."""

    def __init__(self, capacity: int, shape: tuple[int, ...], limit: int, scratch: str | None) -> None:
        capacity = max(capacity, 1)
        nbytes = capacity * int(np.prod(shape))
        self._tmp = None
        if nbytes <= limit:
            self.data = np.empty((capacity, *shape), np.uint8)
        else:
            fd, path = tempfile.mkstemp(prefix="reworld-propagate-", suffix=".u8", dir=scratch)
            os.close(fd)
            self._tmp = path
            self.data = np.memmap(path, np.uint8, "w+", shape=(capacity, *shape))
        self.in_memory = self._tmp is None

    def close(self) -> None:
        if self._tmp is not None:
            del self.data
            try:
                os.remove(self._tmp)
            except OSError:
                pass
            self._tmp = None


# -- the propagator --------------------------------------------------------------------------------
class Propagator:
    """Streams source frames in, edited frames out, coherent along the flow (see module doc).

    Args:
        flow_track: the clip's ``flow`` track (forward/backward/occlusion on its stored grid;
            memory maps are fine, pairs are read one at a time).
        n_frames: frames in the clip.
        size: ``(H, W)`` of the frames that will be fed (and returned); any size, the flow is
            resized to it.
        stylise: ``stylise(frame, index) -> edited`` for keyframes, ``(H, W, 3)`` uint8 both;
            needed in keyframe mode, and in first-frame mode for the first frame of each scene
            after a cut (else the guide transfer is used there).
        first_frame: ``(H, W, 3)`` uint8 edited frame 0 (first-frame mode).
        keyframes: explicit keyframe indices (default: :func:`track_keyframes`); frame 0 and cuts
            are always added.
        cuts: first frames of new scenes: no correspondence crosses them.
        params: :class:`PropagationParams`.
        scratch: folder for the frame buffer's memory map (default: the system temp folder).
        measure: keep the warp error of the output and of the source (same flow and mask) at
            ``measure_size`` (default the frame size) in :attr:`metrics`.
        measure_size: ``(h, w)`` at which to measure.
        cancel: polled at every frame.

    Example:
        >>> p = Propagator(track, len(frames), frames.shape[1:3], stylise=my_look)  # doctest: +SKIP
        >>> for out in p.run(reader.chunks()):  # doctest: +SKIP
        ...     writer.write(out)
    """

    def __init__(self, flow_track: Any, n_frames: int, size: tuple[int, int], *, stylise: Stylise | None = None,
                 first_frame: np.ndarray | None = None, keyframes: Sequence[int] | None = None,
                 cuts: Sequence[int] = (), params: PropagationParams | None = None, scratch: str | None = None,
                 measure: bool = False, measure_size: tuple[int, int] | None = None,
                 cancel: CancelToken | None = None) -> None:
        self.params = (params or PropagationParams()).validate()
        if isinstance(n_frames, bool) or not isinstance(n_frames, (int, np.integer)) or n_frames < 1:
            raise InvalidInput("n_frames", n_frames, "must be an integer >= 1")
        self.n_frames = int(n_frames)
        if len(size) != 2 or min(size) < 1:
            raise InvalidInput("size", size, "must be (H, W) with positive sides")
        self.size = (int(size[0]), int(size[1]))
        if stylise is None and first_frame is None:
            raise InvalidInput("stylise", None, "a stylise callable or a first_frame is needed")
        if stylise is not None and not callable(stylise):
            raise InvalidInput("stylise", type(stylise).__name__, "must be callable(frame, index) -> frame")
        if first_frame is not None:
            if not isinstance(first_frame, np.ndarray) or first_frame.dtype != np.uint8 or first_frame.ndim != 3 \
                    or first_frame.shape[2] != 3:
                raise InvalidInput("first_frame", getattr(first_frame, "shape", type(first_frame).__name__),
                                   "must be an (H, W, 3) uint8 RGB image")
            if first_frame.shape[:2] != self.size:
                raise InvalidInput("first_frame", f"size {first_frame.shape[1]}x{first_frame.shape[0]}",
                                   f"must have the clip's size {self.size[1]}x{self.size[0]} (resize it first)")
        self.stylise = stylise
        self.first_frame = first_frame
        self.mode = "first_frame" if first_frame is not None else "keyframes"
        self._flow = _Flow(flow_track, self.n_frames)
        self.grid = self._flow.size
        cut_list = sorted({int(c) for c in cuts})
        for c in cut_list:
            if not 0 < c < self.n_frames:
                raise InvalidInput("cuts", c, f"must hold frame indices in 1..{self.n_frames - 1}")
        self.cuts = set(cut_list)
        if keyframes is None:
            keys = track_keyframes(flow_track, self.n_frames, cuts=cut_list, params=self.params)
        else:
            keys = []
            for k in keyframes:
                if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < self.n_frames:
                    raise InvalidInput("keyframes", k, f"must hold frame indices in 0..{self.n_frames - 1}")
                keys.append(int(k))
        self.keyframes = sorted(set(keys) | {0} | self.cuts)
        self._keyset = set(self.keyframes)
        self.scratch = scratch
        self.cancel = cancel
        # the next keyframe of the same scene after each keyframe (None: one-sided tail)
        self._next_key: dict[int, int | None] = {}
        for i, k in enumerate(self.keyframes):
            nxt = self.keyframes[i + 1] if i + 1 < len(self.keyframes) else None
            self._next_key[k] = None if (nxt is None or nxt in self.cuts) else nxt
        gaps = [b - a - 1 for a, b in self._next_key.items() if b is not None]
        self._buffer = None
        if self.mode == "keyframes" and gaps and max(gaps) > 0:
            H, W = self.size
            self._buffer = _FrameBuffer(max(gaps), (H, W, 3), self.params.buffer_bytes, scratch)
        preset = self.params.refine
        if preset == "auto":  # long chains to frame 0 need the accurate match; keyframe gaps are short
            preset = "fine" if self.mode == "first_frame" else "balanced"
        self._refiner = CorrespondenceRefiner(preset) if preset else None
        H, W = self.size
        k = min(1.0, self.params.match_long_side / max(H, W))
        self.match_size = (max(self.grid[0], round(H * k)), max(self.grid[1], round(W * k)))
        # streaming state
        self._t = 0
        self._prev_out: np.ndarray | None = None
        self._prev_emitted_src: np.ndarray | None = None
        self._anchors: list[_Anchor] = []
        self._stats_acc: GuideStats | None = None
        self._model: GuideModel | None = None
        self._segment: dict[str, Any] | None = None
        self._stats = _Stats()
        self._meters = (WarpErrorMeter(measure_size), WarpErrorMeter(measure_size)) if measure else None
        self._closed = False

    # -- public API -------------------------------------------------------------------------------
    def feed(self, frames: np.ndarray) -> list[np.ndarray]:
        """Give the next source frames (``(t, H, W, 3)`` or ``(H, W, 3)`` uint8); returns the
        output frames now complete, in order (possibly none while waiting for a keyframe)."""
        if self._closed:
            raise InvalidInput("frames", "more frames", "cannot be fed after close()")
        frames = np.asarray(frames)
        if frames.ndim == 3:
            frames = frames[None]
        if frames.ndim != 4 or frames.shape[1:] != (*self.size, 3) or frames.dtype != np.uint8:
            raise InvalidInput("frames", f"array {frames.shape} {frames.dtype}",
                               f"must be (t, {self.size[0]}, {self.size[1]}, 3) uint8 RGB")
        out: list[np.ndarray] = []
        for frame in frames:
            check_cancel(self.cancel)
            if self._t >= self.n_frames:
                raise InvalidInput("frames", f"frame {self._t}", f"is past n_frames ({self.n_frames})")
            t0 = time.perf_counter()
            out.extend(self._push(self._t, frame))
            self._stats.propagate_s += time.perf_counter() - t0
            self._t += 1
        return out

    def close(self) -> list[np.ndarray]:
        """Flush what is left (a clip shorter than ``n_frames`` ends here); frees the buffer."""
        out: list[np.ndarray] = []
        if not self._closed:
            if self._segment is not None and self._segment["frames"]:
                out = self._emit_segment(None)
            self._closed = True
            if self._buffer is not None:
                self._buffer.close()
        return out

    def run(self, chunks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """Feed every chunk and yield the output frames in order (then close)."""
        try:
            for chunk in chunks:
                yield from self.feed(chunk)
            yield from self.close()
        finally:
            if self._buffer is not None:
                self._buffer.close()

    @property
    def metrics(self) -> dict[str, Any]:
        """Counts, timings (seconds; ``propagate_s`` includes ``stylise_s``) and, with
        ``measure``, the warp errors of output and source and their ratio."""
        s = self._stats
        m: dict[str, Any] = {"mode": self.mode, "frames": s.frames, "keyframes": list(self.keyframes),
                             "keyframes_stylised": s.keyframes, "stylise_s": round(s.stylise_s, 4),
                             "propagate_s": round(s.propagate_s, 4),
                             "ms_per_frame_without_stylise": round(1000 * (s.propagate_s - s.stylise_s) / max(s.frames, 1), 2),
                             "fill_fraction": round(s.fill_pixels / max(s.frames * self.size[0] * self.size[1], 1), 5),
                             "buffer_in_memory": None if self._buffer is None else self._buffer.in_memory}
        if self._meters is not None:
            mo, ms = self._meters
            m.update(warp_error_output=mo.value, warp_error_source=ms.value, warp_error_ratio=mo.ratio(ms))
        return m

    # -- per frame ----------------------------------------------------------------------------------
    def _reduce(self, frame: np.ndarray) -> _Src:
        fh, fw = self.grid
        g = frame if frame.shape[:2] == (fh, fw) else cv2.resize(frame, (fw, fh), interpolation=cv2.INTER_AREA)
        mh, mw = self.match_size
        m = frame if frame.shape[:2] == (mh, mw) else cv2.resize(frame, (mw, mh), interpolation=cv2.INTER_AREA)
        return _Src(g.astype(np.float32) * np.float32(1 / 255), cv2.cvtColor(m, cv2.COLOR_RGB2GRAY))

    def _stylise(self, frame: np.ndarray, t: int) -> np.ndarray:
        t0 = time.perf_counter()
        out = self.stylise(frame.copy(), t)  # type: ignore[misc]
        self._stats.stylise_s += time.perf_counter() - t0
        self._stats.keyframes += 1
        if not isinstance(out, np.ndarray) or out.dtype != np.uint8 or out.shape != frame.shape:
            raise InvalidInput("stylise", f"result {getattr(out, 'shape', type(out).__name__)} {getattr(out, 'dtype', '')}",
                               f"must return an {frame.shape} uint8 frame")
        return out

    def _push(self, t: int, frame: np.ndarray) -> list[np.ndarray]:
        grid = self._reduce(frame)
        scene_start = t == 0 or t in self.cuts
        pair = None if scene_start else self._flow.pair(t - 1)
        if self.mode == "first_frame":
            outs = [self._first_frame_step(t, frame, grid, pair)]
        else:
            outs = self._keyframe_step(t, frame, grid, pair)
        return outs

    def _finish(self, t: int, frame: np.ndarray, raw: np.ndarray, uncovered: np.ndarray | None,
                pair: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
        """Temporal filter against the previous output, measurement, bookkeeping.

        ``uncovered`` (flow grid, float in [0, 1]) is the share of each pixel that came from the
        guide fill: the filter weighs the past by ``filter_strength`` there and by
        ``filter_anchored`` on propagated pixels; None: no filter (keyframes, scene starts).
        """
        p = self.params
        out = raw
        if (pair is not None and self._prev_out is not None and uncovered is not None
                and (p.filter_strength > 0 or p.filter_anchored > 0)):
            fwd, bwd = pair
            occ, err = fb_consistency(bwd, fwd, beta=self._flow.beta)
            conf = flow_confidence(err, scale=self._flow.conf_scale, occlusion=occ)
            weight = (p.filter_anchored + (p.filter_strength - p.filter_anchored) * uncovered) * conf
            if float(weight.max()) > 1e-3:  # (on the grid: cheap) nothing to filter on fully propagated frames
                out = temporal_filter(raw, self._prev_out, bwd, strength=np.minimum(weight, 0.99), tolerance=p.filter_tolerance)
        if self._meters is not None:
            if pair is not None and self._prev_out is not None and self._prev_emitted_src is not None:
                fwd, bwd = pair
                occ = disocclusion(fwd, bwd, beta=self._flow.beta)
                self._meters[0].update(self._prev_out, out, bwd, occ)
                self._meters[1].update(self._prev_emitted_src, frame, bwd, occ)
            self._prev_emitted_src = frame.copy()
        self._prev_out = out
        self._stats.frames += 1
        return out

    # -- anchors: correspondence, validity, rendering --------------------------------------------------
    def _validate_anchor(self, a: _Anchor, src: _Src, t: int) -> None:
        """Drift correction (direct refinement against the anchor's source) and soft validity."""
        p = self.params
        fh, fw = self.grid
        if self._refiner is not None and a.index != t and (t - a.index) % p.refine_every == 0:
            guess = a.coords if a.visible.all() else extrapolate_coords(a.coords, a.visible)
            mh, mw = self.match_size
            if (mh, mw) != (fh, fw):  # match at the (larger) match size, keep the result on the grid
                disp = self._refiner(src.luma, a.src.luma, upsample_coords(guess, (mh, mw))) - _pixel_grid(mh, mw)
                refined = resize_flow(disp, fh, fw) + _pixel_grid(fh, fw)
            else:
                refined = self._refiner(src.luma, a.src.luma, guess)
            # trusted chains move towards the direct match, smoothed (drift is smooth, the
            # match's own error is not); broken chains take the match
            corr = refined - a.coords
            if p.refine_smooth > 0:
                w = a.visible.astype(np.float32)
                num = cv2.GaussianBlur(corr * w[..., None], (0, 0), p.refine_smooth)
                den = cv2.GaussianBlur(w, (0, 0), p.refine_smooth)
                corr = np.where(a.visible[..., None], num / np.maximum(den, 1e-3)[..., None], corr)
            a.coords = np.where(a.visible[..., None], a.coords + np.float32(p.refine_gain) * corr, refined)
        inside = cv2.inRange(a.coords, (-0.5, -0.5), (fw - 0.5, fh - 0.5)) > 0
        conf = photometric_confidence(src.grid, sample_image(a.src.grid, a.coords), tolerance=p.photo_tolerance)
        keep = conf > p.photo_keep
        vis = (a.visible & keep) | (conf > p.photo_revalidate)
        # one-pixel holes are noise of the checks, not occlusions
        vis = cv2.morphologyEx(vis.astype(np.uint8), cv2.MORPH_CLOSE, _CROSS).astype(bool) & keep & inside
        a.visible = vis
        ramp = np.clip((conf - p.photo_keep) * np.float32(1.0 / max(p.photo_full - p.photo_keep, 1e-3)), 0, 1)
        v = np.where(vis, ramp, np.float32(0))
        a.validity = feather(v, p.feather) if p.feather > 0 else v

    def _render(self, a: _Anchor, box: tuple[slice, slice] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The anchor's edit sampled for the current frame, and its validity, at full resolution
        (only inside ``box``, a pair of full-resolution slices, when given)."""
        H, W = self.size
        full = upsample_coords(a.coords, (H, W))
        v = a.validity if a.validity is not None else a.visible.astype(np.float32)
        vfull = cv2.resize(v, (W, H), interpolation=cv2.INTER_LINEAR)
        if box is not None:
            full, vfull = np.ascontiguousarray(full[box]), np.ascontiguousarray(vfull[box])
        img = sample_image(a.edit, full, interpolation=self.params.interpolation)
        return img, vfull

    def _box(self, mask: np.ndarray) -> tuple[slice, slice] | None:
        """Full-resolution slices around a flow-grid mask (one grid pixel of margin), or None."""
        x, y, bw, bh = cv2.boundingRect(mask.astype(np.uint8))
        if bw == 0 or bh == 0:
            return None
        fh, fw = self.grid
        H, W = self.size
        sy, sx = H / fh, W / fw
        y0, x0 = max(0, int((y - 1) * sy)), max(0, int((x - 1) * sx))
        y1, x1 = min(H, int(np.ceil((y + bh + 1) * sy))), min(W, int(np.ceil((x + bw + 1) * sx)))
        return slice(y0, y1), slice(x0, x1)

    def _blend_fill(self, warped: np.ndarray, model: GuideModel, frame: np.ndarray, uncovered: np.ndarray) -> np.ndarray:
        """``warped`` with the guide transfer of ``frame`` blended in by ``uncovered`` (full res),
        computed only in the box around the pixels that need it."""
        need = (uncovered > 1e-3).view(np.uint8)
        n = cv2.countNonZero(need)
        self._stats.fill_pixels += n
        if n == 0:
            return warped
        x, y, bw, bh = cv2.boundingRect(need)
        box = (slice(y, y + bh), slice(x, x + bw))
        fill = apply_guide(model, np.ascontiguousarray(frame[box]), need[box].view(bool),
                           out=np.zeros((bh, bw, 3), np.uint8), frame_size=self.size, offset=(y, x))
        u = np.ascontiguousarray(uncovered[box])
        out = warped.copy()
        out[box] = cv2.blendLinear(np.ascontiguousarray(warped[box]), fill, 1.0 - u, u)
        return out

    def _guide_stats(self, src: _Src, edit: np.ndarray, weight: np.ndarray | None) -> GuideStats:
        p = self.params
        fh, fw = self.grid
        e = cv2.resize(edit, (fw, fh), interpolation=cv2.INTER_AREA).astype(np.float32) * np.float32(1 / 255)
        return guide_stats(src.grid, e, weight, cells=p.guide_cells, bins=p.guide_bins)

    def _update_guide(self, src: _Src, edit: np.ndarray, weight: np.ndarray | None, *, reset: bool = False) -> None:
        p = self.params
        st = self._guide_stats(src, edit, weight)
        if self._stats_acc is not None and not reset:
            st = self._stats_acc.scaled(p.guide_decay) + st
        self._stats_acc = st
        self._model = solve_guide(st)

    # -- first-frame mode ----------------------------------------------------------------------------------
    def _first_frame_step(self, t: int, frame: np.ndarray, grid: _Src,
                          pair: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
        if pair is None:  # scene start: a new anchor 0
            if t == 0:
                edit = self.first_frame
            elif self.stylise is not None:
                edit = self._stylise(frame, t)
            else:  # a new scene: the look carried by the guide's luma-binned model
                assert self._stats_acc is not None
                pooled = solve_guide(self._stats_acc.pooled())
                edit = apply_guide(pooled, frame, out=np.empty_like(frame))
            self._anchors = [_Anchor.at(t, edit, grid)]
            self._update_guide(grid, edit, None, reset=True)
            return self._finish(t, frame, edit.copy(), None, None)
        fwd, bwd = pair
        occluded = disocclusion(fwd, bwd, beta=self._flow.beta)
        for a in self._anchors:
            a.advance(bwd, occluded)
            self._validate_anchor(a, grid, t)
        # drop a re-anchor nobody sees any more (frame 0's anchor stays for the scene)
        self._anchors = [a for i, a in enumerate(self._anchors) if i == 0 or a.visible.mean() > 0.002]
        # composite: anchor 0 first, then the latest re-anchor (only where anchor 0 is not
        # fully valid: rendered in that box), then the guide fill
        a0 = self._anchors[0]
        warped, v0 = self._render(a0)
        uncovered = 1.0 - v0
        uncovered_grid = 1.0 - a0.validity  # type: ignore[operator]
        if len(self._anchors) > 1:
            a1 = self._anchors[1]
            box = self._box(uncovered_grid > 1e-3)
            if box is not None:
                img1, v1 = self._render(a1, box)
                u = uncovered[box]
                warped = warped.copy()
                warped[box] = cv2.blendLinear(warped[box], img1, 1.0 - u + 1e-6, u * v1)
                uncovered = uncovered.copy()
                uncovered[box] = u * (1.0 - v1)
            uncovered_grid = uncovered_grid * (1.0 - a1.validity)  # type: ignore[operator]
        result = self._blend_fill(warped, self._model, frame, uncovered)  # type: ignore[arg-type]
        out = self._finish(t, frame, result, uncovered_grid, pair)
        if t in self._keyset:  # re-anchor on the output; refit the guide where it is trusted
            self._update_guide(grid, out, 0.1 + 0.9 * (1.0 - uncovered_grid))
            self._anchors = self._anchors[:1] + [_Anchor.at(t, out, grid)]
        return out

    # -- keyframe mode ---------------------------------------------------------------------------------------
    def _keyframe_step(self, t: int, frame: np.ndarray, grid: _Src,
                       pair: tuple[np.ndarray, np.ndarray] | None) -> list[np.ndarray]:
        outs: list[np.ndarray] = []
        if t in self._keyset:
            styl = self._stylise(frame, t)
            seg = self._segment
            if seg is not None and pair is not None and seg["next"] == t:
                outs.extend(self._emit_segment((t, styl, grid)))
            elif seg is not None and seg["frames"]:
                outs.extend(self._emit_segment(None))
            # the keyframe itself: its stylisation (filtered like any frame within a scene)
            self._update_guide(grid, styl, None, reset=pair is None)
            anchor = _Anchor.at(t, styl, grid)
            out = self._finish(t, frame, styl.copy(), None, pair)
            outs.append(out)
            self._segment = {"anchor": anchor, "model": self._model, "next": self._next_key.get(t), "frames": [],
                             "stats": self._stats_acc}
            return outs
        seg = self._segment
        assert seg is not None, "frame 0 is always a keyframe"
        a: _Anchor = seg["anchor"]
        fwd, bwd = pair  # type: ignore[misc]
        a.advance(bwd, disocclusion(fwd, bwd, beta=self._flow.beta))
        self._validate_anchor(a, grid, t)
        if seg["next"] is None:  # one-sided tail of a scene: emit at once
            img, v = self._render(a)
            raw = self._blend_fill(img, seg["model"], frame, 1.0 - v)
            return [self._finish(t, frame, raw, 1.0 - a.validity, pair)]  # type: ignore[operator]
        slot = len(seg["frames"])
        self._buffer.data[slot] = frame  # type: ignore[union-attr]
        seg["frames"].append({"t": t, "grid": grid, "coords": a.coords.copy(), "visible": a.visible.copy(),
                              "validity": a.validity.copy()})  # type: ignore[union-attr]
        return outs

    def _emit_segment(self, next_key: tuple[int, np.ndarray, _Src] | None) -> list[np.ndarray]:
        """Output the buffered in-between frames of the current segment, given the next keyframe
        (index, stylised, grid source) or None (one-sided)."""
        seg = self._segment
        assert seg is not None
        frames = seg["frames"]
        a: _Anchor = seg["anchor"]
        _H, _W = self.size
        backward: list[_Anchor | None] = [None] * len(frames)
        model_b = None
        if next_key is not None:
            kb, styl_b, grid_b = next_key
            b = _Anchor.at(kb, styl_b, grid_b)
            # chain from the next keyframe back to each buffered frame with the forward flow
            for j in range(len(frames) - 1, -1, -1):
                t = frames[j]["t"]
                fwd = np.asarray(self._flow.forward[t], np.float32)
                occ = np.asarray(self._flow.occlusion[t], bool)
                b.advance(fwd, occ)
                self._validate_anchor(b, frames[j]["grid"], t)
                backward[j] = _Anchor(kb, styl_b, grid_b, b.coords.copy(), b.visible.copy(), b.validity.copy())
            st = self._guide_stats(grid_b, styl_b, None)
            model_b = solve_guide(seg["stats"].scaled(self.params.guide_decay) + st)
        outs = []
        for j, f in enumerate(frames):
            t = f["t"]
            src = np.array(self._buffer.data[j])  # type: ignore[union-attr]
            a.coords, a.visible, a.validity = f["coords"], f["visible"], f["validity"]
            img_a, va = self._render(a)
            b = backward[j]
            if b is not None and next_key is not None:
                pos = (t - a.index) / (next_key[0] - a.index)
                img_b, vb = self._render(b)
                wa, wb = va * (1 - pos), vb * pos
                warped = cv2.blendLinear(img_a, img_b, wa + 1e-6 * (1 - pos), wb + 1e-6 * pos)
                uncovered = (1.0 - va) * (1.0 - vb)
                uncovered_grid = (1.0 - a.validity) * (1.0 - b.validity)  # type: ignore[operator]
                model = blend_guides(seg["model"], model_b, pos)  # type: ignore[arg-type]
            else:
                warped, uncovered, model = img_a, 1.0 - va, seg["model"]
                uncovered_grid = 1.0 - a.validity  # type: ignore[operator]
            raw = self._blend_fill(warped, model, src, uncovered)
            pair = self._flow.pair(t - 1)
            outs.append(self._finish(t, src, raw, uncovered_grid, pair))
        seg["frames"] = []
        return outs

