"""reworld benchmarks: `make bench` (or `python bench/run_bench.py [--quick]`).

Prints, for a 10 s 720p, a 10 s 1080p and a 60 s 1080p clip, the decode+encode floor (frames
per second through ClipReader → ClipWriter) and the peak RSS of a fresh process doing it; then
every other figure as a ratio to that floor measured in the same run (so machines compare).

Each measured job runs in its own child process (``bench/_child.py``) so its peak RSS is its
own (``os.wait4`` rusage). Inputs are made once into ``bench-out/`` from a real photo of the
shared media set (slow pan + zoom + sensor-like noise, so the encoder sees real texture), or
from a synthetic pattern when the media set is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = REPO / "bench-out"
PHOTO = REPO.parent / "shared" / "media" / "photos" / "landscape_lake_boats_sunset_sky.jpg"
#: one person, full body, for the performance-analysis figure
PERSON_PHOTO = REPO.parent / "shared" / "media" / "photos" / "person_fullbody_beach_sky.jpg"

CLIPS = {  # name: (width, height, seconds, fps)
    "720p_10s": (1280, 720, 10, 30),
    "1080p_10s": (1920, 1080, 10, 30),
    "1080p_60s": (1920, 1080, 60, 30),
}


def run_child(job: str, *args: str) -> dict:
    """Run ``bench/_child.py JOB ARGS`` and return its JSON result plus wall time and peak RSS."""
    cmd = [sys.executable, str(HERE / "_child.py"), job, *args]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    out, err = proc.stdout.read(), proc.stderr.read()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"bench job {job} {args} failed (exit {code}):\n{err[-3000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    result["wall_s"] = wall
    result["peak_rss_mb"] = usage.ru_maxrss / 1024.0  # Linux: KiB
    return result


def make_inputs(names: list[str]) -> dict[str, Path]:
    OUT.mkdir(exist_ok=True)
    paths = {}
    for name in names:
        w, h, secs, fps = CLIPS[name]
        path = OUT / f"input_{name}.mp4"
        if not path.exists():
            print(f"  making {path.name} ({w}x{h}, {secs} s at {fps} fps)…", flush=True)
            run_child("make", str(path), str(w), str(h), str(secs), str(fps), str(PHOTO))
        paths[name] = path
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="only the 10 s clips (skips the 60 s RSS check)")
    ap.add_argument("--preset", default="veryfast", help="x264 preset used for the floor (default veryfast)")
    ap.add_argument("--json", type=Path, help="also write all figures to this JSON file")
    a = ap.parse_args(argv)
    names = ["720p_10s", "1080p_10s"] + ([] if a.quick else ["1080p_60s"])
    print(f"reworld bench — {os.cpu_count()} CPUs, python {sys.version.split()[0]}, x264 preset {a.preset}")
    inputs = make_inputs(names)

    figures: dict[str, dict] = {}
    print("\n1. decode+encode floor (ClipReader → ClipWriter, H.264 CRF 18, streamed)")
    print(f"  {'clip':<10} {'frames':>6} {'wall s':>7} {'fps':>7} {'peak RSS MB':>12}")
    for name in names:
        r = run_child("transcode", str(inputs[name]), str(OUT / f"out_{name}.mp4"), a.preset)
        r["fps"] = r["frames"] / r["work_s"]
        figures[f"floor_{name}"] = r
        print(f"  {name:<10} {r['frames']:>6} {r['work_s']:>7.1f} {r['fps']:>7.1f} {r['peak_rss_mb']:>12.0f}")

    print("\n2. other figures, as ratios to the floor of the same clip in this run (time ratio: >1 = slower)")
    for name in ["720p_10s"]:
        floor = figures[f"floor_{name}"]
        for fig, job in FIGURES.items():
            r = run_child(job, str(inputs[name]), str(OUT / f"{fig}_{name}.mp4"), a.preset)
            r["time_ratio"] = r["work_s"] / floor["work_s"]
            r["rss_ratio"] = r["peak_rss_mb"] / floor["peak_rss_mb"]
            figures[f"{fig}_{name}"] = r
            print(f"  {fig:<30} {name:<10} time ×{r['time_ratio']:.2f}  peak RSS ×{r['rss_ratio']:.2f}"
                  f"  ({r['work_s']:.2f} s, {r['frames'] / r['work_s']:.1f} frames/s, {r['peak_rss_mb']:.0f} MB)")

    print("\n2b. performance analysis, one person, 640x360 10 s (target: pose+face+people ≥ 12 fps; cached ≥ 20× faster)")
    person = OUT / "input_person_640_10s.mp4"
    if not person.exists():
        run_child("make", str(person), "640", "360", "10", "30", str(PERSON_PHOTO))
    r = run_child("performance", str(person), str(OUT / "perf.mp4"), a.preset)
    figures["performance_640"] = r
    print(f"  pose+face+people {r['frames'] / r['work_s']:.1f} frames/s ({r['work_s']:.1f} s; flow first: "
          f"{r['frames'] / r['flow_s']:.1f} frames/s), cached re-run {r['cached_s']:.2f} s = ×{r['work_s'] / max(r['cached_s'], 1e-9):.0f} faster, "
          f"{r['people']} people, peak anon {r['peak_anon_mb']:.0f} MB")

    ok = True
    if not a.quick:
        short, long_ = figures["floor_1080p_10s"], figures["floor_1080p_60s"]
        ratio = long_["peak_rss_mb"] / short["peak_rss_mb"]
        print("\n3. memory stays flat with clip length (targets: 60 s 1080p < 600 MB; 60 s ≤ 1.15 × 10 s)")
        print(f"  peak RSS 60 s / 10 s = {long_['peak_rss_mb']:.0f} / {short['peak_rss_mb']:.0f} MB = ×{ratio:.3f}"
              f"  → {'OK' if ratio <= 1.15 and long_['peak_rss_mb'] < 600 else 'OVER TARGET'}")
        ok = ratio <= 1.15 and long_["peak_rss_mb"] < 600
        # scene analysis (flow, camera, sky, cuts) of the same two clips: its dense tracks are
        # memory-mapped files, whose pages count in RSS while touched but belong to the page
        # cache; RssAnon (sampled) is the memory the process itself holds
        an = {n: run_child("analyze", str(inputs[n]), str(OUT / f"an_{n}.mp4"), a.preset) for n in ("1080p_10s", "1080p_60s")}
        figures.update({f"analyze_mem_{n}": r for n, r in an.items()})
        s_, l_ = an["1080p_10s"], an["1080p_60s"]
        anon_ratio = l_["peak_anon_mb"] / s_["peak_anon_mb"]
        print("  scene analysis at 640 px (target: anonymous memory 60 s ≤ 1.15 × 10 s)")
        print(f"    peak RSS  60 s / 10 s = {l_['peak_rss_mb']:.0f} / {s_['peak_rss_mb']:.0f} MB"
              f" (memory-mapped track pages included)")
        print(f"    peak anon 60 s / 10 s = {l_['peak_anon_mb']:.0f} / {s_['peak_anon_mb']:.0f} MB = ×{anon_ratio:.3f}"
              f"  → {'OK' if anon_ratio <= 1.15 else 'OVER TARGET'}"
              f"  ({l_['frames'] / l_['work_s']:.1f} / {s_['frames'] / s_['work_s']:.1f} frames/s)")
        ok = ok and anon_ratio <= 1.15
    if a.json:
        a.json.write_text(json.dumps(figures, indent=2))
    return 0 if ok else 1


#: figure name -> child job; later capabilities add theirs here (each measured against the floor)
FIGURES = {
    "grade (direct)": "grade",
    "probe (CLI, target < 2 s)": "probe",
    "flow fwd+bwd 640px (≥25 fps)": "flow",
    "analyze 640px, no depth": "analyze",
    "analyze 640px + depth (≥8 fps)": "analyze_all",
}

if __name__ == "__main__":
    raise SystemExit(main())
