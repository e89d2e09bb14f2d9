"""The `reworld probe` report: the facts of a file plus quality advice, cached by content.

Facts come from :func:`reworld.io.probe.probe` (demux, exact); advice from
:func:`reworld.analysis.quality.assess_quality` on runs of consecutive frames decoded at evenly
spaced times (seeking only where a keyframe lies ahead, so long-GOP files decode each frame at
most once). Kept apart from ``pipeline`` so `reworld probe` loads no grading code.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from reworld.analysis.cache import AnalysisCache, cache_key, file_hash
from reworld.analysis.quality import assess_quality
from reworld.errors import InvalidInput
from reworld.io.probe import probe
from reworld.io.reader import ClipReader
from reworld.progress import CancelToken
from reworld.types import MediaInfo

#: analyzer name/version of the probe report in the cache (bump when its output changes)
PROBE_ANALYZER, PROBE_VERSION = "probe_quality", 3
#: consecutive frames decoded per probe sample (speed and jerk of the camera path need runs)
PROBE_RUN = 6
#: advice about time and motion, left out for stills and single-frame files
MOTION_CODES = ("duplicate_frames", "camera_shake", "long_clip")


def probe_report(path: str | os.PathLike, *, samples: int = 8, advice: bool = True,
                 max_side: int | None = None, arg: str = "INPUT", cache: AnalysisCache | None = None,
                 cancel: CancelToken | None = None) -> dict[str, Any]:
    """Facts about a clip plus quality advice from ``samples`` runs of frames spread through it.

    Returns:
        ``{"facts": MediaInfo.to_dict(), "quality": QualityReport.to_dict() | None}``. The
        quality part is cached by file content (``reworld cache ls`` shows it).
    """
    info = probe(path, arg=arg, max_side=max_side)
    out: dict[str, Any] = {"facts": info.to_dict(), "quality": None}
    if not advice:
        return out
    if samples < 1:
        raise InvalidInput("samples", samples, "must be >= 1")
    cache = cache if cache is not None else AnalysisCache()
    key = cache_key(file_hash(path), PROBE_ANALYZER, PROBE_VERSION, {"samples": samples})
    side = cache.get_meta(key)
    report_meta = (side or {}).get("meta", {}).get("report")
    if report_meta is not None:
        out["quality"] = report_meta
        return out
    report = _assess(path, info, samples, max_side, arg, cancel)
    if info.is_image or info.video.frames == 1:  # a still: time-based advice does not apply
        report.advice = [a for a in report.advice if a.code not in MOTION_CODES]
    out["quality"] = report.to_dict()
    cache.put(key, _per_sample_arrays(report.samples),
              {"analyzer": PROBE_ANALYZER, "version": PROBE_VERSION,
               "params": {"samples": samples}, "report": out["quality"]})
    return out


def _per_sample_arrays(samples: list[dict[str, float]]) -> dict[str, np.ndarray]:
    """Per-sample measures as ``(n,)`` float arrays (NaN where a sample lacks one), for the cache."""
    keys = sorted({k for s in samples for k, v in s.items() if isinstance(v, (int, float))})
    arrays = {k: np.asarray([float(s.get(k, np.nan)) for s in samples], np.float64) for k in keys}
    return arrays or {"n_samples": np.asarray([len(samples)], np.int64)}


def _assess(path, info: MediaInfo, samples: int, max_side, arg, cancel):
    """Decode ``samples`` runs of :data:`PROBE_RUN` consecutive frames spread through the clip
    (seeking between runs, so the cost does not grow with clip length) and measure them."""
    v = info.video
    frame_dur = 1.0 / float(v.fps) if v.fps else 0.0
    run = max(2, min(PROBE_RUN, v.frames))
    usable = max(v.duration - run * frame_dur, 0.0)
    times = [v.start_time + usable * (i + 0.5) / samples for i in range(samples)]
    with ClipReader(path, arg=arg, max_side=max_side, accurate=False, info=info) as r:
        got = r.sample(times, run=run, cancel=cancel) if v.frames > 1 else []
        if not got:  # a single-frame clip: measure the frame against itself
            frame = next(iter(r.iter_frames()))[0]
            got = [(v.start_time, frame, frame)]
    runs = [list(g[1:]) for g in got]
    return assess_quality(runs, width=v.width, height=v.height, duration=v.duration, fps=float(v.fps),
                          cancel=cancel)
