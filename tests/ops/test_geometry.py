"""ops.geometry: homography and pinhole-rotation helpers against values worked out by hand."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from reworld.errors import InvalidInput
from reworld.ops import geometry as geo

W, H = 640, 360


def random_homography(rng: np.random.Generator) -> np.ndarray:
    h = np.eye(3) + rng.normal(0, 0.02, (3, 3))
    h[2, :2] = rng.normal(0, 1e-4, 2)
    h[:2, 2] = rng.normal(0, 10, 2)
    return h / h[2, 2]


# -- validation ---------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [np.eye(2), np.full((3, 3), np.nan)])
def test_exception_bad_homography(bad):
    with pytest.raises(InvalidInput, match="`h`"):
        geo.normalize_homography(bad)


def test_exception_bad_arguments():
    with pytest.raises(InvalidInput, match="`focal`"):
        geo.intrinsics(W, H, 0.0)
    with pytest.raises(InvalidInput, match="`sx, sy`"):
        geo.change_grid(np.eye(3), 0.0, 1.0)
    with pytest.raises(InvalidInput, match="`src, dst`"):
        geo.homography_from_points(np.zeros((3, 2)), np.zeros((3, 2)))
    with pytest.raises(InvalidInput, match="`max_points`"):
        geo.detect_features(np.zeros((32, 32), np.uint8), max_points=2)
    with pytest.raises(InvalidInput, match="`prev, cur`"):
        geo.track_points(np.zeros((32, 32), np.uint8), np.zeros((32, 31), np.uint8), np.zeros((1, 2)))


# -- rotations ----------------------------------------------------------------------------------
@pytest.mark.parametrize("angles", [(0.1, -0.05, 0.02), (-1.0, 0.7, 2.5), (0.0, 0.0, 0.0)])
def test_unit_euler_round_trip(angles):
    r = geo.rotation_matrix(*angles)
    assert np.allclose(r @ r.T, np.eye(3)) and np.isclose(np.linalg.det(r), 1.0)
    assert np.allclose(geo.euler_from_rotation(r), angles)


def test_unit_rotation_signs():
    # yaw right: the moved camera's forward ray points to +x in the reference camera
    assert geo.rotation_matrix(0.1, 0, 0)[0, 2] > 0
    # pitch up: forward ray points to -y (image y is down)
    assert (geo.rotation_matrix(0, 0.1, 0) @ [0, 0, 1])[1] < 0
    # yaw right: the picture slides left, so the reference-frame point of the centre is right of it
    k = geo.intrinsics(W, H, 768.0)
    h = geo.homography_from_rotation(geo.rotation_matrix(math.radians(2), 0, 0), k)
    centre = np.array([[(W - 1) / 2, (H - 1) / 2]])
    assert geo.transform_points(h, centre)[0, 0] == pytest.approx((W - 1) / 2 + 768 * math.tan(math.radians(2)))


def test_unit_rotation_from_homography_and_model_residual():
    k = geo.intrinsics(W, H, 768.0)
    r = geo.rotation_matrix(0.03, -0.02, 0.05)
    got, res = geo.rotation_from_homography(3.0 * geo.homography_from_rotation(r, k), k)  # any scale
    assert np.allclose(got, r, atol=1e-12) and res < 1e-9
    zoom = np.diag([1.1, 1.1, 1.0])  # not a rotation: the residual says so
    assert geo.rotation_from_homography(k @ zoom @ np.linalg.inv(k), k)[1] > 0.05


def test_unit_nearest_rotation_fixes_a_reflection():
    r = geo.nearest_rotation(np.diag([1.0, 1.0, -1.0]) + 1e-3)
    assert np.isclose(np.linalg.det(r), 1.0)


# -- homographies -------------------------------------------------------------------------------
def test_unit_transform_and_corner_rms():
    h = np.array([[1, 0, 3], [0, 1, 4], [0, 0, 1.0]])
    assert geo.transform_points(h, geo.frame_corners(W, H)).tolist()[0] == [3.0, 4.0]
    assert geo.corner_rms(h, np.eye(3), W, H) == pytest.approx(5.0)


def test_unit_homography_from_points_matches_opencv():
    rng = np.random.default_rng(0)  # fixed seed
    h = random_homography(rng)
    c = geo.frame_corners(W, H)
    got = geo.homography_from_points(c, geo.transform_points(h, c))
    assert np.allclose(got, h, atol=1e-9)
    cv = cv2.getPerspectiveTransform(c.astype(np.float32), geo.transform_points(h, c).astype(np.float32))
    assert np.allclose(got, cv, atol=1e-4)


def test_unit_change_grid_matches_a_real_resize():
    """A homography measured on full frames, moved to the half-size grid, maps resized pixels."""
    rng = np.random.default_rng(1)  # fixed seed
    h = random_homography(rng)
    sx, sy = 0.8, 0.8
    small = geo.change_grid(h, sx, sy)
    pts = rng.uniform(0, 600, (20, 2))

    def to_small(p):  # cv2.resize's pixel-centre mapping
        return sx * (p + 0.5) - 0.5

    assert np.allclose(geo.transform_points(small, to_small(pts)), to_small(geo.transform_points(h, pts)))
    assert np.allclose(geo.change_grid(small, 1 / sx, 1 / sy), h)


def test_unit_similarity_motion():
    ang, s = math.radians(5), 1.1
    c = np.array([(W - 1) / 2, (H - 1) / 2])
    rot = np.array([[s * math.cos(ang), -s * math.sin(ang)], [s * math.sin(ang), s * math.cos(ang)]])
    h = np.eye(3)
    h[:2, :2] = rot
    h[:2, 2] = c - rot @ c + [4.0, -2.0]  # about the centre, then moved (4, -2)
    dx, dy, a, sc = geo.similarity_motion(h, W, H)
    assert (dx, dy) == pytest.approx((4.0, -2.0)) and a == pytest.approx(ang) and sc == pytest.approx(s)


# -- correspondences ----------------------------------------------------------------------------
def test_unit_track_and_fit_recover_a_shift_with_outliers():
    rng = np.random.default_rng(2)  # fixed seed: random texture
    tex = cv2.GaussianBlur(rng.integers(0, 256, (300, 400), dtype=np.uint8), (0, 0), 2)
    a, b = tex[20:260, 20:340].copy(), tex[17:257, 25:345].copy()  # content moves (-5, +3)
    b[100:160, 100:180] = rng.integers(0, 256, (60, 80), dtype=np.uint8)  # an independent blob
    src, dst = geo.track_features(a, b, max_points=300)
    assert len(src) > 50
    h, inliers = geo.fit_homography(src, dst)
    assert np.allclose(h, [[1, 0, -5], [0, 1, 3], [0, 0, 1]], atol=0.02)
    sim, _ = geo.fit_similarity(src[inliers], dst[inliers])
    assert geo.similarity_motion(sim, 320, 240)[:2] == pytest.approx((-5.0, 3.0), abs=0.05)
    assert geo.fit_homography(src[:3], dst[:3]) is None


def test_unit_track_points_uses_the_guess():
    rng = np.random.default_rng(3)  # fixed seed
    tex = cv2.GaussianBlur(rng.integers(0, 256, (300, 500), dtype=np.uint8), (0, 0), 2)
    a, b = tex[30:270, 0:320].copy(), tex[30:270, 60:380].copy()  # a 60 px jump
    pts = geo.detect_features(a, max_points=100)
    pts = pts[pts[:, 0] > 80]
    nxt, ok = geo.track_points(a, b, pts, guess=pts - [60, 0])
    assert ok.mean() > 0.9 and np.allclose(nxt[ok] - pts[ok], [-60, 0], atol=0.05)
