"""analysis.cuts: PySceneDetect's detectors on synthetic shots with cuts at known frames.

As PySceneDetect's own ``tests/release/synthetic.py`` does, the clips are made of segments
whose first frames are the truth: solid colours and textures, cut hard.
"""

from __future__ import annotations

from fractions import Fraction

import cv2
import numpy as np
import pytest
from conftest import media

from reworld.analysis.base import REGISTRY, AnalysisContext, FrameChunk
from reworld.analysis.cuts import CutsAnalyzer, overlay
from reworld.errors import InvalidInput, MissingDependency

H, W = 144, 256


def texture(seed: int, h: int = H + 80, w: int = W + 200) -> np.ndarray:
    rng = np.random.default_rng(seed)  # fixed seed: deterministic texture
    fine = cv2.GaussianBlur(rng.random((h, w, 3)).astype(np.float32), (0, 0), 2.0)
    fine = (fine - fine.min()) / (fine.max() - fine.min())
    return (40 + 180 * fine).round().astype(np.uint8)


def panning(seed: int, n: int, step: int = 2) -> np.ndarray:
    """``n`` frames of a texture seen through a window sliding ``step`` px a frame."""
    tex = texture(seed)
    return np.stack([tex[10:10 + H, step * t:step * t + W] for t in range(n)])


def solid(rgb: tuple[int, int, int], n: int) -> np.ndarray:
    return np.broadcast_to(np.array(rgb, np.uint8), (n, H, W, 3)).copy()


def three_shots() -> np.ndarray:
    """90 frames: a panning texture, a solid blue card from 30, another texture from 55."""
    return np.concatenate([panning(1, 30), solid((30, 60, 200), 25), panning(2, 35)])


def detect(frames: np.ndarray, **params):
    analyzer = CutsAnalyzer(params or None)
    ctx = AnalysisContext(info=None, n_frames=len(frames), size=frames.shape[1:3], scale=1.0,  # type: ignore[arg-type]
                          fps=Fraction(25))
    analyzer.setup(ctx)
    for start in range(0, len(frames), 16):  # streamed in chunks, as the runner does
        part = frames[start:start + 16]
        analyzer.process(FrameChunk(part, start, np.arange(start, start + len(part)) / 25.0), ctx)
    return analyzer.finalize(ctx)


def test_smoke_registered():
    assert REGISTRY["cuts"] is CutsAnalyzer
    assert CutsAnalyzer().threshold() == 27.0 and CutsAnalyzer({"detector": "adaptive"}).threshold() == 3.0


@pytest.mark.parametrize("bad", [{"detector": "hash"}, {"threshold": -1}, {"threshold": True},
                                 {"min_scene_len": 1.5}, {"min_scene_len": -1}])
def test_exception_bad_params_name_the_field(bad):
    with pytest.raises(InvalidInput, match="`cuts."):
        CutsAnalyzer(bad)


def test_exception_missing_scenedetect_names_the_install(monkeypatch):
    import reworld._optional

    monkeypatch.setattr(reworld._optional, "available", lambda module: module != "scenedetect")
    with pytest.raises(MissingDependency, match="scene-cut detection needs the optional package 'scenedetect'"):
        detect(three_shots()[:4])


@pytest.mark.parametrize("detector", ["content", "adaptive"])
def test_unit_three_shots_cut_exactly(detector):
    tr = detect(three_shots(), detector=detector)
    assert tr["cuts"].dtype == np.int64 and tr["cuts"].tolist() == [30, 55]
    assert tr["score"].shape == (90,) and tr["score"].dtype == np.float32
    assert tr["score"][0] == 0.0
    # the score peaks at the cuts and stays low inside the shots
    assert tr["score"][[30, 55]].min() > 27 > np.delete(tr["score"], [30, 55]).max()
    assert tr.meta["n_cuts"] == 2 and tr.meta["detector"] == detector
    if detector == "adaptive":
        assert tr["adaptive_ratio"].shape == (90,) and tr["adaptive_ratio"][[30, 55]].min() >= 3.0


def test_unit_slow_pan_has_no_cut():
    for detector in ("content", "adaptive"):
        tr = detect(panning(3, 60, step=3), detector=detector)
        assert tr["cuts"].size == 0, detector
        assert tr["score"].max() < 27


def test_unit_min_scene_len_merges_a_flash():
    frames = panning(4, 40)
    frames[20:23] = 255  # a 3-frame flash
    assert detect(frames, min_scene_len=15)["cuts"].tolist() == [20]
    assert detect(frames, min_scene_len=0)["cuts"].tolist() == [20, 23]


def test_unit_runner_on_an_encoded_clip(tmp_path):
    from reworld.analysis.runner import analyze
    from reworld.io.writer import ClipWriter

    path = tmp_path / "shots.mp4"
    with ClipWriter(path, fps=25, crf=4, preset="ultrafast") as w:
        w.write(three_shots())
    tr = analyze(path, ["cuts"])["cuts"]
    assert tr["cuts"].tolist() == [30, 55] and tr["score"].shape == (90,)


def test_unit_overlay_marks_cut_frames_only():
    tr = detect(three_shots())
    frame = panning(5, 1)[0]
    cut = overlay(tr, frame, 30)
    plain = overlay(tr, frame, 10)
    assert cut.shape == frame.shape and tuple(cut[0, W // 2]) == (255, 0, 0)
    assert tuple(plain[0, W // 2]) == tuple(frame[0, W // 2])
    assert not np.array_equal(cut, frame)  # a new array; the input is untouched
    assert np.array_equal(frame, panning(5, 1)[0])


@pytest.mark.media
@pytest.mark.slow
def test_shared_clip_city_has_one_cut():
    """The city clip cuts from one shot of towers to another at frame 116 (4.64 s); the other
    shared clips have no cut (docs/analysis-camera.md)."""
    from reworld.analysis.runner import analyze

    tr = analyze(media("clips/city_night_camera_pan_720x404.mp4"), ["cuts"])["cuts"]
    assert tr["cuts"].tolist() == [116]
    assert tr["score"][116] > 40 > np.delete(tr["score"], 116).max() * 4  # measured: 44.3 vs <= 7.3
