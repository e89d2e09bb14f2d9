"""Speech ops: energy envelope at the frame rate, speech activity, lip-sync offset, visemes."""

from __future__ import annotations

import numpy as np
import pytest

from reworld.errors import InvalidInput
from reworld.ops import speech as sp

RATE = 16000


def bursts(on: list[tuple[float, float]], seconds: float, freq: float = 1000.0, level: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    gate = np.zeros(t.size)
    for a, b in on:
        gate[(t >= a) & (t < b)] = 1.0
    return level * gate * np.sin(2 * np.pi * freq * t)


def test_energy_envelope_follows_bursts_at_the_frame_times():
    x = bursts([(0.5, 1.0), (1.5, 1.7)], 2.0)
    times = np.arange(0, 2.0, 1 / 25)
    env = sp.energy_envelope(x, RATE, times)
    assert env.shape == times.shape and env.dtype == np.float32
    inside = (times > 0.56) & (times < 0.94)
    outside = (times < 0.44) | ((times > 1.06) & (times < 1.44)) | (times > 1.76)
    assert np.allclose(env[inside], 0.5 / np.sqrt(2), rtol=0.03)
    assert env[outside].max() < 0.01
    # stereo is averaged; an audio stream that starts 0.2 s after the video shifts the envelope
    late = sp.energy_envelope(np.stack([x, x]), RATE, times, audio_start=0.2)
    assert np.nanargmax(late > 0.3) == np.argmax(env > 0.3) + 5
    assert np.isnan(late[times < 0.2]).all()


def test_energy_envelope_keeps_the_speech_band_only():
    times = np.array([0.5])
    hum = sp.energy_envelope(bursts([(0, 1)], 1.0, freq=60.0), RATE, times)
    voice = sp.energy_envelope(bursts([(0, 1)], 1.0, freq=1000.0), RATE, times)
    hiss = sp.energy_envelope(bursts([(0, 1)], 1.0, freq=6500.0), RATE, times)
    assert voice[0] > 0.3 and hum[0] < 0.01 and hiss[0] < 0.01
    with pytest.raises(InvalidInput, match="band"):
        sp.energy_envelope(np.zeros(100), RATE, times, band=(500, 100))
    with pytest.raises(InvalidInput, match="rate"):
        sp.energy_envelope(np.zeros(100), 0, times)
    with pytest.raises(InvalidInput, match="samples"):
        sp.energy_envelope(np.zeros((2, 2, 2)), RATE, times)


def test_speech_activity_and_db():
    e = np.r_[np.full(20, 1e-4), np.full(10, 0.1), np.full(20, 1e-4)]
    act = sp.speech_activity(e)
    assert act[20:30].all() and not act[:20].any() and not act[30:].any()
    assert not sp.speech_activity(np.full(30, 0.1)).any()  # steady level: no speech found
    assert sp.to_db(np.array([1.0, 0.1, 0.0]))[:2].tolist() == [0.0, -20.0]
    assert sp.to_db(np.array([0.0]))[0] == pytest.approx(-100.0)


@pytest.mark.parametrize("shift", [-6, -3, -1, 0, 1, 2, 5, 7])
def test_lip_sync_offset_recovers_a_known_shift_exactly(shift):
    """A mouth-openness curve and an audio envelope made from it, ``shift`` frames later (> 0:
    the sound comes after the mouth), with independent noise on both."""
    rng = np.random.default_rng(10 + shift)  # fixed seed per case: syllable pattern and noise
    T = 150
    syll = (rng.random(T + 20) < 0.3).astype(float)
    mouth_full = np.convolve(syll, np.hanning(5), "same")
    mouth = mouth_full[10:10 + T] + rng.normal(0, 0.05, T)
    energy = mouth_full[10 - shift:10 - shift + T] ** 1.5 + rng.normal(0, 0.05, T)
    ls = sp.lip_sync_offset(mouth, energy, max_lag=8)
    assert ls.lag == shift
    assert abs(ls.lag_refined - shift) <= 0.5
    assert ls.r > 0.8 and ls.confidence > 0.5
    assert ls.lags.tolist() == list(range(-8, 9)) and ls.r_by_lag.shape == (17,)
    assert ls.r >= ls.r_zero


def test_lip_sync_offset_handles_gaps_and_unrelated_curves():
    rng = np.random.default_rng(7)  # fixed seed
    m = np.convolve(rng.random(120), np.ones(3) / 3, "same")
    e = np.r_[np.zeros(2), m[:-2]]
    m_gappy = m.copy()
    m_gappy[30:40] = np.nan  # no face for 10 frames
    assert sp.lip_sync_offset(m_gappy, e, max_lag=5).lag == 2
    unrelated = sp.lip_sync_offset(m, rng.random(120), max_lag=5)
    related = sp.lip_sync_offset(m, e, max_lag=5)
    assert unrelated.confidence < 0.3 < related.confidence
    nothing = sp.lip_sync_offset(np.full(20, np.nan), np.ones(20), max_lag=3)
    assert nothing.lag == 0 and nothing.confidence == 0.0 and np.isnan(nothing.r)
    with pytest.raises(InvalidInput, match="energy"):
        sp.lip_sync_offset(m, m[:50])
    with pytest.raises(InvalidInput, match="max_lag"):
        sp.lip_sync_offset(m, m, max_lag=-1)


def test_pearson():
    a = np.arange(10.0)
    assert sp.pearson(a, 2 * a + 1) == pytest.approx(1.0)
    assert sp.pearson(a, -a) == pytest.approx(-1.0)
    assert np.isnan(sp.pearson(a, np.ones(10)))


def test_classify_visemes_rules():
    V = sp.VISEMES
    o = np.array([0.0, 0.0, 0.9, 0.9, 0.05, 0.05, 0.3, 0.3, 0.2, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, np.nan])
    w = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.1, 1.1, 0.85, 0.85, 1, 1, 1, 1, 1, 1, 1, 1, 1])
    lab = [V[v] if v >= 0 else None for v in sp.classify_visemes(o, w, max_closure=3)]
    assert lab == ["rest", "rest", "AI", "AI", "MBP", "MBP", "E", "E", "U", "O"] + ["rest"] * 8 + [None]
    # with audio: a long closure with speech energy is a hummed M, not rest
    act = np.zeros(o.size, bool)
    act[10:18] = True
    lab = [V[v] for v in sp.classify_visemes(o, w, act, max_closure=3)[:18]]
    assert lab[10:18] == ["MBP"] * 8 and lab[:2] == ["rest", "rest"]
    assert "FV" not in lab and "L" not in lab
    with pytest.raises(InvalidInput, match="width"):
        sp.classify_visemes(o, w[:3])
    with pytest.raises(InvalidInput, match="active"):
        sp.classify_visemes(o, w, np.zeros(3, bool))


def test_viseme_segments_merge_short_runs():
    lab = np.array([0, 0, 0, 4, 4, 4, 4, 3, 4, 4, 1, 1, -1, -1, 2, 2, 2])
    segs = sp.viseme_segments(lab, min_frames=2)
    assert segs == [(0, 0, 3), (4, 3, 10), (1, 10, 12), (-1, 12, 14), (2, 14, 17)]
    assert sp.viseme_segments(lab, min_frames=1)[2] == (3, 7, 8)
    assert sp.viseme_segments(np.array([5]), min_frames=3) == [(5, 0, 1)]  # nothing to merge into
    with pytest.raises(InvalidInput, match="labels"):
        sp.viseme_segments(np.zeros((2, 2)))
