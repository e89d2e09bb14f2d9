"""The ``flow`` analyzer: shapes, units, chunk boundaries, occlusion, cache, overlay.

Clips are rendered in code with known motion (a textured plane panned by a constant sub-pixel
step; a textured sprite moving over a static textured background) and encoded with
``ClipWriter`` at a low CRF, then analysed through :func:`reworld.analysis.runner.analyze`.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import make_clip

from reworld.analysis.base import AnalysisContext, FrameChunk
from reworld.analysis.flow import FlowAnalyzer, overlay, stored_size
from reworld.analysis.runner import analyze
from reworld.errors import InvalidInput
from reworld.io.writer import ClipWriter

H, W = 180, 320
STEP = (1.5, -0.75)  # content motion per frame, (x, y) full-resolution pixels


def texture(h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)  # fixed seed: deterministic clip
    img = np.zeros((h, w, 3), np.float32)
    for sigma, weight in ((1.5, 0.4), (5.0, 0.6)):
        n = cv2.GaussianBlur(rng.standard_normal((h, w, 3)).astype(np.float32), (0, 0), sigma)
        img += weight * n / n.std()
    return np.round(np.clip(img * 0.2 + 0.5, 0, 1) * 255).astype(np.uint8)


def pan_frames(n: int, h: int = H, w: int = W) -> np.ndarray:
    src = texture(h + 80, w + 80, seed=3)
    out = []
    for k in range(n):  # frame pixel x shows source pixel x - k*STEP + 40: content moves by STEP
        m = np.float64([[1, 0, 40 - STEP[0] * k], [0, 1, 40 - STEP[1] * k]])
        out.append(cv2.warpAffine(src, m, (w, h), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP))
    return np.stack(out)


def encode(path: Path, frames: np.ndarray) -> Path:
    with ClipWriter(path, fps=25, crf=4, preset="ultrafast") as w:
        w.write(frames)
    return path


@pytest.fixture(scope="module")
def pan_clip(tmp_path_factory) -> Path:
    return encode(tmp_path_factory.mktemp("flow") / "pan.mp4", pan_frames(20))


def test_arrays_units_and_chunk_boundary(pan_clip):
    track = analyze(pan_clip, ["flow"], chunk_size=16)["flow"]
    fh, fw = stored_size(H, W, 256)
    assert track.meta["size"] == [fh, fw] == [144, 256]
    for name, shape, dtype in (("forward", (19, fh, fw, 2), np.float16), ("backward", (19, fh, fw, 2), np.float16),
                               ("occlusion", (19, fh, fw), np.bool_), ("confidence", (19,), np.float32),
                               ("magnitude", (19,), np.float32)):
        assert track[name].shape == shape and track[name].dtype == dtype, name
    sx, sy = track.meta["to_full"]
    assert sx == pytest.approx(W / fw) and sy == pytest.approx(H / fh)
    inner = (slice(None), slice(8, -8), slice(8, -8))
    fwd = np.median(track["forward"][inner].astype(np.float32), axis=(1, 2)) * (sx, sy)  # full-res px
    bwd = np.median(track["backward"][inner].astype(np.float32), axis=(1, 2)) * (sx, sy)
    np.testing.assert_allclose(fwd, np.tile(STEP, (19, 1)), atol=0.1)
    np.testing.assert_allclose(bwd, -np.tile(STEP, (19, 1)), atol=0.1)
    # pair 15 -> 16 straddles the first chunk boundary (chunk_size 16): per-pixel EPE as good as inside
    for i in (14, 15, 16):
        e = np.linalg.norm(track["forward"][i].astype(np.float32)[8:-8, 8:-8] * (sx, sy) - STEP, axis=-1)
        assert np.median(e) <= 0.5 and e.mean() <= 0.5, (i, float(np.median(e)), float(e.mean()))
    np.testing.assert_allclose(track["magnitude"], np.hypot(*STEP), atol=0.1)
    assert track["confidence"].min() > 0.8 and track["confidence"].max() <= 1
    # the occluded pixels of a pan are the strips that leave the frame (content moves right and up)
    occ = track["occlusion"].mean(axis=0)
    assert occ[2:-2, -1].mean() > 0.9 and occ[0, 2:-2].mean() > 0.9 and occ[8:-8, 8:-8].max() < 0.2


def test_second_call_is_a_cache_hit_with_memory_maps(pan_clip):
    first = analyze(pan_clip, ["flow"], chunk_size=16)["flow"]
    second = analyze(pan_clip, ["flow"], chunk_size=16)["flow"]
    assert sorted(second.arrays) == sorted(first.arrays)
    for name, arr in second.arrays.items():
        assert isinstance(arr, np.memmap), name
        np.testing.assert_array_equal(arr, first[name])
    assert second.meta["to_full"] == first.meta["to_full"] and second.meta["size"] == first.meta["size"]


def test_magnitude_is_in_full_resolution_pixels(pan_clip):
    track = analyze(pan_clip, ["flow"], long_side=160, params={"flow": {"preset": "medium"}})["flow"]
    assert track.meta["analysis_size"] == [90, 160] and track.meta["size"] == [90, 160]
    assert track.meta["to_full"] == [2.0, 2.0] and track.meta["full_size"] == [H, W]
    np.testing.assert_allclose(track["magnitude"], np.hypot(*STEP), atol=0.15)


def test_one_frame_clip_gives_empty_arrays(tmp_path):
    clip = make_clip(tmp_path / "one.mp4", n=1)
    track = analyze(clip, ["flow"])["flow"]
    assert track.meta["message"] == "one frame: no flow"
    assert track["forward"].shape == (0, 48, 64, 2) and track["occlusion"].shape == (0, 48, 64)
    assert track["confidence"].shape == (0,)
    frame = np.zeros((48, 64, 3), np.uint8)
    np.testing.assert_array_equal(overlay(track, frame, 0), frame)
    assert analyze(clip, ["flow"])["flow"]["forward"].shape == (0, 48, 64, 2)  # from the cache


def test_occlusion_of_moving_sprite_through_runner(tmp_path):
    h, w, size, step = 288, 512, 96, (6, 3)
    bg = texture(h, w, seed=1)
    sprite = 255 - texture(size, size, seed=2)
    frames, boxes = [], []
    for k in range(6):
        x, y = 150 + step[0] * k, 90 + step[1] * k
        f = bg.copy()
        f[y:y + size, x:x + size] = sprite
        frames.append(f)
        boxes.append((x, y))
    clip = encode(tmp_path / "sprite.mp4", np.stack(frames))
    full = analyze(clip, ["flow"], params={"flow": {"flow_long_side": 512}})["flow"]
    small = analyze(clip, ["flow"])["flow"]  # stored at 256 x 144
    assert full.meta["size"] == [h, w] and small.meta["size"] == [144, 256]
    recalls, recalls_small, sprite_epe = [], [], []
    for i in range(5):
        (x0, y0), (x1, y1) = boxes[i], boxes[i + 1]
        in_a = np.zeros((h, w), bool)
        in_a[y0:y0 + size, x0:x0 + size] = True
        in_b = np.zeros((h, w), bool)
        in_b[y1:y1 + size, x1:x1 + size] = True
        covered = in_b & ~in_a  # background of frame i that the sprite covers in frame i+1
        recalls.append(full["occlusion"][i][covered].mean())
        up = cv2.resize(small["occlusion"][i].astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
        recalls_small.append(up.astype(bool)[covered].mean())
        e = np.linalg.norm(full["forward"][i].astype(np.float32)[y0 + 4:y0 + size - 4, x0 + 4:x0 + size - 4] - step, axis=-1)
        sprite_epe.append(float(np.median(e)))
    assert np.mean(recalls) >= 0.6 and min(recalls) >= 0.45, recalls
    assert np.mean(recalls_small) >= 0.6 and min(recalls_small) >= 0.45, recalls_small
    assert max(sprite_epe) <= 0.5, sprite_epe


# -- the analyzer without the runner -------------------------------------------------------
def ctx_for(n_frames: int, h: int = 72, w: int = 128, tmp: Path | None = None) -> AnalysisContext:
    return AnalysisContext(info=None, n_frames=n_frames, size=(h, w), scale=1.0, fps=Fraction(25),
                           scratch=str(tmp) if tmp else None)


def run_direct(frames: np.ndarray, chunk: int, n_frames: int, tmp: Path | None, **params):
    a = FlowAnalyzer(params or None)
    ctx = ctx_for(n_frames, *frames.shape[1:3], tmp=tmp)
    a.setup(ctx)
    for s in range(0, len(frames), chunk):
        a.process(FrameChunk(frames[s:s + chunk], s, np.arange(s, min(s + chunk, len(frames))) / 25), ctx)
    ctx.n_frames = len(frames)
    return a.finalize(ctx)


def test_chunking_and_miscounted_frames_give_the_same_arrays(tmp_path):
    frames = pan_frames(11, 72, 128)
    ref = run_direct(frames, 11, 11, tmp_path)
    assert isinstance(ref["forward"], np.memmap) and ref["forward"].shape == (10, 72, 128, 2)
    for chunk, reported in ((1, 11), (4, 40), (3, 2), (16, 0)):  # over- and under-reported frame counts
        other = run_direct(frames, chunk, reported, tmp_path if chunk != 16 else None)
        for name in ref.arrays:
            assert other[name].shape == ref[name].shape, (chunk, reported, name)
            np.testing.assert_array_equal(other[name], ref[name], err_msg=f"chunk {chunk}, n_frames {reported}: {name}")


def test_params_are_validated():
    with pytest.raises(InvalidInput, match="flow.preset"):
        FlowAnalyzer({"preset": "slowest"})
    with pytest.raises(InvalidInput, match="flow.flow_long_side"):
        FlowAnalyzer({"flow_long_side": 8})
    with pytest.raises(InvalidInput, match="flow.scale"):
        FlowAnalyzer({"scale": 2})


def test_overlay_draws_flow_and_occlusion(tmp_path):
    track = run_direct(pan_frames(3, 72, 128), 3, 3, tmp_path, flow_long_side=64)
    frame = np.full((144, 256, 3), 128, np.uint8)  # full resolution: twice the flow grid here
    first = overlay(track, frame, 0)
    last = overlay(track, frame, 2)
    assert first.shape == frame.shape and first.dtype == np.uint8 and last.shape == frame.shape
    assert not np.array_equal(first, frame) and np.array_equal(frame, np.full_like(frame, 128))
    assert (first[:, :4] != first[60:80, 120:140].mean((0, 1)).round()).any()  # occluded edge tinted
    with pytest.raises(InvalidInput, match="`index`"):
        overlay(track, frame, 3)
    with pytest.raises(InvalidInput, match="`frame`"):
        overlay(track, frame[..., 0], 0)
