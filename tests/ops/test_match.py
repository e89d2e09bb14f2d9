"""reworld.ops.match: colour statistics transfer (kornia-style test names)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from reworld.errors import InvalidInput
from reworld.ops.color import GradeParams, grade
from reworld.ops.match import (
    WHITE_XYZ,
    ColorMatch,
    ColorStats,
    color_match,
    color_stats,
    lab_to_srgb,
    srgb_to_lab,
    transfer_stats,
)

LEVEL = 1.0 / 255.0


def _rand(shape, seed=0):
    return np.random.default_rng(seed).random(shape).astype(np.float32)  # local seeded generator


def _tinted(shape, rgb, seed=0):
    """Random image pulled towards a colour (a 'reddish' or 'bluish' look)."""
    return (0.4 * _rand(shape, seed) + 0.6 * np.asarray(rgb, np.float32)).astype(np.float32)


def test_smoke():
    img = _rand((8, 8, 3))
    stats = color_stats(img)
    assert isinstance(stats, ColorStats) and len(stats.mean) == 3 and len(stats.std) == 3
    out = transfer_stats(img, stats, stats)
    assert out.dtype == np.float32 and out.shape == img.shape


@pytest.mark.parametrize("shape", [(1, 1, 3), (3,), (5, 3), (2, 3, 4, 3), (20_001, 3)])
def test_cardinality(shape):
    img = _rand(shape)
    stats = color_stats(img)
    target = ColorStats((60.0, 10.0, -5.0), (20.0, 10.0, 10.0))
    assert transfer_stats(img, stats, target).shape == shape
    assert srgb_to_lab(img).shape == shape


def test_exception():
    img = _rand((4, 4, 3))
    stats = color_stats(img)
    with pytest.raises(InvalidInput) as info:
        color_stats(np.zeros((4, 4), np.float32))
    assert info.value.arg == "image"
    with pytest.raises(InvalidInput) as info:
        color_stats(img, mask=np.ones((4, 5), bool))
    assert info.value.arg == "mask"
    with pytest.raises(InvalidInput, match="at least one pixel"):
        color_stats(img, mask=np.zeros((4, 4), bool))
    with pytest.raises(InvalidInput) as info:
        color_stats(np.zeros((0, 3), np.float32))
    assert info.value.arg == "image"
    with pytest.raises(InvalidInput) as info:
        color_stats(img, max_pixels=0)
    assert info.value.arg == "max_pixels"
    with pytest.raises(InvalidInput) as info:
        transfer_stats(img, stats, stats, strength=1.5)
    assert info.value.arg == "strength"
    with pytest.raises(InvalidInput) as info:
        transfer_stats(img, {"mean": (0, 0, 0)}, stats)
    assert info.value.arg == "source"
    with pytest.raises(InvalidInput, match="image"):
        transfer_stats(img * 2.0, stats, stats)
    with pytest.raises(InvalidInput, match="stats.std"):
        ColorStats((50.0, 0.0, 0.0), (1.0, -1.0, 1.0))
    with pytest.raises(InvalidInput, match="stats.mean"):
        ColorStats((50.0, 0.0), (1.0, 1.0, 1.0))
    with pytest.raises(InvalidInput, match="stats.mean"):
        ColorStats((np.nan, 0.0, 0.0), (1.0, 1.0, 1.0))
    with pytest.raises(InvalidInput, match="match.target"):
        ColorMatch(stats, "reference.jpg")


def test_unit_lab_matches_colour_science():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import colour
    x = np.concatenate([_rand((50_000, 3)), np.eye(3, dtype=np.float32), np.zeros((1, 3), np.float32)])
    xyz = colour.RGB_to_XYZ(x.astype(np.float64), "sRGB", apply_cctf_decoding=True)
    ref = colour.XYZ_to_Lab(xyz, colour.XYZ_to_xy(WHITE_XYZ))
    assert np.abs(srgb_to_lab(x) - ref).max() < 2e-3  # float32 kernels, Lab units (0..100)
    assert np.abs(lab_to_srgb(srgb_to_lab(x)) - x).max() < 1e-4
    np.testing.assert_allclose(srgb_to_lab(np.ones((1, 3), np.float32)), [[100.0, 0.0, 0.0]], atol=1e-4)
    grey = srgb_to_lab(np.full((1, 3), 0.5, np.float32))
    assert abs(grey[0, 1]) < 1e-4 and abs(grey[0, 2]) < 1e-4


def test_unit_self_transfer_is_noop():
    img = _rand((64, 64, 3))
    stats = color_stats(img)
    assert np.abs(transfer_stats(img, stats, stats) - img).max() < LEVEL
    assert np.abs(transfer_stats(img, stats, color_stats(img * 0.5), strength=0.0) - img).max() < LEVEL


def test_unit_moves_towards_target():
    reddish = _tinted((64, 64, 3), (0.8, 0.3, 0.2), seed=1)
    bluish = _tinted((48, 48, 3), (0.2, 0.35, 0.8), seed=2)
    match = color_match(reddish, bluish)
    out = transfer_stats(reddish, match.source, match.target)
    before, after, goal = reddish.mean((0, 1)), out.mean((0, 1)), bluish.mean((0, 1))
    assert np.linalg.norm(after - goal) < 0.25 * np.linalg.norm(before - goal)
    assert after[2] > before[2] and after[0] < before[0]
    moved = color_stats(out)
    np.testing.assert_allclose(moved.mean, match.target.mean, atol=3.0)  # Lab units; gamut clipping
    half = transfer_stats(reddish, match.source, match.target, strength=0.5).mean((0, 1))
    assert np.linalg.norm(half - goal) < np.linalg.norm(before - goal)
    assert np.linalg.norm(half - goal) > np.linalg.norm(after - goal)


def test_unit_mask_and_sampling():
    red = np.tile(np.array([0.8, 0.1, 0.1], np.float32), (10, 20, 1))
    img = np.concatenate([red, _rand((10, 20, 3))], axis=0)
    mask = np.zeros((20, 20), bool)
    mask[:10] = True
    masked = color_stats(img, mask=mask)
    np.testing.assert_allclose(masked.mean, color_stats(red).mean, atol=1e-3)
    np.testing.assert_allclose(masked.std, 0.0, atol=1e-3)
    weights = mask.astype(np.float32) * 0.5
    np.testing.assert_allclose(color_stats(img, mask=weights).mean, masked.mean, atol=1e-4)
    clip = _rand((4, 64, 64, 3), seed=3)
    full, sampled = color_stats(clip), color_stats(clip, max_pixels=5000)
    assert sampled == color_stats(clip, max_pixels=5000)  # deterministic
    np.testing.assert_allclose(sampled.mean, full.mean, atol=1.0)


def test_unit_temporal_stability_and_grade():
    frames = _rand((3, 16, 16, 3), seed=4)
    frames[0, 1, 1] = frames[2, 15, 7] = (0.3, 0.5, 0.7)
    match = ColorMatch(color_stats(frames), ColorStats((55.0, 5.0, 20.0), (15.0, 8.0, 12.0)))
    out = transfer_stats(frames, match.source, match.target)
    np.testing.assert_array_equal(out[0, 1, 1], out[2, 15, 7])
    np.testing.assert_array_equal(transfer_stats(frames[2:], match.source, match.target)[0], out[2])
    via_grade = grade(frames, GradeParams(match=match, match_strength=0.7))
    direct = transfer_stats(frames, match.source, match.target, strength=0.7)
    assert np.abs(via_grade - direct).max() < 1e-6
