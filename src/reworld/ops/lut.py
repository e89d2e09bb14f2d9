"""3D colour look-up tables: apply, bake and the ``.cube`` text format (layer 1: numpy only).

Index order: ``Lut3D.table[r, g, b]`` is the output RGB for input lattice point
``domain_min + (r, g, b) / (N - 1) * (domain_max - domain_min)`` (red is the slowest axis of the
array). In ``.cube`` data lines red varies fastest, so line ``r + N*g + N*N*b`` is
``table[r, g, b]``; :func:`parse_cube` and :func:`format_cube` do that transpose.

Example:
    >>> import numpy as np
    >>> lut = identity_lut(2)
    >>> apply_lut(np.array([[0.25, 0.5, 0.75]], np.float32), lut).round(6).tolist()
    [[0.25, 0.5, 0.75]]
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from reworld.errors import InvalidInput

__all__ = ["Lut3D", "apply_lut", "identity_lut", "bake_lut", "parse_cube", "format_cube"]

MIN_SIZE, MAX_SIZE = 2, 256
# Kernels always get a multiple of _ALIGN pixels ending in >= _MARGIN padding pixels, so every
# real pixel goes through the same SIMD code paths (OpenCV finishes arrays with scalar loops that
# round differently) and a colour gives bit-identical output wherever it sits in a frame; this
# also keeps OpenCV from reading a tiny array as a Scalar.
_ALIGN, _MARGIN = 1024, 64
_CHUNK = (1 << 15) - _ALIGN  # pixels per interpolation chunk (bounds temporaries, spreads over threads)


@dataclass(frozen=True, eq=False)
class Lut3D:
    """A 3D LUT on a regular lattice.

    Args:
        table: ``(N, N, N, 3)`` output RGB indexed ``[r, g, b]``, 2 <= N <= 256; copied to a
            read-only float32 array. Values may lie outside [0, 1].
        domain_min: ``(3,)`` input value of lattice index 0 per channel (default 0).
        domain_max: ``(3,)`` input value of lattice index N-1 per channel (default 1).
        title: free text (no quotes or line breaks, it is written into ``.cube`` files).

    Raises:
        InvalidInput: (arg ``lut``) wrong shape/size, non-finite values, bad domain or title.
    """

    table: np.ndarray
    domain_min: tuple[float, float, float] = (0.0, 0.0, 0.0)
    domain_max: tuple[float, float, float] = (1.0, 1.0, 1.0)
    title: str = ""

    def __post_init__(self) -> None:
        table = np.array(self.table, dtype=np.float32, copy=True)
        n = table.shape[0] if table.ndim == 4 else -1
        if table.ndim != 4 or table.shape != (n, n, n, 3):
            raise InvalidInput("lut", f"table shape {table.shape}", "must have a table of shape (N, N, N, 3)")
        if not MIN_SIZE <= n <= MAX_SIZE:
            raise InvalidInput("lut", f"size {n}", f"must have a size in [{MIN_SIZE}, {MAX_SIZE}]")
        if not np.isfinite(table).all():
            raise InvalidInput("lut", "NaN or infinite table values", "must hold finite values")
        table.setflags(write=False)
        lo, hi = _triple(self.domain_min, "domain_min"), _triple(self.domain_max, "domain_max")
        if not all(a < b for a, b in zip(lo, hi)):
            raise InvalidInput("lut", f"domain {lo} .. {hi}", "must have domain_min < domain_max per channel")
        if not isinstance(self.title, str) or any(c in self.title for c in '"\r\n'):
            raise InvalidInput("lut", repr(self.title), "must have a title without quotes or line breaks")
        object.__setattr__(self, "table", table)
        object.__setattr__(self, "domain_min", lo)
        object.__setattr__(self, "domain_max", hi)

    @property
    def size(self) -> int:
        """Lattice points per axis (N)."""
        return int(self.table.shape[0])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Lut3D):
            return NotImplemented
        return (
            self.domain_min == other.domain_min
            and self.domain_max == other.domain_max
            and self.title == other.title
            and np.array_equal(self.table, other.table)
        )

    __hash__ = None  # type: ignore[assignment]


def _triple(value: object, name: str) -> tuple[float, float, float]:
    try:
        out = tuple(float(v) for v in value)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise InvalidInput("lut", f"{name}={value!r}", f"must have a {name} of 3 numbers") from None
    if len(out) != 3 or not all(math.isfinite(v) for v in out):
        raise InvalidInput("lut", f"{name}={value!r}", f"must have a {name} of 3 finite numbers")
    return out  # type: ignore[return-value]


def identity_lut(size: int = 33) -> Lut3D:
    """Return the identity LUT on [0, 1]^3.

    Args:
        size: lattice points per axis, in [2, 256].

    Returns:
        A :class:`Lut3D` whose ``table[r, g, b] == (r, g, b) / (size - 1)``.

    Example:
        >>> identity_lut(3).table[2, 1, 0].tolist()
        [1.0, 0.5, 0.0]
    """
    _check_size(size)
    axis = np.linspace(0.0, 1.0, size, dtype=np.float32)
    r, g, b = np.meshgrid(axis, axis, axis, indexing="ij")
    return Lut3D(np.stack([r, g, b], axis=-1), title="identity")


def bake_lut(
    fn: Callable[[np.ndarray], np.ndarray], size: int = 65, *, title: str = "", refine: int = 0
) -> Lut3D:
    """Evaluate a per-pixel colour function on a lattice over [0, 1]^3.

    With ``refine=0`` the table holds ``fn`` at the lattice points exactly. With ``refine > 0``
    the points are then adjusted by that many least-squares steps against ``fn`` sampled on a
    twice finer lattice (residuals spread back with tent weights), which roughly halves the
    worst tetrahedral-interpolation error next to clipping kinks while leaving smooth regions
    unchanged; costs about 1 s per step at size 65.

    Args:
        fn: maps ``(..., 3)`` float32 RGB in [0, 1] to ``(..., 3)`` float RGB; it must be a pure
            per-pixel function (for example ``reworld.ops.color.grade_function(params)``).
        size: lattice points per axis, in [2, 256]; 65 keeps a typical grade within 1/255.
        title: LUT title.
        refine: refinement steps, in [0, 10] (sizes above 129 are not refined).

    Returns:
        A :class:`Lut3D` with ``table[r, g, b] ~= fn((r, g, b) / (size - 1))``.

    Example:
        >>> bake_lut(lambda x: 1.0 - x, 2).table[0, 0, 1].tolist()
        [1.0, 1.0, 0.0]
    """
    _check_size(size)
    if isinstance(refine, bool) or not isinstance(refine, int) or not 0 <= refine <= 10:
        raise InvalidInput("refine", refine, "must be an integer in [0, 10]")
    fine_size = 2 * size - 1 if refine and size <= 129 else size
    grid = identity_lut(fine_size).table.reshape(-1, 3).copy()
    target = np.asarray(fn(grid), dtype=np.float32)
    if target.shape != grid.shape:
        raise InvalidInput("fn", f"output shape {target.shape}", f"must return shape {grid.shape}")
    target = target.reshape(fine_size, fine_size, fine_size, 3)
    if fine_size == size:
        return Lut3D(target, title=title)
    table = target[::2, ::2, ::2].copy()
    for _ in range(refine):
        looked = apply_lut(grid, Lut3D(table)).reshape(target.shape)
        table += _tent(target - looked)[::2, ::2, ::2] / np.float32(8.0)
    return Lut3D(table, title=title)


def _tent(r: np.ndarray) -> np.ndarray:
    """Separable [0.5, 1, 0.5] filter over the three lattice axes (zero outside)."""
    for axis in range(3):
        r = np.moveaxis(r, axis, 0)
        out = r.copy()
        out[1:] += 0.5 * r[:-1]
        out[:-1] += 0.5 * r[1:]
        r = np.moveaxis(out, 0, axis)
    return r


def apply_lut(image: np.ndarray, lut: Lut3D, *, interpolation: str = "tetrahedral") -> np.ndarray:
    """Look colours up in a 3D LUT.

    Inputs outside the LUT domain are clamped to it (as Resolve and OCIO do).

    Args:
        image: ``(..., 3)`` float RGB (any leading shape, e.g. ``(T, H, W, 3)``); not modified.
        lut: the table.
        interpolation: ``"tetrahedral"`` (default; 4 lattice points per pixel, what grading
            software uses) or ``"trilinear"`` (8 points).

    Returns:
        float32 array of ``image``'s shape (values as stored in the LUT, not clipped).

    Raises:
        InvalidInput: bad image shape/dtype, ``lut`` not a :class:`Lut3D`, unknown interpolation.

    Example:
        >>> apply_lut(np.full((1, 1, 3), 0.5, np.float32), identity_lut(5), interpolation="trilinear").tolist()
        [[[0.5, 0.5, 0.5]]]
    """
    if not isinstance(image, np.ndarray) or image.ndim < 1 or image.shape[-1] != 3:
        shape = getattr(image, "shape", type(image).__name__)
        raise InvalidInput("image", shape, "must be an array of shape (..., 3)")
    if not np.issubdtype(image.dtype, np.floating):
        raise InvalidInput("image", f"dtype {image.dtype}", "must be float RGB")
    if not isinstance(lut, Lut3D):
        raise InvalidInput("lut", type(lut).__name__, "must be a Lut3D")
    if interpolation not in ("tetrahedral", "trilinear"):
        raise InvalidInput("interpolation", interpolation, "must be 'tetrahedral' or 'trilinear'")
    flat = image.reshape(-1, 3)
    out = np.empty(flat.shape, np.float32)
    n = lut.size
    table = lut.table.reshape(-1, 3)
    lo = np.asarray(lut.domain_min, np.float32)
    scale = (n - 1) / (np.asarray(lut.domain_max, np.float32) - lo)
    interpolate = _tetrahedral if interpolation == "tetrahedral" else _trilinear

    def kernel(chunk: np.ndarray) -> np.ndarray:
        pos = (chunk.astype(np.float32) - lo) * scale
        np.clip(pos, 0.0, n - 1, out=pos)
        base = np.minimum(pos.astype(np.int32), n - 2)
        frac = pos - base
        index = (base[:, 0] * n + base[:, 1]) * n + base[:, 2]
        return interpolate(table, index, frac, n)

    _map_chunks(kernel, flat, out, chunk=_CHUNK)
    return out.reshape(image.shape)


def _tetrahedral(table: np.ndarray, index: np.ndarray, frac: np.ndarray, n: int) -> np.ndarray:
    # Walk from corner 000 to 111 along the axes in decreasing order of their fraction:
    # out = (1-f_hi) C0 + (f_hi-f_mid) C1 + (f_mid-f_lo) C2 + f_lo C3 (Kirk 2006; Kasson 1995).
    fr, fg, fb = frac[:, 0], frac[:, 1], frac[:, 2]
    step = np.array([n * n, n, 1], np.int32)
    r_max = (fr >= fg) & (fr >= fb)
    g_max = ~r_max & (fg >= fb)
    b_min = (fb <= fr) & (fb <= fg)
    g_min = ~b_min & (fg <= fr)
    off_max = np.where(r_max, step[0], np.where(g_max, step[1], step[2]))
    off_min = np.where(b_min, step[2], np.where(g_min, step[1], step[0]))
    hi = np.maximum(np.maximum(fr, fg), fb)
    lo = np.minimum(np.minimum(fr, fg), fb)
    mid = fr + fg + fb - hi - lo
    c0 = table[index]
    c1 = table[index + off_max]
    c2 = table[index + (step.sum() - off_min)]
    c3 = table[index + step.sum()]
    out = c0 * (1.0 - hi)[:, None]
    out += c1 * (hi - mid)[:, None]
    out += c2 * (mid - lo)[:, None]
    out += c3 * lo[:, None]
    return out


def _trilinear(table: np.ndarray, index: np.ndarray, frac: np.ndarray, n: int) -> np.ndarray:
    fr, fg, fb = (frac[:, i : i + 1] for i in range(3))
    out = np.zeros((index.shape[0], 3), np.float32)
    for dr, wr in ((0, 1.0 - fr), (1, fr)):
        for dg, wg in ((0, 1.0 - fg), (1, fg)):
            w_rg = wr * wg
            for db, wb in ((0, 1.0 - fb), (1, fb)):
                out += table[index + (dr * n * n + dg * n + db)] * (w_rg * wb)
    return out


def _map_chunks(kernel: Callable[[np.ndarray], np.ndarray], flat: np.ndarray, out: np.ndarray, chunk: int = 15360) -> None:
    """``out[i:j] = kernel(flat[i:j])`` over row chunks of ``(n, 3)`` arrays, on up to 4 threads.

    The kernel sees ``chunk`` rows plus 64 to 1087 padding rows, a multiple of 1024 in all.

    numpy ufuncs and OpenCV release the GIL, and chunks small enough to stay in cache make the
    element-wise passes memory-cheap. ``kernel`` must return a new array (never write its input).
    """
    starts = range(0, flat.shape[0], chunk)

    def work(start: int) -> None:
        part = flat[start : start + chunk]
        n = part.shape[0]
        pad = -(n + _MARGIN) % _ALIGN + _MARGIN  # copies of the last pixel (see _ALIGN)
        part = np.concatenate([part, np.repeat(part[-1:], pad, axis=0)])
        out[start : start + n] = kernel(part)[:n]

    workers = min(os.cpu_count() or 1, 4, len(starts))
    if workers <= 1:
        for start in starts:
            work(start)
        return
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(work, starts))


def _lookup(x: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Per-channel 1D table lookup with linear interpolation over [0, 1].

    Args:
        x: ``(n, 3)`` float32 in [0, 1], n < 32767 unless n is a multiple of 1024.
        table: ``(1, M)`` (same curve for all channels) or ``(3, M)`` (one row per channel)
            float32, 2 <= M < 32767, sampling the curve at ``linspace(0, 1, M)``.

    Returns:
        New ``(n, 3)`` float32 array.
    """
    import cv2  # only the grading kernels need it

    n, m = x.shape[0], table.shape[1]
    map_x = x * np.float32(m - 1)
    if table.shape[0] == 1:
        map_y = np.zeros_like(map_x)
    else:
        map_y = np.tile(np.arange(3, dtype=np.float32), n)
    shape = (n // 1024, 3072) if n % 1024 == 0 else (n, 3)  # remap wants both sides < 32767
    out = cv2.remap(table, map_x.reshape(shape), map_y.reshape(shape), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(n, 3)


def _check_size(size: object) -> None:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not MIN_SIZE <= size <= MAX_SIZE:
        raise InvalidInput("size", size, f"must be an integer in [{MIN_SIZE}, {MAX_SIZE}]")


def parse_cube(text: str, *, source: str = "<string>") -> Lut3D:
    """Parse an Adobe/Resolve ``.cube`` 3D LUT.

    Understands ``TITLE``, ``LUT_3D_SIZE``, ``DOMAIN_MIN``, ``DOMAIN_MAX``,
    ``LUT_3D_INPUT_RANGE`` (Resolve), ``#`` comments and blank lines; other keyword lines before
    the data are ignored. Data lines hold 3 numbers with red varying fastest.

    Args:
        text: the file contents.
        source: where the text came from (a path), quoted in error messages.

    Returns:
        The :class:`Lut3D`.

    Raises:
        InvalidInput: (arg ``lut``, value ``source``) missing or out-of-range ``LUT_3D_SIZE``,
            1D LUTs, wrong number of entries (expected vs got), non-numeric or non-finite values.

    Example:
        >>> lut = parse_cube("LUT_3D_SIZE 2\\n" + "0 0 0\\n1 0 0\\n0 1 0\\n1 1 0\\n0 0 1\\n1 0 1\\n0 1 1\\n1 1 1\\n")
        >>> lut.table[1, 0, 0].tolist()
        [1.0, 0.0, 0.0]
    """

    def bad(problem: str) -> InvalidInput:
        return InvalidInput("lut", source, f"must be a valid .cube 3D LUT ({problem})")

    size: int | None = None
    title = ""
    domain = [(0.0, 0.0, 0.0), (1.0, 1.0, 1.0)]
    rows: list[list[str]] = []
    first_data = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if rows or _is_number(line.split(None, 1)[0]):
            parts = line.split()
            if len(parts) != 3:
                raise bad(f"line {number} has {len(parts)} values instead of 3: {line[:40]!r}")
            if not rows:
                first_data = number
            rows.append(parts)
            continue
        key, _, rest = line.partition(" ")
        key, rest = key.upper(), rest.strip()
        if key == "TITLE":
            title = rest.strip('"').replace('"', "")
        elif key == "LUT_1D_SIZE":
            raise bad("1D LUTs (LUT_1D_SIZE) are not supported, only 3D LUTs")
        elif key == "LUT_3D_SIZE":
            try:
                size = int(rest)
            except ValueError:
                raise bad(f"LUT_3D_SIZE on line {number} is not an integer: {rest!r}") from None
            if not MIN_SIZE <= size <= MAX_SIZE:
                raise bad(f"LUT_3D_SIZE {size} is outside [{MIN_SIZE}, {MAX_SIZE}]")
        elif key in ("DOMAIN_MIN", "DOMAIN_MAX", "LUT_3D_INPUT_RANGE"):
            try:
                values = [float(v) for v in rest.split()]
            except ValueError:
                raise bad(f"{key} on line {number} is not numeric: {rest!r}") from None
            want = 2 if key == "LUT_3D_INPUT_RANGE" else 3
            if len(values) != want or not all(math.isfinite(v) for v in values):
                raise bad(f"{key} on line {number} needs {want} finite numbers: {rest!r}")
            if key == "LUT_3D_INPUT_RANGE":
                domain = [(values[0],) * 3, (values[1],) * 3]
            else:
                domain[key == "DOMAIN_MAX"] = tuple(values)
    if size is None:
        raise bad("no LUT_3D_SIZE line")
    expected = size**3
    if len(rows) != expected:
        raise bad(f"wrong number of entries for LUT_3D_SIZE {size}: expected {expected}, got {len(rows)}")
    try:
        data = np.array(rows, dtype=np.float64)
    except ValueError:
        for offset, parts in enumerate(rows):
            try:
                [float(p) for p in parts]
            except ValueError:
                raise bad(f"non-numeric value in data entry {offset + 1} {' '.join(parts)!r}") from None
        raise
    if not np.isfinite(data).all():
        entry = int(np.flatnonzero(~np.isfinite(data).all(axis=1))[0])
        raise bad(f"NaN or infinite value in data entry {entry + 1} (from line {first_data})")
    # data lines: red fastest -> array [b][g][r] -> transpose to [r][g][b]
    table = data.reshape(size, size, size, 3).transpose(2, 1, 0, 3)
    if not all(a < b for a, b in zip(*domain)):
        raise bad(f"DOMAIN_MIN {domain[0]} must be below DOMAIN_MAX {domain[1]} per channel")
    return Lut3D(table, domain_min=domain[0], domain_max=domain[1], title=title)


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def format_cube(lut: Lut3D) -> str:
    """Write a LUT as ``.cube`` text (8 decimals, round trip exact to 1e-7).

    Args:
        lut: the table.

    Returns:
        The text: ``TITLE`` (when set), ``LUT_3D_SIZE``, ``DOMAIN_MIN``/``DOMAIN_MAX``, then
        ``N**3`` data lines with red varying fastest; ends with a newline.

    Example:
        >>> print(format_cube(identity_lut(2)).splitlines()[1])
        TITLE "identity"
    """
    if not isinstance(lut, Lut3D):
        raise InvalidInput("lut", type(lut).__name__, "must be a Lut3D")
    head = ["# Created by reworld"]
    if lut.title:
        head.append(f'TITLE "{lut.title}"')
    head.append(f"LUT_3D_SIZE {lut.size}")
    head.append("DOMAIN_MIN " + " ".join(repr(float(v)) for v in lut.domain_min))
    head.append("DOMAIN_MAX " + " ".join(repr(float(v)) for v in lut.domain_max))
    data = lut.table.transpose(2, 1, 0, 3).reshape(-1).astype(np.float64)
    data[data == 0.0] = 0.0  # no "-0.00000000"
    body = ("%.8f %.8f %.8f\n" * lut.size**3) % tuple(data.tolist())
    return "\n".join(head) + "\n" + body
