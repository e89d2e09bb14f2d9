"""`reworld demo`: run what exists on the bundled clip and say what was done.

Each capability that lands adds its step here (the demo's main job becomes `modify` once it
exists). Today: probe report, a graded clip, the grade baked to a .cube LUT, the LUT applied
back through `render`, and a before/after contact sheet.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

from reworld.cli._run import out_console
from reworld.progress import CancelToken, ProgressCallback

#: the look the demo applies: a warm, slightly faded film look (every GradeSpec field is real)
DEMO_GRADE = {
    "exposure": 0.25,
    "contrast": 1.15,
    "saturation": 1.1,
    "vibrance": 0.2,
    "temperature": 0.35,
    "tint": 0.05,
    "lift": [0.02, 0.01, 0.0],
    "gain": [1.02, 1.0, 0.96],
    "shadows": 0.1,
    "highlights": -0.15,
    "curves": {"master": [[0.0, 0.03], [0.25, 0.22], [0.75, 0.8], [1.0, 0.97]]},
}


#: a click on a pedestrian in the demo clip's first frame (full-resolution pixels)
DEMO_CLICK = (267.0, 262.0)  # the man standing on the left


def demo_clip() -> Path:
    """Path of the bundled demo clip (see reworld/data/DEMO_CLIP_LICENSE.md)."""
    return Path(str(resources.files("reworld") / "data" / "demo_pedestrians_768x576.mp4"))


def run_demo(out: str | os.PathLike, *, progress: ProgressCallback | None = None,
             cancel: CancelToken | None = None) -> dict[str, Any]:
    from reworld.edits.spec import EditSpec, GradeSpec
    from reworld.io.reader import ClipReader
    from reworld.io.stills import write_image
    from reworld.ops.sheet import contact_sheet
    from reworld.pipeline import export_grade_lut, grade_clip, probe_report, render

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    clip = demo_clip()
    say = out_console.print
    done: dict[str, Any] = {"input": str(clip), "outputs": {}}

    say(f"[bold]reworld demo[/bold] on {clip.name} (bundled; licence in reworld/data/DEMO_CLIP_LICENSE.md)")
    # 1. probe
    report = probe_report(clip, cancel=cancel)
    _write_text(out / "probe.json", json.dumps(report, indent=2))
    from reworld.cli._text import probe_text

    _write_text(out / "probe.txt", probe_text(report) + "\n")
    v = report["facts"]["video"]
    codes = [a["code"] for a in report["quality"]["advice"]]
    say(f"1. probe: {v['width']}x{v['height']}, {v['frames']} frames, {v['duration']:.2f} s; "
        f"advice: {', '.join(codes) or 'none'}  → {out / 'probe.txt'}, probe.json")
    done["outputs"]["probe"] = str(out / "probe.json")

    # 2. grade
    grade = GradeSpec(**DEMO_GRADE)
    spec_path = out / "grade_spec.json"
    _write_text(spec_path, json.dumps(grade.model_dump(mode="json"), indent=2))
    r = grade_clip(clip, out / "graded.mp4", grade, progress=progress, cancel=cancel)
    say(f"2. grade (warm film look, spec in {spec_path.name}): {r.frames} frames at "
        f"{r.metrics['render_fps']:.1f} fps → {r.output}")
    done["outputs"]["graded"] = r.output

    # 3. bake the grade to a LUT, then 4. apply that LUT through a full edit spec with `render`
    lut = export_grade_lut(grade, out / "warm_film.cube")
    say(f"3. the same grade baked to a 65³ 3D LUT → {lut}")
    spec = EditSpec.from_dict({"input": str(clip), "output": {"path": str(out / "graded_by_lut.mp4")},
                               "grade": {"lut": str(lut)}})
    _write_text(out / "render_spec.json", spec.to_json())
    r2 = render(spec, progress=progress, cancel=cancel)
    say(f"4. render render_spec.json (apply the LUT): {r2.frames} frames → {r2.output}")
    done["outputs"].update({"lut": str(lut), "graded_by_lut": r2.output, "render_spec": str(out / "render_spec.json")})

    # 5. contact sheet: before / graded / graded-by-LUT at four moments
    times = [v["duration"] * f for f in (0.1, 0.35, 0.6, 0.85)]
    rows = []
    for path in (clip, out / "graded.mp4", out / "graded_by_lut.mp4"):
        with ClipReader(path) as reader:
            rows.append([f for _, f in reader.sample(times)])
    sheet = contact_sheet(rows, labels=["original", "graded", "graded\nvia LUT"], cell_width=256)
    write_image(out / "contact_sheet.png", sheet)
    say(f"5. before/after contact sheet → {out / 'contact_sheet.png'}")
    done["outputs"]["contact_sheet"] = str(out / "contact_sheet.png")

    # 6. scene understanding: flow, camera track, sky, cuts — summary and an overlay video
    from reworld.analysis.overlay import write_overlay
    from reworld.analysis.region import overlay_video, track_region, write_masks
    from reworld.analysis.runner import analyze

    names = ["flow", "camera", "sky", "cuts", "depth"]
    analysis = analyze(clip, names, progress=progress, cancel=cancel)
    cam, sky, cuts = analysis["camera"].meta, analysis["sky"].meta, analysis["cuts"]
    _write_text(out / "analysis.json", json.dumps(analysis.summary(), indent=2, default=str))
    write_overlay(clip, analysis, ["flow", "camera", "sky", "depth"], out / "analysis_overlay.mp4",
                  progress=progress, cancel=cancel)
    say(f"6. analyze: camera {'shaky' if cam.get('shaky') else 'steady'} "
        f"(speed {cam.get('speed', 0):.2f} ‰/frame), sky: {sky.get('message') or 'found'}, "
        f"{len(cuts['cuts'])} scene cuts, relative depth ({analysis['depth'].meta.get('method', '')}) "
        "→ analysis.json, analysis_overlay.mp4 (flow colours, camera path, sky tint, depth inset)")

    # 7. pick a region with one click and track it through the clip
    t = track_region(clip, frame=0, points=[DEMO_CLICK], progress=progress, cancel=cancel)
    write_masks(t, out / "person_mask.mp4", progress=progress, cancel=cancel)
    overlay_video(clip, t, out / "person_tracked.mp4", progress=progress, cancel=cancel)
    say(f"7. track: one click at {DEMO_CLICK} on frame 0 → visible on {int(t['visible'].sum())}/{len(t['visible'])} "
        f"frames → person_mask.mp4, person_tracked.mp4")
    done["outputs"].update({"analysis": str(out / "analysis.json"), "analysis_overlay": str(out / "analysis_overlay.mp4"),
                            "mask": str(out / "person_mask.mp4"), "tracked": str(out / "person_tracked.mp4")})
    # 8. performance: body pose of every walker (tracked ids) and people masks with parts
    perf = analyze(clip, ["pose", "people"], progress=progress, cancel=cancel)
    pose_meta, people_meta = perf["pose"].meta, perf["people"].meta
    _write_text(out / "performance.json", json.dumps(perf.summary(), indent=2, default=str))
    write_overlay(clip, perf, ["people", "pose"], out / "performance_overlay.mp4", progress=progress, cancel=cancel)
    say(f"8. performance: {pose_meta.get('message', '')}; people masks: {people_meta.get('message', '')} "
        "→ performance.json, performance_overlay.mp4 (skeletons with ids, masks tinted per part)")
    done["outputs"].update({"performance": str(out / "performance.json"),
                            "performance_overlay": str(out / "performance_overlay.mp4")})
    say("done. Not in this release yet: modify (adhere/flex/reimagine), region edits, capture, "
        "stills → video, HDR, the HTTP API and studio — see README.")
    return done


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
