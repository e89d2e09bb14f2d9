"""analysis.quality: probe advice on synthetic clips with exact truth, and on the shared clips."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from conftest import media
from reworld.analysis.quality import Advice, QualityReport, Thresholds, assess_quality
from reworld.errors import Cancelled, InvalidInput
from reworld.progress import CancelToken

H, W = 480, 640  # synthetic frames: SD, so low_resolution stays quiet


def texture(h: int = H + 40, w: int = W + 40, seed: int = 1, lo: float = 40, span: float = 180) -> np.ndarray:
    """(h, w, 3) uint8 sharp random texture with coarse shading, luma in [lo, lo + span]."""
    rng = np.random.default_rng(seed)  # fixed seed: deterministic texture
    fine = cv2.GaussianBlur(rng.random((h, w)).astype(np.float32), (0, 0), 0.8)
    fine = (fine - fine.min()) / (fine.max() - fine.min())
    coarse = cv2.resize(rng.random((h // 20, w // 20)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    luma = lo + span * np.clip(0.7 * fine + 0.3 * coarse, 0, 1)
    return np.repeat(luma[..., None], 3, axis=2).round().astype(np.uint8)


def noisy(img: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    n = rng.normal(0.0, sigma, img.shape[:2])[..., None]
    return np.clip(img + n, 0, 255).round().astype(np.uint8)


def static_runs(img: np.ndarray, n: int = 6, length: int = 4, *, sigma: float = 1.0, seed: int = 0):
    """n runs of ``length`` frames of a tripod shot: same picture, fresh sensor noise in every frame."""
    rng = np.random.default_rng(seed)  # fixed seed: reproducible noise
    crop = img[20:20 + H, 20:20 + W].astype(np.float64)
    return [[noisy(crop, sigma, rng) for _ in range(length)] for _ in range(n)]


def run_at(canvas: np.ndarray, offsets, m: int = 30) -> list:
    """One run whose frame k shows the content moved by ``offsets[k] = (x, y)`` px (integer crops:
    exact truth; the camera moves the other way)."""
    return [canvas[m - y:m - y + H, m - x:m - x + W] for x, y in offsets]


def assess(samples, **kw):
    args = dict(width=W, height=H, duration=5.0, fps=25.0)
    args.update(kw)
    return assess_quality(samples, **args)


def shake_advice(r: QualityReport) -> Advice:
    return next(a for a in r.advice if a.code == "camera_shake")


# -- the synthetic truth cases ------------------------------------------------------------
def test_clean_static_clip_gets_no_advice():
    r = assess(static_runs(texture()))
    assert r.advice == []
    assert r.motion < 0.1 and r.jerk < 0.1 and r.shake_basis == "jerk"
    assert r.n_samples == 6 and r.n_frames == 24 and r.n_motion_pairs == 18 and r.n_jerk_runs == 6
    assert r.duplicate_fraction == 0.0


def test_blurry_fires_only_on_the_blurred_version():
    sharp = texture()
    blurred = cv2.GaussianBlur(sharp, (0, 0), 3.0)
    rs, rb = assess(static_runs(sharp, length=2)), assess(static_runs(blurred, length=2))
    assert "blurry" not in rs.codes() and "blurry" in rb.codes()
    adv = next(a for a in rb.advice if a.code == "blurry")
    assert adv.value == pytest.approx(rb.sharpness) and adv.threshold == Thresholds().min_sharpness
    assert f"{rb.sharpness:.0f}" in adv.message and "50" in adv.message


def test_noisy_fires_at_sigma_12():
    r = assess(static_runs(texture(), length=2, sigma=12.0))
    assert "noisy" in r.codes()
    assert r.noise_sigma == pytest.approx(12.0, rel=0.2)


def test_random_per_frame_jitter_is_recovered_and_warns_camera_shake():
    canvas = texture(H + 60, W + 60)
    rng = np.random.default_rng(5)  # fixed seed: the camera sits at a random spot within ±4 px each frame
    offsets = [[tuple(int(v) for v in rng.integers(-4, 5, 2)) for _ in range(6)] for _ in range(8)]
    r = assess([run_at(canvas, offs) for offs in offsets])
    for offs, s in zip(offsets, r.samples, strict=True):
        for (x0, y0), (x1, y1), p in zip(offs[:-1], offs[1:], s["pairs"], strict=True):
            if (x0, y0) == (x1, y1):
                assert p["kind"] == "duplicate"  # the crop repeats exactly: no motion measured
            else:
                assert abs(p["dx"] - (x1 - x0)) < 0.5 and abs(p["dy"] - (y1 - y0)) < 0.5
    assert r.shake_basis == "jerk" and r.jerk > 10 * Thresholds().max_jerk
    adv = shake_advice(r)
    assert adv.severity == "warning" and adv.value == pytest.approx(r.jerk)
    assert adv.threshold == Thresholds().max_jerk
    assert f"{r.jerk:.2f}" in adv.message and f"{r.motion:.2f}" in adv.message and "0.12" in adv.message


def test_constant_velocity_pan_is_not_shake():
    canvas = texture(H + 60, W + 60, seed=2)
    runs = [run_at(canvas, [(-10 + 2 * k, 0) for k in range(6)]) for _ in range(8)]  # 2 px/frame to the right
    r = assess(runs)
    assert r.motion == pytest.approx(1000 * 2 / np.hypot(H, W), rel=0.05)  # 2.5 ‰: well above the floor
    assert r.motion > Thresholds().min_shake_speed and r.jerk < 0.05
    assert "camera_shake" not in r.codes()


def test_steady_pan_of_any_speed_vs_jitter_of_the_same_speed():
    canvas = texture(H + 60, W + 60, seed=2)
    pan = assess([run_at(canvas, [(-10 + 4 * k, -10 + 4 * k) for k in range(6)])])  # (4, 4) px/frame
    rng = np.random.default_rng(9)  # fixed seed: steps of (±4, ±4) px, signs at random
    offs = np.cumsum([(0, 0), *rng.choice([-4, 4], (5, 2)).tolist()], axis=0)
    jerky = assess([run_at(canvas, [(int(x), int(y)) for x, y in offs])])
    assert pan.motion == pytest.approx(jerky.motion, rel=0.05)
    assert "camera_shake" not in pan.codes() and pan.jerk < 0.05
    assert "camera_shake" in jerky.codes() and jerky.jerk > 20 * pan.jerk


def test_static_camera_with_a_walking_person_is_not_shake():
    bg = texture(seed=3)
    person = texture(200, 90, seed=4, lo=10, span=120)
    rng = np.random.default_rng(2)  # fixed seed: noise
    runs = []
    for i in range(4):
        run = []
        for k in range(5):
            f = bg.copy()
            x = 100 + 60 * i + 9 * k  # 9 px per frame
            f[150:350, x:x + 90] = person
            run.append(noisy(f[20:20 + H, 20:20 + W], 1, rng))
        runs.append(run)
    r = assess(runs)
    assert "camera_shake" not in r.codes() and r.motion < 0.1


def test_pairs_fall_back_to_the_spread_between_pairs():
    canvas = texture(H + 60, W + 60, seed=6)
    rng = np.random.default_rng(4)  # fixed seed: 6 px jumps in random directions
    jumps = [tuple(int(v) for v in rng.integers(-6, 7, 2)) for _ in range(8)]
    shaky = assess([run_at(canvas, [(0, 0), j]) for j in jumps])
    pan = assess([run_at(canvas, [(0, 0), (3, 1)]) for _ in range(8)])
    assert shaky.jerk is None and shaky.n_jerk_runs == 0 and shaky.shake_basis == "spread"
    assert shaky.shake == pytest.approx(shaky.motion_spread)
    adv = shake_advice(shaky)
    assert adv.threshold == Thresholds().max_spread and "pairs only" in adv.message
    assert pan.shake_basis == "spread" and pan.motion_spread < 0.05 and "camera_shake" not in pan.codes()


def test_slow_camera_below_the_speed_floor_is_not_shake_even_if_irregular():
    canvas = texture(H + 60, W + 60, seed=7)
    # sub-pixel wobble (0.2 px ≈ 0.25 ‰): irregular, but below min_shake_speed
    runs = []
    for s in range(4):
        ys = [0.0, 0.2, -0.1, 0.2, 0.0, -0.2]
        base = canvas[30:30 + H, 30:30 + W]
        runs.append([cv2.warpAffine(base, np.float32([[1, 0, 0], [0, 1, y]]), (W, H), flags=cv2.INTER_CUBIC,
                                    borderMode=cv2.BORDER_REFLECT) for y in ys])
    r = assess(runs)
    assert r.jerk > Thresholds().max_jerk and r.motion < Thresholds().min_shake_speed
    assert "camera_shake" not in r.codes()
    lower = assess(runs, thresholds=Thresholds(min_shake_speed=0.1))
    assert "camera_shake" in lower.codes()


def test_overexposed_and_underexposed():
    bright = texture(lo=235, span=20)  # mostly >= 250 luma
    dark = texture(lo=2, span=25)
    rb, rd = assess(static_runs(bright, length=2, sigma=0.5)), assess(static_runs(dark, length=2, sigma=0.5))
    assert "overexposed" in rb.codes() and "underexposed" not in rb.codes()
    assert "underexposed" in rd.codes() and "overexposed" not in rd.codes()
    assert rb.mean_luma > 200 and rd.mean_luma < 50


def test_long_clip_and_low_resolution_from_stream_facts():
    runs = static_runs(texture(), n=2, length=2)
    r = assess(runs, duration=12.0)
    adv = {a.code: a for a in r.advice}
    assert adv["long_clip"].severity == "info" and adv["long_clip"].value == 12.0
    assert "long_clip" not in assess(runs, duration=10.0).codes()
    small = assess([[f[:120, :160] for f in run] for run in runs], width=160, height=120)
    low = next(a for a in small.advice if a.code == "low_resolution")
    assert low.value == 120 and low.threshold == 480
    assert "160x120" in low.message and "480 px" in low.message


def test_duplicate_frames_are_reported_and_left_out_of_motion():
    img = texture()[:H, :W]
    r = assess([(img, img)] * 5 + static_runs(texture(), n=1, length=2))
    assert "duplicate_frames" in r.codes()
    assert r.duplicate_fraction == pytest.approx(5 / 6) and r.n_motion_pairs == 1


def test_a_duplicate_inside_a_run_breaks_the_jerk_chain():
    canvas = texture(H + 60, W + 60, seed=8)
    a, b, c = run_at(canvas, [(0, 0), (3, 0), (6, 0)])
    r = assess([[a, b, b, c]])  # ok, duplicate, ok: no two consecutive usable pairs
    assert [p["kind"] for p in r.samples[0]["pairs"]] == ["ok", "duplicate", "ok"]
    assert r.jerk is None and "jerk" not in r.samples[0] and r.n_motion_pairs == 2
    assert r.duplicate_fraction == pytest.approx(1 / 3)


# -- report shape, options, validation -----------------------------------------------------
def test_report_to_dict_is_json_and_lists_advice():
    r = assess(static_runs(cv2.GaussianBlur(texture(), (0, 0), 3), n=2, length=3), duration=11.0)
    d = json.loads(json.dumps(r.to_dict()))
    assert {a["code"] for a in d["advice"]} == {"blurry", "long_clip"}
    assert set(d["advice"][0]) == {"code", "severity", "message", "value", "threshold"}
    assert isinstance(r, QualityReport) and all(isinstance(a, Advice) for a in r.advice)
    assert len(d["samples"]) == 2 and len(d["samples"][0]["pairs"]) == 2
    assert {"speed", "jerk", "velocity", "n_duplicate"} <= set(d["samples"][0])


def test_no_samples_judges_stream_facts_only():
    r = assess_quality([], width=160, height=120, duration=30.0, fps=30.0)
    assert r.codes() == ["low_resolution", "long_clip"]
    assert r.sharpness is None and r.shake is None and r.shake_basis is None


def test_custom_thresholds():
    runs = static_runs(texture(), n=2, length=3)
    assert "long_clip" in assess(runs, thresholds=Thresholds(max_duration=3.0)).codes()
    assert "noisy" in assess(runs, thresholds=Thresholds(max_noise_sigma=0.1)).codes()
    assert "camera_shake" in assess(runs, thresholds=Thresholds(min_shake_speed=0, max_jerk=0)).codes()
    for name in ("min_shake_speed", "max_jerk", "max_spread"):
        with pytest.raises(InvalidInput, match=f"thresholds.{name}"):
            Thresholds(**{name: -1})


@pytest.mark.parametrize(
    ("kw", "arg"),
    [({"width": 0}, "width"), ({"height": 2.5}, "height"), ({"fps": 0}, "fps"),
     ({"duration": float("nan")}, "duration"), ({"thresholds": {}}, "thresholds")],
)
def test_exception_bad_stream_facts(kw, arg):
    with pytest.raises(InvalidInput, match=f"`{arg}`"):
        assess([], **kw)


def test_exception_bad_samples():
    a = np.zeros((48, 64, 3), np.uint8)
    with pytest.raises(InvalidInput, match=r"samples\[0\]"):
        assess([a])  # a frame, not a run
    with pytest.raises(InvalidInput, match=r"samples\[0\].*>= 2"):
        assess([(a,)])  # a run of one frame has no motion
    with pytest.raises(InvalidInput, match=r"samples\[1\]\[0\]"):
        assess([(a, a), (a[:40], a[:40])])
    with pytest.raises(InvalidInput, match=r"samples\[0\]\[2\]"):
        assess([(a, a, a.astype(np.float32))])
    with pytest.raises(InvalidInput, match="`samples`"):
        assess(a)


def test_progress_and_cancel():
    events = []
    assess(static_runs(texture(), n=3, length=2), progress=events.append)
    assert [e.done for e in events] == [1, 2, 3] and events[-1].fraction == 1.0
    token = CancelToken()
    token.set()
    with pytest.raises(Cancelled):
        assess(static_runs(texture(), n=2, length=2), cancel=token)


# -- the shared clips (calibration in docs/probe-advice.md) --------------------------------
def _clip_runs(rel: str, n: int = 8, run: int = 6) -> QualityReport:
    """Assess a shared clip the way ``reworld probe`` samples it: n runs of ``run`` consecutive
    frames at the centres of n equal spans of the clip (decoding only those frames)."""
    from reworld.io.reader import ClipReader

    with ClipReader(media(rel)) as r:
        v = r.info.video
        usable = max(v.duration - run / float(v.fps), 0.0)
        got = r.sample([v.start_time + usable * (i + 0.5) / n for i in range(n)], run=run)
    assert len(got) == n
    return assess_quality([g[1:] for g in got], width=v.width, height=v.height, duration=v.duration,
                          fps=float(v.fps))


@pytest.mark.media
@pytest.mark.parametrize(
    ("rel", "must", "must_not"),
    [
        # a hand-held webcam: it moves ~4 ‰/frame with a jerk of ~6 ‰/frame²
        ("clips/talking_face_webcam_160x120.avi", {"low_resolution", "camera_shake"}, set()),
        ("clips/pedestrians_static_campus_768x576.mp4", set(), {"camera_shake"}),
        # tripod, but analog-video wobble gives an irregular 0.25 ‰/frame: below the speed floor
        ("clips/cyclist_fullbody_static_400x300.avi", {"low_resolution"}, {"camera_shake"}),
        ("clips/animated_bunny_sky_1280x720.mp4", set(), {"camera_shake"}),
        # slight hand-held: 0.6 ‰/frame with a jerk of 0.23–0.34 (smooth moves: <= 0.08)
        ("clips/dog_handheld_phone_1280x720.mp4", {"camera_shake"}, {"low_resolution"}),
        ("clips/city_night_camera_pan_720x404.mp4", {"low_resolution"}, {"camera_shake"}),
        # its first 10 s are a fixed camera (window frame never moves; leaves move in the
        # wind) with 5 of every 6 frames repeated: see docs/probe-advice.md
        ("clips/handheld_tree_sky_320x240.mp4", {"overexposed", "duplicate_frames"}, {"camera_shake"}),
    ],
)
def test_shared_clips(rel, must, must_not):
    codes = set(_clip_runs(rel).codes())
    assert must <= codes and not (must_not & codes), codes
