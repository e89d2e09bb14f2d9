"""The CLI end to end: probe against ffprobe, grade, render, spec, cache, Ctrl-C, demo."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import MEDIA, make_clip, media
from reworld.cli.main import app

runner = CliRunner()
CLIPS = sorted((MEDIA / "clips").glob("*")) if (MEDIA / "clips").is_dir() else []


def invoke(*args) -> dict | str:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.stdout + (result.stderr or "")
    return json.loads(result.stdout) if "--json" in args else result.stdout


def ffprobe(path: Path) -> dict:
    if shutil.which("ffprobe") is None:
        pytest.skip("ffprobe is not installed (make test installs it: scripts/system-deps.sh)")
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-count_packets", "-show_streams", "-show_format", "-of", "json", str(path)],
        capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@pytest.mark.media
@pytest.mark.parametrize("path", CLIPS, ids=[p.name for p in CLIPS])
def test_probe_facts_match_ffprobe(path):
    ref = ffprobe(path)
    rep = invoke("probe", path, "--json", "--no-advice")["facts"]
    v = rep["video"]
    fv = next(s for s in ref["streams"] if s["codec_type"] == "video")
    assert v["codec"] == fv["codec_name"]
    assert (v["coded_width"], v["coded_height"]) == (fv["width"], fv["height"])
    assert v["pix_fmt"] == fv["pix_fmt"]
    assert v["frames"] == int(fv["nb_read_packets"])
    assert Fraction(v["fps"]) == Fraction(fv["avg_frame_rate"]) or abs(
        float(Fraction(v["fps"])) - float(Fraction(fv["avg_frame_rate"]))) < 0.01
    if "duration" in fv:
        assert abs(v["duration"] - float(fv["duration"])) <= 1.0 / float(Fraction(fv["avg_frame_rate"]))
    rot = next((sd.get("rotation", 0) for sd in fv.get("side_data_list", []) if "rotation" in sd), 0)
    assert v["rotation"] == int(rot) % 360
    assert rep["container"] == ref["format"]["format_name"]
    assert rep["size_bytes"] == int(ref["format"]["size"])
    fa = [s for s in ref["streams"] if s["codec_type"] == "audio"]
    assert (rep["audio"] is None) == (not fa)
    if fa:
        assert rep["audio"]["codec"] == fa[0]["codec_name"]
        assert rep["audio"]["sample_rate"] == int(fa[0]["sample_rate"])
        assert rep["audio"]["channels"] == fa[0]["channels"]
    for ours, theirs in (("primaries", "color_primaries"), ("transfer", "color_transfer"),
                         ("matrix", "color_space"), ("range", "color_range")):
        if theirs in fv and fv[theirs] != "unknown":
            assert v["color"][ours] == fv[theirs]


def test_probe_rotated_and_vfr_match_ffprobe(tmp_path):
    rot = make_clip(tmp_path / "rot.mp4", rotation=90)
    v = invoke("probe", rot, "--json", "--no-advice")["facts"]["video"]
    fv = ffprobe(rot)["streams"][0]
    rot_ff = next(sd["rotation"] for sd in fv["side_data_list"] if "rotation" in sd)
    assert v["rotation"] == int(rot_ff) % 360 == 90 and (v["width"], v["height"]) == (48, 64)
    vfr = make_clip(tmp_path / "vfr.mkv", n=6, pts=[0, 100, 150, 400, 450, 700],
                    time_base=Fraction(1, 1000), container="matroska")
    v = invoke("probe", vfr, "--json", "--no-advice")["facts"]["video"]
    assert v["is_vfr"] and v["frames"] == int(ffprobe(vfr)["streams"][0]["nb_read_packets"]) == 6


@pytest.mark.media
def test_probe_advice_on_real_clips():
    low = invoke("probe", media("clips/talking_face_webcam_160x120.avi"), "--json")
    assert "low_resolution" in [a["code"] for a in low["quality"]["advice"]]
    shaky = invoke("probe", media("clips/dog_handheld_phone_1280x720.mp4"), "--json")
    assert "camera_shake" in [a["code"] for a in shaky["quality"]["advice"]]
    for name in ("pedestrians_static_campus_768x576.mp4", "city_night_camera_pan_720x404.mp4"):
        steady = invoke("probe", media(f"clips/{name}"), "--json")
        assert "camera_shake" not in [a["code"] for a in steady["quality"]["advice"]], name
    for item in low["quality"]["advice"]:
        assert item["message"] and item["value"] is not None and item["threshold"] is not None


def test_probe_text_and_cache(tmp_path, clip):
    out = invoke("probe", clip)
    assert "64x48" in out and "frame rate  10 fps, constant" in out and "advice" in out
    entries = invoke("cache", "ls", "--json")["entries"]
    assert len(entries) == 1 and entries[0]["analyzer"] == "probe_quality"
    before = invoke("cache", "ls", "--json")["entries"][0]
    invoke("probe", clip)  # second run: a cache hit, nothing rewritten
    after = invoke("cache", "ls", "--json")["entries"]
    assert len(after) == 1 and after[0]["created"] == before["created"]
    assert invoke("cache", "clear", "--json")["removed"] == 1


def test_grade_roundtrip_keeps_timing_and_audio(tmp_path, clip_audio):
    out = tmp_path / "graded.mp4"
    r = invoke("grade", clip_audio, "-o", out, "--exposure", "0.5", "--saturation", "1.2", "--json")
    assert r["frames"] == 20 and Path(r["output"]) == out
    src = invoke("probe", clip_audio, "--json", "--no-advice")["facts"]
    dst = invoke("probe", out, "--json", "--no-advice")["facts"]
    assert dst["video"]["frames"] == src["video"]["frames"] and dst["video"]["fps"] == src["video"]["fps"]
    assert abs(dst["video"]["duration"] - src["video"]["duration"]) <= 0.1
    assert dst["audio"]["codec"] == "aac"
    from reworld.io.reader import read_clip

    a, b = read_clip(clip_audio).frames, read_clip(out).frames
    assert b.mean() > a.mean() + 10  # +0.5 stop is visibly brighter


def test_grade_export_lut_then_apply_equals_direct_grade(tmp_path, clip):
    args = ["--exposure", "0.4", "--contrast", "1.2", "--temperature", "0.3", "--curve", "master:0,0;0.5,0.55;1,1"]
    invoke("grade", clip, "-o", tmp_path / "direct.mp4", "--crf", "0", *args)
    invoke("grade", "--export-lut", tmp_path / "look.cube", *args)
    invoke("grade", clip, "-o", tmp_path / "via_lut.mp4", "--crf", "0", "--lut", tmp_path / "look.cube")
    from reworld.io.reader import read_clip

    a = read_clip(tmp_path / "direct.mp4").frames.astype(int)
    b = read_clip(tmp_path / "via_lut.mp4").frames.astype(int)
    assert np.abs(a - b).mean() < 0.5 and np.abs(a - b).max() <= 3  # after H.264 4:2:0 at CRF 0


def test_render_spec_and_schema(tmp_path, clip):
    schema = json.loads(invoke("spec", "--schema"))
    assert schema["properties"]["schema_version"]["const"] == 1
    example = json.loads(invoke("spec", "--example"))
    example.update({"input": "clip.mp4", "output": {"path": "from_spec.mp4"}})
    (tmp_path / "job.json").write_text(json.dumps(example))
    r = invoke("render", tmp_path / "job.json", "--json")
    assert r["frames"] == 12 and (tmp_path / "from_spec.mp4").exists()


def test_render_refuses_what_this_build_cannot_do(tmp_path, clip):
    (tmp_path / "job.json").write_text(json.dumps(
        {"input": "clip.mp4", "output": {"path": "o.mp4"}, "mode": "flex_2", "prompt": "a snowy street"}))
    result = runner.invoke(app, ["render", str(tmp_path / "job.json")])
    assert result.exit_code == 2 and "`mode` 'flex_2'" in " ".join(result.stderr.split())
    assert not (tmp_path / "o.mp4").exists()


@pytest.mark.slow
def test_ctrl_c_cancels_and_leaves_nothing(tmp_path):
    src = make_clip(tmp_path / "long.mp4", n=240, h=360, w=640, fps=24)
    out = tmp_path / "out" / "graded.mp4"
    out.parent.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "reworld", "grade", str(src), "-o", str(out),
                             "--exposure", "0.3", "--preset", "veryslow"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(out.parent.glob(".reworld-*.tmp")) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)  # wait until encoding has really started (its temp file exists)
    assert list(out.parent.glob(".reworld-*.tmp")), "encoding never started"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "cancelled" in err
    assert list(out.parent.iterdir()) == []  # no output, no temp file


@pytest.mark.slow
def test_make_demo_equivalent(tmp_path):
    """`reworld demo` (what `make demo` runs) writes a graded clip and a probe report."""
    out = tmp_path / "demo-out"
    result = subprocess.run([sys.executable, "-m", "reworld", "demo", "--out", str(out)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    names = {p.name for p in out.iterdir()}
    assert {"graded.mp4", "probe.json", "probe.txt", "warm_film.cube", "graded_by_lut.mp4",
            "contact_sheet.png"} <= names
    assert json.loads((out / "probe.json").read_text())["facts"]["video"]["frames"] == 100
    assert not [n for n in names if n.startswith(".reworld-")]


def test_track_cli_writes_masks_and_names_bad_clicks(tmp_path):
    src = make_clip(tmp_path / "c.mp4", n=10, h=96, w=128)
    r = invoke("track", src, "--point", "0:20,20", "-o", tmp_path / "m.mp4", "--json")
    assert r["frames"] == 10 and Path(r["masks"]).exists()
    bad = runner.invoke(app, ["track", str(src), "--point", "0:500,20", "-o", str(tmp_path / "n.mp4")])
    assert bad.exit_code == 2 and "500" in bad.stderr and not (tmp_path / "n.mp4").exists()
    bad = runner.invoke(app, ["track", str(src), "--point", "99:20,20", "-o", str(tmp_path / "n.mp4")])
    assert bad.exit_code == 2 and "`frame`" in bad.stderr


def test_looks_lists_the_library_and_reads_a_prompt(tmp_path, monkeypatch):
    monkeypatch.setenv("REWORLD_CACHE", str(tmp_path / "cache"))
    listed = invoke("looks", "--json")["looks"]
    assert len(listed) >= 40 and len({lk["name"] for lk in listed}) == len(listed)
    lighting = invoke("looks", "--category", "lighting", "--json")["looks"]
    assert lighting and all(lk["category"] == "lighting" for lk in lighting)
    text = invoke("looks", "--category", "lighting")
    assert f"{len(lighting)} looks" in text and lighting[0]["name"] in text
    r = invoke("looks", "a rainy neon-lit city at night, red jacket", "--json")["prompt"]
    assert r["matches"] and "red" in r["understood"] and "upper_clothes" in r["understood"]
    bad = runner.invoke(app, ["looks", "--category", "nope"])
    assert bad.exit_code == 2 and "category" in (bad.stdout + (bad.stderr or ""))
