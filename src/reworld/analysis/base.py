"""The analyzer interface, its context, and the registry (PySceneDetect detector shape).

An analyzer is one class in ``analysis/<name>.py``:

- ``name``, ``version`` (bump when the output changes), ``requires`` (names of analyzers whose
  tracks it reads), a ``Params`` dataclass;
- ``setup(ctx)`` once before the first chunk (load models, allocate outputs);
- ``process(chunk, ctx)`` for every chunk of frames, **streamed** at analysis scale;
- ``finalize(ctx) -> Track`` once at the end.

Analyzers are pure: they never open files, cache or report to jobs; the runner
(:mod:`reworld.analysis.runner`) decodes, resizes, caches and reports progress. They exchange data
only through the tracks in ``ctx.tracks``.

Example:
    >>> sorted(REGISTRY) == sorted(set(REGISTRY))
    True
"""

from __future__ import annotations

import dataclasses
import uuid
import weakref
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, ClassVar

import numpy as np

from reworld.analysis.tracks import Track
from reworld.errors import InvalidInput
from reworld.types import MediaInfo


@dataclass
class FrameChunk:
    """Frames handed to analyzers.

    Attributes:
        frames: ``(t, h, w, 3)`` uint8 RGB at analysis scale.
        start: index of the first frame in the clip.
        times: ``(t,)`` float64 seconds.
        full: the same frames at **full resolution** (as decoded, rotation applied), for
            analyzers that crop small subjects (people far away) before running a model. Only
            guaranteed to analyzers that set ``full_frames = True``; otherwise ``None`` on passes
            the runner replays from its scratch copy (and when frames come from memory). Never
            keep references to it past ``process`` (it is the reader's chunk buffer).
    """

    frames: np.ndarray
    start: int
    times: np.ndarray
    full: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.frames.shape[0])


@dataclass
class AnalysisContext:
    """What an analyzer knows about the clip being analysed.

    Attributes:
        info: the probed file.
        n_frames: frames in the clip.
        size: ``(h, w)`` analysis resolution.
        scale: analysis size / full size (point data in tracks is in **full-resolution** pixels:
            divide by ``scale`` when converting from analysis pixels).
        fps: average frame rate.
        tracks: finished tracks of the analyzers this one ``requires``.
        scratch: a folder the analyzer may write large temporary arrays to (memory maps).
        source: path of the clip, for inputs other than frames (the audio track, read with
            :func:`reworld.io.audio.read_audio`); ``None`` when frames come from memory.
    """

    info: MediaInfo
    n_frames: int
    size: tuple[int, int]
    scale: float
    fps: Fraction
    tracks: dict[str, Track] = field(default_factory=dict)
    scratch: str | None = None
    source: str | None = None


class Analyzer:
    """Base class of analyzers (see module doc). Subclasses set the class attributes."""

    name: ClassVar[str] = ""
    version: ClassVar[int] = 1
    requires: ClassVar[tuple[str, ...]] = ()
    #: set True when ``process`` reads ``chunk.full`` (full-resolution frames): the runner then
    #: decodes the clip again for this analyzer's pass instead of replaying the analysis-scale
    #: frames it kept from the first pass (``chunk.full`` is ``None`` on replayed passes)
    full_frames: ClassVar[bool] = False

    @dataclass(frozen=True)
    class Params:
        pass

    def __init__(self, params: Any = None) -> None:
        if params is None:
            params = self.Params()
        elif isinstance(params, dict):
            known = {f.name for f in dataclasses.fields(self.Params)}
            unknown = sorted(set(params) - known)
            if unknown:
                raise InvalidInput(f"{self.name}.{unknown[0]}", params[unknown[0]],
                                   f"is not a parameter of the {self.name} analyzer (known: {', '.join(sorted(known)) or 'none'})")
            params = self.Params(**params)
        self.params = params
        self.validate()

    def validate(self) -> None:
        """Check ``self.params``; raise :class:`InvalidInput` naming ``<name>.<field>``."""

    def params_dict(self) -> dict[str, Any]:
        """Parameters as JSON-ready values (part of the cache key)."""
        return dataclasses.asdict(self.params)

    def setup(self, ctx: AnalysisContext) -> None:
        """Called once before the first chunk."""

    def process(self, chunk: FrameChunk, ctx: AnalysisContext) -> None:
        raise NotImplementedError

    def finalize(self, ctx: AnalysisContext) -> Track:
        raise NotImplementedError


#: memory maps made by :func:`allocate_arrays` and still referenced somewhere; the runner
#: releases their pages (:func:`release_pages`) between chunks so RSS stays flat
_LIVE_MAPS: list[weakref.ref] = []


def live_maps() -> list[np.ndarray]:
    """The memory maps made by :func:`allocate_arrays` that are still alive."""
    alive = [(r, r()) for r in _LIVE_MAPS]
    _LIVE_MAPS[:] = [r for r, a in alive if a is not None]
    return [a for _r, a in alive if a is not None]

#: name -> analyzer class; each analyzer module registers itself with :func:`register`
REGISTRY: dict[str, type[Analyzer]] = {}


def register(cls: type[Analyzer]) -> type[Analyzer]:
    """Class decorator adding an analyzer to :data:`REGISTRY` under ``cls.name``."""
    if not cls.name:
        raise ValueError(f"{cls.__qualname__} has no name")
    REGISTRY[cls.name] = cls
    return cls


def allocate_arrays(shapes: dict[str, tuple[tuple[int, ...], Any]], folder: str | None,
                    old: dict[str, np.ndarray] | None = None, keep: int = 0) -> dict[str, np.ndarray]:
    """(Re)allocate an analyzer's per-frame output arrays, as ``.npy`` memory maps in ``folder``
    (RAM stays flat with clip length) or in RAM when ``folder`` is ``None``; the first ``keep``
    rows of ``old`` arrays of the same name are copied over (growth when a container
    under-reports its frame count).
    """
    import os

    new: dict[str, np.ndarray] = {}
    for name, (shape, dtype) in shapes.items():
        if folder is not None:
            # a unique name: analyzers share ctx.scratch, and two of them may call an array
            # "present" (a second open_memmap(mode="w+") on the same path would overwrite the
            # first analyzer's finished track)
            path = os.path.join(folder, f"{name}-{shape[0]}-{uuid.uuid4().hex[:12]}.npy")
            new[name] = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=shape)
            _LIVE_MAPS.append(weakref.ref(new[name]))
        else:
            new[name] = np.zeros(shape, dtype)
        if old and name in old and keep:
            new[name][:keep] = old[name][:keep]
    return new


def _mapping(a: Any):
    """The ``mmap.mmap`` under a numpy memory map or a view of one, else ``None``."""
    import mmap

    seen = 0
    while a is not None and seen < 8:
        if isinstance(a, mmap.mmap):
            return a
        m = getattr(a, "_mmap", None)
        if isinstance(m, mmap.mmap):
            return m
        a = getattr(a, "base", None)
        seen += 1
    return None


def release_pages(arrays: Any) -> int:
    """Hand the resident pages of memory-mapped arrays back to the page cache.

    A memory map's pages count in the process's RSS once touched, so an analyzer that writes a
    long clip's flow into a map, or reads a long upstream track, looks as if it held the whole
    clip. ``madvise(MADV_DONTNEED)`` unmaps them from the process; on a shared file mapping the
    data stays in the kernel's page cache (dirty pages are written back by the kernel as usual, so
    no ``msync`` is forced here) and comes back on the next access. ``arrays`` is an array, a mapping or a sequence of them; arrays that
    are not memory maps are skipped. Returns how many mappings were released.
    """
    import mmap

    if isinstance(arrays, np.ndarray):
        arrays = [arrays]
    elif isinstance(arrays, dict):
        arrays = list(arrays.values())
    done: set[int] = set()
    for a in arrays:
        m = _mapping(a)
        if m is None or id(m) in done:
            continue
        done.add(id(m))
        try:
            m.madvise(mmap.MADV_DONTNEED)
        except (OSError, ValueError, AttributeError):  # closed, or a platform without madvise
            pass
    return len(done)


def check_overlay_args(frame: Any, index: Any, n: int) -> None:
    """Validate the ``(frame, index)`` of an analyzer's ``overlay`` for a track of ``n`` frames."""
    if not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise InvalidInput("frame", f"{getattr(frame, 'dtype', type(frame).__name__)} {getattr(frame, 'shape', '')}",
                           "must be an (H, W, 3) uint8 RGB frame")
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < n:
        raise InvalidInput("index", index, f"must be a frame index in [0, {n})")
