"""reworld.engines.propagation: streaming keyframe / first-frame propagation along the flow track.

Fast tests use a flow track made in code (a texture translated by a known step: the flow is exact
on a half-size grid, like the analyzer's stored grid). The media tests use the real flow analyzer:
a synthetic clip with known motion (a photo under an affine camera path plus a moving sprite that
uncovers background) written with ClipWriter, and two shared clips for the warp-error ratio.
Figures are in docs/propagation.md.
"""

from __future__ import annotations

import tracemalloc

import cv2
import numpy as np
import pytest
from conftest import media

from reworld.analysis.cache import AnalysisCache
from reworld.analysis.runner import analyze
from reworld.analysis.tracks import Track
from reworld.engines.propagation import PropagationParams, Propagator, track_keyframes
from reworld.errors import InvalidInput
from reworld.io.reader import ClipReader, read_clip
from reworld.io.writer import ClipWriter
from reworld.ops.color import GradeParams, grade_function
from reworld.ops.temporal import WarpErrorMeter, disocclusion

H, W = 96, 128
STEP = (2.0, 1.0)  # content moves 2 px right and 1 px down per frame (full-resolution pixels)


def texture(h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)  # fixed seed: deterministic scene
    img = np.zeros((h, w, 3), np.float32)
    for sigma, weight in ((1.5, 0.35), (4.0, 0.35), (12.0, 0.3)):
        n = cv2.GaussianBlur(rng.standard_normal((h, w, 3)).astype(np.float32), (0, 0), sigma)
        img += weight * n / n.std()
    return np.clip(img * 0.18 + 0.5, 0, 1)


def moving_clip(n: int, seed: int = 0) -> np.ndarray:
    """(n, H, W, 3) uint8: a texture translated by STEP per frame."""
    big = (texture(H + 2 * n + 8, W + 2 * n + 8, seed) * 255).round().astype(np.uint8)
    out = []
    for t in range(n):
        x0, y0 = 2 * n - int(STEP[0] * t), n - int(STEP[1] * t)
        out.append(big[y0:y0 + H, x0:x0 + W])
    return np.ascontiguousarray(np.stack(out))


def exact_track(n: int) -> Track:
    """A flow track with the exact flow of :func:`moving_clip`, stored at half size."""
    fh, fw = H // 2, W // 2
    fwd = np.zeros((n - 1, fh, fw, 2), np.float16)
    fwd[..., 0], fwd[..., 1] = STEP[0] / 2, STEP[1] / 2
    occ = np.zeros((n - 1, fh, fw), bool)
    occ[:, :, -1] = True
    occ[:, -1, :] = True
    return Track("flow", {"forward": fwd, "backward": -fwd, "occlusion": occ,
                          "magnitude": np.full(n - 1, np.hypot(*STEP), np.float32)},
                 {"size": [fh, fw], "to_analysis": [1.0, 1.0], "full_size": [H, W]})


LOOK = grade_function(GradeParams(temperature=0.4, saturation=1.3, contrast=1.15, lift=(0.02, 0.0, 0.04)))


def look(frame: np.ndarray, index: int = 0) -> np.ndarray:
    return np.round(np.clip(LOOK(frame.astype(np.float32) / 255), 0, 1) * 255).astype(np.uint8)


def psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    d = (a.astype(np.float64) - b.astype(np.float64)) / 255
    if mask is not None:
        d = d[mask]
    return float(10 * np.log10(1 / max(float(np.mean(d * d)), 1e-12)))


def run(prop: Propagator, frames: np.ndarray, chunk: int = 8) -> np.ndarray:
    return np.stack(list(prop.run(frames[i:i + chunk] for i in range(0, len(frames), chunk))))


# -- fast tests on an exact flow ----------------------------------------------------------------------
def test_first_frame_edit_follows_the_motion_and_fills_what_enters():
    n = 24
    frames = moving_clip(n)
    prop = Propagator(exact_track(n), n, (H, W), first_frame=look(frames[0]), measure=True)
    out = run(prop, frames)
    assert out.shape == frames.shape and out.dtype == np.uint8
    truth = np.stack([look(f) for f in frames])  # the look is per pixel: the true edit of every frame
    old = np.zeros((H, W), bool)
    old[12:-4, 16:-4] = True  # seen in frame 0 at every t (content enters at the top and left)
    for t in (1, n // 2, n - 1):
        assert psnr(out[t], truth[t], old) > 36, t
    new = np.zeros((H, W), bool)
    new[:, :2 * (n - 1) - 4] = True  # never seen in frame 0: the guide transfer's fill
    assert psnr(out[-1], truth[-1], new) > 28
    m = prop.metrics
    assert m["frames"] == n and m["keyframes_stylised"] == 0 and 0 < m["fill_fraction"] < 0.5
    assert m["warp_error_output"] < 2e-3  # (the source's is 0: the flow is exact, no ratio)


def test_keyframe_mode_stylises_keyframes_only_and_propagates():
    n = 30
    frames = moving_clip(n, seed=1)
    calls = []

    def stylise(frame, index):
        calls.append(index)
        return look(frame)

    params = PropagationParams(max_gap=12, max_disocclusion=1.0, max_motion=1.0)  # gaps only
    prop = Propagator(exact_track(n), n, (H, W), stylise=stylise, params=params)
    out = run(prop, frames, chunk=5)
    assert calls == prop.keyframes == [0, 12, 24]
    for t in range(n):
        assert psnr(out[t][8:-8, 8:-8], look(frames[t])[8:-8, 8:-8]) > 34, t
    np.testing.assert_array_equal(out[12], look(frames[12]))  # a keyframe is its stylisation


def test_same_input_same_bytes_whatever_the_chunking_or_buffer():
    n = 20
    frames = moving_clip(n, seed=2)
    rng_sty = lambda f, i: np.clip(look(f).astype(np.int16) + (i % 3) * 4, 0, 255).astype(np.uint8)
    a = run(Propagator(exact_track(n), n, (H, W), stylise=rng_sty, params=PropagationParams(max_gap=7)), frames, 3)
    p = Propagator(exact_track(n), n, (H, W), stylise=rng_sty, params=PropagationParams(max_gap=7, buffer_bytes=1))
    b = run(p, frames, 20)
    assert p.metrics["buffer_in_memory"] is False  # frames waited in a scratch memory map
    np.testing.assert_array_equal(a, b)


def test_memory_is_flat_in_clip_length():
    peaks = []
    for n in (30, 90):
        frames = moving_clip(n, seed=3)
        track = exact_track(n)
        prop = Propagator(track, n, (H, W), stylise=look, params=PropagationParams(max_gap=10))
        tracemalloc.start()
        count = 0
        for i in range(0, n, 6):
            count += len(prop.feed(frames[i:i + 6]))
        count += len(prop.close())
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert count == n
    assert peaks[1] < 1.2 * peaks[0], peaks


def test_a_cut_restarts_the_scene():
    n = 16
    frames = np.concatenate([moving_clip(8, seed=4), moving_clip(8, seed=5)])
    calls = []

    def stylise(frame, index):
        calls.append(index)
        return look(frame)

    track = exact_track(n)
    prop = Propagator(track, n, (H, W), first_frame=look(frames[0]), stylise=stylise, cuts=[8])
    out = run(prop, frames)
    assert calls == [8] and 0 in prop.keyframes and 8 in prop.keyframes
    assert psnr(out[12][16:-4, 16:-4], look(frames[12])[16:-4, 16:-4]) > 34
    assert track_keyframes(track, n, cuts=[8]) == [0, 6, 8, 14]  # 15 % of the frame entered by frame 6


def test_bad_inputs_are_named():
    n = 6
    frames = moving_clip(n)
    track = exact_track(n)
    with pytest.raises(InvalidInput, match="`first_frame` must have the clip's size 128x96.*64x48"):
        Propagator(track, n, (H, W), first_frame=np.zeros((48, 64, 3), np.uint8))
    with pytest.raises(InvalidInput, match="`stylise`"):
        Propagator(track, n, (H, W))
    with pytest.raises(InvalidInput, match="`n_frames`"):
        Propagator(track, n + 5, (H, W), stylise=look)
    with pytest.raises(InvalidInput, match="`params.max_gap`"):
        Propagator(track, n, (H, W), stylise=look, params=PropagationParams(min_gap=5, max_gap=2))
    prop = Propagator(track, n, (H, W), stylise=lambda f, i: f[:10])
    with pytest.raises(InvalidInput, match="`stylise`"):
        prop.feed(frames[:1])
    prop = Propagator(track, n, (H, W), stylise=look)
    with pytest.raises(InvalidInput, match="`frames`"):
        prop.feed(frames[:, :10])
    prop.feed(frames)
    with pytest.raises(InvalidInput, match="`frames`"):
        prop.feed(frames[:1])


# -- real flow: the first-frame guide on a synthetic clip with known motion ----------------------------
PH, PW, NF, SPRITE = 288, 512, 75, 88


def camera(t: int) -> np.ndarray:
    """3x3 map frame pixels -> photo pixels: pan 1.6/0.5 px, 0.06 deg rotation, 0.12 % zoom a frame."""
    c = np.array([[1, 0, -PW / 2], [0, 1, -PH / 2], [0, 0, 1.0]])
    a, s = np.deg2rad(0.06 * t), 1 + 0.0012 * t
    rs = np.array([[s * np.cos(a), -s * np.sin(a), 0], [s * np.sin(a), s * np.cos(a), 0], [0, 0, 1]])
    return np.array([[1, 0, 330 + 1.6 * t], [0, 1, 230 + 0.5 * t], [0, 0, 1.0]]) @ np.linalg.inv(c) @ rs @ c


def sprite_pos(t: int) -> np.ndarray:
    return np.array([70 + 3.1 * t, 110 + 30 * np.sin(t / 14.0)])


def sprite_alpha(t: int) -> np.ndarray:
    m = np.float32([[1, 0, sprite_pos(t)[0]], [0, 1, sprite_pos(t)[1]]])
    return cv2.warpAffine(np.ones((SPRITE, SPRITE), np.float32), m, (PW, PH), flags=cv2.INTER_LINEAR)


def render(photo: np.ndarray, sprite: np.ndarray, t: int) -> np.ndarray:
    bg = cv2.warpPerspective(photo, camera(t), (PW, PH), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
                             borderMode=cv2.BORDER_REFLECT).astype(np.float32)
    m = np.float32([[1, 0, sprite_pos(t)[0]], [0, 1, sprite_pos(t)[1]]])
    fg = cv2.warpAffine(sprite, m, (PW, PH), flags=cv2.INTER_LINEAR).astype(np.float32)
    a = sprite_alpha(t)[..., None]
    return np.round(bg * (1 - a) + fg * a).astype(np.uint8)


def truth_map(t: int) -> tuple[np.ndarray, np.ndarray]:
    """Where every pixel of frame t is in frame 0, and a code: 1 visible in frame 0, 0 disoccluded,
    -1 left out (a 2-px band at the sprite's edges, where pixels mix, and at frame 0's border)."""
    ys, xs = np.mgrid[0:PH, 0:PW].astype(np.float64)
    p = np.stack([xs, ys, np.ones_like(xs)], -1) @ (np.linalg.inv(camera(0)) @ camera(t)).T
    a_t, a_0 = sprite_alpha(t), sprite_alpha(0)
    on_sprite = a_t >= 0.5
    sp = np.stack([xs, ys], -1) - sprite_pos(t) + sprite_pos(0)
    m = np.where(on_sprite[..., None], sp, p[..., :2] / p[..., 2:]).astype(np.float32)
    k = cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5))
    edge0 = cv2.dilate(((a_0 > 0.001) & (a_0 < 0.999)).astype(np.uint8), k)
    edge_t = cv2.dilate(((a_t > 0.001) & (a_t < 0.999)).astype(np.uint8), k).astype(bool)
    under0 = cv2.remap(a_0, m, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    e0 = cv2.remap(edge0, m, None, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0).astype(bool)
    inside = (m[..., 0] >= 1) & (m[..., 0] <= PW - 2) & (m[..., 1] >= 1) & (m[..., 1] <= PH - 2)
    code = np.where(inside & (on_sprite | (under0 < 0.001)), 1, 0)
    near = (m[..., 0] >= -2) & (m[..., 0] <= PW + 1) & (m[..., 1] >= -2) & (m[..., 1] <= PH + 1) & ~inside
    code[edge_t | (e0 & ~on_sprite) | near] = -1
    return m, code


POSTER = grade_function(GradeParams(temperature=0.45, tint=0.1, saturation=1.35, contrast=1.25, lift=(0.03, 0.0, 0.05)))


def poster(frame: np.ndarray, levels: int = 6) -> np.ndarray:
    """The strong known edit: a colour look, then posterize to 6 levels a channel."""
    x = np.round(POSTER(frame.astype(np.float32) / 255) * (levels - 1)) / (levels - 1)
    return np.round(np.clip(x, 0, 1) * 255).astype(np.uint8)


@pytest.mark.media
@pytest.mark.slow
def test_first_frame_guide_matches_the_true_warped_edit(tmp_path):
    photo = cv2.cvtColor(cv2.imread(str(media("photos/landscape_lake_boats_sunset_sky.jpg"))), cv2.COLOR_BGR2RGB)
    cup = cv2.cvtColor(cv2.imread(str(media("photos/indoor_coffee_cup_table.png"))), cv2.COLOR_BGR2RGB)
    sprite = cv2.resize(cup[100:300, 250:450], (SPRITE, SPRITE), interpolation=cv2.INTER_AREA)
    path = tmp_path / "known_motion.mp4"
    with ClipWriter(path, fps=30, preset="veryfast") as w:
        for t in range(NF):
            w.write(render(photo, sprite, t))
    track = analyze(path, ["flow"], cache=AnalysisCache(tmp_path / "cache"))["flow"]
    frames = read_clip(path).frames  # what a user has: the decoded clip
    edit0 = poster(frames[0])
    prop = Propagator(track, NF, (PH, PW), first_frame=edit0)
    vis_err, vis_n, dis_err, dis_n, per_frame = 0.0, 0, 0.0, 0, []
    with ClipReader(path, chunk_size=16) as reader:
        outs = prop.run(c.frames for c in reader.chunks())
        for t, out in enumerate(outs):
            if t == 0:
                continue
            m, code = truth_map(t)
            want_vis = cv2.remap(edit0, m, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            d = (out.astype(np.float64) - want_vis) / 255
            e = (d * d).mean(axis=2)
            vis_err += e[code == 1].sum()
            vis_n += int((code == 1).sum())
            per_frame.append(10 * np.log10(1 / e[code == 1].mean()))
            d = (out.astype(np.float64) - poster(frames[t])) / 255  # revealed: the edit of the true frame
            e = (d * d).mean(axis=2)
            dis_err += e[code == 0].sum()
            dis_n += int((code == 0).sum())
    visible = 10 * np.log10(vis_n / vis_err)
    revealed = 10 * np.log10(dis_n / dis_err)
    second, last = per_frame[0], per_frame[-1]
    print(f"visible {visible:.2f} dB (per frame min {min(per_frame):.2f}), revealed {revealed:.2f} dB, "
          f"second frame {second:.2f}, last {last:.2f}, keyframes {prop.keyframes}")
    assert visible >= 30 and min(per_frame) >= 29
    assert revealed >= 20
    # drift: the first frames are one flow step from the edit and better than any later one;
    # after them the quality declines slowly with the growing zoom and rotation (docs/propagation.md:
    # the "last within 2 dB of the second frame" is NOT met on this path)
    assert last >= np.mean(per_frame[9:20]) - 3 and last >= second - 7


# -- real flow: keyframe propagation of a flickering stylisation -----------------------------------------
def flicker(frame: np.ndarray, index: int) -> np.ndarray:
    """A per-frame stylisation that flickers: a look plus seeded low-frequency colour noise and a
    global colour shift that change every frame (what a per-frame image model does)."""
    rng = np.random.default_rng([1234, index])  # seeded per frame: deterministic flicker
    x = LOOK(frame.astype(np.float32) / 255)
    h, w = x.shape[:2]
    noise = cv2.resize(rng.standard_normal((max(2, h // 24), max(2, w // 24), 3)).astype(np.float32), (w, h),
                       interpolation=cv2.INTER_CUBIC)
    x = x + 0.06 * noise + rng.uniform(-0.04, 0.04, 3).astype(np.float32)
    return np.round(np.clip(x, 0, 1) * 255).astype(np.uint8)


@pytest.mark.media
@pytest.mark.slow
@pytest.mark.parametrize("clip", ["pedestrians_static_campus_768x576.mp4", "handheld_tree_sky_320x240.mp4"])
def test_keyframe_propagation_removes_flicker(clip, tmp_path):
    path = media(f"clips/{clip}")
    track = analyze(path, ["flow"], cache=AnalysisCache(tmp_path / "cache"))["flow"]
    n = len(track["forward"]) + 1
    beta = 0.5 / track.meta["to_analysis"][0] ** 2
    per_frame = WarpErrorMeter()
    with ClipReader(path, chunk_size=16) as reader:
        prop = Propagator(track, n, reader.size, stylise=flicker, measure=True)
        prev = None

        def chunks():
            nonlocal prev
            for c in reader.chunks():
                for f in c.frames:  # the per-frame application, measured on the fly
                    styled = flicker(f, chunks.t)
                    if prev is not None:
                        fwd, bwd = (np.asarray(a[chunks.t - 1], np.float32) for a in (track["forward"], track["backward"]))
                        per_frame.update(prev, styled, bwd, disocclusion(fwd, bwd, beta=beta))
                    prev, chunks.t = styled, chunks.t + 1
                yield c.frames

        chunks.t = 0
        count = sum(1 for _ in prop.run(chunks()))
    m = prop.metrics
    flicker_ratio = per_frame.value / m["warp_error_source"]
    print(f"{clip}: propagated ratio {m['warp_error_ratio']:.3f}, per-frame ratio {flicker_ratio:.2f}, "
          f"keyframes {len(m['keyframes'])}, {m['ms_per_frame_without_stylise']} ms/frame")
    assert count == n
    assert m["warp_error_ratio"] <= 1.10
    assert flicker_ratio > 5
