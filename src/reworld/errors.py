"""Exceptions raised by reworld (layer 0: stdlib only).

Every error a user can cause is an :class:`InvalidInput` that names the argument and the
value received, so the CLI can exit with code 2 and the API can answer 4xx with the same
text. Internal failures are plain :class:`ReworldError` (exit code 1).
"""

from __future__ import annotations

from typing import Any


class ReworldError(Exception):
    """Base class of every error reworld raises on purpose."""


class InvalidInput(ReworldError, ValueError):
    """A user-supplied argument or file is not acceptable.

    Args:
        arg: the argument, option or field name (``"intensity"``, ``"INPUT"``, ``"output.codec"``).
        value: the value received (shown with ``repr`` for strings, shortened when long).
        reason: what is wrong and what is expected, as one sentence fragment.

    Example:
        >>> str(InvalidInput("intensity", 7, "must be a level 1-3 or a float in [0, 1]"))
        '`intensity` must be a level 1-3 or a float in [0, 1], got 7'
    """

    def __init__(self, arg: str, value: Any, reason: str) -> None:
        self.arg = arg
        self.value = value
        self.reason = reason
        super().__init__(f"`{arg}` {reason}, got {_short(value)}")


class ClipOpenError(InvalidInput):
    """A file could not be opened or decoded as the media it should be."""


class Unsupported(ReworldError):
    """The request is valid but this build of reworld cannot do it (names what is missing)."""


class MissingDependency(ReworldError, ImportError):
    """An optional package is needed for a feature.

    Example:
        >>> str(MissingDependency("torch", extra="diffusion", feature="the diffusion engine"))
        "the diffusion engine needs the optional package 'torch': pip install 'reworld[diffusion]'"
    """

    def __init__(self, package: str, *, extra: str | None, feature: str, how: str | None = None) -> None:
        self.package = package
        self.extra = extra
        self.feature = feature
        if how is None:
            how = f"pip install 'reworld[{extra}]'" if extra else f"pip install {package}"
        super().__init__(f"{feature} needs the optional package {package!r}: {how}")


class Cancelled(ReworldError):
    """Work was cancelled through a :class:`reworld.progress.CancelToken`."""


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
