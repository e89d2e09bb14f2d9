"""Encode frames to a video file or an image sequence, atomically, keeping timing and audio.

Video: H.264 (default), HEVC 8/10-bit, ProRes 422 HQ, in MP4 / MOV / MKV. Image sequences:
PNG (8 or 16 bit) or EXR (half float, linear light). Everything is written to a temporary
name in the target folder and renamed into place only when complete, so an interrupted or
failed write never leaves a half-written file and never replaces a good one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from reworld.errors import InvalidInput, ReworldError
from reworld.io._av import WRITE_FLAGS, open_input

#: container name -> (FFmpeg muxer, file suffix)
CONTAINERS = {"mp4": ("mp4", ".mp4"), "mov": ("mov", ".mov"), "mkv": ("matroska", ".mkv")}
SEQUENCES = ("png", "exr")
#: codec -> (FFmpeg encoder, 8-bit 4:2:0 pix_fmt, 10-bit pix_fmt)
CODECS = {
    "h264": ("libx264", "yuv420p", None),
    "hevc": ("libx265", "yuv420p", "yuv420p10le"),
    "prores": ("prores_ks", "yuv422p10le", "yuv422p10le"),
}
#: audio codecs each container can take by stream copy; others are transcoded to AAC
AUDIO_COPY = {
    "mp4": {"aac", "mp3", "alac", "opus", "ac3", "eac3", "flac"},
    "mov": {"aac", "mp3", "alac", "ac3", "eac3", "pcm_s16le", "pcm_s24le", "pcm_s16be", "pcm_s24be"},
    "mkv": {"aac", "mp3", "alac", "opus", "ac3", "eac3", "flac", "vorbis", "pcm_s16le", "pcm_s24le"},
}
#: sample rates AAC can encode (others are resampled to the next one up)
AAC_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000)
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")


def container_for(path: str | os.PathLike) -> str:
    """The output container for a path: ``.mp4``/``.mov``/``.mkv``, or ``.png``/``.exr`` for an
    image sequence (``frames/f_%05d.png``; a name without a pattern gets ``_%05d`` added)."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix in CONTAINERS or suffix in SEQUENCES:
        return suffix
    raise InvalidInput("output", str(path),
                       "has no known suffix (use .mp4, .mov, .mkv, or a .png/.exr frame pattern "
                       "such as out/frame_%05d.png)")


def check_output_path(path: str | os.PathLike, *, inputs: tuple = (), arg: str = "output") -> Path:
    """Refuse an output that is one of the inputs or whose folder cannot be written."""
    out = Path(path)
    for src in inputs:
        if src is None:
            continue
        s = Path(src)
        try:
            same = out.exists() and s.exists() and out.samefile(s)
        except OSError:
            same = False
        if same or out.resolve() == s.resolve():
            raise InvalidInput(arg, str(path), "is the input file; choose another path so the input is not overwritten")
    probe_dir = out.parent
    while not probe_dir.exists() and probe_dir != probe_dir.parent:
        probe_dir = probe_dir.parent
    if not probe_dir.is_dir():
        raise InvalidInput(arg, str(path), f"cannot be written: {str(probe_dir)!r} is not a folder")
    try:  # os.access lies for root and on some mounts: really try
        with tempfile.TemporaryFile(dir=probe_dir, prefix=".reworld-probe-"):
            pass
    except OSError as exc:
        raise InvalidInput(arg, str(path), f"cannot be written: folder {str(probe_dir)!r} is not writable ({exc.strerror})") from None
    if out.is_dir() and not _is_pattern(out):
        raise InvalidInput(arg, str(path), "is an existing folder; give a file name such as out.mp4")
    return out


def _is_pattern(p: Path) -> bool:
    return "%" in p.name


class ClipWriter:
    """Write frames to ``path`` (see module doc). Use as a context manager.

    Args:
        path: ``out.mp4`` / ``.mov`` / ``.mkv``, or a sequence pattern ``frames/f_%05d.png`` /
            ``.exr`` (a plain ``frames/x.png`` becomes ``frames/x_%05d.png``).
        fps: frame rate; used for timing when ``write`` gets no pts.
        time_base: time base of the pts passed to ``write`` (default ``1 / fps``). Pass the
            source's time base with its pts to keep VFR timing exactly.
        codec: ``"h264"``, ``"hevc"`` or ``"prores"`` (``.mov`` only); ignored for sequences.
        crf: constant rate factor 0-51 (H.264/HEVC); lower is better quality.
        preset: x264/x265 speed preset.
        bit_depth: 8 or 10 (10 for HEVC/ProRes; PNG: 8 or 16).
        audio_from: a media file whose first audio stream is copied (or transcoded to AAC when
            the container cannot hold it), interleaved with the video.
        rotation: display rotation (counter-clockwise degrees) to store; frames given to
            ``write`` are upright and are turned back so the file matches a rotated source.
        inputs: input paths the output must not overwrite.
        arg: argument name for error messages.

    Example:
        >>> with ClipWriter("out.mp4", fps=25) as w:  # doctest: +SKIP
        ...     w.write(frames)  # (T, H, W, 3) uint8
    """

    def __init__(self, path: str | os.PathLike, *, fps: float | Fraction, time_base: Fraction | None = None,
                 codec: str = "h264", crf: int = 18, preset: str = "medium", bit_depth: int = 8,
                 audio_from: str | os.PathLike | None = None, rotation: int = 0,
                 inputs: tuple = (), arg: str = "output", container: str | None = None) -> None:
        self.path = check_output_path(path, inputs=inputs + ((audio_from,) if audio_from else ()), arg=arg)
        self.container_name = container or container_for(path)
        self.fps = Fraction(fps).limit_denominator(1_000_000) if not isinstance(fps, Fraction) else fps
        if self.fps <= 0:
            raise InvalidInput("fps", fps, "must be > 0")
        self.time_base = time_base or Fraction(1, 1) / self.fps
        if codec not in CODECS and self.container_name not in SEQUENCES:
            raise InvalidInput("codec", codec, f"must be one of {sorted(CODECS)}")
        if codec == "prores" and self.container_name != "mov":
            raise InvalidInput("codec", codec, "needs a .mov output")
        if not isinstance(crf, int) or not 0 <= crf <= 51:
            raise InvalidInput("crf", crf, "must be an integer in [0, 51]")
        if preset not in PRESETS:
            raise InvalidInput("preset", preset, f"must be one of {', '.join(PRESETS)}")
        seq = self.container_name in SEQUENCES
        allowed = {"png": (8, 16), "exr": (16, 32)}.get(self.container_name) if seq else (
            (8,) if codec == "h264" else (8, 10) if codec == "hevc" else (10,))
        if codec == "prores" and bit_depth == 8:
            bit_depth = 10  # ProRes is always 10-bit; 8-bit frames are widened, nothing is lost
        if self.container_name == "exr" and bit_depth == 8:
            bit_depth = 16
        if bit_depth not in allowed:
            raise InvalidInput("bit_depth", bit_depth, f"must be one of {allowed} for {codec if not seq else self.container_name}")
        if rotation % 90:
            raise InvalidInput("rotation", rotation, "must be a multiple of 90")
        self.codec, self.crf, self.preset, self.bit_depth = codec, crf, preset, bit_depth
        self.rotation = rotation % 360
        self.audio_from = str(audio_from) if audio_from else None
        self.frames_written = 0
        self._last_pts: int | None = None
        self._out = None
        self._vstream = None
        self._audio = None  # (input container, packet iterator, out stream, transcode?, in stream)
        self._pending_audio = None
        self._audio_done = False
        self._closed = False
        self._tmp = self._temp_path()

    # -- paths -------------------------------------------------------------------------------
    def _temp_path(self) -> Path:
        tag = uuid.uuid4().hex[:8]
        if self.container_name in SEQUENCES:
            # frames go to a sibling temp folder, renamed onto the target folder at the end
            folder = self.path.parent
            folder.parent.mkdir(parents=True, exist_ok=True)
            return Path(tempfile.mkdtemp(prefix=f".reworld-{tag}-{folder.name}-", suffix=".tmp", dir=folder.parent))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return self.path.parent / f".reworld-{tag}-{self.path.name}.tmp"

    def _sequence_name(self, index: int) -> str:
        name = self.path.name
        if "%" not in name:
            name = f"{self.path.stem}_%05d{self.path.suffix}"
        return name % index

    # -- context -----------------------------------------------------------------------------
    def __enter__(self) -> "ClipWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    # -- writing -----------------------------------------------------------------------------
    def write(self, frames: np.ndarray, pts: np.ndarray | None = None) -> None:
        """Append frames: ``(t, H, W, 3)`` or ``(H, W, 3)`` uint8 (or uint16 for 10/16-bit).

        Args:
            frames: RGB frames, upright.
            pts: ``(t,)`` int64 timestamps in ``time_base`` units; default: continue at 1/fps.
        """
        if self._closed:
            raise ReworldError("ClipWriter is closed")
        frames = np.asarray(frames)
        if frames.ndim == 3:
            frames = frames[None]
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype not in (np.uint8, np.uint16):
            raise InvalidInput("frames", f"array {frames.shape} {frames.dtype}",
                               "must be (T, H, W, 3) uint8 or uint16 RGB")
        if pts is None:
            step = Fraction(1, 1) / self.fps / self.time_base
            pts = np.asarray([int(round((self.frames_written + i) * step)) for i in range(len(frames))], np.int64)
        elif len(pts) != len(frames):
            raise InvalidInput("pts", f"{len(pts)} values", f"must match the {len(frames)} frames")
        for frame, p in zip(frames, pts):
            p = int(p)
            if self._last_pts is not None and p <= self._last_pts:
                p = self._last_pts + 1  # keep strictly increasing (FFmpeg rejects equal pts)
            self._last_pts = p
            if self.container_name in SEQUENCES:
                self._write_image(frame)
            else:
                self._write_video(frame, p)
            self.frames_written += 1

    def _write_image(self, frame: np.ndarray) -> None:
        from reworld.io.stills import write_image_file  # same layer, no cycle at import time

        write_image_file(self._tmp / self._sequence_name(self.frames_written), frame,
                         bit_depth=self.bit_depth)

    def _open_video(self, height: int, width: int) -> None:
        muxer = CONTAINERS[self.container_name][0]
        self._out = av.open(str(self._tmp), mode="w", format=muxer)
        encoder, pix8, pix10 = CODECS[self.codec]
        pix = pix10 if self.bit_depth == 10 else pix8
        odd = (width % 2) or (height % 2)
        if odd and pix.startswith("yuv420"):
            pix = pix.replace("yuv420", "yuv444")  # 4:2:0 needs even sizes; keep the exact size
        if odd and pix.startswith("yuv422") and width % 2:
            pix = pix.replace("yuv422", "yuv444")
        rate = self.fps
        s = self._out.add_stream(encoder, rate=rate)
        s.width, s.height, s.pix_fmt = width, height, pix
        s.time_base = self.time_base
        s.codec_context.time_base = self.time_base
        s.codec_context.color_primaries = 1
        s.codec_context.color_trc = 1
        s.codec_context.colorspace = 1
        s.codec_context.color_range = 1  # limited ("tv")
        if self.codec in ("h264", "hevc"):
            opts = {"crf": str(self.crf), "preset": self.preset}
            if self.codec == "hevc":
                opts["x265-params"] = "log-level=error"
                opts["tag"] = "hvc1"
            s.options = opts
            if self.codec == "hevc" and self.container_name in ("mp4", "mov"):
                s.codec_tag = "hvc1"  # plays in QuickTime/Safari
        else:
            s.options = {"profile": "3", "vendor": "apl0"}  # ProRes 422 HQ
        if self.rotation:
            s.set_display_rotation(self.rotation)
        self._vstream = s
        self._pix = pix
        if self.audio_from:
            self._open_audio()

    def _write_video(self, frame: np.ndarray, pts: int) -> None:
        if self.rotation:
            frame = np.ascontiguousarray(np.rot90(frame, k=-(self.rotation // 90)))
        h, w = frame.shape[:2]
        if self._out is None:
            self._open_video(h, w)
        elif (h, w) != (self._vstream.height, self._vstream.width):
            raise InvalidInput("frames", f"{w}x{h}", f"must keep the first frame's size {self._vstream.width}x{self._vstream.height}")
        if frame.dtype == np.uint16:
            vf = av.VideoFrame.from_ndarray(frame, format="rgb48le")
        elif self.bit_depth == 10:
            vf = av.VideoFrame.from_ndarray(frame.astype(np.uint16) * 257, format="rgb48le")
        else:
            vf = av.VideoFrame.from_ndarray(frame, format="rgb24")
        vf = vf.reformat(format=self._pix, dst_colorspace="itu709", dst_color_range="MPEG",
                         src_color_range="JPEG", interpolation=WRITE_FLAGS)
        vf.pts = pts
        vf.time_base = self.time_base
        for packet in self._vstream.encode(vf):
            self._out.mux(packet)
        self._mux_audio_until(float(pts * self.time_base))

    # -- audio -------------------------------------------------------------------------------
    def _open_audio(self) -> None:
        src = open_input(self.audio_from, "audio_from")
        if not src.streams.audio:
            src.close()
            return
        a = src.streams.audio[0]
        if a.codec_context.name in AUDIO_COPY[self.container_name]:
            out_stream = self._out.add_stream_from_template(a)
            self._audio = (src, src.demux(a), out_stream, False, a)
        else:
            src_rate = a.codec_context.sample_rate or 48000
            rate = min((r for r in AAC_RATES if r >= src_rate), default=48000)
            out_stream = self._out.add_stream("aac", rate=rate)
            out_stream.layout = "mono" if a.codec_context.channels == 1 else "stereo"
            # PyAV resamples (format, rate, layout) and re-frames to the encoder's frame size
            self._audio = (src, src.demux(a), out_stream, True, a)

    def _mux_audio_until(self, t: float | None) -> None:
        """Mux source audio packets up to time ``t`` (seconds); ``None`` = all that is left, then flush."""
        if self._audio is None:
            return
        src, packets, out_stream, transcode, a = self._audio
        while not self._audio_done:
            if self._pending_audio is None:
                try:
                    self._pending_audio = next(packets)
                except (StopIteration, av.FFmpegError):
                    self._audio_done = True
                    break
            packet = self._pending_audio
            if packet.pts is not None and t is not None and float(packet.pts * packet.time_base) > t:
                break
            self._pending_audio = None
            if packet.size == 0 and packet.dts is None:
                continue  # the demuxer's flush packet
            if not transcode:
                packet.stream = out_stream
                self._out.mux(packet)
                continue
            for frame in packet.decode():
                frame.pts = None
                for p in out_stream.encode(frame):
                    self._out.mux(p)
        if t is None and transcode:
            for p in out_stream.encode(None):
                self._out.mux(p)

    # -- finishing ---------------------------------------------------------------------------
    def close(self) -> Path:
        """Flush, mux the rest of the audio, and move the result into place. Returns the path."""
        if self._closed:
            return self.path
        try:
            if self.frames_written == 0:
                raise InvalidInput("frames", 0, "were written; nothing to save")
            if self.container_name in SEQUENCES:
                self._closed = True
                self._replace_dir()
                return self.path.parent
            for packet in self._vstream.encode(None):
                self._out.mux(packet)
            self._mux_audio_until(None)
            self._close_streams()
            os.replace(self._tmp, self.path)
            self._closed = True
            return self.path
        except BaseException:
            self.abort()
            raise

    def _close_streams(self) -> None:
        if self._audio is not None:
            self._audio[0].close()
            self._audio = None
        if self._out is not None:
            self._out.close()
            self._out = None

    def _replace_dir(self) -> None:
        target = self.path.parent
        if target.exists() and any(target.iterdir()):
            # keep other files in the folder; replace only frames we wrote
            for f in self._tmp.iterdir():
                os.replace(f, target / f.name)
            self._tmp.rmdir()
        else:
            if target.exists():
                target.rmdir()
            os.replace(self._tmp, target)

    def abort(self) -> None:
        """Stop and delete the temporary output; the target path is left untouched."""
        self._closed = True
        try:
            self._close_streams()
        except Exception:  # noqa: BLE001 - cleaning up after a failure already being raised
            pass
        if self._tmp.is_dir():
            shutil.rmtree(self._tmp, ignore_errors=True)
        elif self._tmp.exists():
            self._tmp.unlink()
