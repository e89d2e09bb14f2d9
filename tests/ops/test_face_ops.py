"""Face geometry ops: canonical face, Umeyama, head pose conventions, expression measures,
per-clip normalisation, zero-lag One-Euro smoothing, blinks."""

from __future__ import annotations

import numpy as np
import pytest

from reworld.errors import InvalidInput
from reworld.ops import face as F


def posed(pitch: float, yaw: float, roll: float, s: float = 12.0, t=(300.0, 200.0, 0.0), face=None) -> np.ndarray:
    """Image landmarks of ``face`` (default: the canonical) at a known pose: ``s R c + t``."""
    c = F.canonical_face() if face is None else face
    return s * c @ F.rotation_from_euler(pitch, yaw, roll).T + np.asarray(t)


def measures(lm: np.ndarray, size=(480, 640)) -> np.ndarray:
    return F.expression_measures(F.to_face_frame(lm, F.head_pose(lm, size)))


def idx(name: str) -> int:
    return [m.name for m in F.MEASURES].index(name)


# -- canonical face ---------------------------------------------------------------------------------
def test_canonical_face_is_a_symmetric_upright_face_in_cm():
    c = F.canonical_face()
    assert c.shape == (478, 3) and np.isfinite(c).all() and not c.flags.writeable
    m = F.mirror_index()
    assert (m[m] == np.arange(478)).all()  # an involution
    assert np.allclose(c[m] * [-1, 1, 1], c, atol=0.011)  # mirror-symmetric (0.1 mm storage)
    er, el = F.eye_centres(c)
    assert np.linalg.norm(el - er) == pytest.approx(F.EYE_DISTANCE_CM, abs=0.01)
    assert el[0] > 0 > er[0]  # the subject's left eye on +x (the image's right)
    assert c[F.FOREHEAD, 1] < c[F.NOSE_TIP, 1] < c[F.CHIN, 1]  # y down
    assert c[F.NOSE_TIP, 2] < c[F.EYE["L"]["outer"], 2]  # the nose is nearer the camera
    assert 14.0 < c[F.CHIN, 1] - c[F.FOREHEAD, 1] < 20.0  # a plausible face height, cm
    assert np.allclose(c[list(F.RIGID)].mean(0), 0, atol=0.01)
    for a, b in ((33, 263), (133, 362), (61, 291), (468, 473), (159, 386)):
        assert m[a] == b


def test_build_canonical_recovers_a_face_from_posed_scaled_copies():
    c = F.canonical_face()
    meshes = [posed(10, -25, 30, s=4.0), posed(-5, 15, -10, s=9.0, t=(50, 60, 7)), posed(0, 0, 0, s=1.0)]
    rebuilt = F.build_canonical(meshes)
    assert np.abs(rebuilt - c).max() < 0.02
    # an asymmetric input comes out symmetric, in the face frame
    bent = F.canonical_face().copy()
    bent[F.MOUTH_CORNER["L"], 1] -= 0.5  # a one-sided smile
    out = F.build_canonical([posed(0, 20, 0, face=bent)])
    m = F.mirror_index()
    assert np.allclose(out[m] * [-1, 1, 1], out, atol=1e-6)
    with pytest.raises(InvalidInput, match="meshes"):
        F.build_canonical([np.zeros((10, 3))])


def test_encode_round_trip():
    c = F.canonical_face()
    assert F.encode_canonical(c) == F._CANONICAL_B64.replace("\n", "")


# -- Umeyama and head pose --------------------------------------------------------------------------
def test_umeyama_recovers_similarities_batched_and_nan():
    rng = np.random.default_rng(3)  # fixed seed: random point sets and poses
    src = rng.normal(size=(30, 3))
    rots = [F.rotation_from_euler(*rng.uniform(-60, 60, 3)) for _ in range(4)]
    dst = np.stack([s * src @ r.T + t for s, r, t in zip([0.5, 1, 2, 7], rots, rng.normal(size=(4, 3)), strict=True)])
    dst[2, 5] = np.nan
    s, r, t = F.umeyama(src, dst)
    assert np.allclose(s[[0, 1, 3]], [0.5, 1, 7]) and np.allclose(r[[0, 1, 3]], np.stack(rots)[[0, 1, 3]])
    assert np.isnan(s[2]) and np.isnan(r[2]).all() and np.isnan(t[2]).all()
    # a reflection is never returned
    s, r, _ = F.umeyama(src, src * [-1, 1, 1])
    assert np.linalg.det(r) == pytest.approx(1.0)
    with pytest.raises(InvalidInput, match="dst"):
        F.umeyama(src, src[:5])
    with pytest.raises(InvalidInput, match="weights"):
        F.umeyama(src, src, weights=-np.ones(30))


@pytest.mark.parametrize("pitch,yaw,roll", [(0, 0, 0), (12, -30, 20), (-20, 45, -35), (5, 5, 170)])
def test_euler_round_trip(pitch, yaw, roll):
    r = F.rotation_from_euler(pitch, yaw, roll)
    assert np.allclose(r @ r.T, np.eye(3)) and np.linalg.det(r) == pytest.approx(1.0)
    assert np.allclose(F.euler_from_rotation(r), [pitch, yaw, roll], atol=1e-9)


def test_euler_signs_follow_the_picture():
    """pitch + = nose up, yaw + = nose to the image's right, roll + = counter-clockwise on screen."""
    c = F.canonical_face()
    nose, left_eye = c[F.NOSE_TIP], c[F.EYE["L"]["outer"]]
    assert (F.rotation_from_euler(20, 0, 0) @ nose)[1] < nose[1]  # up = smaller y
    assert (F.rotation_from_euler(0, 20, 0) @ nose)[0] > nose[0]
    # counter-clockwise on screen (y down): the eye on the image's right goes up
    assert (F.rotation_from_euler(0, 0, 20) @ left_eye)[1] < left_eye[1]
    # the same as OpenCV's getRotationMatrix2D, whose positive angle is counter-clockwise
    cv2 = pytest.importorskip("cv2")
    m = cv2.getRotationMatrix2D((0.0, 0.0), 20.0, 1.0)
    assert np.allclose(F.rotation_from_euler(0, 0, 20)[:2, :2], m[:, :2])


def test_head_pose_recovers_a_known_pose_and_camera_position():
    rng = np.random.default_rng(0)  # fixed seed: landmark noise
    lm = posed(10, -25, 15, s=8.0, t=(400.0, 150.0, 0.0))
    hp = F.head_pose(lm, (480, 640), fov_deg=60)
    assert np.allclose(hp.euler, [10, -25, 15], atol=1e-6) and hp.scale == pytest.approx(8.0)
    assert hp.residual < 1e-9
    f = 320 / np.tan(np.radians(30))
    assert np.allclose(hp.translation, [(400 - 319.5) / 8, (150 - 239.5) / 8, f / 8])
    noisy = lm + rng.normal(0, 0.5, lm.shape)  # 0.5 px on a 8 px/cm face
    hp = F.head_pose(noisy, (480, 640))
    assert np.abs(hp.euler - [10, -25, 15]).max() < 1.5 and 0.02 < hp.residual < 0.2
    back = F.from_face_frame(F.to_face_frame(noisy, hp), hp.rotation, hp.scale, hp.origin)
    assert np.allclose(back, noisy)
    with pytest.raises(InvalidInput, match="landmarks"):
        F.head_pose(np.zeros((10, 3)), (480, 640))
    with pytest.raises(InvalidInput, match="fov_deg"):
        F.head_pose(lm, (480, 640), fov_deg=0)


def test_pose_vector_round_trip():
    hp = F.head_pose(np.stack([posed(5, 10, -20), posed(-3, 0, 40, s=3)]), (480, 640))
    v = F.pose_vector(hp.rotation, hp.scale, hp.origin, unit=150.0)
    assert v.shape == (2, F.POSE_DIMS)
    r, s, o = F.pose_from_vector(v, 150.0)
    assert np.allclose(r, hp.rotation) and np.allclose(s, hp.scale) and np.allclose(o, hp.origin)


# -- expression measures ----------------------------------------------------------------------------
def test_measures_ignore_head_pose_and_distance():
    ref = measures(posed(0, 0, 0))
    for pose in [(15, -30, 25), (-10, 20, -40)]:
        for s in (3.0, 20.0):
            assert np.allclose(measures(posed(*pose, s=s)), ref, atol=1e-9)


def test_measures_respond_to_the_right_features_on_the_right_side():
    c = F.canonical_face().copy()
    base = measures(posed(0, 0, 0, face=c))
    # lower lip and chin down: jaw and lip gap open, mouthClose does not
    jaw = c.copy()
    for i in (14, 87, 317, 17, F.CHIN):
        jaw[i, 1] += 1.0
    d = measures(posed(0, 0, 0, face=jaw)) - base
    assert d[idx("jawOpen")] == pytest.approx(1.0) and d[idx("_lipGap")] == pytest.approx(1.0)
    assert d[idx("mouthClose")] == pytest.approx(0.0, abs=1e-9)
    # the subject's left mouth corner up: left smile only
    sm = c.copy()
    sm[F.MOUTH_CORNER["L"], 1] -= 0.3
    d = measures(posed(0, 30, 0, face=sm)) - base
    assert d[idx("mouthSmileLeft")] == pytest.approx(0.3) and d[idx("mouthFrownLeft")] == pytest.approx(-0.3)
    assert d[idx("mouthSmileRight")] == pytest.approx(0.0, abs=1e-9)
    # the subject's right eye closing: right blink only
    bl = c.copy()
    for up, lo in zip(F.EYE["R"]["upper"], F.EYE["R"]["lower"], strict=True):
        bl[up, 1] = bl[lo, 1] - 0.02
    d = measures(posed(10, 0, 0, face=bl)) - base
    assert d[idx("eyeBlinkRight")] > 0.15 and d[idx("eyeWideRight")] < -0.15
    assert d[idx("eyeBlinkLeft")] == pytest.approx(0.0, abs=1e-9)
    # both irises to the image's right (+x): the left eye looks out, the right eye looks in
    gz = c.copy()
    gz[468:478, 0] += 0.3
    d = measures(posed(0, 0, 0, face=gz)) - base
    assert d[idx("eyeLookOutLeft")] > 0.05 and d[idx("eyeLookInRight")] > 0.05
    assert d[idx("eyeLookInLeft")] < 0 and d[idx("eyeLookOutRight")] < 0
    # inner brows up
    br = c.copy()
    for s in ("L", "R"):
        for i in F.BROW[s]["inner"]:
            br[i, 1] -= 0.5
    d = measures(posed(0, 0, 0, face=br)) - base
    assert d[idx("browInnerUp")] == pytest.approx(0.5) and d[idx("browDownLeft")] < 0
    with pytest.raises(InvalidInput, match="face"):
        F.expression_measures(np.zeros((5, 3)))


def test_normalise_curves_uses_neutral_extreme_and_a_minimum_span():
    rng = np.random.default_rng(1)  # fixed seed: measurement noise
    T = 200
    jaw = np.r_[np.zeros(100), np.linspace(0, 2.0, 100)] + rng.normal(0, 0.01, T)
    flat = 0.3 + rng.normal(0, 0.02, T)  # an expression that never happens
    raw = np.zeros((T, len(F.MEASURES)))
    raw[:, idx("jawOpen")] = jaw
    raw[:, idx("mouthSmileLeft")] = flat
    valid = np.ones(T, bool)
    valid[:5] = False
    v, neu, ext = F.normalise_curves(raw, valid)
    assert v.dtype == np.float32 and v.shape == raw.shape and (v >= 0).all() and (v <= 1).all()
    j = v[:, idx("jawOpen")]
    assert j[:100].max() < 0.05 and j[-3:].min() > 0.95
    assert neu[idx("jawOpen")] == pytest.approx(0.0, abs=0.05)
    s = v[:, idx("mouthSmileLeft")]
    assert s.max() < 0.15  # noise is not stretched to [0, 1]
    assert ext[idx("mouthSmileLeft")] == pytest.approx(neu[idx("mouthSmileLeft")] + F.MEASURES[idx("mouthSmileLeft")].min_span)
    raw[10, 0] = np.nan
    v, _, _ = F.normalise_curves(raw)
    assert np.isnan(v[10, 0]) and np.isfinite(v[11]).all()
    with pytest.raises(InvalidInput, match="raw"):
        F.normalise_curves(raw[:, :3])
    with pytest.raises(InvalidInput, match="high"):
        F.normalise_curves(raw, high=40)


def test_compose_blendshapes_pucker_and_funnel():
    v = np.zeros((3, len(F.MEASURES)), np.float32)
    v[:, idx("_mouthNarrow")] = [1.0, 1.0, 0.0]
    v[:, idx("_lipGap")] = [0.0, 1.0, 1.0]
    out = F.compose_blendshapes(v)
    names = list(F.BLENDSHAPE_NAMES)
    assert out.shape == (3, len(names))
    assert out[:, names.index("mouthPucker")].tolist() == [1.0, 0.0, 0.0]
    assert out[:, names.index("mouthFunnel")].tolist() == [0.0, 1.0, 0.0]


# -- smoothing --------------------------------------------------------------------------------------
def test_one_euro_blocks_equal_whole_and_zero_lag_has_no_delay():
    rng = np.random.default_rng(2)  # fixed seed: noise
    x = np.cumsum(rng.normal(size=(50, 4)), 0)
    st = F.OneEuroState()
    parts = [F.one_euro(x[a:b], 0.05, state=st) for a, b in ((0, 7), (7, 30), (30, 50))]
    assert np.allclose(np.concatenate(parts), F.one_euro(x, 0.05))
    # a symmetric bump keeps its peak frame (a causal filter would move it later)
    t = np.arange(61)
    bump = np.exp(-0.5 * ((t - 30) / 3.0) ** 2)
    assert int(np.argmax(F.one_euro_zero_lag(bump, 1 / 15))) == 30
    assert int(np.argmax(F.one_euro(bump, 1 / 15, beta=0.0))) > 30
    with pytest.raises(InvalidInput, match="dt"):
        F.one_euro(x, 0.0)


def test_one_euro_damps_jitter_but_keeps_a_blink():
    """At 15 fps: resting noise is damped, a two-frame blink keeps most of its depth."""
    rng = np.random.default_rng(4)  # fixed seed: noise
    T = 90
    lid = 1.0 + rng.normal(0, 0.01, T)  # lid gap, face sizes... scaled to 'faces' below
    lid[40:42] = 0.0  # a blink: closed for two frames
    y = F.one_euro_zero_lag(lid * 0.07, 1 / 15) / 0.07  # lid gap ~0.07 face sizes
    assert y[40:42].max() < 0.3  # depth kept (>70 %)
    still = np.r_[0:30, 60:90]
    assert np.std(y[still]) < 0.6 * np.std(lid[still])  # jitter damped
    # NaN rows split runs and stay NaN
    z = lid.copy()
    z[60] = np.nan
    out = F.one_euro_zero_lag(z, 1 / 15)
    assert np.isnan(out[60]) and np.isfinite(out[:60]).all() and np.isfinite(out[61:]).all()


def test_smooth_face_separates_head_motion_from_expression():
    """A head turning fast with noisy landmarks: the pose follows without lag, the shape noise is
    damped (the head's speed does not open the shape filter)."""
    rng = np.random.default_rng(5)  # fixed seed: landmark noise
    T = 45
    yaw = 30 * np.sin(np.linspace(0, 2 * np.pi, T))
    truth = np.stack([posed(0, y, 0.5 * y, s=10.0, t=(320 + 3 * y, 240, 0)) for y in yaw])
    noisy = truth + rng.normal(0, 0.4, truth.shape)
    lm, shape, pose = F.smooth_face(noisy, 1 / 15, (480, 640))
    assert np.abs(pose.euler[:, 1] - yaw).max() < 2.0
    err_raw = np.linalg.norm(noisy - truth, axis=-1).mean()
    err = np.linalg.norm(lm - truth, axis=-1).mean()
    assert err < 0.7 * err_raw
    assert shape.shape == truth.shape


def test_blink_events_and_runs():
    b = np.array([0, 0.6, 0.9, 0.2, np.nan, 0.7, 0.8, 0.9, 0.9, 0.1])
    assert F.blink_events(b) == [(1, 3, 2), (5, 9, 7)]
    assert F.blink_events(b, max_frames=3) == [(1, 3, 2)]
    assert F.true_runs(np.array([1, 1, 0, 1], bool)) == [(0, 2), (3, 4)]


def test_box_from_landmarks():
    pts = np.array([[[1.0, 2.0, 0.0], [5.0, -1.0, 3.0]]])
    assert F.box_from_landmarks(pts).tolist() == [[1.0, -1.0, 5.0, 2.0]]
