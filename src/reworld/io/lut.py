"""``.cube`` 3D LUT files: read, and write atomically (layer 1; parsing lives in ops/lut.py).

Example:
    >>> from reworld.ops.lut import identity_lut
    >>> write_cube("look.cube", identity_lut(17))  # doctest: +SKIP
    >>> read_cube("look.cube").size  # doctest: +SKIP
    17
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from reworld.errors import InvalidInput
from reworld.ops.lut import Lut3D, format_cube, parse_cube

__all__ = ["read_cube", "write_cube"]

MAX_CUBE_BYTES = 256 * 1024 * 1024  #: a 256^3 LUT is about 500 MB of text; refuse beyond this


def read_cube(path: str | os.PathLike) -> Lut3D:
    """Read an Adobe/Resolve ``.cube`` 3D LUT file.

    Args:
        path: the file (UTF-8 text, a BOM is allowed).

    Returns:
        The :class:`~reworld.ops.lut.Lut3D` (table indexed ``[r, g, b]``).

    Raises:
        InvalidInput: (arg ``lut``, value the path) the file is missing, unreadable, too large,
            not UTF-8 text, or not a valid 3D ``.cube`` (see :func:`reworld.ops.lut.parse_cube`).
    """
    p = Path(path)
    if not p.exists():
        raise InvalidInput("lut", str(p), "must be an existing .cube file (no such file)")
    if not p.is_file():
        raise InvalidInput("lut", str(p), "must be a .cube file, not a folder or device")
    try:
        size = p.stat().st_size
        if size > MAX_CUBE_BYTES:
            raise InvalidInput("lut", str(p), f"must be at most {MAX_CUBE_BYTES} bytes (file has {size})")
        data = p.read_bytes()
    except OSError as exc:
        raise InvalidInput("lut", str(p), f"must be a readable file ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput("lut", str(p), f"must be UTF-8 text (bad byte at offset {exc.start})") from None
    return parse_cube(text, source=str(p))


def write_cube(path: str | os.PathLike, lut: Lut3D) -> None:
    """Write a LUT as a ``.cube`` file, atomically.

    The text goes to a temporary file in the same folder, is flushed to disk, then renamed over
    ``path`` with :func:`os.replace`; on any error the temporary file is removed and an existing
    ``path`` is left untouched.

    Args:
        path: destination file; its folder must exist.
        lut: the table (see :func:`reworld.ops.lut.format_cube` for the layout).

    Raises:
        InvalidInput: ``lut`` is not a Lut3D (arg ``lut``) or the folder is missing or not
            writable (arg ``path``).
    """
    if not isinstance(lut, Lut3D):
        raise InvalidInput("lut", type(lut).__name__, "must be a Lut3D")
    p = Path(path)
    if not p.parent.is_dir():
        raise InvalidInput("path", str(p), "must be in an existing folder")
    if p.is_dir():
        raise InvalidInput("path", str(p), "must be a file path, not a folder")
    text = format_cube(lut)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    except OSError as exc:
        raise InvalidInput("path", str(p), f"must be in a writable folder ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a LUT is meant to be shared
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
