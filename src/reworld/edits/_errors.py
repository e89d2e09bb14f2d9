"""Turn pydantic's ``ValidationError`` into :class:`reworld.errors.InvalidInput` with dotted field paths."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any, Union

from pydantic import BaseModel, Tag, ValidationError

from reworld.errors import InvalidInput

_NAMES = {
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "missing": "is required",
}


def _unwrap(tp: Any) -> tuple[Any, dict[str, Any]]:
    """Strip Annotated and Optional; for a tagged union return ``(None, {tag: member})``."""
    while True:
        if typing.get_origin(tp) is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        if typing.get_origin(tp) in (Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(members) == 1:
                tp = members[0]
                continue
            tags = {}
            for m in members:
                for meta in getattr(m, "__metadata__", ()):
                    if isinstance(meta, Tag):
                        tags[meta.tag] = m
            return None, tags
        return tp, {}


def _resolve(root: type[BaseModel], loc: tuple[int | str, ...]) -> tuple[list[str], type[BaseModel]]:
    """Dotted path parts for ``loc`` (union tags and dict-key markers dropped) and the last model on it."""
    parts: list[str] = []
    owner: type[BaseModel] = root
    cur: Any = root
    for item in loc:
        tp, tags = _unwrap(cur)
        if tags and item in tags:
            cur = tags[item]
            continue
        if item == "[key]":
            continue
        parts.append(str(item))
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            owner = tp
            field = tp.model_fields.get(item) if isinstance(item, str) else None
            cur = field.annotation if field is not None else None
            continue
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if origin is tuple and args:
            if len(args) == 2 and args[1] is Ellipsis:
                cur = args[0]
            else:
                cur = args[item] if isinstance(item, int) and item < len(args) else None
        elif origin in (list, typing.Sequence) and args:
            cur = args[0]
        elif origin is dict and args:
            cur = args[1]
        else:
            cur = None
    return parts, owner


def _unknown_field(name: str, owner: type[BaseModel]) -> str:
    known = list(owner.model_fields)
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean `{close[0]}`? " if close else ""
    return f"is not a known field of {owner.__name__} ({hint}known: {', '.join(known)})"


def one_error(err: dict[str, Any], root: type[BaseModel]) -> InvalidInput:
    """One pydantic error dict -> InvalidInput(arg, value, reason)."""
    parts, owner = _resolve(root, tuple(err["loc"]))
    ctx = err.get("ctx") or {}
    kind = err["type"]
    value = err.get("input")
    if kind == "reworld":
        reason = ctx["reason"]
        if "field" in ctx:
            parts += ctx["field"].split(".")
        if "value" in ctx:
            value = ctx["value"]
    elif kind == "extra_forbidden":
        reason = _unknown_field(parts[-1], owner)
    elif kind == "missing":
        reason, value = "is required", None
    elif kind == "literal_error":
        reason = f"must be {ctx.get('expected', 'one of the allowed values')}"
        if err["loc"] and err["loc"][-1] == "[key]":
            reason = f"is not an allowed key: use {ctx.get('expected')}"
    elif kind in ("too_short", "too_long"):
        n = ctx.get("min_length" if kind == "too_short" else "max_length")
        reason = f"must have {'at least' if kind == 'too_short' else 'at most'} {n} item{'s' * (n != 1)}"
    elif kind == "string_too_short":
        reason = "must not be empty"
    elif kind == "string_too_long":
        reason = f"must be at most {ctx.get('max_length')} characters"
    elif kind in _NAMES:
        reason = _NAMES[kind]
    else:
        msg = str(err.get("msg", "is not valid"))
        reason = "is not valid: " + (msg[:1].lower() + msg[1:])
    return InvalidInput(".".join(parts) or root.__name__, value, reason)


def from_validation_error(exc: ValidationError, root: type[BaseModel], *, source: str | None = None) -> InvalidInput:
    """The first error of ``exc`` as InvalidInput; every error is kept in ``.details``.

    The reason mentions ``source`` (the spec file) and how many further errors there are.
    """
    details = [one_error(e, root) for e in exc.errors(include_url=False)]
    first = details[0]
    extra = []
    if source:
        extra.append(f"in {source}")
    if len(details) > 1:
        n = len(details) - 1
        extra.append(f"and {n} more error{'s' * (n != 1)}")
    reason = first.reason + (f" ({'; '.join(extra)})" if extra else "")
    out = InvalidInput(first.arg, first.value, reason)
    out.details = details  # type: ignore[attr-defined]
    return out
