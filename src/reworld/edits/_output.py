"""OutputSpec: where and how a render is written (container, codec, quality, bit depth, HDR)."""

from __future__ import annotations

import os
from pathlib import PurePath
from typing import Literal

from pydantic import Field, model_validator

from reworld.edits._fields import Flag, PathStr, SpecModel, field_error, integer, num

CONTAINERS = ("mp4", "mov", "mkv", "png", "exr")
CODECS = ("h264", "hevc", "prores", "png", "exr")
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo")
SEQUENCE_CONTAINERS = ("png", "exr")

_BY_SUFFIX = {".mp4": "mp4", ".mov": "mov", ".mkv": "mkv", ".png": "png", ".exr": "exr"}
_CODECS_FOR = {
    "mp4": ("h264", "hevc"),
    "mkv": ("h264", "hevc"),
    "mov": ("h264", "hevc", "prores"),
    "png": ("png",),
    "exr": ("exr",),
}

Size = integer(16, 16384)
Crf = integer(0, 51)
Fps = num(0, 1000, lo_open=True)


def _suffix(path: str) -> str | None:
    """Lower-case suffix of ``path``, or None when it names a folder (trailing slash or no suffix)."""
    if path.endswith(("/", os.sep)):
        return None
    return PurePath(path).suffix.lower() or None


def _or(items: tuple[str, ...]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


class OutputSpec(SpecModel):
    """Where and how the result is written.

    ``container``, ``codec`` and ``bit_depth`` are inferred when left out (from the path's suffix,
    the container, and the codec/HDR choice) and stored explicitly after validation.

    Example:
        >>> o = OutputSpec(path="out.mov", codec="prores")
        >>> (o.container, o.codec, o.bit_depth)
        ('mov', 'prores', 10)
        >>> OutputSpec(path="frames/").container
        'png'
    """

    path: PathStr = Field(
        description="Output file (.mp4, .mov, .mkv), or a folder / pattern (%05d, ####) ending in .png/.exr "
        "for an image sequence."
    )
    container: Literal["mp4", "mov", "mkv", "png", "exr"] | None = Field(
        None, description="Inferred from the suffix of `path` (a folder means png) when left out."
    )
    codec: Literal["h264", "hevc", "prores", "png", "exr"] | None = Field(
        None, description="Default h264 for mp4/mov/mkv (hevc when `hdr` is pq/hlg), png / exr for sequences."
    )
    crf: Crf = Field(18, description="Constant rate factor for h264/hevc: 0 lossless ... 51 worst.")
    preset: Literal[PRESETS] = Field("medium", description="x264/x265 speed preset.")
    bit_depth: Literal[8, 10] | None = Field(
        None,
        description="8 (h264, png), 8 or 10 (hevc), 10 (prores); unset for exr (float). "
        "Default 8, or 10 for prores and HDR hevc.",
    )
    hdr: Literal["sdr", "pq", "hlg"] = Field("sdr", description="Transfer: sdr, or pq / hlg (hevc 10-bit or prores).")
    keep_audio: Flag = Field(True, description="Copy the source audio (ignored for image sequences).")
    fps: Fps | None = Field(None, description="Output frame rate; null keeps source timing.")
    width: Size | None = Field(None, description="Output width in pixels; null keeps (aspect kept if only one).")
    height: Size | None = Field(None, description="Output height in pixels; null keeps.")

    @property
    def is_sequence(self) -> bool:
        """True for png/exr image-sequence output."""
        return self.container in SEQUENCE_CONTAINERS

    @model_validator(mode="after")
    def _infer_and_check(self) -> OutputSpec:
        set_ = object.__setattr__  # the model is frozen; inferred values are filled in once, here
        suffix = _suffix(self.path)
        if suffix is None:
            inferred = "exr" if self.codec == "exr" else "png"
            if self.container is not None and self.container not in SEQUENCE_CONTAINERS:
                raise field_error(
                    f"is a folder; container {self.container!r} needs a file name ending in .{self.container}",
                    field="path",
                    value=self.path,
                )
        elif suffix in _BY_SUFFIX:
            inferred = _BY_SUFFIX[suffix]
            if self.container is not None and self.container != inferred:
                raise field_error(
                    f"does not match the suffix of `output.path` ({suffix})", field="container", value=self.container
                )
        else:
            raise field_error(
                "must end in .mp4, .mov or .mkv (video) or .png or .exr (image sequence), "
                "or be a folder ending in '/'",
                field="path",
                value=self.path,
            )
        container = self.container or inferred
        set_(self, "container", container)

        if self.codec is None:
            video_default = "h264" if self.hdr == "sdr" else "hevc"
            set_(self, "codec", container if container in SEQUENCE_CONTAINERS else video_default)
        codec = self.codec
        allowed = _CODECS_FOR[container]
        if codec not in allowed:
            if container in SEQUENCE_CONTAINERS:
                reason = f"must be {container} for a {container} image sequence"
            else:
                reason = f"must be {_or(allowed)} for container {container!r}"
                if codec == "prores":
                    reason += " (prores needs container 'mov')"
                else:
                    reason += " (png and exr write image sequences: give a folder or a .png/.exr path)"
            raise field_error(reason, field="codec", value=codec)

        if self.bit_depth is None and codec != "exr":
            depth = 10 if codec == "prores" or (codec == "hevc" and self.hdr != "sdr") else 8
            set_(self, "bit_depth", depth)
        depth = self.bit_depth
        if codec == "exr" and depth is not None:
            raise field_error("must be left unset for exr (EXR stores float)", field="bit_depth", value=depth)
        if codec in ("h264", "png") and depth != 8:
            hint = " (10-bit needs hevc or prores)" if codec == "h264" else ""
            raise field_error(f"must be 8 for {codec}{hint}", field="bit_depth", value=depth)
        if codec == "prores" and depth != 10:
            raise field_error("must be 10 for prores", field="bit_depth", value=depth)

        if self.hdr != "sdr" and not (codec == "prores" or (codec == "hevc" and depth == 10)):
            raise field_error(
                f"must be 'sdr' unless codec is hevc at 10-bit or prores (codec is {codec!r}, bit_depth {depth})",
                field="hdr",
                value=self.hdr,
            )

        for name in ("width", "height"):
            size = getattr(self, name)
            needs_even = codec in ("h264", "hevc") or (codec == "prores" and name == "width")
            if size is not None and needs_even and size % 2:
                raise field_error(f"must be even for {codec} (chroma subsampling)", field=name, value=size)
        return self
