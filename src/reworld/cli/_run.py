"""How every CLI command runs library work: a progress bar, Ctrl-C → cancel, exit codes, --json.

Exit codes: 0 ok, 2 bad input (:class:`reworld.errors.InvalidInput`, usage errors), 1 internal
error, 130 cancelled (Ctrl-C; nothing half-written is left behind).
"""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from reworld.errors import Cancelled, InvalidInput, MissingDependency, ReworldError, Unsupported
from reworld.progress import CancelToken, ProgressEvent

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_CANCELLED = 0, 1, 2, 130

err_console = Console(stderr=True, soft_wrap=True)
out_console = Console(soft_wrap=True)


class Bar:
    """A progress callback drawing one bar per stage on stderr (hidden when not a terminal
    unless ``force``); usable as ``progress=`` for any library function."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._progress: Progress | None = None
        self._tasks: dict[str, int] = {}

    def __enter__(self) -> "Bar":
        if self.enabled:
            self._progress = Progress(
                TextColumn("[bold]{task.description:<10}"), BarColumn(), TaskProgressColumn(),
                TimeRemainingColumn(), console=err_console, transient=False,
            )
            self._progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)

    def __call__(self, event: ProgressEvent) -> None:
        if self._progress is None:
            return
        task = self._tasks.get(event.stage)
        if task is None:
            task = self._progress.add_task(event.stage, total=event.total)
            self._tasks[event.stage] = task
        self._progress.update(task, completed=event.done, total=event.total)


@contextmanager
def sigint_cancels(token: CancelToken):
    """While active, the first Ctrl-C sets ``token`` (work stops at the next frame and cleans
    up); a second Ctrl-C interrupts at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum, frame):  # noqa: ARG001
        if token.is_set():
            signal.signal(signal.SIGINT, previous)
            raise KeyboardInterrupt
        token.set("cancelled by Ctrl-C")
        err_console.print("[yellow]cancelling… (Ctrl-C again to abort at once)")

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_command(work: Callable[[Bar, CancelToken], Any], *, json_out: bool,
                render: Callable[[Any], None] | None = None, bar: bool = True) -> None:
    """Run ``work(bar, token)`` and exit with the right code.

    On success prints ``render(result)`` (or the result as JSON with ``--json``). On error
    prints one clear line (and a JSON object on stdout with ``--json``) and exits.
    """
    token = CancelToken()
    code = EXIT_OK
    try:
        with sigint_cancels(token), Bar(enabled=bar and not json_out and err_console.is_terminal) as b:
            result = work(b, token)
        if json_out:
            print(json.dumps(to_jsonable(result), indent=2, sort_keys=False))
        elif render is not None:
            render(result)
    except InvalidInput as exc:
        code = _fail(exc, EXIT_BAD_INPUT, json_out, arg=exc.arg, value=exc.value)
    except (Unsupported, MissingDependency) as exc:
        code = _fail(exc, EXIT_BAD_INPUT, json_out)
    except (Cancelled, KeyboardInterrupt):
        code = _fail(Cancelled("cancelled; no partial output was left behind"), EXIT_CANCELLED, json_out)
    except ReworldError as exc:
        code = _fail(exc, EXIT_INTERNAL, json_out)
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence
        err_console.print_exception(show_locals=False)
        code = _fail(exc, EXIT_INTERNAL, json_out)
    raise SystemExit(code)


def _fail(exc: BaseException, code: int, json_out: bool, **extra: Any) -> int:
    kind = type(exc).__name__
    err_console.print(f"[red]error:[/red] {exc}", highlight=False, markup=True, soft_wrap=True)
    if json_out:
        payload = {"error": kind, "message": str(exc), "exit_code": code}
        payload.update({k: to_jsonable(v) for k, v in extra.items()})
        print(json.dumps(payload, indent=2))
    return code


def to_jsonable(obj: Any) -> Any:
    """Dataclasses, pydantic models, Paths, Fractions, numpy scalars → plain JSON types."""
    from dataclasses import asdict, is_dataclass
    from fractions import Fraction
    from pathlib import Path

    if hasattr(obj, "to_dict"):
        return to_jsonable(obj.to_dict())
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    if is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(asdict(obj))
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, Fraction):
        return f"{obj.numerator}/{obj.denominator}"
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "item") and callable(obj.item):
        return obj.item()
    return obj


def die(msg: str, code: int = EXIT_BAD_INPUT) -> None:
    err_console.print(f"[red]error:[/red] {msg}", highlight=False)
    raise SystemExit(code)


__all__ = ["Bar", "run_command", "to_jsonable", "sigint_cancels", "die", "EXIT_BAD_INPUT"]
