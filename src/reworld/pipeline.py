"""The pipeline: an edit spec in, a rendered clip out, in numbered steps (diffusers habit).

``render(spec)`` runs:
    0. validate   — the spec's values and paths; features this build cannot do yet fail here,
                    before any decoding, with a message naming the field.
    1. decode     — probe the input; frames are streamed in chunks later (memory stays flat).
    2. analyse    — (nothing is needed for a grade; later capabilities add analyzers here).
    3. plan       — turn the spec into per-pixel functions: the grade, with its LUT and the
                    match statistics (measured once for the whole clip, so no flicker).
    4. render     — apply the plan chunk by chunk in float32.
    6. encode     — ClipWriter: temp file in the target folder, renamed at the end; audio kept.
    7. measure    — timings and throughput into the result.
Every step reports progress and honours the cancel token.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from reworld.analysis.probe_report import probe_report
from reworld.edits.spec import EditSpec, GradeSpec
from reworld.errors import InvalidInput, Unsupported
from reworld.io.lut import read_cube, write_cube
from reworld.io.probe import probe
from reworld.io.reader import ClipReader
from reworld.io.stills import read_image, write_image
from reworld.io.writer import SEQUENCES, ClipWriter
from reworld.ops.color import GradeParams, grade_function, grade_lut
from reworld.ops.dtype import to_float01, to_uint8, to_uint16
from reworld.ops.match import ColorMatch, color_stats
from reworld.progress import CancelToken, ProgressCallback, check_cancel, stage_reporter
from reworld.types import MediaInfo, RenderResult

#: image suffixes a still input may be written to
STILL_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".exr", ".webp", ".bmp")
#: frames sampled through a clip to measure its colour statistics for --match
MATCH_SAMPLES = 12


# --------------------------------------------------------------------------------------------
# grade plan
# --------------------------------------------------------------------------------------------
def build_grade(grade: GradeSpec, *, source: str | os.PathLike | None = None,
                source_frames: np.ndarray | None = None, cancel: CancelToken | None = None) -> GradeParams:
    """Turn a :class:`GradeSpec` (paths, JSON values) into :class:`GradeParams` (arrays).

    Loads the ``.cube`` file and, for ``match``, measures the reference image's colour
    statistics and the source's (from ``source_frames`` or :data:`MATCH_SAMPLES` frames
    sampled through ``source``) once, so every frame gets the same colour transform.
    """
    fields = grade.model_dump(exclude={"lut", "match"})
    fields["curves"] = {k: tuple(tuple(p) for p in v) for k, v in (grade.curves or {}).items()}
    for k in ("lift", "gamma", "gain"):
        fields[k] = tuple(fields[k])
    lut = read_cube(grade.lut) if grade.lut else None
    params = GradeParams(**fields, lut=lut)
    params.validate()
    if not grade.match:
        return params
    # match runs last: measure the source as the earlier steps leave it, once for the clip
    ref = read_image(grade.match, arg="grade.match")
    if source_frames is None:
        if source is None:
            raise InvalidInput("grade.match", grade.match, "needs the source clip to measure its colours")
        source_frames = _sample_frames(source, MATCH_SAMPLES, cancel)
    before_match = grade_function(params)(to_float01(source_frames))
    match = ColorMatch(source=color_stats(before_match), target=color_stats(to_float01(ref)))
    return replace(params, match=match)


def _sample_frames(path, n: int, cancel) -> np.ndarray:
    info = probe(path)
    v = info.video
    if info.is_image:
        return read_image(path)[None]
    times = [v.start_time + v.duration * (i + 0.5) / n for i in range(n)]
    with ClipReader(path, info=info) as r:
        got = r.sample(times, cancel=cancel)
    return np.stack([f for _, f in got])


def export_grade_lut(grade: GradeSpec, path: str | os.PathLike, *, size: int = 65,
                     source: str | os.PathLike | None = None, title: str = "reworld grade") -> Path:
    """Bake a grade into a ``.cube`` 3D LUT (written atomically) and return its path."""
    params = build_grade(grade, source=source)
    write_cube(path, grade_lut(params, size=size, title=title))
    return Path(path)


# --------------------------------------------------------------------------------------------
# render
# --------------------------------------------------------------------------------------------
def _unsupported(spec: EditSpec) -> None:
    """Step 0b: name the requested features this build cannot do yet (no silent ignoring)."""
    missing = []
    if spec.mode is not None:
        missing.append(f"`mode` {spec.luma_mode!r} (modify needs the modify engine, not in this build)")
    if spec.prompt or spec.reference_image or spec.first_frame:
        missing.append("`prompt`/`reference_image`/`first_frame` (used by modify, not in this build)")
    if spec.regions:
        missing.append(f"`regions` ({len(spec.regions)} region edits: not in this build)")
    if spec.motion is not None and not spec.motion.is_identity():
        missing.append("`motion` (speed/reverse/trim/loop/focus/stabilise: not in this build)")
    o = spec.output
    if o.hdr != "sdr":
        missing.append(f"`output.hdr` {o.hdr!r} (HDR output: not in this build)")
    if o.fps is not None or o.width is not None or o.height is not None:
        missing.append("`output.fps`/`output.width`/`output.height` (reframing/retiming: not in this build)")
    if spec.variations > 1:
        missing.append(f"`variations` {spec.variations} (a grade is deterministic; variations come with modify)")
    if missing:
        raise Unsupported("this spec asks for what reworld 0.1 cannot do yet: " + "; ".join(missing)
                          + ". Remove those fields, or see README 'What the CPU engine can and cannot do'.")


def render(spec: EditSpec, *, progress: ProgressCallback | None = None,
           cancel: CancelToken | None = None, base_dir: str | os.PathLike | None = None) -> RenderResult:
    """Run an :class:`EditSpec` end to end and write ``spec.output.path``.

    Args:
        spec: the edit spec (validated again here).
        progress: callback receiving :class:`reworld.progress.ProgressEvent` (stages
            ``plan``, ``render``); fractions are per stage.
        cancel: token polled at every frame; on cancel nothing is left at the output path.
        base_dir: folder relative paths in the spec are resolved against (default: cwd).

    Returns:
        :class:`reworld.types.RenderResult`.
    """
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    # 0. Validate: values were checked by the model; now paths, then what this build can do.
    spec = _resolve_paths(spec, base_dir)
    spec.validate_paths()
    _unsupported(spec)
    o = spec.output
    # 1. Decode (probe now; frames stream in step 4).
    info = probe(spec.input, arg="input")
    timings["probe"] = time.perf_counter() - t0
    # 3. Plan.
    t = time.perf_counter()
    stage_reporter(progress, "plan", 1)(0)
    grade = spec.grade or GradeSpec()
    params = build_grade(grade, source=spec.input, cancel=cancel)
    fn = grade_function(params)
    stage_reporter(progress, "plan", 1)(1)
    timings["plan"] = time.perf_counter() - t
    check_cancel(cancel)
    # 4-6. Render and encode, streamed.
    t = time.perf_counter()
    if info.is_image:
        frames, duration, fps = _render_still(spec, fn, progress)
    else:
        frames, duration, fps = _render_clip(spec, info, fn, progress, cancel)
    timings["render+encode"] = time.perf_counter() - t
    # 7. Measure.
    total = time.perf_counter() - t0
    timings["total"] = total
    return RenderResult(
        output=str(o.path), input=str(spec.input), frames=frames, duration=duration, fps=fps,
        seed=spec.seed, timings=timings,
        metrics={"render_fps": frames / timings["render+encode"] if timings["render+encode"] > 0 else 0.0},
        spec=spec.to_dict(),
    )


def _resolve_paths(spec: EditSpec, base_dir) -> EditSpec:
    if base_dir is None:
        return spec
    base = Path(base_dir)

    def fix(p):
        return p if p is None or Path(p).is_absolute() else str(base / p)

    changes: dict[str, Any] = {"input": fix(spec.input), "output": {"path": fix(spec.output.path)}}
    if spec.grade is not None:
        changes["grade"] = {"lut": fix(spec.grade.lut), "match": fix(spec.grade.match)}
    return spec.with_changes(changes)


def _render_clip(spec: EditSpec, info: MediaInfo, fn: Callable, progress, cancel):
    o = spec.output
    v = info.video
    container = o.container
    out_path = Path(o.path)
    if container in SEQUENCES and out_path.suffix.lower() != f".{container}":
        out_path = out_path / f"frame_%05d.{container}"  # a folder: name the frames in it
    ten = o.bit_depth == 10 or container == "exr"
    report = stage_reporter(progress, "render", v.frames)
    done = 0
    with ClipReader(spec.input, bit_depth=16 if (ten and v.bit_depth > 8) else 8, info=info) as reader:
        writer = ClipWriter(
            out_path, fps=v.fps, time_base=v.time_base, codec=o.codec if container not in SEQUENCES else "h264",
            crf=o.crf, preset=o.preset, bit_depth=o.bit_depth or (16 if container == "exr" else 8),
            rotation=v.rotation,
            audio_from=spec.input if (o.keep_audio and info.audio is not None and container not in SEQUENCES) else None,
            inputs=(spec.input,), arg="output.path", container=container,
        )
        with writer:
            for chunk in reader.chunks(cancel=cancel):
                # frame by frame: float32 temporaries of a whole chunk would cost ~1 GB at 720p
                for frame, pts in zip(chunk.frames, chunk.pts):
                    check_cancel(cancel)
                    out = fn(to_float01(frame))
                    writer.write(to_uint16(out) if ten else to_uint8(out), pts[None])
                done += len(chunk)
                report(done)
            check_cancel(cancel)
    return done, v.duration, v.fps


def _render_still(spec: EditSpec, fn: Callable, progress):
    o = spec.output
    suffix = Path(o.path).suffix.lower()
    if suffix not in STILL_SUFFIXES:
        raise InvalidInput("output.path", o.path, f"must be an image ({', '.join(STILL_SUFFIXES)}) for a still input")
    img = read_image(spec.input, arg="input", bit_depth=16)
    out = fn(to_float01(img))
    write_image(o.path, to_uint16(out) if suffix in (".png", ".tif", ".tiff", ".exr") else to_uint8(out))
    stage_reporter(progress, "render", 1)(1)
    return 1, 0.0, 0


def grade_clip(input: str | os.PathLike, output: str | os.PathLike, grade: GradeSpec | dict | None = None, *,
               codec: str | None = None, crf: int | None = None, preset: str | None = None,
               bit_depth: int | None = None, keep_audio: bool = True,
               progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> RenderResult:
    """Grade a clip (or a still) and write it — :func:`render` with a grade-only spec.

    Example:
        >>> grade_clip("in.mp4", "out.mp4", {"exposure": 0.5, "saturation": 1.2})  # doctest: +SKIP
    """
    out: dict[str, Any] = {"path": str(output), "keep_audio": keep_audio}
    for k, val in (("codec", codec), ("crf", crf), ("preset", preset), ("bit_depth", bit_depth)):
        if val is not None:
            out[k] = val
    g = grade.model_dump() if isinstance(grade, GradeSpec) else (grade or {})
    spec = EditSpec.from_dict({"input": str(input), "output": out, "grade": g})
    return render(spec, progress=progress, cancel=cancel)


__all__ = ["render", "grade_clip", "build_grade", "export_grade_lut", "probe_report"]
