"""ops.quality: sharpness, noise, exposure and global motion on frames with known truth."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from conftest import media
from reworld.errors import InvalidInput
from reworld.ops.quality import (
    GlobalMotion,
    exposure_stats,
    global_motion,
    motion_luma,
    noise_sigma,
    sharpness,
    to_luma,
)


def textured(h: int, w: int, seed: int = 7) -> np.ndarray:
    """(h, w, 3) uint8: fine random texture over coarse blobs (corners everywhere)."""
    rng = np.random.default_rng(seed)  # fixed seed: deterministic texture
    fine = cv2.GaussianBlur(rng.random((h, w)).astype(np.float32), (0, 0), 1.2)
    fine = (fine - fine.min()) / (fine.max() - fine.min())
    coarse = cv2.resize(rng.random((max(2, h // 16), max(2, w // 16))).astype(np.float32), (w, h),
                        interpolation=cv2.INTER_CUBIC)
    luma = 40 + 120 * fine + 60 * coarse
    return np.clip(np.stack([luma, 0.9 * luma + 10, 0.8 * luma + 15], -1), 0, 255).round().astype(np.uint8)


def gradient(h: int = 240, w: int = 320) -> np.ndarray:
    """(h, w, 3) float64 smooth diagonal ramp within 40..215 (no clipping when noise is added)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    luma = 40 + 120 * xx / w + 55 * yy / h
    return np.stack([luma, luma, luma], -1)


def add_noise(img: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    """The same Gaussian noise on all three channels (so luma noise has std ``sigma``)."""
    rng = np.random.default_rng(seed)  # fixed seed per test
    n = rng.normal(0.0, sigma, img.shape[:2])[..., None]
    return np.clip(img.astype(np.float64) + n, 0, 255).round().astype(np.uint8)


# -- validation ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "bad",
    [np.zeros((20, 20, 3), np.float32), np.zeros((20, 20, 4), np.uint8), np.zeros((4, 20, 3), np.uint8),
     np.zeros((2, 20, 20, 3), np.uint8)],
)
def test_exception_bad_frames_name_the_argument(bad):
    with pytest.raises(InvalidInput, match="`frame`"):
        sharpness(bad)


def test_exception_not_an_array():
    with pytest.raises(InvalidInput, match="numpy array"):
        noise_sigma([[1, 2], [3, 4]])


def test_exception_motion_shape_mismatch():
    with pytest.raises(InvalidInput, match="`frame_b`"):
        global_motion(np.zeros((20, 20), np.uint8), np.zeros((20, 21), np.uint8))


def test_smoke_grey_and_rgb_agree():
    img = textured(60, 80)
    grey = to_luma(img)
    assert grey.shape == (60, 80) and grey.dtype == np.uint8
    assert sharpness(img) == pytest.approx(sharpness(grey))
    assert noise_sigma(img) == pytest.approx(noise_sigma(grey))


def test_inputs_are_not_modified():
    a = textured(120, 160)
    b = np.roll(a, 3, axis=1)
    a0, b0 = a.copy(), b.copy()
    sharpness(a), noise_sigma(a), exposure_stats(a), global_motion(a, b)
    assert np.array_equal(a, a0) and np.array_equal(b, b0)


# -- sharpness -----------------------------------------------------------------------------
def test_sharpness_drops_with_blur():
    sharp = textured(384, 512)  # the analysis size: no resampling
    values = [sharpness(cv2.GaussianBlur(sharp, (0, 0), s)) if s else sharpness(sharp) for s in (0, 1, 2, 3)]
    assert values == sorted(values, reverse=True)
    assert values[0] > 20 * values[3]
    assert sharpness(np.full((64, 64, 3), 90, np.uint8)) == 0.0


def test_sharpness_of_a_small_frame_is_judged_at_512_px():
    small = textured(120, 160)
    native = cv2.Laplacian(to_luma(small).astype(np.float32), cv2.CV_32F, ksize=1)[1:-1, 1:-1].var()
    assert sharpness(small) < 0.25 * native  # upsampled x3.2 before measuring: soft at 512 px


def test_sharpness_is_comparable_across_resolutions():
    big = textured(1536, 2048)
    half = cv2.resize(big, (1024, 768), interpolation=cv2.INTER_AREA)
    assert sharpness(half) == pytest.approx(sharpness(big), rel=0.05)


# -- noise ---------------------------------------------------------------------------------
@pytest.mark.parametrize("sigma", [2.0, 5.0, 10.0])
def test_noise_sigma_on_a_smooth_gradient(sigma):
    assert noise_sigma(add_noise(gradient(), sigma)) == pytest.approx(sigma, rel=0.2)


@pytest.mark.parametrize("sigma", [2.0, 5.0, 10.0])
def test_noise_sigma_on_synthetic_texture(sigma):
    img = textured(240, 320)
    base = noise_sigma(img)  # texture alone reads well under 1 level
    assert base < 1.0
    est = noise_sigma(add_noise(img, sigma))
    assert est == pytest.approx(np.hypot(sigma, base), rel=0.2)


@pytest.mark.media
@pytest.mark.parametrize("sigma", [2.0, 5.0, 10.0])
def test_noise_sigma_on_a_real_photo(sigma):
    bgr = cv2.imread(str(media("photos/portrait_astronaut_512.png")), cv2.IMREAD_COLOR)
    img = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    base = noise_sigma(img)  # the photo's own grain (~1.4 levels) adds in quadrature
    est = noise_sigma(add_noise(img, sigma))
    assert est == pytest.approx(np.hypot(sigma, base), rel=0.2)


def test_noise_sigma_of_clean_frame_is_small():
    assert noise_sigma(gradient().round().astype(np.uint8)) < 0.5


# -- exposure ------------------------------------------------------------------------------
def test_exposure_stats_known_values():
    luma = np.zeros((10, 10), np.uint8)
    luma[:2] = 255  # 20 % clipped high
    luma[2:3] = 3  # 10 % clipped low
    luma[3:] = 100
    s = exposure_stats(luma)
    assert s["clip_high"] == pytest.approx(0.2)
    assert s["clip_low"] == pytest.approx(0.1)
    assert s["mean"] == pytest.approx((20 * 255 + 10 * 3 + 70 * 100) / 100)
    assert (s["p1"], s["p50"], s["p99"]) == (3.0, 100.0, 255.0)


def test_exposure_stats_of_rgb_uses_bt601_luma():
    red = np.zeros((8, 8, 3), np.uint8)
    red[..., 0] = 255
    assert exposure_stats(red)["mean"] == pytest.approx(76, abs=1)  # 0.299 * 255


# -- global motion -------------------------------------------------------------------------
def test_global_motion_recovers_random_jitter():
    canvas = textured(300, 400, seed=3)
    rng = np.random.default_rng(11)  # fixed seed: reproducible jitter
    for _ in range(8):
        dx, dy = (int(v) for v in rng.integers(-8, 9, 2))
        a = canvas[20:260, 20:340]
        b = canvas[20 - dy:260 - dy, 20 - dx:340 - dx]  # content moves by (+dx, +dy)
        m = global_motion(a, b)
        assert isinstance(m, GlobalMotion) and m.inliers >= 50
        assert abs(m.dx - dx) < 0.5 and abs(m.dy - dy) < 0.5
        assert abs(m.angle_deg) < 0.1 and m.scale == pytest.approx(1.0, abs=0.005)


def test_global_motion_subpixel_shift():
    a = textured(240, 320, seed=5)
    b = cv2.warpAffine(a, np.float32([[1, 0, 2.4], [0, 1, -3.7]]), (320, 240), flags=cv2.INTER_CUBIC,
                       borderMode=cv2.BORDER_REFLECT)
    dx, dy, angle, scale, inliers = global_motion(a, b)
    assert (dx, dy) == (pytest.approx(2.4, abs=0.2), pytest.approx(-3.7, abs=0.2))


def test_global_motion_reports_pixels_of_the_input_size():
    canvas = textured(900, 1200, seed=9)
    a = canvas[50:818, 50:1074]  # 1024x768: tracked at 512x384
    b = canvas[44:812, 57:1081]  # content moves (-7, +6)
    m = global_motion(a, b)
    assert abs(m.dx + 7) < 0.5 and abs(m.dy - 6) < 0.5


def test_global_motion_rotation_and_scale():
    a = textured(240, 320, seed=2)
    centre = ((320 - 1) / 2, (240 - 1) / 2)
    rot = cv2.getRotationMatrix2D(centre, -2.0, 1.05)  # OpenCV: -2 = 2 deg clockwise on screen
    b = cv2.warpAffine(a, rot, (320, 240), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    m = global_motion(a, b)
    assert m.angle_deg == pytest.approx(2.0, abs=0.1)
    assert m.scale == pytest.approx(1.05, abs=0.005)
    assert abs(m.dx) < 0.3 and abs(m.dy) < 0.3  # about the centre


def test_global_motion_ignores_an_independently_moving_person():
    background = textured(240, 320, seed=4)
    person = textured(120, 70, seed=8)
    a, b = background.copy(), background.copy()
    a[80:200, 100:170] = person
    b[80:200, 112:182] = person  # the "person" walks 12 px right, camera static
    m = global_motion(a, b)
    assert abs(m.dx) < 0.2 and abs(m.dy) < 0.2


def test_global_motion_falls_back_to_phase_correlation_without_features():
    yy, xx = np.mgrid[0:120, 0:160].astype(np.float64)
    a = (128 + 60 * np.sin(xx / 9.0) * np.cos(yy / 11.0)).round().astype(np.uint8)  # smooth, cornerless
    b = np.roll(a, (2, 3), axis=(0, 1))
    m = global_motion(a, b)
    if m.inliers == 0:  # fallback taken
        assert (m.angle_deg, m.scale) == (0.0, 1.0)
    assert abs(m.dx - 3) < 0.5 and abs(m.dy - 2) < 0.5


def test_global_motion_of_blank_frames_is_finite_zero():
    blank = np.full((48, 64, 3), 128, np.uint8)
    m = global_motion(blank, blank)
    assert m.inliers == 0
    assert np.allclose([m.dx, m.dy], 0.0, atol=1e-3)


def test_global_motion_with_fewer_points_stays_subpixel():
    canvas = textured(800, 1200, seed=12)
    rng = np.random.default_rng(13)  # fixed seed: reproducible jitter
    for _ in range(4):
        dx, dy = (int(v) for v in rng.integers(-8, 9, 2))
        a = canvas[20:740, 20:1140]
        b = canvas[20 - dy:740 - dy, 20 - dx:1140 - dx]
        m = global_motion(a, b, max_points=200)
        assert abs(m.dx - dx) < 0.1 and abs(m.dy - dy) < 0.1


@pytest.mark.parametrize("bad", [11, 0, 2.5, True])
def test_exception_bad_max_points(bad):
    a = textured(48, 64)
    with pytest.raises(InvalidInput, match="max_points"):
        global_motion(a, a, max_points=bad)


def test_motion_luma_is_the_tracking_grid():
    canvas = textured(800, 1200, seed=14)
    a, b = canvas[20:740, 20:1140], canvas[15:735, 26:1146]  # 1120x720; content moves (-6, +5)
    ga, gb = motion_luma(a), motion_luma(b)
    assert ga.shape == (329, 512) and ga.dtype == np.uint8
    assert motion_luma(ga) is ga  # already on the grid: no resampling
    small = global_motion(ga, gb)
    full = global_motion(a, b)
    assert small.dx * 1120 / 512 == pytest.approx(full.dx, abs=1e-6)
    assert small.dy * 720 / 329 == pytest.approx(full.dy, abs=1e-6)
    assert abs(full.dx + 6) < 0.1 and abs(full.dy - 5) < 0.1
    assert motion_luma(a[:240, :320]).shape == (240, 320)  # never upsampled
