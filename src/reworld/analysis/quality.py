"""Quality advice for ``reworld probe``: is this clip a good input, and what to fix first.

The caller decodes a handful of short *runs* of consecutive frames spread evenly through the
clip (8 runs of 6 frames is the intended sampling, e.g. ``ClipReader.sample(times, run=6)``)
and passes them in with the stream facts; this module never opens files. The first frame of
each run gives one sample of sharpness, noise and exposure; every consecutive pair inside a
run gives one measure of global camera motion (:func:`reworld.ops.quality.global_motion`).
Medians over runs are compared with :class:`Thresholds`, and every piece of :class:`Advice`
states the measured value next to the threshold it crossed.

Camera shake. Each pair's motion is the displacement of the frame corners, in thousandths
(‰) of the frame diagonal per frame interval, so it does not depend on the resolution::

    v_i = 1000 * (dx_i / diag, dy_i / diag, angle_i[rad] / 2, (scale_i - 1) / 2)

Per run, *speed* is ``median_i |v_i|`` (‰/frame) and *jerk* is ``median_i |v_{i+1} - v_i|``
(‰/frame², only from two consecutive usable pairs), i.e. how much the camera's velocity
changes from one frame to the next. The report's ``motion`` and ``jerk`` are the medians of
those over runs. The camera shakes when it both moves (``motion > min_shake_speed``, above the
estimator's noise floor: tripod shots read ≤ 0.25) *and* moves irregularly
(``jerk > max_jerk``: a pan or camera move, however fast, changes velocity smoothly and
reads ≤ 0.08). A tripod shot whose sub-pixel tracking noise looks irregular fails the
first test, a smooth pan the second.

With runs of 2 frames (pairs) no jerk can be measured. Then ``shake`` falls back to how
much the motion of the different runs spreads, ``median_r |V_r - median(V)|`` where ``V_r``
is a run's median velocity (``motion_spread``), against the looser ``max_spread``: runs
are seconds apart, so a slow camera drift varies as much between them as a slight
hand-held wobble does, and only strong shake can be told apart (``shake_basis`` says which
test was used).

Pairs whose two frames are identical (repeated frames, as in clips converted from a
lower frame rate) carry no motion and are left out of the motion measures (they also break
the chain that jerk needs); many of them raise their own advice (``duplicate_frames``).
Pairs that straddle a scene cut (luma histograms differ) are left out too.

Example:
    >>> import numpy as np
    >>> grey = np.full((120, 160, 3), 128, np.uint8)
    >>> report = assess_quality([(grey, grey, grey)], width=160, height=120, duration=12.0, fps=25.0)
    >>> sorted(a.code for a in report.advice)
    ['blurry', 'duplicate_frames', 'long_clip', 'low_resolution']
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

import cv2
import numpy as np

from reworld.errors import InvalidInput
from reworld.ops import quality as q
from reworld.progress import CancelToken, ProgressCallback, check_cancel, stage_reporter

__all__ = ["Advice", "QualityReport", "Thresholds", "assess_quality"]

Severity = Literal["info", "warning"]

#: corners tracked per consecutive pair (:func:`reworld.ops.quality.global_motion`): 8 runs of
#: 6 frames make 40 pairs, and 200 corners keep them at ~15 ms each at 720p on 2 cores.
MOTION_POINTS = 200


@dataclass(frozen=True)
class Thresholds:
    """Limits beyond which :func:`assess_quality` gives advice (calibrated in docs/probe-advice.md).

    Attributes:
        min_short_side: px; a shorter short side gives ``low_resolution`` (480 = SD; faces
            and hands below that are a few dozen pixels and pose/face models lose them).
        max_duration: seconds; longer clips (by more than half a frame) give ``long_clip``
            (info: process in segments).
        min_sharpness: Laplacian variance in levels² at the 512 px analysis size
            (:func:`reworld.ops.quality.sharpness`); a lower median gives ``blurry``.
            The 7 reference clips span 8 (160x120 webcam) to 2100; sharp synthetic texture
            reads > 1000 and its σ = 3 px Gaussian blur < 20.
        max_noise_sigma: luma levels (0–255); a higher median σ gives ``noisy``. Clean or
            lightly compressed clips read 0.1–1.1; block artefacts of old codecs ~3.
        min_shake_speed: ‰ of the frame diagonal per frame; ``camera_shake`` needs the
            median speed above it (the camera really moves, above the estimator's noise
            floor). Tripod clips read 0.02–0.25 (sub-pixel tracking noise, analog-video
            wobble), a camera that does not move but whose leaves do 0.15–0.25, a slight
            hand-held phone 0.6–0.66.
        max_jerk: ‰ of the diagonal per frame²: median change of the motion between
            consecutive frames; ``camera_shake`` fires when it is above this (and the speed
            is above ``min_shake_speed``). Smooth pans and camera moves read 0.03–0.08,
            a slight hand-held phone 0.23–0.34, a shaking webcam ~6.
        max_spread: ‰ of the diagonal per frame; used instead of ``max_jerk`` only when the
            runs are pairs (no jerk measurable): the spread of the motion between runs
            must exceed it. Loose on purpose (slow drifts spread 0.1–0.35 between runs too),
            so with pairs only strong shake is caught.
        max_clip_high: fraction of pixels at luma ≥ 250; a higher median gives
            ``overexposed`` (blown sky or faces lose all detail there).
        max_mean_luma: levels; a brighter median mean luma also gives ``overexposed``.
        max_clip_low: fraction of pixels at luma ≤ 5; a higher median gives ``underexposed``.
        min_mean_luma: levels; a darker median mean luma also gives ``underexposed``.
        max_duplicate_fraction: share of sampled consecutive pairs that are identical
            frames; a higher share gives ``duplicate_frames`` (the real frame rate is lower
            than the container says, so motion looks jerky and shake cannot be measured).
    """

    min_short_side: int = 480
    max_duration: float = 10.0
    min_sharpness: float = 50.0
    max_noise_sigma: float = 4.0
    min_shake_speed: float = 0.35
    max_jerk: float = 0.12
    max_spread: float = 1.0
    max_clip_high: float = 0.05
    max_mean_luma: float = 200.0
    max_clip_low: float = 0.20
    min_mean_luma: float = 50.0
    max_duplicate_fraction: float = 0.5

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise InvalidInput(f"thresholds.{f.name}", v, "must be a finite number >= 0")


@dataclass(frozen=True)
class Advice:
    """One finding about the clip.

    Attributes:
        code: stable identifier (``low_resolution``, ``blurry``, ``noisy``, ``long_clip``,
            ``camera_shake``, ``overexposed``, ``underexposed``, ``duplicate_frames``).
        severity: ``"warning"`` (results will suffer) or ``"info"`` (worth knowing).
        message: one or two sentences for people, quoting value and threshold.
        value: the measured value that triggered it.
        threshold: the threshold it crossed (units as in :class:`Thresholds`).
    """

    code: str
    severity: Severity
    message: str
    value: float
    threshold: float


@dataclass
class QualityReport:
    """Measured quality of a clip plus the advice derived from it.

    All measures are medians over the sampled runs (``None`` when no run had them).

    Attributes:
        width, height, duration, fps: the stream facts passed in.
        n_samples: runs measured.
        n_frames: frames measured (all runs together).
        sharpness, sharpness_p10: Laplacian variance, levels² at 512 px (median, 10th pct),
            of the first frame of each run.
        noise_sigma: luma noise std in 0–255 levels.
        mean_luma, luma_p1, luma_p50, luma_p99: luma level statistics (0–255).
        clip_high, clip_low: fractions in [0, 1] of pixels at luma ≥ 250 / ≤ 5.
        motion: camera speed, median over runs of each run's median ``|v|``: frame-corner
            displacement in ‰ of the diagonal per frame (module docstring).
        jerk: median over runs of each run's median ``|v_{i+1} - v_i|``, ‰ of the diagonal
            per frame² (``None`` when no run has two consecutive usable pairs).
        motion_spread: median distance of each run's median velocity from their median,
            ‰ of the diagonal per frame (``None`` with fewer than 2 runs with motion).
        shake: the irregularity that ``camera_shake`` is judged on: ``jerk`` when known,
            else ``motion_spread``.
        shake_basis: ``"jerk"``, ``"spread"`` (pairs only) or ``None`` (no motion measured).
        n_motion_pairs: consecutive pairs that gave motion (not duplicates, not across a cut).
        n_jerk_runs: runs that gave a jerk.
        duplicate_fraction: share of consecutive pairs whose two frames are identical.
        advice: findings, in a fixed order of codes.
        samples: per-run measures: those of the first frame, ``n_pairs``, ``n_duplicate``,
            ``n_cut``, ``n_motion``, and when the run gave them ``speed``, ``velocity`` (median
            ‰ vector) and ``jerk`` (absent, not ``None``, otherwise); ``pairs`` lists each
            consecutive pair (``kind`` ``ok``, ``duplicate`` or ``cut``; for ``ok`` also
            ``dx``/``dy`` in pixels of the sample frames, ``angle_deg``, ``scale``, ``inliers``
            and ``v``, the ‰ vector).
    """

    width: int
    height: int
    duration: float
    fps: float
    n_samples: int
    n_frames: int = 0
    sharpness: float | None = None
    sharpness_p10: float | None = None
    noise_sigma: float | None = None
    mean_luma: float | None = None
    luma_p1: float | None = None
    luma_p50: float | None = None
    luma_p99: float | None = None
    clip_high: float | None = None
    clip_low: float | None = None
    motion: float | None = None
    jerk: float | None = None
    motion_spread: float | None = None
    shake: float | None = None
    shake_basis: Literal["jerk", "spread"] | None = None
    n_motion_pairs: int = 0
    n_jerk_runs: int = 0
    duplicate_fraction: float | None = None
    advice: list[Advice] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)

    def codes(self) -> list[str]:
        """The advice codes, in report order."""
        return [a.code for a in self.advice]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (advice as a list of dicts)."""
        return asdict(self)


def assess_quality(
    samples: Sequence[Sequence[np.ndarray]],
    *,
    width: int,
    height: int,
    duration: float,
    fps: float,
    thresholds: Thresholds | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> QualityReport:
    """Measure sampled runs of consecutive frames and advise on the clip's fitness for editing.

    Args:
        samples: runs of consecutive frames, each a list or tuple of ≥ 2 frames
            ``(H, W, 3)`` uint8 RGB (or ``(H, W)`` grey), the runs taken at evenly spaced
            times (8 runs of 6 frames: ``[run[1:] for run in ClipReader.sample(times, run=6)]``).
            A pair is a run of 2 (then jerk is unknown; see the module docstring). All
            frames the same size (they may be downscaled copies of the clip). May be empty:
            then only the stream facts are judged.
        width, height: displayed size of the clip in pixels.
        duration: clip length in seconds.
        fps: average frame rate.
        thresholds: limits to use (defaults: :class:`Thresholds`).
        progress: optional callback, one ``"quality"`` event per run.
        cancel: optional token, checked before each run.

    Returns:
        A :class:`QualityReport` with medians and a list of :class:`Advice`.

    Raises:
        InvalidInput: a bad size, duration, fps, or run.
    """
    # 0. check inputs
    th = thresholds if thresholds is not None else Thresholds()
    if not isinstance(th, Thresholds):
        raise InvalidInput("thresholds", type(th).__name__, "must be a Thresholds or None")
    for name, v in (("width", width), ("height", height)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
            raise InvalidInput(name, v, "must be a positive integer")
    if not _finite(duration) or duration < 0:
        raise InvalidInput("duration", duration, "must be a finite number of seconds >= 0")
    if not _finite(fps) or fps <= 0:
        raise InvalidInput("fps", fps, "must be a finite number > 0")
    if not isinstance(samples, (list, tuple)):
        raise InvalidInput("samples", type(samples).__name__, "must be a list of runs of consecutive frames")
    shape = None
    lumas: list[list[np.ndarray]] = []  # converted once here, reused by the measures
    for i, run in enumerate(samples):
        if not isinstance(run, (list, tuple)) or len(run) < 2:
            got = f"{len(run)} frames" if isinstance(run, (list, tuple)) else type(run).__name__
            raise InvalidInput(f"samples[{i}]", got, "must be a list or tuple of >= 2 consecutive frames")
        lumas.append([])
        for j, fr in enumerate(run):
            lumas[-1].append(q.to_luma(fr, arg=f"samples[{i}][{j}]"))  # validates type, dtype, shape
            if shape is None:
                shape = fr.shape
            elif fr.shape != shape:
                raise InvalidInput(f"samples[{i}][{j}]", fr.shape, f"must have the same shape as samples[0][0] {shape}")

    report = QualityReport(int(width), int(height), float(duration), float(fps), len(samples),
                           n_frames=sum(len(run) for run in samples))
    # 1. measure each run
    tick = stage_reporter(progress, "quality", total=len(samples))
    per: list[dict[str, Any]] = []
    for i, run in enumerate(lumas):
        check_cancel(cancel)
        per.append(_measure_run(run))
        tick(i + 1)
    report.samples = per
    # 2. aggregate
    if per:
        _aggregate(report, per)
    # 3. advise
    report.advice = _advise(report, th)
    return report


def _finite(v: Any) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, float, np.number)) and math.isfinite(v)


def _measure_run(lumas: list[np.ndarray]) -> dict[str, Any]:
    """Per-frame measures of the run's first frame, motion of each consecutive pair, speed and jerk.

    ``lumas`` are the run's frames as BT.601 luma (the ops measures accept grey frames).
    """
    first = lumas[0]
    ex = q.exposure_stats(first)
    out: dict[str, Any] = {
        "sharpness": q.sharpness(first),
        "noise_sigma": q.noise_sigma(first),
        "mean_luma": ex["mean"],
        "luma_p1": ex["p1"],
        "luma_p50": ex["p50"],
        "luma_p99": ex["p99"],
        "clip_high": ex["clip_high"],
        "clip_low": ex["clip_low"],
    }
    diag = math.hypot(first.shape[0], first.shape[1])
    hists = [cv2.calcHist([lu], [0], None, [32], [0, 256]).ravel() / lu.size for lu in lumas]
    grids: dict[int, np.ndarray] = {}  # frame index -> luma at the tracking grid, made once per frame

    def grid(k: int) -> np.ndarray:
        if k not in grids:
            grids[k] = q.motion_luma(lumas[k])
        return grids[k]

    pairs: list[dict[str, Any]] = []
    vecs: list[np.ndarray | None] = []
    for k in range(len(lumas) - 1):
        kind = _pair_kind(lumas[k], lumas[k + 1], hists[k], hists[k + 1])
        pair: dict[str, Any] = {"kind": kind}
        v = None
        if kind == "ok":
            ga, gb = grid(k), grid(k + 1)
            m = q.global_motion(ga, gb, max_points=MOTION_POINTS)
            # grid px -> px of the sample frames (the grid keeps the aspect, bar rounding)
            dx, dy = m.dx * first.shape[1] / ga.shape[1], m.dy * first.shape[0] / ga.shape[0]
            v = 1000.0 * np.array([dx / diag, dy / diag, 0.5 * math.radians(m.angle_deg), 0.5 * (m.scale - 1.0)])
            pair.update(dx=dx, dy=dy, angle_deg=m.angle_deg, scale=m.scale, inliers=m.inliers,
                        v=[float(x) for x in v])
        pairs.append(pair)
        vecs.append(v)
    ok = [v for v in vecs if v is not None]
    steps = [float(np.linalg.norm(b - a))  # velocity change between consecutive usable pairs
             for a, b in zip(vecs[:-1], vecs[1:], strict=True) if a is not None and b is not None]
    out.update(
        n_pairs=len(pairs),
        n_duplicate=sum(p["kind"] == "duplicate" for p in pairs),
        n_cut=sum(p["kind"] == "cut" for p in pairs),
        n_motion=len(ok),
    )
    # keys are left out, not None, when a run could not give them (as the pairs' ``dx`` etc.)
    if ok:
        out["speed"] = float(np.median([np.linalg.norm(v) for v in ok]))
        out["velocity"] = [float(x) for x in np.median(ok, axis=0)]
    if steps:
        out["jerk"] = float(np.median(steps))
    out["pairs"] = pairs
    return out


def _pair_kind(la: np.ndarray, lb: np.ndarray, ha: np.ndarray, hb: np.ndarray) -> str:
    """``"duplicate"`` (same picture), ``"cut"`` (different shots) or ``"ok"``, from two lumas.

    Duplicate: mean |luma difference| below 0.1 levels at full size (repeated frames decode
    bit-identical or nearly so; a tripod shot with the faintest sensor noise differs by ~1).
    Cut: the 32-bin luma histograms (``ha``, ``hb``, normalised) share less than half their mass.
    """
    if float(cv2.mean(cv2.absdiff(la, lb))[0]) < 0.1:
        return "duplicate"
    if float(np.minimum(ha, hb).sum()) < 0.5:
        return "cut"
    return "ok"


def _aggregate(r: QualityReport, per: list[dict[str, Any]]) -> None:
    def med(key: str) -> float:
        return float(np.median([p[key] for p in per]))

    r.sharpness = med("sharpness")
    r.sharpness_p10 = float(np.percentile([p["sharpness"] for p in per], 10))
    r.noise_sigma = med("noise_sigma")
    r.mean_luma = med("mean_luma")
    r.luma_p1, r.luma_p50, r.luma_p99 = med("luma_p1"), med("luma_p50"), med("luma_p99")
    r.clip_high, r.clip_low = med("clip_high"), med("clip_low")
    n_pairs = sum(p["n_pairs"] for p in per)
    r.duplicate_fraction = float(sum(p["n_duplicate"] for p in per) / n_pairs)
    r.n_motion_pairs = sum(p["n_motion"] for p in per)
    moving = [p for p in per if "speed" in p]
    if not moving:
        return
    r.motion = float(np.median([p["speed"] for p in moving]))
    jerks = [p["jerk"] for p in per if "jerk" in p]
    r.n_jerk_runs = len(jerks)
    if jerks:
        r.jerk = float(np.median(jerks))
    if len(moving) >= 2:
        vel = np.array([p["velocity"] for p in moving])
        r.motion_spread = float(np.median(np.linalg.norm(vel - np.median(vel, axis=0), axis=1)))
    if r.jerk is not None:
        r.shake, r.shake_basis = r.jerk, "jerk"
    elif r.motion_spread is not None:
        r.shake, r.shake_basis = r.motion_spread, "spread"


def _advise(r: QualityReport, th: Thresholds) -> list[Advice]:
    out: list[Advice] = []
    short = min(r.width, r.height)
    if short < th.min_short_side:
        out.append(Advice(
            "low_resolution", "warning",
            f"{r.width}x{r.height} is below {th.min_short_side} px on the short side; people and faces "
            "will be coarse, so pose, face and mask tracking lose detail. Use a higher-resolution source "
            "if there is one.",
            float(short), float(th.min_short_side)))
    # half a frame of slack: a "10 s" clip often probes as 10.00005 s
    if r.duration - th.max_duration > 0.5 / r.fps:
        out.append(Advice(
            "long_clip", "info",
            f"the clip lasts {r.duration:.1f} s, over {th.max_duration:g} s; edit it in segments (cut at "
            "scene changes) to keep memory and render time down and the result consistent.",
            r.duration, th.max_duration))
    if r.sharpness is not None and r.sharpness < th.min_sharpness:
        out.append(Advice(
            "blurry", "warning",
            f"sharpness (Laplacian variance at 512 px) is {r.sharpness:.0f}, below {th.min_sharpness:g}; "
            "the picture is soft (focus, motion blur or upscaling), so edges in masks and tracks will be "
            "uncertain.",
            r.sharpness, th.min_sharpness))
    if r.noise_sigma is not None and r.noise_sigma > th.max_noise_sigma:
        out.append(Advice(
            "noisy", "warning",
            f"estimated noise is σ = {r.noise_sigma:.1f} luma levels, above {th.max_noise_sigma:g}; grain "
            "disturbs optical flow and flickers after edits. Denoise first or expect temporal flicker.",
            r.noise_sigma, th.max_noise_sigma))
    if r.shake is not None and r.motion is not None and r.motion > th.min_shake_speed:
        by_jerk = r.shake_basis == "jerk"
        limit = th.max_jerk if by_jerk else th.max_spread
        if r.shake > limit:
            out.append(Advice(
                "camera_shake", "warning",
                (f"the camera moves irregularly: its motion changes by {r.shake:.2f} ‰ of the diagonal "
                 f"from one frame to the next (jerk, median over {r.n_jerk_runs} runs), above {limit:g}"
                 if by_jerk else
                 f"the camera motion differs by {r.shake:.2f} ‰ of the diagonal per frame between the "
                 f"sampled pairs, above {limit:g} (pairs only, so jerk was not measured)")
                + f", while it moves {r.motion:.2f} ‰ per frame (above {th.min_shake_speed:g}, the noise floor "
                "of a fixed camera); stabilise the clip first or expect edits to swim against the background.",
                r.shake, limit))
    if r.clip_high is not None and (r.clip_high > th.max_clip_high or (r.mean_luma or 0) > th.max_mean_luma):
        by_clip = r.clip_high > th.max_clip_high
        out.append(Advice(
            "overexposed", "warning",
            (f"{100 * r.clip_high:.1f} % of pixels are clipped white (luma ≥ 250), above "
             f"{100 * th.max_clip_high:g} %" if by_clip else
             f"mean luma is {r.mean_luma:.0f}, above {th.max_mean_luma:g}")
            + "; detail in bright areas (sky, faces) is lost and cannot be recovered by an edit.",
            r.clip_high if by_clip else float(r.mean_luma), th.max_clip_high if by_clip else th.max_mean_luma))
    if r.clip_low is not None and (r.clip_low > th.max_clip_low or (r.mean_luma or 0) < th.min_mean_luma):
        by_clip = r.clip_low > th.max_clip_low
        out.append(Advice(
            "underexposed", "warning",
            (f"{100 * r.clip_low:.1f} % of pixels are crushed black (luma ≤ 5), above "
             f"{100 * th.max_clip_low:g} %" if by_clip else
             f"mean luma is {r.mean_luma:.0f}, below {th.min_mean_luma:g}")
            + "; dark areas hide detail and noise grows when they are brightened.",
            r.clip_low if by_clip else float(r.mean_luma), th.max_clip_low if by_clip else th.min_mean_luma))
    if r.duplicate_fraction is not None and r.duplicate_fraction > th.max_duplicate_fraction:
        out.append(Advice(
            "duplicate_frames", "info",
            f"{100 * r.duplicate_fraction:.0f} % of sampled consecutive frames are identical, above "
            f"{100 * th.max_duplicate_fraction:g} %; the real frame rate is lower than {r.fps:.3g} fps, so "
            "motion is jerky and camera shake could not be measured on those pairs.",
            r.duplicate_fraction, th.max_duplicate_fraction))
    return out
