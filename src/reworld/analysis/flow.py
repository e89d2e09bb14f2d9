"""Dense optical flow between consecutive frames, with occlusion and confidence (analyzer ``flow``).

Flow is estimated with DIS (:mod:`reworld.ops.flow`) on the frames the runner streams at the
analysis size (long side <= 512 by default), forward (frame ``i`` -> ``i+1``) and backward
(``i+1`` -> ``i``); a forward-backward check marks occlusions. The vectors are then **stored** at
``flow_long_side`` (<= the analysis size, never upscaled) as float16, so a clip costs
``T x fh x fw x 9`` bytes (256x144: 330 KB a frame) and the cache hands it back memory-mapped.
Arrays are written into memory maps under ``ctx.scratch`` as frames arrive: RAM stays flat
whatever the clip length.

Track arrays (``T`` = frames in the clip, ``(fh, fw)`` = ``meta["size"]``):

- ``forward``: ``(T-1, fh, fw, 2)`` float16 — flow of frame ``i`` to frame ``i+1``, ``(dx, dy)``
  in pixels **of the stored grid** (multiply by ``meta["to_full"]`` = ``[sx, sy]`` for
  full-resolution pixels, by ``meta["to_analysis"]`` for analysis pixels).
- ``backward``: ``(T-1, fh, fw, 2)`` float16 — flow of frame ``i+1`` to frame ``i``, on frame
  ``i+1``'s grid, same units.
- ``occlusion``: ``(T-1, fh, fw)`` bool — pixels of frame ``i`` not visible in frame ``i+1``
  (covered, or leaving the frame): Sundaram et al. 2010 forward-backward check at the analysis
  size, ``|f + b|^2 > 0.01 (|f|^2 + |b|^2) + 0.5 px^2``. The background uncovered in frame
  ``i+1`` is ``fb_consistency(backward[i], forward[i])`` (:mod:`reworld.ops.flow`).
- ``confidence``: ``(T-1,)`` float32 in [0, 1] — mean over frame ``i`` of
  ``exp(-(round-trip error / 1 px)^2)``, 0 where occluded.
- ``magnitude``: ``(T-1,)`` float32 — median ``|forward|`` in full-resolution pixels.

A one-frame clip gives arrays with ``T-1 = 0`` rows and ``meta["message"]``.

Example:
    >>> FlowAnalyzer({"preset": "ultrafast"}).params.flow_long_side
    256
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from reworld.analysis.base import AnalysisContext, Analyzer, FrameChunk, allocate_arrays, check_overlay_args, register
from reworld.analysis.tracks import Track
from reworld.errors import InvalidInput
from reworld.ops.flow import (
    DEFAULT_PRESET,
    FB_ALPHA,
    FB_BETA,
    PRESETS,
    FlowEstimator,
    fb_consistency,
    flow_confidence,
    flow_to_rgb,
    resize_flow,
    to_luma,
)

_ARRAYS = ("forward", "backward", "occlusion", "confidence", "magnitude")
#: overlay: weight of the flow colours over the frame, and tint of occluded pixels
_OVERLAY_ALPHA = 0.55
_OCCLUSION_TINT = np.array([255, 0, 160], np.float32)


def stored_size(h: int, w: int, long_side: int) -> tuple[int, int]:
    """``(fh, fw)``: ``(h, w)`` shrunk so the long side is at most ``long_side`` (never enlarged).

    Example:
        >>> stored_size(288, 512, 256)
        (144, 256)
    """
    s = min(1.0, long_side / max(h, w))
    return max(1, round(h * s)), max(1, round(w * s))


@register
class FlowAnalyzer(Analyzer):
    """Forward/backward DIS flow, occlusion, confidence and motion magnitude (see module doc)."""

    name = "flow"
    version = 1

    @dataclass(frozen=True)
    class Params:
        """Attributes:
            preset: DIS preset, ``"ultrafast"``, ``"fast"``, ``"balanced"`` (default) or
                ``"medium"`` (:data:`reworld.ops.flow.PRESETS`).
            flow_long_side: long side of the stored flow grid in pixels (>= 16; capped at the
                analysis size).
        """

        preset: str = DEFAULT_PRESET
        flow_long_side: int = 256

    def validate(self) -> None:
        p = self.params
        if p.preset not in PRESETS:
            raise InvalidInput("flow.preset", p.preset, f"must be one of {', '.join(PRESETS)}")
        if isinstance(p.flow_long_side, bool) or not isinstance(p.flow_long_side, int) or p.flow_long_side < 16:
            raise InvalidInput("flow.flow_long_side", p.flow_long_side, "must be an integer >= 16 pixels")

    # -- streaming -----------------------------------------------------------------------
    def setup(self, ctx: AnalysisContext) -> None:
        h, w = ctx.size
        self._size = stored_size(h, w, self.params.flow_long_side)
        self._estimator = FlowEstimator(self.params.preset)
        self._dir = tempfile.mkdtemp(prefix="flow-", dir=ctx.scratch) if ctx.scratch else None
        self._arrays: dict[str, np.ndarray] = {}
        self._allocate(max(ctx.n_frames - 1, 0))  # n_frames may over-report: trimmed in finalize
        self._n = 0
        self._prev: np.ndarray | None = None
        self._max_mag = 0.0
        fh, fw = self._size
        self._to_full = ((w / ctx.scale) / fw, (h / ctx.scale) / fh)  # (x, y)

    def _allocate(self, capacity: int) -> None:
        """(Re)allocate the output arrays for ``capacity`` pairs, keeping what is written."""
        fh, fw = self._size
        shapes = {"forward": ((capacity, fh, fw, 2), np.float16), "backward": ((capacity, fh, fw, 2), np.float16),
                  "occlusion": ((capacity, fh, fw), np.bool_), "confidence": ((capacity,), np.float32),
                  "magnitude": ((capacity,), np.float32)}
        # old memory maps are dropped on growth (their files go with the scratch folder)
        self._arrays = allocate_arrays(shapes, self._dir, self._arrays, getattr(self, "_n", 0))

    def process(self, chunk: FrameChunk, ctx: AnalysisContext) -> None:
        frames = chunk.frames
        for i in range(len(chunk)):
            luma = to_luma(frames[i], arg="frames")
            if np.shares_memory(luma, frames):
                luma = luma.copy()  # the runner may reuse the chunk buffer
            if self._prev is not None:
                self._add_pair(self._prev, luma, ctx)
            self._prev = luma  # carried over to the next chunk: pairs cross chunk boundaries

    def _add_pair(self, a: np.ndarray, b: np.ndarray, ctx: AnalysisContext) -> None:
        fwd = self._estimator(a, b)
        bwd = self._estimator(b, a)
        occ, err = fb_consistency(fwd, bwd, alpha=FB_ALPHA, beta=FB_BETA)
        conf = float(flow_confidence(err, occlusion=occ).mean())
        fh, fw = self._size
        f_small = resize_flow(fwd, fh, fw)
        b_small = resize_flow(bwd, fh, fw)
        if occ.shape != (fh, fw):  # a stored pixel is occluded when at least half its area is
            occ = cv2.resize(occ.astype(np.float32), (fw, fh), interpolation=cv2.INTER_AREA) >= 0.5
        i = self._n
        if i >= len(self._arrays["forward"]):
            self._allocate(max(2 * i, 16))
        arr = self._arrays
        arr["forward"][i] = f_small
        arr["backward"][i] = b_small
        arr["occlusion"][i] = occ
        arr["confidence"][i] = conf
        sx, sy = self._to_full
        mag_full = np.hypot(f_small[..., 0] * sx, f_small[..., 1] * sy)
        arr["magnitude"][i] = float(np.median(mag_full))
        self._max_mag = max(self._max_mag, float(np.percentile(np.hypot(f_small[..., 0], f_small[..., 1]), 99)))
        self._n = i + 1

    def finalize(self, ctx: AnalysisContext) -> Track:
        n = self._n
        arrays = {}
        for name in _ARRAYS:
            a = self._arrays[name]
            if isinstance(a, np.memmap):
                a.flush()
            arrays[name] = a[:n]  # a view: the real pair count, not the container's estimate
        h, w = ctx.size
        fh, fw = self._size
        meta: dict[str, Any] = {
            "pairs": n,
            "preset": self.params.preset,
            "unit": "pixels of the stored flow grid (dx, dy)",
            "size": [fh, fw],
            "analysis_size": [h, w],
            "full_size": [round(h / ctx.scale), round(w / ctx.scale)],
            "to_full": [round(self._to_full[0], 6), round(self._to_full[1], 6)],
            "to_analysis": [round(w / fw, 6), round(h / fh, 6)],
            "occlusion_rule": "|f + b(x+f)|^2 > alpha (|f|^2 + |b(x+f)|^2) + beta, or x+f outside the frame "
                              "(Sundaram et al. 2010), at the analysis size",
            "alpha": FB_ALPHA,
            "beta": FB_BETA,
            "max_magnitude": round(self._max_mag, 4),
        }
        if n == 0:
            meta["message"] = "one frame: no flow" if ctx.n_frames == 1 else "no frame pairs: no flow"
        else:
            meta["mean_confidence"] = round(float(arrays["confidence"].mean()), 4)
            meta["median_magnitude"] = round(float(np.median(arrays["magnitude"])), 4)
        self._prev = None
        return Track(self.name, arrays, meta)


def overlay(track: Track, frame: np.ndarray, index: int) -> np.ndarray:
    """Draw frame ``index``'s flow over the full-resolution frame (for ``reworld analyze --overlay``).

    Flow colours (Middlebury wheel, full saturation at the clip's 99th-percentile magnitude) are
    blended over the frame; occluded pixels are tinted magenta. The last frame shows its
    negated backward flow; a track without pairs returns the frame unchanged.

    Args:
        track: a ``flow`` track.
        frame: ``(H, W, 3)`` uint8 RGB, any size (the flow is resized to it).
        index: frame index in ``[0, T-1]``.

    Returns:
        ``(H, W, 3)`` uint8 RGB (a new array).
    """
    pairs = len(track["forward"])
    check_overlay_args(frame, index, pairs + 1)  # T = pairs + 1 frames
    if pairs == 0:
        return frame.copy()
    if index < pairs:
        flow = np.asarray(track["forward"][index], np.float32)
        occ = np.asarray(track["occlusion"][index])
    else:
        flow = -np.asarray(track["backward"][pairs - 1], np.float32)
        occ = np.zeros(flow.shape[:2], bool)
    H, W = frame.shape[:2]
    max_mag = float(track.meta.get("max_magnitude") or 0) or None
    colours = cv2.resize(flow_to_rgb(flow, max_mag=max_mag), (W, H), interpolation=cv2.INTER_LINEAR)
    out = frame.astype(np.float32) * (1 - _OVERLAY_ALPHA) + colours.astype(np.float32) * _OVERLAY_ALPHA
    occ_full = cv2.resize(occ.astype(np.uint8), (W, H), interpolation=cv2.INTER_NEAREST).astype(bool)
    out[occ_full] = out[occ_full] * 0.4 + _OCCLUSION_TINT * 0.6
    return np.round(np.clip(out, 0, 255)).astype(np.uint8)
