"""Input validation for :mod:`reworld.ops.segment`: images, alphas, click points, boxes, prompts.

A prompt is positive clicks ``points``, negative clicks ``negative`` and/or a ``box``, all in the
image's pixels as ``(x, y)`` (``box`` = ``(x0, y0, x1, y1)``, right/bottom edges exclusive);
:func:`check_prompt` validates one.
"""

from __future__ import annotations

import numpy as np

from reworld.errors import InvalidInput

__all__ = ["check_prompt"]


def _check_image(image: np.ndarray, arg: str = "image") -> np.ndarray:
    """``(H, W, 3)`` uint8, or float in [0, 1] converted to uint8."""
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or min(image.shape[:2]) < 1:
        raise InvalidInput(arg, getattr(image, "shape", type(image).__name__), "must be an (H, W, 3) RGB array")
    if image.dtype == np.uint8:
        return image
    if np.issubdtype(image.dtype, np.floating):
        if not np.isfinite(image).all() or image.min() < -1e-6 or image.max() > 1 + 1e-6:
            raise InvalidInput(arg, f"{image.dtype} in [{image.min()}, {image.max()}]", "must hold values in [0, 1]")
        return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)
    raise InvalidInput(arg, str(image.dtype), "must be uint8 or float in [0, 1]")


def _check_alpha(alpha: np.ndarray, shape: tuple[int, int], arg: str) -> np.ndarray:
    if not isinstance(alpha, np.ndarray) or alpha.shape != shape:
        raise InvalidInput(arg, getattr(alpha, "shape", type(alpha).__name__), f"must be an array of shape {shape}")
    if alpha.dtype == np.uint8:
        return alpha.astype(np.float32) / 255.0
    a = alpha.astype(np.float32)
    if a.size and (not np.isfinite(a).all() or a.min() < -1e-6 or a.max() > 1 + 1e-6):
        raise InvalidInput(arg, f"values in [{a.min()}, {a.max()}]", "must be bool, uint8 or float in [0, 1]")
    return np.clip(a, 0, 1)


def _check_points(points, arg: str, width: int, height: int) -> np.ndarray:
    try:
        arr = np.asarray(points, dtype=np.float64).reshape(-1, 2) if len(points) else np.zeros((0, 2))
        if len(points) and np.asarray(points, dtype=np.float64).ndim != 2:
            raise ValueError
    except (TypeError, ValueError):
        raise InvalidInput(arg, points, "must be a list of (x, y) pixel pairs, e.g. [(120, 80)]") from None
    for x, y in arr:
        if not (np.isfinite(x) and np.isfinite(y) and 0 <= x < width and 0 <= y < height):
            raise InvalidInput(arg, (float(x), float(y)),
                               f"must lie inside the image: 0 <= x < {width} and 0 <= y < {height} (pixels)")
    return arr


def _check_box(box, width: int, height: int, arg: str = "box") -> np.ndarray | None:
    if box is None:
        return None
    try:
        b = np.asarray(box, dtype=np.float64)
        if b.shape != (4,):
            raise ValueError
    except (TypeError, ValueError):
        raise InvalidInput(arg, box, "must be (x0, y0, x1, y1) in pixels") from None
    x0, y0, x1, y1 = b
    if not np.isfinite(b).all() or not (0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height):
        raise InvalidInput(arg, tuple(float(v) for v in b),
                           f"must have positive area inside the image: 0 <= x0 < x1 <= {width} and "
                           f"0 <= y0 < y1 <= {height} (pixels)")
    return b


def check_prompt(points, negative, box, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Validate a prompt for a ``width`` x ``height`` image; return ``(points, negative, box)`` arrays.

    Raises:
        InvalidInput: a point outside the image, a box with zero area or outside the image, or
            neither a positive point nor a box.
    """
    pts = _check_points(points, "points", width, height)
    neg = _check_points(negative, "negative", width, height)
    bx = _check_box(box, width, height)
    if not len(pts) and bx is None:
        raise InvalidInput("points", list(points), "needs at least one positive (x, y) point, or give a box")
    return pts, neg, bx
