"""Speech and mouth signals: audio energy at the frame rate, visemes from mouth shape, lip-sync offset.

Pure functions over numpy arrays (layer 1; the ``lips`` analyzer reads the audio and the face
track and calls these).

- :func:`energy_envelope`: RMS of the speech band (default 300-3400 Hz, the telephone band where
  most speech energy and intelligibility lie) in a Hann window centred on each video frame's
  time, so the envelope has one value per frame.
- :func:`speech_activity`: frames whose energy stands clearly above the clip's noise floor.
- :func:`classify_visemes` / :func:`viseme_segments`: mouth shapes to a viseme per frame, then
  runs of one viseme, from the **Preston Blair** mouth-shape set (the animation standard built
  from what the mouth looks like, which is what landmarks can see): ``rest``, ``MBP``, ``AI``,
  ``E``, ``O``, ``U`` (with WQ) and ``etc`` (the remaining open-teeth consonants C D G K N R S T
  Y Z). ``FV`` and ``L`` are in the set but need the teeth on the lower lip or the tongue, which
  the face mesh does not see: they are never produced (see :data:`VISEMES`).
- :func:`lip_sync_offset`: the audio/video offset as the lag of the best Pearson correlation
  between a mouth-opening curve and the energy envelope.

Sign convention: a **positive offset means the sound comes later than the mouth** (audio lags
video) by that many frames; shift the audio earlier by that much to re-sync.

Example:
    >>> m = np.sin(np.linspace(0, 12, 120)) ** 2
    >>> e = np.r_[np.zeros(3), m[:-3]]          # the same curve, 3 frames late
    >>> lip_sync_offset(m, e, max_lag=10).lag
    3
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reworld.errors import InvalidInput

__all__ = [
    "SPEECH_BAND",
    "VISEMES",
    "VISEME_RULES",
    "LipSync",
    "band_pass",
    "classify_visemes",
    "energy_envelope",
    "lip_sync_offset",
    "pearson",
    "speech_activity",
    "to_db",
    "viseme_segments",
]

#: Hz, band of the energy envelope
SPEECH_BAND = (300.0, 3400.0)
#: the Preston Blair mouth shapes, in label order (index = the ``viseme`` array's value). ``FV``
#: and ``L`` are named for completeness but never produced from landmarks (module doc).
VISEMES: tuple[str, ...] = ("rest", "MBP", "etc", "E", "AI", "O", "U", "FV", "L")
#: what each viseme means and which mouth shape it is read from
VISEME_RULES: dict[str, str] = {
    "rest": "lips closed (or nearly), outside speech",
    "MBP": "lips closed during speech (bilabial: m, b, p)",
    "etc": "slightly open, neutral width (c d g k n r s t y z, th)",
    "E": "slightly open, spread wider than neutral (e, ee, i in 'it')",
    "AI": "wide open (a, i in 'ride')",
    "O": "open and rounded: narrower than neutral (o)",
    "U": "nearly closed and narrow: puckered (u, oo, w, q)",
    "FV": "lower lip under the upper teeth (f, v): not visible to the face mesh, never produced",
    "L": "tongue behind the upper teeth (l): not visible to the face mesh, never produced",
}


def _check_1d(x: np.ndarray, arg: str) -> np.ndarray:
    a = np.asarray(x, np.float64)
    if a.ndim != 1:
        raise InvalidInput(arg, a.shape, "must be a 1-D curve (one value per frame)")
    return a


def energy_envelope(samples: np.ndarray, rate: int, times: np.ndarray, *, audio_start: float = 0.0,
                    band: tuple[float, float] = SPEECH_BAND, window_s: float | None = None) -> np.ndarray:
    """RMS of the speech band of ``samples`` around each of ``times`` (one value per video frame).

    Args:
        samples: ``(N,)`` or ``(C, N)`` float audio (channels are averaged).
        rate: sample rate, Hz.
        times: ``(T,)`` seconds of the video frames.
        audio_start: time in seconds of the first sample (``read_audio``'s third value).
        band: pass band, Hz (:func:`band_pass`: zero phase, so no delay is added to the envelope).
        window_s: length of the Hann window (default: two frame periods, so neighbouring
            windows overlap by half and every sample counts).

    Returns:
        ``(T,)`` float32 RMS (same units as the samples); NaN for frames whose time lies
        outside the audio.

    Example:
        >>> rate = 8000; t = np.arange(rate) / rate
        >>> tone = np.sin(2 * np.pi * 1000 * t) * (t > 0.5)  # silence, then a 1 kHz tone
        >>> env = energy_envelope(tone, rate, np.array([0.25, 0.75]), window_s=0.1)
        >>> [round(float(v), 2) for v in env]
        [0.0, 0.71]
    """
    x = np.asarray(samples, np.float64)
    if x.ndim == 2:
        x = x.mean(0)
    if x.ndim != 1:
        raise InvalidInput("samples", x.shape, "must be (N,) or (C, N) audio samples")
    if not isinstance(rate, (int, np.integer)) or rate <= 0:
        raise InvalidInput("rate", rate, "must be a positive integer number of Hz")
    tt = _check_1d(times, "times")
    lo, hi = float(band[0]), float(band[1])
    if not 0.0 <= lo < hi:
        raise InvalidInput("band", band, "must be (low, high) Hz with 0 <= low < high")
    hi = min(hi, 0.45 * rate)
    if window_s is None:
        d = np.diff(tt)
        window_s = 2.0 * float(np.median(d)) if d.size and np.median(d) > 0 else 0.08
    if not window_s > 0:
        raise InvalidInput("window_s", window_s, "must be a positive number of seconds")
    out = np.full(tt.shape, np.nan, np.float32)
    if x.size < 16 or lo >= hi:
        return out
    y = band_pass(x, rate, lo, hi)
    half = max(1, round(window_s * rate / 2))
    win = np.hanning(2 * half + 3)[1:-1]  # 2 * half + 1 taps, centred
    # Hann-weighted mean of y^2 around each frame's sample (at the ends of the audio, over the
    # part of the window that holds audio); only at the frame positions, in batches of frames
    y2 = np.pad(y * y, half)
    inside = np.pad(np.ones(y.size), half)
    views = np.lib.stride_tricks.sliding_window_view(y2, 2 * half + 1)
    weights = np.lib.stride_tricks.sliding_window_view(inside, 2 * half + 1)
    idx = np.round((tt - audio_start) * rate).astype(np.int64)
    ok = np.flatnonzero((idx >= 0) & (idx < x.size))
    for b in range(0, ok.size, 2048):
        sel = ok[b:b + 2048]
        num = views[idx[sel]] @ win
        den = weights[idx[sel]] @ win
        out[sel] = np.sqrt(np.maximum(num / den, 0.0))
    return out


def band_pass(x: np.ndarray, rate: int, low: float, high: float, *, order: int = 4, block: int = 1 << 20) -> np.ndarray:
    """Zero-phase band-pass of a 1-D signal: the squared magnitude responses of an ``order``
    Butterworth high-pass at ``low`` and low-pass at ``high`` (what running such filters forwards
    and backwards gives) applied in the frequency domain, in overlapping blocks of ``block``
    samples (bounded memory on long audio; no SciPy import, which costs seconds).

    Example:
        >>> t = np.arange(8000) / 8000
        >>> y = band_pass(np.sin(2 * np.pi * 50 * t) + np.sin(2 * np.pi * 1000 * t), 8000, 300, 3400)
        >>> round(float(np.std(y[1000:-1000]) * np.sqrt(2)), 2)  # the 50 Hz hum is gone
        1.0
    """
    x = np.asarray(x, np.float64)
    pad = min(x.size, max(1024, rate // 4))  # filter ring-down (~ tens of ms) fits well inside
    step = max(1, block - 2 * pad)
    out = np.empty_like(x)
    for s in range(0, x.size, step):
        a, b = max(0, s - pad), min(x.size, s + step + pad)
        seg = x[a:b]
        n = 1 << int(np.ceil(np.log2(max(2, 2 * seg.size))))  # zero padding: no wrap-around
        f = np.fft.rfftfreq(n, 1.0 / rate)
        with np.errstate(divide="ignore"):
            gain = 1.0 / (1.0 + (f / high) ** (2 * order))
            if low > 0:
                gain *= 1.0 / (1.0 + (low / np.maximum(f, 1e-12)) ** (2 * order))
        y = np.fft.irfft(np.fft.rfft(seg, n) * gain, n)[: seg.size]
        out[s: min(x.size, s + step)] = y[s - a: s - a + min(step, x.size - s)]
    return out


def to_db(rms: np.ndarray, floor: float = 1e-5) -> np.ndarray:
    """``20 log10(max(rms, floor))`` (dB re full scale for samples in [-1, 1]); NaN stays NaN."""
    r = np.asarray(rms, np.float64)
    with np.errstate(invalid="ignore"):
        return (20.0 * np.log10(np.maximum(r, floor))).astype(np.float32)


def speech_activity(energy: np.ndarray, *, min_range_db: float = 10.0, level: float = 0.35) -> np.ndarray:
    """Frames with speech-like energy: above ``floor + level * (peak - floor)`` in dB, where the
    floor is the 10th and the peak the 95th percentile of the clip's energy. A clip whose range is
    below ``min_range_db`` (steady noise or silence) has no active frame.

    Example:
        >>> e = np.r_[np.full(10, 1e-4), np.full(10, 1e-1)]
        >>> speech_activity(e).astype(int).tolist() == [0] * 10 + [1] * 10
        True
    """
    db = to_db(_check_1d(energy, "energy")).astype(np.float64)
    ok = np.isfinite(db)
    out = np.zeros(db.shape, bool)
    if ok.sum() < 2:
        return out
    floor, peak = np.percentile(db[ok], 10), np.percentile(db[ok], 95)
    if peak - floor < min_range_db:
        return out
    out[ok] = db[ok] > floor + level * (peak - floor)
    return out


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two curves over the frames where both are finite (NaN if fewer
    than 3 such frames or one is constant)."""
    x, y = _check_1d(a, "a"), _check_1d(b, "b")
    if x.shape != y.shape:
        raise InvalidInput("b", y.shape, f"must have the shape of a {x.shape}")
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3:
        return float("nan")
    x, y = x[ok] - x[ok].mean(), y[ok] - y[ok].mean()
    d = np.sqrt((x * x).sum() * (y * y).sum())
    return float((x * y).sum() / d) if d > 0 else float("nan")


@dataclass
class LipSync:
    """A lip-sync estimate.

    Attributes:
        lag: offset in frames (> 0: audio later than the mouth), the best integer lag.
        lag_refined: sub-frame lag from a parabola through the peak and its neighbours.
        r: Pearson correlation at ``lag``.
        r_zero: correlation at lag 0 (as the file is).
        confidence: in [0, 1]: ``r`` (clipped at 0) times how much the peak stands out of the
            other lags (``(r - median) / (1 - median)`` over lags beyond ±2 frames of the peak).
        lags: ``(2L+1,)`` int lags tried; ``r_by_lag``: ``(2L+1,)`` the correlation at each.
    """

    lag: int
    lag_refined: float
    r: float
    r_zero: float
    confidence: float
    lags: np.ndarray
    r_by_lag: np.ndarray


def lip_sync_offset(mouth: np.ndarray, energy: np.ndarray, *, max_lag: int = 8, min_overlap: int = 8) -> LipSync:
    """The audio/video offset: the lag ``k`` maximising ``corr(mouth[t], energy[t + k])``.

    Both curves are compared as they are (Pearson normalises level and scale); NaNs (frames
    without a face or outside the audio) are left out of each lag's sum.

    Args:
        mouth: ``(T,)`` mouth opening per frame (e.g. the lip gap or ``jawOpen``).
        energy: ``(T,)`` speech energy per frame (:func:`energy_envelope`; RMS or dB).
        max_lag: largest offset tried, frames, both ways.
        min_overlap: fewest overlapping frames for a lag to count.

    Returns:
        :class:`LipSync` (``lag`` 0, ``confidence`` 0 and NaN correlations when nothing overlaps).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> m = rng.random(200)
        >>> lip_sync_offset(m, np.roll(m, -4), max_lag=8).lag  # audio 4 frames early
        -4
    """
    m, e = _check_1d(mouth, "mouth"), _check_1d(energy, "energy")
    if m.shape != e.shape:
        raise InvalidInput("energy", e.shape, f"must have one value per frame like mouth {m.shape}")
    if isinstance(max_lag, bool) or not isinstance(max_lag, (int, np.integer)) or max_lag < 0:
        raise InvalidInput("max_lag", max_lag, "must be a non-negative integer number of frames")
    T = m.size
    lags = np.arange(-int(max_lag), int(max_lag) + 1)
    rs = np.full(lags.shape, np.nan)
    for i, k in enumerate(lags):
        if k >= 0:
            a, b = m[: T - k], e[k:]
        else:
            a, b = m[-k:], e[: T + k]
        if a.size and (np.isfinite(a) & np.isfinite(b)).sum() >= min_overlap:
            rs[i] = pearson(a, b)
    zero = float(rs[max_lag]) if rs.size > max_lag else float("nan")
    if not np.isfinite(rs).any():
        return LipSync(0, 0.0, float("nan"), zero, 0.0, lags, rs)
    best = int(np.nanargmax(rs))
    r = float(rs[best])
    refined = float(lags[best])
    if 0 < best < len(rs) - 1 and np.isfinite(rs[best - 1]) and np.isfinite(rs[best + 1]):
        den = rs[best - 1] - 2 * r + rs[best + 1]
        if den < 0:
            refined += float(np.clip(0.5 * (rs[best - 1] - rs[best + 1]) / den, -0.5, 0.5))
    far = np.abs(lags - lags[best]) > 2
    others = rs[far & np.isfinite(rs)]
    med = float(np.median(others)) if others.size else 0.0
    stand_out = (r - med) / (1.0 - med) if med < 1.0 else 0.0
    conf = float(np.clip(max(r, 0.0) * stand_out, 0.0, 1.0))
    return LipSync(int(lags[best]), refined, r, zero, conf, lags, rs)


def classify_visemes(openness: np.ndarray, width: np.ndarray, active: np.ndarray | None = None, *,
                     closed: float = 0.15, wide_open: float = 0.6, spread: float = 1.05,
                     narrow: float = 0.93, max_closure: int = 6) -> np.ndarray:
    """A Preston Blair viseme per frame from mouth shape (and speech activity when known).

    Args:
        openness: ``(T,)`` lip gap normalised to [0, 1] over the clip (0 = the performer's
            closed lips, 1 = their widest opening); NaN = no face.
        width: ``(T,)`` mouth width over the performer's neutral width (1 = neutral).
        active: ``(T,)`` bool speech activity from the audio, or ``None`` without audio.
        closed: openness below which the lips are closed.
        wide_open: openness at or above which the mouth is wide open.
        spread: width ratio above which the lips are spread (E).
        narrow: width ratio below which the lips are rounded (O, U).
        max_closure: frames; a closure between two open stretches that is at most this long is
            a consonant (``MBP``).

    Returns:
        ``(T,)`` int8 index into :data:`VISEMES`; -1 where there is no face.

    Rules: each run of closed-lip frames is ``MBP`` when it lies between open frames on both
    sides and lasts at most ``max_closure`` frames, or when the audio is active in most of it;
    otherwise ``rest``. Open frames: narrow -> ``U`` if openness < 0.35 else ``O``; wide open ->
    ``AI``; spread -> ``E``; otherwise ``etc``.

    Example:
        >>> o = np.array([0, 0, 0.3, 0.8, 0.05, 0.3, 0, 0, 0, 0, 0, 0, 0, 0])
        >>> w = np.ones(14)
        >>> [VISEMES[v] for v in classify_visemes(o, w)][:7]
        ['rest', 'rest', 'etc', 'AI', 'MBP', 'etc', 'rest']
    """
    o, w = _check_1d(openness, "openness"), _check_1d(width, "width")
    if o.shape != w.shape:
        raise InvalidInput("width", w.shape, f"must have one value per frame like openness {o.shape}")
    T = o.size
    if active is not None:
        active = np.asarray(active, bool)
        if active.shape != (T,):
            raise InvalidInput("active", active.shape, f"must be ({T},) bool")
    valid = np.isfinite(o) & np.isfinite(w)
    is_closed = valid & (o < closed)
    label = np.full(T, VISEMES.index("etc"), np.int8)
    label[valid & (w > spread)] = VISEMES.index("E")
    label[valid & (o >= wide_open)] = VISEMES.index("AI")
    nar = valid & (w < narrow) & ~is_closed
    label[nar & (o < 0.35)] = VISEMES.index("U")
    label[nar & (o >= 0.35)] = VISEMES.index("O")
    opened = valid & ~is_closed
    for s0, s1 in _true_runs(is_closed):
        inside = s0 > 0 and s1 < T and opened[s0 - 1] and opened[s1]
        voiced = active is not None and active[s0:s1].mean() > 0.5
        mbp = (inside and s1 - s0 <= max_closure) or voiced
        label[s0:s1] = VISEMES.index("MBP") if mbp else VISEMES.index("rest")
    label[~valid] = -1
    return label


def _true_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[start, end)`` runs of True in a 1-D bool array."""
    m = np.r_[False, np.asarray(mask, bool), False]
    d = np.flatnonzero(np.diff(m.astype(np.int8)))
    return list(zip(d[::2].tolist(), d[1::2].tolist(), strict=True))


def viseme_segments(labels: np.ndarray, *, min_frames: int = 2) -> list[tuple[int, int, int]]:
    """Runs of one viseme: ``[(viseme, start, end)]`` (end exclusive; -1 = no face).

    Runs shorter than ``min_frames`` are merged into the longer neighbour first (a one-frame
    flicker between two shapes is not a viseme at 15-30 fps), then equal neighbours joined.

    Example:
        >>> viseme_segments(np.array([0, 0, 4, 4, 4, 3, 4, 4, 0, 0]), min_frames=2)
        [(0, 0, 2), (4, 2, 8), (0, 8, 10)]
    """
    lab = np.asarray(labels)
    if lab.ndim != 1:
        raise InvalidInput("labels", lab.shape, "must be a 1-D array of viseme indices")
    segs: list[list[int]] = []
    for t, v in enumerate(lab.tolist()):
        if segs and segs[-1][0] == v:
            segs[-1][2] = t + 1
        else:
            segs.append([int(v), t, t + 1])
    while True:
        # the shortest too-short viseme run that has a viseme run beside it
        cands = [i for i, s in enumerate(segs) if s[0] != -1 and s[2] - s[1] < min_frames
                 and ((i > 0 and segs[i - 1][0] != -1) or (i + 1 < len(segs) and segs[i + 1][0] != -1))]
        if not cands:
            break
        i = min(cands, key=lambda j: (segs[j][2] - segs[j][1], j))
        left = segs[i - 1] if i > 0 and segs[i - 1][0] != -1 else None
        right = segs[i + 1] if i + 1 < len(segs) and segs[i + 1][0] != -1 else None
        if left is not None and (right is None or left[2] - left[1] >= right[2] - right[1]):
            left[2] = segs[i][2]
        elif right is not None:
            right[1] = segs[i][1]
        del segs[i]
        joined: list[list[int]] = []
        for s in segs:
            if joined and joined[-1][0] == s[0]:
                joined[-1][2] = s[2]
            else:
                joined.append(s)
        segs = joined
    return [(s[0], s[1], s[2]) for s in segs]
