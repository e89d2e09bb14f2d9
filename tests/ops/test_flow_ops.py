"""reworld.ops.flow: DIS flow, warping, forward-backward occlusion, colour coding.

Ground truth is made in code: a source image (a smooth random texture, or a real photo from the
shared media set) is rendered along known affine and homography paths with
``cv2.warpPerspective``, so the true flow between two frames is known at every pixel. End-point
error (EPE) is measured away from the border (16 px margin), median and mean reported.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import media

from reworld.errors import InvalidInput
from reworld.ops.flow import (
    DEFAULT_PRESET,
    PRESETS,
    FlowEstimator,
    dis_flow,
    fb_consistency,
    flow_confidence,
    flow_to_rgb,
    resize_flow,
    to_luma,
    warp,
)

H, W = 288, 512
MARGIN = 16


# -- scenes with exact ground truth ---------------------------------------------------------
def smooth_texture(h: int, w: int, seed: int) -> np.ndarray:
    """(h, w, 3) uint8: band-limited noise at three scales (textured everywhere, codec-friendly)."""
    rng = np.random.default_rng(seed)  # fixed seed: deterministic scene
    img = np.zeros((h, w, 3), np.float32)
    for sigma, weight in ((1.5, 0.35), (4.0, 0.35), (12.0, 0.3)):
        n = cv2.GaussianBlur(rng.standard_normal((h, w, 3)).astype(np.float32), (0, 0), sigma)
        img += weight * n / n.std()
    return np.round(np.clip(img * 0.18 + 0.5, 0, 1) * 255).astype(np.uint8)


def camera_path(kind: str, n: int) -> list[np.ndarray]:
    """3x3 maps from frame pixels to source pixels, one per frame (a smooth camera move)."""
    out = []
    c = np.array([[1, 0, -W / 2], [0, 1, -H / 2], [0, 0, 1.0]])
    for t in range(n):
        if kind == "affine":  # pan 2.3/1.1 px, 0.3 deg rotation and 0.4 % zoom per frame
            a, s = np.deg2rad(0.3 * t), 1 + 0.004 * t
            rs = np.array([[s * np.cos(a), -s * np.sin(a), 0], [s * np.sin(a), s * np.cos(a), 0], [0, 0, 1]])
            m = np.array([[1, 0, 60 + 2.3 * t], [0, 1, 40 + 1.1 * t], [0, 0, 1.0]]) @ np.linalg.inv(c) @ rs @ c
        else:  # homography: shear, zoom and perspective growing with t
            p = 2e-6 * t
            m = np.array([[1 + 0.003 * t, 0.002 * t, 60 + 1.7 * t], [-0.001 * t, 1 + 0.002 * t, 40 + 0.9 * t],
                          [p, -p / 2, 1.0]])
        out.append(m)
    return out


def render(source: np.ndarray, maps: list[np.ndarray]) -> list[np.ndarray]:
    return [cv2.warpPerspective(source, m, (W, H), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
                                borderMode=cv2.BORDER_REFLECT) for m in maps]


def true_flow(m0: np.ndarray, m1: np.ndarray) -> np.ndarray:
    """(H, W, 2) flow frame 0 -> frame 1 for frames rendered with maps m0, m1."""
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float64)
    p = np.stack([xs, ys, np.ones_like(xs)], -1) @ (np.linalg.inv(m1) @ m0).T
    return (p[..., :2] / p[..., 2:] - np.stack([xs, ys], -1)).astype(np.float32)


def epe(flow: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    e = np.linalg.norm(flow - truth, axis=-1)[MARGIN:-MARGIN, MARGIN:-MARGIN]
    return float(np.median(e)), float(e.mean())


def path_epe(source: np.ndarray, kind: str, preset: str = DEFAULT_PRESET, n: int = 4) -> tuple[float, float]:
    maps = camera_path(kind, n)
    frames = render(source, maps)
    est = FlowEstimator(preset)
    errs = [epe(est(frames[k], frames[k + 1]), true_flow(maps[k], maps[k + 1])) for k in range(n - 1)]
    return max(e[0] for e in errs), max(e[1] for e in errs)


@pytest.fixture(scope="module")
def texture_source() -> np.ndarray:
    return smooth_texture(700, 1100, seed=7)


# -- estimation -------------------------------------------------------------------------------
def test_smoke_shapes_and_input_kinds():
    img = smooth_texture(64, 96, seed=1)
    f = dis_flow(img, img)
    assert f.shape == (64, 96, 2) and f.dtype == np.float32
    grey = to_luma(img)
    assert grey.shape == (64, 96) and grey.dtype == np.uint8
    np.testing.assert_array_equal(dis_flow(grey, grey), f)
    f_float = dis_flow(img.astype(np.float32) / 255, img.astype(np.float32) / 255)
    assert f_float.shape == f.shape


@pytest.mark.parametrize("shape", [(1, 1), (8, 8), (16, 100), (17, 200), (40, 16), (31, 33)])
@pytest.mark.parametrize("preset", list(PRESETS))
def test_cardinality_tiny_images_are_padded(shape, preset):
    # OpenCV's DIS segfaults on several of these sizes when called directly
    a = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    assert FlowEstimator(preset)(a, np.roll(a, 1, axis=-1)).shape == shape + (2,)


def test_exception_messages_name_the_argument():
    img = np.zeros((32, 48, 3), np.uint8)
    with pytest.raises(InvalidInput, match="`preset`"):
        dis_flow(img, img, preset="slow")
    with pytest.raises(InvalidInput, match="`b`"):
        dis_flow(img, img[:16])
    with pytest.raises(InvalidInput, match="`a`"):
        dis_flow(np.zeros((32, 48, 4), np.uint8), img)
    with pytest.raises(InvalidInput, match="`a`"):
        dis_flow(np.full((32, 48), 2.0, np.float32), img[..., 0])
    with pytest.raises(TypeError, match="`a`"):
        dis_flow([[0]], img)
    flow = np.zeros((32, 48, 2), np.float32)
    with pytest.raises(InvalidInput, match="`flow`"):
        warp(img, flow[..., :1])
    with pytest.raises(InvalidInput, match="`image`"):
        warp(img[:10], flow)
    with pytest.raises(InvalidInput, match="`bwd`"):
        fb_consistency(flow, flow[:10])
    with pytest.raises(InvalidInput, match="`fwd`"):
        fb_consistency(flow.astype(np.int32), flow)
    with pytest.raises(InvalidInput, match="`h`"):
        resize_flow(flow, 0, 10)
    with pytest.raises(InvalidInput, match="`max_mag`"):
        flow_to_rgb(flow, max_mag=0)
    with pytest.raises(InvalidInput, match="`occlusion`"):
        flow_confidence(flow[..., 0], occlusion=np.zeros((3, 3), bool))


@pytest.mark.parametrize("kind", ["affine", "homography"])
def test_unit_epe_texture(texture_source, kind):
    med, mean = path_epe(texture_source, kind)
    assert med <= 0.5 and mean <= 0.5, f"{kind}: EPE median {med:.3f} mean {mean:.3f} px"


@pytest.mark.parametrize("preset", list(PRESETS))
def test_unit_epe_every_preset(texture_source, preset):
    med, mean = path_epe(texture_source, "affine", preset, n=3)
    assert med <= 0.5 and mean <= 0.5, f"{preset}: EPE median {med:.3f} mean {mean:.3f} px"


@pytest.mark.media
@pytest.mark.parametrize("kind", ["affine", "homography"])
def test_unit_epe_real_photo(kind):
    from reworld.io.stills import read_image

    photo = read_image(media("photos/landscape_sheep_field_sky.jpg"))
    med, mean = path_epe(photo, kind)
    assert med <= 0.5 and mean <= 0.5, f"{kind}: EPE median {med:.3f} mean {mean:.3f} px"


# -- sprite over a static background: occlusion ---------------------------------------------
SPRITE = 96


def sprite_scene(step: tuple[int, int]):
    """Two frames: a textured sprite moving by ``step`` (x, y) px over a static textured background."""
    bg = smooth_texture(H, W, seed=1)
    sprite = 255 - smooth_texture(SPRITE, SPRITE, seed=2)
    x0, y0 = 150, 90
    x1, y1 = x0 + step[0], y0 + step[1]
    a, b = bg.copy(), bg.copy()
    a[y0:y0 + SPRITE, x0:x0 + SPRITE] = sprite
    b[y1:y1 + SPRITE, x1:x1 + SPRITE] = sprite
    in_a = np.zeros((H, W), bool)
    in_a[y0:y0 + SPRITE, x0:x0 + SPRITE] = True
    in_b = np.zeros((H, W), bool)
    in_b[y1:y1 + SPRITE, x1:x1 + SPRITE] = True
    inner = np.zeros((H, W), bool)
    inner[y0 + 4:y0 + SPRITE - 4, x0 + 4:x0 + SPRITE - 4] = True
    return a, b, in_a, in_b, inner


def near(mask: np.ndarray, px: int = 2) -> np.ndarray:
    return cv2.dilate(mask.astype(np.uint8), np.ones((2 * px + 1, 2 * px + 1), np.uint8)).astype(bool)


@pytest.mark.parametrize("step", [(6, 3), (12, -4)])
def test_unit_occlusion_of_moving_sprite(step):
    a, b, in_a, in_b, inner = sprite_scene(step)
    est = FlowEstimator()
    fwd, bwd = est(a, b), est(b, a)
    covered = in_b & ~in_a     # background of frame a hidden in frame b: forward occlusion
    uncovered = in_a & ~in_b   # background of frame b the sprite uncovers: occlusion of b w.r.t. a
    occ, err = fb_consistency(fwd, bwd)
    dis_occ, _ = fb_consistency(bwd, fwd)
    report = (f"covered recall {occ[covered].mean():.2f} precision {covered[occ].mean():.2f} "
              f"(within 2 px {near(covered)[occ].mean():.2f}); uncovered recall {dis_occ[uncovered].mean():.2f} "
              f"precision {uncovered[dis_occ].mean():.2f} (within 2 px {near(uncovered)[dis_occ].mean():.2f})")
    assert occ[covered].mean() >= 0.6, report
    assert dis_occ[uncovered].mean() >= 0.6, report
    assert near(covered)[occ].mean() >= 0.4 and near(uncovered)[dis_occ].mean() >= 0.4, report
    # motion is found on the sprite, and the static background away from it is still
    e = np.linalg.norm(fwd - np.float32(step), axis=-1)[inner]
    assert np.median(e) <= 0.5 and e.mean() <= 0.5, f"sprite EPE median {np.median(e):.3f} mean {e.mean():.3f}"
    far = ~near(in_a | in_b, 12)
    far[:MARGIN], far[-MARGIN:], far[:, :MARGIN], far[:, -MARGIN:] = False, False, False, False
    assert np.median(np.linalg.norm(fwd, axis=-1)[far]) <= 0.1
    assert occ[far].mean() <= 0.02 and err.dtype == np.float32


# -- warp, consistency, confidence -----------------------------------------------------------
def test_unit_warp_integer_shift_and_dtypes():
    img = np.arange(5 * 7, dtype=np.float32).reshape(5, 7)
    flow = np.zeros((5, 7, 2), np.float32)
    flow[..., 0], flow[..., 1] = 2, 1
    out = warp(img, flow)
    np.testing.assert_array_equal(out[:4, :5], img[1:, 2:])
    np.testing.assert_array_equal(out[:, -1], out[:, -2])  # border replicated
    for dtype in (np.uint8, np.uint16, np.float16, np.float64):
        assert warp(img.astype(dtype), flow).dtype == dtype
    many = np.repeat(img[..., None], 6, axis=-1)
    np.testing.assert_array_equal(warp(many, flow)[..., 5], out)
    assert warp(img[..., None], flow).shape == (5, 7, 1)
    mask = img > 10
    np.testing.assert_array_equal(warp(mask, flow), out > 10)


def test_unit_warp_with_true_flow_reconstructs_frame(texture_source):
    maps = camera_path("affine", 2)
    a, b = render(texture_source, maps)
    back = warp(b, true_flow(maps[0], maps[1]))
    diff = np.abs(back.astype(np.float32) - a.astype(np.float32))[MARGIN:-MARGIN, MARGIN:-MARGIN]
    assert diff.mean() < 3.0  # only interpolation differences (levels of 255)


def test_unit_fb_consistency_rule():
    h, w = 20, 30
    fwd = np.zeros((h, w, 2), np.float32)
    fwd[..., 0] = 3.0
    occ, err = fb_consistency(fwd, -fwd)
    assert not occ[:, : w - 3].any() and occ[:, w - 3:].all()  # points leaving the frame are occluded
    assert not fb_consistency(fwd, -fwd, out_of_frame=False)[0].any()
    np.testing.assert_allclose(err, 0)
    # a round trip off by e px: occluded iff e^2 > 0.01 (|f|^2 + |b|^2) + 0.5
    for e, expect in ((0.7, False), (0.9, True)):
        bwd = -fwd.copy()
        bwd[..., 1] = e
        occ, err = fb_consistency(fwd, bwd, out_of_frame=False)
        limit = 0.01 * (9 + 9 + e * e) + 0.5
        assert (e * e > limit) == expect
        assert bool(occ.all()) == expect and bool(occ.any()) == expect
        np.testing.assert_allclose(err, e, rtol=1e-6)


def test_unit_flow_confidence():
    err = np.array([[0.0, 0.5, 1.0, 3.0]], np.float32)
    conf = flow_confidence(err)
    assert conf.dtype == np.float32 and conf.shape == err.shape
    np.testing.assert_allclose(conf, np.exp(-err ** 2), rtol=1e-6)
    assert np.all(np.diff(conf) < 0) and conf.min() >= 0 and conf.max() <= 1
    occ = np.array([[True, False, False, False]])
    assert flow_confidence(err, occlusion=occ)[0, 0] == 0
    np.testing.assert_allclose(flow_confidence(err, scale=2.0), np.exp(-(err / 2) ** 2), rtol=1e-6)


# -- scale and display ---------------------------------------------------------------------
def test_unit_resize_flow_scales_vectors():
    flow = np.zeros((40, 60, 2), np.float32)
    flow[..., 0], flow[..., 1] = 3.0, -1.5
    small = resize_flow(flow, 20, 15)
    assert small.shape == (20, 15, 2) and small.dtype == np.float32
    np.testing.assert_allclose(small[..., 0], 3.0 * 15 / 60, rtol=1e-6)
    np.testing.assert_allclose(small[..., 1], -1.5 * 20 / 40, rtol=1e-6)
    big = resize_flow(small, 40, 60)
    np.testing.assert_allclose(big, flow, rtol=1e-5)
    np.testing.assert_array_equal(resize_flow(flow.astype(np.float16), 40, 60), flow)


def test_unit_flow_to_rgb_colour_wheel():
    flow = np.zeros((1, 6, 2), np.float32)
    flow[0, 1] = (1, 0)    # right
    flow[0, 2] = (-1, 0)   # left
    flow[0, 3] = (0, -1)   # up
    flow[0, 4] = (0.5, 0)  # right, half saturation
    flow[0, 5] = (2, 0)    # beyond max_mag: darker
    rgb = flow_to_rgb(flow, max_mag=1.0)
    assert rgb.dtype == np.uint8 and rgb.shape == (1, 6, 3)
    assert rgb[0, 0].tolist() == [255, 255, 255]                     # no motion: white
    r, g, b = rgb[0, 1].tolist()
    assert r == 255 and g == 0 and b < 60                            # right: red
    r, g, b = rgb[0, 2].tolist()
    assert r == 0 and b == 255 and 150 < g < 255                     # left: cyan-blue
    r, g, b = rgb[0, 3].tolist()
    assert b > 200 and g < 50                                        # up: blue-violet
    assert rgb[0, 4, 1] > 100 and rgb[0, 4, 0] == 255                # half: paler red
    assert rgb[0, 5, 0] == round(255 * 0.75)
    np.testing.assert_array_equal(flow_to_rgb(flow), flow_to_rgb(flow, max_mag=2.0))
    nan = flow.copy()
    nan[0, 1] = np.nan
    assert flow_to_rgb(nan)[0, 1].tolist() == [0, 0, 0]
