"""Dense optical flow as pure array functions (layer 1: numpy, OpenCV).

Flow is ``(h, w, 2)`` float32: for every pixel ``(row, col)`` of the first image, the
displacement ``(dx, dy)`` in pixels (x to the right, y down) to where that point is in the
second image, so ``a[y, x] ~ b[y + dy, x + dx]``. Estimation uses OpenCV's DIS (Dense Inverse
Search, Kroeger et al. 2016) on luma.

Occlusion follows the forward-backward check of Sundaram, Brox & Keutzer (ECCV 2010): a pixel
``x`` of the first image is occluded when following the forward flow and then the backward
flow does not lead back to ``x``::

    |fwd(x) + bwd(x + fwd(x))|^2 > alpha * (|fwd(x)|^2 + |bwd(x + fwd(x))|^2) + beta

with ``alpha = 0.01`` (relative slack: 10 % of the motion) and ``beta = 0.5`` px^2 (absolute
slack, about 0.7 px) — the paper's values, for flow in pixels of the image it was computed on.
Points that leave the frame (``x + fwd(x)`` outside the second image) are occluded as well.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a = cv2.GaussianBlur(rng.integers(0, 256, (96, 128), dtype=np.uint8), (0, 0), 2)
    >>> b = np.ascontiguousarray(np.roll(a, 2, axis=1))  # content moves 2 px right
    >>> fwd = dis_flow(a, b, preset="medium")
    >>> [round(float(np.median(fwd[16:-16, 16:-16, c])), 1) + 0.0 for c in (0, 1)]
    [2.0, 0.0]
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np

from reworld.errors import InvalidInput
from reworld.ops.dtype import to_float01, to_uint8

__all__ = [
    "DEFAULT_PRESET",
    "FB_ALPHA",
    "FB_BETA",
    "PRESETS",
    "FlowEstimator",
    "dis_flow",
    "fb_consistency",
    "flow_confidence",
    "flow_to_rgb",
    "resize_flow",
    "to_luma",
    "warp",
]

#: DIS settings by preset name: (finest scale, patch size, patch stride, gradient-descent
#: iterations, variational-refinement iterations). "ultrafast", "fast" and "medium" are OpenCV's
#: presets of the same names; "balanced" is ours: medium's finest scale (half resolution) with fast's
#: patch stride, 12 descent iterations and no variational refinement, which keeps motion boundaries
#: (and so occlusions) sharp at about 2.5x the speed of "medium" (docs/analysis-flow.md).
PRESETS: dict[str, tuple[int, int, int, int, int]] = {
    "ultrafast": (2, 8, 4, 12, 0),
    "fast": (2, 8, 4, 16, 5),
    "balanced": (1, 8, 4, 12, 0),
    "medium": (1, 8, 3, 25, 5),
}
#: the default preset: the most accurate one that keeps forward + backward flow well above 25
#: pairs/s for 640-px frames on 2 CPU cores ("fast" is faster but blurs motion boundaries over
#: ~15 px, which hides most occlusions; "medium" is slower than the target)
DEFAULT_PRESET = "balanced"
#: Sundaram et al. 2010 forward-backward check: relative slack (fraction of squared motion)
FB_ALPHA = 0.01
#: Sundaram et al. 2010 forward-backward check: absolute slack in squared pixels
FB_BETA = 0.5

_INTERP = {"linear": cv2.INTER_LINEAR, "nearest": cv2.INTER_NEAREST, "cubic": cv2.INTER_CUBIC}


# -- checks --------------------------------------------------------------------------------
def _check_flow(flow: np.ndarray, arg: str) -> np.ndarray:
    if not isinstance(flow, np.ndarray):
        raise TypeError(f"`{arg}` must be a numpy array, got {type(flow).__name__}")
    if flow.ndim != 3 or flow.shape[2] != 2 or flow.shape[0] < 1 or flow.shape[1] < 1:
        raise InvalidInput(arg, f"shape {flow.shape}", "must be a flow field of shape (h, w, 2)")
    if flow.dtype.kind != "f":
        raise InvalidInput(arg, f"dtype {flow.dtype}", "must be a float array (pixels)")
    return np.ascontiguousarray(flow, dtype=np.float32)


def to_luma(image: np.ndarray, *, arg: str = "image") -> np.ndarray:
    """Luma of an image as contiguous uint8, what DIS consumes.

    Args:
        image: ``(h, w, 3)`` RGB or ``(h, w)`` grey; uint8, or float in [0, 1].
        arg: argument name for error messages.

    Returns:
        ``(h, w)`` uint8 (BT.601 luma weights for RGB, as ``cv2.COLOR_RGB2GRAY``).

    Example:
        >>> to_luma(np.full((2, 3, 3), 255, np.uint8)).tolist()
        [[255, 255, 255], [255, 255, 255]]
    """
    if not isinstance(image, np.ndarray):
        raise TypeError(f"`{arg}` must be a numpy array, got {type(image).__name__}")
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)) or image.size == 0:
        raise InvalidInput(arg, f"shape {image.shape}", "must be an (h, w, 3) RGB or (h, w) grey image")
    if image.dtype != np.uint8:
        if image.dtype.kind != "f":
            raise InvalidInput(arg, f"dtype {image.dtype}", "must be uint8 or float in [0, 1]")
        image = to_uint8(to_float01(image, arg=arg))
    if image.ndim == 3:
        image = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
    return np.ascontiguousarray(image)


# -- estimation ----------------------------------------------------------------------------
class FlowEstimator:
    """A DIS optical-flow estimator that keeps its OpenCV object between calls.

    Create one per call site (a loop over frames, an analyzer) and call it for every pair;
    creating the DIS object costs more than a small frame. Not thread-safe: one per thread.

    Args:
        preset: ``"ultrafast"``, ``"fast"``, ``"balanced"`` (default) or ``"medium"`` (see :data:`PRESETS`).

    Example:
        >>> est = FlowEstimator("fast")
        >>> a = np.zeros((64, 96), np.uint8)
        >>> est(a, a).shape
        (64, 96, 2)
    """

    def __init__(self, preset: str = DEFAULT_PRESET) -> None:
        if preset not in PRESETS:
            raise InvalidInput("preset", preset, f"must be one of {', '.join(PRESETS)}")
        self.preset = preset
        finest, patch, stride, iters, var_iters = PRESETS[preset]
        self._dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        self._dis.setFinestScale(finest)
        self._dis.setPatchSize(patch)
        self._dis.setPatchStride(stride)
        self._dis.setGradientDescentIterations(iters)
        self._dis.setVariationalRefinementIterations(var_iters)
        # OpenCV's DIS picks its coarsest scale as min(round(log2(long / 4p)), floor(log2(short / p)))
        # and can crash (segfault) when that is below the finest scale: images whose short side is
        # under p * 2^fs or whose long side is under 4p * 2^(fs - 1/2) are padded (edge replicated)
        # up to those sizes and the flow is cropped back.
        p, fs = patch, finest
        self._min_side = p * 2 ** fs
        self._min_long = math.ceil(4 * p * 2 ** (fs - 0.5)) + 1

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Flow from ``a`` to ``b``.

        Args:
            a: first image, ``(h, w, 3)`` RGB or ``(h, w)`` luma; uint8 or float in [0, 1].
            b: second image, same shape as ``a``.

        Returns:
            ``(h, w, 2)`` float32 ``(dx, dy)`` in pixels, defined on ``a``'s grid.
        """
        la, lb = to_luma(a, arg="a"), to_luma(b, arg="b")
        if la.shape != lb.shape:
            raise InvalidInput("b", f"shape {b.shape}", f"must have the same size as `a` {a.shape}")
        h, w = la.shape
        ph, pw = max(h, self._min_side), max(w, self._min_side)
        if max(ph, pw) < self._min_long:
            pw = self._min_long if pw >= ph else pw
            ph = self._min_long if ph > pw else ph
        if (ph, pw) != (h, w):
            la = cv2.copyMakeBorder(la, 0, ph - h, 0, pw - w, cv2.BORDER_REPLICATE)
            lb = cv2.copyMakeBorder(lb, 0, ph - h, 0, pw - w, cv2.BORDER_REPLICATE)
        flow = self._dis.calc(la, lb, None)
        return np.ascontiguousarray(flow[:h, :w])


def dis_flow(a: np.ndarray, b: np.ndarray, *, preset: str = DEFAULT_PRESET) -> np.ndarray:
    """Dense optical flow from ``a`` to ``b`` with DIS (one-off; loops use :class:`FlowEstimator`).

    Args:
        a: first image, ``(h, w, 3)`` RGB or ``(h, w)`` grey; uint8 or float in [0, 1].
        b: second image, same shape.
        preset: ``"ultrafast"``, ``"fast"``, ``"balanced"`` (default) or ``"medium"``.

    Returns:
        ``(h, w, 2)`` float32 flow ``(dx, dy)`` in pixels on ``a``'s grid.

    Example:
        >>> dis_flow(np.zeros((48, 64, 3), np.uint8), np.zeros((48, 64, 3), np.uint8)).shape
        (48, 64, 2)
    """
    return FlowEstimator(preset)(a, b)


# -- warping and consistency ---------------------------------------------------------------
@functools.lru_cache(maxsize=4)
def _grid(h: int, w: int) -> np.ndarray:
    """``(h, w, 2)`` float32 pixel coordinates ``(x, y)`` (read-only, shared)."""
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    grid = np.dstack([xs, ys])
    grid.flags.writeable = False
    return grid


def _sample_map(flow: np.ndarray) -> np.ndarray:
    """``(h, w, 2)`` float32 map ``x + flow(x)`` for ``cv2.remap``."""
    return flow + _grid(*flow.shape[:2])


def warp(image: np.ndarray, flow: np.ndarray, *, interpolation: str = "linear") -> np.ndarray:
    """Backward-warp ``image`` by ``flow``: ``out[y, x] = image[y + dy, x + dx]``.

    With ``fwd`` the flow from frame ``a`` to frame ``b``, ``warp(b, fwd)`` brings ``b`` onto
    ``a``'s grid (``~ a`` wherever nothing is occluded). Samples outside the image repeat the
    border (``cv2.BORDER_REPLICATE``).

    Args:
        image: ``(h, w)`` or ``(h, w, c)``; uint8, uint16, float32/64 or float16 (computed in
            float32), or bool (nearest neighbour).
        flow: ``(h, w, 2)`` float ``(dx, dy)`` pixels, same ``h, w`` as ``image``.
        interpolation: ``"linear"``, ``"nearest"`` or ``"cubic"``.

    Returns:
        Array of ``image``'s shape and dtype.

    Example:
        >>> img = np.arange(12, dtype=np.float32).reshape(3, 4)
        >>> fl = np.zeros((3, 4, 2), np.float32); fl[..., 0] = 1
        >>> warp(img, fl)[0].tolist()
        [1.0, 2.0, 3.0, 3.0]
    """
    flow = _check_flow(flow, "flow")
    if not isinstance(image, np.ndarray):
        raise TypeError(f"`image` must be a numpy array, got {type(image).__name__}")
    if image.ndim not in (2, 3) or image.shape[:2] != flow.shape[:2]:
        raise InvalidInput("image", f"shape {image.shape}", f"must be (h, w) or (h, w, c) with (h, w) = {flow.shape[:2]} of `flow`")
    if interpolation not in _INTERP:
        raise InvalidInput("interpolation", interpolation, f"must be one of {', '.join(_INTERP)}")
    where = _sample_map(flow)
    dtype = image.dtype
    mode = _INTERP[interpolation]
    if dtype == np.bool_:
        src, mode = image.astype(np.uint8), cv2.INTER_NEAREST
    elif dtype in (np.uint8, np.uint16, np.float32, np.float64):
        src = np.ascontiguousarray(image)
    elif dtype.kind == "f":
        src = image.astype(np.float32)
    else:
        raise InvalidInput("image", f"dtype {dtype}", "must be uint8, uint16, float or bool")
    if src.ndim == 3 and src.shape[2] > 4:  # remap handles at most 4 channels
        out = np.stack([cv2.remap(np.ascontiguousarray(src[..., c]), where, None, mode, borderMode=cv2.BORDER_REPLICATE)
                        for c in range(src.shape[2])], axis=-1)
    else:
        out = cv2.remap(src, where, None, mode, borderMode=cv2.BORDER_REPLICATE)
        if src.ndim == 3 and out.ndim == 2:
            out = out[..., None]
    return out.astype(dtype, copy=False)


def fb_consistency(fwd: np.ndarray, bwd: np.ndarray, *, alpha: float = FB_ALPHA, beta: float = FB_BETA,
                   out_of_frame: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Forward-backward consistency check (Sundaram et al. 2010) on the first image's grid.

    For each pixel ``x`` of the first image, ``b = bwd(x + fwd(x))`` (bilinear) and the pixel is
    occluded when ``|fwd + b|^2 > alpha (|fwd|^2 + |b|^2) + beta``; with ``out_of_frame``, also
    when ``x + fwd(x)`` falls outside the image. Swap the arguments for the occlusion of the
    second image (the background a moving object uncovers).

    Args:
        fwd: ``(h, w, 2)`` flow first -> second image (pixels).
        bwd: ``(h, w, 2)`` flow second -> first image (pixels, same grid size).
        alpha: relative slack (default 0.01, the paper's).
        beta: absolute slack in squared pixels (default 0.5, the paper's). Both assume flow in
            pixels of the image it was computed on; rescale ``beta`` by ``s**2`` for flow
            resized by ``s``.
        out_of_frame: treat points that leave the image as occluded.

    Returns:
        ``(occlusion, error)``: ``(h, w)`` bool, and ``(h, w)`` float32 round-trip error
        ``|fwd(x) + bwd(x + fwd(x))|`` in pixels.

    Example:
        >>> f = np.zeros((4, 5, 2), np.float32); f[..., 0] = 1
        >>> occ, err = fb_consistency(f, -f)
        >>> bool(occ[:, -1].all()), bool(occ[:, :-1].any()), float(err.max())
        (True, False, 0.0)
    """
    fwd = _check_flow(fwd, "fwd")
    bwd = _check_flow(bwd, "bwd")
    if bwd.shape != fwd.shape:
        raise InvalidInput("bwd", f"shape {bwd.shape}", f"must match `fwd` {fwd.shape}")
    if not (alpha >= 0 and beta >= 0):
        raise InvalidInput("alpha/beta", (alpha, beta), "must be >= 0")
    where = _sample_map(fwd)
    b = cv2.remap(bwd, where, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    s = fwd + b
    s *= s
    err2 = s[..., 0] + s[..., 1]
    q = fwd * fwd
    q += b * b
    limit = q[..., 0] + q[..., 1]
    limit *= np.float32(alpha)
    limit += np.float32(beta)
    occlusion = err2 > limit
    if out_of_frame:
        h, w = fwd.shape[:2]
        occlusion |= cv2.inRange(where, (0.0, 0.0), (w - 1.0, h - 1.0)) == 0
    return occlusion, cv2.sqrt(err2)


def flow_confidence(error: np.ndarray, *, scale: float = 1.0, occlusion: np.ndarray | None = None) -> np.ndarray:
    """Per-pixel confidence from the forward-backward error: ``exp(-(error / scale)^2)``.

    A round trip that closes exactly gives 1, ``scale`` pixels off gives 0.37, twice that 0.02;
    occluded pixels (when ``occlusion`` is given) get 0.

    Args:
        error: ``(h, w)`` float round-trip error in pixels (from :func:`fb_consistency`), >= 0.
        scale: pixels of error at which confidence is ``1/e`` (> 0).
        occlusion: optional ``(h, w)`` bool mask forced to 0.

    Returns:
        ``(h, w)`` float32 in [0, 1].

    Example:
        >>> [round(c, 2) for c in flow_confidence(np.array([[0.0, 1.0]], np.float32))[0].tolist()]
        [1.0, 0.37]
    """
    if not isinstance(error, np.ndarray) or error.ndim != 2 or error.dtype.kind != "f":
        raise InvalidInput("error", f"{type(error).__name__} {getattr(error, 'shape', '')}", "must be an (h, w) float array")
    if not scale > 0:
        raise InvalidInput("scale", scale, "must be > 0 pixels")
    e = error.astype(np.float32) / np.float32(scale)
    conf = cv2.exp(-(e * e))
    if occlusion is not None:
        if not isinstance(occlusion, np.ndarray) or occlusion.shape != error.shape:
            raise InvalidInput("occlusion", f"shape {getattr(occlusion, 'shape', None)}", f"must be a bool mask of shape {error.shape}")
        conf[occlusion.astype(bool)] = 0.0
    return conf.astype(np.float32, copy=False)


# -- scale and display -------------------------------------------------------------------
def resize_flow(flow: np.ndarray, h: int, w: int) -> np.ndarray:
    """Resize a flow field to ``(h, w)`` and scale its vectors to the new pixel size.

    Area averaging when shrinking, bilinear when enlarging; ``dx`` is multiplied by
    ``w / W`` and ``dy`` by ``h / H``.

    Args:
        flow: ``(H, W, 2)`` float flow in pixels of the ``(H, W)`` grid.
        h: target rows (>= 1).
        w: target columns (>= 1).

    Returns:
        ``(h, w, 2)`` float32 flow in pixels of the ``(h, w)`` grid.

    Example:
        >>> resize_flow(np.ones((4, 8, 2), np.float32), 2, 4)[0, 0].tolist()
        [0.5, 0.5]
    """
    flow = _check_flow(flow, "flow")
    for name, v in (("h", h), ("w", w)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise InvalidInput(name, v, "must be a positive integer")
    H, W = flow.shape[:2]
    if (H, W) == (h, w):
        return flow.copy()
    interp = cv2.INTER_AREA if h <= H and w <= W else cv2.INTER_LINEAR
    out = cv2.resize(flow, (int(w), int(h)), interpolation=interp)
    out[..., 0] *= w / W
    out[..., 1] *= h / H
    return out


def _colour_wheel() -> np.ndarray:
    """The Middlebury colour wheel (Baker et al. 2011): 55 RGB hues, float in [0, 1]."""
    ry, yg, gc, cb, bm, mr = 15, 6, 4, 11, 13, 6
    ramps = []
    for n, start, end in ((ry, (1, 0, 0), (1, 1, 0)), (yg, (1, 1, 0), (0, 1, 0)), (gc, (0, 1, 0), (0, 1, 1)),
                          (cb, (0, 1, 1), (0, 0, 1)), (bm, (0, 0, 1), (1, 0, 1)), (mr, (1, 0, 1), (1, 0, 0))):
        t = np.arange(n, dtype=np.float32)[:, None] / n
        ramps.append(np.float32(start) * (1 - t) + np.float32(end) * t)
    return np.concatenate(ramps).astype(np.float32)


_WHEEL = _colour_wheel()


def flow_to_rgb(flow: np.ndarray, *, max_mag: float | None = None) -> np.ndarray:
    """Colour-code a flow field with the Middlebury colour wheel (Baker et al. 2011).

    Hue is the direction (right = red, down = yellow-green... as on the Middlebury charts),
    saturation the magnitude relative to ``max_mag`` (white = no motion). Vectors longer than
    ``max_mag`` are drawn darker (x 0.75), as the reference code does.

    Args:
        flow: ``(h, w, 2)`` float flow in pixels.
        max_mag: magnitude shown at full saturation (> 0); default the largest in ``flow``
            (1 when the flow is all zero).

    Returns:
        ``(h, w, 3)`` uint8 RGB.

    Example:
        >>> flow_to_rgb(np.zeros((1, 2, 2), np.float32)).tolist()
        [[[255, 255, 255], [255, 255, 255]]]
    """
    flow = _check_flow(flow, "flow")
    u, v = flow[..., 0], flow[..., 1]
    bad = ~(np.isfinite(u) & np.isfinite(v))
    u, v = np.where(bad, 0, u), np.where(bad, 0, v)
    mag = np.sqrt(u * u + v * v)
    if max_mag is None:
        max_mag = float(mag.max()) or 1.0
    elif not max_mag > 0:
        raise InvalidInput("max_mag", max_mag, "must be > 0 pixels")
    rad = mag / np.float32(max_mag)
    n = len(_WHEEL)
    fk = (np.arctan2(-v, -u) / np.pi + 1) / 2 * (n - 1)
    k0 = np.floor(fk).astype(np.int32)
    k1 = (k0 + 1) % n
    f = (fk - k0)[..., None]
    col = (1 - f) * _WHEEL[k0] + f * _WHEEL[k1]
    r = rad[..., None]
    col = np.where(r <= 1, 1 - r * (1 - col), col * 0.75)
    col[bad] = 0
    return np.round(np.clip(col, 0, 1) * 255).astype(np.uint8)
