"""Edit propagation as pure array functions: keyframes, dense correspondence, guide transfer.

The open video restylers (Rerender-A-Video, FRESCO, TokenFlow, EbSynth workflows) stylise a
few keyframes and carry them to the other frames along optical flow. The pieces here:

- :func:`select_keyframes`: a keyframe at every cut, then whenever what changed since the last
  keyframe (newly disoccluded area, or accumulated motion) passes a threshold, within a minimum
  and maximum gap. Deterministic.
- **Dense correspondence** by chaining flow: a map ``coords_t`` gives, for every pixel of frame
  ``t``, where it is in the anchor (key) frame ``k``, built one pair at a time,
  ``coords_t(x) = coords_{t-1}(x + b_t(x))`` with ``b_t`` the flow t -> t-1
  (:func:`chain_coords`); its validity is chained the same way and cleared wherever frame ``t``
  shows something frame ``t-1`` did not (:func:`chain_visibility`). The keyframe is then sampled
  **once** (:func:`sample_image`), so repeated warping never blurs it; maps live on the small
  flow grid and are upsampled to full resolution only to sample (:func:`upsample_coords`).
- **Guide transfer**: a model of "source colour -> edited colour" fitted on a (source, edit)
  pair and applied to other source pixels (what is revealed later), so uncovered areas get the
  look without a seam or flicker. It is the affine colour model of the guided filter (He et al.
  2010) and of local colour transfer, held in a bilateral grid as in Chen et al. 2016 ("Bilateral
  Guided Upsampling") and HDRNet: the frame is cut into cells in x, y and source luma, each cell
  holds a 3x4 affine colour matrix fitted by weighted least squares, regularised towards the
  luma-only model and that towards the global one (so a cell with no data falls back smoothly),
  and applied with trilinear interpolation of the matrices. The sufficient statistics
  (:class:`GuideStats`) add up, so a model can be refreshed from newer frames.

Example:
    >>> select_keyframes(10, cuts=[6], max_gap=4)
    [0, 4, 6]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import cv2
import numpy as np
from scipy import sparse

from reworld.errors import InvalidInput
from reworld.ops.dtype import to_float01
from reworld.ops.flow import PRESETS, _grid, to_luma

__all__ = [
    "CorrespondenceRefiner",
    "GuideModel",
    "GuideStats",
    "apply_guide",
    "blend_guides",
    "chain_coords",
    "chain_visibility",
    "extrapolate_coords",
    "guide_stats",
    "identity_coords",
    "photometric_confidence",
    "sample_image",
    "select_keyframes",
    "solve_guide",
    "upsample_coords",
]

#: Rec. 709 luma weights: the guide's third axis
_LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)


# -- keyframes -----------------------------------------------------------------------------------
def _check_int(value: object, arg: str, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
        raise InvalidInput(arg, value, f"must be an integer >= {lo}")
    return int(value)


def select_keyframes(n_frames: int, *, cuts: Sequence[int] = (), disocclusion: Sequence[float] | np.ndarray | None = None,
                     motion: Sequence[float] | np.ndarray | None = None, max_disocclusion: float = 0.15,
                     max_motion: float = math.inf, min_gap: int = 4, max_gap: int = 30) -> list[int]:
    """Keyframe indices chosen from cuts, disocclusion and motion.

    Frame 0 and every cut are keyframes. Between them, the per-pair quantities are summed from
    the last keyframe on; frame ``t`` becomes a keyframe when ``t - last >= max_gap``, or when
    ``t - last >= min_gap`` and the sum of ``disocclusion`` passes ``max_disocclusion`` or the
    sum of ``motion`` passes ``max_motion``. The sum of per-pair disoccluded fractions bounds the
    area revealed since the keyframe from above (an area revealed twice counts twice), so it
    errs towards more keyframes.

    Args:
        n_frames: clip length ``T`` (>= 1).
        cuts: first frames of new scenes (each in ``1..T-1``; order and duplicates do not matter).
        disocclusion: ``(T-1,)`` fraction of frame ``i+1``'s pixels not visible in frame ``i``
            (:func:`reworld.ops.temporal.disocclusion`), in [0, 1]; None: not used.
        motion: ``(T-1,)`` motion of pair ``i`` (e.g. median ``|flow|`` in pixels), >= 0;
            None: not used.
        max_disocclusion: threshold on the summed disocclusion (default 0.15 = 15 % of the frame).
        max_motion: threshold on the summed motion, same unit as ``motion`` (default: off).
        min_gap: least frames between two keyframes chosen by motion (cuts ignore it), >= 1.
        max_gap: most frames between two keyframes, >= ``min_gap``.

    Returns:
        Sorted list of distinct frame indices, starting with 0.

    Example:
        >>> select_keyframes(12, disocclusion=[0.04] * 11, min_gap=2)
        [0, 4, 8]
    """
    n = _check_int(n_frames, "n_frames", 1)
    min_gap = _check_int(min_gap, "min_gap", 1)
    max_gap = _check_int(max_gap, "max_gap", 1)
    if max_gap < min_gap:
        raise InvalidInput("max_gap", max_gap, f"must be >= `min_gap` ({min_gap})")
    if not max_disocclusion > 0:
        raise InvalidInput("max_disocclusion", max_disocclusion, "must be > 0")
    if not max_motion > 0:
        raise InvalidInput("max_motion", max_motion, "must be > 0")
    cut_set = set()
    for c in cuts:
        if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or not 0 < c < n:
            raise InvalidInput("cuts", c, f"must hold frame indices in 1..{n - 1}")
        cut_set.add(int(c))
    series = []
    for name, values in (("disocclusion", disocclusion), ("motion", motion)):
        if values is None:
            series.append(np.zeros(max(n - 1, 0)))
            continue
        a = np.asarray(values, np.float64)
        if a.shape != (max(n - 1, 0),) or not np.all(np.isfinite(a)) or (a.size and a.min() < 0):
            raise InvalidInput(name, f"array {a.shape}", f"must be {n - 1} finite values >= 0 (one per frame pair)")
        series.append(a)
    dis, mot = series
    keys = [0]
    acc_d = acc_m = 0.0
    for t in range(1, n):
        if t in cut_set:
            keys.append(t)
            acc_d = acc_m = 0.0
            continue
        acc_d += dis[t - 1]
        acc_m += mot[t - 1]
        gap = t - keys[-1]
        if gap >= max_gap or (gap >= min_gap and (acc_d > max_disocclusion or acc_m > max_motion)):
            keys.append(t)
            acc_d = acc_m = 0.0
    return keys


# -- dense correspondence ------------------------------------------------------------------------
def _check_map(coords: np.ndarray, arg: str) -> np.ndarray:
    if not isinstance(coords, np.ndarray) or coords.ndim != 3 or coords.shape[2] != 2 or coords.dtype.kind != "f":
        raise InvalidInput(arg, f"{type(coords).__name__} {getattr(coords, 'shape', '')}", "must be an (h, w, 2) float array")
    return np.ascontiguousarray(coords, dtype=np.float32)


def identity_coords(h: int, w: int) -> np.ndarray:
    """``(h, w, 2)`` float32 map of every pixel to itself, ``(x, y)`` (a new array).

    Example:
        >>> identity_coords(2, 3)[1, 2].tolist()
        [2.0, 1.0]
    """
    return _grid(_check_int(h, "h", 1), _check_int(w, "w", 1)).copy()


def chain_coords(coords: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Extend a correspondence map by one frame: ``out(x) = coords(x + flow(x))``.

    Args:
        coords: ``(h, w, 2)`` float32, for each pixel of frame ``s`` its position ``(x, y)`` in
            the anchor frame (anchor-grid pixels).
        flow: ``(h, w, 2)`` flow from the new frame ``t`` to frame ``s`` (the backward flow when
            ``t = s + 1``, the forward flow when ``t = s - 1``), on ``t``'s grid.

    Returns:
        ``(h, w, 2)`` float32: for each pixel of frame ``t`` its position in the anchor frame
        (bilinear; points leaving the grid repeat the border, mark them invalid with
        :func:`chain_visibility`).

    Example:
        >>> c = identity_coords(1, 4)
        >>> f = np.zeros((1, 4, 2), np.float32); f[..., 0] = -1
        >>> chain_coords(c, f)[0, :, 0].tolist()
        [0.0, 0.0, 1.0, 2.0]
    """
    coords = _check_map(coords, "coords")
    flow = _check_map(flow, "flow")
    if flow.shape != coords.shape:
        raise InvalidInput("flow", f"shape {flow.shape}", f"must match `coords` {coords.shape}")
    where = flow + _grid(*flow.shape[:2])
    return cv2.remap(coords, where, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def chain_visibility(visibility: np.ndarray, flow: np.ndarray, occluded: np.ndarray | None = None) -> np.ndarray:
    """Extend a validity mask by one frame: ``out(x) = visibility(x + flow(x)) and not occluded(x)``.

    Bilinear sampling thresholded at 0.5 (so masks do not erode by diffusion over long chains);
    points leaving the grid are invalid.

    Args:
        visibility: ``(h, w)`` bool, which pixels of frame ``s`` are validly mapped.
        flow: ``(h, w, 2)`` flow from frame ``t`` to frame ``s`` on ``t``'s grid.
        occluded: ``(h, w)`` bool, pixels of frame ``t`` not visible in frame ``s`` (e.g.
            :func:`reworld.ops.temporal.disocclusion`), or None.

    Returns:
        ``(h, w)`` bool.

    Example:
        >>> f = np.zeros((1, 4, 2), np.float32); f[..., 0] = -1
        >>> chain_visibility(np.ones((1, 4), bool), f).tolist()
        [[False, True, True, True]]
    """
    if not isinstance(visibility, np.ndarray) or visibility.ndim != 2:
        raise InvalidInput("visibility", getattr(visibility, "shape", None), "must be an (h, w) bool mask")
    flow = _check_map(flow, "flow")
    if flow.shape[:2] != visibility.shape:
        raise InvalidInput("flow", f"shape {flow.shape}", f"must be on the grid of `visibility` {visibility.shape}")
    where = flow + _grid(*flow.shape[:2])
    v = cv2.remap(visibility.astype(np.float32), where, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                  borderValue=0.0) >= 0.5
    h, w = visibility.shape
    v &= cv2.inRange(where, (-0.5, -0.5), (w - 0.5, h - 0.5)) > 0
    if occluded is not None:
        if not isinstance(occluded, np.ndarray) or occluded.shape != visibility.shape:
            raise InvalidInput("occluded", getattr(occluded, "shape", None), f"must be a bool mask of shape {visibility.shape}")
        v &= ~occluded.astype(bool)
    return v


def upsample_coords(coords: np.ndarray, size: tuple[int, int], anchor_size: tuple[int, int] | None = None) -> np.ndarray:
    """A correspondence map on the flow grid turned into a full-resolution sampling map.

    The displacement ``coords - x`` is resized like a flow field (:func:`reworld.ops.flow.resize_flow`:
    pixel centres aligned, vectors scaled) and added to the full-resolution grid.

    Args:
        coords: ``(h, w, 2)`` anchor positions in pixels of the ``(h, w)`` grid.
        size: ``(H, W)`` of the frame to sample for.
        anchor_size: ``(H, W)`` of the anchor image (default ``size``).

    Returns:
        ``(H, W, 2)`` float32 positions ``(x, y)`` in anchor pixels, for :func:`sample_image`.

    Example:
        >>> upsample_coords(identity_coords(2, 2), (4, 4))[3, 3].tolist()
        [3.0, 3.0]
    """
    coords = _check_map(coords, "coords")
    h, w = coords.shape[:2]
    H, W = int(size[0]), int(size[1])
    if anchor_size is not None and tuple(anchor_size) != (H, W):
        raise InvalidInput("anchor_size", anchor_size, f"must equal `size` {size} (a resized anchor is not supported)")
    if (h, w) == (H, W):
        return coords.copy()
    disp = cv2.subtract(coords, _grid(h, w))
    interp = cv2.INTER_AREA if H <= h and W <= w else cv2.INTER_LINEAR
    full = cv2.resize(disp, (W, H), interpolation=interp)
    full = cv2.multiply(full, (W / w, H / h, 0.0, 0.0))  # vectors in full-resolution pixels
    return cv2.add(full, _grid(H, W), dst=full)


def sample_image(image: np.ndarray, coords: np.ndarray, *, interpolation: str = "linear") -> np.ndarray:
    """Sample ``image`` at ``coords``: ``out[y, x] = image[coords[y, x, 1], coords[y, x, 0]]``.

    Args:
        image: ``(H, W)`` or ``(H, W, c)`` (c <= 4), uint8 or float32.
        coords: ``(H', W', 2)`` float32 positions ``(x, y)`` in ``image`` pixels.
        interpolation: ``"linear"`` or ``"cubic"``.

    Returns:
        ``(H', W', ...)`` of ``image``'s dtype; the border repeats outside.

    Example:
        >>> img = np.arange(4, dtype=np.float32).reshape(1, 4)
        >>> sample_image(img, np.array([[[1.5, 0.0]]], np.float32)).tolist()
        [[1.5]]
    """
    coords = _check_map(coords, "coords")
    if interpolation not in ("linear", "cubic"):
        raise InvalidInput("interpolation", interpolation, "must be 'linear' or 'cubic'")
    mode = cv2.INTER_LINEAR if interpolation == "linear" else cv2.INTER_CUBIC
    out = cv2.remap(np.ascontiguousarray(image), coords, None, mode, borderMode=cv2.BORDER_REPLICATE)
    if image.ndim == 3 and out.ndim == 2:
        out = out[..., None]
    return out


def photometric_confidence(a: np.ndarray, b: np.ndarray, *, tolerance: float = 0.08, blur: float = 1.0) -> np.ndarray:
    """How well two aligned images agree, per pixel: ``exp(-(d / tolerance)^2)``.

    ``d`` is the mean absolute RGB difference, Gaussian-blurred by ``blur`` pixels (so isolated
    noise does not count). Used to confirm a chained correspondence: the anchor's *source*
    sampled at the map should look like the current source frame where the map is right.

    Args:
        a, b: ``(h, w, 3)`` (or ``(h, w)``) uint8 or float in [0, 1], same shape.
        tolerance: difference (0-1) at which the confidence is ``1/e`` (> 0).
        blur: Gaussian sigma in pixels (0: none).

    Returns:
        ``(h, w)`` float32 in [0, 1].

    Example:
        >>> x = np.zeros((2, 2, 3), np.float32)
        >>> round(float(photometric_confidence(x, x + 0.08, blur=0)[0, 0]), 3)
        0.368
    """
    fa, fb = to_float01(a, arg="a"), to_float01(b, arg="b")
    if fa.shape != fb.shape:
        raise InvalidInput("b", f"shape {fb.shape}", f"must match `a` {fa.shape}")
    if not tolerance > 0:
        raise InvalidInput("tolerance", tolerance, "must be > 0")
    d = cv2.absdiff(fa, fb)
    if d.ndim == 3:
        d = d.mean(axis=2, dtype=np.float32)
    if blur > 0:
        d = cv2.GaussianBlur(d, (0, 0), blur, borderType=cv2.BORDER_REPLICATE)
    d *= np.float32(1.0 / tolerance)
    return cv2.exp(-(d * d))


def extrapolate_coords(coords: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Replace the displacement of invalid pixels by a smooth interpolation of the valid ones.

    A chained correspondence is garbage where the chain went through an occlusion; its
    surroundings still move like the scene, so their displacement (``coords - x``) is spread
    into the hole by normalised convolution over an image pyramid (each level fills what the
    finer one could not). A good starting point for :class:`CorrespondenceRefiner` there.

    Args:
        coords: ``(h, w, 2)`` float32 anchor positions.
        valid: ``(h, w)`` bool, pixels whose position is trusted (kept exactly).

    Returns:
        ``(h, w, 2)`` float32 (a new array); all-invalid input gives the identity map.

    Example:
        >>> c = identity_coords(4, 4); c[..., 0] += 2          # everything moved 2 px
        >>> v = np.ones((4, 4), bool); v[1:3, 1:3] = False
        >>> c[1:3, 1:3] = 0
        >>> extrapolate_coords(c, v)[1, 1].tolist()
        [3.0, 1.0]
    """
    coords = _check_map(coords, "coords")
    if not isinstance(valid, np.ndarray) or valid.shape != coords.shape[:2]:
        raise InvalidInput("valid", getattr(valid, "shape", None), f"must be a bool mask of shape {coords.shape[:2]}")
    h, w = coords.shape[:2]
    grid = _grid(h, w)
    if valid.all():
        return coords.copy()
    if not valid.any():
        return grid.copy()
    wgt = valid.astype(np.float32)
    disp = (coords - grid) * wgt[..., None]
    levels = [(disp, wgt)]
    while min(levels[-1][1].shape) > 2 and levels[-1][1].min() <= 0:
        d, m = levels[-1]
        levels.append((cv2.pyrDown(d), cv2.pyrDown(m)))
    d, m = levels[-1]
    filled = d / np.maximum(m, 1e-6)[..., None]
    if m.min() <= 1e-6:  # coarsest level still has holes: use the mean displacement there
        mean = d.reshape(-1, 2).sum(axis=0) / max(float(m.sum()), 1e-6)
        filled[m <= 1e-6] = mean
    for d, m in reversed(levels[:-1]):
        up = cv2.resize(filled, (m.shape[1], m.shape[0]), interpolation=cv2.INTER_LINEAR)
        own = d / np.maximum(m, 1e-6)[..., None]
        a = np.clip(m * 4.0, 0, 1)[..., None]  # trust this level where it has enough support
        filled = own * a + up * (1 - a)
    out = np.where(valid[..., None], coords - grid, filled) + grid
    return out.astype(np.float32)


class CorrespondenceRefiner:
    """Direct dense correspondence from a frame to an anchor frame, started from a guess.

    Chaining flow frame by frame drifts (each pair's small bias adds up: ~1-2 px over 3 s on
    the synthetic test of docs/propagation.md) and leaves garbage behind occlusions. This runs
    DIS (Kroeger et al. 2016, as :mod:`reworld.ops.flow`) **from the current frame to the anchor**
    with the chained correspondence as the initial flow, so the result is a direct match to the
    anchor (no accumulation) found near the chained guess (so large motions still work).

    Args:
        preset: a :data:`reworld.ops.flow.PRESETS` name, or ``"fine"``: DIS at the grid's own
            resolution (finest scale 0, no variational refinement) — 2-3x the cost of "medium"
            and about twice as accurate on the small flow grid.

    Example:
        >>> r = CorrespondenceRefiner("fast")
        >>> a = cv2.GaussianBlur(np.random.default_rng(0).random((64, 96)).astype(np.float32), (0, 0), 2)
        >>> r(a, a, identity_coords(64, 96)).shape
        (64, 96, 2)
    """

    #: DIS settings by name: the flow presets plus "fine" (finest scale 0)
    SETTINGS: Mapping[str, tuple[int, int, int, int, int]] = MappingProxyType(dict(PRESETS, fine=(0, 8, 4, 12, 0)))

    def __init__(self, preset: str = "medium") -> None:
        if preset not in self.SETTINGS:
            raise InvalidInput("preset", preset, f"must be one of {', '.join(self.SETTINGS)}")
        self.preset = preset
        finest, patch, stride, iters, var_iters = self.SETTINGS[preset]
        self._dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        self._dis.setFinestScale(finest)
        self._dis.setPatchSize(patch)
        self._dis.setPatchStride(stride)
        self._dis.setGradientDescentIterations(iters)
        self._dis.setVariationalRefinementIterations(var_iters)
        # the smallest image this DIS handles (see reworld.ops.flow.FlowEstimator): pad below it
        self._min_side = patch * 2 ** finest
        self._min_long = math.ceil(4 * patch * 2 ** (finest - 0.5)) + 1

    def __call__(self, frame: np.ndarray, anchor: np.ndarray, coords: np.ndarray) -> np.ndarray:
        """Correspondence ``frame -> anchor`` refined from ``coords``.

        Args:
            frame: ``(h, w, 3)`` or ``(h, w)`` uint8 or float in [0, 1], the current frame.
            anchor: same shape, the anchor frame (its source, not its edit).
            coords: ``(h, w, 2)`` float32 guess of each pixel's position in ``anchor``.

        Returns:
            ``(h, w, 2)`` float32 refined positions (a new array).
        """
        coords = _check_map(coords, "coords")
        la, lb = to_luma(frame, arg="frame"), to_luma(anchor, arg="anchor")
        if la.shape != lb.shape or la.shape != coords.shape[:2]:
            raise InvalidInput("anchor", f"shape {lb.shape}", f"must match `frame` {la.shape} and `coords` {coords.shape[:2]}")
        h, w = la.shape
        init = coords - _grid(h, w)
        ph, pw = max(h, self._min_side), max(w, self._min_side)
        if max(ph, pw) < self._min_long:
            pw = self._min_long if pw >= ph else pw
            ph = self._min_long if ph > pw else ph
        if (ph, pw) != (h, w):
            la = cv2.copyMakeBorder(la, 0, ph - h, 0, pw - w, cv2.BORDER_REPLICATE)
            lb = cv2.copyMakeBorder(lb, 0, ph - h, 0, pw - w, cv2.BORDER_REPLICATE)
            init = cv2.copyMakeBorder(init, 0, ph - h, 0, pw - w, cv2.BORDER_REPLICATE)
        flow = self._dis.calc(la, lb, np.ascontiguousarray(init))
        return np.ascontiguousarray(flow[:h, :w]) + _grid(h, w)


# -- guide transfer ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class GuideStats:
    """Weighted least-squares sufficient statistics of an affine colour fit per grid cell.

    With ``s~ = (r, g, b, 1)`` the source colour and ``e`` the edited one, each cell of the
    ``(gy, gx, gz)`` grid (rows, columns, source-luma bins) holds ``xx = sum w s~ s~^T`` and
    ``xy = sum w s~ e^T``. Statistics add (``a + b``) and scale (``a.scaled(0.5)``), so a
    model can be refreshed from new frames with older ones decaying.

    Attributes:
        xx: ``(gy, gx, gz, 4, 4)`` float64; ``xx[..., 3, 3]`` is the cell's total weight.
        xy: ``(gy, gx, gz, 4, 3)`` float64.
    """

    xx: np.ndarray
    xy: np.ndarray

    @property
    def grid(self) -> tuple[int, int, int]:
        """``(gy, gx, gz)``."""
        return tuple(int(v) for v in self.xx.shape[:3])  # type: ignore[return-value]

    @property
    def weight(self) -> float:
        """Total weight of the pixels fitted."""
        return float(self.xx[..., 3, 3].sum())

    def __add__(self, other: GuideStats) -> GuideStats:
        if not isinstance(other, GuideStats) or other.grid != self.grid:
            raise InvalidInput("other", getattr(other, "grid", type(other).__name__), f"must be GuideStats on the grid {self.grid}")
        return GuideStats(self.xx + other.xx, self.xy + other.xy)

    def scaled(self, factor: float) -> GuideStats:
        """The statistics times ``factor`` (>= 0): older data counts ``factor`` as much."""
        if not factor >= 0:
            raise InvalidInput("factor", factor, "must be >= 0")
        return GuideStats(self.xx * factor, self.xy * factor)

    def pooled(self) -> GuideStats:
        """The same data with the spatial cells merged (one luma-binned model everywhere):
        for content that has moved, e.g. after a cut."""
        gy, gx, _ = self.grid
        xx = np.broadcast_to(self.xx.sum(axis=(0, 1), keepdims=True) / (gy * gx), self.xx.shape).copy()
        xy = np.broadcast_to(self.xy.sum(axis=(0, 1), keepdims=True) / (gy * gx), self.xy.shape).copy()
        return GuideStats(xx, xy)


@dataclass(frozen=True)
class GuideModel:
    """Per-cell affine colour matrices: ``edit = A^T (r, g, b, 1)``, ``A`` interpolated trilinearly.

    Attributes:
        coeffs: ``(gy, gx, gz, 4, 3)`` float32.
    """

    coeffs: np.ndarray

    @property
    def grid(self) -> tuple[int, int, int]:
        """``(gy, gx, gz)``."""
        return tuple(int(v) for v in self.coeffs.shape[:3])  # type: ignore[return-value]


def _grid_shape(h: int, w: int, cells: int) -> tuple[int, int]:
    """``(gy, gx)``: ``cells`` along the long side, the short side in proportion (>= 1)."""
    if w >= h:
        return max(1, round(cells * h / w)), cells
    return cells, max(1, round(cells * w / h))


def _smooth_cells(a: np.ndarray, axis: int) -> np.ndarray:
    """[1, 2, 1] / 4 along ``axis`` with the border repeated (a tent splat in effect)."""
    if a.shape[axis] < 2:
        return a
    pad = [(0, 0)] * a.ndim
    pad[axis] = (1, 1)
    p = np.pad(a, pad, mode="edge")
    n = a.shape[axis]
    take = lambda s: np.take(p, range(s, s + n), axis=axis)
    return 0.25 * take(0) + 0.5 * take(1) + 0.25 * take(2)


def guide_stats(source: np.ndarray, target: np.ndarray, weight: np.ndarray | None = None, *,
                cells: int = 12, bins: int = 8) -> GuideStats:
    """Statistics of the colour mapping ``source -> target`` per (row, column, luma) cell.

    Pixels are assigned to their spatial cell and split linearly between the two nearest luma
    bins; the grid is then smoothed with [1, 2, 1] across neighbouring cells in x and y, so
    neighbouring cells share data (fit at a small size: a few hundred pixels a side is plenty).

    Args:
        source: ``(h, w, 3)`` uint8 or float in [0, 1], the unedited frame.
        target: ``(h, w, 3)``, the edited frame, pixel-aligned with ``source``.
        weight: optional ``(h, w)`` float >= 0 (trust of each pixel; 0 leaves it out).
        cells: cells along the long side (>= 1).
        bins: source-luma bins (>= 2).

    Returns:
        :class:`GuideStats` on the grid ``(gy, gx, bins)``.

    Example:
        >>> s = np.random.default_rng(0).random((16, 16, 3)).astype(np.float32)
        >>> st = guide_stats(s, s, cells=2, bins=2)
        >>> st.grid, round(st.weight)
        ((2, 2, 2), 256)
    """
    src = to_float01(source, arg="source")
    tgt = to_float01(target, arg="target")
    if src.ndim != 3 or src.shape[2] != 3:
        raise InvalidInput("source", f"shape {src.shape}", "must be an (h, w, 3) RGB image")
    if tgt.shape != src.shape:
        raise InvalidInput("target", f"shape {tgt.shape}", f"must match `source` {src.shape}")
    cells = _check_int(cells, "cells", 1)
    bins = _check_int(bins, "bins", 2)
    h, w = src.shape[:2]
    gy, gx = _grid_shape(h, w, cells)
    wgt = np.ones((h, w), np.float32) if weight is None else np.asarray(weight, np.float32)
    if wgt.shape != (h, w) or not np.all(wgt >= 0):
        raise InvalidInput("weight", f"array {wgt.shape}", f"must be ({h}, {w}) floats >= 0")
    iy = np.minimum((np.arange(h) * gy) // h, gy - 1)
    ix = np.minimum((np.arange(w) * gx) // w, gx - 1)
    cell = (iy[:, None] * gx + ix[None, :]).ravel()
    s = src.reshape(-1, 3)
    e = tgt.reshape(-1, 3)
    wv = wgt.ravel()
    z = np.clip(s @ _LUMA, 0, 1) * (bins - 1)
    z0 = np.minimum(np.floor(z).astype(np.int64), bins - 2)
    fz = (z - z0).astype(np.float32)
    st = np.concatenate([s, np.ones((len(s), 1), np.float32)], axis=1)  # (N, 4)
    feats = np.concatenate([(st[:, :, None] * st[:, None, :]).reshape(-1, 16),
                            (st[:, :, None] * e[:, None, :]).reshape(-1, 12)], axis=1)  # (N, 28)
    n_cells = gy * gx * bins
    # each pixel splats into its cell at two luma bins: one sparse (cells x 2N) matrix product
    rows = np.concatenate([cell * bins + z0, cell * bins + z0 + 1])
    vals = np.concatenate([wv * (1.0 - fz), wv * fz]).astype(np.float64)
    cols = np.concatenate([np.arange(len(s)), np.arange(len(s))])
    splat = sparse.csr_matrix((vals, (rows, cols)), shape=(n_cells, len(s)))
    acc = np.asarray(splat @ feats.astype(np.float64))
    acc = acc.reshape(gy, gx, bins, 28)
    acc = _smooth_cells(_smooth_cells(acc, 0), 1)
    return GuideStats(acc[..., :16].reshape(gy, gx, bins, 4, 4), acc[..., 16:].reshape(gy, gx, bins, 4, 3))


def _solve(xx: np.ndarray, xy: np.ndarray, prior: np.ndarray, ridge: float, prior_pixels: float) -> np.ndarray:
    """``argmin sum w |A^T s - e|^2 + lam |A - prior|^2`` per cell, ``lam = ridge n + 0.1 prior_pixels``."""
    n = xx[..., 3, 3]
    lam = ridge * n + 0.1 * prior_pixels
    eye = np.eye(4)
    lhs = xx + lam[..., None, None] * eye
    rhs = xy + lam[..., None, None] * prior
    return np.linalg.solve(lhs, rhs)


def solve_guide(stats: GuideStats, *, ridge: float = 2e-3, prior_pixels: float = 8.0) -> GuideModel:
    """Fit the per-cell affine colour matrices, each regularised towards a coarser model.

    Three levels: one global matrix (regularised towards the identity), one per luma bin
    (towards the global one), one per cell (towards its luma bin's). The penalty on a cell is
    ``lam |A - A_coarser|^2`` with ``lam = ridge x weight + 0.1 x prior_pixels``: colour
    directions in which the cell's pixels vary by less than about ``sqrt(ridge)`` are taken from
    the coarser level, and a cell with much less than ``prior_pixels`` pixels is the coarser
    model.

    Args:
        stats: from :func:`guide_stats` (summed and scaled as needed).
        ridge: relative regularisation (>= 0).
        prior_pixels: absolute regularisation, in pixels' worth (> 0).

    Returns:
        :class:`GuideModel`.

    Example:
        >>> s = np.random.default_rng(1).random((32, 32, 3)).astype(np.float32)
        >>> m = solve_guide(guide_stats(s, 1 - s, cells=2, bins=4))
        >>> float(np.abs(apply_guide(m, s) - (1 - s)).max()) < 0.02
        True
    """
    if not isinstance(stats, GuideStats):
        raise InvalidInput("stats", type(stats).__name__, "must be GuideStats")
    if not ridge >= 0:
        raise InvalidInput("ridge", ridge, "must be >= 0")
    if not prior_pixels > 0:
        raise InvalidInput("prior_pixels", prior_pixels, "must be > 0")
    ident = np.zeros((4, 3))
    ident[:3, :3] = np.eye(3)
    g = _solve(stats.xx.sum(axis=(0, 1, 2)), stats.xy.sum(axis=(0, 1, 2)), ident, ridge, prior_pixels)
    zx, zy = stats.xx.sum(axis=(0, 1)), stats.xy.sum(axis=(0, 1))
    per_z = _solve(zx, zy, np.broadcast_to(g, zy.shape), ridge, prior_pixels)
    full = _solve(stats.xx, stats.xy, np.broadcast_to(per_z, stats.xy.shape), ridge, prior_pixels)
    return GuideModel(full.astype(np.float32))


def blend_guides(a: GuideModel, b: GuideModel, t: float) -> GuideModel:
    """The model ``(1 - t) a + t b`` (a guide between two keyframes; the map is linear in ``A``).

    Example:
        >>> m0 = GuideModel(np.zeros((1, 1, 2, 4, 3), np.float32)); m1 = GuideModel(np.ones((1, 1, 2, 4, 3), np.float32))
        >>> float(blend_guides(m0, m1, 0.25).coeffs.max())
        0.25
    """
    if a.grid != b.grid:
        raise InvalidInput("b", b.grid, f"must be on the grid of `a` {a.grid}")
    if not 0 <= t <= 1:
        raise InvalidInput("t", t, "must be in [0, 1]")
    return GuideModel(a.coeffs + np.float32(t) * (b.coeffs - a.coeffs))


def apply_guide(model: GuideModel, source: np.ndarray, mask: np.ndarray | None = None, *,
                out: np.ndarray | None = None, frame_size: tuple[int, int] | None = None,
                offset: tuple[int, int] = (0, 0)) -> np.ndarray:
    """The guide's edit of ``source``: per pixel, the trilinearly interpolated matrix times ``(r, g, b, 1)``.

    The grid spans the frame whatever its resolution (fit small, apply at full size).

    Args:
        model: from :func:`solve_guide`.
        source: ``(H, W, 3)`` uint8 or float in [0, 1].
        mask: optional ``(H, W)`` bool: compute only these pixels (the rest are 0, or left as
            they are in ``out``); the cost is proportional to the pixels computed.
        out: optional ``(H, W, 3)`` float32 or uint8 array to write into (uint8: rounded).
        frame_size: when ``source`` is a crop, the ``(rows, cols)`` of the whole frame the grid
            spans; ``offset`` is the crop's ``(row, col)`` in it.

    Returns:
        ``(H, W, 3)`` float32 clipped to [0, 1] (or ``out``).

    Example:
        >>> ident = np.zeros((1, 1, 2, 4, 3), np.float32); ident[..., :3, :] = np.eye(3)
        >>> x = np.full((2, 2, 3), 0.5, np.float32)
        >>> apply_guide(GuideModel(ident), x)[0, 0].tolist()
        [0.5, 0.5, 0.5]
    """
    if not isinstance(model, GuideModel):
        raise InvalidInput("model", type(model).__name__, "must be a GuideModel")
    if not isinstance(source, np.ndarray) or source.ndim != 3 or source.shape[2] != 3:
        raise InvalidInput("source", getattr(source, "shape", None), "must be an (H, W, 3) RGB image")
    H, W = source.shape[:2]
    if out is None:
        out = np.zeros((H, W, 3), np.float32)
    elif not isinstance(out, np.ndarray) or out.shape != (H, W, 3) or out.dtype not in (np.uint8, np.float32):
        raise InvalidInput("out", getattr(out, "shape", None), f"must be an ({H}, {W}, 3) float32 or uint8 array")
    if mask is None:
        ys = np.repeat(np.arange(H, dtype=np.int32), W)
        xs = np.tile(np.arange(W, dtype=np.int32), H)
        colours = to_float01(source.reshape(-1, 3), arg="source")
    else:
        if not isinstance(mask, np.ndarray) or mask.shape != (H, W):
            raise InvalidInput("mask", getattr(mask, "shape", None), f"must be a bool mask of shape {(H, W)}")
        ys, xs = np.nonzero(mask)
        if len(ys) == 0:
            return out
        colours = to_float01(source[ys, xs], arg="source")
    gy, gx, gz = model.grid
    # the grid as 3 images (one per output channel) of (gy, gz * gx) cells x 4 weights (r, g, b, 1):
    # bilinear lookups in (x, y) within a luma slice are then cv2.remap calls
    planes = [np.ascontiguousarray(model.coeffs[..., c].transpose(0, 2, 1, 3).reshape(gy, gz * gx, 4)) for c in range(3)]
    n = len(colours)
    cols = min(n, 1024)
    rows = -(-n // cols)
    pad = rows * cols - n

    def as_map(v: np.ndarray) -> np.ndarray:
        v = v.astype(np.float32, copy=False)
        return (np.concatenate([v, np.zeros(pad, np.float32)]) if pad else v).reshape(rows, cols)

    FH, FW = (H, W) if frame_size is None else (int(frame_size[0]), int(frame_size[1]))
    oy, ox = np.float32(offset[0] + 0.5), np.float32(offset[1] + 0.5)
    u = np.clip((xs.astype(np.float32) + ox) * np.float32(gx / FW) - 0.5, 0, gx - 1) if gx > 1 else np.zeros(n, np.float32)
    v = np.clip((ys.astype(np.float32) + oy) * np.float32(gy / FH) - 0.5, 0, gy - 1) if gy > 1 else np.zeros(n, np.float32)
    z = np.clip(colours @ _LUMA, 0, 1) * np.float32(gz - 1)
    z0 = np.minimum(z.astype(np.int32), gz - 2)
    fz = as_map(z - z0)[..., None]
    mx0 = as_map(u + (z0 * gx).astype(np.float32))
    mx1 = mx0 + np.float32(gx)
    my = as_map(v)
    col4 = np.concatenate([colours, np.ones((n, 1), np.float32)], axis=1)
    col4 = (np.concatenate([col4, np.zeros((pad, 4), np.float32)]) if pad else col4).reshape(rows, cols, 4)
    res = np.empty((rows, cols, 3), np.float32)
    gz_w = np.float32(1) - fz
    ones = np.ones((1, 4), np.float32)
    for c, plane in enumerate(planes):
        a0 = cv2.remap(plane, mx0, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        a1 = cv2.remap(plane, mx1, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        a = a0 * gz_w
        a += a1 * fz
        a *= col4
        res[..., c] = cv2.transform(a, ones).reshape(rows, cols)  # sum of the 4 products, in C
    res = res.reshape(-1, 3)[:n]
    np.clip(res, 0, 1, out=res)
    if out.dtype == np.uint8:
        res = res * 255 + 0.5
    if mask is None:
        out.reshape(-1, 3)[:] = res
    else:
        out[ys, xs] = res
    return out
