"""Temporal coherence as pure array functions: warp error, flow-guided filter, occlusion-aware blend.

**Warp error** (Lai et al., ECCV 2018, "Learning Blind Video Temporal Consistency"): how much a
video changes along the motion of its content. For frames ``O_{t-1}``, ``O_t``::

    E_warp(t) = sum_{x in M_t} || O_t(x) - O_{t-1}(x + b_t(x)) ||^2  /  |M_t|

with ``b_t`` the **backward** flow (frame ``t`` -> frame ``t-1``, on frame ``t``'s grid, so
``O_{t-1}(x + b_t(x))`` is the previous frame brought onto frame ``t`` by a backward warp) and
``M_t`` the pixels of frame ``t`` **visible in frame t-1** (not disoccluded:
:func:`disocclusion` = the forward-backward check of frame ``t`` against ``t-1``). The clip's
value is the mean over pairs. Pixels are RGB in [0, 1]; ``||.||^2`` sums the three channels (Lai
et al.'s reference code divides by the channel count as well, so its numbers are a third of
ours; ratios are the same). Flow and mask are computed **on the source** and used for the
output too, so the output/source ratio compares the two videos along the same motion: a ratio
near 1 means the edit adds no flicker of its own. On the reworld flow track these are
``backward[t-1]`` and ``disocclusion(forward[t-1], backward[t-1])`` (stored grid, resized here).

**Temporal filter**: a flow-guided exponential moving average (the recurrent blend of Lai et al.
and of Bonneel et al. 2015's "blind" consistency, without their learned or gradient-domain
parts): ``out_t = (1 - w) f_t + w warp(out_{t-1}, b_t)`` with ``w = strength x confidence``,
zero where the flow is occluded, optionally gated by how different the two are (a change larger
than ``tolerance`` is taken as real content, not flicker).

**Bidirectional blend**: an in-between frame from a previous and a next keyframe, each warped
onto it, weighted by temporal distance x per-pixel validity, with a fill image where neither
sees the pixel (Rerender-A-Video's and EbSynth's keyframe blending, simplified).

Example:
    >>> rng = np.random.default_rng(0)
    >>> a = rng.random((16, 20, 3)).astype(np.float32)
    >>> b = np.roll(a, 1, axis=1)                       # content moves 1 px right
    >>> bwd = np.zeros((16, 20, 2), np.float32); bwd[..., 0] = -1   # b -> a
    >>> occ = np.zeros((16, 20), bool); occ[:, 0] = True          # column 0 is new in b
    >>> warp_error(a, b, bwd, occ)
    0.0
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from reworld.errors import InvalidInput
from reworld.ops.dtype import to_float01
from reworld.ops.flow import FB_BETA, fb_consistency, flow_confidence, resize_flow, warp
from reworld.ops.flow import _grid as _pixel_grid

__all__ = [
    "WarpErrorMeter",
    "bidirectional_blend",
    "confidence_from_flow",
    "disocclusion",
    "feather",
    "fit_flow",
    "fit_mask",
    "temporal_filter",
    "warp_error",
]


# -- helpers ---------------------------------------------------------------------------------
def _image(x: np.ndarray, arg: str) -> np.ndarray:
    if not isinstance(x, np.ndarray) or x.ndim != 3 or x.shape[2] != 3 or x.size == 0:
        raise InvalidInput(arg, f"{type(x).__name__} {getattr(x, 'shape', '')}", "must be an (H, W, 3) RGB image")
    return to_float01(x, arg=arg)


def fit_flow(flow: np.ndarray, size: tuple[int, int], *, arg: str = "flow") -> np.ndarray:
    """A flow field on the ``size`` grid: resized (vectors rescaled) when stored smaller.

    Args:
        flow: ``(h, w, 2)`` float (float16 from the track is fine) ``(dx, dy)`` in pixels of its grid.
        size: ``(H, W)`` target grid.
        arg: argument name for error messages.

    Returns:
        ``(H, W, 2)`` float32 in pixels of the target grid (``flow`` itself when it already is
        float32 at that size: do not modify the result in place).

    Example:
        >>> fit_flow(np.ones((2, 4, 2), np.float16), (4, 8))[0, 0].tolist()
        [2.0, 2.0]
    """
    if not isinstance(flow, np.ndarray) or flow.ndim != 3 or flow.shape[2] != 2 or flow.dtype.kind != "f":
        raise InvalidInput(arg, f"{type(flow).__name__} {getattr(flow, 'shape', '')}", "must be an (h, w, 2) float flow field")
    flow = np.asarray(flow, np.float32)
    if flow.shape[:2] == tuple(size):
        return flow
    return resize_flow(flow, int(size[0]), int(size[1]))


def fit_mask(mask: np.ndarray, size: tuple[int, int], *, arg: str = "mask") -> np.ndarray:
    """A bool mask on the ``size`` grid (nearest neighbour when the sizes differ).

    Example:
        >>> int(fit_mask(np.eye(2, dtype=bool), (4, 4)).sum())
        8
    """
    if not isinstance(mask, np.ndarray) or mask.ndim != 2:
        raise InvalidInput(arg, f"{type(mask).__name__} {getattr(mask, 'shape', '')}", "must be an (h, w) mask")
    m = np.asarray(mask).astype(bool, copy=False)
    if m.shape == tuple(size):
        return m
    return cv2.resize(m.astype(np.uint8), (int(size[1]), int(size[0])), interpolation=cv2.INTER_NEAREST).astype(bool)


def disocclusion(forward: np.ndarray, backward: np.ndarray, *, beta: float = FB_BETA) -> np.ndarray:
    """Pixels of the **second** frame not visible in the first (what motion uncovers or brings in).

    The Sundaram et al. (2010) forward-backward check run from the second frame:
    ``fb_consistency(backward, forward)`` of :mod:`reworld.ops.flow`, points leaving the frame
    included. This is the mask ``1 - M_t`` of the warp error and the validity step of a
    propagation along backward flow.

    Args:
        forward: ``(h, w, 2)`` flow frame t -> t+1 (float16 or float32, pixels of its grid).
        backward: ``(h, w, 2)`` flow frame t+1 -> t, same grid.
        beta: absolute slack in squared pixels of this grid (the flow track checks at the
            analysis size with 0.5: on its stored grid use ``0.5 / to_analysis**2``).

    Returns:
        ``(h, w)`` bool on frame t+1's grid.

    Example:
        >>> f = np.zeros((3, 4, 2), np.float32); f[..., 0] = 1
        >>> disocclusion(f, -f)[0].tolist()   # column 0 of the second frame came from outside
        [True, False, False, False]
    """
    occ, _ = fb_consistency(np.asarray(backward, np.float32), np.asarray(forward, np.float32), beta=beta)
    return occ


# -- warp error ------------------------------------------------------------------------------
def warp_error(prev: np.ndarray, cur: np.ndarray, backward_flow: np.ndarray, occlusion: np.ndarray | None = None) -> float:
    """Warp error of one pair (Lai et al. 2018; see the module doc for the exact definition).

    Args:
        prev: frame ``t-1``, ``(H, W, 3)`` uint8 or float in [0, 1].
        cur: frame ``t``, same shape.
        backward_flow: ``(h, w, 2)`` flow frame ``t`` -> ``t-1`` on frame ``t``'s grid, pixels of
            its grid; resized to ``(H, W)`` when smaller (:func:`fit_flow`).
        occlusion: ``(h, w)`` bool, pixels of frame ``t`` **not** visible in frame ``t-1``
            (excluded); None counts every pixel.

    Returns:
        Mean over visible pixels of the squared RGB distance (sum over channels), in [0, 3];
        NaN when no pixel is visible.

    Example:
        >>> a = np.zeros((4, 4, 3), np.float32); b = a + 0.1
        >>> round(warp_error(a, b, np.zeros((4, 4, 2), np.float32)), 6)
        0.03
    """
    p = _image(prev, "prev")
    c = _image(cur, "cur")
    if p.shape != c.shape:
        raise InvalidInput("cur", f"shape {cur.shape}", f"must match `prev` {prev.shape}")
    size = c.shape[:2]
    flow = fit_flow(backward_flow, size, arg="backward_flow")
    d = c - warp(p, flow)
    e = np.einsum("ijk,ijk->ij", d, d)
    if occlusion is None:
        return float(e.mean(dtype=np.float64))
    visible = ~fit_mask(occlusion, size, arg="occlusion")
    n = int(visible.sum())
    return float(e[visible].sum(dtype=np.float64) / n) if n else math.nan


class WarpErrorMeter:
    """Streaming warp error of a clip: feed consecutive pairs, read the mean (holds no frames).

    Args:
        size: ``(h, w)`` to measure at (frames are area-resized to it, flow and mask resized);
            None measures at the frames' own size. Measure the output and the source at the
            same size, with the same flow and mask, for a meaningful ratio.

    Example:
        >>> m = WarpErrorMeter()
        >>> a = np.zeros((4, 4, 3), np.float32)
        >>> m.update(a, a + 0.1, np.zeros((4, 4, 2), np.float32), np.zeros((4, 4), bool)) > 0
        True
        >>> m.count, round(m.value, 6)
        (1, 0.03)
    """

    def __init__(self, size: tuple[int, int] | None = None) -> None:
        if size is not None and (len(size) != 2 or min(size) < 1):
            raise InvalidInput("size", size, "must be (h, w) with positive sides, or None")
        self.size = None if size is None else (int(size[0]), int(size[1]))
        self._sum = 0.0
        self.count = 0
        self.skipped = 0

    def _resize(self, frame: np.ndarray, arg: str) -> np.ndarray:
        f = _image(frame, arg)
        if self.size is None or f.shape[:2] == self.size:
            return f
        return cv2.resize(f, (self.size[1], self.size[0]), interpolation=cv2.INTER_AREA)

    def update(self, prev: np.ndarray, cur: np.ndarray, backward_flow: np.ndarray,
               occlusion: np.ndarray | None = None) -> float:
        """Add the pair (``prev`` = frame t-1, ``cur`` = frame t); returns its warp error.

        ``backward_flow`` is frame t -> t-1 and ``occlusion`` the pixels of frame t not visible
        in t-1 (:func:`warp_error`). Pairs with no visible pixel are counted in ``skipped``.
        """
        e = warp_error(self._resize(prev, "prev"), self._resize(cur, "cur"), backward_flow, occlusion)
        if math.isnan(e):
            self.skipped += 1
        else:
            self._sum += e
            self.count += 1
        return e

    @property
    def value(self) -> float:
        """Mean warp error over the pairs seen (NaN before the first)."""
        return self._sum / self.count if self.count else math.nan

    def ratio(self, reference: WarpErrorMeter) -> float:
        """``self.value / reference.value`` (e.g. output over source); NaN when undefined."""
        r = reference.value
        return self.value / r if r and not math.isnan(r) else math.nan


# -- temporal filter -------------------------------------------------------------------------
def temporal_filter(frame: np.ndarray, previous: np.ndarray, backward_flow: np.ndarray, *,
                    strength: float | np.ndarray = 0.5, confidence: np.ndarray | None = None,
                    tolerance: float | None = None) -> np.ndarray:
    """Blend ``frame`` with the previous (filtered) output warped onto it along the flow.

    ``out = (1 - w) frame + w warp(previous, backward_flow)`` with
    ``w = strength x confidence x exp(-(d / tolerance)^2)``, ``d`` the largest per-channel
    difference between the two at that pixel (the gate is off when ``tolerance`` is None).
    Feeding each output back as the next ``previous`` makes a recursive (exponential) filter
    along motion trajectories; it resets itself wherever ``confidence`` is 0 (occlusions, cuts).
    uint8 frames are blended in uint8 by OpenCV (about 10 ms at 720p on 2 cores).

    Args:
        frame: ``(H, W, 3)`` the new output, uint8 or float in [0, 1].
        previous: ``(H, W, 3)`` the previous output (already filtered), same size and dtype kind.
        backward_flow: ``(h, w, 2)`` flow frame t -> t-1 (resized to ``(H, W)`` if smaller).
        strength: weight of the past in [0, 1), scalar or ``(h, w)`` float array (resized).
        confidence: optional ``(h, w)`` float in [0, 1] (e.g. :func:`confidence_from_flow`),
            resized bilinearly.
        tolerance: channel difference (0-1) at which the blend falls to 1/e; None: no gate.

    Returns:
        ``(H, W, 3)``: uint8 for uint8 ``frame``, else float32 in [0, 1].

    Example:
        >>> f = np.full((2, 2, 3), 1.0, np.float32); p = np.zeros_like(f)
        >>> float(temporal_filter(f, p, np.zeros((2, 2, 2), np.float32), strength=0.25)[0, 0, 0])
        0.75
    """
    is_u8 = isinstance(frame, np.ndarray) and frame.dtype == np.uint8
    if is_u8:
        if not (frame.ndim == 3 and frame.shape[2] == 3):
            raise InvalidInput("frame", f"shape {frame.shape}", "must be an (H, W, 3) RGB image")
        f = frame
        p = previous if isinstance(previous, np.ndarray) and previous.dtype == np.uint8 else None
        if p is None:
            raise InvalidInput("previous", getattr(previous, "dtype", type(previous).__name__), "must be uint8 like `frame`")
    else:
        f = _image(frame, "frame")
        p = _image(previous, "previous")
    if p.shape != f.shape:
        raise InvalidInput("previous", f"shape {previous.shape}", f"must match `frame` {frame.shape}")
    size = f.shape[:2]

    def plane(x: np.ndarray | float, arg: str) -> np.ndarray:
        a = np.asarray(x, np.float32)
        if a.ndim == 0:
            return a
        if a.ndim != 2:
            raise InvalidInput(arg, f"shape {a.shape}", "must be a scalar or an (h, w) float array")
        return a if a.shape == size else cv2.resize(a, (size[1], size[0]), interpolation=cv2.INTER_LINEAR)

    w = plane(strength, "strength")
    if not (np.all(w >= 0) and np.all(w < 1)):
        raise InvalidInput("strength", strength if w.ndim == 0 else "an array", "must be in [0, 1)")
    if tolerance is not None and not tolerance > 0:
        raise InvalidInput("tolerance", tolerance, "must be > 0 or None")
    if confidence is not None:
        w = w * plane(confidence, "confidence")
    if w.ndim == 0:
        w = np.full(size, w, np.float32)
    out = f.copy()
    # work only inside the box where the weight is not 0 (often a small revealed area)
    x, y, bw, bh = cv2.boundingRect((w > 0).view(np.uint8) if w.dtype == np.bool_ else (w > 0).astype(np.uint8))
    if bw == 0 or bh == 0:
        return out
    box = (slice(y, y + bh), slice(x, x + bw))
    flow = np.asarray(backward_flow, np.float32) if isinstance(backward_flow, np.ndarray) else backward_flow
    where = cv2.add(fit_flow(flow, size, arg="backward_flow")[box], _pixel_grid(*size)[box])
    warped = cv2.remap(p, where, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    fb, wb = np.ascontiguousarray(f[box]), np.ascontiguousarray(w[box], np.float32)
    if tolerance is not None:
        c0, c1, c2 = cv2.split(cv2.absdiff(fb, warped))
        d = cv2.max(cv2.max(c0, c1), c2)
        if is_u8:
            table = np.exp(-((np.arange(256, dtype=np.float32) / 255.0) / tolerance) ** 2).astype(np.float32)
            wb = cv2.multiply(wb, cv2.LUT(d, table))
        else:
            d = d * np.float32(1.0 / tolerance)
            wb = wb * cv2.exp(-(d * d))
    if is_u8:
        out[box] = cv2.blendLinear(fb, warped, np.float32(1.0) - wb, wb)
    else:
        out[box] = fb + (warped - fb) * wb[..., None]
    return out


# -- blending ----------------------------------------------------------------------------------
def feather(mask: np.ndarray, radius: float) -> np.ndarray:
    """A soft version of ``mask`` whose transition lies **inside** it (eroded, then blurred).

    Pixels outside the mask stay 0, so nothing of what the mask excludes leaks in; pixels
    deeper than ~``radius`` inside it are 1.

    Args:
        mask: ``(h, w)`` bool or float in [0, 1] (thresholded at 0.5).
        radius: width of the ramp in pixels (0: the mask as float).

    Returns:
        ``(h, w)`` float32 in [0, 1].

    Example:
        >>> m = np.zeros((1, 9), bool); m[0, 2:] = True
        >>> [round(v, 2) for v in feather(m, 2)[0].tolist()]
        [0.0, 0.0, 0.06, 0.3, 0.7, 0.94, 1.0, 1.0, 1.0]
    """
    if not isinstance(mask, np.ndarray) or mask.ndim != 2:
        raise InvalidInput("mask", f"{type(mask).__name__} {getattr(mask, 'shape', '')}", "must be an (h, w) mask")
    if not radius >= 0:
        raise InvalidInput("radius", radius, "must be >= 0 pixels")
    m = (np.asarray(mask, np.float32) >= 0.5).astype(np.float32) if mask.dtype != np.bool_ else mask.astype(np.float32)
    if radius == 0:
        return m
    r = math.ceil(radius)
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    eroded = cv2.erode(m, k, borderType=cv2.BORDER_REPLICATE)
    soft = cv2.GaussianBlur(eroded, (0, 0), radius / 2.0, borderType=cv2.BORDER_REPLICATE)
    return np.minimum(soft, m)


def bidirectional_blend(prev: np.ndarray | None, prev_valid: np.ndarray | None,
                        next: np.ndarray | None, next_valid: np.ndarray | None,
                        position: float, *, fill: np.ndarray | None = None) -> np.ndarray:
    """Occlusion-aware blend of two keyframes warped onto an in-between frame.

    With ``t = position`` (0 at the previous keyframe, 1 at the next), weights
    ``wp = (1 - t) vp`` and ``wn = t vn``; the warped part is ``(wp P + wn N) / (wp + wn)`` and
    covers ``c = 1 - (1 - vp)(1 - vn)`` of each pixel, the rest coming from ``fill``::

        out = c (wp P + wn N) / (wp + wn) + (1 - c) fill

    so a pixel seen by one keyframe only takes it whatever ``t``, and one seen by neither takes
    the fill. Either side may be None (one-sided propagation).

    Args:
        prev, next: ``(H, W, 3)`` float32 in [0, 1], keyframes warped onto this frame (or None).
        prev_valid, next_valid: ``(H, W)`` float32 validity in [0, 1] (soft, e.g. :func:`feather`).
        position: ``t`` in [0, 1].
        fill: ``(H, W, 3)`` float32 for pixels seen by neither; None: 0 (black).

    Returns:
        ``(H, W, 3)`` float32.

    Example:
        >>> P, N = np.zeros((1, 2, 3), np.float32), np.ones((1, 2, 3), np.float32)
        >>> v = np.ones((1, 2), np.float32)
        >>> bidirectional_blend(P, v, N, v * [[1, 0]], 0.25)[0, :, 0].tolist()
        [0.25, 0.0]
    """
    if not 0.0 <= position <= 1.0:
        raise InvalidInput("position", position, "must be in [0, 1]")
    sides = []
    for img, valid, tw, name in ((prev, prev_valid, 1.0 - position, "prev"), (next, next_valid, position, "next")):
        if img is None:
            continue
        if valid is None or valid.shape != img.shape[:2]:
            raise InvalidInput(f"{name}_valid", getattr(valid, "shape", None), f"must be an (H, W) array matching `{name}`")
        sides.append((np.asarray(img, np.float32), np.asarray(valid, np.float32), np.float32(tw)))
    if not sides:
        if fill is None:
            raise InvalidInput("prev/next", None, "at least one keyframe or a fill is needed")
        return np.asarray(fill, np.float32).copy()
    shape = sides[0][0].shape
    if len(sides) == 2:
        (a, va, ta), (b, vb, tb) = sides
        wa, wb = va * ta, vb * tb
        total = wa + wb
        mix = np.where(total > 1e-6, wb / np.maximum(total, 1e-6), np.float32(tb))
        warped = a + (b - a) * mix[..., None]
        cover = 1.0 - (1.0 - va) * (1.0 - vb)
    else:
        warped, cover, _ = sides[0]
    if fill is None:
        return warped * cover[..., None]
    fill = np.asarray(fill, np.float32)
    if fill.shape != shape:
        raise InvalidInput("fill", f"shape {fill.shape}", f"must match the keyframes {shape}")
    return fill + (warped - fill) * cover[..., None]


def confidence_from_flow(forward: np.ndarray, backward: np.ndarray, *, beta: float = FB_BETA, scale: float = 1.0) -> np.ndarray:
    """Confidence of the backward warp of frame t+1 onto t: ``flow_confidence`` of the
    forward-backward round trip from the second frame, 0 where disoccluded.

    Example:
        >>> f = np.zeros((2, 3, 2), np.float32)
        >>> float(confidence_from_flow(f, f).min())
        1.0
    """
    occ, err = fb_consistency(np.asarray(backward, np.float32), np.asarray(forward, np.float32), beta=beta)
    return flow_confidence(err, scale=scale, occlusion=occ)

