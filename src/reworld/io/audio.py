"""Decode a file's audio track to an array (for lip sync, beat-aware edits and checks)."""

from __future__ import annotations

import os

import av
import numpy as np

from reworld.errors import ClipOpenError, InvalidInput
from reworld.io._av import open_input


def read_audio(path: str | os.PathLike, *, sample_rate: int | None = None, mono: bool = False,
               arg: str = "input", max_seconds: float = 3600.0) -> tuple[np.ndarray, int, float]:
    """Decode the first audio stream to float32 samples.

    Args:
        path: a media file with an audio stream.
        sample_rate: resample to this rate (default: the stream's own).
        mono: mix all channels down to one.
        arg: argument name for error messages.
        max_seconds: refuse to hold more than this much audio in memory.

    Returns:
        ``(samples, rate, start)``: ``(C, N)`` float32 in [-1, 1], the sample rate in Hz, and the
        time in seconds of the first sample (audio may start before or after the video).

    Example:
        >>> samples, rate, start = read_audio("talk.avi", sample_rate=16000, mono=True)  # doctest: +SKIP
        >>> samples.shape  # doctest: +SKIP
        (1, 72533)
    """
    with open_input(path, arg) as container:
        if not container.streams.audio:
            raise ClipOpenError(arg, str(path), "has no audio stream")
        stream = container.streams.audio[0]
        rate = int(sample_rate or stream.codec_context.sample_rate or 0)
        if rate <= 0:
            raise InvalidInput("sample_rate", sample_rate, "must be a positive number of Hz")
        layout = "mono" if mono else (stream.codec_context.layout.name if stream.codec_context.channels > 2
                                      else ("mono" if stream.codec_context.channels == 1 else "stereo"))
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
        parts: list[np.ndarray] = []
        start = None
        total = 0
        try:
            for frame in container.decode(stream):
                if start is None and frame.pts is not None and frame.time_base:
                    start = float(frame.pts * frame.time_base)
                for out in resampler.resample(frame):
                    parts.append(out.to_ndarray())
                    total += parts[-1].shape[-1]
                if total > max_seconds * rate:
                    raise InvalidInput("max_seconds", max_seconds, f"is exceeded by the audio of {path}")
            for out in resampler.resample(None):
                parts.append(out.to_ndarray())
        except av.FFmpegError as exc:
            raise ClipOpenError(arg, str(path), f"has audio that stopped decoding ({exc})") from exc
    if not parts:
        raise ClipOpenError(arg, str(path), "has an audio stream with no decodable samples")
    return np.concatenate(parts, axis=-1).astype(np.float32), rate, float(start or 0.0)
