"""Colour statistics transfer ("match the look of a reference") in CIELAB (layer 1).

Method: Reinhard et al. (2001) mean/std transfer, done per channel in CIELAB (D65) instead of
their l-alpha-beta space. Why: Lab is nearly decorrelated for natural images like l-alpha-beta,
but is perceptually uniform, defined for black (no log), and the standard in colour science;
a diagonal per-channel map cannot rotate hues the way a full-covariance (Monge-Kantorovich)
transfer does when a reference has an ill-conditioned covariance (e.g. nearly monochrome),
so it fails gracefully. The std ratio is capped at :data:`MAX_STD_RATIO` for the same reason.

Temporal stability: the statistics are computed once (:func:`color_stats` over a whole clip or
sampled frames) and frozen in a :class:`ColorMatch`; the transfer is then a fixed per-pixel
function of colour, identical in every frame, and can be baked into a LUT.

Example:
    >>> import numpy as np
    >>> img = np.random.default_rng(0).random((8, 8, 3)).astype(np.float32)  # seeded, local
    >>> stats = color_stats(img)
    >>> float(np.abs(transfer_stats(img, stats, stats) - img).max()) < 1e-3
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from reworld.errors import InvalidInput
from reworld.ops.color import _decode, _encode
from reworld.ops.dtype import to_float01
from reworld.ops.lut import _map_chunks

__all__ = ["ColorStats", "ColorMatch", "color_stats", "color_match", "transfer_stats", "srgb_to_lab", "lab_to_srgb"]

MAX_STD_RATIO = 4.0  #: largest per-channel std scaling a transfer may apply
_STD_FLOOR = 1e-6
# IEC 61966-2-1 sRGB -> XYZ (as colour.RGB_COLOURSPACES["sRGB"]); rows divided by the white
# (the matrix applied to RGB = 1) so that neutral RGB gives a* = b* = 0 exactly.
_RGB_TO_XYZ = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
WHITE_XYZ = _RGB_TO_XYZ.sum(axis=1)
_RGB_TO_XYZN = _RGB_TO_XYZ / WHITE_XYZ[:, None]
_XYZN_TO_RGB = np.linalg.inv(_RGB_TO_XYZN)
_F_TO_LAB = np.array([[0.0, 116.0, 0.0], [500.0, -500.0, 0.0], [0.0, 200.0, -200.0]])
_LAB_OFFSET = np.array([-16.0, 0.0, 0.0])
_DELTA = 6.0 / 29.0


@dataclass(frozen=True)
class ColorStats:
    """Per-channel mean and standard deviation of CIELAB (D65) values.

    Attributes:
        mean: (L*, a*, b*) means; L* in [0, 100], a*/b* roughly [-128, 127].
        std: (L*, a*, b*) standard deviations, >= 0.
    """

    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    def __post_init__(self) -> None:
        for name in ("mean", "std"):
            value = getattr(self, name)
            try:
                triple = tuple(float(v) for v in value)
            except (TypeError, ValueError):
                raise InvalidInput(f"stats.{name}", value, "must be 3 numbers (L*, a*, b*)") from None
            if len(triple) != 3 or not all(math.isfinite(v) for v in triple):
                raise InvalidInput(f"stats.{name}", value, "must be 3 finite numbers (L*, a*, b*)")
            if name == "std" and min(triple) < 0:
                raise InvalidInput("stats.std", value, "must be >= 0")
            object.__setattr__(self, name, triple)


@dataclass(frozen=True)
class ColorMatch:
    """Frozen statistics for a transfer: the clip as it reaches the match step, and the look.

    Attributes:
        source: stats of the clip being graded, over the whole clip or sampled frames, taken
            from the signal entering the match step (after the other grade operations).
        target: stats of the reference image (the look to reach).
    """

    source: ColorStats
    target: ColorStats

    def __post_init__(self) -> None:
        for name in ("source", "target"):
            if not isinstance(getattr(self, name), ColorStats):
                raise InvalidInput(f"match.{name}", type(getattr(self, name)).__name__, "must be a ColorStats")


def srgb_to_lab(image: np.ndarray) -> np.ndarray:
    """Convert sRGB-encoded RGB in [0, 1] to CIELAB (D65, white = sRGB RGB (1, 1, 1)).

    Args:
        image: ``(..., 3)`` float in [0, 1], uint8 or uint16.

    Returns:
        float32 ``(..., 3)``: L* in [0, 100], a*, b*.

    Example:
        >>> srgb_to_lab(np.ones((1, 3), np.float32)).round(3).tolist()
        [[100.0, 0.0, 0.0]]
    """
    x = _check_image(image, "image")
    return _chunked(x, lambda c: cv2.transform(_rgb_to_f(c).reshape(-1, 1, 3), np.c_[_F_TO_LAB, _LAB_OFFSET]).reshape(-1, 3))


def lab_to_srgb(lab: np.ndarray) -> np.ndarray:
    """Convert CIELAB (D65) to sRGB-encoded RGB, clipped to [0, 1].

    Args:
        lab: ``(..., 3)`` float L*, a*, b*.

    Returns:
        float32 ``(..., 3)`` in [0, 1].
    """
    if not isinstance(lab, np.ndarray) or lab.ndim < 1 or lab.shape[-1] != 3:
        raise InvalidInput("lab", getattr(lab, "shape", type(lab).__name__), "must have shape (..., 3)")
    inv = np.linalg.inv(_F_TO_LAB)
    to_f = np.c_[inv, -inv @ _LAB_OFFSET]
    return _chunked(lab.astype(np.float32), lambda c: _f_to_rgb(cv2.transform(c.reshape(-1, 1, 3), to_f).reshape(-1, 3)))


def color_stats(image: np.ndarray, *, mask: np.ndarray | None = None, max_pixels: int = 1_000_000) -> ColorStats:
    """Measure the CIELAB mean and std of an image or a whole clip.

    Args:
        image: ``(..., 3)`` sRGB, e.g. all ``(T, H, W, 3)`` frames of a clip (or frames sampled
            from it), or one reference ``(H, W, 3)``; float in [0, 1], uint8 or uint16.
        mask: optional ``image.shape[:-1]`` bool or float weights in [0, 1] selecting pixels.
        max_pixels: above this many pixels a fixed stride subsample is used (deterministic).

    Returns:
        The :class:`ColorStats`.

    Raises:
        InvalidInput: bad ``image``/``mask`` shape or values, empty selection.

    Example:
        >>> color_stats(np.ones((2, 2, 3), np.float32)).mean
        (100.0, 0.0, 0.0)
    """
    x = _check_image(image, "image").reshape(-1, 3)
    if x.shape[0] == 0:
        raise InvalidInput("image", image.shape, "must hold at least one pixel")
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, int) or max_pixels < 1:
        raise InvalidInput("max_pixels", max_pixels, "must be a positive integer")
    weights = None
    if mask is not None:
        if not isinstance(mask, np.ndarray) or mask.shape != image.shape[:-1]:
            raise InvalidInput("mask", getattr(mask, "shape", type(mask).__name__), f"must have shape {image.shape[:-1]}")
        weights = to_float01(mask, arg="mask").reshape(-1)
    stride = -(-x.shape[0] // max_pixels)
    if stride > 1:
        x = x[::stride]
        weights = None if weights is None else weights[::stride]
    lab = srgb_to_lab(np.ascontiguousarray(x)).astype(np.float64)
    if weights is not None:
        total = float(weights.sum())
        if total <= 0:
            raise InvalidInput("mask", "no selected pixels", "must select at least one pixel")
        mean = (lab * weights[:, None]).sum(axis=0) / total
        var = (((lab - mean) ** 2) * weights[:, None]).sum(axis=0) / total
    else:
        mean, var = lab.mean(axis=0), lab.var(axis=0)
    return ColorStats(tuple(mean), tuple(np.sqrt(var)))


def color_match(source: np.ndarray, reference: np.ndarray, *, mask: np.ndarray | None = None) -> ColorMatch:
    """Build a :class:`ColorMatch` from a clip (or sampled frames) and a reference image.

    Args:
        source: ``(..., 3)`` the clip's frames as they reach the match step (see ColorMatch).
        reference: ``(..., 3)`` the look to reach.
        mask: optional weights over ``reference.shape[:-1]`` (the part of the reference to use).

    Returns:
        ``ColorMatch(color_stats(source), color_stats(reference, mask=mask))``.
    """
    return ColorMatch(color_stats(source), color_stats(reference, mask=mask))


def transfer_stats(image: np.ndarray, source: ColorStats, target: ColorStats, strength: float = 1.0) -> np.ndarray:
    """Move an image's colours from ``source`` statistics to ``target`` statistics.

    Per CIELAB channel: ``v' = v + strength * ((v - mu_s) * min(sd_t / sd_s, 4) + mu_t - v)``.
    A pure per-pixel function given fixed stats: pass clip-wide ``source`` stats, never
    per-frame ones, so the result does not flicker.

    Args:
        image: ``(..., 3)`` sRGB in [0, 1] (float32 preferred; uint8/uint16 rescaled).
        source: stats of the clip ``image`` belongs to. target: stats of the reference.
        strength: in [0, 1]; 0 = unchanged, 1 = full transfer.

    Returns:
        float32 ``(..., 3)`` in [0, 1].

    Example:
        >>> s = ColorStats((50.0, 0.0, 0.0), (10.0, 5.0, 5.0))
        >>> t = ColorStats((60.0, 0.0, 0.0), (10.0, 5.0, 5.0))
        >>> grey = np.full((1, 3), 0.5, np.float32)
        >>> bool(transfer_stats(grey, s, t)[0, 0] > 0.5)
        True
    """
    for name, value in (("source", source), ("target", target)):
        if not isinstance(value, ColorStats):
            raise InvalidInput(name, type(value).__name__, "must be a ColorStats")
    if isinstance(strength, bool) or not isinstance(strength, (int, float)) or not 0.0 <= strength <= 1.0:
        raise InvalidInput("strength", strength, "must be a number in [0, 1]")
    x = _check_image(image, "image")
    affine = _transfer_affine(source, target, strength)
    return _chunked(x, lambda c: _transfer_kernel(c, *affine))


def _transfer_affine(source: ColorStats, target: ColorStats, strength: float) -> tuple[np.ndarray]:
    """The transfer as one affine map in f-space (f = Lab companding of XYZ / white)."""
    mu_s, mu_t = np.array(source.mean), np.array(target.mean)
    ratio = np.minimum(np.array(target.std) / np.maximum(np.array(source.std), _STD_FLOOR), MAX_STD_RATIO)
    scale = np.diag(1.0 + strength * (ratio - 1.0))  # Lab' = scale @ Lab + shift
    shift = strength * (mu_t - ratio * mu_s)
    inv = np.linalg.inv(_F_TO_LAB)
    linear = inv @ scale @ _F_TO_LAB
    offset = inv @ (scale @ _LAB_OFFSET + shift - _LAB_OFFSET)
    return (np.c_[linear, offset],)


def _transfer_kernel(x: np.ndarray, f_affine: np.ndarray) -> np.ndarray:
    f = cv2.transform(_rgb_to_f(x).reshape(-1, 1, 3), f_affine).reshape(-1, 3)
    return _f_to_rgb(f)


def _rgb_to_f(x: np.ndarray) -> np.ndarray:
    """``(n, 3)`` sRGB -> CIE companded f(X/Xn), f(Y/Yn), f(Z/Zn)."""
    lin = _decode(x)
    t = cv2.transform(lin.reshape(-1, 1, 3), _RGB_TO_XYZN).reshape(-1, 3)
    np.maximum(t, 0.0, out=t)
    small = t <= np.float32(_DELTA**3)
    f = cv2.pow(t, 1.0 / 3.0)
    f[small] = t[small] / np.float32(3 * _DELTA**2) + np.float32(4 / 29)
    return f


def _f_to_rgb(f: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_rgb_to_f` then encode; out-of-gamut results are clipped."""
    small = f <= np.float32(_DELTA)
    t = f * f * f
    t[small] = np.float32(3 * _DELTA**2) * (f[small] - np.float32(4 / 29))
    lin = cv2.transform(t.reshape(-1, 1, 3), _XYZN_TO_RGB).reshape(-1, 3)
    np.maximum(lin, 0.0, out=lin)
    return _encode(lin, 1.0)


def _check_image(image: np.ndarray, arg: str) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.ndim < 1 or image.shape[-1] != 3:
        raise InvalidInput(arg, getattr(image, "shape", type(image).__name__), "must have shape (..., 3)")
    return to_float01(image, arg=arg)


def _chunked(x: np.ndarray, kernel) -> np.ndarray:  # type: ignore[no-untyped-def]
    flat = np.ascontiguousarray(x.reshape(-1, 3), dtype=np.float32)
    out = np.empty(flat.shape, np.float32)
    _map_chunks(kernel, flat, out)
    return out.reshape(x.shape)
