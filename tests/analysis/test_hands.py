"""The hands analyzer: hands of a photographed person moved along a known path (truth from the
unmoved photo), sides and pose ids, the whole-frame search on a close-up, empty clips, bad
parameters, overlays; and how little it finds on the shared low-resolution clips."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import media
from test_pose import (
    MAN_BOX,
    background,
    compose,
    reference,
    shared_cache,
    sprite,
    write,
)

from reworld.analysis.base import REGISTRY
from reworld.analysis.cache import AnalysisCache
from reworld.analysis.hands import HandsAnalyzer, hand_roi, overlay
from reworld.analysis.runner import analyze
from reworld.errors import InvalidInput
from reworld.ops.pose import crop_matrix, jitter

pytest.importorskip("mediapipe")


def hand_reference(frame: np.ndarray, pose_points: np.ndarray, side: int) -> np.ndarray:
    """MediaPipe Hands (static) on the unmoved frame, in the crop the pose suggests: ``(21, 2)`` px."""
    import cv2

    from reworld.analysis._mediapipe import create, quiet_stderr

    centre, side_px = hand_roi(pose_points, side)
    m = crop_matrix((float(centre[0]), float(centre[1])), side_px, 256)
    crop = cv2.warpAffine(frame, m, (256, 256), flags=cv2.INTER_LINEAR)
    with quiet_stderr():
        res = create("hands", static_image_mode=True, max_num_hands=1).process(crop)
    assert res.multi_hand_landmarks
    uv = np.array([(q.x * 256 - 0.5, q.y * 256 - 0.5, 1.0) for q in res.multi_hand_landmarks[0].landmark])
    return uv @ cv2.invertAffineTransform(m).T


def hand_length(p: np.ndarray) -> float:
    return float(np.linalg.norm(p[9, :2] - p[0, :2]) + np.linalg.norm(p[12, :2] - p[9, :2]))


@pytest.fixture(scope="module")
def waving(tmp_path_factory):
    """The beach man's upper body (hands ~45 px) swaying +-40 px over 30 frames of 960x540 with
    sensor noise; truth = the hands found on the unmoved frame, moved by the path."""
    tmp = tmp_path_factory.mktemp("hands")
    H, W, T = 540, 960, 30
    man = sprite("person_fullbody_beach_sky.jpg", 480, (MAN_BOX[0], MAN_BOX[1], MAN_BOX[2], 420), cutout=False)
    bg = background(H, W)
    p0 = np.array([(W - man[0].shape[1]) / 2, (H - man[0].shape[0]) / 2])
    path = np.stack([40 * np.sin(2 * np.pi * np.arange(T) / 30), 0.3 * np.arange(T)], 1)
    rng = np.random.default_rng(0)  # fixed seed: sensor noise
    frames = [np.clip(compose(bg, [(*man, tuple(p0 + d))]) + rng.normal(0, 3, (H, W, 3)), 0, 255).astype(np.uint8)
              for d in path]
    ref = compose(bg, [(*man, tuple(p0))])
    L0 = reference(ref)
    truth = {side: hand_reference(ref, L0, side)[None] + path[:, None] for side in (0, 1)}
    a = analyze(write(tmp / "waving.mp4", frames), ["hands"], cache=AnalysisCache(tmp / "cache"))
    return a, truth, frames


def test_registered_and_bad_params_are_named():
    assert REGISTRY["hands"] is HandsAnalyzer and HandsAnalyzer.requires == ("pose",)
    for bad, field in (({"model_complexity": 2}, "model_complexity"), ({"whole_frame": "sometimes"}, "whole_frame"),
                       ({"crop_size": 10}, "crop_size"), ({"max_wrist_offset": 0}, "max_wrist_offset"),
                       ({"min_wrist_visibility": 1.5}, "min_wrist_visibility"), ({"smooth": 1}, "smooth"),
                       ({"beta": float("nan")}, "beta"), ({"min_hand_px": -1}, "min_hand_px")):
        with pytest.raises(InvalidInput, match=f"hands.{field}"):
            HandsAnalyzer(bad)
    with pytest.raises(InvalidInput, match="not a parameter"):
        HandsAnalyzer({"max_num_hands": 4})


def test_hand_roi_needs_a_visible_wrist():
    p = np.zeros((33, 3))
    p[:, 2] = 1.0
    p[14, :2], p[16, :2], p[18, :2], p[20, :2] = (100, 0), (100, 80), (95, 96), (105, 96)
    centre, side_px = hand_roi(p, 1)
    assert centre.tolist() == [100.0, 96.0] and side_px == pytest.approx(2.6 * 32)
    p[16, 2] = 0.1
    assert hand_roi(p, 1) is None
    p[16, 2] = 1.0
    p[18, :2] = p[20, :2] = np.nan  # no knuckles: centred on the wrist, half a forearm wide
    centre, side_px = hand_roi(p, 1)
    assert centre.tolist() == [100.0, 80.0] and side_px == pytest.approx(40.0)


def test_no_people_no_hands(tmp_path, clip):
    a = analyze(clip, ["hands"], cache=AnalysisCache(tmp_path / "c"))
    tr = a["hands"]
    assert a["pose"].meta["people"] == 0
    assert tr["landmarks"].shape == (12, 2, 21, 3) and tr["person"].tolist() == [-1, -1]
    assert not tr["present"].any() and tr.meta["hands"] == 0
    assert tr.meta["message"].startswith("no hands found in 12 frames")
    out = overlay(tr, np.zeros((48, 64, 3), np.uint8), 3)
    assert not out.any()


@pytest.mark.media
@pytest.mark.slow
def test_hands_follow_the_known_path_with_sides_and_ids(waving, record_property):
    a, truth, frames = waving
    tr, pose = a["hands"], a["pose"]
    T = len(frames)
    assert pose.meta["people"] == 1
    assert tr["landmarks"].shape == (T, 4, 21, 3) and tr["person"].tolist() == [0, 0, -1, -1]
    assert tr["side"].tolist() == [0, 1, 0, 1]
    figures = {}
    for side in (0, 1):
        present = tr["present"][:, side]
        pts = tr["landmarks"][:, side]
        err = np.linalg.norm(pts[present, :, :2] - truth[side][present, :, :2], axis=-1) / hand_length(truth[side][0])
        wrist = pose["image"][:, 0, (15, 16)[side], :2]
        off = np.linalg.norm(tr["raw"][present, side, 0, :2] - wrist[present], axis=1) / hand_length(truth[side][0])
        j_raw = jitter(tr["raw"][:, side, :, :2])
        j_s = jitter(pts[..., :2])
        figures[("left", "right")[side]] = {"found": float(present.mean()), "err_median": float(np.median(err)),
                                            "err_p90": float(np.percentile(err, 90)), "jitter": (j_raw, j_s),
                                            "agree": float(np.nanmean(tr["handedness"][:, side]))}
        print(f"{('left', 'right')[side]} hand: found in {present.mean():.0%} of frames, error vs the moved photo "
              f"median {np.median(err):.1%} p90 {np.percentile(err, 90):.1%} of the hand length, jitter "
              f"{j_raw:.2f} -> {j_s:.2f} px, MediaPipe handedness agreement {np.nanmean(tr['handedness'][:, side]):.2f}")
        # measured: left (a loose fist seen edge-on, ambiguous even for MediaPipe's handedness)
        # 10-12 % / 37-44 %, right (open hand) 4.8-5.4 % / 10-12 %
        assert present.mean() >= 0.9
        assert np.median(err) <= (0.2, 0.1)[side]
        assert np.median(off) < 0.5  # the hand's wrist is the pose's wrist
        assert j_s < j_raw
    record_property("hands", figures)
    # the person faces the camera: their left hand is on the right of the picture
    assert np.nanmean(tr["landmarks"][:, 0, 0, 0]) > np.nanmean(tr["landmarks"][:, 1, 0, 0])
    assert 0 < tr.meta["found_rate"] <= 1 and tr.meta["hands"] == 2


@pytest.mark.media
def test_a_hand_close_up_is_found_on_the_whole_frame(tmp_path):
    """A close-up of the beach man's right hand (most of the frame): the pose analyzer finds no
    real person there, so the whole frame is searched; the hand is found in (nearly) every frame,
    at its wrist, and where no pose wrist claims it, it sits in the unassigned *right* slot."""
    import cv2

    img = np.ascontiguousarray(cv2.imread(str(media("photos/person_fullbody_beach_sky.jpg")))[..., ::-1])
    frames, wrists = [], []
    for t in range(10):
        x0 = 270 + 0.5 * t
        m = np.array([[4.0, 0, -4.0 * x0], [0, 4.0, -4.0 * 290]])
        frames.append(cv2.warpAffine(img, m, (320, 240), flags=cv2.INTER_CUBIC))
        wrists.append(((309 - x0) * 4, (325 - 290) * 4))  # the photo's right wrist, in the close-up
    a = analyze(write(tmp_path / "hand.mp4", frames), ["hands"], cache=AnalysisCache(tmp_path / "c"))
    tr = a["hands"]
    print(f"close-up: {tr.meta['message']}; pose: {a['pose'].meta['message']}")
    present = np.asarray(tr["present"])
    assert present.any(axis=1).mean() >= 0.9
    for t in np.flatnonzero(present.any(axis=1)):
        d = [np.linalg.norm(tr["raw"][t, h, 0, :2] - wrists[t]) for h in np.flatnonzero(present[t])]
        assert min(d) < 40  # px, in a 320 px frame where the hand is ~140 px long
    right = int(np.flatnonzero((tr["person"] == -1) & (tr["side"] == 1))[0])  # unassigned right hand
    left = int(np.flatnonzero((tr["person"] == -1) & (tr["side"] == 0))[0])
    assert present[:, right].sum() >= 5 and not present[:, left].any()


@pytest.mark.media
def test_overlay_draws_hands(waving):
    a, _, frames = waving
    tr = a["hands"]
    out = overlay(tr, frames[3], 3)
    changed = np.abs(out.astype(int) - frames[3].astype(int)).sum(-1) > 0
    for side in (0, 1):
        x, y = np.round(tr["landmarks"][3, side, 9, :2]).astype(int)
        assert changed[y - 2:y + 3, x - 2:x + 3].any()
    assert changed.mean() < 0.05
    with pytest.raises(InvalidInput, match="index"):
        overlay(tr, frames[0], -1)


@pytest.mark.media
@pytest.mark.slow
def test_hands_on_the_shared_clips_are_honestly_reported(tmp_path_factory, record_property):
    """The shared clips are small: the cyclist's hands are ~6 px, the webcam shows no hands.
    The analyzer must run, search at visible wrists and say what it found."""
    figures = {}
    for name in ("cyclist_fullbody_static_400x300.avi", "talking_face_webcam_160x120.avi"):
        tr = analyze(media(f"clips/{name}"), ["hands"], cache=shared_cache(tmp_path_factory))["hands"]
        figures[name] = {k: tr.meta[k] for k in ("hands", "frames_with_hands", "wrist_frames", "found_rate", "ms_per_frame")}
        print(f"{name}: {tr.meta['message']} ({tr.meta['ms_per_frame']} ms/frame)")
        assert tr.meta["message"] and tr["present"].shape[0] == tr["landmarks"].shape[0]
        assert tr.meta["crops"] + tr.meta["too_small"] == tr.meta["wrist_frames"]
    record_property("figures", figures)
    # the webcam clip shows a face and shoulders: no hand may be invented there
    assert figures["talking_face_webcam_160x120.avi"]["hands"] == 0
