"""Read the facts of a media file: container, streams, size, rotation, timing, colour, audio.

Timing comes from demuxing every video packet (fast: no decoding), so frame counts, VFR
detection and durations are exact even when the container header is silent or wrong; one
frame is decoded to learn the display rotation and to prove the stream decodes at all.
"""

from __future__ import annotations

import os
from fractions import Fraction

import av
import numpy as np

from reworld.errors import ClipOpenError
from reworld.io._av import (
    IMAGE_FORMATS,
    as_fraction,
    bit_depth,
    color_tags,
    max_side_limit,
    open_input,
)
from reworld.types import AudioStreamInfo, MediaInfo, VideoStreamInfo

#: Frame-duration spread (relative to the median) above which a stream counts as VFR.
VFR_TOLERANCE = 0.01


def probe(path: str | os.PathLike, *, arg: str = "input", max_side: int | None = None,
          require_video: bool = True) -> MediaInfo:
    """Probe a media file.

    Args:
        path: a video file or a still image.
        arg: the argument name used in error messages (``"INPUT"`` for the CLI).
        max_side: the largest width or height accepted (default ``$REWORLD_MAX_SIDE`` or 8192).
        require_video: raise when the file has no decodable video (an audio-only file).

    Returns:
        :class:`reworld.types.MediaInfo`.

    Raises:
        InvalidInput: missing file; :class:`ClipOpenError` for a file FFmpeg cannot read, a
            truncated file, zero decodable frames, an audio-only file, or a size over the limit.

    Example:
        >>> info = probe("clip.mp4")  # doctest: +SKIP
        >>> info.video.width, info.video.fps, info.video.frames  # doctest: +SKIP
        (1280, Fraction(25, 1), 132)
    """
    limit = max_side_limit(max_side)
    with open_input(path, arg) as container:
        fmt = container.format.name
        size = os.path.getsize(path)
        duration = container.duration / av.time_base if container.duration else None
        bit_rate = int(container.bit_rate) if container.bit_rate else None
        audio = _audio_info(container)
        vstreams = [s for s in container.streams.video]
        is_image = any(f in fmt.split(",") for f in IMAGE_FORMATS)
        if not vstreams:
            if require_video:
                what = f"audio only ({audio.codec})" if audio else "no video stream"
                raise ClipOpenError(arg, str(path), f"has no video stream: {what}")
            return MediaInfo(str(path), fmt, size, duration, bit_rate, None, audio, is_image)
        video = _video_info(container, vstreams[0], str(path), arg, limit, is_image)
    return MediaInfo(str(path), fmt, size, duration, bit_rate, video, audio, is_image)


def _audio_info(container) -> AudioStreamInfo | None:
    if not container.streams.audio:
        return None
    s = container.streams.audio[0]
    cc = s.codec_context
    dur = float(s.duration * s.time_base) if s.duration and s.time_base else None
    layout = getattr(getattr(cc, "layout", None), "name", None)
    return AudioStreamInfo(
        codec=cc.name, sample_rate=int(cc.sample_rate or 0), channels=int(cc.channels or 0),
        layout=layout, duration=dur, bit_rate=int(cc.bit_rate) if cc.bit_rate else None,
    )


def _video_info(container, s, path: str, arg: str, limit: int, is_image: bool) -> VideoStreamInfo:
    cc = s.codec_context
    cw, ch = int(cc.width), int(cc.height)
    if cw <= 0 or ch <= 0:
        raise ClipOpenError(arg, path, "has a video stream with no picture size (damaged header)")
    if max(cw, ch) > limit:
        raise ClipOpenError(
            arg, path,
            f"is {cw}x{ch}, over the limit of {limit} px a side (raise it with --max-side or REWORLD_MAX_SIDE)",
        )
    tb = as_fraction(s.time_base) or Fraction(1, 90000)

    # 1. Demux every packet of the stream for exact timing (no decoding).
    stamps: list[int] = []
    durations: list[int] = []
    nbytes = 0
    try:
        for packet in container.demux(s):
            if packet.size == 0:
                continue
            nbytes += packet.size
            ts = packet.pts if packet.pts is not None else packet.dts
            if ts is not None:
                stamps.append(int(ts))
            if packet.duration:
                durations.append(int(packet.duration))
    except av.FFmpegError:
        pass  # a damaged tail: keep what demuxed; the decode check below decides
    n = len(stamps)

    # 2. Decode the first frame (in a fresh open: some files cannot seek back): rotation, and
    #    proof that the stream decodes.
    first = None
    with open_input(path, arg) as again:
        try:
            for frame in again.decode(again.streams.video[0]):
                first = frame
                break
        except av.FFmpegError as exc:
            raise ClipOpenError(arg, path, f"has zero decodable video frames ({_reason(exc)})") from exc
    if first is None or n == 0:
        raise ClipOpenError(arg, path, "has zero decodable video frames (truncated or empty stream)")

    rotation = int(getattr(first, "rotation", 0) or 0) % 360
    rotation = int(round(rotation / 90.0)) * 90 % 360
    width, height = (ch, cw) if rotation in (90, 270) else (cw, ch)

    # 3. Timing from the sorted stamps.
    pts = np.sort(np.asarray(stamps, dtype=np.int64))
    diffs = np.diff(pts)
    diffs = diffs[diffs > 0]
    rate = as_fraction(s.average_rate) or as_fraction(s.guessed_rate)
    if diffs.size:
        med = float(np.median(diffs))
        last = med
        # one tick of jitter is timestamp rounding (e.g. 33/34 ms at 1/1000), not VFR
        is_vfr = bool(np.any(np.abs(diffs - med) > max(1.5, VFR_TOLERANCE * med)))
    else:
        last = float(durations[0]) if durations else (float(1 / (rate * tb)) if rate else 1.0)
        is_vfr = False
    span = float((pts[-1] - pts[0] + last) * tb)
    if is_vfr or not rate:
        fps = Fraction(n, 1) / Fraction(span).limit_denominator(1_000_000) if span > 0 else Fraction(0)
        fps = fps.limit_denominator(1001 * 1000)
    else:
        fps = rate
    vbr = int(cc.bit_rate) if cc.bit_rate else (int(nbytes * 8 / span) if span > 0 else None)
    profile = cc.profile if isinstance(cc.profile, str) else None
    return VideoStreamInfo(
        codec=cc.name, width=width, height=height, coded_width=cw, coded_height=ch,
        rotation=rotation, pix_fmt=cc.pix_fmt or (first.format.name if first else ""),
        bit_depth=bit_depth(cc.pix_fmt or first.format.name), fps=fps, is_vfr=is_vfr, frames=n,
        duration=span, time_base=tb, start_time=float(pts[0] * tb), bit_rate=vbr,
        color=color_tags(first if first is not None else cc), profile=profile,
    )


def _reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc)
