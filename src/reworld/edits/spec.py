"""EditSpec: one JSON-serialisable, versioned description of every job reworld runs.

Imports only stdlib, pydantic, numpy and :mod:`reworld.errors`, so the server can load it cheaply.
Schema checks happen when a spec is built; file checks (:func:`validate_paths`) are separate so a
server can validate a spec whose files are still uploads.

Luma levels: ``mode="flex_2"`` means ``mode="flex", intensity=0.5``; an integer ``intensity`` of
1, 2 or 3 is a level (see :data:`LEVEL_TO_INTENSITY`), a float is used as is.

Example:
    >>> spec = EditSpec.from_json({"input": "in.mp4", "output": {"path": "out.mp4"}, "mode": "flex_3"})
    >>> (spec.mode, spec.intensity, spec.luma_mode, spec.output.codec)
    ('flex', 1.0, 'flex_3', 'h264')
    >>> EditSpec.from_json(spec.to_json()) == spec
    True
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import numpy as np
from pydantic import BeforeValidator, Field, ValidationError, field_validator, model_validator

from reworld.edits._errors import from_validation_error
from reworld.edits._fields import PathStr, SpecModel, Text, field_error, integer
from reworld.edits._grade import FocusSpec, GradeSpec, MotionSpec
from reworld.edits._regions import (
    REGION_ACTIONS,
    TARGET_LABELS,
    BoxTarget,
    MaskTarget,
    PointsTarget,
    RegionEdit,
    RegionParams,
)
from reworld.edits._output import CODECS, CONTAINERS, PRESETS, OutputSpec
from reworld.errors import InvalidInput

__all__ = [
    "CODECS",
    "CONTAINERS",
    "LEVEL_TO_INTENSITY",
    "LUMA_MODES",
    "MODES",
    "PRESETS",
    "REGION_ACTIONS",
    "SCHEMA_VERSION",
    "TARGET_LABELS",
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

SCHEMA_VERSION = 1
MODES = ("adhere", "flex", "reimagine")
LUMA_MODES = tuple(f"{m}_{level}" for m in MODES for level in (1, 2, 3))
LEVEL_TO_INTENSITY = {1: 0.0, 2: 0.5, 3: 1.0}
"""Luma level -> stored intensity: 1 is the mildest setting of a mode, 3 the strongest."""

_INTENSITY_HINT = "must be a level 1, 2 or 3 or a float in [0, 1]"
_MODE_HINT = f"must be one of {', '.join(MODES + LUMA_MODES)} or null"


def level_to_intensity(level: int) -> float:
    """Luma level 1, 2 or 3 -> intensity 0.0, 0.5 or 1.0."""
    return LEVEL_TO_INTENSITY[level]


def intensity_to_level(intensity: float) -> int:
    """Nearest Luma level of an intensity in [0, 1] (ties go up: 0.25 -> 2, 0.75 -> 3)."""
    return min(3, int(intensity * 2 + 0.5) + 1)


def parse_luma_mode(value: str) -> tuple[str, int | None]:
    """``"flex_2"`` -> ``("flex", 2)``, ``"flex"`` -> ``("flex", None)``; anything else raises InvalidInput."""
    if value in MODES:
        return value, None
    if value in LUMA_MODES:
        mode, level = value.rsplit("_", 1)
        return mode, int(level)
    raise InvalidInput("mode", value, _MODE_HINT)


def _intensity(v: Any) -> float:
    """int 1/2/3 -> level float; int 0 -> 0.0; float in [0, 1] as is; anything else is an error."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, bool):
        raise field_error(_INTENSITY_HINT)
    if isinstance(v, int):
        if v in LEVEL_TO_INTENSITY:
            return LEVEL_TO_INTENSITY[v]
        if v == 0:
            return 0.0
        raise field_error(_INTENSITY_HINT)
    if isinstance(v, float) and 0.0 <= v <= 1.0:
        return v
    raise field_error(_INTENSITY_HINT)


def _mode(v: Any) -> Any:
    if v is None or v in MODES:
        return v
    raise field_error(_MODE_HINT)


Seed = integer(0, 2**32 - 1)
Variations = integer(1, 16)
Intensity = Annotated[
    float,
    BeforeValidator(
        _intensity,
        json_schema_input_type=Union[Literal[1, 2, 3], Annotated[float, Field(ge=0, le=1)]],
    ),
]
Mode = Annotated[
    Union[Literal["adhere", "flex", "reimagine"], None],
    BeforeValidator(_mode, json_schema_input_type=Union[Literal[MODES + LUMA_MODES], None]),
]


class EditSpec(SpecModel):
    """Everything one reworld job does: source, restyle mode, region/grade/motion edits, output.

    Build one with :meth:`from_json` / :meth:`from_file` to get :class:`reworld.errors.InvalidInput`
    (field named by its dotted path) instead of pydantic's ``ValidationError``.

    Example:
        >>> spec = EditSpec.example()
        >>> spec.mode is None and not spec.grade.is_identity()
        True
    """

    schema_version: Literal[1] = Field(1, description="Version of this schema; only 1 exists.")
    input: PathStr = Field(description="Path of the source clip or still (or an upload id on the server).")
    output: OutputSpec
    mode: Mode = Field(
        None,
        description="Restyle mode: adhere (keep the look close), flex, reimagine (free); null = no restyle. "
        "Luma strings adhere_1 ... reimagine_3 set mode and intensity together.",
    )
    intensity: Intensity = Field(
        0.5,
        description="Strength within the mode, a float in [0, 1]; an integer 1, 2 or 3 is a Luma level "
        "(1 -> 0.0, 2 -> 0.5, 3 -> 1.0).",
    )
    prompt: Text | None = Field(None, description="What the result should look like.")
    negative_prompt: Text | None = Field(None, description="What to avoid.")
    reference_image: PathStr | None = Field(None, description="Path of a style reference image.")
    first_frame: PathStr | None = Field(None, description="Path of an edited first frame to propagate (guide).")
    seed: Seed = Field(0, description="Random seed; variation i uses a generator from (seed, i).")
    variations: Variations = Field(1, description="How many results to render.")
    engine: Annotated[str, Field(min_length=1, max_length=100)] = Field(
        "classical", description="Engine name (see `reworld engines`)."
    )
    engine_params: dict[str, Any] = Field(
        default_factory=dict, description="Engine-specific settings (JSON values), checked by the engine."
    )
    regions: list[RegionEdit] = Field(default_factory=list, description="Local edits, applied in order.")
    grade: GradeSpec | None = Field(None, description="Colour grade applied to the whole frame.")
    motion: MotionSpec | None = Field(None, description="Speed, trim, reverse, loop, focus, stabilisation.")

    @field_validator("engine_params")
    @classmethod
    def _json_only(cls, v: dict[str, Any]) -> dict[str, Any]:
        try:  # canonical JSON values: tuples become lists, so the spec round-trips
            return json.loads(json.dumps(v, allow_nan=False))
        except (TypeError, ValueError):
            raise field_error(
                "must hold only JSON values (objects, lists, strings, finite numbers, true/false, null)"
            ) from None

    @model_validator(mode="before")
    @classmethod
    def _luma_mode(cls, data: Any) -> Any:
        """Split ``mode="flex_2"`` into mode and intensity; an explicit intensity must agree."""
        if not isinstance(data, Mapping) or data.get("mode") not in LUMA_MODES:
            return data
        mode, level = parse_luma_mode(data["mode"])
        data = dict(data, mode=mode)
        given = data.get("intensity")
        if given is None:
            data["intensity"] = LEVEL_TO_INTENSITY[level]  # type: ignore[index]
            return data
        try:
            value = _intensity(given)
        except Exception:
            return data  # the intensity field reports it
        if intensity_to_level(value) != level:
            raise field_error(
                f"conflicts with `mode` {mode}_{level} (level {level} = intensity "
                f"{LEVEL_TO_INTENSITY[level]}); give the level in one place only",  # type: ignore[index]
                field="intensity",
                value=given,
            )
        return data

    # ------------------------------------------------------------------ Luma view

    @property
    def level(self) -> int:
        """Nearest Luma level (1, 2 or 3) of :attr:`intensity`."""
        return intensity_to_level(self.intensity)

    @property
    def luma_mode(self) -> str | None:
        """Luma Dream Machine mode string (``"flex_2"``), or None when there is no restyle."""
        return None if self.mode is None else f"{self.mode}_{self.level}"

    # ------------------------------------------------------------------ (de)serialisation

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | None = None) -> EditSpec:
        """Validate a dict (parsed JSON); errors come out as InvalidInput naming the dotted field."""
        if not isinstance(data, Mapping):
            raise InvalidInput(source or "spec", data, "must be a JSON object")
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            raise from_validation_error(exc, cls, source=source) from None

    @classmethod
    def from_json(cls, text: str | bytes | Mapping[str, Any], *, source: str | None = None) -> EditSpec:
        """Parse JSON text (or take an already parsed dict) into a spec.

        Args:
            text: JSON text, or a dict.
            source: where the text came from (a file name), used in error messages.

        Raises:
            InvalidInput: invalid JSON (names ``source`` and the line/column) or an invalid field.
        """
        if isinstance(text, Mapping):
            return cls.from_dict(text, source=source)
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        if not isinstance(text, str):
            raise InvalidInput(source or "spec", type(text).__name__, "must be JSON text or a dict")
        return cls.from_dict(_loads(text, source or "spec"), source=source)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> EditSpec:
        """Read a spec from a JSON file."""
        p = Path(path)
        if not p.exists():
            raise InvalidInput("spec", str(path), "file does not exist")
        if p.is_dir():
            raise InvalidInput("spec", str(path), "is a folder, not a JSON file")
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput("spec", str(path), f"could not be read as UTF-8 text ({exc})") from None
        return cls.from_json(text, source=str(path))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (tuples become lists); ``from_dict(spec.to_dict()) == spec``."""
        return self.model_dump(mode="json")

    def to_json(self) -> str:
        """Stable JSON text (field order fixed, indent 2); ``from_json(spec.to_json()) == spec``."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False)

    def with_changes(self, changes: Mapping[str, Any], *, source: str | None = None) -> EditSpec:
        """A new, re-validated spec with ``changes`` deep-merged in (nested dicts merge, the rest replaces).

        Values this spec inferred (output container/codec/bit depth) are inferred again, so
        ``{"output": {"path": "out.mov"}}`` switches the container. A Luma ``mode`` ("flex_3")
        without ``intensity`` replaces the intensity too.

        Example:
            >>> EditSpec.example().with_changes({"seed": 7, "output": {"crf": 20}}).output.crf
            20
        """
        base = self.model_dump(mode="json", exclude_unset=True)
        if changes.get("mode") in LUMA_MODES and "intensity" not in changes:
            base.pop("intensity", None)
        return type(self).from_dict(_merge(base, changes), source=source)

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """JSON Schema (draft 2020-12) of the accepted input, for ``reworld spec --schema``."""
        schema = cls.model_json_schema(mode="validation")
        for sub in schema.get("$defs", {}).values():  # keep the prose, drop the doctest examples
            if "description" in sub:
                sub["description"] = sub["description"].split("\n\nExample:")[0].strip()
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            **schema,
            "title": "reworld EditSpec",
            "description": f"A reworld edit job (schema_version {SCHEMA_VERSION}). See docs/edit-spec.md.",
        }

    @classmethod
    def example(cls) -> EditSpec:
        """A realistic grade-only spec: warm, slightly punchy look with a soft S-curve."""
        return cls.from_dict(
            {
                "input": "clips/beach.mp4",
                "output": {"path": "renders/beach_graded.mp4", "crf": 18},
                "grade": {
                    "exposure": 0.3,
                    "contrast": 1.1,
                    "saturation": 0.95,
                    "vibrance": 0.2,
                    "temperature": 0.15,
                    "lift": [0.01, 0.0, 0.02],
                    "curves": {"master": [[0, 0], [0.25, 0.22], [0.75, 0.8], [1, 1]]},
                },
            }
        )

    # ------------------------------------------------------------------ paths

    def input_paths(self) -> dict[str, str]:
        """Every file this spec reads, by dotted field name (``"regions.0.params.image"``)."""
        found = {"input": self.input}
        for name in ("reference_image", "first_frame"):
            if getattr(self, name) is not None:
                found[name] = getattr(self, name)
        if self.grade is not None:
            for name in ("lut", "match"):
                if getattr(self.grade, name) is not None:
                    found[f"grade.{name}"] = getattr(self.grade, name)
        for i, region in enumerate(self.regions):
            if isinstance(region.target, MaskTarget):
                found[f"regions.{i}.target.mask"] = region.target.mask
            if region.params.image is not None:
                found[f"regions.{i}.params.image"] = region.params.image
        return found

    def validate_paths(self, *, check_exists: bool = True, base_dir: str | os.PathLike[str] | None = None) -> None:
        """Same as :func:`validate_paths`."""
        validate_paths(self, check_exists=check_exists, base_dir=base_dir)


def validate_paths(
    spec: EditSpec, *, check_exists: bool = True, base_dir: str | os.PathLike[str] | None = None
) -> None:
    """Check the files a spec names: inputs exist, and the output does not overwrite the input.

    Args:
        spec: a validated spec.
        check_exists: check that every input file exists (off on a server before uploads land).
        base_dir: folder that relative paths are relative to (default: the working directory).

    Raises:
        InvalidInput: naming the field (``reference_image``, ``regions.0.params.image``,
            ``output.path``) and the path.
    """
    base = Path(base_dir) if base_dir is not None else Path.cwd()

    def resolve(p: str) -> Path:
        return (base / Path(p).expanduser()).resolve()

    if check_exists:
        for name, p in spec.input_paths().items():
            if not resolve(p).exists():
                raise InvalidInput(name, p, "does not exist")
    src, dst = resolve(spec.input), resolve(spec.output.path)
    same = src == dst
    if not same and src.exists() and dst.exists():
        same = os.path.samefile(src, dst)
    if same:
        raise InvalidInput("output.path", spec.output.path, "is the input file; choose another output path")


# ---------------------------------------------------------------------- helpers


def _loads(text: str, source: str) -> Any:
    def no_constant(name: str) -> Any:
        raise ValueError(f"{name} is not allowed in JSON")

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in pairs:
            if k in out:
                raise InvalidInput(source, k, "repeats a key inside one JSON object")
            out[k] = v
        return out

    try:
        return json.loads(text, parse_constant=no_constant, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as exc:
        lines = text.splitlines()
        line = lines[exc.lineno - 1].strip() if 0 < exc.lineno <= len(lines) else ""
        raise InvalidInput(
            source, line, f"is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except ValueError as exc:
        if isinstance(exc, InvalidInput):
            raise
        raise InvalidInput(source, str(exc).split()[0], f"is not valid JSON: {exc}") from None


def _merge(base: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out
