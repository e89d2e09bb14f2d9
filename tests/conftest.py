"""Shared fixtures: tiny synthetic media made in code, and the shared real media set."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
MEDIA = Path(os.environ.get("REWORLD_MEDIA", REPO.parent / "shared" / "media"))


def media(rel: str) -> Path:
    """Path of a file in the shared media set, or skip the test naming what is missing."""
    p = MEDIA / rel
    if not p.exists():
        pytest.skip(f"shared media file missing: {p} (set REWORLD_MEDIA to the media folder)")
    return p


def pattern_frames(n: int, h: int = 48, w: int = 64, seed: int = 0) -> np.ndarray:
    """(n, h, w, 3) uint8 frames: smooth colour gradients with a moving square (codec-friendly)."""
    rng = np.random.default_rng(seed)  # fixed seed: deterministic fixtures
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([xx / max(w - 1, 1), yy / max(h - 1, 1), 0.5 + 0 * xx], -1)
    out = np.empty((n, h, w, 3), np.uint8)
    colour = rng.uniform(0.2, 0.9, 3)
    for i in range(n):
        f = base.copy()
        f[..., 2] = (i / max(n - 1, 1))
        s = max(2, min(h, w) // 4)
        x0 = (i * 3) % max(1, w - s)
        y0 = (i * 2) % max(1, h - s)
        f[y0:y0 + s, x0:x0 + s] = colour
        out[i] = np.round(np.clip(f, 0, 1) * 255)
    return out


def make_clip(path: Path, *, n: int = 12, h: int = 48, w: int = 64, fps: int = 10,
              codec: str = "libx264", pix_fmt: str = "yuv420p", audio: bool = False,
              rotation: int = 0, pts: list[int] | None = None, time_base: Fraction | None = None,
              container: str | None = None) -> Path:
    """Encode a small test clip with PyAV (optionally with a sine tone, rotation tag or VFR pts)."""
    frames = pattern_frames(n, h, w)
    with av.open(str(path), "w", format=container) as out:
        s = out.add_stream(codec, rate=fps)
        s.width, s.height, s.pix_fmt = w, h, pix_fmt
        tb = time_base or Fraction(1, fps)
        s.codec_context.time_base = tb
        s.time_base = tb
        if codec in ("libx264", "libx265"):
            s.options = {"crf": "10", "preset": "ultrafast"} if codec == "libx264" else {"crf": "10", "preset": "ultrafast", "x265-params": "log-level=error"}
        if rotation:
            s.set_display_rotation(rotation)
        a = None
        if audio:
            a = out.add_stream("aac", rate=48000)
            a.layout = "stereo"
        samples_done = 0
        for i, fr in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(fr, format="rgb24").reformat(format=pix_fmt)
            vf.pts = pts[i] if pts is not None else i
            vf.time_base = tb
            for p in s.encode(vf):
                out.mux(p)
            if a is not None:
                t_end = float((vf.pts + (1 if pts is None else 0)) * tb) + 1.0 / fps
                need = int(t_end * 48000) - samples_done
                if need > 0:
                    t = (samples_done + np.arange(need)) / 48000.0
                    tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
                    af = av.AudioFrame.from_ndarray(np.stack([tone, tone]), format="fltp", layout="stereo")
                    af.sample_rate = 48000
                    af.pts = samples_done
                    samples_done += need
                    for p in a.encode(af):
                        out.mux(p)
        for p in s.encode(None):
            out.mux(p)
        if a is not None:
            for p in a.encode(None):
                out.mux(p)
    return path


def _realistic_grade():
    from reworld.ops.color import GradeParams

    return GradeParams(exposure=0.5, contrast=1.2, saturation=1.3, temperature=0.3,
                       lift=(0.02, 0.0, -0.01), gamma=(1.1, 1.0, 0.95), gain=(0.95, 1.0, 1.05),
                       curves={"master": ((0.0, 0.0), (0.25, 0.22), (0.75, 0.8), (1.0, 1.0))})


#: a realistic, non-trivial grade shared by the grading and LUT tests
REALISTIC_GRADE = _realistic_grade()


@pytest.fixture
def clip(tmp_path) -> Path:
    """A 12-frame 64x48 H.264 clip at 10 fps."""
    return make_clip(tmp_path / "clip.mp4")


@pytest.fixture
def clip_audio(tmp_path) -> Path:
    """A 20-frame 64x48 H.264 clip with a stereo AAC tone."""
    return make_clip(tmp_path / "clip_audio.mp4", n=20, audio=True)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Never let a test write to the real ~/.cache."""
    monkeypatch.setenv("REWORLD_CACHE", str(tmp_path / "cache"))
