"""Contact sheet of the sky alpha on the shared media: `python bench/sky_sheet.py [OUT.png]`.

One row per shared photo and per clip (a frame from the middle of each clip, after the flow and
sky analyzers have run over the frames before it, so the row shows the alpha propagated along
the flow):
the input, the input with the sky tinted orange, and the alpha itself. The label gives the sky
fraction, the ms the single-frame estimate took at the 512 px analysis size, and the verdict.
Default output: ``bench-out/sky_sheet.png``. Look at it; ``docs/analysis-sky.md`` says what it
shows.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MEDIA = REPO.parent / "shared" / "media"


def _fit(image: np.ndarray, long_side: int = 512) -> np.ndarray:
    import cv2

    h, w = image.shape[:2]
    s = min(1.0, long_side / max(h, w))
    if s >= 1.0:
        return image
    return cv2.resize(image, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)


def _letterbox(image: np.ndarray, h: int = 288, w: int = 512) -> np.ndarray:
    """Fit into a fixed (h, w) cell on dark grey so every row keeps its own aspect."""
    import cv2

    s = min(h / image.shape[0], w / image.shape[1])
    nh, nw = max(1, round(image.shape[0] * s)), max(1, round(image.shape[1] * s))
    out = np.full((h, w, 3), 40, np.uint8)
    y, x = (h - nh) // 2, (w - nw) // 2
    out[y:y + nh, x:x + nw] = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA)
    return out


def _row(frame: np.ndarray, alpha: np.ndarray) -> list[np.ndarray]:
    from reworld.analysis.sky import tint

    a8 = np.clip(alpha * 255 + 0.5, 0, 255).astype(np.uint8)
    return [_letterbox(frame), _letterbox(tint(frame, alpha)), _letterbox(np.repeat(a8[..., None], 3, -1))]


def _clip_frame(path: Path) -> tuple[np.ndarray, np.ndarray, float]:
    """Middle frame of a clip and its alpha after the analyzer ran over the frames up to it."""
    import tempfile
    from fractions import Fraction

    import cv2

    from reworld.analysis.base import AnalysisContext, FrameChunk
    from reworld.analysis.flow import FlowAnalyzer
    from reworld.analysis.runner import analysis_size
    from reworld.analysis.sky import SkyAnalyzer
    from reworld.io.reader import ClipReader

    with ClipReader(path) as reader:
        n = len(reader)
        h, w, scale = analysis_size(*reader.size, 512)
        frames = []
        for chunk in reader.chunks():
            for f in chunk.frames:
                frames.append(cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA))
            if len(frames) > n // 2:
                break
    frames = np.stack(frames[: n // 2 + 1])
    with tempfile.TemporaryDirectory() as scratch:
        ctx = AnalysisContext(info=None, n_frames=len(frames), size=(h, w), scale=scale,
                              fps=Fraction(25), scratch=scratch)
        flow = FlowAnalyzer()  # the sky propagates along the flow, as analyze() runs it
        flow.setup(ctx)
        flow.process(FrameChunk(frames, 0, np.zeros(len(frames))), ctx)
        ctx.tracks["flow"] = flow.finalize(ctx)
        an = SkyAnalyzer()
        an.setup(ctx)
        an.process(FrameChunk(frames, 0, np.zeros(len(frames))), ctx)
        track = an.finalize(ctx)
        alpha = np.asarray(track["alpha"][-1], np.float32) / 255.0
        frac = float(track["fraction"][-1])
    return frames[-1], alpha, frac


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", nargs="?", default=str(REPO / "bench-out" / "sky_sheet.png"))
    args = ap.parse_args(argv)
    from reworld.io.stills import read_image, write_image
    from reworld.ops.sheet import contact_sheet
    from reworld.ops.sky import estimate_sky

    if not MEDIA.exists():
        print(f"shared media not found at {MEDIA}", file=sys.stderr)
        return 1
    rows, labels = [], []
    for p in sorted((MEDIA / "photos").iterdir()):
        img = _fit(read_image(p))
        estimate_sky(img)  # warm-up (first call imports cv2/scipy)
        t0 = time.perf_counter()
        est = estimate_sky(img)
        ms = (time.perf_counter() - t0) * 1000
        rows.append(_row(img, est.alpha))
        verdict = "sky" if est.score >= 0.02 else "no sky"
        labels.append(f"{p.stem[:16]}\n{p.stem[16:32]}\nfrac {est.score:.2f}\nconf {est.confidence:.2f}\n"
                      f"{ms:.0f} ms\n{verdict}")
        print(f"{p.name:40s} fraction {est.score:.3f} conf {est.confidence:.2f} {ms:5.1f} ms {verdict}")
    for p in sorted((MEDIA / "clips").iterdir()):
        frame, alpha, frac = _clip_frame(p)
        rows.append(_row(frame, alpha))
        verdict = "sky" if frac >= 0.02 else "no sky"
        labels.append(f"{p.stem[:16]}\n{p.stem[16:32]}\n(clip, mid)\nfrac {frac:.2f}\n{verdict}")
        print(f"{p.name:40s} fraction {frac:.3f} (mid frame, analyzer) {verdict}")
    sheet = contact_sheet(rows, labels=labels, cell_width=384, label_width=150)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_image(out, sheet)
    print(f"wrote {out} ({sheet.shape[1]}x{sheet.shape[0]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
