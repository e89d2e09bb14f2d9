"""ops.segment: prompt -> mask, refinement, warping, J and F measures (ground truth made in code)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import media

from reworld.errors import InvalidInput
from reworld.ops.segment import (
    AppearanceModel,
    boundary_f,
    mask_from_prompt,
    mask_iou,
    refine_mask,
    warp_mask,
)


def textured_scene(h: int = 120, w: int = 160, seed: int = 0):
    """An orange noisy disc on a green/blue noisy background; returns (image, truth)."""
    rng = np.random.default_rng(seed)  # fixed seed: deterministic texture
    img = np.empty((h, w, 3), np.float32)
    img[: h // 2] = (0.3, 0.55, 0.9)
    img[h // 2:] = (0.25, 0.5, 0.2)
    yy, xx = np.mgrid[0:h, 0:w]
    truth = (xx - 70) ** 2 + ((yy - 60) * 1.3) ** 2 <= 30 ** 2
    img[truth] = (0.9, 0.45, 0.15)
    img += rng.normal(0, 0.05, img.shape).astype(np.float32)
    return np.round(np.clip(img, 0, 1) * 255).astype(np.uint8), truth


def photo_composite():
    """A blob cut from the astronaut's suit pasted on the sheep field (real textures)."""
    import cv2

    from reworld.io.stills import read_image

    bg = read_image(media("photos/landscape_sheep_field_sky.jpg"))
    bg = cv2.resize(bg, (320, 187), interpolation=cv2.INTER_AREA)[:, :, :].copy()
    astro = read_image(media("photos/portrait_astronaut_512.png"))
    tex = cv2.resize(astro[290:460, 20:190], (70, 70), interpolation=cv2.INTER_AREA)
    yy, xx = np.mgrid[0:70, 0:70] - 35
    th = np.arctan2(yy, xx)
    shape = np.hypot(xx, yy) <= 30 * (1 + 0.15 * np.sin(3 * th))
    truth = np.zeros(bg.shape[:2], bool)
    truth[80:150, 120:190] = shape
    bg[truth] = tex[shape]
    return bg, truth


# -- mask_from_prompt --------------------------------------------------------------------------
def test_smoke_click_and_box():
    img, truth = textured_scene()
    a = mask_from_prompt(img, points=[(70, 60)])
    assert a.shape == truth.shape and a.dtype == np.float32
    assert 0.0 <= a.min() and a.max() <= 1.0
    assert mask_iou(a, truth) > 0.93
    b = mask_from_prompt(img, box=(35, 30, 106, 91))
    assert mask_iou(b, truth) > 0.93
    assert boundary_f(b, truth) > 0.9


def test_click_on_real_textures():
    img, truth = photo_composite()
    a = mask_from_prompt(img, points=[(150, 110)])
    assert mask_iou(a, truth) > 0.9
    assert boundary_f(a, truth) > 0.85
    # float input in [0, 1] gives the same mask
    f = mask_from_prompt(img.astype(np.float32) / 255, points=[(150, 110)])
    assert mask_iou(f, a) > 0.98


def test_negative_click_splits_touching_objects():
    img, _ = textured_scene()
    img[30:90, 101:140] = (235, 110, 40)  # a second orange object touching the disc
    left = np.zeros(img.shape[:2], bool)
    left[:, :101] = True
    a = mask_from_prompt(img, points=[(70, 60)], negative=[(125, 60)])
    assert (a > 0.5)[:, 110:].mean() < 0.02
    assert (a > 0.5)[left].sum() > 0.8 * 2200


def test_edges_are_soft_and_snapped():
    img, truth = textured_scene()
    a = mask_from_prompt(img, points=[(70, 60)])
    inner = truth.copy()
    inner[1:-1, 1:-1] &= truth[:-2, 1:-1] & truth[2:, 1:-1] & truth[1:-1, :-2] & truth[1:-1, 2:]
    assert a[inner].mean() > 0.97  # solid inside
    assert ((a > 0.05) & (a < 0.95)).sum() > 0  # a soft edge exists


def test_max_side_downscales_graph_cut():
    img, truth = textured_scene(240, 320)
    a = mask_from_prompt(img, points=[(70, 60)], max_side=80)
    assert a.shape == (240, 320)
    assert mask_iou(a, truth) > 0.85


@pytest.mark.parametrize("kwargs, arg, words", [
    ({"points": [(160, 10)]}, "points", "0 <= x < 160"),
    ({"points": [(-1, 10)]}, "points", "0 <= y < 120"),
    ({"points": [(10, 10)], "negative": [(5, 500)]}, "negative", "0 <= y < 120"),
    ({"box": (10, 10, 10, 50)}, "box", "x0 < x1"),
    ({"box": (10, 10, 50)}, "box", "(x0, y0, x1, y1)"),
    ({}, "points", "at least one"),
    ({"points": (10, 20)}, "points", "(x, y) pixel pairs"),
])
def test_exception(kwargs, arg, words):
    img, _ = textured_scene()
    with pytest.raises(InvalidInput) as err:
        mask_from_prompt(img, **kwargs)
    assert err.value.arg == arg
    assert words in str(err.value)


def test_exception_image():
    with pytest.raises(InvalidInput) as err:
        mask_from_prompt(np.zeros((10, 10), np.uint8), points=[(1, 1)])
    assert err.value.arg == "image"


# -- refine_mask, AppearanceModel ----------------------------------------------------------------
def test_refine_pulls_a_shifted_prior_back():
    img, truth = textured_scene()
    prior = np.roll(truth, (4, 5), axis=(0, 1)).astype(np.float32)
    before = mask_iou(prior, truth)
    after = mask_iou(refine_mask(img, prior), truth)
    assert before < 0.8 and after > 0.88  # the prior's own (impure) colour model only


def test_refine_with_carried_model_and_empty_prior():
    img, truth = textured_scene()
    model = AppearanceModel.fit(img, truth)
    llr = model.llr(img)
    assert llr[truth].mean() > 2 and llr[~truth].mean() < -1
    assert llr.dtype == np.float32 and llr.shape == truth.shape
    out = refine_mask(img, np.roll(truth, 3, axis=1), model=model, llr=llr)
    assert mask_iou(out, truth) > 0.93
    assert not refine_mask(img, np.zeros(truth.shape, np.float32)).any()
    assert model.similarity(AppearanceModel.features(img), truth) > 0.9


def test_refine_exception():
    img, truth = textured_scene()
    with pytest.raises(InvalidInput) as err:
        refine_mask(img, truth[:-1])
    assert err.value.arg == "prior_alpha"


# -- warp_mask ----------------------------------------------------------------------------------
def test_warp_mask_translation():
    _, truth = textured_scene()
    flow = np.zeros(truth.shape + (2,), np.float32)
    flow[..., 0], flow[..., 1] = -3.0, 2.0  # target pixel (x, y) comes from source (x - 3, y + 2)
    out = warp_mask(truth.astype(np.float32), flow)
    assert mask_iou(out, np.roll(truth, (-2, 3), axis=(0, 1))) > 0.99
    with pytest.raises(InvalidInput) as err:
        warp_mask(truth, flow[:-1])
    assert err.value.arg == "flow"


# -- metrics ------------------------------------------------------------------------------------
def test_unit_metrics():
    a = np.zeros((40, 40), bool)
    a[10:30, 10:30] = True
    b = np.zeros_like(a)
    b[10:30, 20:40] = True
    assert mask_iou(a, b) == pytest.approx(200 / 600)
    assert mask_iou(a, a) == 1.0
    empty = np.zeros_like(a)
    assert mask_iou(empty, empty) == 1.0 and boundary_f(empty, empty) == 1.0
    assert boundary_f(a, empty) == 0.0
    assert boundary_f(a, np.roll(a, 2, axis=1), tol=2) == 1.0
    assert boundary_f(a, np.roll(a, 6, axis=1), tol=2) < 0.6
    # uint8 and float masks threshold at the middle
    assert mask_iou(a.astype(np.uint8) * 255, a.astype(np.float32) * 0.8) == 1.0
    with pytest.raises(InvalidInput):
        mask_iou(a, a[:-1])
