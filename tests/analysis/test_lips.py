"""The lips analyzer: mouth curves, visemes and a lip-sync offset from a face track whose mouth
moves in a known pattern and a clip whose audio follows it a known number of frames later;
clips without audio or without faces; the shared webcam clip."""

from __future__ import annotations

import json
from fractions import Fraction

import av
import numpy as np
import pytest
from conftest import media

from reworld.analysis.base import REGISTRY, AnalysisContext, FrameChunk
from reworld.analysis.cache import AnalysisCache
from reworld.analysis.lips import LipsAnalyzer, mouth_curves, overlay
from reworld.analysis.runner import analyze
from reworld.analysis.tracks import Track
from reworld.errors import InvalidInput
from reworld.ops import face as fops
from reworld.ops import speech as sp

FPS = 15
#: the mouth's script: (viseme, frames, inner-lip gap cm, width change cm)
SCRIPT = [("rest", 10, 0.0, 0.0), ("AI", 6, 2.0, 0.0), ("MBP", 2, 0.0, 0.0), ("E", 5, 0.5, 0.6),
          ("U", 5, 0.45, -0.9), ("O", 5, 1.5, -0.9), ("etc", 5, 0.6, 0.0), ("MBP", 2, 0.0, 0.0),
          ("AI", 6, 2.0, 0.0), ("etc", 4, 0.6, 0.0), ("AI", 5, 1.8, 0.0), ("rest", 12, 0.0, 0.0)]


def script_curves() -> tuple[np.ndarray, np.ndarray, list[str]]:
    gap, dw, names = [], [], []
    for name, n, g, w in SCRIPT:
        gap += [g] * n
        dw += [w] * n
        names += [name] * n
    return np.array(gap), np.array(dw), names


def face_track(gap: np.ndarray, dw: np.ndarray, *, px_per_cm: float = 10.0, yaw: float = 0.0) -> Track:
    """A ``face`` track whose mouth opens by ``gap`` cm and widens by ``dw`` cm (canonical face,
    closed lips at gap 0), seen at ``px_per_cm`` and turned ``yaw`` degrees."""
    c = fops.canonical_face()
    T = len(gap)
    lms = np.empty((T, 1, 478, 3), np.float32)
    base_gap = np.mean([c[lo, 1] - c[up, 1] for up, lo in fops.LIP_INNER_PAIRS])
    rot = fops.rotation_from_euler(0.0, yaw, 0.0)
    for t in range(T):
        f = c.copy()
        for _, lo in fops.LIP_INNER_PAIRS:  # close the lips, then open by the script
            f[lo, 1] += gap[t] - base_gap
        f[17, 1] += gap[t]
        f[fops.MOUTH_CORNER["L"], 0] += dw[t] / 2
        f[fops.MOUTH_CORNER["R"], 0] -= dw[t] / 2
        lms[t, 0] = px_per_cm * f @ rot.T + [320.0, 240.0, 0.0]
    return Track("face", {"landmarks": lms, "present": np.ones((T, 1), bool), "ids": np.zeros(1, np.int32)},
                 {"frame_size": [480, 640], "faces": 1})


def write_av(path, n: int, envelope: np.ndarray | None, rate: int = 16000):
    """A 64x48 clip of ``n`` frames at 15 fps, with (optionally) PCM audio: a 500 Hz tone whose
    amplitude per video frame is ``envelope``."""
    with av.open(str(path), "w") as out:
        v = out.add_stream("libx264", rate=FPS)
        v.width, v.height, v.pix_fmt = 64, 48, "yuv420p"
        a = None
        if envelope is not None:
            a = out.add_stream("pcm_s16le", rate=rate)
            a.layout = "mono"
        per = rate // FPS
        for i in range(n):
            vf = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 100, np.uint8), format="rgb24")
            vf.pts = i
            for p in v.encode(vf):
                out.mux(p)
            if a is not None:
                t = (i * per + np.arange(per)) / rate
                tone = (envelope[i] * np.sin(2 * np.pi * 500 * t) * 32000).astype(np.int16)[None, :]
                af = av.AudioFrame.from_ndarray(tone, format="s16", layout="mono")
                af.sample_rate, af.pts = rate, i * per
                for p in a.encode(af):
                    out.mux(p)
        for s in (v, a):
            if s is not None:
                for p in s.encode(None):
                    out.mux(p)
    return path


def run_lips(path, face: Track, tmp_path, **params) -> Track:
    T = face["landmarks"].shape[0]
    ctx = AnalysisContext(info=None, n_frames=T, size=(480, 640), scale=1.0, fps=Fraction(FPS),
                          tracks={"face": face}, scratch=str(tmp_path), source=str(path) if path else None)
    an = LipsAnalyzer(params or None)
    an.setup(ctx)
    for s in range(0, T, 16):
        n = min(16, T - s)
        an.process(FrameChunk(np.zeros((n, 4, 4, 3), np.uint8), s, (s + np.arange(n)) / FPS), ctx)
    return an.finalize(ctx)


def test_registered_and_params():
    assert REGISTRY["lips"] is LipsAnalyzer and LipsAnalyzer.requires == ("face",)
    with pytest.raises(InvalidInput, match="lips.max_offset_s"):
        LipsAnalyzer({"max_offset_s": -1})
    with pytest.raises(InvalidInput, match="lips.band_high"):
        LipsAnalyzer({"band_low": 3000.0, "band_high": 300.0})
    with pytest.raises(InvalidInput, match="lips.wide_open"):
        LipsAnalyzer({"closed": 0.5, "wide_open": 0.4})
    with pytest.raises(InvalidInput, match="lips.use_audio"):
        LipsAnalyzer({"use_audio": "yes"})


def test_mouth_curves_ignore_head_pose():
    gap, dw, _ = script_curves()
    o1, w1 = mouth_curves(face_track(gap, dw)["landmarks"][:, 0], (480, 640))
    o2, w2 = mouth_curves(face_track(gap, dw, px_per_cm=4.0, yaw=35.0)["landmarks"][:, 0], (480, 640))
    assert np.allclose(o1, o2, atol=1e-4) and np.allclose(w1, w2, atol=1e-4)
    assert np.allclose(o1 - o1.min(), gap, atol=1e-4)


@pytest.mark.parametrize("shift", [3, -2])
def test_offset_recovered_exactly_and_visemes_follow_the_script(tmp_path, shift, record_property):
    """The audio's loudness follows the mouth ``shift`` frames later (> 0: sound late); the
    analyzer decodes the audio from the file and finds the shift exactly."""
    gap, dw, names = script_curves()
    T = len(gap)
    loud = 0.005 + 0.4 * gap / gap.max()
    env = np.full(T, 0.005)
    if shift >= 0:
        env[shift:] = loud[:T - shift]
    else:
        env[:shift] = loud[-shift:]
    path = write_av(tmp_path / "talk.mkv", T, env)
    tr = run_lips(path, face_track(gap, dw), tmp_path)
    m = tr.meta
    record_property("offset", [m["offset_frames"], m["offset_r"], m["offset_confidence"]])
    assert m["has_audio"] is True and m["offset_frames"] == shift
    assert m["offset_ms"] == pytest.approx(1000 * shift / FPS, abs=0.1)
    assert m["offset_r"] > 0.9 and m["offset_confidence"] > 0.5
    assert f"{shift:+d} frames" in m["message"]
    lab = [sp.VISEMES[v] for v in tr["viseme"][:, 0]]
    assert lab == names
    segs = tr["viseme_segments"]
    assert segs.dtype == np.int32 and segs.shape == (len(SCRIPT), 4)
    assert [sp.VISEMES[v] for v in segs[:, 1]] == [s[0] for s in SCRIPT]
    assert segs[0, 2] == 0 and segs[-1, 3] == T and (segs[1:, 2] == segs[:-1, 3]).all()
    assert np.allclose(tr["segment_times"][:, 0], segs[:, 2] / FPS, atol=1e-4)
    assert tr["energy"].shape == (T,) and np.isfinite(tr["energy"]).all()
    assert tr["speech"].any() and not tr["speech"][:8].any()
    assert tr["sync_lags"].tolist() == list(range(-8, 9))
    json.dumps(m)


def test_without_audio_visemes_come_from_mouth_shape_alone(tmp_path):
    gap, dw, names = script_curves()
    T = len(gap)
    path = write_av(tmp_path / "silent.mp4", T, None)
    tr = run_lips(path, face_track(gap, dw), tmp_path)
    assert tr.meta["has_audio"] is False
    assert "no usable audio" in tr.meta["audio"] and "mouth shape only" in tr.meta["message"]
    assert tr.meta["offset_frames"] is None and np.isnan(tr["energy"]).all() and np.isnan(tr["sync_r"]).all()
    assert [sp.VISEMES[v] for v in tr["viseme"][:, 0]] == names
    # audio present but switched off; and frames that come from no file at all
    loud = write_av(tmp_path / "loud.mkv", T, 0.005 + 0.4 * gap / gap.max())
    off = run_lips(loud, face_track(gap, dw), tmp_path, use_audio=False)
    assert off.meta["has_audio"] is False and "lips.use_audio is false" in off.meta["audio"]
    nofile = run_lips(None, face_track(gap, dw), tmp_path)
    assert nofile.meta["has_audio"] is False and "frames given without a file" in nofile.meta["audio"]


def test_no_face_gives_empty_curves_and_a_message(clip_audio, tmp_path):
    a = analyze(clip_audio, ["lips"], cache=AnalysisCache(tmp_path / "c"))
    tr = a["lips"]
    T = 20
    assert a["face"].meta["faces"] == 0
    assert tr["openness"].shape == (T, 0) and tr["viseme"].shape == (T, 0) and tr["viseme_segments"].shape == (0, 4)
    assert tr.meta["message"].startswith("no face") and tr.meta["offset_frames"] is None
    assert tr.meta["has_audio"] is True and tr["energy"].shape == (T,)
    out = overlay(tr, np.zeros((48, 64, 3), np.uint8), 0)
    assert out.any()  # "no face" caption


def test_overlay_draws_caption_and_checks_args(tmp_path):
    gap, dw, _ = script_curves()
    tr = run_lips(None, face_track(gap, dw), tmp_path)
    frame = np.zeros((240, 320, 3), np.uint8)
    out = overlay(tr, frame, 12)
    assert out.shape == frame.shape and out.any() and not frame.any()
    with pytest.raises(InvalidInput, match="index"):
        overlay(tr, frame, len(gap))


@pytest.mark.media
@pytest.mark.slow
def test_webcam_clip_visemes_and_lip_sync(tmp_path, record_property):
    """The shared webcam clip (15 fps, 160x120, 8-bit 11 kHz audio)."""
    a = analyze(media("clips/talking_face_webcam_160x120.avi"), ["lips"], cache=AnalysisCache(tmp_path / "c"))
    tr = a["lips"]
    m = tr.meta
    names = m["visemes"]
    segs = [(names[v], int(s), int(e)) for _, v, s, e in tr["viseme_segments"]]
    record_property("webcam_sync", [m["offset_frames"], m["offset_r_zero"], m["offset_r"], m["offset_confidence"]])
    print(f"webcam lips: offset {m['offset_frames']:+d} frames ({m['offset_ms']:+.0f} ms, refined "
          f"{m['offset_refined_ms']:+.0f} ms), r {m['offset_r_zero']:.2f} at 0 -> {m['offset_r']:.2f}, "
          f"confidence {m['offset_confidence']:.2f}; energy r {m['energy_r']}; segments {segs}")
    assert m["has_audio"] and m["speech_frames"] > 20
    assert segs[0] == ("rest", 0, 8)  # lips closed until frame 8 (seen on the frames)
    mbp = [s for s in segs if s[0] == "MBP"]
    assert any(s <= 20 < e for _, s, e in mbp)  # the closure at frames 20-21
    assert 3 <= m["offset_frames"] <= 7 and m["offset_confidence"] < 0.5  # a weak, late peak (see docs)


@pytest.mark.media
def test_real_face_clip_without_audio_through_the_runner(tmp_path):
    """A video-only clip with a real face, through ``analyze``: curves and visemes from the mouth
    shape, and the result says there was no audio."""
    import cv2

    from reworld.io.writer import ClipWriter

    photo = cv2.imread(str(media("photos/portrait_astronaut_512.png")))[..., ::-1]
    with ClipWriter(tmp_path / "still.mp4", fps=FPS, crf=8, preset="ultrafast") as w:
        for _ in range(8):
            w.write(np.ascontiguousarray(photo))
    tr = analyze(tmp_path / "still.mp4", ["lips"], cache=AnalysisCache(tmp_path / "c"))["lips"]
    assert tr.meta["has_audio"] is False and "mouth shape only" in tr.meta["message"]
    assert tr["openness"].shape == (8, 1) and np.isfinite(tr["openness"]).all()
    assert (tr["viseme"] >= 0).all() and len(tr["viseme_segments"]) >= 1
    assert tr.meta["offset_frames"] is None
