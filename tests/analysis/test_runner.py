"""The analysis runner: dependency levels, one pass per level, caching, progress, bad input."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from conftest import make_clip
from reworld.analysis.base import REGISTRY, Analyzer, register
from reworld.analysis.cache import AnalysisCache
from reworld.analysis.runner import analysis_size, analyze, resolve_order
from reworld.analysis.tracks import Track
from reworld.errors import InvalidInput

CALLS: list[str] = []


@pytest.fixture(autouse=True)
def toy_analyzers():
    """Two toy analyzers: per-frame mean colour, and its running difference (needs the first)."""

    @register
    class MeanColour(Analyzer):
        name, version = "toy_mean", 1

        @dataclass(frozen=True)
        class Params:
            scale: float = 1.0

        def setup(self, ctx):
            self.values = []
            CALLS.append(f"setup {self.name} {ctx.size}")

        def process(self, chunk, ctx):
            self.values += list(chunk.frames.reshape(len(chunk), -1, 3).mean(1) * self.params.scale)

        def finalize(self, ctx):
            return Track(self.name, {"mean": np.asarray(self.values, np.float32)}, {"n": len(self.values)})

    @register
    class Diff(Analyzer):
        name, requires = "toy_diff", ("toy_mean",)

        def setup(self, ctx):
            CALLS.append(f"setup {self.name}")
            self.mean = ctx.tracks["toy_mean"]["mean"]

        def process(self, chunk, ctx):
            pass

        def finalize(self, ctx):
            return Track(self.name, {"diff": np.diff(self.mean, axis=0)})

    CALLS.clear()
    yield
    REGISTRY.pop("toy_mean", None)
    REGISTRY.pop("toy_diff", None)


def test_levels_and_cache(tmp_path):
    src = make_clip(tmp_path / "c.mp4", n=20, h=48, w=64)
    cache = AnalysisCache(tmp_path / "cache")
    events = []
    a = analyze(src, ["toy_diff"], cache=cache, long_side=32, chunk_size=7, progress=events.append)
    assert a.size == (24, 32) and a.scale == pytest.approx(0.5)
    assert a["toy_mean"]["mean"].shape == (20, 3) and a["toy_diff"]["diff"].shape == (19, 3)
    assert CALLS == ["setup toy_mean (24, 32)", "setup toy_diff"]
    assert events[-1].done == events[-1].total == 40  # two levels, two passes of 20 frames
    CALLS.clear()
    b = analyze(src, ["toy_diff"], cache=cache, long_side=32)
    assert CALLS == []  # both from the cache
    assert b["toy_mean"].meta["n"] == 20 and b["toy_mean"].meta["cached"]  # meta survives the cache
    np.testing.assert_array_equal(b["toy_diff"]["diff"], a["toy_diff"]["diff"])
    c = analyze(src, ["toy_diff"], cache=cache, long_side=32, params={"toy_mean": {"scale": 2.0}})
    assert CALLS == ["setup toy_mean (24, 32)", "setup toy_diff"]  # upstream params changed: both rerun
    np.testing.assert_allclose(c["toy_mean"]["mean"], 2 * a["toy_mean"]["mean"], rtol=1e-5)


def test_bad_names_and_params(tmp_path):
    src = make_clip(tmp_path / "c.mp4", n=3)
    with pytest.raises(InvalidInput, match="`only`.*groups: scene, performance, all.*'nope'"):
        analyze(src, ["nope"])
    with pytest.raises(InvalidInput, match="`only`.*names no analyzer"):
        analyze(src, " , ")
    with pytest.raises(InvalidInput, match="`toy_mean.sigma`"):
        analyze(src, ["toy_mean"], params={"toy_mean": {"sigma": 1}})
    with pytest.raises(InvalidInput, match="`long_side`"):
        analysis_size(100, 100, 4)


def test_resolve_order_detects_cycles():
    class A(Analyzer):
        name, requires = "a", ("b",)

    class B(Analyzer):
        name, requires = "b", ("a",)

    with pytest.raises(InvalidInput, match="cycle"):
        resolve_order(["a"], {"a": A, "b": B})
    assert resolve_order(["toy_diff"], REGISTRY)[:2] == [["toy_mean"], ["toy_diff"]]


def _frames_recorder(name: str, requires: tuple[str, ...], full: bool):
    """A toy analyzer that keeps every frame it sees, and whether full-resolution frames came."""

    class Recorder(Analyzer):
        full_frames = full

        def setup(self, ctx):
            self.frames, self.full_seen, self.times = [], [], []

        def process(self, chunk, ctx):
            self.frames.append(chunk.frames.copy())
            self.times.append(np.asarray(chunk.times))
            self.full_seen.append(None if chunk.full is None else chunk.full.shape)

        def finalize(self, ctx):
            return Track(self.name, {"frames": np.concatenate(self.frames), "times": np.concatenate(self.times)},
                         {"full": [list(s) if s else None for s in self.full_seen]})

    Recorder.name, Recorder.requires = name, requires
    return register(Recorder)


def test_later_passes_replay_the_first_pass_frames_exactly(tmp_path):
    path = make_clip(tmp_path / "c.mp4", n=21, h=96, w=128)
    _frames_recorder("toy_rec0", (), False)
    _frames_recorder("toy_rec1", ("toy_rec0",), False)
    _frames_recorder("toy_rec2", ("toy_rec1",), True)
    try:
        a = analyze(path, ["toy_rec2"], long_side=64, chunk_size=4, cache=AnalysisCache(tmp_path / "c"))
        first, replayed, decoded = (a[f"toy_rec{i}"] for i in range(3))
        assert first["frames"].shape == (21, 48, 64, 3)
        # the replayed pass (no full frames wanted) sees the same frames and times, bit for bit
        np.testing.assert_array_equal(replayed["frames"], first["frames"])
        np.testing.assert_array_equal(replayed["times"], first["times"])
        assert all(s is None for s in replayed.meta["full"])
        # an analyzer that wants full-resolution frames gets a fresh decode with them
        np.testing.assert_array_equal(decoded["frames"], first["frames"])
        assert all(s == [min(4, 21 - 4 * k), 96, 128, 3] for k, s in enumerate(decoded.meta["full"]))
        assert all(s is not None for s in first.meta["full"])
    finally:
        for i in range(3):
            REGISTRY.pop(f"toy_rec{i}", None)


def _rss_file_kb() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("RssFile:"))


@pytest.mark.skipif(not __import__("os").path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_release_pages_hands_memory_map_pages_back_and_keeps_the_data(tmp_path):
    from reworld.analysis.base import allocate_arrays, live_maps, release_pages

    out = allocate_arrays({"flow": ((64, 512, 512), np.float32)}, str(tmp_path))  # 64 MiB
    a = out["flow"]
    assert any(m is a for m in live_maps())
    before = _rss_file_kb()
    a[:] = np.arange(64, dtype=np.float32)[:, None, None]  # touch every page
    touched = _rss_file_kb()
    assert touched - before > 48 * 1024
    assert release_pages(live_maps()) >= 1
    assert touched - _rss_file_kb() > 48 * 1024  # the pages left the process...
    np.testing.assert_array_equal(a[:, 7, 9], np.arange(64))  # ...and the data is still there
    (path,) = tmp_path.glob("flow-64-*.npy")
    np.testing.assert_array_equal(np.load(path, mmap_mode="r")[63, 0, 0], 63)
    again = allocate_arrays({"flow": ((64, 512, 512), np.float32)}, str(tmp_path))["flow"]
    assert again.filename != a.filename  # two analyzers naming an array alike never share a file
    assert release_pages({"x": np.zeros(3), "y": a[3:5]}) == 1  # plain arrays are skipped, views count
