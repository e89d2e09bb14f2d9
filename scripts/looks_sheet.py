"""Contact sheets and figures for the look library (docs/looks.md).

Sheets (PNG, one cell per look, name drawn in the cell)::

    python scripts/looks_sheet.py sheet -o /tmp/looks.png                 # every look, intensity 1, seed 0
    python scripts/looks_sheet.py sheet -o /tmp/looks_half.png --intensity 0.5
    python scripts/looks_sheet.py seeds -o /tmp/seeds.png --looks cyberpunk_neon,watercolour --seeds 0,1,2,3

Figures (printed as a markdown table)::

    python scripts/looks_sheet.py measure            # ΔE00 per look, seed spread, ms per 720p frame
    python scripts/looks_sheet.py temporal           # noise amplification on a static scene

The photos are ``person_fullbody_beach_sky.jpg`` and ``landscape_sheep_field_sky.jpg`` from the
shared media folder (``$REWORLD_MEDIA``, default ``../shared/media``); depth comes from
:func:`reworld.ops.depth.monocular_depth`, the sky alpha from :func:`reworld.ops.sky.sky_alpha` and the
person alpha from MediaPipe selfie segmentation when it is installed.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
import warnings
from pathlib import Path

import cv2
import numpy as np

from reworld.edits.looks import get_look, list_looks
from reworld.io import read_image, write_image
from reworld.ops.depth import monocular_depth
from reworld.ops.sky import sky_alpha

MEDIA = Path(os.environ.get("REWORLD_MEDIA", Path(__file__).resolve().parents[2] / "shared" / "media"))
PHOTOS = ("person_fullbody_beach_sky.jpg", "landscape_sheep_field_sky.jpg")


def load(name: str, height: int) -> dict:
    """A photo at ``height`` rows with its depth, sky alpha and (if available) person alpha."""
    img = read_image(MEDIA / "photos" / name)
    h, w = img.shape[:2]
    cw = min(w, h * 3 // 2)  # centre crop to 3:2 so every cell has the same size
    img = img[:, (w - cw) // 2:(w - cw) // 2 + cw]
    img = cv2.resize(img, (height * 3 // 2 // 2 * 2, height), interpolation=cv2.INTER_AREA)
    small = cv2.resize(img, (img.shape[1] * 384 // img.shape[0], 384), interpolation=cv2.INTER_AREA)
    sky, _ = sky_alpha(small)
    person = None
    try:
        from reworld.analysis._mediapipe import create

        seg = create("selfie_segmentation", model_selection=1)
        person = seg.process(small).segmentation_mask.astype(np.float32)
    except Exception as exc:  # noqa: BLE001 - optional: the sheet works without it
        print(f"(no person alpha: {exc})", file=sys.stderr)
    masks = None if person is None else (person > 0.5)[None]
    depth = monocular_depth(small, sky_alpha=sky, person_masks=masks).depth
    return {"name": name, "image": img, "depth": depth, "sky": sky, "person": person}


def render(look_name: str, photo: dict, *, intensity: float, seed: int, frame_index: int = 0) -> np.ndarray:
    look = get_look(look_name)
    state = look.prepare(photo["image"], intensity=intensity, seed=seed, depth=photo["depth"])
    x = photo["image"].astype(np.float32) / 255
    out = look.apply(x, state, frame_index=frame_index, depth=photo["depth"], person_alpha=photo["person"],
                     sky_alpha=photo["sky"])
    return np.round(out * 255).astype(np.uint8)


def label(cell: np.ndarray, text: str) -> np.ndarray:
    cell = cell.copy()
    cv2.rectangle(cell, (0, 0), (min(cell.shape[1], 9 * len(text) + 8), 20), (0, 0, 0), -1)
    cv2.putText(cell, text, (4, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
    return cell


def grid(cells: list[np.ndarray], columns: int, gap: int = 4) -> np.ndarray:
    h, w = cells[0].shape[:2]
    rows = -(-len(cells) // columns)
    sheet = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap, 3), 24, np.uint8)
    for i, c in enumerate(cells):
        r, k = divmod(i, columns)
        sheet[r * (h + gap):r * (h + gap) + h, k * (w + gap):k * (w + gap) + w] = c
    return sheet


def cmd_sheet(args: argparse.Namespace) -> None:
    names = args.looks.split(",") if args.looks else [lk.name for lk in list_looks()]
    photos = [load(p, args.height) for p in PHOTOS]
    cells = []
    for name in ["source", *names]:
        for ph in photos:
            out = ph["image"] if name == "source" else render(name, ph, intensity=args.intensity, seed=args.seed)
            cells.append(label(out, name))
    write_image(args.output, grid(cells, args.columns * len(photos)))
    print(args.output)


def cmd_seeds(args: argparse.Namespace) -> None:
    names = args.looks.split(",") if args.looks else [lk.name for lk in list_looks()]
    seeds = [int(s) for s in args.seeds.split(",")]
    photo = load(PHOTOS[args.photo], args.height)
    cells = []
    for name in names:
        cells.append(label(photo["image"], name))
        cells += [label(render(name, photo, intensity=args.intensity, seed=s), f"seed {s}") for s in seeds]
    write_image(args.output, grid(cells, len(seeds) + 1))
    print(args.output)


def delta_e00(a: np.ndarray, b: np.ndarray) -> float:
    """Mean CIEDE2000 between two uint8 RGB images (colour-science)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import colour
    lab = [colour.XYZ_to_Lab(colour.sRGB_to_XYZ(x.astype(np.float64) / 255)) for x in (a, b)]
    return float(colour.delta_E(lab[0], lab[1], method="CIE 2000").mean())


def cmd_measure(args: argparse.Namespace) -> None:
    cv2.setNumThreads(2)
    names = args.looks.split(",") if args.looks else [lk.name for lk in list_looks()]
    small = [load(p, 270) for p in PHOTOS]
    big = load(PHOTOS[0], 720)
    big["image"] = cv2.resize(big["image"], (1280, 720), interpolation=cv2.INTER_AREA)
    x720 = big["image"].astype(np.float32) / 255
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; OpenCV threads: 2")
    print("| look | category | ΔE00 @1 (person / landscape) | ΔE00 @0.5 | seeds 0-3 @0.5: min / mean pairwise ΔE00 "
          "| 720p frame: CPU ms / wall ms | prepare s |")
    print("|---|---|---|---|---|---|---|")
    for name in names:
        look = get_look(name)
        de1 = [delta_e00(ph["image"], render(name, ph, intensity=1.0, seed=0)) for ph in small]
        de5 = delta_e00(small[0]["image"], render(name, small[0], intensity=0.5, seed=0))
        outs = [render(name, small[0], intensity=0.5, seed=s) for s in range(4)]
        pair = [delta_e00(a, b) for a, b in itertools.combinations(outs, 2)]
        t0 = time.perf_counter()
        state = look.prepare(big["image"], intensity=1.0, seed=0, depth=big["depth"])
        prep = time.perf_counter() - t0
        kw = dict(depth=big["depth"], person_alpha=big["person"], sky_alpha=big["sky"])
        look.apply(x720, state, frame_index=0, **kw)
        wall, cpu = [], []
        for i in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            look.apply(x720, state, frame_index=i + 1, **kw)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        print(f"| {name} | {look.category} | {de1[0]:.1f} / {de1[1]:.1f} | {de5:.1f} | {min(pair):.1f} / {np.mean(pair):.1f} "
              f"| {1000 * min(cpu):.0f} / {1000 * min(wall):.0f} | {prep:.1f} |", flush=True)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


def cmd_temporal(args: argparse.Namespace) -> None:
    """Flicker check: two frames of a static photo with independent noise (σ = 2 levels)."""
    names = args.looks.split(",") if args.looks else [lk.name for lk in list_looks()]
    ph = load(PHOTOS[0], 270)
    rng = np.random.default_rng(0)
    frames = [np.clip(np.round(ph["image"] + rng.normal(0, 2.0, ph["image"].shape)), 0, 255).astype(np.uint8)
              for _ in range(2)]
    x0, x1 = (f.astype(np.float32) / 255 for f in frames)
    din = float(np.abs(x1 - x0).mean())
    print("| look | animated | mean abs Δout / mean abs Δin |")
    print("|---|---|---|")
    for name in names:
        look = get_look(name)
        state = look.prepare(frames[0], intensity=1.0, seed=0, depth=ph["depth"])
        kw = dict(depth=ph["depth"], person_alpha=ph["person"], sky_alpha=ph["sky"])
        y0 = look.apply(x0, state, frame_index=0, **kw)
        y1 = look.apply(x1, state, frame_index=0 if not state.animated else 1, **kw)
        print(f"| {name} | {'yes' if state.animated else 'no'} | {float(np.abs(y1 - y0).mean()) / din:.2f} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sheet", help="every look on the two photos")
    s.add_argument("-o", "--output", default="/tmp/looks_sheet.png")
    s.add_argument("--intensity", type=float, default=1.0)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--looks", default="")
    s.add_argument("--columns", type=int, default=3, help="looks per row")
    s.add_argument("--height", type=int, default=200)
    v = sub.add_parser("seeds", help="variations of looks by seed")
    v.add_argument("-o", "--output", default="/tmp/looks_seeds.png")
    v.add_argument("--looks", default="")
    v.add_argument("--seeds", default="0,1,2,3")
    v.add_argument("--intensity", type=float, default=0.5)
    v.add_argument("--photo", type=int, default=0)
    v.add_argument("--height", type=int, default=200)
    m = sub.add_parser("measure", help="ΔE00, seed spread and timings as a markdown table")
    m.add_argument("--looks", default="")
    m.add_argument("--repeat", type=int, default=3)
    t = sub.add_parser("temporal", help="noise amplification on a static scene (flicker)")
    t.add_argument("--looks", default="")
    args = ap.parse_args()
    {"sheet": cmd_sheet, "seeds": cmd_seeds, "measure": cmd_measure, "temporal": cmd_temporal}[args.cmd](args)


if __name__ == "__main__":
    main()
