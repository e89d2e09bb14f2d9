"""analysis.cache: keys, atomic writes, corruption, LRU eviction, env var, concurrency."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest

import reworld
from reworld.analysis import cache as cache_mod
from reworld.analysis.cache import AnalysisCache, CacheEntry, cache_key, default_root, file_hash, key_fields
from reworld.errors import InvalidInput

CLIP = "c" * 64


def arrays(seed: int = 0, n: int = 1000) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)  # fixed seed: reproducible payloads
    return {
        "forward": rng.random((2, 5, 7, 2), dtype=np.float32),
        "valid": rng.random(5) > 0.5,
        "ids": rng.integers(-1, 9, (3, 4), dtype=np.int32),
        "big": rng.integers(0, 255, n, dtype=np.uint8),
    }


def put(c: AnalysisCache, analyzer: str = "flow", seed: int = 0, n: int = 1000) -> str:
    fields = key_fields(CLIP, analyzer, 1, {"seed": seed})
    key = cache_key(**{k: v for k, v in fields.items() if k != "upstream"})
    c.put(key, arrays(seed, n), {**fields, "timings": {"total": 0.5}})
    return key


def files(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob("*") if p.is_file())


# -- hashing and keys ----------------------------------------------------------------------
def test_file_hash_matches_hashlib_and_is_memoised(tmp_path, monkeypatch):
    p = tmp_path / "clip.bin"
    data = os.urandom(3 * 1024 + 17)
    p.write_bytes(data)
    assert file_hash(p, chunk_size=1000) == hashlib.sha256(data).hexdigest()
    opened = []
    real_open = open
    monkeypatch.setattr("builtins.open", lambda *a, **k: opened.append(a) or real_open(*a, **k))
    file_hash(p)
    assert opened == []  # served from memory: (path, size, mtime_ns) unchanged
    p.write_bytes(data + b"x")
    os.utime(p, ns=(p.stat().st_atime_ns, p.stat().st_mtime_ns + 10**9))
    assert file_hash(p) == hashlib.sha256(data + b"x").hexdigest()


def test_file_hash_rejects_missing_file_and_bad_chunk(tmp_path):
    with pytest.raises(InvalidInput, match="`path`"):
        file_hash(tmp_path / "nope.mp4")
    with pytest.raises(InvalidInput, match="`path`"):
        file_hash(tmp_path)
    with pytest.raises(InvalidInput, match="`chunk_size`"):
        file_hash(tmp_path / "nope.mp4", chunk_size=0)


def test_cache_key_is_sha256_of_canonical_json():
    key = cache_key(CLIP, "flow", 2, {"b": 1, "a": [1, 2]}, upstream=["u2", "u1"])
    text = '{"analyzer":"flow","clip_hash":"' + CLIP + '","params":{"a":[1,2],"b":1},"upstream":["u1","u2"],"version":2}'
    assert key == hashlib.sha256(text.encode()).hexdigest()
    assert key == cache_key(CLIP, "flow", 2, {"a": [1, 2], "b": 1}, upstream=("u1", "u2"))  # order-free


@pytest.mark.parametrize(
    "change",
    [
        {"clip_hash": "d" * 64},
        {"analyzer": "depth"},
        {"version": 2},
        {"version": "1"},
        {"params": {"scale": 0.25}},
        {"params": {"scale": 0.5, "extra": None}},
        {"upstream": ["a" * 64]},
    ],
)
def test_cache_key_changes_with_every_field(change):
    base = dict(clip_hash=CLIP, analyzer="flow", version=1, params={"scale": 0.5}, upstream=[])
    changed = {**base, **change}
    k = lambda d: cache_key(d["clip_hash"], d["analyzer"], d["version"], d["params"], upstream=d["upstream"])  # noqa: E731
    assert k(base) != k(changed)


def test_cache_key_accepts_numpy_scalars_and_rejects_the_unserialisable():
    assert cache_key(CLIP, "flow", 1, {"s": np.float32(0.5)}) == cache_key(CLIP, "flow", 1, {"s": 0.5})
    with pytest.raises(InvalidInput, match="`params`"):
        cache_key(CLIP, "flow", 1, {"s": object()})
    with pytest.raises(InvalidInput, match="`params`"):
        cache_key(CLIP, "flow", 1, {"s": float("nan")})
    with pytest.raises(InvalidInput, match="`upstream`"):
        cache_key(CLIP, "flow", 1, {}, upstream="abc")


# -- round trip and layout -----------------------------------------------------------------
def test_put_get_round_trip_is_exact(tmp_path):
    c = AnalysisCache(tmp_path)
    key = put(c)
    got = c.get(key)
    want = arrays()
    assert set(got) == set(want)
    for name in want:
        assert got[name].dtype == want[name].dtype and got[name].shape == want[name].shape
        assert np.array_equal(got[name], want[name])
    assert (tmp_path / key[:2] / f"{key}.npz").is_file() and (tmp_path / key[:2] / f"{key}.json").is_file()
    meta = c.get_meta(key)
    assert meta["analyzer"] == "flow" and meta["version"] == 1 and meta["params"] == {"seed": 0}
    assert meta["clip_hash"] == CLIP and meta["reworld_version"] == reworld.__version__
    assert meta["meta"]["timings"] == {"total": 0.5} and meta["created"] > 0
    assert meta["arrays"]["forward"] == {"dtype": "float32", "shape": [2, 5, 7, 2]}
    assert key in c


def test_miss_returns_none_and_bad_key_is_rejected(tmp_path):
    c = AnalysisCache(tmp_path)
    assert c.get("0" * 64) is None and c.get_meta("0" * 64) is None
    with pytest.raises(InvalidInput, match="`key`"):
        c.get("../../etc/passwd")


def test_put_rejects_bad_arrays_and_meta(tmp_path):
    c = AnalysisCache(tmp_path)
    key = "1" * 64
    with pytest.raises(InvalidInput, match="`arrays"):
        c.put(key, {"a/b": np.zeros(2)}, {})
    with pytest.raises(InvalidInput, match="`arrays"):
        c.put(key, {"file": np.zeros(2)}, {})
    with pytest.raises(InvalidInput, match="`arrays"):
        c.put(key, {"x": np.array([object()])}, {})
    with pytest.raises(InvalidInput, match="`meta`"):
        c.put(key, {"x": np.zeros(2)}, {"when": object()})
    assert files(tmp_path) == []


def test_get_or_compute_computes_once(tmp_path):
    c = AnalysisCache(tmp_path)
    calls = []

    def compute():
        calls.append(1)
        return {"depth": np.ones((2, 3), np.float32)}, {"seconds": 1.5}

    key = cache_key(CLIP, "depth", 1, {})
    first = c.get_or_compute(key, compute, meta=key_fields(CLIP, "depth", 1, {}))
    second = c.get_or_compute(key, compute)
    assert len(calls) == 1 and np.array_equal(first["depth"], second["depth"])
    assert c.get_meta(key)["analyzer"] == "depth" and c.get_meta(key)["meta"]["seconds"] == 1.5


# -- atomic writes and corruption ----------------------------------------------------------
def test_failed_write_leaves_no_entry_and_no_temp_file(tmp_path, monkeypatch):
    c = AnalysisCache(tmp_path)

    def broken_savez(f, arrays):
        f.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(cache_mod, "_savez_streamed", broken_savez)
    key = cache_key(CLIP, "flow", 1, {})
    with pytest.raises(OSError, match="disk full"):
        c.put(key, arrays(), {})
    assert c.get(key) is None and c.entries() == []
    assert files(tmp_path) == []


def test_failed_sidecar_write_keeps_the_old_entry_readable(tmp_path, monkeypatch):
    c = AnalysisCache(tmp_path)
    key = put(c)
    real_replace = os.replace

    def replace(src, dst):
        if str(dst).endswith(".json"):
            raise OSError("interrupted")
        return real_replace(src, dst)

    monkeypatch.setattr(cache_mod.os, "replace", replace)
    with pytest.raises(OSError):
        c.put(key, arrays(), {"analyzer": "flow"})
    monkeypatch.undo()
    assert not any(n.startswith(".tmp-") for n in files(tmp_path))
    assert np.array_equal(c.get(key)["forward"], arrays()["forward"])


@pytest.mark.parametrize("damage", ["truncate", "garbage", "flip"])
def test_corrupt_npz_is_a_miss_and_is_removed(tmp_path, damage):
    c = AnalysisCache(tmp_path)
    key = put(c)
    npz = tmp_path / key[:2] / f"{key}.npz"
    raw = npz.read_bytes()
    if damage == "truncate":
        npz.write_bytes(raw[: len(raw) // 2])
    elif damage == "garbage":
        npz.write_bytes(b"not a zip at all")
    else:  # one flipped byte inside the array data: the zip CRC catches it
        i = raw.index(b"\x93NUMPY") + 200
        npz.write_bytes(raw[:i] + bytes([raw[i] ^ 0xFF]) + raw[i + 1:])
    assert c.get(key) is None
    assert files(tmp_path) == [] and c.entries() == []


def test_corrupt_sidecar_is_a_miss(tmp_path):
    c = AnalysisCache(tmp_path)
    key = put(c)
    (tmp_path / key[:2] / f"{key}.json").write_text("{trunc")
    assert c.get(key) is None and c.get_meta(key) is None and c.entries() == []


def test_two_threads_writing_the_same_key_do_not_corrupt(tmp_path):
    c = AnalysisCache(tmp_path)
    key = cache_key(CLIP, "flow", 1, {})
    payload = arrays(n=200_000)
    errors = []
    barrier = threading.Barrier(2)

    def writer():
        try:
            barrier.wait()
            for _ in range(5):
                c.put(key, payload, {"analyzer": "flow"})
                got = c.get(key)
                assert got is not None and np.array_equal(got["big"], payload["big"])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert np.array_equal(c.get(key)["big"], payload["big"])
    assert not any(n.startswith(".tmp-") for n in files(tmp_path))
    assert len(c.entries()) == 1


# -- listing, clearing, eviction -----------------------------------------------------------
def test_entries_and_clear_by_analyzer(tmp_path):
    c = AnalysisCache(tmp_path)
    k1, k2, k3 = put(c, "flow", 1), put(c, "flow", 2), put(c, "depth", 3)
    es = c.entries()
    assert {e.key for e in es} == {k1, k2, k3} and all(isinstance(e, CacheEntry) for e in es)
    e3 = next(e for e in es if e.key == k3)
    assert (e3.analyzer, e3.version, e3.clip_hash) == ("depth", 1, CLIP)
    assert e3.size_bytes == sum(p.stat().st_size for p in (tmp_path / k3[:2]).glob(f"{k3}.*"))
    assert c.total_bytes() == sum(e.size_bytes for e in es)
    n, freed = c.clear(analyzer="flow")
    assert n == 2 and freed == sum(e.size_bytes for e in es if e.analyzer == "flow")
    assert [e.key for e in c.entries()] == [k3]
    (tmp_path / "ab").mkdir(exist_ok=True)
    (tmp_path / "ab" / ".tmp-leftover.npz").write_bytes(b"x")
    assert c.clear()[0] == 1 and files(tmp_path) == []


def test_lru_eviction_order(tmp_path):
    c = AnalysisCache(tmp_path)
    keys = [put(c, "flow", i) for i in range(4)]
    base = 1_700_000_000 * 10**9
    for i, k in enumerate(keys):  # explicit, well-separated access times: 0 oldest
        npz = tmp_path / k[:2] / f"{k}.npz"
        os.utime(npz, ns=(base + i * 10**9, npz.stat().st_mtime_ns))
    c.get(keys[0])  # now the most recently used
    assert [e.key for e in c.entries()] == [keys[1], keys[2], keys[3], keys[0]]
    size = c.entries()[0].size_bytes
    n, _ = c.evict(2 * size + size // 2)
    assert n == 2
    assert {e.key for e in c.entries()} == {keys[3], keys[0]}


def test_max_bytes_evicts_after_put_but_keeps_the_new_entry(tmp_path):
    probe = AnalysisCache(tmp_path / "probe")
    put(probe)
    size = probe.entries()[0].size_bytes
    c = AnalysisCache(tmp_path / "c", max_bytes=2 * size + 100)
    keys = [put(c, "flow", i) for i in range(4)]
    assert c.total_bytes() <= 2 * size + 100
    assert keys[-1] in {e.key for e in c.entries()}
    tiny = AnalysisCache(tmp_path / "t", max_bytes=1)
    k = put(tiny)
    assert [e.key for e in tiny.entries()] == [k]  # alone over budget, but just written


def test_bad_max_bytes():
    with pytest.raises(InvalidInput, match="`max_bytes`"):
        AnalysisCache("x", max_bytes=-1)
    with pytest.raises(InvalidInput, match="`max_bytes`"):
        AnalysisCache("x").evict(-5)


# -- root ----------------------------------------------------------------------------------
def test_reworld_cache_env_var_is_the_default_root(tmp_path, monkeypatch):
    monkeypatch.setenv("REWORLD_CACHE", str(tmp_path / "envroot"))
    c = AnalysisCache()
    assert c.root == tmp_path / "envroot" == default_root()
    key = put(c)
    assert (tmp_path / "envroot" / key[:2] / f"{key}.json").is_file()
    json.loads((tmp_path / "envroot" / key[:2] / f"{key}.json").read_text())


def test_default_root_without_env_var(tmp_path, monkeypatch):
    monkeypatch.delenv("REWORLD_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_root() == tmp_path / "xdg" / "reworld" / "analysis"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_root() == tmp_path / "home" / ".cache" / "reworld" / "analysis"


def test_arrays_that_do_not_match_the_sidecar_are_a_miss(tmp_path):
    c = AnalysisCache(tmp_path)
    key = put(c)
    side = tmp_path / key[:2] / f"{key}.json"
    meta = json.loads(side.read_text())
    meta["arrays"]["forward"]["dtype"] = "float64"
    side.write_text(json.dumps(meta))
    assert c.get(key) is None and c.entries() == []


def test_get_mmap_returns_the_same_arrays_without_loading(tmp_path):
    from reworld.analysis.cache import AnalysisCache

    cache = AnalysisCache(tmp_path / "c")
    rng = np.random.default_rng(7)  # fixed seed
    arrays = {"flow": rng.standard_normal((5, 6, 7, 2)).astype(np.float16), "ids": np.arange(5, dtype=np.int64),
              "fortran": np.asfortranarray(rng.standard_normal((3, 4)))}
    cache.put("ab" * 32, arrays, {"analyzer": "t", "version": 1})
    got = cache.get("ab" * 32, mmap=True)
    assert all(isinstance(v, np.memmap) for v in got.values())
    for name, value in arrays.items():
        np.testing.assert_array_equal(got[name], value)
        assert got[name].dtype == value.dtype
