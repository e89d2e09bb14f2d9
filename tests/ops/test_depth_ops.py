"""ops.depth: parallax on flow fields with known depth, monocular cues on composites and photos,
fusion, temporal alignment, rank correlation."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import media

from reworld.errors import InvalidInput
from reworld.ops.depth import (
    depth_to_rgb,
    estimate_horizon,
    fuse_depth,
    homography_flow,
    monocular_depth,
    normalize_depth,
    parallax_depth,
    spearman,
    temporal_align,
)
from reworld.ops.sky import sky_alpha

H, W = 144, 256


def layered_inverse_depth() -> np.ndarray:
    """(H, W) true inverse depth: a far wall (0.1), two boxes (0.3, 0.6) and a slanted ground."""
    inv = np.full((H, W), 0.1, np.float32)
    rows = np.arange(H, dtype=np.float32)[:, None]
    ground = rows > 0.55 * H
    inv = np.where(ground, 0.1 + 0.5 * (rows - 0.55 * H) / (0.45 * H), inv)
    inv[20:70, 30:100] = 0.3
    inv[50:120, 150:220] = 0.6
    return inv.astype(np.float32)


def rotation_flow(yaw: float, f: float) -> np.ndarray:
    """Flow of a small yaw (radians) for a camera of focal ``f`` px, centred principal point."""
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float32)
    x, y = xs - (W - 1) / 2, ys - (H - 1) / 2
    return np.dstack([-(f + x * x / f) * yaw, -(x * y / f) * yaw]).astype(np.float32)


# -- spearman, normalize, homography flow ---------------------------------------------------

def test_spearman_unit():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    assert spearman(a, a ** 3) == pytest.approx(1.0)
    assert spearman(a, -a) == pytest.approx(-1.0)
    assert spearman(a, np.ones(4)) == 0.0
    # ties get average ranks (scipy's rankdata), and a mask selects elements
    assert spearman(np.array([1.0, 1, 2, 2]), np.array([1.0, 2, 3, 4])) == pytest.approx(0.894427, abs=1e-5)
    assert spearman(a, np.array([4.0, 3, 2, 1]), mask=np.array([True, False, False, True])) == pytest.approx(-1.0)


def test_normalize_and_homography_flow():
    x = np.arange(101, dtype=np.float32).reshape(1, -1)
    n = normalize_depth(x)
    assert n.dtype == np.float32 and n.min() == 0.0 and n.max() == 1.0
    assert np.all(normalize_depth(np.zeros((3, 3), np.float32)) == 0.5)
    shift = np.array([[1, 0, 2.5], [0, 1, -1.0], [0, 0, 1]])
    hf = homography_flow(shift, 4, 5)
    assert hf.shape == (4, 5, 2) and np.allclose(hf[..., 0], 2.5) and np.allclose(hf[..., 1], -1.0)
    zoom = np.diag([2.0, 2.0, 1.0])
    assert homography_flow(zoom, 3, 3)[2, 1].tolist() == [1.0, 2.0]


# -- parallax ------------------------------------------------------------------------------

def test_parallax_sideways_camera_exact_flow():
    """Camera moving right: each point moves left by baseline x focal x inverse depth."""
    inv = layered_inverse_depth()
    fb = 8.0  # baseline x focal: 0.6 -> 4.8 px, 0.1 -> 0.8 px
    flow = np.dstack([-fb * inv, np.zeros_like(inv)]).astype(np.float32)
    hflow = np.dstack([np.full_like(inv, -0.8), np.zeros_like(inv)])  # the homography follows the far wall
    p = parallax_depth(flow, hflow)
    assert p.depth.shape == (H, W) and p.depth.dtype == np.float32
    assert 0.0 <= p.depth.min() and p.depth.max() <= 1.0
    assert spearman(p.depth, inv) > 0.97
    assert abs(p.epipole[2]) < 0.05  # epipole at infinity
    assert p.alignment > 0.95 and p.confidence.mean() > 0.5


def test_parallax_forward_camera_with_rotation():
    """Camera moving forward while turning: flow = rotation + inverse depth x (x - epipole)."""
    inv = layered_inverse_depth()
    f = 1.2 * W
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float32)
    ex, ey = 0.55 * W, 0.45 * H  # focus of expansion
    k = 0.08
    rot = rotation_flow(0.004, f)
    flow = rot + np.dstack([k * inv * (xs - ex), k * inv * (ys - ey)])
    # the homography of the far wall: the rotation plus the wall's expansion
    wall = rot + np.dstack([k * 0.1 * (xs - ex), k * 0.1 * (ys - ey)])
    p = parallax_depth(flow.astype(np.float32), wall.astype(np.float32), focal=f)
    e = p.epipole / p.epipole[2]
    diag = np.hypot(H, W)
    assert abs(e[0] * diag + (W - 1) / 2 - ex) < 3 and abs(e[1] * diag + (H - 1) / 2 - ey) < 3
    # pixels near the focus of expansion barely move: judge the rest
    far_from_foe = np.hypot(xs - ex, ys - ey) > 20
    assert spearman(p.depth, inv, mask=far_from_foe) > 0.9


def test_parallax_without_translation_has_no_confidence():
    rot = rotation_flow(0.01, 1.2 * W)
    p = parallax_depth(rot, rot.copy())
    assert p.confidence.max() == 0.0 and p.strength < 0.01
    # noise alone is not parallax either
    rng = np.random.default_rng(0)  # fixed seed: deterministic flow noise
    p = parallax_depth(rot + rng.normal(0, 0.03, rot.shape).astype(np.float32), rot)
    assert p.confidence.max() == 0.0


def test_parallax_occlusion_and_weight_lower_confidence():
    inv = layered_inverse_depth()
    flow = np.dstack([-8.0 * inv, np.zeros_like(inv)]).astype(np.float32)
    hflow = np.dstack([np.full_like(inv, -0.8), np.zeros_like(inv)])
    occ = np.zeros((H, W), bool)
    occ[50:120, 140:150] = True
    weight = np.ones((H, W), np.float32)
    weight[:10] = 0
    p = parallax_depth(flow, hflow, occlusion=occ, weight=weight)
    assert p.confidence[occ].max() == 0.0 and p.confidence[:10].max() == 0.0
    assert p.confidence[60:100, 160:210].min() > 0.5


def test_parallax_sign_follows_prior():
    """A lone box over a wall: which end is near is voted; a prior settles it."""
    inv = np.full((H, W), 0.2, np.float32)
    inv[40:100, 80:180] = 0.5
    flow = np.dstack([-8.0 * inv, np.zeros_like(inv)]).astype(np.float32)
    hflow = np.dstack([np.full_like(inv, -1.6), np.zeros_like(inv)])
    good = parallax_depth(flow, hflow, prior=inv)
    assert good.votes["prior"] > 0.9 and spearman(good.depth, inv) > 0.9
    flipped = parallax_depth(flow, hflow, prior=-inv + 1)
    assert spearman(flipped.depth, inv) < -0.9  # a wrong prior wins: it has the largest weight


# -- monocular -----------------------------------------------------------------------------

def composite(horizon: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """(H, W, 3) blue sky over textured ground, horizon at row ``horizon``; and the sky alpha."""
    rng = np.random.default_rng(1)  # fixed seed: ground texture
    img = np.zeros((H, W, 3), np.uint8)
    img[:horizon] = (110, 160, 230)
    ground = cv2.GaussianBlur(rng.integers(40, 140, (H - horizon, W, 3)).astype(np.uint8), (0, 0), 1.0)
    img[horizon:] = ground
    alpha = np.zeros((H, W), np.float32)
    alpha[:horizon] = 1
    return img, alpha


def test_monocular_ground_plane_and_sky():
    img, alpha = composite(60)
    est = monocular_depth(img, sky_alpha=alpha)
    assert est.horizon_source == "sky" and abs(est.horizon - 60) <= 2
    d = est.depth
    assert d.shape == (H, W) and d.dtype == np.float32
    assert d[:55].max() == 0.0  # sky at infinity
    rows = d[62:].mean(axis=1)
    assert np.all(np.diff(rows[::8]) > 0)  # inverse depth grows below the horizon
    assert d[-1].mean() > 0.9


def test_monocular_person_mask_contact_row_and_occlusion_order():
    img, alpha = composite(60)
    back = np.zeros((H, W), bool)
    back[30:90, 40:70] = True  # feet at row 89
    front = np.zeros((H, W), bool)
    front[40:130, 55:95] = True  # feet at row 129, overlaps ``back``: nearer, in front
    img[back] = (200, 60, 60)
    img[front] = (60, 200, 60)
    # the sky alpha is left covering the heads: the masks say they are people
    est = monocular_depth(img, sky_alpha=alpha, person_masks=[back, front])
    d = est.depth
    row_value = d[:, 150:250].mean(axis=1)  # the ground away from the people
    assert abs(np.median(d[35:85, 42:53]) - row_value[89]) < 0.08  # the back person: its contact row
    assert abs(np.median(d[45:120, 75:92]) - row_value[129]) < 0.08
    assert np.median(d[60:85, 58:68]) > np.median(d[35:85, 42:53]) + 0.2  # overlap: the front one
    assert np.median(d[32:58, 42:68]) > 0.2  # heads above the horizon are not sky-far


def test_estimate_horizon_edge_and_default():
    img = np.zeros((100, 160, 3), np.uint8)
    img[40:] = 180
    row, source, conf = estimate_horizon(img)
    assert source == "edge" and abs(row - 39.5) <= 1 and conf > 0
    flat = np.full((100, 160, 3), 128, np.uint8)
    assert estimate_horizon(flat)[:2] == (45.0, "default")


#: Ordinal checks on real photos, at 512 px on the long side. Regions are fractions of the
#: height/width, set by hand from looking at each picture.
PHOTO_CHECKS = {
    # the man in the black "LAS VEGAS" sweatshirt, torso, right of centre; sea horizon at 0.43 h
    "photos/person_fullbody_beach_sky.jpg": {"person": (0.45, 0.70, 0.50, 0.64), "horizon_band": (0.44, 0.50)},
    # the seated woman's black T-shirt, left half; dunes/horizon at 0.25 h
    "photos/person_seated_beach_sky.jpg": {"person": (0.40, 0.70, 0.10, 0.55), "horizon_band": (0.27, 0.33)},
    # no person; the distant hills and field start at 0.46 h
    "photos/landscape_sheep_field_sky.jpg": {"person": None, "horizon_band": (0.47, 0.53)},
}


def _photo(rel: str) -> np.ndarray:
    bgr = cv2.imread(str(media(rel)))
    s = 512 / max(bgr.shape[:2])
    return np.ascontiguousarray(cv2.resize(bgr, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)[..., ::-1])


@pytest.mark.parametrize("rel", sorted(PHOTO_CHECKS))
def test_monocular_photo_ordinal(rel):
    img = _photo(rel)
    h, w = img.shape[:2]
    alpha, _score = sky_alpha(img)
    d = monocular_depth(img, sky_alpha=alpha).depth

    def region(y0, y1, x0=0.0, x1=1.0) -> float:
        return float(np.median(d[int(y0 * h):int(y1 * h), int(x0 * w):int(x1 * w)]))

    spec = PHOTO_CHECKS[rel]
    sky = region(0.0, 0.12)  # the top strip is sky in all three
    bottom = region(0.92, 1.0)
    band = region(*spec["horizon_band"])
    print(f"{rel}: sky {sky:.3f} horizon band {band:.3f} bottom {bottom:.3f}", end="")
    assert bottom > band + 0.3, "the ground at the bottom is nearer than just below the horizon"
    assert sky < band and sky <= 0.01, "the sky is farthest"
    if spec["person"] is not None:
        y0, y1, x0, x1 = spec["person"]
        person = region(y0, y1, x0, x1)
        print(f" person {person:.3f}")
        assert person > sky + 0.3, "the person is nearer than the sky"
    else:
        print()
        assert sky == pytest.approx(float(d.min()))


# -- fusion and time -----------------------------------------------------------------------

def test_fuse_depth_ignores_a_useless_monocular_map():
    inv = layered_inverse_depth()
    rng = np.random.default_rng(2)  # fixed seed: an uninformative "monocular" map
    noise = rng.random((H, W)).astype(np.float32)
    fused, c = fuse_depth(normalize_depth(inv), np.full((H, W), 0.9, np.float32), noise)
    assert spearman(fused, inv) > 0.9 and c == pytest.approx(0.9)
    sky = np.zeros((H, W), np.float32)
    sky[:15] = 1
    fused, _ = fuse_depth(normalize_depth(inv), np.ones((H, W), np.float32), noise, sky_alpha=sky)
    assert fused[:15].max() == 0.0


def test_fuse_depth_uses_monocular_where_parallax_is_unsure():
    inv = layered_inverse_depth()
    par = normalize_depth(inv)
    conf = np.zeros((H, W), np.float32)
    conf[:, : W // 2] = 1.0  # parallax only on the left half
    mono = np.clip(par * 0.5 + 0.25, 0, 1)  # a monocular map with the right order, other scale
    fused, _ = fuse_depth(par, conf, mono)
    assert spearman(fused[:, W // 2:], inv[:, W // 2:]) > 0.95


def test_temporal_align_recovers_scale_and_shift():
    prev = normalize_depth(layered_inverse_depth())
    cur = 0.5 * prev + 0.2
    out, (a, b) = temporal_align(cur, prev, np.ones((H, W), np.float32), memory=0.0, leak=0.0)
    assert a == pytest.approx(2.0, abs=1e-3) and b == pytest.approx(-0.4, abs=1e-3)
    assert np.abs(out - prev).max() < 1e-3
    # no trust in the past: the frame is kept as it is
    out, (a, b) = temporal_align(cur, prev, np.zeros((H, W), np.float32))
    assert (a, b) == (1.0, 0.0) and np.allclose(out, cur)
    # outliers (a region the previous frame got wrong) do not bend the fit
    bad = prev.copy()
    bad[:40, :60] = 1.0 - bad[:40, :60]
    _out, (a, b) = temporal_align(cur, bad, np.ones((H, W), np.float32))
    assert a == pytest.approx(2.0, abs=0.05)


# -- errors and small things ---------------------------------------------------------------

def test_exceptions():
    f = np.zeros((10, 12, 2), np.float32)
    with pytest.raises(InvalidInput, match="homography_flow"):
        parallax_depth(f, np.zeros((10, 11, 2), np.float32))
    with pytest.raises(InvalidInput, match="flow"):
        parallax_depth(np.zeros((10, 12, 3), np.float32), f)
    with pytest.raises(TypeError, match="flow"):
        parallax_depth([[0.0]], f)
    with pytest.raises(InvalidInput, match="occlusion"):
        parallax_depth(f, f, occlusion=np.zeros((3, 3), bool))
    with pytest.raises(InvalidInput, match="noise"):
        parallax_depth(f, f, noise=0)
    with pytest.raises(InvalidInput, match="image"):
        monocular_depth(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(InvalidInput, match="sky_alpha"):
        monocular_depth(np.zeros((20, 30, 3), np.uint8), sky_alpha=np.zeros((20, 31), np.float32))
    with pytest.raises(InvalidInput, match=r"person_masks\[0\]"):
        monocular_depth(np.zeros((20, 30, 3), np.uint8), person_masks=[np.zeros((2, 2), bool)])
    with pytest.raises(InvalidInput, match="depth_prev_warped"):
        temporal_align(np.zeros((4, 4), np.float32), np.zeros((4, 5), np.float32), np.zeros((4, 4), np.float32))
    with pytest.raises(InvalidInput, match="memory"):
        temporal_align(np.zeros((4, 4), np.float32), np.zeros((4, 4), np.float32), np.zeros((4, 4), np.float32),
                       memory=1.0)
    with pytest.raises(InvalidInput, match="mono_weight"):
        fuse_depth(np.zeros((4, 4), np.float32), np.zeros((4, 4), np.float32), np.zeros((4, 4), np.float32),
                   mono_weight=-1)
    with pytest.raises(InvalidInput, match="b"):
        spearman(np.zeros(3), np.zeros(4))


def test_depth_to_rgb():
    rgb = depth_to_rgb(np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4))
    assert rgb.shape == (3, 4, 3) and rgb.dtype == np.uint8
    assert rgb[-1, -1].sum() > rgb[0, 0].sum()  # near is bright
