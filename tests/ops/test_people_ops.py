"""People ops: guided-filter edges, temporal helpers, crops, instances, colour models, parts."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from reworld.errors import InvalidInput
from reworld.ops.people import (
    FACE_OVAL,
    LEFT_BROW,
    LEFT_EYE,
    LIPS_INNER,
    LIPS_OUTER,
    PART_NAMES,
    RIGHT_BROW,
    RIGHT_EYE,
    ColourModel,
    blend_temporal,
    body_regions,
    boxes_from_mask,
    change_confidence,
    colour_index,
    crop_window,
    estimate_parts,
    face_regions,
    flow_to_prev,
    refine_edges,
    resize_map,
    split_instances,
    track_components,
    warp_alpha,
    warp_planes,
)

SKIN, HAIR, SHIRT, TROUSERS, BACK = (224, 172, 140), (70, 45, 30), (200, 30, 40), (30, 50, 160), (120, 160, 110)


def ring(cx: float, cy: float, rx: float, ry: float, n: int, start: float = -90.0) -> np.ndarray:
    """``n`` points on an ellipse, clockwise on screen (y down) from ``start`` degrees."""
    a = np.radians(start + 360.0 * np.arange(n) / n)
    return np.stack([cx + rx * np.cos(a), cy + ry * np.sin(a)], 1).astype(np.float32)


def synthetic_mesh(cx: float, cy: float, fw: float, fh: float) -> np.ndarray:
    """A (478, 3) face mesh in MediaPipe's topology: oval, lips, eyes and brows on ellipses."""
    mesh = np.zeros((478, 3), np.float32)
    mesh[:, 0], mesh[:, 1] = cx, cy
    mesh[list(FACE_OVAL), :2] = ring(cx, cy, fw / 2, fh / 2, len(FACE_OVAL))  # 10 on top, 152 at the chin
    mesh[list(LIPS_OUTER), :2] = ring(cx, cy + 0.3 * fh, 0.2 * fw, 0.07 * fh, len(LIPS_OUTER))
    mesh[list(LIPS_INNER), :2] = ring(cx, cy + 0.3 * fh, 0.15 * fw, 0.015 * fh, len(LIPS_INNER))
    for sign, eye, brow in ((1, LEFT_EYE, LEFT_BROW), (-1, RIGHT_EYE, RIGHT_BROW)):
        mesh[list(eye), :2] = ring(cx + sign * 0.2 * fw, cy - 0.08 * fh, 0.1 * fw, 0.04 * fh, len(eye))
        mesh[list(brow), :2] = ring(cx + sign * 0.2 * fw, cy - 0.2 * fh, 0.12 * fw, 0.025 * fh, len(brow))
    return mesh


def synthetic_pose(cx: float, top: float, height: float) -> np.ndarray:
    """A (33, 3) standing pose (x, y, visibility 1), arms hanging, ``height`` px from head to ankles."""
    H = height
    sw = 0.25 * H
    p = np.zeros((33, 3), np.float32)
    p[:, 2] = 1.0
    pts = {0: (cx, top + 0.07 * H), 1: (cx + 0.02 * H, top + 0.055 * H), 2: (cx + 0.03 * H, top + 0.055 * H),
           3: (cx + 0.04 * H, top + 0.055 * H), 4: (cx - 0.02 * H, top + 0.055 * H), 5: (cx - 0.03 * H, top + 0.055 * H),
           6: (cx - 0.04 * H, top + 0.055 * H), 7: (cx + 0.055 * H, top + 0.065 * H), 8: (cx - 0.055 * H, top + 0.065 * H),
           9: (cx + 0.02 * H, top + 0.09 * H), 10: (cx - 0.02 * H, top + 0.09 * H),
           11: (cx + sw / 2, top + 0.2 * H), 12: (cx - sw / 2, top + 0.2 * H),
           13: (cx + sw / 2 + 0.03 * H, top + 0.35 * H), 14: (cx - sw / 2 - 0.03 * H, top + 0.35 * H),
           15: (cx + sw / 2 + 0.04 * H, top + 0.48 * H), 16: (cx - sw / 2 - 0.04 * H, top + 0.48 * H),
           23: (cx + 0.35 * sw, top + 0.52 * H), 24: (cx - 0.35 * sw, top + 0.52 * H),
           25: (cx + 0.35 * sw, top + 0.75 * H), 26: (cx - 0.35 * sw, top + 0.75 * H),
           27: (cx + 0.35 * sw, top + 0.97 * H), 28: (cx - 0.35 * sw, top + 0.97 * H)}
    for k, (x, y) in pts.items():
        p[k, :2] = (x, y)
    for wrist, fingers in ((15, (17, 19, 21)), (16, (18, 20, 22))):
        for j, f in enumerate(fingers):
            p[f, :2] = p[wrist, :2] + np.float32([(j - 1) * 0.01 * H, 0.04 * H])
    for ankle, (heel, toe) in ((27, (29, 31)), (28, (30, 32))):
        p[heel, :2] = p[ankle, :2] + np.float32([0, 0.02 * H])
        p[toe, :2] = p[ankle, :2] + np.float32([0.03 * H, 0.025 * H])
    return p


def synthetic_person(h: int = 240, w: int = 200):
    """A drawn person (skin face, dark hair, red shirt, blue trousers, bare arms) with its mesh and pose."""
    img = np.empty((h, w, 3), np.uint8)
    img[:] = BACK
    H = 0.9 * h
    top, cx = 0.04 * h, w / 2
    pose = synthetic_pose(cx, top, H)
    fw, fh = 0.14 * H, 0.18 * H
    fcx, fcy = cx, top + 0.08 * H
    mesh = synthetic_mesh(fcx, fcy, fw, fh)
    person = np.zeros((h, w), np.uint8)

    def paint(mask_fn, colour):
        m = np.zeros((h, w), np.uint8)
        mask_fn(m)
        img[m > 0] = colour
        person[m > 0] = 1

    sw = 0.25 * H
    paint(lambda m: cv2.ellipse(m, (int(fcx), int(fcy - 0.15 * fh)), (int(0.62 * fw), int(0.55 * fh)), 0, 0, 360, 1, -1), HAIR)
    paint(lambda m: cv2.fillPoly(m, [np.int32(pose[[11, 12, 24, 23], :2])], 1), SHIRT)
    paint(lambda m: cv2.fillPoly(m, [np.int32([pose[23, :2] + (0.1 * sw, 0), pose[24, :2] - (0.1 * sw, 0),
                                               pose[28, :2] - (0.12 * sw, 0), pose[27, :2] + (0.12 * sw, 0)])], 1), TROUSERS)
    for a, b in ((11, 13), (13, 15), (12, 14), (14, 16)):
        paint(lambda m, a=a, b=b: cv2.line(m, tuple(np.int32(pose[a, :2])), tuple(np.int32(pose[b, :2])), 1, int(0.12 * sw)), SKIN)
    for wr in (15, 16):
        paint(lambda m, wr=wr: cv2.circle(m, tuple(np.int32(pose[wr, :2] + (0, 0.03 * H))), int(0.03 * H), 1, -1), SKIN)
    paint(lambda m: cv2.fillPoly(m, [np.int32(mesh[list(FACE_OVAL), :2])], 1), SKIN)
    paint(lambda m: cv2.fillPoly(m, [np.int32(mesh[list(LIPS_OUTER), :2])], 1), (170, 60, 70))
    for eye in (LEFT_EYE, RIGHT_EYE):
        paint(lambda m, eye=eye: cv2.fillPoly(m, [np.int32(mesh[list(eye), :2])], 1), (250, 250, 250))
    return img, person.astype(np.float32), mesh, pose


def centroid_y(a: np.ndarray) -> float:
    ys = np.arange(a.shape[0], dtype=np.float64)[:, None]
    return float((a * ys).sum() / max(a.sum(), 1e-9))


def inside(part: np.ndarray, region: np.ndarray) -> float:
    """Share of ``part``'s mass where ``region`` > 0.5."""
    return float((part * (region > 0.5)).sum() / max(part.sum(), 1e-9))


# -- edges ---------------------------------------------------------------------------------
def test_refine_edges_snaps_a_blurred_edge_to_the_image_edge():
    img = np.zeros((80, 80, 3), np.uint8)
    img[:, :40] = (90, 180, 160)
    img[:, 40:] = (200, 180, 160)
    truth = np.zeros((80, 80), np.float32)
    truth[:, 40:] = 1
    coarse = cv2.GaussianBlur(truth, (0, 0), 2)  # what an upsampled low-resolution network gives
    err = np.abs(coarse - truth).mean()

    def error(**kw):
        out = refine_edges(img, coarse, **kw)
        assert out.dtype == np.float32 and out.shape == coarse.shape
        return np.abs(out - truth).mean() / err

    assert error(radius=4, gain=2.0) < 0.05  # Fisher-axis guide + steepening: the step edge back
    assert error(radius=4, gain=2.0, guide="rgb", eps=1e-2) < 0.05
    # an edge between two colours of the same brightness: invisible to the luma guide
    img[:, :40], img[:, 40:] = (200, 100, 100), (100, 151, 100)
    assert error(radius=4, gain=2.0) < 0.05
    assert error(radius=4, gain=2.0, guide="luma") > 0.2
    assert error(radius=0, gain=2.0) < 0.5  # steepening alone
    assert error(radius=0, gain=1.0) == 1.0  # nothing to do
    coarse_copy = coarse.copy()
    refine_edges(img, coarse, radius=4, gain=2.0)
    assert np.array_equal(coarse, coarse_copy)  # the input is not modified


def test_refine_edges_rejects_bad_input_by_name():
    img = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(InvalidInput, match="alpha"):
        refine_edges(img, np.zeros((8, 9), np.float32))
    with pytest.raises(InvalidInput, match="image"):
        refine_edges(np.zeros((8, 8), np.uint8), np.zeros((8, 8), np.float32))
    with pytest.raises(InvalidInput, match="radius"):
        refine_edges(img, np.zeros((8, 8), np.float32), radius=-1)
    with pytest.raises(InvalidInput, match="eps"):
        refine_edges(img, np.zeros((8, 8), np.float32), eps=0)
    with pytest.raises(InvalidInput, match="guide"):
        refine_edges(img, np.zeros((8, 8), np.float32), guide="hsv")
    with pytest.raises(InvalidInput, match="gain"):
        refine_edges(img, np.zeros((8, 8), np.float32), gain=0.5)


# -- time ----------------------------------------------------------------------------------
def test_flow_to_prev_follows_a_shift_and_marks_uncovered_pixels():
    bwd = np.zeros((12, 16, 2), np.float32)
    bwd[..., 0] = -2.0  # content moved 2 px right between t-1 and t (stored grid px)
    fwd = -bwd
    where, conf = flow_to_prev(bwd, fwd, (24, 32))  # analysis grid twice the stored one
    assert where.shape == (24, 32, 2) and conf.shape == (24, 32)
    assert np.allclose(where[10, 10], (10 - 4, 10), atol=1e-4)
    assert conf[:, 8:].min() > 0.99
    assert conf[:, 0].max() < 0.01  # came from outside the frame
    prev = np.zeros((24, 32), np.float32)
    prev[:, 10] = 1.0
    moved = warp_alpha(prev, where)
    assert int(np.argmax(moved[5])) == 14


def test_resize_map_and_warp_planes_match_single_plane_warps():
    bwd = np.zeros((6, 8, 2), np.float32)
    bwd[..., 1] = 1.0
    where, _ = flow_to_prev(bwd, -bwd, (12, 16))
    small = resize_map(where, (6, 8))
    assert np.allclose(small[3, 3], (3, 4), atol=1e-4)
    rng = np.random.default_rng(0)  # fixed seed: random planes
    planes = rng.random((6, 12, 16), dtype=np.float32)
    together = warp_planes(planes, where)
    assert np.allclose(together, np.stack([warp_alpha(p, where) for p in planes]), atol=1e-6)


def test_change_confidence_and_blend_temporal():
    a = np.zeros((20, 20, 3), np.uint8)
    b = a.copy()
    b[:, 10:] = 180
    c = change_confidence(b, a)
    assert c[:, :5].min() > 0.99 and c[:, 15:].max() < 0.01
    raw = np.ones((20, 20), np.float32)
    out = blend_temporal(raw, np.zeros_like(raw), c, 0.5)
    assert np.allclose(out[:, :5], 0.5, atol=0.01) and np.allclose(out[:, 15:], 1.0, atol=0.01)
    assert np.array_equal(blend_temporal(raw, None, None, 0.5), raw)
    with pytest.raises(InvalidInput, match="k"):
        blend_temporal(raw, raw, None, 1.0)
    with pytest.raises(InvalidInput, match="prev"):
        change_confidence(a, a[:10])


# -- crops ---------------------------------------------------------------------------------
def test_boxes_and_crop_windows():
    a = np.zeros((60, 80), np.float32)
    a[20:35, 5:12] = 1.0
    a[50:52, 70:72] = 1.0  # 4 px: below min_area
    boxes = boxes_from_mask(a, min_area=5)
    assert boxes.tolist() == [[5.0, 20.0, 12.0, 35.0, 105.0]]
    x0, y0, x1, y1 = crop_window(boxes[0], (60, 80), margin=2.0, aspect=16 / 9)
    assert x0 == 0 and x1 > 12 and y0 < 20 and y1 > 35  # shifted inside the image, not shrunk
    assert y1 - y0 == 30 and abs((x1 - x0) / (y1 - y0) - 16 / 9) < 0.05
    assert crop_window((0, 0, 80, 60), (60, 80)) == (0, 0, 80, 60)  # never larger than the image


# -- instances -----------------------------------------------------------------------------
def test_split_instances_follows_skeletons_where_people_touch():
    h, w = 200, 200
    left, right = synthetic_pose(70, 10, 180), synthetic_pose(130, 10, 180)
    mask = np.zeros((h, w), bool)
    mask[10:190, 40:160] = True  # one blob: the two people touch
    labels = split_instances(mask, [left, None, right])
    assert labels.dtype == np.uint8 and set(np.unique(labels)) == {0, 1, 3}
    assert (labels[50:150, 45:90] == 1).mean() > 0.95 and (labels[50:150, 110:155] == 3).mean() > 0.95
    assert (labels[~mask] == 0).all()
    # a raised hand far from the skeleton but connected to the body keeps the body's label
    mask2 = np.zeros((h, w), bool)
    mask2[10:190, 50:90] = True
    mask2[0:12, 84:90] = True
    lab2 = split_instances(mask2, [left], reach=0.05)
    assert (lab2[mask2] == 1).all()
    # a person known only by a box
    lab3 = split_instances(mask2, [None], boxes=[(50, 10, 90, 190)])
    assert (lab3[mask2] == 0).all()
    lab4 = split_instances(mask2, [np.full((33, 3), np.nan, np.float32)], boxes=[(50, 10, 90, 190)])
    assert (lab4[20:180, 55:85] == 1).all()


def test_track_components_keeps_labels_and_merges_fragments():
    m = np.zeros((40, 60), bool)
    m[5:35, 5:20] = True  # person A
    m[5:35, 40:55] = True  # person B
    m[36:38, 10:12] = True  # a 4-px fragment just below A
    first = track_components(m, None, first_label=3)
    assert first[20, 10] == 3 and first[20, 45] == 4 and first[37, 10] == 3
    # next frame: both moved 2 px right; B's previous label is kept, whatever the order
    m2 = np.roll(m, 2, axis=1)
    prev = np.zeros_like(first)
    prev[m] = 0
    prev[:, 2:] = first[:, :-2]  # the previous labels moved along the motion
    prev[5:35, 42:57] = 9  # pretend B was labelled 9
    second = track_components(m2, prev, first_label=3)
    assert second[20, 45] == 9 and second[20, 10] == 3
    with pytest.raises(InvalidInput, match="first_label"):
        track_components(m, None, first_label=0)


# -- colour models -----------------------------------------------------------------------------
def test_colour_model_separates_seeded_colours_and_decays():
    img = np.zeros((20, 40, 3), np.uint8)
    img[:, :20] = SKIN
    img[:, 20:] = SHIRT
    left = np.zeros((20, 40), np.float32)
    left[:, :20] = 1
    model = ColourModel.empty().update(img, {"skin": left, "clothes": 1 - left})
    post = model.posteriors(img, ("skin", "clothes"))
    assert post[0, :, :20].min() > 0.9 and post[1, :, 20:].min() > 0.9
    assert np.allclose(model.posteriors(img, ("skin", "clothes"), index=colour_index(img)), post)
    assert model.known("skin") and not model.known("hair")
    older = model.update(img, {})
    assert np.isclose(older.counts.sum(), 0.9 * model.counts.sum())
    # an empty model falls back to a generic skin prior: skin tones beat blue
    blue = np.zeros((1, 2, 3), np.uint8)
    blue[0, 0], blue[0, 1] = SKIN, (20, 40, 200)
    r = ColourModel.empty().ratio(blue, "skin")
    assert r[0, 0] > 0.5 > r[0, 1]


# -- parts ---------------------------------------------------------------------------------------
def test_face_regions_are_ordered_like_a_face():
    mesh = synthetic_mesh(100, 100, 60, 80)
    r = face_regions((200, 200), mesh)
    face = r["face"]
    assert inside(r["lips"], face) > 0.99 and inside(r["eyes"], face) > 0.99
    assert centroid_y(r["lips"]) > centroid_y(r["eyes"]) > centroid_y(r["brows"])
    assert centroid_y(r["hair_seed"]) < centroid_y(face) - 0.4 * 80
    assert centroid_y(r["chest"]) > 100 + 40
    assert (r["skin_seed"] * r["eyes"]).sum() == 0 and (r["skin_seed"] * r["lips"]).sum() == 0
    bad = mesh.copy()
    bad[FACE_OVAL[3]] = np.nan
    assert face_regions((200, 200), bad) is None
    with pytest.raises(InvalidInput, match="landmarks"):
        face_regions((200, 200), mesh[:100])


def test_body_regions_follow_the_pose():
    pose = synthetic_pose(100, 10, 180)
    r = body_regions((200, 200), pose)
    assert centroid_y(r["upper"]) < centroid_y(r["lower"])
    assert centroid_y(r["head"]) < centroid_y(r["upper"])
    hands = r["hands"]
    for wrist in (15, 16):
        x, y = np.int32(pose[wrist, :2])
        assert hands[y, x] > 0.9
    hidden = pose.copy()
    hidden[11, 2] = 0.1  # a shoulder not visible
    assert body_regions((200, 200), hidden) is None


def test_estimate_parts_on_a_drawn_person():
    img, person, mesh, pose = synthetic_person()
    est = estimate_parts(img, person, [mesh], [pose])
    parts = dict(zip(PART_NAMES, est.alphas))
    assert est.alphas.shape == (8, *person.shape) and est.faces == 1 and est.bodies == 1
    assert 0.0 <= est.alphas.min() and est.alphas.max() <= 1.0
    hair_px = np.all(img == HAIR, -1)
    skin_px = np.all(img == SKIN, -1)
    shirt_px, trousers_px = np.all(img == SHIRT, -1), np.all(img == TROUSERS, -1)
    assert parts["hair"][hair_px].mean() > 0.5 and parts["hair"][skin_px].mean() < 0.1
    assert parts["skin"][skin_px].mean() > 0.6 and parts["skin"][shirt_px].mean() < 0.1
    assert parts["upper_clothes"][shirt_px].mean() > 0.6 and parts["upper_clothes"][trousers_px].mean() < 0.2
    assert parts["lower_clothes"][trousers_px].mean() > 0.6 and parts["lower_clothes"][shirt_px].mean() < 0.2
    assert inside(parts["lips"], parts["face"]) > 0.99 and inside(parts["eyes"], parts["face"]) > 0.99
    assert parts["hands"][np.int32(pose[15, 1]) + 5, np.int32(pose[15, 0])] > 0.5
    assert (parts["hair"] * (person == 0)).sum() == 0  # nothing outside the person
    # the colour model carries over to the next frame
    again = estimate_parts(img, person, [mesh], [pose], model=est.model)
    assert again.model.counts.sum() > est.model.counts.sum()


def test_estimate_parts_without_landmarks_is_empty():
    img, person, _, _ = synthetic_person(60, 50)
    est = estimate_parts(img, person, [], [])
    assert est.alphas.shape == (8, 60, 50) and not est.alphas.any() and est.faces == est.bodies == 0
    with pytest.raises(InvalidInput, match="person"):
        estimate_parts(img, person[:10], [], [])
