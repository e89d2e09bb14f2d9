"""Content-addressed cache of analysis results (see docs/cache.md).

An analysis result is a dict of named numpy arrays plus a JSON-able ``meta`` dict. It is
stored under a key that hashes everything that determines it, so a changed clip, analyzer
version, parameter or upstream result is a different key and stale data is never read::

    key = sha256(canonical_json({clip_hash, analyzer, version, params, upstream}))
    <root>/<key[:2]>/<key>.npz     the arrays (np.savez, no pickles)
    <root>/<key[:2]>/<key>.json    sidecar: meta, created, reworld version, analyzer, ...

``root`` is ``$REWORLD_CACHE`` when set, else ``$XDG_CACHE_HOME/reworld/analysis``, else
``~/.cache/reworld/analysis``. Files are written to a temporary name in the same folder and
moved into place with :func:`os.replace`, the sidecar last, so a reader sees either the
whole entry or none (the sidecar is the commit mark); a damaged ``.npz`` reads as a miss
and is removed. Reading an entry stamps its access time, and :meth:`AnalysisCache.evict`
drops least-recently-used entries until the cache fits a byte budget.

Example:
    >>> import tempfile
    >>> cache = AnalysisCache(tempfile.mkdtemp())
    >>> key = cache_key("ab" * 32, "flow", 1, {"scale": 0.5})
    >>> cache.put(key, {"forward": np.zeros((2, 4, 4, 2), np.float32)}, {"analyzer": "flow"}).analyzer
    'flow'
    >>> cache.get(key)["forward"].shape
    (2, 4, 4, 2)
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import threading
import time
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from reworld import __version__ as _REWORLD_VERSION
from reworld.errors import InvalidInput

__all__ = [
    "AnalysisCache",
    "CacheEntry",
    "cache_key",
    "default_root",
    "file_hash",
    "key_fields",
]

_KEY_RE = re.compile(r"^[0-9a-f]{64}$")
_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_RESERVED_NAMES = frozenset({"file", "allow_pickle"})  # np.savez's own keyword names
_TMP_PREFIX = ".tmp-"

# (real path, device, inode, size, mtime_ns) -> sha256 hex; bounded, shared by threads.
_HASH_MEMO: OrderedDict[tuple[Any, ...], str] = OrderedDict()
_HASH_MEMO_MAX = 4096
_HASH_LOCK = threading.Lock()


def file_hash(path: str | os.PathLike[str], *, chunk_size: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes, read in chunks (hex, 64 characters).

    The result is remembered in memory under (path, size, mtime_ns, inode), so asking
    again for an unchanged file costs one ``stat``; a file rewritten in place gets a new
    mtime and is hashed again.

    Args:
        path: the file.
        chunk_size: bytes read at a time (> 0).

    Returns:
        The lowercase hex digest.

    Raises:
        InvalidInput: ``path`` is not a readable regular file, or ``chunk_size`` <= 0.

    Example:
        >>> import tempfile
        >>> p = Path(tempfile.mkdtemp()) / "x.bin"; _ = p.write_bytes(b"abc")
        >>> file_hash(p)[:16]
        'ba7816bf8f01cfea'
    """
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size <= 0:
        raise InvalidInput("chunk_size", chunk_size, "must be a positive integer")
    try:
        real = os.path.realpath(os.fspath(path))
        st = os.stat(real)
    except (OSError, TypeError, ValueError) as exc:
        raise InvalidInput("path", str(path), f"is not a readable file ({exc.__class__.__name__})") from None
    if not os.path.isfile(real):
        raise InvalidInput("path", str(path), "is not a regular file")
    memo_key = (real, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    with _HASH_LOCK:
        hit = _HASH_MEMO.get(memo_key)
        if hit is not None:
            _HASH_MEMO.move_to_end(memo_key)
            return hit
    h = hashlib.sha256()
    try:
        with open(real, "rb") as f:
            while block := f.read(chunk_size):
                h.update(block)
    except OSError as exc:
        raise InvalidInput("path", str(path), f"could not be read ({exc})") from None
    digest = h.hexdigest()
    with _HASH_LOCK:
        _HASH_MEMO[memo_key] = digest
        while len(_HASH_MEMO) > _HASH_MEMO_MAX:
            _HASH_MEMO.popitem(last=False)
    return digest


#: rows of a memory-mapped array are copied into the archive this many bytes at a time, with the
#: pages handed back in between (a long clip's flow would otherwise become resident all at once)
_WRITE_BLOCK = 32 << 20


def _savez_streamed(f, arrays: Mapping[str, np.ndarray]) -> None:
    """``np.savez`` (uncompressed, the same ``.npz`` layout) written in blocks of rows: memory
    maps are read a block at a time and their pages released, so writing a track does not make
    it resident."""
    from reworld.analysis.base import release_pages

    fmt = np.lib.format
    with zipfile.ZipFile(f, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, arr in arrays.items():
            arr = np.asanyarray(arr)
            if not arr.flags.c_contiguous:
                arr = np.ascontiguousarray(arr)
            with zf.open(name + ".npy", "w", force_zip64=True) as out:
                fmt.write_array_header_1_0(out, fmt.header_data_from_array_1_0(arr))
                if arr.ndim == 0 or arr.size == 0:
                    out.write(arr.tobytes())
                    continue
                step = max(1, _WRITE_BLOCK // max(1, arr[0].nbytes))
                for i in range(0, len(arr), step):
                    out.write(arr[i:i + step].tobytes())
                    release_pages(arr)


def _memmap_npz(path: Path) -> dict[str, np.ndarray]:
    """Memory-map every member of an uncompressed ``.npz`` (as ``np.savez`` writes it)."""
    out: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(path) as zf, open(path, "rb") as raw:
        for info in zf.infolist():
            if info.compress_type != zipfile.ZIP_STORED or not info.filename.endswith(".npy"):
                raise ValueError(f"{info.filename} is compressed; cannot memory-map")
            raw.seek(info.header_offset)
            local = raw.read(30)  # local file header: name and extra lengths at bytes 26..29
            if local[:4] != b"PK\x03\x04":
                raise ValueError("bad local header")
            start = info.header_offset + 30 + int.from_bytes(local[26:28], "little") + int.from_bytes(local[28:30], "little")
            raw.seek(start)
            version = np.lib.format.read_magic(raw)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read_header(raw)
            out[info.filename[:-4]] = np.memmap(path, dtype=dtype, mode="r", offset=raw.tell(), shape=shape,
                                                order="F" if fortran else "C")
    return out


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Fraction):
        return f"{obj.numerator}/{obj.denominator}"
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON-serialisable")


def _canonical_json(obj: Any, arg: str) -> str:
    try:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                          allow_nan=False, default=_json_default)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(arg, obj, f"must be JSON-serialisable ({exc})") from None


def _matches(expected: Any, arrays: Mapping[str, np.ndarray]) -> bool:
    """True when the sidecar's ``arrays`` listing (name -> dtype, shape) fits what was loaded."""
    if expected is None:
        return True  # written without a listing: nothing to compare
    if not isinstance(expected, dict) or set(expected) != set(arrays):
        return False
    for name, arr in arrays.items():
        spec = expected[name]
        if not isinstance(spec, dict) or spec.get("dtype") != str(arr.dtype) or spec.get("shape") != list(arr.shape):
            return False
    return True


def key_fields(
    clip_hash: str, analyzer: str, version: int | str, params: Mapping[str, Any],
    *, upstream: Iterable[str] = (),
) -> dict[str, Any]:
    """The dict that :func:`cache_key` hashes (pass it in ``meta`` so the sidecar records it).

    ``upstream`` keys are sorted: the set of inputs matters, not their order.
    """
    if not isinstance(clip_hash, str) or not clip_hash:
        raise InvalidInput("clip_hash", clip_hash, "must be a non-empty string")
    if not isinstance(analyzer, str) or not analyzer:
        raise InvalidInput("analyzer", analyzer, "must be a non-empty string")
    if isinstance(version, bool) or not isinstance(version, (int, str)):
        raise InvalidInput("version", version, "must be an int or a string")
    if not isinstance(params, Mapping):
        raise InvalidInput("params", params, "must be a dict")
    if isinstance(upstream, str):
        raise InvalidInput("upstream", upstream, "must be a list of keys, not one string")
    ups = sorted(str(u) for u in upstream)
    return {"clip_hash": clip_hash, "analyzer": analyzer, "version": version,
            "params": dict(params), "upstream": ups}


def cache_key(
    clip_hash: str, analyzer: str, version: int | str, params: Mapping[str, Any],
    *, upstream: Iterable[str] = (),
) -> str:
    """Key of one analysis result: sha256 of canonical JSON of everything that determines it.

    Canonical JSON: keys sorted, no whitespace, ASCII, NaN rejected; numpy scalars and
    arrays become numbers and lists, ``Fraction`` ``"num/den"``, paths strings. Note that
    ``1`` and ``1.0`` are different JSON and so different keys: normalise params first.

    Args:
        clip_hash: hash of the source (``file_hash`` plus decode parameters, per the caller).
        analyzer: analyzer name (``"flow"``).
        version: analyzer version; bump it whenever its output changes.
        params: the parameters that change the output.
        upstream: keys of the results this one was computed from (order ignored), so a
            new flow result invalidates tracking built on it.

    Returns:
        64 lowercase hex characters.

    Example:
        >>> a = cache_key("c0ffee", "flow", 1, {"scale": 0.5})
        >>> a == cache_key("c0ffee", "flow", 1, {"scale": 0.5}), a == cache_key("c0ffee", "flow", 2, {"scale": 0.5})
        (True, False)
    """
    fields = key_fields(clip_hash, analyzer, version, params, upstream=upstream)
    return hashlib.sha256(_canonical_json(fields, "params").encode("ascii")).hexdigest()


def default_root() -> Path:
    """``$REWORLD_CACHE``, else ``$XDG_CACHE_HOME/reworld/analysis``, else ``~/.cache/reworld/analysis``."""
    env = os.environ.get("REWORLD_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "reworld" / "analysis"


@dataclass(frozen=True)
class CacheEntry:
    """One stored result, as :meth:`AnalysisCache.entries` lists it.

    Attributes:
        key: the 64-hex key.
        analyzer, version, clip_hash: from the sidecar (``""`` when the caller did not give them).
        size_bytes: bytes on disk (arrays + sidecar).
        created: Unix time the entry was written.
        last_used: Unix time it was last written or read.
    """

    key: str
    analyzer: str
    version: int | str
    size_bytes: int
    created: float
    last_used: float
    clip_hash: str


class AnalysisCache:
    """Store and fetch analysis arrays by content key (layout and rules: module docstring).

    Args:
        root: cache folder (created on first write); default :func:`default_root`.
        max_bytes: when given, :meth:`put` evicts least-recently-used entries afterwards
            until the cache holds at most this many bytes.

    Safe for several threads and processes writing the same or different keys: each write
    goes to its own temporary file and lands with an atomic rename, so the worst case is
    that one writer's identical result replaces another's.
    """

    def __init__(self, root: str | os.PathLike[str] | None = None, *, max_bytes: int | None = None) -> None:
        if max_bytes is not None and (isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0):
            raise InvalidInput("max_bytes", max_bytes, "must be a non-negative integer or None")
        self.root = Path(root).expanduser() if root is not None else default_root()
        self.max_bytes = max_bytes

    def __repr__(self) -> str:
        return f"AnalysisCache(root={str(self.root)!r}, max_bytes={self.max_bytes})"

    # -- paths -------------------------------------------------------------------------
    def _paths(self, key: str) -> tuple[Path, Path]:
        if not isinstance(key, str) or not _KEY_RE.match(key):
            raise InvalidInput("key", key, "must be 64 lowercase hex characters (from cache_key)")
        folder = self.root / key[:2]
        return folder / f"{key}.npz", folder / f"{key}.json"

    def __contains__(self, key: str) -> bool:
        npz, side = self._paths(key)
        return npz.is_file() and side.is_file()

    # -- read --------------------------------------------------------------------------
    def get(self, key: str, *, mmap: bool = False) -> dict[str, np.ndarray] | None:
        """The arrays stored under ``key``, or ``None`` on a miss.

        A hit stamps the entry's access time (for LRU eviction). An entry whose ``.npz``
        cannot be read whole (truncated, bad CRC, not a zip) or does not match its sidecar
        is removed and reported as a miss.

        Args:
            mmap: return read-only memory maps into the (uncompressed) ``.npz`` instead of
                loading the arrays, so a long clip's dense tracks (flow, depth) cost no RAM
                until touched. Skips the CRC check (the size and header are still checked).
        """
        npz, side = self._paths(key)
        meta = self._read_sidecar(side)
        if meta is None or not npz.is_file():
            return None
        try:
            if mmap:
                arrays = _memmap_npz(npz)
            else:
                with np.load(npz, allow_pickle=False) as data:
                    arrays = {name: data[name] for name in data.files}
        except FileNotFoundError:
            return None  # removed by another process meanwhile
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile):
            self._remove(key)
            return None
        if not _matches(meta.get("arrays"), arrays):
            self._remove(key)
            return None
        self._touch(npz)
        return arrays

    def get_meta(self, key: str) -> dict[str, Any] | None:
        """The sidecar of ``key`` (``meta``, ``created``, ``reworld_version``, ``analyzer``,
        ``version``, ``params``, ``clip_hash``, ``upstream``, ``arrays``), or ``None``."""
        npz, side = self._paths(key)
        meta = self._read_sidecar(side)
        return meta if meta is not None and npz.is_file() else None

    @staticmethod
    def _read_sidecar(side: Path) -> dict[str, Any] | None:
        try:
            with open(side, encoding="utf-8") as f:
                meta = json.load(f)
        except (OSError, ValueError):
            return None
        return meta if isinstance(meta, dict) else None

    @staticmethod
    def _touch(npz: Path) -> None:
        try:
            st = npz.stat()
            os.utime(npz, ns=(time.time_ns(), st.st_mtime_ns))
        except OSError:
            pass

    # -- write -------------------------------------------------------------------------
    def put(self, key: str, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any] | None = None) -> CacheEntry:
        """Store ``arrays`` under ``key`` (replacing any previous entry) and return its entry.

        Args:
            key: from :func:`cache_key`.
            arrays: name -> numpy array (names of letters, digits, ``_ . -``; no object dtype).
            meta: JSON-able facts to keep beside the arrays (timings, spec, ...). The
                fields ``analyzer``, ``version``, ``params``, ``clip_hash`` and ``upstream``
                are copied to the top of the sidecar, so ``meta=key_fields(...)`` (plus your
                own fields) makes the entry self-describing for :meth:`entries` and
                :meth:`clear`.

        Raises:
            InvalidInput: bad key, array names or dtypes, or meta that is not JSON-able.
        """
        npz, side = self._paths(key)
        if not isinstance(arrays, Mapping) or not arrays:
            raise InvalidInput("arrays", type(arrays).__name__, "must be a non-empty dict of name -> numpy array")
        for name, arr in arrays.items():
            if not isinstance(name, str) or not _NAME_RE.match(name) or name in _RESERVED_NAMES:
                raise InvalidInput("arrays", name, "names must be 1-128 letters, digits, '_', '.' or '-' "
                                   "(not 'file' or 'allow_pickle')")
            if not isinstance(arr, np.ndarray) or arr.dtype.hasobject:
                raise InvalidInput(f"arrays[{name!r}]", type(arr).__name__, "must be a numpy array without object dtype")
        meta = dict(meta or {})
        sidecar: dict[str, Any] = {
            "key": key,
            "analyzer": str(meta.get("analyzer", "")),
            "version": meta.get("version", ""),
            "params": meta.get("params", {}),
            "clip_hash": str(meta.get("clip_hash", "")),
            "upstream": list(meta.get("upstream", [])),
            "created": time.time(),
            "reworld_version": _REWORLD_VERSION,
            "arrays": {n: {"dtype": str(a.dtype), "shape": list(a.shape)} for n, a in arrays.items()},
            "meta": meta,
        }
        _canonical_json(sidecar, "meta")  # raises InvalidInput before anything is written
        side_text = json.dumps(sidecar, sort_keys=True, indent=1, allow_nan=False, default=_json_default)
        # arrays first, sidecar last: the sidecar's arrival is the commit.
        self._atomic_write(npz, lambda f: _savez_streamed(f, arrays), suffix=".npz")
        self._atomic_write(side, lambda f: f.write(side_text.encode("utf-8")), suffix=".json")
        entry = self._entry(key, sidecar, npz, side)
        if self.max_bytes is not None:
            self.evict(self.max_bytes, _keep=key)
        return entry

    @staticmethod
    def _atomic_write(dest: Path, write: Callable[[Any], Any], *, suffix: str) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, suffix=suffix, dir=dest.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                write(f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, dest)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def get_or_compute(
        self, key: str, compute: Callable[[], tuple[Mapping[str, np.ndarray], Mapping[str, Any]]],
        meta: Mapping[str, Any] | None = None,
    ) -> dict[str, np.ndarray]:
        """Return the cached arrays, or run ``compute() -> (arrays, meta)``, store and return them.

        ``meta`` (e.g. :func:`key_fields`) is merged under the meta that ``compute`` returns.
        """
        hit = self.get(key)
        if hit is not None:
            return hit
        arrays, extra = compute()
        self.put(key, arrays, {**dict(meta or {}), **dict(extra or {})})
        return {k: np.asarray(v) for k, v in arrays.items()}

    # -- listing and removal -----------------------------------------------------------
    def _entry(self, key: str, sidecar: Mapping[str, Any], npz: Path, side: Path) -> CacheEntry:
        try:
            st = npz.stat()
            size = st.st_size + side.stat().st_size
            last = st.st_atime_ns / 1e9
        except OSError:
            size, last = 0, 0.0
        created = float(sidecar.get("created", 0.0))
        return CacheEntry(key, str(sidecar.get("analyzer", "")), sidecar.get("version", ""), int(size),
                          created, max(last, created), str(sidecar.get("clip_hash", "")))

    def entries(self) -> list[CacheEntry]:
        """Every complete entry (both files present), least recently used first."""
        out: list[CacheEntry] = []
        if not self.root.is_dir():
            return out
        for side in self.root.glob("??/*.json"):
            key = side.stem
            if not _KEY_RE.match(key) or side.parent.name != key[:2]:
                continue
            npz = side.with_suffix(".npz")
            meta = self._read_sidecar(side)
            if meta is None or not npz.is_file():
                continue
            out.append(self._entry(key, meta, npz, side))
        out.sort(key=lambda e: (e.last_used, e.created, e.key))
        return out

    def total_bytes(self) -> int:
        """Bytes held by complete entries."""
        return sum(e.size_bytes for e in self.entries())

    def _remove(self, key: str) -> int:
        """Delete both files of ``key`` (sidecar first, so readers see a miss); return bytes freed."""
        npz, side = self._paths(key)
        freed = 0
        for p in (side, npz):
            try:
                size = p.stat().st_size
                p.unlink()
                freed += size
            except OSError:
                pass
        return freed  # the shard folder stays: a concurrent put may be writing into it

    def clear(self, *, analyzer: str | None = None) -> tuple[int, int]:
        """Remove every entry, or only those of ``analyzer``; return ``(entries, bytes)`` removed.

        Without ``analyzer`` it also removes leftovers of interrupted writes (temporary
        files, arrays without a sidecar).
        """
        n = freed = 0
        for e in self.entries():
            if analyzer is None or e.analyzer == analyzer:
                freed += self._remove(e.key)
                n += 1
        if analyzer is None and self.root.is_dir():
            for folder in self.root.glob("??"):
                if not folder.is_dir():
                    continue
                for p in folder.iterdir():
                    if p.name.startswith(_TMP_PREFIX) or (p.suffix in (".npz", ".json") and _KEY_RE.match(p.stem)):
                        try:
                            freed += p.stat().st_size
                            p.unlink()
                        except OSError:
                            pass
                try:
                    folder.rmdir()
                except OSError:
                    pass
        return n, freed

    def evict(self, max_bytes: int, *, _keep: str | None = None) -> tuple[int, int]:
        """Remove least-recently-used entries until at most ``max_bytes`` remain.

        Returns ``(entries, bytes)`` removed. When called by :meth:`put`, the entry just
        written is kept even if it alone is over the budget.
        """
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
            raise InvalidInput("max_bytes", max_bytes, "must be a non-negative integer")
        entries = self.entries()
        total = sum(e.size_bytes for e in entries)
        n = freed = 0
        for e in entries:
            if total <= max_bytes:
                break
            if e.key == _keep:
                continue
            got = self._remove(e.key)
            total -= e.size_bytes
            freed += got
            n += 1
        return n, freed
