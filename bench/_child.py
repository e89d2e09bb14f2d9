"""One measured bench job in a fresh process; prints one JSON line. Used by run_bench.py."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np


def make(path: str, w: str, h: str, secs: str, fps: str, photo: str) -> dict:
    """Synthesise a test clip: a slow pan/zoom over a real photo plus mild noise (streamed)."""
    import cv2

    from reworld.io.writer import ClipWriter

    w, h, secs, fps = int(w), int(h), float(secs), int(fps)
    src = cv2.imread(photo) if Path(photo).exists() else None
    if src is None:
        yy, xx = np.mgrid[0:h * 2, 0:w * 2]
        src = np.stack([(xx * 7) % 256, (yy * 5) % 256, ((xx + yy) * 3) % 256], -1).astype(np.uint8)
    else:
        src = cv2.cvtColor(src, cv2.COLOR_BGR2RGB)
    big = cv2.resize(src, (int(w * 1.4), int(h * 1.4)), interpolation=cv2.INTER_CUBIC)
    rng = np.random.default_rng(0)  # fixed seed: the same input every run
    n = int(secs * fps)
    with ClipWriter(path, fps=fps, preset="ultrafast", crf=20) as wr:
        for i in range(n):
            t = i / max(n - 1, 1)
            x0 = int((big.shape[1] - w) * t)
            y0 = int((big.shape[0] - h) * (0.5 + 0.5 * np.sin(2 * np.pi * t)) )
            frame = big[y0:y0 + h, x0:x0 + w]
            noise = rng.integers(-3, 4, size=frame.shape, dtype=np.int16)
            wr.write(np.clip(frame.astype(np.int16) + noise, 0, 255).astype(np.uint8))
    return {"frames": n}


def transcode(src: str, dst: str, preset: str) -> dict:
    from reworld.io.reader import ClipReader
    from reworld.io.writer import ClipWriter

    t0 = time.perf_counter()
    frames = 0
    with ClipReader(src) as r:
        v = r.info.video
        with ClipWriter(dst, fps=v.fps, time_base=v.time_base, preset=preset, audio_from=src) as w:
            for chunk in r:
                w.write(chunk.frames, chunk.pts)
                frames += len(chunk)
    return {"frames": frames, "work_s": time.perf_counter() - t0}


def grade(src: str, dst: str, preset: str) -> dict:
    from reworld.edits.spec import GradeSpec
    from reworld.pipeline import grade_clip

    spec = GradeSpec(exposure=0.3, contrast=1.15, saturation=1.2, temperature=0.2,
                     curves={"master": [[0, 0], [0.25, 0.22], [0.75, 0.8], [1, 1]]})
    t0 = time.perf_counter()
    result = grade_clip(src, dst, spec, preset=preset)
    return {"frames": result.frames, "work_s": time.perf_counter() - t0}


def probe(src: str, dst: str, preset: str) -> dict:  # noqa: ARG001 - same signature as the others
    """`reworld probe` as a user runs it (fresh process, empty cache): wall time in work_s."""
    import subprocess
    import tempfile

    env = dict(__import__("os").environ, REWORLD_CACHE=tempfile.mkdtemp(prefix="reworld-bench-cache-"))
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "reworld", "probe", src, "--json"], check=True,
                   capture_output=True, env=env)
    from reworld.io.probe import probe as probe_facts

    return {"frames": probe_facts(src).video.frames, "work_s": time.perf_counter() - t0}


class _AnonPeak:
    """Samples the process's anonymous resident memory (``RssAnon``: what it really holds, as
    opposed to file pages of memory maps, which the kernel can drop) every 50 ms."""

    def __init__(self) -> None:
        import threading

        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _read(self) -> int:
        try:
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("RssAnon:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak_kb = max(self.peak_kb, self._read())

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return max(self.peak_kb, self._read()) / 1024.0


def analyze(src: str, dst: str, preset: str, names: str = "flow,camera,sky,cuts") -> dict:  # noqa: ARG001
    """Scene analysis at 640 px, computed fresh (empty cache); also the peak anonymous RSS."""
    import tempfile

    from reworld.analysis.cache import AnalysisCache
    from reworld.analysis.runner import analyze as run

    anon = _AnonPeak()
    t0 = time.perf_counter()
    a = run(src, names.split(","), long_side=640,
            cache=AnalysisCache(tempfile.mkdtemp(prefix="reworld-bench-cache-")))
    work = time.perf_counter() - t0
    return {"frames": int(a["flow"]["forward"].shape[0]) + 1, "work_s": work, "peak_anon_mb": anon.stop()}


def analyze_all(src: str, dst: str, preset: str) -> dict:
    """Every scene analyzer, depth included, at 640 px."""
    return analyze(src, dst, preset, "flow,camera,sky,cuts,depth")


def performance(src: str, dst: str, preset: str, names: str = "pose,face,people") -> dict:  # noqa: ARG001
    """Performance analysis at 640 px, fresh cache, then the same call again (cached); the
    flow the people masks are stabilised with is computed first and timed apart."""
    import tempfile

    from reworld.analysis.cache import AnalysisCache
    from reworld.analysis.runner import analyze as run

    cache = AnalysisCache(tempfile.mkdtemp(prefix="reworld-bench-cache-"))
    anon = _AnonPeak()
    t0 = time.perf_counter()
    a = run(src, ["flow"], long_side=640, cache=cache)
    t1 = time.perf_counter()
    a = run(src, names.split(","), long_side=640, cache=cache)
    t2 = time.perf_counter()
    run(src, names.split(","), long_side=640, cache=cache)
    t3 = time.perf_counter()
    frames = int(a["flow"]["forward"].shape[0]) + 1
    return {"frames": frames, "work_s": t2 - t1, "flow_s": t1 - t0, "cached_s": t3 - t2,
            "people": a["pose"].meta.get("people"), "peak_anon_mb": anon.stop()}


def flow(src: str, dst: str, preset: str) -> dict:  # noqa: ARG001
    """The flow analyzer alone (forward + backward + occlusion) at 640 px."""
    import tempfile

    from reworld.analysis.cache import AnalysisCache
    from reworld.analysis.runner import analyze as run

    t0 = time.perf_counter()
    a = run(src, ["flow"], long_side=640, cache=AnalysisCache(tempfile.mkdtemp(prefix="reworld-bench-cache-")))
    return {"frames": int(a["flow"]["forward"].shape[0]) + 1, "work_s": time.perf_counter() - t0}


if __name__ == "__main__":
    job, *args = sys.argv[1:]
    print(json.dumps({"make": make, "transcode": transcode, "grade": grade, "probe": probe,
                      "analyze": analyze, "analyze_all": analyze_all, "flow": flow,
                      "performance": performance}[job](*args)))
