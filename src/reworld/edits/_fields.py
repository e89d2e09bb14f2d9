"""Building blocks of the edit spec: the base model, field types and the error they raise.

Layer 2, but imports only stdlib, pydantic, numpy and :mod:`reworld.errors` so that a server
can load the spec cheaply. Every check raises :func:`field_error`, a pydantic error whose
context carries the reason (and, for checks that span fields, the field and value to blame);
:mod:`reworld.edits._errors` turns it into :class:`reworld.errors.InvalidInput`.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from typing import Annotated, Any, Union

import numpy as np
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    WrapValidator,
)
from pydantic_core import PydanticCustomError

_NO_VALUE: Any = object()


def field_error(reason: str, *, field: str | None = None, value: Any = _NO_VALUE) -> PydanticCustomError:
    """Return the error every reworld check raises.

    Args:
        reason: sentence fragment after the field name ("must be in [0, 1]").
        field: dotted path below the model that raised it (model-level checks only).
        value: the value to report (default: the input pydantic saw).
    """
    ctx: dict[str, Any] = {"reason": reason}
    if field is not None:
        ctx["field"] = field
    if value is not _NO_VALUE:
        ctx["value"] = value
    return PydanticCustomError("reworld", "{reason}", ctx)


class SpecModel(BaseModel):
    """Base of every spec model: unknown keys rejected, immutable, no NaN/inf."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @classmethod
    def from_dict(cls, data: Any, *, source: str | None = None) -> Any:
        """Validate a dict; errors come out as InvalidInput naming the dotted field and value."""
        from pydantic import ValidationError

        from reworld.edits._errors import from_validation_error
        from reworld.errors import InvalidInput

        if not isinstance(data, dict):
            raise InvalidInput(source or cls.__name__, data, "must be a JSON object")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise from_validation_error(exc, cls, source=source) from None


# --------------------------------------------------------------------------- field types


def fmt_number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _plain(v: Any) -> Any:
    """numpy scalars and arrays -> Python numbers and lists; os.PathLike -> str."""
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, os.PathLike):
        return os.fspath(v)
    return v


def _range_text(lo: float | None, hi: float | None, lo_open: bool) -> str:
    if lo is not None and hi is not None:
        return f"in {'(' if lo_open else '['}{fmt_number(lo)}, {fmt_number(hi)}]"
    if lo is not None:
        return f"{'>' if lo_open else '>='} {fmt_number(lo)}"
    return f"<= {fmt_number(hi)}" if hi is not None else ""


def num(lo: float | None = None, hi: float | None = None, *, lo_open: bool = False) -> Any:
    """A float field in a closed (or left-open) range; ints are accepted, bools and strings not."""
    what = f"must be a number {_range_text(lo, hi, lo_open)}".rstrip()

    def wrap(v: Any, handler: Any) -> Any:
        try:
            return handler(_plain(v))
        except ValidationError:
            raise field_error(what) from None

    bounds: dict[str, float] = {}
    if lo is not None:
        bounds["gt" if lo_open else "ge"] = lo
    if hi is not None:
        bounds["le"] = hi
    return Annotated[float, Strict(), Field(**bounds), WrapValidator(wrap)]


def integer(lo: int | None = None, hi: int | None = None) -> Any:
    """An int field in a closed range; bools, floats and strings are rejected."""
    what = f"must be an integer {_range_text(lo, hi, False)}".rstrip()

    def wrap(v: Any, handler: Any) -> Any:
        try:
            return handler(_plain(v))
        except ValidationError:
            raise field_error(what) from None

    bounds = {k: b for k, b in (("ge", lo), ("le", hi)) if b is not None}
    return Annotated[int, Strict(), Field(**bounds), WrapValidator(wrap)]


def _path(v: Any) -> Any:
    v = _plain(v)
    if not isinstance(v, str) or not v.strip():
        raise field_error("must be a non-empty path string")
    return v


PathStr = Annotated[str, BeforeValidator(_path), Field(max_length=4096)]
"""A file or folder path (or, on the server, an upload id), checked by ``validate_paths`` only."""


def _text(v: Any) -> Any:
    if not isinstance(v, str):
        raise field_error("must be a string")
    return v


Text = Annotated[str, BeforeValidator(_text), Field(max_length=2000)]
Flag = Annotated[bool, Strict()]
FrameIndex = integer(0)
Unit = num(0, 1)
Signed = num(-1, 1)
Pixel = num(0)
Seconds = num(0)
Stops = num(-10, 10)
Factor = num(0, 4)
Speed = num(0.1, 10)


def seq(n: int, what: str, *, scalar: bool = False) -> Any:
    """A before-validator turning a list of exactly ``n`` items into a tuple (or repeating a scalar)."""

    def check(v: Any) -> Any:
        v = _plain(v)
        if scalar and isinstance(v, (int, float)) and not isinstance(v, bool):
            return (v,) * n
        if isinstance(v, Sequence) and not isinstance(v, str) and len(v) == n:
            return tuple(v)
        raise field_error(f"must be {what}")

    return check


Point = Annotated[tuple[Pixel, Pixel], BeforeValidator(seq(2, "a point [x, y] in pixels"))]


def triple(lo: float, hi: float, *, lo_open: bool = False) -> Any:
    """An (r, g, b) float triple; a single number means the same value for all three."""
    elem = num(lo, hi, lo_open=lo_open)
    what = f"must be a number or a list of 3 numbers, each {_range_text(lo, hi, lo_open)}"
    as_tuple = seq(3, what[len("must be ") :], scalar=True)

    def check(v: Any) -> Any:
        v = _plain(v)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if not (math.isfinite(v) and (v > lo if lo_open else v >= lo) and v <= hi):
                raise field_error(what)
        return as_tuple(v)

    return Annotated[
        tuple[elem, elem, elem],
        BeforeValidator(check, json_schema_input_type=Union[elem, tuple[elem, elem, elem]]),
    ]


_HEX = re.compile(r"#[0-9a-fA-F]{6}")


def _color(v: Any) -> str:
    v = _plain(v)
    if isinstance(v, str) and _HEX.fullmatch(v):
        return v.lower()
    if (
        isinstance(v, Sequence)
        and not isinstance(v, str)
        and len(v) == 3
        and all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in v)
    ):
        return "#{:02x}{:02x}{:02x}".format(*v)
    raise field_error("must be a colour '#rrggbb' or [r, g, b] with integers in [0, 255]")


Color = Annotated[
    str,
    BeforeValidator(
        _color,
        json_schema_input_type=Union[
            Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")],
            tuple[
                Annotated[int, Field(ge=0, le=255)],
                Annotated[int, Field(ge=0, le=255)],
                Annotated[int, Field(ge=0, le=255)],
            ],
        ],
    ),
]
"""A colour, stored as lower-case ``"#rrggbb"``; ``[r, g, b]`` (0-255) is accepted on input."""
