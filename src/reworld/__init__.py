"""reworld: keep what happens, change where it happens.

Importing :mod:`reworld` is cheap: it imports neither PyAV, OpenCV, colour-science nor
torch. The public names below are loaded on first use.

Example:
    >>> import reworld
    >>> reworld.__version__
    '0.1.0'
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it (loaded lazily, scikit-image lazy_loader habit)
_LAZY = {
    "ClipReader": "reworld.io.reader",
    "ClipWriter": "reworld.io.writer",
    "probe": "reworld.io.probe",
    "read_image": "reworld.io.stills",
    "EditSpec": "reworld.edits.spec",
    "GradeSpec": "reworld.edits.spec",
    "analyze": "reworld.analysis.runner",
    "grade_clip": "reworld.pipeline",
    "render": "reworld.pipeline",
    "CancelToken": "reworld.progress",
    "ProgressEvent": "reworld.progress",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'reworld' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
