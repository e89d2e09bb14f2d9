"""Sky analyzer: a soft, temporally stable sky alpha per frame, and whether the clip has sky.

Per frame, :func:`reworld.ops.sky.estimate_sky` combines colour, brightness, texture, position
(connected to the top edge, above a per-column skyline) and a colour model; see that module for
the method. Over time the analyzer stabilises it without needing the flow analyzer:

1. *prior* (streamed): each frame is estimated with an exponential moving average of the
   previous alphas (weight ``temporal`` on the past) as a prior and with the colour model
   (sky vs ground histograms) carried from earlier frames; its alpha is stored (uint8, a
   memory map under ``ctx.scratch``);
2. *cuts*: a large change of a 32x18 colour thumbnail restarts the prior, the model and the
   smoothing, so no sky leaks across a cut;
3. *zero-lag smoothing* in ``finalize``: the stored alphas are averaged with a symmetric
   exponential kernel, ``out_t ∝ Σ_d temporal^|d| · raw_{t+d}`` within a shot, computed as a
   backward pass plus a forward pass (:func:`smooth_alpha`), one frame in RAM at a time.

Flow-guided propagation (warping the previous alpha along the ``flow`` track before mixing)
is the next step; without it a fast pan smears the sky edge over a few pixels.

Arrays (analysis size ``(h, w)``, ``T`` frames):

- ``alpha``: ``(T, h, w)`` uint8, 0-255 = alpha 0-1 (1 = sky); a memory map while computed.
- ``fraction``: ``(T,)`` float32, mean alpha of each frame (share of the frame that is sky).
- ``present``: ``(T,)`` bool, ``fraction >= min_sky_fraction``.
- ``confidence``: ``(T,)`` float32 in [0, 1], how sky-like each frame's seed region was.

Meta: ``has_sky`` (sky present in at least 3 frames, or in every frame of a shorter clip),
``message`` ("no sky found" or a one-line summary),
``frames_with_sky``, ``mean_fraction``, ``cuts`` (frame indices where smoothing restarted).

Example:
    >>> from reworld.analysis.base import REGISTRY
    >>> REGISTRY["sky"].Params()
    SkyAnalyzer.Params(temporal=0.6, min_sky_fraction=0.02)
"""

from __future__ import annotations

import itertools
import os
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np

from reworld.analysis.base import AnalysisContext, Analyzer, FrameChunk, register
from reworld.analysis.tracks import Track
from reworld.errors import InvalidInput
from reworld.ops.sky import SkyModel, estimate_sky

__all__ = ["SkyAnalyzer", "overlay", "smooth_alpha", "tint"]

#: mean absolute change (0-1) of a 32x18 colour thumbnail above which smoothing restarts
CUT_THRESHOLD = 0.12
#: colour of the overlay tint (RGB, 0-255): orange, which stands out on blue, grey and night
#: skies and differs from the flow overlay's magenta occlusion tint
TINT_RGB = (255, 120, 0)


@register
class SkyAnalyzer(Analyzer):
    """Soft sky alpha per frame, stabilised over time (see module doc)."""

    name = "sky"
    version = 1

    @dataclass(frozen=True)
    class Params:
        """Parameters.

        Attributes:
            temporal: in [0, 1): weight of the neighbouring frames in the temporal smoothing
                (0 = none, each frame on its own; 0.6 ≈ ±2 frames).
            min_sky_fraction: in [0, 1]: a frame has sky when at least this share of it is sky.
        """

        temporal: float = 0.6
        min_sky_fraction: float = 0.02

    def validate(self) -> None:
        p = self.params
        if not isinstance(p.temporal, (int, float)) or not 0.0 <= p.temporal < 1.0:
            raise InvalidInput("sky.temporal", p.temporal, "must be a number in [0, 1)")
        if not isinstance(p.min_sky_fraction, (int, float)) or not 0.0 <= p.min_sky_fraction <= 1.0:
            raise InvalidInput("sky.min_sky_fraction", p.min_sky_fraction, "must be a number in [0, 1]")

    def setup(self, ctx: AnalysisContext) -> None:
        self._raw: list[np.ndarray] | np.memmap = []
        self._n = 0
        self._cap = max(1, int(ctx.n_frames))
        self._prior: np.ndarray | None = None
        self._model: SkyModel | None = None
        self._thumb: np.ndarray | None = None
        self._cuts: list[int] = []
        self._confidence: list[float] = []
        self._size = tuple(ctx.size)
        self._scratch = ctx.scratch

    # -- storage: a growable memory map under ctx.scratch (RAM stays flat), else a list
    def _store(self, index: int, alpha8: np.ndarray) -> None:
        if self._scratch is None:
            self._raw.append(alpha8)  # type: ignore[union-attr]
            return
        if isinstance(self._raw, list) or index >= self._raw.shape[0]:
            cap = self._cap if isinstance(self._raw, list) else self._raw.shape[0] * 2
            self._raw = self._grow(self._raw, max(cap, index + 1))
        self._raw[index] = alpha8

    def _grow(self, old: Any, cap: int) -> np.memmap:
        path = os.path.join(self._scratch, f"sky-raw-{uuid.uuid4().hex[:8]}.u8")
        mm = np.memmap(path, np.uint8, "w+", shape=(cap, *self._size))
        if not isinstance(old, list):
            mm[: old.shape[0]] = old
        return mm

    def process(self, chunk: FrameChunk, ctx: AnalysisContext) -> None:
        import cv2

        k = float(self.params.temporal)
        for frame in chunk.frames:
            thumb = cv2.resize(frame, (32, 18), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
            if self._thumb is not None and float(np.abs(thumb - self._thumb).mean()) > CUT_THRESHOLD:
                self._cuts.append(self._n)
                self._prior, self._model = None, None
            self._thumb = thumb
            est = estimate_sky(frame, prior=self._prior, model=self._model)
            self._model = est.model
            self._prior = est.alpha if self._prior is None else (1 - k) * est.alpha + k * self._prior
            self._store(self._n, np.clip(est.alpha * 255.0 + 0.5, 0, 255).astype(np.uint8))
            self._confidence.append(est.confidence)
            self._n += 1

    def finalize(self, ctx: AnalysisContext) -> Track:
        T = self._n
        h, w = self._size
        raw = np.stack(self._raw) if isinstance(self._raw, list) else self._raw[:T]
        if T == 0:
            raw = np.zeros((0, h, w), np.uint8)
        if self._scratch is not None and T:
            path = os.path.join(self._scratch, f"sky-alpha-{uuid.uuid4().hex[:8]}.u8")
            out = np.memmap(path, np.uint8, "w+", shape=(T, h, w))
        else:
            out = np.empty((T, h, w), np.uint8)
        buffer = None
        if self._scratch is not None and T:
            bpath = os.path.join(self._scratch, f"sky-back-{uuid.uuid4().hex[:8]}.f32")
            buffer = np.memmap(bpath, np.float32, "w+", shape=(T, h, w))
        smooth_alpha(raw, out, self.params.temporal, self._cuts, buffer=buffer)
        del buffer
        fraction = np.array([float(out[t].mean()) / 255.0 for t in range(T)], np.float32)
        present = fraction >= self.params.min_sky_fraction
        # has sky: present in at least 3 frames (or all of a shorter clip), so one odd frame
        # does not turn a clip into a sky clip
        has_sky = bool(present.sum() >= min(3, T)) if T else False
        n_sky = int(present.sum())
        if has_sky:
            message = (f"sky in {n_sky} of {T} frames, mean fraction {float(fraction[present].mean()):.2f}")
        else:
            message = "no sky found"
        if isinstance(out, np.memmap):
            out.flush()
        meta = {"has_sky": has_sky, "message": message, "frames_with_sky": n_sky,
                "mean_fraction": round(float(fraction.mean()) if T else 0.0, 4),
                "cuts": list(self._cuts), "alpha_scale": "uint8 0-255 = alpha 0-1"}
        return Track(self.name, {"alpha": out, "fraction": fraction, "present": present,
                                 "confidence": np.asarray(self._confidence, np.float32)}, meta)


def smooth_alpha(raw: np.ndarray, out: np.ndarray, temporal: float, cuts: list[int], *,
                 buffer: np.ndarray | None = None) -> None:
    """Symmetric exponential smoothing of ``raw`` into ``out`` along time, restarting at cuts.

    ``out_t = Σ_d k^|d| raw_{t+d} / Σ_d k^|d|`` over the frames of the same shot (``k =
    temporal``), computed as a backward pass (kept in ``buffer``) and a forward pass, so memory
    stays at one frame plus the arrays passed in.

    Args:
        raw: ``(T, h, w)`` uint8 per-frame alphas.
        out: ``(T, h, w)`` uint8 array to write (may be a memory map; not ``raw``).
        temporal: k in [0, 1).
        cuts: frame indices that start a new shot.
        buffer: ``(T, h, w)`` float32 scratch for the backward pass (e.g. a memory map);
            allocated in RAM when omitted.

    Example:
        >>> raw = np.zeros((5, 1, 1), np.uint8); raw[2] = 255
        >>> out = np.empty_like(raw); smooth_alpha(raw, out, 0.5, [])
        >>> out[:, 0, 0].tolist()
        [33, 54, 102, 54, 33]
    """
    T = raw.shape[0]
    k = float(temporal)
    if buffer is None:
        buffer = np.empty(raw.shape, np.float32)
    starts = [0] + [c for c in sorted(set(cuts)) if 0 < c < T] + [T]
    for s0, s1 in itertools.pairwise(starts):
        # backward pass: b_t = (1-k) raw_t + k b_{t+1} (unnormalised), weights wb_t alongside
        b = None
        wbs = np.empty(s1 - s0)
        wb = 0.0
        for t in range(s1 - 1, s0 - 1, -1):
            r = raw[t].astype(np.float32)
            b = r * (1 - k) if b is None else r * (1 - k) + k * b
            buffer[t] = b
            wb = (1 - k) + k * wb
            wbs[t - s0] = wb
        # forward pass, merged: out_t = (f_t + b_t - (1-k) raw_t) / (wf_t + wb_t - (1-k))
        f = None
        wf = 0.0
        for t in range(s0, s1):
            r = raw[t].astype(np.float32)
            f = r * (1 - k) if f is None else r * (1 - k) + k * f
            wf = (1 - k) + k * wf
            total = wf + wbs[t - s0] - (1 - k)
            out[t] = np.clip((f + buffer[t] - (1 - k) * r) / total + 0.5, 0, 255).astype(np.uint8)


def tint(frame: np.ndarray, alpha: np.ndarray, *, strength: float = 0.55) -> np.ndarray:
    """Tint the sky of ``frame`` orange by ``alpha`` (for overlays and contact sheets).

    Args:
        frame: ``(H, W, 3)`` uint8 RGB.
        alpha: ``(h, w)`` float in [0, 1] or uint8 0-255 (resized to the frame).
        strength: tint opacity where alpha is 1.

    Returns:
        ``(H, W, 3)`` uint8 RGB.
    """
    import cv2

    a = np.asarray(alpha)
    a = a.astype(np.float32) / 255.0 if a.dtype == np.uint8 else a.astype(np.float32)
    H, W = frame.shape[:2]
    if a.shape != (H, W):
        a = cv2.resize(a, (W, H), interpolation=cv2.INTER_LINEAR)
    a = (np.clip(a, 0, 1) * strength)[..., None]
    out = frame.astype(np.float32) * (1 - a) + np.asarray(TINT_RGB, np.float32) * a
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def overlay(track: Track, frame: np.ndarray, index: int) -> np.ndarray:
    """The sky of frame ``index`` tinted orange, with its sky fraction (``reworld analyze --overlay``).

    Args:
        track: a ``sky`` track.
        frame: ``(H, W, 3)`` uint8 RGB frame ``index`` at any size (the alpha is resized).
        index: frame index in ``[0, T)``.

    Returns:
        ``(H, W, 3)`` uint8 RGB (a new array).
    """
    import cv2

    if not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise InvalidInput("frame", f"{getattr(frame, 'dtype', type(frame).__name__)} {getattr(frame, 'shape', '')}",
                           "must be an (H, W, 3) uint8 RGB frame")
    alpha = track["alpha"]
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < alpha.shape[0]:
        raise InvalidInput("index", index, f"must be a frame index in [0, {alpha.shape[0]})")
    out = tint(frame, np.asarray(alpha[index]))
    fh = frame.shape[0]
    frac = float(track["fraction"][index]) if "fraction" in track else float(np.asarray(alpha[index]).mean()) / 255
    label = f"sky {100 * frac:.0f}%" if frac > 0 else "no sky"
    cv2.putText(out, label, (10, max(20, fh // 20) + max(20, fh // 20)), cv2.FONT_HERSHEY_SIMPLEX, max(0.4, fh / 900),
                (255, 255, 255), 1, cv2.LINE_AA)
    return out
