"""ops.sky: sky alpha on composites with known truth, on real photos with and without sky."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest
from conftest import MEDIA, media

from reworld.errors import InvalidInput
from reworld.ops.sky import SkyModel, estimate_sky, sky_alpha, sky_colour_plausibility

H, W = 288, 512  # the analysis size of a 16:9 clip


# -- composites: a known sky over a known ground, joined along a known skyline ------------------

def vertical(top, bottom, h: int = H, w: int = W, mid=None) -> np.ndarray:
    """(h, w, 3) float32 0-255 vertical gradient top -> (mid ->) bottom."""
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    top, bottom = np.float32(top), np.float32(bottom)
    if mid is None:
        col = top + (bottom - top) * t
    else:
        mid = np.float32(mid)
        col = np.where(t < 0.5, top + (mid - top) * (t / 0.5), mid + (bottom - mid) * ((t - 0.5) / 0.5))
    return np.broadcast_to(col, (h, w, 3)).astype(np.float32)


def sky_blue() -> np.ndarray:
    return vertical((55, 105, 200), (165, 198, 235))


def sky_overcast() -> np.ndarray:
    rng = np.random.default_rng(11)  # fixed seed: deterministic sensor-like noise
    return vertical((196, 200, 206), (222, 224, 226)) + rng.normal(0, 4.0, (H, W, 3)).astype(np.float32)


def sky_sunset() -> np.ndarray:
    return vertical((70, 75, 150), (255, 200, 110), mid=(235, 120, 95))


def sky_night() -> np.ndarray:
    rng = np.random.default_rng(5)  # fixed seed: star positions
    sky = vertical((14, 20, 52), (38, 48, 92))
    ys, xs = rng.integers(0, H, 40), rng.integers(0, W, 40)
    sky[ys, xs] = 235  # a few single-pixel stars
    return sky


def sky_photo(name: str, box: tuple[float, float, float, float]) -> np.ndarray:
    """The sky of a shared photo (box = top, bottom, left, right as fractions), stretched to (H, W)."""
    from reworld.io.stills import read_image

    img = read_image(media(f"photos/{name}"))
    h, w = img.shape[:2]
    crop = img[int(box[0] * h): int(box[1] * h), int(box[2] * w): int(box[3] * w)]
    return cv2.resize(crop, (W, H), interpolation=cv2.INTER_AREA).astype(np.float32)


def ground_texture(kind: str) -> np.ndarray:
    """(H, W, 3) float32 ground: the bottom of a shared photo, or synthetic texture."""
    crops = {"grass": ("landscape_sheep_field_sky.jpg", 0.62), "gravel": ("landscape_lake_boats_sunset_sky.jpg", 0.7),
             "sand": ("person_seated_beach_sky.jpg", 0.75)}
    if kind in crops and (MEDIA / "photos" / crops[kind][0]).exists():
        from reworld.io.stills import read_image

        img = read_image(MEDIA / "photos" / crops[kind][0])
        crop = img[int(crops[kind][1] * img.shape[0]):]
        return cv2.resize(crop, (W, H), interpolation=cv2.INTER_AREA).astype(np.float32)
    rng = np.random.default_rng(3)  # fixed seed: synthetic soil texture
    fine = cv2.GaussianBlur(rng.random((H, W)).astype(np.float32), (0, 0), 1.0)
    coarse = cv2.resize(rng.random((H // 16, W // 16)).astype(np.float32), (W, H), interpolation=cv2.INTER_CUBIC)
    luma = 50 + 90 * fine + 50 * coarse
    return np.stack([luma * 0.9 + 20, luma * 0.75 + 10, luma * 0.5], -1).astype(np.float32)


def skyline_rows(shape: str) -> np.ndarray:
    """(W,) float row of the skyline per column."""
    x = np.arange(W, dtype=np.float32)
    if shape == "straight":
        return np.full(W, 0.45 * H, np.float32)
    if shape == "wavy":  # hills and a tree-line
        return (0.5 * H + 22 * np.sin(2 * np.pi * x / 190) + 9 * np.sin(2 * np.pi * x / 37 + 1.0)).astype(np.float32)
    raise ValueError(shape)


def composite(sky: np.ndarray, ground: np.ndarray, shape: str, soft: float = 1.5) -> tuple[np.ndarray, np.ndarray]:
    """(image uint8, truth bool): sky above the skyline, ground below, a ``soft`` px ramp between."""
    rows = np.arange(H, dtype=np.float32)[:, None]
    a = np.clip((skyline_rows(shape)[None, :] - rows) / (2 * soft) + 0.5, 0, 1)[..., None]
    img = np.clip(sky * a + ground * (1 - a) + 0.5, 0, 255).astype(np.uint8)
    return img, a[..., 0] > 0.5


def iou(alpha: np.ndarray, truth: np.ndarray) -> float:
    pred = alpha > 0.5
    return float((pred & truth).sum() / max(1, (pred | truth).sum()))


SKIES = {"blue": sky_blue, "overcast": sky_overcast, "sunset": sky_sunset, "night": sky_night}


# -- test_smoke / test_cardinality / test_exception ---------------------------------------------

def test_smoke():
    img, _ = composite(sky_blue(), ground_texture("synthetic"), "straight")
    alpha, score = sky_alpha(img)
    assert alpha.shape == (H, W) and alpha.dtype == np.float32
    assert 0.0 <= alpha.min() and alpha.max() <= 1.0
    assert isinstance(score, float) and 0.3 < score < 0.6


@pytest.mark.parametrize("shape", [(8, 8), (9, 31), (200, 60), (60, 700)])
def test_cardinality(shape):
    h, w = shape
    img = np.zeros((h, w, 3), np.uint8)
    img[: h // 2] = (90, 140, 220)
    alpha, score = sky_alpha(img)
    assert alpha.shape == (h, w) and 0.0 <= score <= 1.0


@pytest.mark.parametrize("bad, match", [
    (np.zeros((10, 10), np.uint8), "must be an"),
    (np.zeros((10, 10, 3), np.float32), "uint8"),
    (np.zeros((4, 10, 3), np.uint8), "at least 8x8"),
    ([[1, 2, 3]], "numpy array"),
])
def test_exception(bad, match):
    with pytest.raises(InvalidInput, match=match):
        sky_alpha(bad)


def test_exception_prior_and_memory():
    img = np.zeros((16, 16, 3), np.uint8)
    with pytest.raises(InvalidInput, match="prior"):
        estimate_sky(img, prior=np.zeros((2, 16, 16), np.float32))
    with pytest.raises(InvalidInput, match="model_memory"):
        estimate_sky(img, model_memory=1.0)


def test_unit_colour_plausibility():
    rgb = np.array([[(95, 150, 230), (212, 214, 218), (240, 150, 60), (25, 35, 80),   # skies
                     (60, 120, 40), (120, 110, 95), (200, 150, 120), (20, 20, 20)]], np.uint8)  # not
    p = sky_colour_plausibility(cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2Lab))[0]
    assert (p[:4] > 0.6).all(), p
    assert (p[4:] < 0.2).all(), p


def test_deterministic():
    img, _ = composite(sky_overcast(), ground_texture("synthetic"), "wavy")
    a1, s1 = sky_alpha(img)
    a2, s2 = sky_alpha(img)
    assert s1 == s2 and np.array_equal(a1, a2)


# -- composites with known truth: IoU >= 0.9 ----------------------------------------------------

@pytest.mark.parametrize("shape", ["straight", "wavy"])
@pytest.mark.parametrize("sky", sorted(SKIES))
def test_iou_synthetic_skies(sky, shape, record_property):
    img, truth = composite(SKIES[sky](), ground_texture("synthetic"), shape)
    alpha, score = sky_alpha(img)
    value = iou(alpha, truth)
    record_property("iou", value)
    print(f"IoU {sky}/{shape}/synthetic ground: {value:.3f}")
    assert value >= 0.9, f"{sky}/{shape}: IoU {value:.3f}"
    assert score == pytest.approx(float(alpha.mean()))


@pytest.mark.media
@pytest.mark.parametrize("sky, ground, shape", [
    ("blue", "grass", "wavy"), ("overcast", "sand", "straight"), ("sunset", "gravel", "wavy"),
    ("night", "gravel", "straight"), ("overcast", "grass", "wavy"), ("blue", "sand", "straight"),
])
def test_iou_on_real_ground(sky, ground, shape):
    media("photos/landscape_sheep_field_sky.jpg")
    img, truth = composite(SKIES[sky](), ground_texture(ground), shape)
    value = iou(sky_alpha(img)[0], truth)
    print(f"IoU {sky}/{shape}/{ground}: {value:.3f}")
    assert value >= 0.9, f"{sky} over {ground} ({shape}): IoU {value:.3f}"


@pytest.mark.media
@pytest.mark.parametrize("photo, box, ground, shape", [
    ("landscape_sheep_field_sky.jpg", (0.0, 0.45, 0.0, 1.0), "grass", "wavy"),      # blue + thin clouds
    ("person_fullbody_beach_sky.jpg", (0.0, 0.4, 0.0, 1.0), "gravel", "straight"),  # overcast
    ("rocket_launch_sky.jpg", (0.0, 0.28, 0.14, 0.44), "sand", "wavy"),            # deep-blue dusk
])
def test_iou_real_sky_crops(photo, box, ground, shape):
    img, truth = composite(sky_photo(photo, box), ground_texture(ground), shape)
    value = iou(sky_alpha(img)[0], truth)
    print(f"IoU {photo} sky/{shape}/{ground}: {value:.3f}")
    assert value >= 0.9, f"{photo} sky over {ground}: IoU {value:.3f}"


@pytest.mark.media
@pytest.mark.parametrize("shape", ["straight", "wavy"])
def test_iou_hard_storm_clouds(shape):
    """Known hard case (docs/analysis-sky.md): the HDR sunset photo's dark, textured storm clouds
    over its own gravel. Dark textured clouds touching the skyline are partly missed; the bar
    is lower so a regression still shows."""
    img, truth = composite(sky_photo("landscape_lake_boats_sunset_sky.jpg", (0.0, 0.12, 0.0, 0.3)),
                           ground_texture("gravel"), shape)
    value = iou(sky_alpha(img)[0], truth)
    print(f"IoU lake storm-cloud sky/{shape}/gravel: {value:.3f}")
    assert value >= 0.82, f"storm clouds ({shape}): IoU {value:.3f}"


def test_soft_edge_is_fractional():
    """Across a blurred skyline the alpha passes through intermediate values, not a hard step."""
    img, _ = composite(sky_blue(), ground_texture("synthetic"), "straight", soft=4.0)
    alpha, _ = sky_alpha(img)
    col = alpha[:, W // 2]
    y = int(0.45 * H)
    assert col[y - 12] > 0.9 and col[y + 12] < 0.1
    assert ((col > 0.1) & (col < 0.9)).sum() >= 2


def test_branches_get_fractional_alpha():
    """Thin dark branches across the sky are cut out of the alpha (at least partly)."""
    img, truth = composite(sky_blue(), ground_texture("synthetic"), "straight")
    branches = img.copy()
    for k in range(6):  # 2 px diagonal twigs in the upper sky
        cv2.line(branches, (40 + 70 * k, 0), (90 + 70 * k, 90), (50, 45, 35), 2, cv2.LINE_AA)
    alpha, _ = sky_alpha(branches)
    on = np.zeros((H, W), np.uint8)
    for k in range(6):
        cv2.line(on, (40 + 70 * k, 0), (90 + 70 * k, 90), 1, 1)
    assert alpha[on.astype(bool) & (np.arange(H)[:, None] > 4)].mean() < 0.6
    assert iou(alpha, truth) >= 0.85


# -- real photos --------------------------------------------------------------------------------

def _photo(name: str) -> np.ndarray:
    from reworld.io.stills import read_image

    img = read_image(media(f"photos/{name}"))
    s = 512 / max(img.shape[:2])
    return cv2.resize(img, (round(img.shape[1] * s), round(img.shape[0] * s)), interpolation=cv2.INTER_AREA)


@pytest.mark.media
@pytest.mark.parametrize("name", ["indoor_pool_hall_people.jpg", "indoor_coffee_cup_table.png",
                                  "portrait_man_closeup.jpg"])
def test_no_sky_indoors(name):
    _, score = sky_alpha(_photo(name))
    print(f"no-sky {name}: fraction {score:.4f}")
    assert score < 0.02, f"{name}: sky fraction {score:.3f}"


@pytest.mark.media
@pytest.mark.parametrize("name, lo, hi", [
    ("landscape_lake_boats_sunset_sky.jpg", 0.04, 0.6),  # only the clear parts of an HDR sunset
    ("landscape_sheep_field_sky.jpg", 0.3, 0.6),
    ("person_fullbody_beach_sky.jpg", 0.3, 0.55),
    ("person_seated_beach_sky.jpg", 0.12, 0.35),
    ("rocket_launch_sky.jpg", 0.45, 0.85),
])
def test_sky_photos(name, lo, hi):
    alpha, score = sky_alpha(_photo(name))
    print(f"sky {name}: fraction {score:.3f}")
    assert lo <= score <= hi, f"{name}: sky fraction {score:.3f} outside [{lo}, {hi}]"
    h = alpha.shape[0]
    upper = float(alpha[: h // 2].sum()) / float(alpha.sum())
    assert upper >= 0.6, f"{name}: only {upper:.2f} of the sky is in the upper half"
    assert float(alpha[-h // 10:].mean()) < 0.15


# -- the model carried between frames -----------------------------------------------------------

def test_prior_and_model_keep_sky_on_a_weak_frame():
    img, truth = composite(sky_blue(), ground_texture("synthetic"), "straight")
    est = estimate_sky(img)
    assert isinstance(est.model, SkyModel) and est.model.weight == 1.0 and est.confidence > 0.8
    assert est.skyline.shape == (W,) and abs(float(np.median(est.skyline)) - 0.45 * H) < 0.05 * H
    again = estimate_sky(img, prior=est.alpha, model=est.model)
    assert again.model.weight == 2.0 and iou(again.alpha, truth) >= 0.9


def test_speed_at_512(record_property):
    img, _ = composite(sky_overcast(), ground_texture("synthetic"), "wavy")
    sky_alpha(img)
    t0 = time.perf_counter()
    n = 5
    for _ in range(n):
        sky_alpha(img)
    ms = (time.perf_counter() - t0) * 1000 / n
    record_property("ms_per_frame", ms)
    print(f"sky_alpha at {W}x{H}: {ms:.1f} ms/frame")
    assert ms < 200  # generous: shared CI machines; the target (<= 40 ms) is reported, not enforced
