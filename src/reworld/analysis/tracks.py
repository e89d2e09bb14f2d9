"""Tracks: what analyzers produce — named numpy arrays plus JSON metadata.

A :class:`Track` is deliberately plain so the cache can store any of them (one ``.npz`` of
uncompressed arrays + a JSON sidecar) and hand dense ones back as memory maps. Each analyzer
documents its arrays (names, shapes, dtypes, units) in its module docstring; the conventions:

- per-frame arrays have the frame axis first, length ``T`` (or ``T-1`` for pairs);
- dense maps are stored at the analysis size ``(h, w)`` (or smaller, said in ``meta``);
- point data (keypoints, boxes, corners) are full-resolution pixels ``(x, y)``;
- ``valid`` (``(T,)`` bool) marks frames where the estimate is trustworthy, when relevant.

Example:
    >>> t = Track("demo", {"x": np.zeros(3, np.float32)}, {"unit": "px"})
    >>> t["x"].shape, t.meta["unit"]
    ((3,), 'px')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Track:
    """One analyzer's output.

    Attributes:
        kind: the analyzer name that made it (``"flow"``, ``"camera"``, ``"cuts"``...).
        arrays: named arrays (may be read-only memory maps when loaded from the cache).
        meta: JSON-serialisable facts (units, scales, summaries, the parameters used).
    """

    kind: str
    arrays: dict[str, np.ndarray]
    meta: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self.arrays[name]
        except KeyError:
            raise KeyError(f"track {self.kind!r} has no array {name!r} (has: {', '.join(sorted(self.arrays))})") from None

    def __contains__(self, name: str) -> bool:
        return name in self.arrays

    def nbytes(self) -> int:
        """Bytes held by the arrays (memory maps count their mapped size)."""
        return int(sum(a.nbytes for a in self.arrays.values()))


@dataclass
class Analysis:
    """Every track computed for one clip, with the keys that identify them in the cache.

    Attributes:
        source: the file analysed.
        clip_hash: sha256 of its bytes.
        size: ``(h, w)`` analysis resolution; ``scale`` = analysis / full size.
        tracks: name -> :class:`Track`.
        keys: name -> cache key.
    """

    source: str
    clip_hash: str
    size: tuple[int, int]
    scale: float
    tracks: dict[str, Track] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Track:
        try:
            return self.tracks[name]
        except KeyError:
            raise KeyError(f"no {name!r} track in this analysis (has: {', '.join(sorted(self.tracks))})") from None

    def summary(self) -> dict[str, Any]:
        """Per-track metadata (without arrays), JSON-ready."""
        return {"source": self.source, "size": list(self.size), "scale": self.scale,
                "tracks": {k: {"meta": t.meta, "arrays": {n: [list(a.shape), str(a.dtype)] for n, a in t.arrays.items()}}
                           for k, t in self.tracks.items()}}
