"""Run analyzers on a clip: dependency order, one streamed decode pass per level, cached.

``analyze(path, ["flow", "camera"])`` probes the clip, resolves what each analyzer ``requires``,
takes every track it can from the cache (dense arrays come back as memory maps, so a long clip
costs no RAM until read), and computes the rest: analyzers of the same dependency level share
one decode pass, frames resized once to the analysis size. Each finished track is cached under
a key of (file hash, analyzer name, version, params, analysis size, upstream keys), so changing
flow parameters invalidates everything computed from flow.
"""

from __future__ import annotations

import importlib
import os
import tempfile
import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from reworld.analysis.base import (
    REGISTRY,
    AnalysisContext,
    Analyzer,
    FrameChunk,
    live_maps,
    release_pages,
)
from reworld.analysis.cache import AnalysisCache, cache_key, file_hash
from reworld.analysis.tracks import Analysis, Track
from reworld.errors import InvalidInput
from reworld.io.reader import ClipReader
from reworld.progress import CancelToken, ProgressCallback, check_cancel, stage_reporter

#: modules that define analyzers (imported on first use; PySceneDetect's explicit list habit)
ANALYZER_MODULES: tuple[str, ...] = (
    "reworld.analysis.flow",
    "reworld.analysis.cuts",
    "reworld.analysis.camera",
    "reworld.analysis.sky",
    "reworld.analysis.depth",
    "reworld.analysis.pose",
    "reworld.analysis.hands",
    "reworld.analysis.face",
    "reworld.analysis.lips",
    "reworld.analysis.people",
)
#: names that stand for several analyzers (``--only scene,pose``)
GROUPS: dict[str, tuple[str, ...]] = {
    "scene": ("flow", "camera", "sky", "cuts"),
    "performance": ("pose", "face", "lips", "people", "hands"),
}
#: memory-mapped pages (outputs being written, upstream tracks being read) are handed back to the
#: page cache every this many chunks (:func:`reworld.analysis.base.release_pages`)
_RELEASE_EVERY = 4
#: how the runner decodes (part of every cache key: a different conversion is a different input)
_DECODE = "swscale-bicubic"
#: default long side of the analysis resolution, in pixels
DEFAULT_LONG_SIDE = 512


def available_analyzers() -> dict[str, type[Analyzer]]:
    """Import every analyzer module that exists and return the registry."""
    for mod in ANALYZER_MODULES:
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name != mod:  # a missing dependency inside an existing module is a real error
                raise
    return dict(REGISTRY)


def analysis_size(height: int, width: int, long_side: int) -> tuple[int, int, float]:
    """``(h, w, scale)`` of the analysis resolution: long side at most ``long_side``, never upscaled."""
    if long_side < 16:
        raise InvalidInput("long_side", long_side, "must be >= 16 pixels")
    s = min(1.0, long_side / max(height, width))
    return max(1, round(height * s)), max(1, round(width * s)), s


def expand_names(only: str | Sequence[str], registry: dict[str, type[Analyzer]] | None = None) -> list[str]:
    """Analyzer names from a comma-separated string or a sequence; groups (:data:`GROUPS`, plus
    ``all``) expand to their members, duplicates are dropped, order is kept.

    Example:
        >>> expand_names("scene,flow,depth")
        ['flow', 'camera', 'sky', 'cuts', 'depth']
    """
    items = [n.strip() for n in only.split(",")] if isinstance(only, str) else [str(n).strip() for n in only]
    items = [n for n in items if n]
    if not items:
        raise InvalidInput("only", only, "names no analyzer (give e.g. 'scene', 'pose,face' or 'all')")
    out: list[str] = []
    for n in items:
        if n == "all":
            members = tuple(sorted(registry if registry is not None else available_analyzers()))
        else:
            members = GROUPS.get(n, (n,))
        out += [m for m in members if m not in out]
    return out


def resolve_order(names: Sequence[str], registry: dict[str, type[Analyzer]]) -> list[list[str]]:
    """Levels of analyzer names: each level needs only tracks from earlier levels."""
    unknown = [n for n in names if n not in registry]
    if unknown:
        raise InvalidInput("only", unknown[0], f"is not an analyzer (available: {', '.join(sorted(registry))}; "
                                               f"groups: {', '.join([*GROUPS, 'all'])})")
    level: dict[str, int] = {}

    def visit(name: str, stack: tuple[str, ...]) -> int:
        if name in stack:
            raise InvalidInput("analyzers", name, f"has a dependency cycle: {' -> '.join(stack + (name,))}")
        if name not in level:
            reqs = registry[name].requires
            level[name] = 1 + max((visit(r, stack + (name,)) for r in reqs), default=-1)
        return level[name]

    for n in names:
        visit(n, ())
    out: list[list[str]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for n, lv in sorted(level.items()):
        out[lv].append(n)
    return out


def analyze(path: str | os.PathLike, only: str | Sequence[str] = "scene", *, params: dict[str, dict[str, Any]] | None = None,
            long_side: int = DEFAULT_LONG_SIDE, cache: AnalysisCache | None = None, use_cache: bool = True,
            chunk_size: int = 16, progress: ProgressCallback | None = None,
            cancel: CancelToken | None = None) -> Analysis:
    """Compute (or load) the named tracks of a clip.

    Args:
        path: the clip.
        only: analyzer names or groups, a sequence or a comma-separated string
            (``"scene"``, ``"pose,face"``, ``"all"``; ``reworld analyze --list`` shows them);
            their requirements are computed too.
        params: per-analyzer parameters, ``{"flow": {"preset": "fast"}}``.
        long_side: analysis resolution (long side in pixels; never upscaled).
        cache: the cache to use (default: ``$REWORLD_CACHE``); ``use_cache=False`` recomputes
            and overwrites.
        progress: events of stage ``"analyse"`` (frames done over frames to decode).
        cancel: polled at every chunk.

    Returns:
        :class:`reworld.analysis.tracks.Analysis`.
    """
    registry = available_analyzers()
    params = dict(params or {})
    for key in params:
        if key not in registry:
            raise InvalidInput("params", key, f"is not an analyzer (available: {', '.join(sorted(registry))})")
    names = expand_names(only, registry)
    levels = resolve_order(names, registry)
    cache = cache if cache is not None else AnalysisCache()
    # analysis decodes with swscale's plain bicubic YUV->RGB (accurate=False): 1.8 ms instead of
    # 11.8 ms per 720p frame; colours differ from the render path's unbiased conversion by about
    # one level, which no analyzer can tell (the cache key records the decode path)
    with ClipReader(path, chunk_size=chunk_size, accurate=False) as reader:
        info = reader.info
        h_full, w_full = reader.size
        h, w, scale = analysis_size(h_full, w_full, long_side)
        result = Analysis(str(path), file_hash(path), (h, w), scale)
        # 1. Keys and cache hits, level by level (a key includes its upstream keys).
        analyzers: dict[str, Analyzer] = {}
        todo: list[list[str]] = []
        for names_at_level in levels:
            pending = []
            for name in names_at_level:
                a = registry[name](params.get(name))
                analyzers[name] = a
                key = cache_key(result.clip_hash, name, a.version,
                                {"params": a.params_dict(), "size": [h, w], "decode": _DECODE},
                                upstream=[result.keys[r] for r in a.requires])
                result.keys[name] = key
                hit = cache.get(key, mmap=True) if use_cache else None
                side = cache.get_meta(key) if hit is not None else None
                if hit is not None and side is not None:
                    track_meta = side.get("meta", {}).get("track_meta", {})
                    result.tracks[name] = Track(name, hit, dict(track_meta, cached=True))
                else:
                    pending.append(name)
            todo.append(pending)
        # 2. One decode pass per level with work left.
        passes = [p for p in todo if p]
        total = len(reader) * len(passes)
        report = stage_reporter(progress, "analyse", total)
        done = 0
        with tempfile.TemporaryDirectory(prefix="reworld-analyse-") as scratch:
            # later passes replay the analysis-scale frames the first pass kept in a scratch file
            # (plain file I/O: the page cache, not this process's RSS) instead of decoding again,
            # unless one of their analyzers crops from full-resolution frames
            replay = _FrameStore(scratch, (h, w), len(reader)) if len(passes) > 1 else None
            for p_i, pending in enumerate(passes):
                ctx = AnalysisContext(info=info, n_frames=len(reader), size=(h, w), scale=scale,
                                      fps=reader.fps, scratch=scratch, source=str(path))
                for name in pending:
                    ctx_tracks = {r: result.tracks[r] for r in analyzers[name].requires}
                    ctx.tracks.update(ctx_tracks)
                    analyzers[name].setup(ctx)
                wants_full = any(analyzers[name].full_frames for name in pending)
                if p_i == 0 or wants_full or replay is None or not replay.complete:
                    source = _decoded(reader, h, w, cancel, replay if p_i == 0 else None)
                else:
                    source = replay.chunks(chunk_size, cancel)
                t0 = time.perf_counter()
                n = 0
                upstream = [a for t in ctx.tracks.values() for a in t.arrays.values()]
                for c_i, fc in enumerate(source):
                    check_cancel(cancel)
                    for name in pending:
                        analyzers[name].process(fc, ctx)
                    n += len(fc)
                    done += len(fc)
                    report(done)
                    if c_i % _RELEASE_EVERY == _RELEASE_EVERY - 1:  # keep RSS flat on long clips
                        release_pages(live_maps() + upstream)
                ctx.n_frames = n  # the real count (a container may over-report)
                if p_i == 0 and replay is not None:
                    replay.finish(n)
                elapsed = time.perf_counter() - t0
                for name in pending:
                    track = analyzers[name].finalize(ctx)
                    track.meta.setdefault("params", analyzers[name].params_dict())
                    track.meta.setdefault("version", analyzers[name].version)
                    track.meta.setdefault("seconds", round(elapsed, 3))
                    cache.put(result.keys[name], track.arrays or {"empty": np.zeros(0, np.uint8)},
                              {"analyzer": name, "version": analyzers[name].version,
                               "params": analyzers[name].params_dict(), "clip_hash": result.clip_hash,
                               "track_meta": track.meta})
                    result.tracks[name] = track
                    release_pages(track.arrays)
            if replay is not None:
                replay.close()
    return result


def _decoded(reader: ClipReader, h: int, w: int, cancel: CancelToken | None,
             store: _FrameStore | None) -> Iterator[FrameChunk]:
    """Decode the clip: analysis-scale chunks (with the full-resolution frames), optionally kept."""
    for chunk in reader.chunks(cancel=cancel):
        small = _resize(chunk.frames, h, w)
        if store is not None:
            store.append(small, chunk.times)
        yield FrameChunk(small, chunk.start, chunk.times, full=chunk.frames)


class _FrameStore:
    """Analysis-scale frames of one decode pass in a raw scratch file, replayed by later passes.

    Written and read with ordinary file I/O, so the frames live in the page cache rather than in
    this process's memory; a pass that reads them costs no decoding and no resizing. Disabled
    (``complete`` stays False) when the clip would take more than ``limit`` bytes.
    """

    def __init__(self, folder: str, size: tuple[int, int], n_hint: int, limit: int = 4 << 30) -> None:
        self.frame_bytes = size[0] * size[1] * 3
        self.size = size
        self.enabled = n_hint * self.frame_bytes <= limit
        self.path = os.path.join(folder, "frames.rgb")
        self.file = open(self.path, "wb") if self.enabled else None  # noqa: SIM115 - closed by finish()/close()
        self.times: list[np.ndarray] = []
        self.n = 0
        self.complete = False

    def append(self, frames: np.ndarray, times: np.ndarray) -> None:
        if self.file is None:
            return
        self.file.write(np.ascontiguousarray(frames, np.uint8).tobytes())
        self.times.append(np.asarray(times, np.float64))
        self.n += len(frames)

    def finish(self, n: int) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None
            self.complete = self.enabled and self.n == n

    def chunks(self, chunk_size: int, cancel: CancelToken | None) -> Iterator[FrameChunk]:
        times = np.concatenate(self.times) if self.times else np.zeros(0)
        h, w = self.size
        with open(self.path, "rb") as f:
            for start in range(0, self.n, chunk_size):
                check_cancel(cancel)
                k = min(chunk_size, self.n - start)
                data = np.frombuffer(f.read(k * self.frame_bytes), np.uint8)
                yield FrameChunk(data.reshape(k, h, w, 3).copy(), start, times[start:start + k])

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None
        if os.path.exists(self.path):
            os.remove(self.path)


def _resize(frames: np.ndarray, h: int, w: int) -> np.ndarray:
    import cv2

    if frames.shape[1:3] == (h, w):
        return frames
    return np.stack([cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA) for f in frames])
