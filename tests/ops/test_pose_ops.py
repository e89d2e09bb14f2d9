"""Pose ops: skeleton constants, zero-lag One-Euro smoothing, honest gap filling, matching, measures."""

from __future__ import annotations

import numpy as np
import pytest

from reworld.errors import InvalidInput
from reworld.ops.pose import (
    BODY_BONES,
    HAND_BONES,
    HAND_LANDMARKS,
    POSE_BONES,
    POSE_LANDMARKS,
    POSE_MIRROR,
    assign,
    bone_cv,
    bone_lengths,
    box_iou,
    colour_histogram,
    crop_matrix,
    fill_gaps,
    hist_distance,
    jitter,
    lag_frames,
    one_euro,
    points_box,
    runs,
    smooth_zero_lag,
)


def test_skeleton_constants_are_consistent():
    assert len(POSE_LANDMARKS) == 33 and len(set(POSE_LANDMARKS)) == 33
    assert len(HAND_LANDMARKS) == 21 and len(set(HAND_LANDMARKS)) == 21
    for bones, n in ((POSE_BONES, 33), (BODY_BONES, 33), (HAND_BONES, 21)):
        assert all(0 <= a < n and 0 <= b < n and a != b for a, b in bones)
        assert len(set(bones)) == len(bones)
    assert len(POSE_BONES) == 35 and len(HAND_BONES) == 21  # MediaPipe's connection lists
    assert set(BODY_BONES) <= set(POSE_BONES)
    # the mirror map is an involution that swaps left_* and right_* names
    for i, j in enumerate(POSE_MIRROR):
        assert POSE_MIRROR[j] == i
        name = POSE_LANDMARKS[i]
        if "left" in name:
            assert POSE_LANDMARKS[j] == name.replace("left", "right")
        elif "right" in name:
            assert POSE_LANDMARKS[j] == name.replace("right", "left")
        else:
            assert i == j


def test_runs():
    assert runs(np.array([], bool)) == []
    assert runs(np.array([1, 1, 0, 0, 1, 0, 1, 1], bool)) == [(0, 2), (4, 5), (6, 8)]


def test_fill_gaps_only_where_honest():
    x = np.array([0.0, np.nan, 2.0, np.nan, np.nan, np.nan, 6.0, np.nan])
    out, filled = fill_gaps(x, max_gap=2)
    # a 1-frame gap is filled, a 3-frame gap is too long, the end is never extrapolated
    assert out[1] == pytest.approx(1.0) and filled.tolist() == [0, 1, 0, 0, 0, 0, 0, 0]
    assert np.isnan(out[3:6]).all() and np.isnan(out[7])
    out, filled = fill_gaps(x, max_gap=3)
    np.testing.assert_allclose(out[:7], np.arange(7.0))
    assert filled.sum() == 4
    # an unconfident end anchors nothing
    conf = np.ones(8, bool)
    conf[6] = False
    out, filled = fill_gaps(x, max_gap=3, confident=conf)
    assert np.isnan(out[3:6]).all() and filled.sum() == 1
    # the start is never extrapolated either
    out, filled = fill_gaps(np.array([np.nan, 1.0, 2.0]), max_gap=5)
    assert np.isnan(out[0]) and not filled[0]
    # multi-dimensional frames, and the input is not modified
    y = np.arange(12.0).reshape(4, 3)
    y[1:3] = np.nan
    keep = y.copy()
    out, filled = fill_gaps(y, max_gap=2)
    np.testing.assert_allclose(out, np.arange(12.0).reshape(4, 3))
    np.testing.assert_array_equal(np.isnan(y), np.isnan(keep))
    with pytest.raises(InvalidInput, match="max_gap"):
        fill_gaps(x, max_gap=-1)
    with pytest.raises(InvalidInput, match="present"):
        fill_gaps(x, np.ones(3, bool))


def test_one_euro_smooths_still_noise_and_respects_gaps():
    rng = np.random.default_rng(0)  # fixed seed: reproducible noise
    x = 100.0 + rng.normal(0, 2.0, (200, 4, 2))
    s = one_euro(x, 1 / 25, min_cutoff=1.0, beta=0.0)
    assert s.std(axis=0).mean() < 0.5 * x.std(axis=0).mean()
    z = smooth_zero_lag(x, 1 / 25, min_cutoff=1.0, beta=0.0)
    assert jitter(z) < 0.2 * jitter(x)
    # a constant is left alone; NaN frames split runs and stay NaN
    c = np.full((10, 2), 3.0)
    c[4] = np.nan
    out = one_euro(c, 0.04)
    assert np.isnan(out[4]).all() and np.allclose(out[[0, 1, 2, 3, 5, 6, 7, 8, 9]], 3.0)
    for bad in ({"dt": 0}, {"min_cutoff": -1}, {"beta": -1}, {"d_cutoff": float("nan")}):
        kw = {"dt": 0.04, **bad}
        with pytest.raises(InvalidInput, match=next(iter(bad))):
            one_euro(c, kw.pop("dt"), **kw)
    with pytest.raises(InvalidInput, match="scale"):
        one_euro(c, 0.04, scale=np.ones(3))


def test_forward_one_euro_lags_and_zero_lag_does_not():
    """A fast sine: the causal filter trails it, the forward-backward mean does not."""
    t = np.arange(120)
    x = np.stack([60 * np.sin(2 * np.pi * t / 40), 0 * t], 1).astype(np.float64)
    fwd = one_euro(x, 1 / 25, min_cutoff=0.5, beta=0.0)
    zl = smooth_zero_lag(x, 1 / 25, min_cutoff=0.5, beta=0.0)
    assert lag_frames(x, fwd) >= 2
    assert lag_frames(x, zl) == 0
    # beta raises the cut-off on fast moves: less lag for the causal filter too
    fast = one_euro(x, 1 / 25, min_cutoff=0.5, beta=1.0, scale=np.full(120, 60.0))
    assert lag_frames(x, fast) < lag_frames(x, fwd)


def test_lag_frames_sign_and_shape():
    t = np.arange(80)
    ref = np.sin(t / 4.0)
    assert lag_frames(ref, np.sin((t - 3) / 4.0)) == 3
    assert lag_frames(ref, np.sin((t + 2) / 4.0)) == -2
    with pytest.raises(InvalidInput, match="signal"):
        lag_frames(ref, ref[:10])


def test_jitter_known_values():
    x = np.zeros((5, 1, 2))
    x[2, 0, 0] = 1.0  # one spike: second differences 1, 2, 1 along x
    assert jitter(x) == pytest.approx(4 / 3)
    valid = np.ones((5, 1), bool)
    valid[2] = False
    assert np.isnan(jitter(x, valid))
    assert jitter(x, scale=np.full(5, 2.0)) == pytest.approx(2 / 3)
    assert jitter(np.arange(10.0)[:, None]) == 0.0  # a ramp has no jitter
    assert np.isnan(jitter(np.zeros((2, 3))))


def test_bone_lengths_and_cv():
    rng = np.random.default_rng(1)  # fixed seed: a random rigid skeleton
    base = rng.normal(0, 0.3, (33, 3))
    frames = []
    for a in np.linspace(0, 2, 20):  # rotate and move it rigidly: bone lengths do not change
        c, s = np.cos(a), np.sin(a)
        R = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
        frames.append(base @ R.T + [a, 0, 0])
    frames = np.stack(frames)
    L = bone_lengths(frames)
    assert L.shape == (20, len(BODY_BONES))
    assert bone_cv(frames) < 1e-9
    # a skeleton that breathes by +-10 % has a CV of about 7 %
    scaled = frames * (1 + 0.1 * np.sin(np.arange(20) / 3.0))[:, None, None]
    assert 0.04 < bone_cv(scaled) < 0.1
    # invalid points are not measured
    valid = np.ones((20, 33), bool)
    valid[:, :] = False
    assert np.isnan(bone_cv(scaled, valid=valid))
    with pytest.raises(InvalidInput, match="points"):
        bone_lengths(np.zeros((5, 10, 3)))


def test_boxes_and_assignment():
    pts = np.array([[0, 0, 1], [10, 20, 1], [np.nan, 5, 1], [100, 100, 0.1]], np.float64)
    np.testing.assert_allclose(points_box(pts, pts[:, 2] > 0.5), [0, 0, 10, 20])
    np.testing.assert_allclose(points_box(pts[:2], margin=0.1), [-1, -2, 11, 22])
    assert np.isnan(points_box(pts[:0])).all()
    iou = box_iou(np.array([[0, 0, 10, 10], [np.nan] * 4]), np.array([[5, 0, 15, 10], [0, 0, 10, 10]]))
    np.testing.assert_allclose(iou, [[1 / 3, 1.0], [0.0, 0.0]])
    # Hungarian picks the cheapest total, not the greedy first choice; gated pairs are dropped
    cost = np.array([[1.0, 2.0], [1.1, 10.0]])
    assert sorted(assign(cost)) == [(0, 1), (1, 0)]
    assert assign(cost, max_cost=1.5) == [(0, 0)]  # the other pairing needs a forbidden pair
    assert assign(np.array([[np.inf, 0.2, 0.1]])) == [(0, 2)]
    assert assign(np.zeros((0, 3))) == []
    with pytest.raises(InvalidInput, match="cost"):
        assign(np.zeros(3))


def test_colour_histogram_tells_clothes_apart():
    red = np.zeros((40, 40, 3), np.uint8)
    red[..., 0] = 200
    blue = np.zeros((40, 40, 3), np.uint8)
    blue[..., 2] = 200
    img = np.concatenate([red, blue], 1)
    a = colour_histogram(img, np.array([0, 0, 40, 40]))
    b = colour_histogram(img, np.array([40, 0, 80, 40]))
    a2 = colour_histogram(img, np.array([5, 5, 30, 30]))
    assert a.sum() == pytest.approx(1.0)
    assert hist_distance(a, a2) < 0.05 and hist_distance(a, b) > 0.9
    assert colour_histogram(img, np.array([np.nan] * 4)).sum() == 0
    assert colour_histogram(img, np.array([200, 200, 300, 300])).sum() == 0
    assert hist_distance(a, np.zeros_like(a)) == 1.0


def test_crop_matrix_maps_points_exactly():
    import cv2

    img = np.zeros((100, 200, 3), np.uint8)
    img[40, 150] = 255  # a dot at (x=150, y=40)
    m = crop_matrix((140.0, 50.0), 40.0, 160)  # 40 px square around (140, 50) -> 160 px
    crop = cv2.warpAffine(img, m, (160, 160), flags=cv2.INTER_LINEAR)
    v, u = np.unravel_index(int(crop[..., 0].argmax()), crop.shape[:2])
    back = cv2.invertAffineTransform(m) @ np.array([u, v, 1.0])
    assert abs(back[0] - 150) <= 0.25 and abs(back[1] - 40) <= 0.25
    # MediaPipe's normalised crop coordinate (u + 0.5) / size maps to centre + (n - 0.5) * side
    n = (u + 0.5) / 160
    assert abs(140 + (n - 0.5) * 40 - 150) <= 0.25
    with pytest.raises(InvalidInput, match="side"):
        crop_matrix((0, 0), 0.0, 10)
