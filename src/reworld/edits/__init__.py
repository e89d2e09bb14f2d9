"""Edit specs: what a reworld job does (``spec``); later, modes and render plans.

Importing this package loads only pydantic and numpy (no PyAV, OpenCV or torch).
"""

from __future__ import annotations

from reworld.edits import spec as _spec
from reworld.edits.spec import *  # noqa: F403 - the public names are spec's own __all__

__all__ = list(_spec.__all__)
