"""Progress reporting and cancellation shared by every long function (layer 0).

A long function takes ``progress: ProgressCallback | None`` and ``cancel: CancelToken | None``.
It reports ``ProgressEvent(stage, done, total)`` as it goes and calls
``cancel.raise_if_set()`` at every frame or step, so the CLI can draw a bar, the job worker
can store a percentage, and Ctrl-C or ``POST /jobs/{id}/cancel`` stop work promptly.

Example:
    >>> events = []
    >>> token = CancelToken()
    >>> report = stage_reporter(events.append, "encode", total=2)
    >>> report(1); report(2)
    >>> [round(e.fraction, 2) for e in events]
    [0.5, 1.0]
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from reworld.errors import Cancelled


@dataclass(frozen=True)
class ProgressEvent:
    """One progress report.

    Attributes:
        stage: short name of the step (``"decode"``, ``"grade"``, ``"encode"``).
        done: units finished so far (frames, steps).
        total: units in the step, or ``None`` when unknown.
        message: optional human-readable detail.
    """

    stage: str
    done: float
    total: float | None
    message: str = ""

    @property
    def fraction(self) -> float | None:
        """``done / total`` clipped to [0, 1], or ``None`` when the total is unknown."""
        if not self.total:
            return None
        return min(1.0, max(0.0, self.done / self.total))


ProgressCallback = Callable[[ProgressEvent], None]


class CancelToken:
    """A thread-safe flag that long work polls (``threading.Event`` underneath).

    Example:
        >>> t = CancelToken(); t.is_set()
        False
        >>> t.set(); t.raise_if_set()
        Traceback (most recent call last):
        ...
        reworld.errors.Cancelled: cancelled
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = "cancelled"

    def set(self, reason: str = "cancelled") -> None:
        self.reason = reason
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def raise_if_set(self) -> None:
        if self._event.is_set():
            raise Cancelled(self.reason)


def check_cancel(cancel: CancelToken | None) -> None:
    """Raise :class:`Cancelled` when ``cancel`` is set; a ``None`` token never cancels."""
    if cancel is not None:
        cancel.raise_if_set()


def stage_reporter(
    progress: ProgressCallback | None, stage: str, total: float | None, message: str = ""
) -> Callable[..., None]:
    """Return ``report(done, message=None)`` that emits events for one stage (no-op without a callback)."""

    def report(done: float, msg: str | None = None) -> None:
        if progress is not None:
            progress(ProgressEvent(stage, done, total, message if msg is None else msg))

    return report
