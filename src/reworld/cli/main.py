"""`reworld` command line: a thin shell over the library (parse → call → print).

Exit codes: 0 ok, 2 bad input, 1 internal error, 130 cancelled (see ``cli/_run.py``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from reworld import __version__
from reworld.cli._run import EXIT_BAD_INPUT, die, out_console, run_command

app = typer.Typer(
    name="reworld",
    help="reworld — keep what happens, change where it happens. Probe, grade and render video clips.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
cache_app = typer.Typer(help="Inspect or clear the analysis cache.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print a JSON result (for scripts) instead of text.")]


def main() -> None:
    """Console-script entry point."""
    app()


@app.command()
def version() -> None:
    """Print the reworld version."""
    print(__version__)


# --------------------------------------------------------------------------------------------
@app.command()
def probe(
    input: Annotated[Path, typer.Argument(help="Video (or image) file to inspect.", metavar="INPUT")],
    json_out: JsonOpt = False,
    samples: Annotated[int, typer.Option(help="Runs of 6 consecutive frames sampled for quality advice.")] = 8,
    advice: Annotated[bool, typer.Option("--advice/--no-advice", help="Measure quality and give advice.")] = True,
    max_side: Annotated[Optional[int], typer.Option(help="Largest accepted width/height (default 8192).")] = None,
) -> None:
    """Container, codecs, size, rotation, fps/VFR, frames, duration, colour, audio — and quality advice."""
    from reworld.analysis.probe_report import probe_report

    def work(bar, token):
        return probe_report(input, samples=samples, advice=advice, max_side=max_side, cancel=token)

    run_command(work, json_out=json_out, render=_print_probe)


def _print_probe(report: dict) -> None:
    from reworld.cli._text import probe_text

    out_console.print(probe_text(report), highlight=False, markup=False)


# --------------------------------------------------------------------------------------------
def _floats(text: Optional[str], name: str):
    if text is None:
        return None
    try:
        vals = [float(x) for x in text.split(",")]
    except ValueError:
        die(f"`--{name}` must be a number or three comma-separated numbers (R,G,B), got {text!r}")
    if len(vals) not in (1, 3):
        die(f"`--{name}` must be a number or three comma-separated numbers (R,G,B), got {text!r}")
    return vals[0] if len(vals) == 1 else vals


def _curves(items: list[str]) -> dict:
    curves: dict = {}
    for item in items:
        channel, _, pts = item.partition(":")
        try:
            points = [[float(a) for a in p.split(",")] for p in pts.split(";") if p.strip()]
        except ValueError:
            die(f"`--curve` must look like 'master:0,0;0.5,0.6;1,1', got {item!r}")
        curves[channel.strip()] = points
    return curves


@app.command()
def grade(
    input: Annotated[Optional[Path], typer.Argument(help="Clip or image to grade (omit with --export-lut only).", metavar="INPUT")] = None,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Output file (.mp4/.mov/.mkv, a .png/.exr frame pattern, or an image).")] = None,
    exposure: Annotated[float, typer.Option(help="Stops, in linear light [-10, 10].")] = 0.0,
    contrast: Annotated[float, typer.Option(help="Around mid grey [0, 4]; 1 = unchanged.")] = 1.0,
    saturation: Annotated[float, typer.Option(help="[0, 4]; 1 = unchanged.")] = 1.0,
    vibrance: Annotated[float, typer.Option(help="[-1, 1]: saturate muted colours more.")] = 0.0,
    temperature: Annotated[float, typer.Option(help="[-1, 1]: cooler … warmer (white balance).")] = 0.0,
    tint: Annotated[float, typer.Option(help="[-1, 1]: greener … magenta.")] = 0.0,
    lift: Annotated[Optional[str], typer.Option(help="Lift: one number or R,G,B [-1, 1].")] = None,
    gamma: Annotated[Optional[str], typer.Option(help="Gamma: one number or R,G,B (0, 10].")] = None,
    gain: Annotated[Optional[str], typer.Option(help="Gain: one number or R,G,B [0, 10].")] = None,
    shadows: Annotated[float, typer.Option(help="[-1, 1]")] = 0.0,
    midtones: Annotated[float, typer.Option(help="[-1, 1]")] = 0.0,
    highlights: Annotated[float, typer.Option(help="[-1, 1]")] = 0.0,
    curve: Annotated[list[str], typer.Option(help="CHANNEL:x,y;x,y;… with CHANNEL master|r|g|b (repeatable).")] = [],  # noqa: B006
    lut: Annotated[Optional[Path], typer.Option(help="Apply a .cube 3D LUT.")] = None,
    lut_strength: Annotated[float, typer.Option(help="Mix of the LUT [0, 1].")] = 1.0,
    match: Annotated[Optional[Path], typer.Option(help="Match this reference image's colour look.")] = None,
    match_strength: Annotated[float, typer.Option(help="Mix of the match [0, 1].")] = 1.0,
    spec_file: Annotated[Optional[Path], typer.Option("--grade-spec", help="Read grade values from a JSON file (a GradeSpec object); flags given also apply.")] = None,
    export_lut: Annotated[Optional[Path], typer.Option(help="Also bake this grade into a .cube file.")] = None,
    lut_size: Annotated[int, typer.Option(help="Lattice size of --export-lut [2, 256].")] = 65,
    codec: Annotated[Optional[str], typer.Option(help="h264 (default), hevc, prores (.mov).")] = None,
    crf: Annotated[Optional[int], typer.Option(help="Quality 0-51, lower is better (default 18).")] = None,
    preset: Annotated[Optional[str], typer.Option(help="x264/x265 speed preset (default medium).")] = None,
    bit_depth: Annotated[Optional[int], typer.Option(help="8 or 10 (hevc/prores), 16 for PNG.")] = None,
    audio: Annotated[bool, typer.Option("--audio/--no-audio", help="Copy the source audio.")] = True,
    json_out: JsonOpt = False,
) -> None:
    """Colour-grade a clip: exposure, contrast, saturation, white balance, lift/gamma/gain, curves, LUTs, match."""
    from reworld.edits.spec import GradeSpec
    from reworld.pipeline import export_grade_lut, grade_clip

    values: dict = {}
    if spec_file is not None:
        if not spec_file.is_file():
            die(f"`--grade-spec` does not exist, got {str(spec_file)!r}")
        try:
            values = json.loads(spec_file.read_text())
        except json.JSONDecodeError as exc:
            die(f"`--grade-spec` is not valid JSON ({exc}), got {str(spec_file)!r}")
    flags = {"exposure": (exposure, 0.0), "contrast": (contrast, 1.0), "saturation": (saturation, 1.0),
             "vibrance": (vibrance, 0.0), "temperature": (temperature, 0.0), "tint": (tint, 0.0),
             "shadows": (shadows, 0.0), "midtones": (midtones, 0.0), "highlights": (highlights, 0.0),
             "lut_strength": (lut_strength, 1.0), "match_strength": (match_strength, 1.0)}
    values.update({k: v for k, (v, default) in flags.items() if v != default})
    for name, text in (("lift", lift), ("gamma", gamma), ("gain", gain)):
        if text is not None:
            values[name] = _floats(text, name)
    if curve:
        values["curves"] = _curves(curve)
    if lut is not None:
        values["lut"] = str(lut)
    if match is not None:
        values["match"] = str(match)
    if input is None and export_lut is None:
        die("`INPUT` is missing: give a clip to grade, or --export-lut FILE.cube to only bake the grade")
    if input is not None and output is None:
        die("`--output` is missing: give the path to write, e.g. -o graded.mp4")

    def work(bar, token):
        spec = GradeSpec.from_dict(values, source=str(spec_file) if spec_file else None)
        result: dict = {}
        if input is not None:
            r = grade_clip(input, output, spec, codec=codec, crf=crf, preset=preset, bit_depth=bit_depth,
                           keep_audio=audio, progress=bar, cancel=token)
            result = r.to_dict()
        if export_lut is not None:
            path = export_grade_lut(spec, export_lut, size=lut_size, source=input)
            result.setdefault("extra_outputs", []).append(str(path))
            result["lut"] = str(path)
        return result

    def show(result: dict) -> None:
        if result.get("output"):
            out_console.print(f"graded {result['frames']} frames → {result['output']} "
                              f"({result['metrics'].get('render_fps', 0):.1f} fps)", highlight=False)
        if result.get("lut"):
            out_console.print(f"LUT ({lut_size}³) → {result['lut']}", highlight=False)

    run_command(work, json_out=json_out, render=show)


# --------------------------------------------------------------------------------------------
@app.command()
def analyze(
    input: Annotated[Optional[Path], typer.Argument(help="Clip to analyse.", metavar="INPUT")] = None,
    only: Annotated[str, typer.Option("--only", help="Comma-separated analyzers or groups: scene (flow,camera,sky,cuts), performance (pose,face,lips,people,hands), all; see --list.")] = "scene",
    long_side: Annotated[int, typer.Option(help="Analysis resolution (long side, px).")] = 512,
    overlay: Annotated[Optional[Path], typer.Option(help="Also write a video with every track drawn on it.")] = None,
    cache: Annotated[bool, typer.Option("--cache/--no-cache", help="Reuse cached tracks.")] = True,
    list_: Annotated[bool, typer.Option("--list", help="List the analyzers and exit.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Scene and performance understanding: flow, camera, sky, cuts, depth, pose, face, lips, people, hands (cached; --overlay to look)."""
    from reworld.analysis.runner import analyze as run_analysis
    from reworld.analysis.runner import available_analyzers, expand_names

    if list_:
        for name, cls in sorted(available_analyzers().items()):
            doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
            print(f"{name:<10} v{cls.version}  {doc}")
        return
    if input is None:
        die("`INPUT` is missing: give a clip to analyse (or --list)")
    def work(bar, token):
        names = expand_names(only)
        a = run_analysis(input, names, long_side=long_side, use_cache=cache, progress=bar, cancel=token)
        summary = a.summary()
        if overlay is not None:
            from reworld.analysis.overlay import write_overlay

            summary["overlay"] = write_overlay(input, a, names, overlay, progress=bar, cancel=token)
        return summary

    def show(summary: dict) -> None:
        out_console.print(f"{summary['source']}: analysed at {summary['size'][1]}x{summary['size'][0]}", highlight=False)
        for name, t in summary["tracks"].items():
            meta = {k: v for k, v in t["meta"].items() if k not in ("params",) and not isinstance(v, (list, dict))}
            facts = ", ".join(f"{k}={v}" for k, v in meta.items())
            out_console.print(f"  {name:<8} {facts}", highlight=False)
        if summary.get("overlay"):
            out_console.print(f"  overlay → {summary['overlay']}", highlight=False)

    run_command(work, json_out=json_out, render=show)


def _frame_points(items: list[str], name: str) -> list[tuple[int, float, float]]:
    out = []
    for item in items:
        frame, _, xy = item.partition(":")
        try:
            x, y = (float(v) for v in xy.split(","))
            out.append((int(frame), x, y))
        except ValueError:
            die(f"`--{name}` must look like FRAME:X,Y (e.g. 0:320,180), got {item!r}")
    return out


@app.command()
def track(
    input: Annotated[Path, typer.Argument(help="Clip to track in.", metavar="INPUT")],
    point: Annotated[list[str], typer.Option(help="Positive click FRAME:X,Y in full-resolution pixels (repeatable).")] = [],  # noqa: B006
    negative: Annotated[list[str], typer.Option(help="Negative click FRAME:X,Y (repeatable).")] = [],  # noqa: B006
    box: Annotated[Optional[str], typer.Option(help="Box FRAME:X0,Y0,X1,Y1 around the object.")] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="Mask video (.mp4/.mkv) or PNG pattern (masks/m_%05d.png).")] = Path("masks.mp4"),
    overlay: Annotated[Optional[Path], typer.Option(help="Also write the clip with the mask tinted on it.")] = None,
    long_side: Annotated[int, typer.Option(help="Tracking resolution (long side, px).")] = 512,
    json_out: JsonOpt = False,
) -> None:
    """Mask any region from a click or a box, tracked through the whole clip (no manual tracking)."""
    from reworld.analysis.region import overlay_video, track_region, write_masks

    pts, neg = _frame_points(point, "point"), _frame_points(negative, "negative")
    box_frame, box_xyxy = None, None
    if box is not None:
        frame_text, _, coords = box.partition(":")
        try:
            box_frame, box_xyxy = int(frame_text), tuple(float(v) for v in coords.split(","))
        except ValueError:
            die(f"`--box` must look like FRAME:X0,Y0,X1,Y1, got {box!r}")
        if len(box_xyxy) != 4:
            die(f"`--box` must look like FRAME:X0,Y0,X1,Y1, got {box!r}")
    frames = {f for f, _, _ in pts} | ({box_frame} if box_frame is not None else set())
    if not frames:
        die("give at least one --point FRAME:X,Y or a --box FRAME:X0,Y0,X1,Y1")
    if len(frames) > 1:
        die(f"all --point and --box prompts must be on one frame, got frames {sorted(frames)}")
    frame = frames.pop()
    if any(f != frame for f, _, _ in neg):
        die(f"--negative clicks must be on the prompted frame {frame}")

    def work(bar, token):
        t = track_region(input, frame=frame, points=[(x, y) for _, x, y in pts],
                         negative=[(x, y) for _, x, y in neg], box=box_xyxy, long_side=long_side,
                         progress=bar, cancel=token)
        result = {"masks": str(write_masks(t, output, progress=bar, cancel=token)), "meta": t.meta,
                  "visible_frames": int(t["visible"].sum()), "frames": int(len(t["visible"]))}
        if overlay is not None:
            result["overlay"] = str(overlay_video(input, t, overlay, progress=bar, cancel=token))
        return result

    def show(r: dict) -> None:
        out_console.print(f"tracked on {r['visible_frames']}/{r['frames']} frames → {r['masks']}"
                          + (f"; overlay → {r['overlay']}" if r.get("overlay") else ""), highlight=False)

    run_command(work, json_out=json_out, render=show)


# --------------------------------------------------------------------------------------------
@app.command()
def render(
    spec: Annotated[Path, typer.Argument(help="Edit spec JSON file (see `reworld spec --schema`).", metavar="SPEC.json")],
    json_out: JsonOpt = False,
) -> None:
    """Run any edit spec. Relative paths in the spec are resolved against the spec's folder."""
    from reworld.edits.spec import EditSpec
    from reworld.pipeline import render as run_spec

    def work(bar, token):
        s = EditSpec.from_file(spec)
        return run_spec(s, progress=bar, cancel=token, base_dir=spec.resolve().parent)

    run_command(work, json_out=json_out, render=lambda r: out_console.print(
        f"rendered {r.frames} frames → {r.output} in {r.timings['total']:.1f} s", highlight=False))


@app.command()
def looks(
    prompt: Annotated[Optional[str], typer.Argument(help="Optional: a free-text prompt to match against the library.", metavar="[PROMPT]")] = None,
    category: Annotated[Optional[str], typer.Option(help="Only this category (look, world, material, lighting, atmosphere, art style).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """List the look library (modify's offline vocabulary), or show how a prompt is understood."""
    from reworld.edits.looks import CATEGORIES, list_looks

    def work(bar, token):
        if category is not None and category not in CATEGORIES:
            from reworld.errors import InvalidInput

            raise InvalidInput("category", category, f"is not a category (valid: {', '.join(CATEGORIES)})")
        items = [lk for lk in list_looks() if category is None or lk.category == category]
        out: dict = {"looks": [{"name": lk.name, "title": lk.title, "category": lk.category,
                                "description": lk.description, "tags": list(lk.tags)} for lk in items]}
        if prompt is not None:
            from reworld.analysis.cache import default_root
            from reworld.edits.prompt import parse_prompt

            u = parse_prompt(prompt, list_looks(), cache_dir=default_root() / "prompt-embeddings")
            out["prompt"] = {"text": prompt, "understood": u.understood,
                             "matches": [{"name": m.name, "score": round(float(m.score), 4)} for m in u.matches],
                             "confident": bool(u.confident)}
        return out

    def show(r: dict) -> None:
        if "prompt" in r:
            p = r["prompt"]
            out_console.print(p["understood"], highlight=False)
            for m in p["matches"]:
                out_console.print(f"  {m['name']:<24} {m['score']:.3f}", highlight=False)
            return
        for cat in sorted({lk["category"] for lk in r["looks"]}):
            out_console.print(f"[bold]{cat}[/bold]")
            for lk in (x for x in r["looks"] if x["category"] == cat):
                out_console.print(f"  {lk['name']:<24} {lk['description']}", highlight=False)
        out_console.print(f"{len(r['looks'])} looks", highlight=False)

    run_command(work, json_out=json_out, render=show)


@app.command("spec")
def spec_cmd(
    schema: Annotated[bool, typer.Option("--schema", help="Print the edit spec's JSON Schema.")] = False,
    example: Annotated[bool, typer.Option("--example", help="Print an example spec.")] = False,
    check: Annotated[Optional[Path], typer.Option("--check", help="Validate a spec file (values and paths).")] = None,
) -> None:
    """The edit spec: JSON Schema, an example, or validate a file."""
    from reworld.edits.spec import EditSpec

    if schema:
        print(json.dumps(EditSpec.json_schema(), indent=2))
    elif example:
        print(EditSpec.example().to_json())
    elif check is not None:
        def work(bar, token):
            s = EditSpec.from_file(check)
            s.validate_paths(base_dir=check.resolve().parent)
            return {"valid": True, "spec": s.to_dict()}

        run_command(work, json_out=False, render=lambda r: out_console.print(f"{check}: valid"))
    else:
        die("give one of --schema, --example or --check FILE", EXIT_BAD_INPUT)


# --------------------------------------------------------------------------------------------
@cache_app.command("ls")
def cache_ls(json_out: JsonOpt = False) -> None:
    """List cached analyses (key, analyzer, size, last used)."""
    from reworld.analysis.cache import AnalysisCache

    def work(bar, token):
        c = AnalysisCache()
        return {"root": str(c.root), "total_bytes": c.total_bytes(), "entries": c.entries()}

    def show(r):
        out_console.print(f"cache at {r['root']}: {len(r['entries'])} entries, {r['total_bytes'] / 1e6:.2f} MB",
                          highlight=False)
        for e in r["entries"]:
            out_console.print(f"  {e.key[:16]}  {e.analyzer:<16} v{e.version}  {e.size_bytes / 1e3:9.1f} kB", highlight=False)

    run_command(work, json_out=json_out, render=show)


@cache_app.command("clear")
def cache_clear(
    analyzer: Annotated[Optional[str], typer.Option(help="Only entries of this analyzer.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Delete cached analyses."""
    from reworld.analysis.cache import AnalysisCache

    def work(bar, token):
        n, b = AnalysisCache().clear(analyzer=analyzer)
        return {"removed": n, "bytes": b}

    run_command(work, json_out=json_out,
                render=lambda r: out_console.print(f"removed {r['removed']} entries ({r['bytes'] / 1e6:.2f} MB)"))


# --------------------------------------------------------------------------------------------
@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Folder for the demo's outputs.")] = Path("demo-out"),
    json_out: JsonOpt = False,
) -> None:
    """Run what reworld can do on the bundled demo clip and write the results to --out."""
    from reworld.cli._demo import run_demo

    run_command(lambda bar, token: run_demo(out, progress=bar, cancel=token), json_out=json_out,
                render=lambda r: None)


if __name__ == "__main__":
    main()
