"""Scene cuts, found by PySceneDetect's detectors fed frame by frame as the clip streams.

No detector of our own: every frame (RGB at the analysis size, long side ≤ 512) is turned to
BGR and given to ``scenedetect.detectors.ContentDetector`` or ``AdaptiveDetector``
``process_frame(FrameTimecode(index, fps), frame)``; ``post_process`` is called after the last
frame, as ``SceneManager.detect_scenes`` does. The per-frame score is read through the
detector's public stats hook (a ``StatsManager`` it writes its metrics to).

PySceneDetect is optional (``pip install --no-deps scenedetect==0.7.2``: its declared
dependencies include click and platformdirs, which this use does not need); without it the
analyzer raises :class:`reworld.errors.MissingDependency`.

Track ``"cuts"`` arrays:

- ``cuts (K,) int64``: index of the first frame of each new scene (never 0), ascending.
- ``score (T,) float32``: ``content_val`` of each frame — the weighted mean HSV change from the
  previous frame, 0–255 (0 for frame 0), what ``threshold`` is compared with.
- ``adaptive_ratio (T,) float32`` (``detector="adaptive"`` only): the score over the mean score
  of the ``window_width`` frames either side, what the adaptive threshold is compared with;
  0 where the window does not fit (the first and last 2 frames).

``meta``: ``detector``, ``threshold`` used, ``min_scene_len`` (frames), ``n_cuts``, ``scenedetect``
version.

Example:
    >>> CutsAnalyzer().params.detector
    'content'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from reworld._optional import require
from reworld.analysis.base import AnalysisContext, Analyzer, FrameChunk, register
from reworld.analysis.tracks import Track
from reworld.errors import InvalidInput

__all__ = ["CutsAnalyzer", "overlay"]

#: the detectors' own defaults (ContentDetector(threshold=27.0), AdaptiveDetector(adaptive_threshold=3.0))
DEFAULT_THRESHOLDS = {"content": 27.0, "adaptive": 3.0}
#: the window either side of a frame that AdaptiveDetector averages (its default)
ADAPTIVE_WINDOW = 2


def _scenedetect() -> Any:
    return require("scenedetect", extra=None, feature="scene-cut detection")


def _recorder(keys: list[str]) -> Any:
    """A ``scenedetect.StatsManager`` that keeps only ``keys``, as ``{key: {frame: value}}``.

    Detectors report their per-frame metrics through ``stats_manager.set_metrics``; keeping two
    floats a frame instead of every metric keeps a long clip's memory small.
    """
    from scenedetect import StatsManager

    class _Recorder(StatsManager):
        def __init__(self) -> None:
            super().__init__()
            self.values: dict[str, dict[int, float]] = {k: {} for k in keys}

        def set_metrics(self, timecode: Any, metric_kv_dict: dict[str, Any]) -> None:
            frame = int(getattr(timecode, "frame_num", timecode))
            for key, value in metric_kv_dict.items():
                if key in self.values:
                    self.values[key][frame] = float(value)

    return _Recorder()


@register
class CutsAnalyzer(Analyzer):
    """Scene cuts by PySceneDetect (see the module doc for the arrays)."""

    name = "cuts"
    version = 1

    @dataclass(frozen=True)
    class Params:
        """Attributes:
            detector: ``"content"`` (fixed threshold on the HSV change) or ``"adaptive"``
                (threshold on the change relative to its neighbours; calmer on fast camera moves).
            threshold: ``None`` for the detector's default (content 27, adaptive 3.0); the
                ``content_val`` (content) or ``adaptive_ratio`` (adaptive) a cut must reach.
            min_scene_len: frames; a cut closer than this to the previous one (or to the clip
                start) is merged away (PySceneDetect's default is 15).
        """

        detector: str = "content"
        threshold: float | None = None
        min_scene_len: int = 15

    def validate(self) -> None:
        p = self.params
        if p.detector not in DEFAULT_THRESHOLDS:
            raise InvalidInput("cuts.detector", p.detector, f"must be one of {sorted(DEFAULT_THRESHOLDS)}")
        if p.threshold is not None and (isinstance(p.threshold, bool) or not isinstance(p.threshold, (int, float))
                                        or not 0 < p.threshold <= 255):
            raise InvalidInput("cuts.threshold", p.threshold, "must be None or a number in (0, 255]")
        if isinstance(p.min_scene_len, bool) or not isinstance(p.min_scene_len, int) or p.min_scene_len < 0:
            raise InvalidInput("cuts.min_scene_len", p.min_scene_len, "must be an integer >= 0 (frames)")

    def threshold(self) -> float:
        """The threshold in use (the parameter, or the detector's default)."""
        p = self.params
        return float(p.threshold if p.threshold is not None else DEFAULT_THRESHOLDS[p.detector])

    def setup(self, ctx: AnalysisContext) -> None:
        sd = _scenedetect()
        from scenedetect.detectors import AdaptiveDetector, ContentDetector

        p = self.params
        if p.detector == "content":
            self._detector = ContentDetector(threshold=self.threshold(), min_scene_len=p.min_scene_len)
        else:
            self._detector = AdaptiveDetector(adaptive_threshold=self.threshold(), min_scene_len=p.min_scene_len,
                                              window_width=ADAPTIVE_WINDOW)
        self._keys = {"score": ContentDetector.FRAME_SCORE_KEY}
        if p.detector == "adaptive":
            self._keys["adaptive_ratio"] = next(k for k in self._detector.get_metrics() if k.startswith("adaptive_ratio"))
        self._stats = _recorder(list(self._keys.values()))
        self._detector.stats_manager = self._stats
        self._fps = ctx.fps if ctx.fps and ctx.fps > 0 else 25
        self._cuts: list[int] = []
        self._n = 0
        self._version = getattr(sd, "__version__", "?")

    def _timecode(self, index: int) -> Any:
        from scenedetect import FrameTimecode

        return FrameTimecode(index, fps=self._fps)

    def process(self, chunk: FrameChunk, ctx: AnalysisContext) -> None:
        for i, frame in enumerate(chunk.frames):
            bgr = np.ascontiguousarray(frame[:, :, ::-1])  # PySceneDetect expects BGR
            found = self._detector.process_frame(self._timecode(chunk.start + i), bgr)
            self._cuts += [tc.frame_num for tc in found]
            self._n = chunk.start + i + 1

    def finalize(self, ctx: AnalysisContext) -> Track:
        n = self._n
        if n:
            self._cuts += [tc.frame_num for tc in self._detector.post_process(self._timecode(n - 1))]
        cuts = np.array(sorted({c for c in self._cuts if 0 < c < n}), dtype=np.int64)
        arrays: dict[str, np.ndarray] = {"cuts": cuts}
        for name, key in self._keys.items():
            vals = np.zeros(n, np.float32)
            for t, v in self._stats.values[key].items():
                if 0 <= t < n:
                    vals[t] = v
            arrays[name] = vals
        meta = {"detector": self.params.detector, "threshold": self.threshold(),
                "min_scene_len": self.params.min_scene_len, "n_cuts": len(cuts),
                "scenedetect": self._version, "score": "content_val: weighted mean HSV change, 0-255"}
        return Track(self.name, arrays, meta)


def overlay(track: Track, frame: np.ndarray, index: int) -> np.ndarray:
    """Mark the first frame of each new scene: a red border and ``CUT`` (a new array).

    Other frames get a small score readout. ``frame`` is ``(H, W, 3)`` uint8 RGB.
    """
    import cv2

    out = np.ascontiguousarray(frame).copy()
    h, w = out.shape[:2]
    score = track["score"]
    text = f"scene change {float(score[index]):.1f}" if 0 <= index < len(score) else ""
    colour = (255, 255, 255)
    if index in {int(c) for c in track["cuts"]}:
        b = max(4, min(h, w) // 40)
        out[:b], out[-b:], out[:, :b], out[:, -b:] = (255, 0, 0), (255, 0, 0), (255, 0, 0), (255, 0, 0)
        text, colour = f"CUT ({text})", (255, 40, 40)
    if text:
        cv2.putText(out, text, (10, h - 12), cv2.FONT_HERSHEY_SIMPLEX, max(0.4, h / 900), colour, 1, cv2.LINE_AA)
    return out
