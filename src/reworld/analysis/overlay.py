"""Overlay videos for `reworld analyze --overlay`: each analyzer draws its track on the frames.

An analyzer module may define ``overlay(track, frame, index) -> frame`` (full-resolution uint8
RGB in and out); this module streams the clip, applies the overlays of the chosen tracks in
order, and writes the result atomically.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence

from reworld.analysis.base import REGISTRY
from reworld.analysis.tracks import Analysis
from reworld.errors import InvalidInput
from reworld.io.reader import ClipReader
from reworld.io.writer import ClipWriter
from reworld.progress import CancelToken, ProgressCallback, check_cancel, stage_reporter


def overlay_function(name: str):
    """The ``overlay`` function of an analyzer's module, or ``None`` when it draws nothing."""
    cls = REGISTRY.get(name)
    if cls is None:
        return None
    return getattr(importlib.import_module(cls.__module__), "overlay", None)


def write_overlay(path: str | os.PathLike, analysis: Analysis, names: Sequence[str], out: str | os.PathLike, *,
                  progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> str:
    """Write ``out`` (a video): the clip with the overlays of ``names`` drawn on every frame."""
    drawers = [(n, overlay_function(n)) for n in names]
    drawers = [(n, f) for n, f in drawers if f is not None]
    if not drawers:
        raise InvalidInput("overlay", ", ".join(names), "has no analyzer that draws an overlay")
    with ClipReader(path) as reader:
        v = reader.info.video
        report = stage_reporter(progress, "overlay", len(reader))
        with ClipWriter(out, fps=v.fps, time_base=v.time_base, inputs=(path,), arg="overlay", crf=20) as writer:
            for chunk in reader.chunks(cancel=cancel):
                frames = chunk.frames
                for i in range(len(chunk)):
                    check_cancel(cancel)
                    frame = frames[i]
                    for name, draw in drawers:
                        frame = draw(analysis[name], frame, chunk.start + i)
                    frames[i] = frame
                writer.write(frames, chunk.pts)
                report(chunk.start + len(chunk))
    return str(out)
