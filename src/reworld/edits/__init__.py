"""Edit specs: what a reworld job does (``spec``); later, modes and render plans.

Importing this package loads only pydantic and numpy (no PyAV, OpenCV or torch).
"""

from __future__ import annotations

from reworld.edits.spec import (
    LEVEL_TO_INTENSITY,
    LUMA_MODES,
    MODES,
    SCHEMA_VERSION,
    BoxTarget,
    EditSpec,
    FocusSpec,
    GradeSpec,
    MaskTarget,
    MotionSpec,
    OutputSpec,
    PointsTarget,
    RegionEdit,
    RegionParams,
    intensity_to_level,
    level_to_intensity,
    parse_luma_mode,
    validate_paths,
)

__all__ = [
    "LEVEL_TO_INTENSITY",
    "LUMA_MODES",
    "MODES",
    "SCHEMA_VERSION",
    "BoxTarget",
    "EditSpec",
    "FocusSpec",
    "GradeSpec",
    "MaskTarget",
    "MotionSpec",
    "OutputSpec",
    "PointsTarget",
    "RegionEdit",
    "RegionParams",
    "intensity_to_level",
    "level_to_intensity",
    "parse_luma_mode",
    "validate_paths",
]
