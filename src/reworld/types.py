"""Core data types shared by every layer (layer 0: numpy + stdlib only).

Times are exact: a frame's time in seconds is ``pts * time_base`` (PyAV convention), never
``index / fps``. Sizes are given as displayed (after rotation metadata is applied) unless a
field says ``coded``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np


@dataclass(frozen=True)
class ColorTags:
    """Colour description of a video stream, as FFmpeg names it (``None`` = unspecified)."""

    primaries: str | None = None  # "bt709", "bt2020", ...
    transfer: str | None = None  # "bt709", "smpte2084" (PQ), "arib-std-b67" (HLG), ...
    matrix: str | None = None  # "bt709", "bt2020nc", "smpte170m", ...
    range: str | None = None  # "tv" (limited) or "pc" (full)

    @property
    def is_hdr(self) -> bool:
        return self.transfer in {"smpte2084", "arib-std-b67"}


@dataclass(frozen=True)
class VideoStreamInfo:
    """Facts about the first video stream.

    Attributes:
        codec: FFmpeg codec name (``"h264"``, ``"hevc"``, ``"mjpeg"``).
        width, height: displayed size in pixels (rotation applied).
        coded_width, coded_height: size as stored in the stream.
        rotation: clockwise degrees the picture must be turned for display (0, 90, 180, 270).
        pix_fmt: decoder pixel format (``"yuv420p"``, ``"yuv420p10le"``).
        bit_depth: bits per component of the source (8, 10, 12).
        fps: average frame rate (frames / duration when the container gives no better value).
        is_vfr: True when frame durations vary by more than 1 %.
        frames: number of frames (counted from packets when the container does not say).
        duration: seconds from the first frame's start to the last frame's end.
        time_base: the stream time base.
        start_time: seconds of the first frame's pts.
        bit_rate: bits per second of the video stream, or ``None``.
        color: colour tags.
        profile: codec profile name, if any.
    """

    codec: str
    width: int
    height: int
    coded_width: int
    coded_height: int
    rotation: int
    pix_fmt: str
    bit_depth: int
    fps: Fraction
    is_vfr: bool
    frames: int
    duration: float
    time_base: Fraction
    start_time: float
    bit_rate: int | None
    color: ColorTags = field(default_factory=ColorTags)
    profile: str | None = None


@dataclass(frozen=True)
class AudioStreamInfo:
    """Facts about the first audio stream."""

    codec: str
    sample_rate: int
    channels: int
    layout: str | None
    duration: float | None
    bit_rate: int | None


@dataclass(frozen=True)
class MediaInfo:
    """What :func:`reworld.io.probe.probe` reads from a media file.

    Attributes:
        path: the file probed.
        container: FFmpeg format name (``"mov,mp4,m4a,3gp,3g2,mj2"``, ``"avi"``, ``"image2"``).
        size_bytes: file size.
        duration: container duration in seconds.
        bit_rate: overall bits per second.
        video: the first video stream, or ``None``.
        audio: the first audio stream, or ``None``.
        is_image: True for a still image (PNG, JPEG, EXR...).
    """

    path: str
    container: str
    size_bytes: int
    duration: float | None
    bit_rate: int | None
    video: VideoStreamInfo | None
    audio: AudioStreamInfo | None
    is_image: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (fractions become ``"num/den"`` strings plus floats)."""
        return _jsonable(asdict(self))


@dataclass
class Chunk:
    """A run of consecutive decoded frames.

    Attributes:
        frames: ``(t, H, W, 3)`` uint8 RGB (or uint16 when the reader was asked for 16 bits).
        pts: ``(t,)`` int64 presentation timestamps in ``time_base`` units.
        time_base: the stream time base.
        start: index of the first frame of this chunk in the clip.
    """

    frames: np.ndarray
    pts: np.ndarray
    time_base: Fraction
    start: int

    @property
    def times(self) -> np.ndarray:
        """``(t,)`` float64 seconds of each frame."""
        return self.pts.astype(np.float64) * float(self.time_base)

    def __len__(self) -> int:
        return int(self.frames.shape[0])


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, Fraction):
        return f"{obj.numerator}/{obj.denominator}"
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


@dataclass
class RenderResult:
    """What a render (grade, transcode, later modify) produced.

    Attributes:
        output: path written (a folder for image sequences).
        input: the source path.
        frames: frames written.
        duration: seconds of video written.
        fps: output average frame rate.
        variation: variation index (0 for single renders).
        seed: the seed actually used.
        timings: seconds per pipeline step (``{"decode+render+encode": 3.1, ...}``).
        metrics: measured figures (e.g. ``{"render_fps": 41.2}``).
        spec: the edit spec as a JSON-ready dict.
        extra_outputs: other files written (LUTs, reports).
    """

    output: str
    input: str
    frames: int
    duration: float
    fps: Fraction
    variation: int = 0
    seed: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    spec: dict[str, Any] | None = None
    extra_outputs: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        return _jsonable(asdict(self))
