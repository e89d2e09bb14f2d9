"""Sky analyzer: a soft, temporally stable sky alpha per frame, and whether the clip has sky.

Per frame, :func:`reworld.ops.sky.estimate_sky` combines colour, brightness, texture, position
(connected to the top edge, above a per-column skyline) and a colour model; see that module for
the method. Over time the analyzer propagates it along the ``flow`` track and re-estimates it
(``requires = ("flow",)``):

1. *forward pass* (streamed): the previous frame's filtered alpha is warped onto this frame
   with the backward flow (``flow["backward"][t-1]``, frame ``t`` → ``t-1``, resized from the
   stored grid to the analysis size) and serves as the estimate's prior; the fresh estimate is
   then blended with it, ``f_t = (1-k) raw_t + k c_t warp(f_{t-1})`` (``k = temporal``), where
   ``c_t`` is the per-pixel flow confidence (``exp(-(round-trip error / 1 px)^2)``, 0 where the
   pixel was not visible in the previous frame: occluded, uncovered or entering the frame), so
   occluded pixels take the fresh estimate. The colour model (sky vs ground histograms) is
   carried from frame to frame;
2. *cuts*: a large change of a 32x18 colour thumbnail restarts the prior, the model and both
   passes, so no sky leaks across a cut;
3. *zero-lag backward pass* in ``finalize``: ``b_t = (1-k) raw_t + k c'_t warp(b_{t+1})`` along
   the forward flow (``flow["forward"][t]``), merged with the forward pass as
   ``out_t = (f_t + b_t - (1-k) raw_t) / (W^f_t + W^b_t - (1-k))`` (the ``W`` are the same
   recursions on 1s: per-pixel normalisers), i.e. a symmetric exponential kernel
   ``Σ_d k^|d| raw_{t+d}`` taken along the motion (:func:`smooth_alpha`). Because the passes
   follow the flow, a moving skyline is not smeared.

Memory: the forward pass writes only ``uint8``/``uint16`` frames (raw alpha; forward alpha and
normaliser) to plain files under ``ctx.scratch`` with ordinary reads and writes (page cache, not
mapped, so they do not count in the process's RSS); the backward pass reads them back one frame
at a time and writes the output alpha the same way, which is then handed out as a read-only
memory map. RAM stays at a few frames whatever the clip length.

Without a ``flow`` track in ``ctx.tracks`` (the analyzer run by hand) frames are blended
unaligned, as if the camera stood still.

Arrays (analysis size ``(h, w)``, ``T`` frames):

- ``alpha``: ``(T, h, w)`` uint8, 0-255 = alpha 0-1 (1 = sky); a memory map when computed with
  a scratch folder.
- ``fraction``: ``(T,)`` float32, mean alpha of each frame (share of the frame that is sky).
- ``present``: ``(T,)`` bool, ``fraction >= min_sky_fraction``.
- ``confidence``: ``(T,)`` float32 in [0, 1], how sky-like each frame's seed region was.

Meta: ``has_sky`` (sky present in at least 3 frames, or in every frame of a shorter clip),
``message`` ("no sky found" or a one-line summary),
``frames_with_sky``, ``mean_fraction``, ``cuts`` (frame indices where smoothing restarted),
``motion_compensated`` (whether a flow track was used).

Example:
    >>> from reworld.analysis.base import REGISTRY
    >>> REGISTRY["sky"].Params()
    SkyAnalyzer.Params(temporal=0.6, min_sky_fraction=0.02)
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from reworld.analysis.base import AnalysisContext, Analyzer, FrameChunk, check_overlay_args, register
from reworld.analysis.tracks import Track
from reworld.errors import InvalidInput
from reworld.ops.sky import SkyModel, estimate_sky

__all__ = ["SkyAnalyzer", "overlay", "smooth_alpha", "tint"]

#: mean absolute change (0-1) of a 32x18 colour thumbnail above which smoothing restarts
CUT_THRESHOLD = 0.12
#: colour of the overlay tint (RGB, 0-255): orange, which stands out on blue, grey and night
#: skies and differs from the flow overlay's magenta occlusion tint
TINT_RGB = (255, 120, 0)
#: round-trip flow error (analysis pixels) at which a pixel's propagation confidence is 1/e
FLOW_CONFIDENCE_PX = 1.0
_U16 = 65000.0


class _Motion:
    """Flow between neighbouring frames at the analysis size, with per-pixel confidence.

    Built from a ``flow`` track (stored grid ``meta["size"]``, vectors in stored-grid pixels):
    :meth:`to_prev` gives, for the pixels of frame ``t``, where they are in frame ``t-1``
    (a ``cv2.remap`` map: pixel position plus the backward flow resized to the analysis size)
    and the confidence ``exp(-(err / 1 px)^2)`` of the forward-backward round trip (0 where the
    check marks the pixel occluded, uncovered or leaving the frame); :meth:`to_next` the same
    towards ``t+1``. Without a track every call returns ``None`` (no motion, full confidence).
    """

    def __init__(self, track: Any, size: tuple[int, int]) -> None:
        self.h, self.w = size
        ok = track is not None and "forward" in track and "backward" in track
        self.track = track if ok else None
        self.pairs = len(self.track["forward"]) if self.track is not None else 0
        self.s = 1.0
        if self.track is not None:
            meta = getattr(self.track, "meta", None) or {}
            fh, fw = self.track["forward"].shape[1:3]
            to_a = meta.get("to_analysis") or [self.w / fw, self.h / fh]
            self.s = 1.0 / float(to_a[0])  # stored-grid px per analysis px
            xs, ys = np.meshgrid(np.arange(self.w, dtype=np.float32), np.arange(self.h, dtype=np.float32))
            self._grid = np.dstack([xs, ys])

    @property
    def available(self) -> bool:
        return self.track is not None

    def _pair(self, flow: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import cv2

        from reworld.ops.flow import FB_BETA, fb_consistency

        flow = np.array(flow, np.float32)  # a copy: scaled in place below
        occ, err = fb_consistency(flow, np.asarray(other, np.float32), beta=FB_BETA * self.s * self.s)
        err *= np.float32(1.0 / (FLOW_CONFIDENCE_PX * self.s))
        conf = cv2.exp(-cv2.multiply(err, err))
        conf[occ] = 0.0
        if conf.shape != (self.h, self.w):
            conf = cv2.resize(conf, (self.w, self.h), interpolation=cv2.INTER_LINEAR)
        if flow.shape[:2] != (self.h, self.w):  # resize_flow, with the (small) field scaled first
            fh, fw = flow.shape[:2]
            flow *= np.float32([self.w / fw, self.h / fh])
            flow = cv2.resize(flow, (self.w, self.h), interpolation=cv2.INTER_LINEAR)
        flow += self._grid  # the remap map: where each pixel is in the other frame
        return flow, conf

    def _none(self) -> tuple[np.ndarray, np.ndarray]:
        return self._grid, np.zeros((self.h, self.w), np.float32)

    def to_prev(self, t: int) -> tuple[np.ndarray, np.ndarray] | None:
        """``(remap map t -> t-1, confidence)`` on frame ``t``'s grid, analysis px; ``None`` = no track."""
        if self.track is None:
            return None
        if not 0 < t <= self.pairs:
            return self._none()
        return self._pair(self.track["backward"][t - 1], self.track["forward"][t - 1])

    def to_next(self, t: int) -> tuple[np.ndarray, np.ndarray] | None:
        """``(remap map t -> t+1, confidence)`` on frame ``t``'s grid, analysis px; ``None`` = no track."""
        if self.track is None:
            return None
        if not 0 <= t < self.pairs:
            return self._none()
        return self._pair(self.track["forward"][t], self.track["backward"][t])


#: the filter state: (alpha x normaliser, normaliser) planes, float32, analysis size
_State = tuple[np.ndarray, np.ndarray]
#: a filtered alpha below this everywhere (~0.03 levels of 255) is snapped to :class:`_NoSky`
_NEGLIGIBLE = 1e-4


class _NoSky:
    """The state of a history without any sky: alpha 0 everywhere and a uniform normaliser
    ``w`` (as if the flow were trusted everywhere). Carried without warping or per-pixel
    arithmetic, so clips and stretches without sky cost nothing beyond the per-frame estimate."""

    __slots__ = ("w",)

    def __init__(self, w: float) -> None:
        self.w = float(w)


def _no_sky(state: Any, k: float) -> _NoSky:
    """The next :class:`_NoSky` state after ``state`` (``None``: start of a shot) and a frame
    without sky: ``W = (1-k) + k W'``."""
    prev = state.w if isinstance(state, _NoSky) else 0.0
    return _NoSky((1.0 - k) + k * prev)


def _move(state: Any, motion: tuple[np.ndarray, np.ndarray] | None
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``(warp(f), warp(W), confidence)``: the state moved along the flow (unmoved, with
    confidence ``None`` = 1, without a flow track)."""
    import cv2

    conf = None if motion is None else motion[1]
    if isinstance(state, _NoSky):
        if motion is None:
            return np.float32(0.0), np.float32(state.w), None
        return np.zeros(conf.shape, np.float32), np.full(conf.shape, state.w, np.float32), conf
    if motion is None:
        return state[0], state[1], None
    where = motion[0]
    return (cv2.remap(state[0], where, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE),
            cv2.remap(state[1], where, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE), conf)


def _step(r: np.ndarray, moved: tuple[Any, Any, np.ndarray | None] | None, k: float) -> Any:
    """One step of either pass: ``f = (1-k) r + k c f'``, ``W = (1-k) + k c W'`` (primes: moved)."""
    base = np.float32(1.0 - k)
    if moved is None or k == 0.0:
        if float(r.max()) * base < _NEGLIGIBLE:
            return _NoSky(float(base))
        return r * base, np.full(r.shape, base, np.float32)
    f, w, conf = moved
    kc = np.float32(k) if conf is None else conf * np.float32(k)
    f = f * kc + r * base
    w = w * kc + base
    if float(f.max()) < _NEGLIGIBLE:
        return _NoSky(float(np.median(w)))
    if np.ndim(w) == 0:
        w = np.full(r.shape, w, np.float32)
    return f, w


def _advance(state: Any, r8: np.ndarray, motion: Any, k: float) -> Any:
    """The next state of a pass from ``r8`` (uint8 alpha) and the previous ``state`` (``None`` at
    the start of a shot); ``motion()`` gives the flow towards the previous state's frame."""
    if not r8.any() and (state is None or isinstance(state, _NoSky)):
        return _no_sky(state, k)
    r = r8.astype(np.float32) * np.float32(1 / 255.0)
    if state is None or k == 0.0:
        return _step(r, None, k)
    return _step(r, _move(state, motion()), k)


def _pack(state: Any, shape: tuple[int, int]) -> np.ndarray:
    """``(2, h, w)`` uint16 of a state (values in [0, 1] scaled by :data:`_U16`)."""
    out = np.empty((2, *shape), np.uint16)
    if isinstance(state, _NoSky):
        out[0] = 0
        out[1] = round(state.w * _U16)
        return out
    for i in (0, 1):
        v = state[i] * np.float32(_U16)
        v += np.float32(0.5)
        out[i] = v  # in [0.5, U16 + 0.5]: truncation rounds, no overflow below 65535
    return out


def _unpack(packed: np.ndarray) -> _State:
    return (packed[0].astype(np.float32) * np.float32(1 / _U16), packed[1].astype(np.float32) * np.float32(1 / _U16))


class _Frames:
    """Per-frame arrays of one shape and dtype: a plain file under ``scratch`` read and written
    with ordinary file I/O (the data sits in the page cache, not in this process's mapped
    memory, so it does not count in its RSS), or a dict in RAM without ``scratch``."""

    def __init__(self, scratch: str | None, name: str, shape: tuple[int, ...], dtype: Any) -> None:
        self.shape, self.dtype = tuple(shape), np.dtype(dtype)
        self.nbytes = int(np.prod(self.shape)) * self.dtype.itemsize
        self.path: str | None = None
        self._ram: dict[int, np.ndarray] = {}
        self._file: Any = None
        if scratch is not None:
            self.path = os.path.join(scratch, f"{name}-{uuid.uuid4().hex[:8]}.bin")
            self._file = open(self.path, "w+b")  # noqa: SIM115 - closed in close()

    def write(self, t: int, a: np.ndarray) -> None:
        a = np.ascontiguousarray(a, self.dtype)
        if self._file is None:
            self._ram[t] = a.copy()
            return
        self._file.seek(t * self.nbytes)
        self._file.write(a.data)

    def read(self, t: int) -> np.ndarray:
        if self._file is None:
            return self._ram[t]
        self._file.seek(t * self.nbytes)
        out = np.empty(self.shape, self.dtype)
        self._file.readinto(out.data)
        return out

    def as_array(self, n: int) -> np.ndarray:
        """The first ``n`` frames: a read-only memory map of the file, or a stacked array."""
        if self._file is None:
            return (np.stack([self._ram[t] for t in range(n)]) if n
                    else np.zeros((0, *self.shape), self.dtype))
        self._file.flush()
        if n == 0:
            return np.zeros((0, *self.shape), self.dtype)
        return np.memmap(self.path, self.dtype, "r", shape=(n, *self.shape))

    def close(self, *, remove: bool = True) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
            if remove and self.path is not None:
                try:
                    os.remove(self.path)
                except OSError:
                    pass
        self._ram = {}


def _backward_merge(T0: int, T1: int, k: float, raw: Any, fwd: Any, out: Any, motion: _Motion,
                    fractions: np.ndarray | None = None) -> None:
    """Backward pass over frames ``[T0, T1)`` merged with the stored forward pass into ``out``.

    ``raw.read(t)`` uint8 raw alpha, ``fwd.read(t)`` the forward state packed by :func:`_pack`;
    ``out.write(t, uint8)``.
    """
    state: Any = None
    base = np.float32(1.0 - k)
    for t in range(T1 - 1, T0 - 1, -1):
        r8 = raw.read(t)
        state = _advance(state, r8, lambda t=t: motion.to_next(t), k)
        packed = fwd.read(t)
        if isinstance(state, _NoSky) and not packed[0].any():  # no sky before, now or after
            out.write(t, np.zeros(r8.shape, np.uint8))
            continue
        # out = (f + b - (1-k) r) / (W_f + W_b - (1-k)): the present frame counted once
        f, w = _unpack(packed)
        if isinstance(state, _NoSky):
            w += np.float32(state.w) - base
        else:
            f += state[0]
            f -= r8.astype(np.float32) * np.float32(base / 255.0)
            w += state[1]
            w -= base
        np.maximum(w, np.float32(1e-6), out=w)
        f /= w
        f *= np.float32(255.0)
        f += np.float32(0.5)
        np.clip(f, 0, 255, out=f)
        a8 = f.astype(np.uint8)
        out.write(t, a8)
        if fractions is not None:
            fractions[t] = float(a8.mean()) / 255.0


@register
class SkyAnalyzer(Analyzer):
    """Soft sky alpha per frame, propagated along the flow and stabilised over time (see module doc)."""

    name = "sky"
    version = 2
    requires = ("flow",)

    @dataclass(frozen=True)
    class Params:
        """Parameters.

        Attributes:
            temporal: in [0, 1): weight of the neighbouring frames in the temporal smoothing
                along the flow (0 = none, each frame on its own; 0.6 ≈ ±2 frames).
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
        h, w = ctx.size
        self._size = (int(h), int(w))
        self._n = 0
        self._state: Any = None  # forward pass: (alpha x normaliser, normaliser), _NoSky, or None
        self._model: SkyModel | None = None
        self._thumb: np.ndarray | None = None
        self._cuts: list[int] = []
        self._confidence: list[float] = []
        self._scratch = ctx.scratch
        self._motion = _Motion(ctx.tracks.get("flow"), self._size)
        self._raw = _Frames(ctx.scratch, "sky-raw", self._size, np.uint8)
        self._fwd = _Frames(ctx.scratch, "sky-fwd", (2, *self._size), np.uint16)

    def process(self, chunk: FrameChunk, ctx: AnalysisContext) -> None:
        import cv2

        k = float(self.params.temporal)
        for frame in chunk.frames:
            t = self._n
            thumb = cv2.resize(frame, (32, 18), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
            if self._thumb is not None and float(np.abs(thumb - self._thumb).mean()) > CUT_THRESHOLD:
                self._cuts.append(t)
                self._state, self._model = None, None
            self._thumb = thumb
            moved = prior = None
            if self._state is not None and not isinstance(self._state, _NoSky):
                # the previous frame's forward-filtered alpha, moved onto this frame along the
                # flow: the estimate's prior where the flow is trusted, and the past half of
                # the temporal filter
                moved = _move(self._state, self._motion.to_prev(t))
                prior = moved[0] / np.maximum(moved[1], np.float32(1e-6))
                if moved[2] is not None:
                    prior *= moved[2]
            est = estimate_sky(frame, prior=prior, model=self._model)
            self._model = est.model
            r8 = np.clip(est.alpha * 255.0 + 0.5, 0, 255).astype(np.uint8)
            if moved is not None and k > 0.0:
                self._state = _step(r8.astype(np.float32) * np.float32(1 / 255.0), moved, k)
            else:
                self._state = _advance(self._state, r8, lambda t=t: self._motion.to_prev(t), k)
            self._raw.write(t, r8)
            self._fwd.write(t, _pack(self._state, self._size))
            self._confidence.append(est.confidence)
            self._n += 1

    def finalize(self, ctx: AnalysisContext) -> Track:
        T = self._n
        k = float(self.params.temporal)
        out = _Frames(self._scratch, "sky-alpha", self._size, np.uint8)
        fraction = np.zeros(T, np.float32)
        starts = [0] + [c for c in sorted(set(self._cuts)) if 0 < c < T] + [T]
        for s0, s1 in itertools.pairwise(starts):
            _backward_merge(s0, s1, k, self._raw, self._fwd, out, self._motion, fraction)
        self._raw.close()
        self._fwd.close()
        alpha = out.as_array(T)
        out.close(remove=False)  # the memory map keeps the file; it goes with the scratch folder
        present = fraction >= self.params.min_sky_fraction
        # has sky: present in at least 3 frames (or all of a shorter clip), so one odd frame
        # does not turn a clip into a sky clip
        has_sky = bool(present.sum() >= min(3, T)) if T else False
        n_sky = int(present.sum())
        if has_sky:
            message = (f"sky in {n_sky} of {T} frames, mean fraction {float(fraction[present].mean()):.2f}")
        else:
            message = "no sky found"
        meta = {"has_sky": has_sky, "message": message, "frames_with_sky": n_sky,
                "mean_fraction": round(float(fraction.mean()) if T else 0.0, 4),
                "cuts": list(self._cuts), "alpha_scale": "uint8 0-255 = alpha 0-1",
                "motion_compensated": self._motion.available}
        self._state = None
        return Track(self.name, {"alpha": alpha, "fraction": fraction, "present": present,
                                 "confidence": np.asarray(self._confidence, np.float32)}, meta)


class _ArrayFrames:
    """:class:`_Frames`'s read/write interface over an existing array (for :func:`smooth_alpha`)."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = array

    def read(self, t: int) -> np.ndarray:
        return np.asarray(self.array[t])

    def write(self, t: int, a: np.ndarray) -> None:
        self.array[t] = a


def smooth_alpha(raw: np.ndarray, out: np.ndarray, temporal: float, cuts: list[int], *,
                 flow: Mapping[str, np.ndarray] | None = None, buffer: np.ndarray | None = None) -> None:
    """Zero-lag exponential smoothing of ``raw`` into ``out`` along time (and the flow), restarting at cuts.

    Without ``flow``: ``out_t = Σ_d k^|d| raw_{t+d} / Σ_d k^|d|`` over the frames of the same
    shot (``k = temporal``). With a ``flow`` track the neighbours are first warped along the
    motion (backward flow for the forward pass, forward flow for the backward pass) and each
    term is weighted by the per-pixel flow confidence (0 where occluded), so moving edges do not
    lag. Computed as a forward pass (kept in ``buffer`` as uint16) and a backward pass merged on
    the fly: one or two frames in float at a time. (The analyzer runs the same two passes, the
    forward one while streaming.)

    Args:
        raw: ``(T, h, w)`` uint8 per-frame alphas.
        out: ``(T, h, w)`` uint8 array to write (may be a memory map; not ``raw``).
        temporal: k in [0, 1).
        cuts: frame indices that start a new shot.
        flow: optional ``flow`` track (``forward``, ``backward`` on any stored grid; ``meta``
            optional) of the same clip.
        buffer: ``(T, 2, h, w)`` uint16 scratch for the forward pass (alpha x normaliser,
            normaliser, scaled by 65000) (e.g. a memory map);
            allocated in RAM when omitted.

    Example:
        >>> raw = np.zeros((5, 1, 1), np.uint8); raw[2] = 255
        >>> out = np.empty_like(raw); smooth_alpha(raw, out, 0.5, [])
        >>> out[:, 0, 0].tolist()
        [33, 54, 102, 54, 33]
    """
    T, h, w = raw.shape
    k = float(temporal)
    if buffer is None:
        buffer = np.empty((T, 2, h, w), np.uint16)
    motion = _Motion(flow, (h, w))
    raws, fwd, outs = _ArrayFrames(raw), _ArrayFrames(buffer), _ArrayFrames(out)
    starts = [0] + [c for c in sorted(set(cuts)) if 0 < c < T] + [T]
    for s0, s1 in itertools.pairwise(starts):
        state: Any = None
        for t in range(s0, s1):
            state = _advance(state, raws.read(t), lambda t=t: motion.to_prev(t), k)
            fwd.write(t, _pack(state, (h, w)))
        _backward_merge(s0, s1, k, raws, fwd, outs, motion)


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

    alpha = track["alpha"]
    check_overlay_args(frame, index, alpha.shape[0])
    out = tint(frame, np.asarray(alpha[index]))
    fh = frame.shape[0]
    frac = float(track["fraction"][index]) if "fraction" in track else float(np.asarray(alpha[index]).mean()) / 255
    label = f"sky {100 * frac:.0f}%" if frac > 0 else "no sky"
    cv2.putText(out, label, (10, max(20, fh // 20) + max(20, fh // 20)), cv2.FONT_HERSHEY_SIMPLEX, max(0.4, fh / 900),
                (255, 255, 255), 1, cv2.LINE_AA)
    return out
