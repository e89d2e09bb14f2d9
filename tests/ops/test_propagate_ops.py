"""reworld.ops.propagate: keyframe selection, chained correspondence, refinement, guide transfer.

Ground truth made in code: translations with exact flows (chaining must compose them exactly),
a smooth texture shifted by a known amount (the refiner must find it from a wrong guess), and a
known colour look (the guide transfer fitted on one image must reproduce it on another).
"""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest

from reworld.errors import InvalidInput
from reworld.ops.color import GradeParams, grade_function
from reworld.ops.propagate import (
    CorrespondenceRefiner,
    GuideStats,
    apply_guide,
    blend_guides,
    chain_coords,
    chain_visibility,
    extrapolate_coords,
    guide_stats,
    identity_coords,
    photometric_confidence,
    sample_image,
    select_keyframes,
    solve_guide,
    upsample_coords,
)


def texture(h: int, w: int, seed: int) -> np.ndarray:
    """(h, w, 3) float32 smooth random texture in [0, 1] (three scales, textured everywhere)."""
    rng = np.random.default_rng(seed)  # fixed seed: deterministic scene
    img = np.zeros((h, w, 3), np.float32)
    for sigma, weight in ((1.5, 0.35), (4.0, 0.35), (12.0, 0.3)):
        n = cv2.GaussianBlur(rng.standard_normal((h, w, 3)).astype(np.float32), (0, 0), sigma)
        img += weight * n / n.std()
    return np.clip(img * 0.18 + 0.5, 0, 1)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1 / np.mean((a.astype(np.float64) - b) ** 2)))


# -- keyframes -------------------------------------------------------------------------------------
def test_keyframes_at_cuts_thresholds_and_gaps():
    assert select_keyframes(1) == [0]
    assert select_keyframes(100, max_gap=30) == [0, 30, 60, 90]
    # cuts override min_gap, and restart the count
    assert select_keyframes(40, cuts=[5, 6], max_gap=30, min_gap=10) == [0, 5, 6, 36]
    dis = np.zeros(59)
    dis[20:24] = 0.06  # a person walks away: 24 % revealed within 4 pairs (past 15 % at frame 23)
    assert select_keyframes(60, disocclusion=dis, max_gap=100) == [0, 23]
    assert select_keyframes(60, disocclusion=dis, max_gap=100, max_disocclusion=0.5) == [0]
    motion = np.full(59, 2.0)  # 2 px a frame: 10 frames to pass 19 px, at least min_gap apart
    assert select_keyframes(60, motion=motion, max_motion=19, max_gap=100) == [0, 10, 20, 30, 40, 50]
    assert select_keyframes(60, motion=motion, max_motion=1, min_gap=7, max_gap=100) == [0, 7, 14, 21, 28, 35, 42, 49, 56]


def test_keyframes_are_deterministic_and_checked():
    rng = np.random.default_rng(3)  # fixed seed
    dis = rng.random(199) * 0.05
    a = select_keyframes(200, cuts=[50, 120], disocclusion=dis)
    assert a == select_keyframes(200, cuts=[120, 50, 50], disocclusion=list(dis))
    assert {0, 50, 120} <= set(a) and all(b - c <= 30 for c, b in itertools.pairwise(a))
    with pytest.raises(InvalidInput, match="`cuts`"):
        select_keyframes(10, cuts=[10])
    with pytest.raises(InvalidInput, match="`disocclusion`"):
        select_keyframes(10, disocclusion=[0.1] * 5)
    with pytest.raises(InvalidInput, match="`max_gap`"):
        select_keyframes(10, min_gap=5, max_gap=3)


# -- correspondence -------------------------------------------------------------------------------
def test_chaining_composes_translations_exactly():
    h, w = 32, 40
    c = identity_coords(h, w)
    vis = np.ones((h, w), bool)
    for step in ((1.0, 0.0), (0.5, -1.0), (2.0, 0.25)):  # backward flows of a moving scene
        flow = np.zeros((h, w, 2), np.float32)
        flow[..., 0], flow[..., 1] = -step[0], -step[1]
        c = chain_coords(c, flow)
        vis = chain_visibility(vis, flow)
    # the total motion is (3.5, -0.75): every pixel maps 3.5 px left and 0.75 px down
    inner = c[4:-4, 6:-6] - identity_coords(h, w)[4:-4, 6:-6]
    np.testing.assert_allclose(inner, np.broadcast_to([-3.5, 0.75], inner.shape), atol=1e-5)
    assert not vis[:, :3].any() and vis[:-1, 4:].all()  # what came from outside the anchor


def test_visibility_is_cleared_where_occluded():
    vis = np.ones((8, 8), bool)
    occ = np.zeros((8, 8), bool)
    occ[2:4, 2:4] = True
    out = chain_visibility(vis, np.zeros((8, 8, 2), np.float32), occ)
    assert out.sum() == 60 and not out[2:4, 2:4].any()


def test_upsample_and_sample_follow_a_shift():
    img = (texture(64, 96, 1) * 255).round().astype(np.uint8)
    c = identity_coords(16, 24)
    c[..., 0] += 0.5  # half a grid pixel = 2 full pixels to the right
    full = upsample_coords(c, (64, 96))
    np.testing.assert_allclose(full[10, 10], [12.0, 10.0], atol=1e-5)
    shifted = sample_image(img, full)
    np.testing.assert_array_equal(shifted[:, :-2], img[:, 2:])
    np.testing.assert_allclose(upsample_coords(identity_coords(16, 24), (64, 96)), identity_coords(64, 96), atol=1e-4)


def test_extrapolation_fills_holes_with_the_surrounding_motion():
    h, w = 40, 60
    c = identity_coords(h, w) + np.array([3.0, -2.0], np.float32)
    valid = np.ones((h, w), bool)
    valid[10:30, 20:45] = False  # a hole where the chain went through an occluder
    c[~valid] = 0
    out = extrapolate_coords(c, valid)
    np.testing.assert_allclose(out[~valid] - identity_coords(h, w)[~valid], np.broadcast_to([3.0, -2.0], (500, 2)), atol=1e-3)
    np.testing.assert_array_equal(out[valid], c[valid])


@pytest.mark.parametrize("preset", ["balanced", "fine"])
def test_refiner_recovers_a_shift_from_a_wrong_guess(preset):
    h, w = 96, 128
    anchor = texture(h + 8, w + 8, 2)
    frame, anc = anchor[4:4 + h, 4:4 + w], anchor[1:1 + h, 6:6 + w]  # frame(x) = anc(x + (-2, 3))
    guess = identity_coords(h, w) + np.array([0.5, 1.5], np.float32)  # 2.5 px off
    out = CorrespondenceRefiner(preset)(frame, anc, guess)
    err = np.linalg.norm(out - (identity_coords(h, w) + np.array([-2.0, 3.0], np.float32)), axis=-1)[8:-8, 8:-8]
    assert np.median(err) < 0.15
    conf = photometric_confidence(frame, sample_image(anc, out))
    assert np.median(conf) > 0.95 > np.median(photometric_confidence(frame, sample_image(anc, guess))) + 0.2


# -- guide transfer ---------------------------------------------------------------------------------
LOOK = GradeParams(temperature=0.4, saturation=1.3, contrast=1.2, lift=(0.02, 0.0, 0.04))


def test_guide_transfer_reproduces_a_look_on_new_content():
    look = grade_function(LOOK)
    fit_src = texture(144, 256, 4)
    other = texture(288, 512, 5)  # different content, larger: the grid spans the frame
    model = solve_guide(guide_stats(fit_src, look(fit_src)))
    assert model.grid == (7, 12, 8)
    assert psnr(apply_guide(model, other), look(other)) > 35
    # a masked application computes the same pixels (and only those)
    mask = np.zeros(other.shape[:2], bool)
    mask[100:150, 200:260] = True
    part = apply_guide(model, (other * 255).round().astype(np.uint8), mask, out=np.zeros((288, 512, 3), np.uint8))
    full = apply_guide(model, (other * 255).round().astype(np.uint8))
    assert part[~mask].max() == 0
    assert np.abs(part[mask].astype(np.float32) - full[mask] * 255).max() <= 1.0


def test_guide_is_local_where_the_edit_is():
    src = texture(72, 128, 6)
    edit = src.copy()
    edit[:, 64:] = 1.0 - edit[:, 64:]  # the right half inverted
    model = solve_guide(guide_stats(src, edit, cells=6))
    other = texture(72, 128, 7)
    out = apply_guide(model, other)
    # away from the edit's edge (a cell and a half: the grid's resolution) each side has its own map
    assert psnr(out[:, :48], other[:, :48]) > 25 and psnr(out[:, 80:], 1 - other[:, 80:]) > 25
    assert psnr(out[:, :48], 1 - other[:, :48]) < 18  # (the texture is mid-grey: its inverse is close)


def test_guide_statistics_add_scale_and_pool():
    src = texture(36, 64, 8)
    a = guide_stats(src, src, cells=4, bins=3)
    assert isinstance(a, GuideStats) and a.grid == (2, 4, 3)
    assert a.weight == pytest.approx(36 * 64)
    assert (a + a).weight == pytest.approx(2 * a.weight) and a.scaled(0.5).weight == pytest.approx(a.weight / 2)
    pooled = a.pooled()
    assert pooled.weight == pytest.approx(a.weight)
    np.testing.assert_allclose(pooled.xx[0, 0], pooled.xx[1, 3])
    w = np.zeros((36, 64), np.float32)
    assert guide_stats(src, src, w, cells=4, bins=3).weight == 0
    # no data at all: the identity
    m = solve_guide(guide_stats(src, src, w, cells=4, bins=3))
    np.testing.assert_allclose(apply_guide(m, src), src, atol=1e-5)
    m0, m1 = solve_guide(a), solve_guide(guide_stats(src, 1 - src, cells=4, bins=3))
    np.testing.assert_allclose(blend_guides(m0, m1, 0.5).coeffs, (m0.coeffs + m1.coeffs) / 2, atol=1e-6)
    with pytest.raises(InvalidInput, match="`other`"):
        a + guide_stats(src, src, cells=2, bins=3)


def test_exception_messages_name_the_argument():
    src = np.zeros((8, 8, 3), np.float32)
    with pytest.raises(InvalidInput, match="`target`"):
        guide_stats(src, src[:4])
    with pytest.raises(InvalidInput, match="`bins`"):
        guide_stats(src, src, bins=1)
    with pytest.raises(InvalidInput, match="`flow`"):
        chain_coords(identity_coords(8, 8), np.zeros((4, 8, 2), np.float32))
    with pytest.raises(InvalidInput, match="`preset`"):
        CorrespondenceRefiner("slow")
    with pytest.raises(InvalidInput, match="`mask`"):
        apply_guide(solve_guide(guide_stats(src, src)), src, np.zeros((4, 4), bool))
