"""Every bad input of the spine issue: exit code 2, the message names the argument and the
value, nothing is written, and the input is left byte-for-byte intact."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import av
import numpy as np
import pytest
from typer.testing import CliRunner

from reworld.cli.main import app

runner = CliRunner()


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): sha(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def run_bad(args: list[str], folder: Path, *needles: str) -> str:
    """Run the CLI, expect exit 2, the needles in the message, and no change in ``folder``."""
    before = snapshot(folder)
    result = runner.invoke(app, [str(a) for a in args])
    text = result.stdout + (result.stderr or "")
    assert result.exit_code == 2, f"exit {result.exit_code}: {text}"
    flat = " ".join(text.split())
    for needle in needles:
        assert needle in flat, f"{needle!r} not in: {flat}"
    assert snapshot(folder) == before, "files changed or were written"
    return flat


@pytest.fixture
def work(tmp_path, clip) -> Path:
    return tmp_path


def spec_file(folder: Path, spec: dict, name: str = "job.json") -> Path:
    p = folder / name
    p.write_text(json.dumps(spec))
    return p


def test_not_a_video(work):
    text = work / "notes.txt"
    text.write_text("hello\n" * 50)
    run_bad(["probe", text], work, "`INPUT`", "notes.txt", "not a readable video")
    run_bad(["grade", text, "-o", work / "o.mp4", "--exposure", "1"], work, "`input`", "notes.txt")


def test_zero_byte_file(work):
    empty = work / "empty.mp4"
    empty.write_bytes(b"")
    run_bad(["probe", empty], work, "`INPUT`", "empty.mp4", "0-byte")


def test_truncated_mp4(work, clip):
    trunc = work / "trunc.mp4"
    trunc.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    run_bad(["probe", trunc], work, "`INPUT`", "trunc.mp4")
    run_bad(["grade", trunc, "-o", work / "o.mp4"], work, "trunc.mp4")


def test_zero_decodable_frames(work, clip):
    path = work / "garbage.mkv"
    with av.open(str(clip)) as src, av.open(str(path), "w") as out:  # valid container, packets of zeros
        s = out.add_stream_from_template(src.streams.video[0])
        for p in src.demux(src.streams.video[0]):
            if p.dts is None:
                continue
            q = av.Packet(bytes(p.size))
            q.pts, q.dts, q.time_base, q.stream = p.pts, p.dts, p.time_base, s
            out.mux(q)
    run_bad(["probe", path], work, "`INPUT`", "garbage.mkv", "zero decodable")
    run_bad(["grade", path, "-o", work / "o.mp4"], work, "`input`", "garbage.mkv", "zero decodable")


def test_resolution_over_limit(work):
    wide = work / "wide.mkv"
    with av.open(str(wide), "w") as out:  # 8200 px wide: over the default 8192 limit
        s = out.add_stream("ffv1", rate=10)
        s.width, s.height, s.pix_fmt = 8200, 8, "yuv420p"
        for _ in range(2):
            for p in s.encode(av.VideoFrame.from_ndarray(np.zeros((8, 8200, 3), np.uint8), format="rgb24").reformat(format="yuv420p")):
                out.mux(p)
        for p in s.encode(None):
            out.mux(p)
    run_bad(["probe", wide], work, "`INPUT`", "wide.mkv", "8200x8", "limit of 8192")
    run_bad(["probe", work / "clip.mp4", "--max-side", "32"], work, "limit of 32")


def test_audio_only_file(work, clip_audio):
    tone = work / "tone.m4a"
    with av.open(str(clip_audio)) as src, av.open(str(tone), "w") as dst:
        s = dst.add_stream_from_template(src.streams.audio[0])
        for p in src.demux(src.streams.audio[0]):
            if p.dts is not None:
                p.stream = s
                dst.mux(p)
    run_bad(["probe", tone], work, "`INPUT`", "tone.m4a", "no video stream", "audio only")


def test_output_equal_to_input(work, clip):
    run_bad(["grade", clip, "-o", clip, "--exposure", "1"], work, "`output", "clip.mp4", "is the input")
    spec = spec_file(work, {"input": "clip.mp4", "output": {"path": "clip.mp4"}})
    run_bad(["render", spec], work, "`output.path`", "clip.mp4")


def test_output_folder_not_writable(work, clip):
    run_bad(["grade", clip, "-o", "/proc/reworld-test/out.mp4", "--exposure", "1"], work,
            "`output.path`", "/proc/reworld-test/out.mp4", "not writable")


@pytest.mark.parametrize("changes,needles", [
    ({"mode": "remix"}, ["`mode`", "'remix'", "adhere"]),
    ({"mode": "flex", "intensity": 7}, ["`intensity`", "7"]),
    ({"seed": -1}, ["`seed`", "-1"]),
    ({"reference_image": "missing.png"}, ["`reference_image`", "missing.png", "does not exist"]),
    ({"colour_grade": {}}, ["`colour_grade`", "not a known field"]),
    ({"grade": {"exposur": 1}}, ["`grade.exposur`"]),
])
def test_bad_specs(work, changes, needles):
    spec = spec_file(work, {"input": "clip.mp4", "output": {"path": "out.mp4"}, **changes})
    run_bad(["render", spec], work, *needles)


def test_unknown_mode_and_intensity_as_luma_string(work):
    spec = spec_file(work, {"input": "clip.mp4", "output": {"path": "out.mp4"}, "mode": "adhere_7"})
    run_bad(["render", spec], work, "`mode`", "adhere_7")


def test_cube_with_wrong_entry_count(work, clip):
    cube = work / "bad.cube"
    lines = ["LUT_3D_SIZE 2"] + ["0 0 0"] * 7  # 2^3 = 8 entries expected
    cube.write_text("\n".join(lines) + "\n")
    run_bad(["grade", clip, "-o", work / "o.mp4", "--lut", cube], work, "`lut`", "8", "7")
    spec = spec_file(work, {"input": "clip.mp4", "output": {"path": "out.mp4"}, "grade": {"lut": "bad.cube"}})
    run_bad(["render", spec], work, "`lut`", "bad.cube")


def test_bad_json_and_missing_spec(work):
    bad = work / "broken.json"
    bad.write_text("{not json")
    run_bad(["render", bad], work, "broken.json")
    run_bad(["render", work / "nope.json"], work, "nope.json")


def test_bad_grade_flag_values(work, clip):
    run_bad(["grade", clip, "-o", work / "o.mp4", "--exposure", "12"], work, "`exposure`", "12")
    run_bad(["grade", clip, "-o", work / "o.mp4", "--lift", "1,2"], work, "`--lift`", "1,2")
    run_bad(["grade", clip, "-o", work / "o.mp4", "--match", work / "nope.png"], work, "nope.png")
    run_bad(["grade", clip, "-o", work / "o.xyz"], work, "o.xyz")
