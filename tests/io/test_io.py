"""Video I/O: streaming reads, exact timing, rotation, VFR, odd sizes, 10-bit, audio, atomic writes."""

from __future__ import annotations

import os
from fractions import Fraction

import numpy as np
import pytest

from conftest import make_clip, media, pattern_frames
from reworld.errors import ClipOpenError, InvalidInput
from reworld.io.probe import probe
from reworld.io.reader import ClipReader, read_clip
from reworld.io.writer import ClipWriter


def roundtrip(src, dst, **writer_kwargs):
    with ClipReader(src, chunk_size=5) as r:
        v = r.info.video
        with ClipWriter(dst, fps=v.fps, time_base=v.time_base, rotation=v.rotation,
                        audio_from=src, inputs=(src,), **writer_kwargs) as w:
            for chunk in r:
                w.write(chunk.frames, chunk.pts)
    return probe(src), (None if "%" in str(dst) else probe(dst))


def test_smoke_chunks_cover_every_frame_in_order(clip):
    with ClipReader(clip, chunk_size=5) as r:
        chunks = list(r)
    assert [len(c) for c in chunks] == [5, 5, 2]
    assert [c.start for c in chunks] == [0, 5, 10]
    pts = np.concatenate([c.pts for c in chunks])
    assert np.all(np.diff(pts) > 0)
    assert chunks[0].frames.dtype == np.uint8 and chunks[0].frames.shape[1:] == (48, 64, 3)
    np.testing.assert_allclose(chunks[0].times[:3], [0.0, 0.1, 0.2], atol=1e-9)


def test_decoded_pixels_match_what_was_encoded(clip):
    frames = read_clip(clip).frames
    ref = pattern_frames(12)
    # libx264 crf 10 + 4:2:0: small error, but colours and the moving square must be right
    assert np.abs(frames.astype(int) - ref.astype(int)).mean() < 3.0


@pytest.mark.media
def test_colour_roundtrip_is_unbiased(tmp_path):
    """RGB → YUV 4:2:0 → RGB through the writer and reader: no systematic shift on a real photo
    (swscale's default fast path shifts by about -1 level; we use accurate rounding)."""
    from reworld.io.stills import read_image

    img = read_image(media("photos/landscape_sheep_field_sky.jpg"))[:480, :640]
    with ClipWriter(tmp_path / "o.mp4", fps=10, crf=0) as w:
        w.write(np.stack([img] * 2))
    d = read_clip(tmp_path / "o.mp4").frames.astype(float) - img
    assert np.abs(d.reshape(-1, 3).mean(0)).max() < 0.2
    assert np.abs(d).mean() < 1.0


def test_seek_starts_at_requested_time(clip):
    with ClipReader(clip) as r:
        part = r.read(start=0.5, end=0.9)
    np.testing.assert_allclose(part.times, [0.5, 0.6, 0.7, 0.8], atol=1e-9)


def test_sample_pairs_are_consecutive_frames(clip):
    with ClipReader(clip) as r:
        s = r.sample([0.0, 0.55], run=2)
    assert len(s) == 2 and s[1][0] == pytest.approx(0.6)
    assert s[0][1].shape == s[0][2].shape == (48, 64, 3)
    with ClipReader(clip) as r:
        runs = r.sample([0.0, 0.9], run=4)  # the run from 0.9 s would pass the end: left out
    assert len(runs) == 1 and len(runs[0]) == 5


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotation_applied_on_read_and_kept_on_write(tmp_path, rotation):
    src = make_clip(tmp_path / f"rot{rotation}.mp4", rotation=rotation)
    info = probe(src)
    assert info.video.rotation == rotation
    upright = read_clip(src).frames
    raw = read_clip(src, apply_rotation=False).frames
    np.testing.assert_array_equal(upright, np.rot90(raw, k=rotation // 90, axes=(1, 2)))
    if rotation in (90, 270):
        assert (info.video.width, info.video.height) == (48, 64)
    a, b = roundtrip(src, tmp_path / "out.mp4", crf=0)
    assert b.video.rotation == rotation
    assert (b.video.width, b.video.height) == (a.video.width, a.video.height)
    again = read_clip(tmp_path / "out.mp4").frames
    assert np.abs(again.astype(int) - upright.astype(int)).mean() < 2.0


def test_vfr_timing_is_kept_exactly(tmp_path):
    pts = [0, 100, 200, 250, 300, 500, 700, 750, 800, 1000]  # ms: irregular frame durations
    src = make_clip(tmp_path / "vfr.mkv", n=len(pts), pts=pts, time_base=Fraction(1, 1000), container="matroska")
    info = probe(src)
    assert info.video.is_vfr and info.video.frames == len(pts)
    a, b = roundtrip(src, tmp_path / "vfr_out.mp4")
    assert b.video.is_vfr and b.video.frames == len(pts)
    with ClipReader(tmp_path / "vfr_out.mp4") as r:
        times = np.concatenate([c.times for c in r])
    np.testing.assert_allclose(times - times[0], np.asarray(pts) / 1000.0, atol=1e-3)


def test_constant_rate_is_not_vfr(clip):
    v = probe(clip).video
    assert not v.is_vfr and v.fps == 10 and v.frames == 12
    assert v.duration == pytest.approx(1.2)


@pytest.mark.parametrize("size", [(47, 63), (1, 1), (3, 5)])
def test_odd_sizes_roundtrip_exactly_sized(tmp_path, size):
    h, w = size
    frames = pattern_frames(4, h, w)
    out = tmp_path / "odd.mp4"
    with ClipWriter(out, fps=10) as wr:
        wr.write(frames)
    back = read_clip(out).frames
    assert back.shape == (4, h, w, 3)
    assert np.abs(back.astype(int) - frames.astype(int)).mean() < 6.0


def test_ten_bit_source_reads_as_uint16(tmp_path):
    src = make_clip(tmp_path / "ten.mkv", codec="libx265", pix_fmt="yuv420p10le", container="matroska")
    v = probe(src).video
    assert v.bit_depth == 10 and v.codec == "hevc"
    f16 = read_clip(src, bit_depth=16).frames
    f8 = read_clip(src).frames
    assert f16.dtype == np.uint16 and f8.dtype == np.uint8
    assert np.abs(f16 / 257.0 - f8).max() <= 1.5


@pytest.mark.parametrize("codec,suffix,bit_depth", [("hevc", ".mp4", 8), ("hevc", ".mkv", 10), ("prores", ".mov", 10)])
def test_other_codecs(tmp_path, clip, codec, suffix, bit_depth):
    a, b = roundtrip(clip, tmp_path / f"out{suffix}", codec=codec, bit_depth=bit_depth, crf=4)
    assert b.video.codec == {"hevc": "hevc", "prores": "prores"}[codec]
    assert b.video.frames == a.video.frames and b.video.fps == a.video.fps
    if bit_depth == 10:
        assert b.video.bit_depth == 10
    back = read_clip(tmp_path / f"out{suffix}").frames
    assert np.abs(back.astype(int) - read_clip(clip).frames.astype(int)).mean() < 2.0


def test_audio_is_copied_and_timing_kept(tmp_path, clip_audio):
    a, b = roundtrip(clip_audio, tmp_path / "out.mp4")
    assert b.audio is not None and b.audio.codec == "aac" and b.audio.channels == 2
    assert b.video.frames == a.video.frames and b.video.fps == a.video.fps
    assert abs(b.video.duration - a.video.duration) <= 1 / float(a.video.fps)
    assert abs((b.audio.duration or 0) - (a.audio.duration or 0)) < 0.05


@pytest.mark.parametrize("fmt,bit_depth", [("png", 8), ("png", 16), ("exr", 16)])
def test_image_sequences(tmp_path, clip, fmt, bit_depth):
    out = tmp_path / "seq" / f"frame_%04d.{fmt}"
    roundtrip(clip, out, bit_depth=bit_depth)
    files = sorted((tmp_path / "seq").iterdir())
    assert [f.name for f in files] == [f"frame_{i:04d}.{fmt}" for i in range(12)]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".reworld-")]
    from reworld.io.stills import read_image

    img = read_image(files[0], bit_depth=8)
    ref = read_clip(clip).frames[0]
    assert np.abs(img.astype(int) - ref.astype(int)).max() <= 1


def test_writer_is_atomic_on_error(tmp_path, clip):
    out = tmp_path / "out.mp4"
    out.write_bytes(b"previous good file")
    with pytest.raises(RuntimeError):
        with ClipWriter(out, fps=10) as w:
            w.write(pattern_frames(3))
            raise RuntimeError("boom")
    assert out.read_bytes() == b"previous good file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "out.mp4"]


def test_writer_refuses_input_as_output(clip):
    before = clip.read_bytes()
    with pytest.raises(InvalidInput) as e:
        ClipWriter(clip, fps=10, inputs=(clip,))
    assert e.value.arg == "output" and str(clip) in str(e.value)
    assert clip.read_bytes() == before


def test_writer_refuses_unwritable_folder(tmp_path):
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("x")
    with pytest.raises(InvalidInput, match="not a folder"):
        ClipWriter(not_a_folder / "out.mp4", fps=10)
    with pytest.raises(InvalidInput, match="not writable"):
        ClipWriter("/proc/reworld-out.mp4", fps=10)  # not writable even for root
    locked = tmp_path / "locked"
    locked.mkdir()
    os.chmod(locked, 0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user that ignores permissions")
        with pytest.raises(InvalidInput, match="not writable"):
            ClipWriter(locked / "out.mp4", fps=10)
    finally:
        os.chmod(locked, 0o700)


@pytest.mark.parametrize("kwargs,arg", [({"codec": "vp9"}, "codec"), ({"codec": "prores"}, "codec"),
                                        ({"crf": 70}, "crf"), ({"bit_depth": 10}, "bit_depth"),
                                        ({"preset": "warp"}, "preset"), ({"fps": 0}, "fps")])
def test_writer_rejects_bad_options(tmp_path, kwargs, arg):
    kw = {"fps": 10, **kwargs}
    with pytest.raises(InvalidInput) as e:
        ClipWriter(tmp_path / "o.mp4", **kw)
    assert e.value.arg == arg


def test_bad_files_are_named(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a video\n" * 10)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    for path, match in [(text, "not a readable video"), (empty, "empty"), (tmp_path / "nope.mp4", "does not exist")]:
        with pytest.raises(InvalidInput, match=match) as e:
            probe(path, arg="INPUT")
        assert e.value.arg == "INPUT" and e.value.value == str(path)


def test_truncated_and_audio_only(tmp_path, clip, clip_audio):
    data = clip.read_bytes()
    trunc = tmp_path / "trunc.mp4"
    trunc.write_bytes(data[: len(data) // 2])
    with pytest.raises(ClipOpenError):
        probe(trunc)
    import av

    audio_only = tmp_path / "tone.m4a"
    with av.open(str(clip_audio)) as src, av.open(str(audio_only), "w") as dst:
        s = dst.add_stream_from_template(src.streams.audio[0])
        for p in src.demux(src.streams.audio[0]):
            if p.dts is None:
                continue
            p.stream = s
            dst.mux(p)
    with pytest.raises(ClipOpenError, match="no video stream"):
        probe(audio_only)


def test_size_limit(clip, monkeypatch):
    with pytest.raises(ClipOpenError, match="over the limit of 32 px"):
        probe(clip, max_side=32)
    monkeypatch.setenv("REWORLD_MAX_SIDE", "40")
    with pytest.raises(ClipOpenError, match="40 px"):
        ClipReader(clip)


@pytest.mark.media
def test_real_clips_decode_fully():
    for name in ["talking_face_webcam_160x120.avi", "cyclist_fullbody_static_400x300.avi"]:
        path = media(f"clips/{name}")
        v = probe(path).video
        with ClipReader(path) as r:
            n = sum(len(c) for c in r)
        assert n == v.frames


@pytest.mark.media
@pytest.mark.slow
@pytest.mark.parametrize("name", ["talking_face_webcam_160x120.avi", "animated_bunny_sky_1280x720.mp4",
                                  "cyclist_fullbody_static_400x300.avi", "dog_handheld_phone_1280x720.mp4",
                                  "handheld_tree_sky_320x240.mp4"])
def test_real_clip_roundtrip_keeps_count_fps_duration_audio(tmp_path, name):
    src = media(f"clips/{name}")
    a, b = roundtrip(src, tmp_path / "out.mp4", preset="ultrafast")
    assert b.video.frames == a.video.frames
    assert abs(float(b.video.fps) - float(a.video.fps)) < 0.01
    assert abs(b.video.duration - a.video.duration) <= 1.0 / float(a.video.fps)
    assert b.video.rotation == a.video.rotation
    assert (b.audio is None) == (a.audio is None)
    if a.audio is not None:
        assert b.audio.channels == a.audio.channels
        assert abs((b.audio.duration or 0) - (a.audio.duration or a.video.duration)) < 0.15


def test_read_audio_returns_the_tone(clip_audio):
    from reworld.io.audio import read_audio

    samples, rate, start = read_audio(clip_audio, sample_rate=16000, mono=True)
    assert samples.shape[0] == 1 and rate == 16000 and start == pytest.approx(0.0, abs=0.05)
    assert abs(samples.shape[1] / rate - probe(clip_audio).audio.duration) < 0.05
    spectrum = np.abs(np.fft.rfft(samples[0]))
    peak_hz = np.argmax(spectrum) * rate / samples.shape[1]
    assert abs(peak_hz - 440) < 5  # the fixture's 440 Hz tone


def test_read_audio_without_audio_is_named(clip):
    from reworld.io.audio import read_audio

    with pytest.raises(ClipOpenError, match="no audio stream"):
        read_audio(clip)
