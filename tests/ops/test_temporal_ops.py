"""reworld.ops.temporal: warp error (Lai et al. 2018), flow-guided temporal filter, blending.

Ground truth is exact: a random texture translated by a known integer shift, so the backward
flow, the disoccluded strip and the warp error (0, or the added noise's variance) are known.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from reworld.errors import InvalidInput
from reworld.ops.temporal import (
    WarpErrorMeter,
    bidirectional_blend,
    confidence_from_flow,
    disocclusion,
    feather,
    fit_flow,
    temporal_filter,
    warp_error,
)

H, W = 48, 64
SHIFT = (3, 2)  # content moves 3 px right, 2 px down per frame


def shifted_clip(n: int, seed: int = 0) -> np.ndarray:
    """(n, H, W, 3) float32: a random texture moving by SHIFT per frame (new content enters)."""
    rng = np.random.default_rng(seed)  # fixed seed: deterministic clip
    big = rng.random((H + n * SHIFT[1] + 4, W + n * SHIFT[0] + 4, 3)).astype(np.float32)
    out = []
    for t in range(n):
        y0, x0 = n * SHIFT[1] - t * SHIFT[1], n * SHIFT[0] - t * SHIFT[0]
        out.append(big[y0:y0 + H, x0:x0 + W])
    return np.stack(out)


def shift_flows() -> tuple[np.ndarray, np.ndarray]:
    fwd = np.zeros((H, W, 2), np.float32)
    fwd[..., 0], fwd[..., 1] = SHIFT
    return fwd, -fwd


def test_warp_error_is_zero_with_the_exact_flow():
    clip = shifted_clip(4)
    fwd, bwd = shift_flows()
    occ = disocclusion(fwd, bwd)
    # the strip entering at the left/top is exactly what the shift reveals
    assert occ[:, :SHIFT[0]].all() and occ[:SHIFT[1], :].all() and not occ[SHIFT[1]:, SHIFT[0]:].any()
    for t in range(1, 4):
        assert warp_error(clip[t - 1], clip[t], bwd, occ) == pytest.approx(0.0, abs=1e-12)
    # without the mask, the revealed strip counts and the error is not zero
    assert warp_error(clip[0], clip[1], bwd, None) > 0.01


def test_added_noise_raises_the_error_by_its_variance():
    clip = shifted_clip(6)
    fwd, bwd = shift_flows()
    occ = disocclusion(fwd, bwd)
    rng = np.random.default_rng(1)  # fixed seed: the noise realisation
    sigma = 0.02
    noisy = np.clip(clip + rng.normal(0, sigma, clip.shape).astype(np.float32), 0, 1)
    meter = WarpErrorMeter()
    for t in range(1, len(clip)):
        meter.update(noisy[t - 1], noisy[t], bwd, occ)
    # two independent noises per pixel and channel, summed over 3 channels: 3 * 2 sigma^2
    assert meter.count == 5 and meter.value == pytest.approx(6 * sigma ** 2, rel=0.1)
    clean = WarpErrorMeter()
    for t in range(1, len(clip)):
        clean.update(clip[t - 1], clip[t], bwd, occ)
    assert clean.value < 1e-10 and math.isnan(meter.ratio(clean))  # no reference error: no ratio


def test_meter_streams_the_mean_of_pairs_and_measures_at_a_size():
    clip = (shifted_clip(5) * 255).round().astype(np.uint8)
    fwd, bwd = shift_flows()
    occ = disocclusion(fwd, bwd)
    rng = np.random.default_rng(2)  # fixed seed
    out = np.clip(clip.astype(np.int16) + rng.integers(-6, 7, clip.shape), 0, 255).astype(np.uint8)
    m = WarpErrorMeter()
    singles = [m.update(out[t - 1], out[t], bwd, occ) for t in range(1, 5)]
    assert m.value == pytest.approx(np.mean(singles))
    # flow and mask stored at half size are resized to the frames
    half = fit_flow(bwd, (H // 2, W // 2))
    assert half[0, 0].tolist() == [-1.5, -1.0]
    m2 = WarpErrorMeter()
    m2.update(clip[0], clip[1], half, occ[::2, ::2])
    assert m2.value < 2e-3  # bilinear resize of an exact integer flow: still (almost) exact
    small = WarpErrorMeter(size=(H // 2, W // 2))  # frames area-resized to the flow's grid
    small.update(out[0], out[1], half, occ[::2, ::2])
    assert small.count == 1 and math.isfinite(small.value)
    assert WarpErrorMeter().ratio(m) != WarpErrorMeter().ratio(m)  # NaN before any pair


def test_all_occluded_pair_is_skipped():
    a = np.zeros((4, 4, 3), np.float32)
    m = WarpErrorMeter()
    assert math.isnan(m.update(a, a, np.zeros((4, 4, 2), np.float32), np.ones((4, 4), bool)))
    assert m.count == 0 and m.skipped == 1 and math.isnan(m.value)


def test_temporal_filter_blends_along_the_flow():
    clip = shifted_clip(2)
    fwd, bwd = shift_flows()
    prev, cur = clip[0] * 0.8, clip[1] * 0.8
    flicker = cur + 0.1
    out = temporal_filter(flicker, prev, bwd, strength=0.5)
    inner = (slice(SHIFT[1] + 1, None), slice(SHIFT[0] + 1, None))
    # the warped previous frame is cur: half the flicker is removed where the flow is valid
    np.testing.assert_allclose(out[inner], (cur + 0.05)[inner], atol=1e-5)
    np.testing.assert_array_equal(temporal_filter(flicker, prev, bwd, strength=0.0), flicker)
    conf = confidence_from_flow(fwd, bwd)
    assert conf[:, :SHIFT[0]].max() == 0 and conf[inner].min() == 1
    gated = temporal_filter(flicker, prev, bwd, strength=0.5, confidence=conf)
    np.testing.assert_allclose(gated[:, :SHIFT[0]], flicker[:, :SHIFT[0]])  # occluded: untouched
    # a change far above the tolerance is real content: kept
    np.testing.assert_allclose(temporal_filter(flicker, prev, bwd, strength=0.5, tolerance=0.01)[inner],
                               flicker[inner], atol=1e-4)


def test_temporal_filter_uint8_matches_float():
    clip = shifted_clip(2)
    _fwd, bwd = shift_flows()
    u8 = (clip * 255).round().astype(np.uint8)
    flick = np.clip(u8[1].astype(np.int16) + 20, 0, 255).astype(np.uint8)
    a = temporal_filter(flick, u8[0], bwd, strength=0.4, tolerance=0.5)
    b = temporal_filter(flick.astype(np.float32) / 255, u8[0].astype(np.float32) / 255, bwd, strength=0.4, tolerance=0.5)
    assert a.dtype == np.uint8 and b.dtype == np.float32
    assert np.abs(a.astype(np.float32) - b * 255).max() <= 1.01


def test_feather_stays_inside_the_mask():
    m = np.zeros((40, 40), bool)
    m[10:30, 10:30] = True
    f = feather(m, 3)
    assert f.dtype == np.float32 and f[~m].max() == 0
    assert f[16:24, 16:24].min() > 0.97 and 0 < f[10, 20] < 0.2
    np.testing.assert_array_equal(feather(m, 0), m.astype(np.float32))


def test_bidirectional_blend_weights_distance_and_validity():
    P, N = np.zeros((1, 4, 3), np.float32), np.ones((1, 4, 3), np.float32)
    F = np.full((1, 4, 3), 0.5, np.float32)
    vp = np.array([[1, 1, 0, 0]], np.float32)
    vn = np.array([[1, 0, 1, 0]], np.float32)
    out = bidirectional_blend(P, vp, N, vn, 0.25, fill=F)[0, :, 0].tolist()
    # both see it: 25 % of the way to the next; one sees it: that one; neither: the fill
    assert out == pytest.approx([0.25, 0.0, 1.0, 0.5])
    one = bidirectional_blend(P, vp, None, None, 0.7, fill=F)[0, :, 0].tolist()
    assert one == pytest.approx([0.0, 0.0, 0.5, 0.5])


def test_exception_messages_name_the_argument():
    a = np.zeros((8, 8, 3), np.float32)
    f = np.zeros((8, 8, 2), np.float32)
    with pytest.raises(InvalidInput, match="`cur`"):
        warp_error(a, a[:4], f)
    with pytest.raises(InvalidInput, match="`backward_flow`"):
        warp_error(a, a, np.zeros((8, 8)))
    with pytest.raises(InvalidInput, match="`strength`"):
        temporal_filter(a, a, f, strength=1.0)
    with pytest.raises(InvalidInput, match="`size`"):
        WarpErrorMeter(size=(0, 4))
    with pytest.raises(InvalidInput, match="`position`"):
        bidirectional_blend(a, a[..., 0], None, None, 1.5)
    with pytest.raises(InvalidInput, match="`radius`"):
        feather(np.zeros((4, 4), bool), -1)
