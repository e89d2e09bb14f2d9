"""Lips analyzer: mouth openness and width curves, visemes with start/end times, speech energy and a
lip-sync offset estimate, from the ``face`` track (``requires = ("face",)``) and the clip's audio.

Method:

1. **Mouth shape** in the face frame (head pose removed with
   :func:`reworld.ops.face.head_pose` / :func:`reworld.ops.face.to_face_frame`, so turning or
   moving the head does not change it): ``openness`` = inner-lip gap (mean of three
   upper/lower inner-lip pairs, 13-14, 82-87, 312-317), ``width`` = corner to corner (61-291),
   both in face-frame cm (a face-size-normalised unit). Per face and clip, openness is
   normalised to [0, 1] (5th percentile = closed, 98th = widest, at least 0.4 cm apart) and
   width is divided by its median (the performer's neutral width).
2. **Speech energy** where the clip has audio (``ctx.source`` read with
   :func:`reworld.io.audio.read_audio` at 16 kHz mono): RMS of the 300-3400 Hz band in a Hann
   window of two frame periods centred on each frame's time
   (:func:`reworld.ops.speech.energy_envelope`), and speech activity (frames clearly above the
   clip's noise floor, :func:`reworld.ops.speech.speech_activity`).
3. **Visemes** (Preston Blair mouth shapes, :data:`reworld.ops.speech.VISEMES`): per frame from
   openness, width and speech activity (:func:`reworld.ops.speech.classify_visemes`: a lip
   closure of at most 0.4 s between open frames, or one with speech energy, is ``MBP``; other
   closed frames are ``rest``), then runs shorter than
   ``min_segment_frames`` merged into their neighbours (:func:`reworld.ops.speech.viseme_segments`).
4. **Lip-sync offset**: the lag (within ``max_offset_s``) of the best Pearson correlation
   between the main face's openness and the energy envelope
   (:func:`reworld.ops.speech.lip_sync_offset`); > 0 means the sound comes later than the mouth.

Arrays (``T`` frames, ``F`` faces of the ``face`` track):

- ``openness``: ``(T, F)`` float32 inner-lip gap, face-frame cm (NaN without a face).
- ``width``: ``(T, F)`` float32 mouth width, face-frame cm.
- ``openness_norm``: ``(T, F)`` float32 in [0, 1] (per face, per clip).
- ``width_ratio``: ``(T, F)`` float32, width / the face's median width.
- ``viseme``: ``(T, F)`` int8 index into ``meta["visemes"]`` (-1 = no face).
- ``viseme_segments``: ``(N, 4)`` int32 rows ``(face, viseme, start, end)``, frame indices,
  end exclusive.
- ``segment_times``: ``(N, 2)`` float32 start and end seconds of each segment.
- ``energy``: ``(T,)`` float32 speech-band RMS (full scale 1.0); NaN without audio.
- ``energy_db``: ``(T,)`` float32 dB re full scale; ``speech``: ``(T,)`` bool speech activity.
- ``sync_lags``: ``(2L+1,)`` int32 lags tried (frames); ``sync_r``: ``(2L+1,)`` float32 the
  correlation at each (NaN without audio).
- ``present``: ``(T, F)`` bool (as the face track); ``ids``: ``(F,)`` int32 (the face ids).

Meta: ``message``, ``has_audio``, ``audio`` (what was used, or why not), ``offset_frames``,
``offset_ms``, ``offset_refined_ms``, ``offset_r``, ``offset_r_zero``, ``offset_confidence``,
``offset_face``, ``energy_r`` (Pearson r of the energy with the main face's openness and
``jawOpen`` at lag 0 and at the best lag), ``visemes``, ``viseme_rules``, ``segments``,
``speech_frames``, ``fps``.

Example:
    >>> from reworld.analysis.base import REGISTRY
    >>> REGISTRY["lips"].requires
    ('face',)
"""

from __future__ import annotations

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
from reworld.errors import InvalidInput, ReworldError
from reworld.ops import face as fops
from reworld.ops import speech as sp

__all__ = ["LipsAnalyzer", "mouth_curves", "overlay"]

#: audio is read at this rate (the speech band ends at 3.4 kHz)
AUDIO_RATE = 16000
#: smallest normalisation span of the lip gap, face-frame cm
MIN_OPEN_SPAN_CM = 0.4
_BLOCK = 512
#: a closure between open frames up to this long is a consonant (MBP), longer is rest
MAX_CLOSURE_S = 0.4


def mouth_curves(landmarks: np.ndarray, frame_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """``(openness, width)`` in face-frame cm of ``(..., 478, 3)`` landmarks (pose removed).

    Example:
        >>> c = fops.canonical_face() * 10.0 + [100.0, 100.0, 0.0]   # a neutral face, 10 px/cm
        >>> o, w = mouth_curves(c, (200, 200))
        >>> round(float(o), 2) >= 0.0, 3.0 < float(w) < 6.5
        (True, True)
    """
    lm = np.asarray(landmarks, np.float64)
    hp = fops.head_pose(lm, frame_size)
    p = fops.to_face_frame(lm, hp)
    gap = np.mean([p[..., lo, 1] - p[..., up, 1] for up, lo in fops.LIP_INNER_PAIRS], 0)
    width = np.linalg.norm(p[..., fops.MOUTH_CORNER["L"], :] - p[..., fops.MOUTH_CORNER["R"], :], axis=-1)
    return gap, width


@register
class LipsAnalyzer(Analyzer):
    """Mouth curves, visemes, speech energy and lip-sync offset (see module doc)."""

    name = "lips"
    version = 1
    requires = ("face",)

    @dataclass(frozen=True)
    class Params:
        """Parameters.

        Attributes:
            use_audio: read the clip's audio (when it has one) for speech energy and lip sync.
            max_offset_s: largest lip-sync offset searched, seconds, both ways.
            band_low, band_high: speech band of the energy envelope, Hz.
            min_segment_frames: viseme runs shorter than this are merged into a neighbour.
            closed, wide_open: openness (normalised) below which lips are closed / above which
                the mouth is wide open.
            spread, narrow: width ratio above which lips are spread (E) / below which rounded (O, U).
        """

        use_audio: bool = True
        max_offset_s: float = 0.5
        band_low: float = 300.0
        band_high: float = 3400.0
        min_segment_frames: int = 2
        closed: float = 0.15
        wide_open: float = 0.6
        spread: float = 1.05
        narrow: float = 0.93

    def validate(self) -> None:
        p = self.params
        if not isinstance(p.use_audio, bool):
            raise InvalidInput("lips.use_audio", p.use_audio, "must be true or false")
        if isinstance(p.max_offset_s, bool) or not isinstance(p.max_offset_s, (int, float)) or not 0 <= p.max_offset_s <= 10:
            raise InvalidInput("lips.max_offset_s", p.max_offset_s, "must be in [0, 10] seconds")
        for k in ("band_low", "band_high"):
            v = getattr(p, k)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 8000:
                raise InvalidInput(f"lips.{k}", v, "must be in [0, 8000] Hz")
        if p.band_low >= p.band_high:
            raise InvalidInput("lips.band_high", p.band_high, f"must be above band_low ({p.band_low})")
        m = p.min_segment_frames
        if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or not 1 <= m <= 1000:
            raise InvalidInput("lips.min_segment_frames", m, "must be an integer in [1, 1000]")
        for k in ("closed", "wide_open"):
            v = getattr(p, k)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < 1:
                raise InvalidInput(f"lips.{k}", v, "must be in (0, 1)")
        if p.closed >= p.wide_open:
            raise InvalidInput("lips.wide_open", p.wide_open, f"must be above closed ({p.closed})")
        if not (isinstance(p.narrow, (int, float)) and isinstance(p.spread, (int, float)) and 0 < p.narrow < 1 < p.spread < 3):
            raise InvalidInput("lips.spread", (p.narrow, p.spread), "and lips.narrow must satisfy 0 < narrow < 1 < spread < 3")

    def setup(self, ctx: AnalysisContext) -> None:
        if "face" not in ctx.tracks:
            raise InvalidInput("analyzers", "lips", "needs the face track (run it with the face analyzer)")
        self._times: list[float] = []

    def process(self, chunk: FrameChunk, ctx: AnalysisContext) -> None:
        self._times.extend(np.asarray(chunk.times, np.float64).tolist())

    def _audio(self, ctx: AnalysisContext, times: np.ndarray) -> tuple[np.ndarray | None, str]:
        p = self.params
        if not p.use_audio:
            return None, "audio not used (lips.use_audio is false): visemes from mouth shape only"
        if not ctx.source:
            return None, "no audio (frames given without a file): visemes from mouth shape only"
        from reworld.io.audio import read_audio

        try:
            samples, rate, start = read_audio(ctx.source, sample_rate=AUDIO_RATE, mono=True, arg="source")
        except ReworldError as exc:  # no audio stream, or undecodable audio: shape only
            reason = getattr(exc, "reason", str(exc))
            return None, f"no usable audio ({reason}): visemes from mouth shape only"
        env = sp.energy_envelope(samples, rate, times, audio_start=start, band=(float(p.band_low), float(p.band_high)))
        if not np.isfinite(env).any():
            return None, "the audio does not overlap the video: visemes from mouth shape only"
        return env, f"audio {samples.shape[-1] / rate:.2f} s at {rate} Hz, speech band {p.band_low:.0f}-{p.band_high:.0f} Hz"

    def finalize(self, ctx: AnalysisContext) -> Track:
        p = self.params
        face = ctx.tracks["face"]
        lms = face["landmarks"]
        T, F = int(lms.shape[0]), int(lms.shape[1])
        fps = float(ctx.fps) if ctx.fps else 25.0
        times = np.asarray(self._times, np.float64)
        if times.size != T:
            times = np.arange(T) / fps
        frame_size = tuple(face.meta.get("frame_size", [int(ctx.size[0] / ctx.scale), int(ctx.size[1] / ctx.scale)]))
        present = np.asarray(face["present"], bool) if F else np.zeros((T, 0), bool)
        shapes = {"openness": ((T, F), np.float32), "width": ((T, F), np.float32),
                  "openness_norm": ((T, F), np.float32), "width_ratio": ((T, F), np.float32),
                  "viseme": ((T, F), np.int8)}
        out = allocate_arrays(shapes, ctx.scratch)
        for k in ("openness", "width", "openness_norm", "width_ratio"):
            out[k][...] = np.nan
        out["viseme"][...] = -1
        for f in range(F):
            for b0 in range(0, T, _BLOCK):
                b1 = min(T, b0 + _BLOCK)
                ok = present[b0:b1, f]
                if not ok.any():
                    continue
                o, w = mouth_curves(np.asarray(lms[b0:b1, f], np.float64)[ok], frame_size)
                rows = np.flatnonzero(ok) + b0
                out["openness"][rows, f] = o
                out["width"][rows, f] = w
        env, audio_msg = self._audio(ctx, times)
        has_audio = env is not None
        energy = env if has_audio else np.full(T, np.nan, np.float32)
        energy_db = sp.to_db(energy)
        speech = sp.speech_activity(energy) if has_audio else np.zeros(T, bool)
        segments: list[tuple[int, int, int, int]] = []
        for f in range(F):
            o = np.asarray(out["openness"][:, f], np.float64)
            w = np.asarray(out["width"][:, f], np.float64)
            ok = np.isfinite(o)
            if not ok.any():
                continue
            lo = float(np.percentile(o[ok], 5))
            hi = max(float(np.percentile(o[ok], 98)), lo + MIN_OPEN_SPAN_CM)
            on = np.clip((o - lo) / (hi - lo), 0.0, 1.0)
            wr = w / float(np.median(w[ok]))
            out["openness_norm"][:, f] = on
            out["width_ratio"][:, f] = wr
            lab = sp.classify_visemes(on, wr, speech if has_audio else None, closed=float(p.closed),
                                      wide_open=float(p.wide_open), spread=float(p.spread), narrow=float(p.narrow),
                                      max_closure=max(1, round(MAX_CLOSURE_S * fps)))
            segs = sp.viseme_segments(lab, min_frames=int(p.min_segment_frames))
            smoothed = np.full(T, -1, np.int8)
            for v, s0, s1 in segs:
                smoothed[s0:s1] = v
                if v >= 0:
                    segments.append((f, v, s0, s1))
            out["viseme"][:, f] = smoothed
        seg_arr = np.asarray(segments, np.int32).reshape(-1, 4)
        dt = 1.0 / fps
        seg_times = np.stack([times[seg_arr[:, 2]] if len(seg_arr) else np.zeros(0),
                              (times[seg_arr[:, 3] - 1] + dt) if len(seg_arr) else np.zeros(0)], -1).astype(np.float32)
        # lip sync on the face seen longest
        max_lag = round(float(p.max_offset_s) * fps)
        main = int(np.argmax(present.sum(0))) if F else -1
        meta_sync: dict[str, Any] = {"offset_frames": None, "offset_ms": None, "offset_refined_ms": None,
                                     "offset_r": None, "offset_r_zero": None, "offset_confidence": 0.0,
                                     "offset_face": main if F else None, "energy_r": {}}
        lags = np.arange(-max_lag, max_lag + 1, dtype=np.int32)
        sync_r = np.full(lags.shape, np.nan, np.float32)
        if has_audio and F and present[:, main].sum() >= 8:
            mouth = np.asarray(out["openness"][:, main], np.float64)
            ls = sp.lip_sync_offset(mouth, energy.astype(np.float64), max_lag=max_lag)
            sync_r = ls.r_by_lag.astype(np.float32)
            meta_sync.update({
                "offset_frames": int(ls.lag), "offset_ms": round(1000.0 * ls.lag / fps, 1),
                "offset_refined_ms": round(1000.0 * ls.lag_refined / fps, 1),
                "offset_r": _r(ls.r), "offset_r_zero": _r(ls.r_zero), "offset_confidence": round(ls.confidence, 3)})
            names = face.meta.get("blendshapes", [])
            er: dict[str, Any] = {"openness": {"r0": _r(ls.r_zero), "best_lag": int(ls.lag), "r_best": _r(ls.r)}}
            if "jawOpen" in names:
                jaw = np.asarray(face["blendshapes"][:, main, names.index("jawOpen")], np.float64)
                lj = sp.lip_sync_offset(jaw, energy.astype(np.float64), max_lag=max_lag)
                er["jawOpen"] = {"r0": _r(lj.r_zero), "best_lag": int(lj.lag), "r_best": _r(lj.r)}
            meta_sync["energy_r"] = er
        n_seg = len(seg_arr)
        if F == 0:
            message = "no face in the face track: no mouth curves" + ("" if has_audio else f"; {audio_msg}")
        elif has_audio:
            conf = meta_sync["offset_confidence"]
            message = (f"{n_seg} viseme segments over {F} face{'s' if F != 1 else ''}; lip-sync offset "
                       + (f"{meta_sync['offset_frames']:+d} frames ({meta_sync['offset_ms']:+.0f} ms, confidence {conf:.2f})"
                          if meta_sync["offset_frames"] is not None else "not measured (too few frames)"))
        else:
            message = f"{n_seg} viseme segments over {F} face{'s' if F != 1 else ''}; {audio_msg}"
        meta = {"message": message, "has_audio": has_audio, "audio": audio_msg, **meta_sync,
                "visemes": list(sp.VISEMES), "viseme_rules": dict(sp.VISEME_RULES), "segments": n_seg,
                "speech_frames": int(speech.sum()), "fps": round(fps, 4), "frame_size": list(frame_size)}
        arrays = dict(out)
        arrays.update({"viseme_segments": seg_arr, "segment_times": seg_times,
                       "energy": np.asarray(energy, np.float32), "energy_db": energy_db, "speech": speech,
                       "sync_lags": lags, "sync_r": sync_r, "present": present.copy(),
                       "ids": np.asarray(face["ids"], np.int32) if "ids" in face else np.arange(F, dtype=np.int32)})
        return Track(self.name, arrays, meta)


def _r(v: float) -> float | None:
    return round(float(v), 4) if np.isfinite(v) else None


def overlay(track: Track, frame: np.ndarray, index: int) -> np.ndarray:
    """Mouth openness and width bars per face, the speech energy bar, the current viseme as a
    caption, and the lip-sync offset, on frame ``index`` (mouth contours come from the face
    overlay; draw both for the full picture).

    Args:
        track: a ``lips`` track.
        frame: ``(H, W, 3)`` uint8 RGB frame ``index`` (any size).
        index: frame index in ``[0, T)``.

    Returns:
        ``(H, W, 3)`` uint8 RGB (a new array).
    """
    import cv2

    vis = track["viseme"]
    check_overlay_args(frame, index, vis.shape[0])
    out = frame.copy()
    H, W = frame.shape[:2]
    font = max(0.35, H / 500)
    names = track.meta.get("visemes", list(sp.VISEMES))
    bar_h = max(3, H // 40)
    bar_w = max(30, W // 5)
    y = 4
    # energy bar (dB, -60..0)
    e = float(track["energy_db"][index]) if "energy_db" in track else float("nan")
    if np.isfinite(e):
        v = float(np.clip((e + 60.0) / 60.0, 0, 1))
        cv2.rectangle(out, (4, y), (4 + bar_w, y + bar_h), (40, 40, 40), -1)
        col = (255, 220, 60) if bool(track["speech"][index]) else (150, 150, 150)
        cv2.rectangle(out, (4, y), (4 + round(v * bar_w), y + bar_h), col, -1)
        y += bar_h + 2
    caption = []
    for f in range(vis.shape[1]):
        lab = int(vis[index, f])
        if lab < 0:
            continue
        o = float(track["openness_norm"][index, f])
        wr = float(track["width_ratio"][index, f])
        for val, col in ((o, (80, 255, 120)), (np.clip((wr - 0.7) / 0.6, 0, 1), (90, 180, 255))):
            cv2.rectangle(out, (4, y), (4 + bar_w, y + bar_h), (40, 40, 40), -1)
            if np.isfinite(val):
                cv2.rectangle(out, (4, y), (4 + round(float(val) * bar_w), y + bar_h), col, -1)
            y += bar_h + 2
        caption.append(f"{int(track['ids'][f])}:{names[lab]}" if vis.shape[1] > 1 else names[lab])
    text = "  ".join(caption) if caption else "no face"
    (tw, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font * 1.3, 2)
    org = (max(2, (W - tw) // 2), H - max(4, H // 30))
    cv2.putText(out, text, org, cv2.FONT_HERSHEY_SIMPLEX, font * 1.3, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(out, text, org, cv2.FONT_HERSHEY_SIMPLEX, font * 1.3, (255, 255, 255), 1, cv2.LINE_AA)
    off = track.meta.get("offset_frames")
    if off is not None:
        label = f"sync {track.meta['offset_ms']:+.0f}ms"
        cv2.putText(out, label, (4, y + int(12 * font) + 2), cv2.FONT_HERSHEY_SIMPLEX, font * 0.8, (255, 255, 255), 1,
                    cv2.LINE_AA)
    return out
