"""Sky alpha for one RGB frame, built from classical cues (layer 1: numpy, cv2, scipy).

No learned model (none is available offline). Cues are computed on a small working copy (160 px
on the long side); a pixel is a sky *seed* when it is

1. **smooth**: low spread of the local gradient, measured at twice the working size after a
   median filter (a smooth sky gradient has a constant gradient, so no spread; grass, gravel,
   foliage, wood grain and window grids do; single stars and sensor noise are filtered out),
2. **sky-coloured** (:func:`sky_colour_plausibility`): blue/cyan from deep night blue up;
   bright, neutral-to-cool grey-white (overcast); saturated warm tones (sunset),
3. **connected to the top edge**: a 4-connected component of confident candidates that touches
   the top rows (warm-only components must also be partly cool or span 40% of the top, so an
   orange corner of wood or a forehead does not seed a "sunset").

Then a **colour model** is learned from the frame itself (a smoothed 16³ RGB histogram of the
seeds against one of the ground below the seeds' skyline; in video mixed with earlier frames'
through ``model``), and the sky is everything whose colour posterior is high and that connects
to the top (pixels only half sky-coloured or half smooth, such as dark textured clouds, join
when they touch it), down to its **skyline** (per column, the first row below which a long run of
non-sky follows, carried sideways over neighbouring columns so heads, poles and branches do not
cut it), plus sky-coloured islands enclosed by that sky (clouds) and bright, sky-coloured holes
seen through foliage below the local skyline but above the horizon (the lowest sky seen).
Reflections in water below the horizon stay out.

At full size the mask is upsampled, the per-pixel colour posterior decides near its boundary
and inside it (thin branches, hair, small holes), and a guided filter
(:func:`cv2.ximgproc.guidedFilter`) snaps and softens the edges, its guide being the image
projected on the colour axis that best separates sky from ground (Fisher LDA: as
discriminative as a colour guide at the cost of a grey one), so branches and hair get
fractional alpha.

The estimate is deterministic (no random numbers).

Example:
    >>> import numpy as np
    >>> img = np.zeros((90, 160, 3), np.uint8)
    >>> img[:45] = (110, 160, 230)                      # blue sky
    >>> img[45:] = np.random.default_rng(0).integers(40, 120, (45, 160, 3))  # textured ground
    >>> alpha, score = sky_alpha(img)
    >>> alpha.shape, alpha.dtype, round(float(alpha[:40].mean()), 1), round(float(alpha[50:].mean()), 1)
    ((90, 160), dtype('float32'), 1.0, 0.0)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reworld.errors import InvalidInput

__all__ = ["SkyEstimate", "SkyModel", "estimate_sky", "sky_alpha", "sky_colour_plausibility"]

#: long side of the working copy on which cues, components and the skyline are computed (px);
#: texture is measured at twice this
WORK_LONG_SIDE = 160
#: levels per channel of the colour-model histogram
BINS = 16
#: gradient spread (std of the gradient in a window, [0, 1] levels per pixel at 320 px) below
#: which a region is fully smooth, and above which it is textured
TEXTURE_LOW, TEXTURE_HIGH = 0.003, 0.009
#: smallest share of the frame the top-connected seeds must cover for any sky to be reported
MIN_SEED_FRACTION = 0.004


@dataclass
class SkyModel:
    """Colour model of sky vs ground, carried from frame to frame in video.

    Attributes:
        sky: ``(16, 16, 16)`` float32 histogram of sky colours (RGB, 16 levels per channel),
            normalised to sum 1 (all zeros when no sky has been seen).
        ground: same for non-sky colours.
        weight: how many frames' evidence it holds (grows to a cap, decays on no-sky frames).
    """

    sky: np.ndarray
    ground: np.ndarray
    weight: float = 0.0


@dataclass
class SkyEstimate:
    """Result of :func:`estimate_sky`.

    Attributes:
        alpha: ``(H, W)`` float32 in [0, 1], 1 = sky.
        score: sky fraction of the frame (mean alpha) when sky was found, else 0.0.
        confidence: in [0, 1], how sky-like the seed region is (mean candidate score of the
            seeds times how much of the top edge they cover, square-rooted); 0 with no seeds.
        skyline: ``(W,)`` float32, per column the row (full-size pixels) where the sky seen
            from the top ends (below it only holes seen through foliage above the horizon are
            sky); -1 where a column has none.
        model: the colour model after this frame (pass it to the next frame).
    """

    alpha: np.ndarray
    score: float
    confidence: float
    skyline: np.ndarray
    model: SkyModel


def _smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def sky_colour_plausibility(lab: np.ndarray) -> np.ndarray:
    """How typical of some sky each colour is, whatever its position or texture.

    Args:
        lab: ``(..., 3)`` float32 CIE Lab as OpenCV gives it for float RGB in [0, 1]
            (L in [0, 100], a and b about [-128, 127]).

    Returns:
        ``(...)`` float32 in [0, 1]: high for blue/cyan at any brightness above deep black
        (day and night skies), for bright grey-white that is not warm (overcast; warm greys are
        usually indoor walls), and for saturated warm tones (sunset, 0.9 at most); low for dark
        neutral or warm colours, green and saturated red.

    Example:
        >>> import cv2
        >>> rgb = np.array([[[0.45, 0.65, 0.95], [0.85, 0.86, 0.88], [0.2, 0.5, 0.1]]], np.float32)
        >>> np.round(sky_colour_plausibility(cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)), 1).tolist()
        [[1.0, 1.0, 0.0]]
    """
    return np.maximum(*_plausibility_parts(lab)).astype(np.float32)


def _plausibility_parts(lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cool, warm) sky-colour plausibilities: blue or grey-white skies, and sunset tones."""
    L, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    chroma = np.sqrt(a * a + b * b)
    # blue/cyan/violet-blue, from deep night blue up: b* clearly negative, not magenta
    blue = _smoothstep(-3.0, -12.0, b) * _smoothstep(2.5, 8.0, L) * (1.0 - _smoothstep(30.0, 60.0, a))
    # overcast: bright, near neutral, not warm
    grey = _smoothstep(55.0, 72.0, L) * (1.0 - _smoothstep(10.0, 20.0, chroma)) * (1.0 - _smoothstep(4.0, 9.0, b))
    # sunset / dawn: saturated warm tones (orange, yellow, pink, mauve), not green. Hues of skin
    # and wood (about 25-70 degrees) need more chroma: pale tones there are faces, cream walls
    # and furniture far more often than sky.
    hue = np.degrees(np.arctan2(b, a))
    skin_band = _smoothstep(15.0, 28.0, hue) * (1.0 - _smoothstep(68.0, 80.0, hue))
    need = 16.0 + 12.0 * skin_band
    dark = 32.0 + 10.0 * skin_band
    warm = (0.9 * _smoothstep(dark, dark + 20.0, L) * _smoothstep(need, need + 10.0, chroma)
            * (1.0 - _smoothstep(-8.0, -20.0, a)))
    return np.maximum(blue, grey), warm


def _texture_smoothness(mid: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``size`` = (h, w) map: 1 where the image is smooth, 0 where it is textured.

    Gradient spread is measured on ``mid`` (the image at twice the working size, when it is that
    big: fine texture such as grass, gravel or wood grain vanishes once the image itself is
    shrunk to the working size), after a median and a light blur that remove stars, sensor
    noise and JPEG specks; it is then averaged down to the working size.
    """
    import cv2

    h, w = size
    grey = cv2.cvtColor(mid, cv2.COLOR_RGB2GRAY)
    g = cv2.GaussianBlur(cv2.medianBlur(grey, 3).astype(np.float32) * np.float32(1 / 255.0), (0, 0), 0.8)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3) * np.float32(1 / 8.0)  # levels/px in [0, 1] units
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3) * np.float32(1 / 8.0)
    # texture = spread of the gradient within a window (a smooth sky gradient has a constant
    # gradient and so no spread; grass, gravel, foliage and edges do)
    stack = np.dstack([gx, gy, gx * gx, gy * gy])
    if stack.shape[:2] != (h, w):
        stack = cv2.resize(stack, (w, h), interpolation=cv2.INTER_AREA)
    m = cv2.blur(stack, (3, 3))
    spread = np.sqrt(np.maximum(m[..., 2] - m[..., 0] ** 2 + m[..., 3] - m[..., 1] ** 2, 0.0))
    # then the smallest spread within one pixel: a pixel next to an edge is smooth when the
    # window on its far side is, so narrow strips of sky between buildings or branches survive
    spread = cv2.erode(spread, np.ones((3, 3), np.uint8))
    return 1.0 - _smoothstep(TEXTURE_LOW, TEXTURE_HIGH, spread)


def _lda_guide(image: np.ndarray, small: np.ndarray, sky: np.ndarray, above: np.ndarray) -> np.ndarray:
    """``(H, W)`` float32: ``image`` projected on the Fisher direction between sky and ground.

    Sky maps near 1 and ground near 0 (so the guided filter's ``eps`` has a fixed meaning);
    falls back to luma when either class is (nearly) empty.
    """
    import cv2

    xs = small[sky].reshape(-1, 3)
    xg = small[~above].reshape(-1, 3)
    if len(xs) < 8 or len(xg) < 8:
        xg = small[~sky].reshape(-1, 3)
    wv, offset = np.array([0.299, 0.587, 0.114]), 0.0
    if len(xs) >= 8 and len(xg) >= 8:
        ms, mg = xs.mean(0), xg.mean(0)
        cov = np.cov(xs.T) + np.cov(xg.T) + np.eye(3) * 1e-3
        lda = np.linalg.solve(cov, ms - mg)
        span = float(lda @ (ms - mg))
        if np.isfinite(span) and span > 1e-6:
            wv, offset = lda / span, -float(lda @ mg) / span
    m = np.array([[*(wv / 255.0), offset]], np.float32)
    g = cv2.transform(image.astype(np.float32), m)
    return cv2.max(cv2.min(g, 1.5), -0.5)


def _hist(idx: np.ndarray, weights: np.ndarray) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    h = np.bincount(idx.ravel(), weights=weights.ravel(), minlength=BINS ** 3).astype(np.float32)
    h = gaussian_filter(h.reshape(BINS, BINS, BINS), 0.8, mode="nearest")
    s = float(h.sum())
    return h / s if s > 0 else h


def _colour_index(rgb8: np.ndarray) -> np.ndarray:
    q = (rgb8 >> 4).astype(np.uint16)
    return (q[..., 0] << 8) | (q[..., 1] << 4) | q[..., 2]


def _top_connected(mask: np.ndarray, top_rows: int, min_area: float,
                   cool: np.ndarray | None = None) -> np.ndarray:
    """Pixels of ``mask`` in 4-connected components that touch the top ``top_rows`` rows.

    With ``cool`` (bool, blue or grey-white pixels), a component must also be at least a
    quarter cool or span at least 40% of the top rows: an orange or pink patch in a corner is
    far more often wood, a wall or a face than a sunset, which comes with blue, grey or a wide
    glow.
    """
    import cv2

    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=4)
    keep = np.zeros(n, bool)
    keep[np.unique(labels[:top_rows])] = True
    keep[0] = False
    area = stats[:, cv2.CC_STAT_AREA]
    keep &= area >= min_area
    if cool is not None and keep.any():
        cool_px = np.bincount(labels.ravel(), weights=cool.ravel().astype(np.float64), minlength=n)
        cool_share = cool_px / np.maximum(area, 1)
        top = labels[:top_rows]
        cols = np.zeros((n, mask.shape[1]), bool)
        cols[top, np.broadcast_to(np.arange(mask.shape[1]), top.shape)] = True
        span = cols.mean(axis=1)
        keep &= (cool_share >= 0.25) | (span >= 0.4)
    return keep[labels]


def _enclosed(mask: np.ndarray, outside: np.ndarray) -> np.ndarray:
    """Pixels of ``mask`` in 4-connected components that contain no pixel of ``outside``."""
    import cv2

    n, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=4)
    open_ = np.zeros(n, bool)
    open_[np.unique(labels[outside & mask])] = True
    open_[0] = True
    return ~open_[labels]


def _touching(mask: np.ndarray, core: np.ndarray) -> np.ndarray:
    """Pixels of ``mask`` in 4-connected components that contain a pixel of ``core``."""
    import cv2

    n, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=4)
    keep = np.zeros(n, bool)
    keep[np.unique(labels[core & mask])] = True
    keep[0] = False
    return keep[labels]


def _skyline(sky: np.ndarray, run: int, spread: int) -> np.ndarray:
    """Per column, the row where the sky seen from the top ends (first long run of non-sky).

    Args:
        sky: ``(h, w)`` bool.
        run: rows of consecutive non-sky that end the sky in a column.
        spread: columns over which the lowest end is carried sideways (max filter).

    Returns:
        ``(w,)`` float32 rows; -1 for columns with no sky at the top.
    """
    from scipy.ndimage import maximum_filter1d, uniform_filter1d

    h, w = sky.shape
    non = (~sky).astype(np.float32)
    # share of non-sky in rows [y, y + run) for every y
    c = np.concatenate([np.zeros((1, w), np.float32), np.cumsum(non, axis=0)], 0)
    ends = np.minimum(np.arange(h) + run, h)
    frac = (c[ends] - c[:h]) / (ends - np.arange(h))[:, None]
    blocked = frac >= 0.85
    blocked[-1] = True
    first = np.argmax(blocked, axis=0).astype(np.float32)  # first blocked row per column
    first[~sky[: max(2, h // 40)].any(axis=0) & (first == 0)] = -1
    line = maximum_filter1d(first, size=max(1, spread), mode="nearest")
    # smooth the envelope a little so it follows skylines, not single columns
    return uniform_filter1d(line, size=max(1, spread // 3), mode="nearest")


def _check_image(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray):
        raise InvalidInput("image", type(image).__name__, "must be a numpy array")
    if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
        raise InvalidInput("image", f"{image.shape} {image.dtype}", "must be an (H, W, 3) uint8 RGB array")
    if min(image.shape[:2]) < 8:
        raise InvalidInput("image", f"{image.shape}", "must be at least 8x8 pixels")


def estimate_sky(image: np.ndarray, *, prior: np.ndarray | None = None, model: SkyModel | None = None,
                 model_memory: float = 0.5) -> SkyEstimate:
    """Estimate the sky alpha of one frame (see the module doc for the method).

    Args:
        image: ``(H, W, 3)`` uint8 RGB (any size; 512 px on the long side is the intended one).
        prior: optional ``(H', W')`` float32 alpha in [0, 1] from the previous frame (any size,
            resized): where it was sky, a pixel still seeds the sky when it is sky-coloured and
            not strongly textured, which keeps a sky from flickering out for one frame.
        model: colour model from the previous frame (:attr:`SkyEstimate.model`).
        model_memory: in [0, 1), how much of ``model`` is kept when mixing it with this frame's
            histograms (0 = this frame only).

    Returns:
        :class:`SkyEstimate`.
    """
    import cv2

    _check_image(image)
    image = np.ascontiguousarray(image)
    if prior is not None:
        prior = np.asarray(prior)
        if prior.ndim != 2:
            raise InvalidInput("prior", f"{prior.shape}", "must be an (H, W) alpha in [0, 1]")
    if not 0.0 <= model_memory < 1.0:
        raise InvalidInput("model_memory", model_memory, "must be in [0, 1)")
    H, W = image.shape[:2]
    # 1. Working copy and cues.
    s = min(1.0, WORK_LONG_SIDE / max(H, W))
    h, w = max(8, round(H * s)), max(8, round(W * s))
    if H >= 2 * h and W >= 2 * w:  # texture is measured at twice the working size
        mid = cv2.resize(image, (2 * w, 2 * h), interpolation=cv2.INTER_AREA)
        small = cv2.resize(mid, (w, h), interpolation=cv2.INTER_AREA)
    else:
        mid = image
        small = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA) if (h, w) != (H, W) else image
    f = small.astype(np.float32) / 255.0
    lab = cv2.cvtColor(f, cv2.COLOR_RGB2Lab)
    cool, warm = _plausibility_parts(lab)
    plaus = np.maximum(cool, warm)
    smooth = _texture_smoothness(mid, (h, w))
    cand = plaus * smooth
    if prior is not None:
        p = cv2.resize(prior.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA)
        cand = np.maximum(cand, np.minimum(p, 0.45 + 0.6 * smooth) * plaus)
    # 2. Seeds: confident candidates in components that touch the top rows.
    top_rows = max(1, h // 40)
    min_area = max(4, 0.002 * h * w)
    seeds = _top_connected(cand > 0.5, top_rows, min_area, cool=(cool > 0.5))
    seed_frac = float(seeds.mean())
    run, spread = max(3, h // 12), max(3, w // 6)
    margin = max(1.0, h / 60)
    rows = np.arange(h, dtype=np.float32)[:, None]
    above = rows <= _skyline(seeds, run=run, spread=spread)[None, :] + margin
    # 3. Colour model: sky = seeds; ground = below the skyline (plus, weakly, the pixels above
    # it whose colour no sky has: foliage, roofs; textured clouds stay out of it).
    idx = _colour_index(small)
    ground_w = np.where(above, 0.3 * (plaus < 0.2), 1.0).astype(np.float32)
    sky_h = _hist(idx, seeds.astype(np.float32) * (0.5 + 0.5 * cand))
    ground_h = _hist(idx, ground_w)
    prev_weight = model.weight if model is not None else 0.0
    if model is not None and model.weight > 0:
        m = model_memory
        sky_h = sky_h * (1 - m) + model.sky * m if sky_h.any() else model.sky
        ground_h = ground_h * (1 - m) + model.ground * m if ground_h.any() else model.ground
    if seed_frac < MIN_SEED_FRACTION:  # no sky: keep the model (fading) for when it comes back
        new_model = SkyModel(sky_h.astype(np.float32), ground_h.astype(np.float32), prev_weight * 0.5)
        return SkyEstimate(np.zeros((H, W), np.float32), 0.0, 0.0, np.full(W, -1, np.float32), new_model)
    new_model = SkyModel(sky_h.astype(np.float32), ground_h.astype(np.float32), min(10.0, prev_weight + 1.0))
    # colours seen in neither histogram read as ground (tau: a quarter of a uniform density)
    tau = 0.25 / BINS ** 3
    post_lut = (sky_h / (sky_h + ground_h + tau)).astype(np.float32)
    post = np.take(post_lut.ravel(), idx)
    # 4. Sky probability at working size: colour posterior, weighted by texture and generic
    # sky colour; sky = what of it connects to the top (or the seeds), up to its skyline; plus
    # clouds and other sky-coloured islands enclosed by that sky, and bright holes through
    # foliage below the local skyline but above the lowest sky seen (the horizon).
    prob = post * (0.7 + 0.3 * smooth) * np.sqrt(plaus)
    prob = np.maximum(prob, seeds * (0.5 + 0.5 * cand))
    region = _top_connected(prob > 0.5, top_rows, min_area) | seeds
    skyline_small = _skyline(region, run=run, spread=spread)
    above = rows <= skyline_small[None, :] + margin
    enclosed = _enclosed(~region, ~above) & (plaus > 0.5)
    has = skyline_small >= 0
    horizon = float(np.percentile(skyline_small[has], 90)) if has.any() else -1.0
    through = (rows <= horizon) & ~above & (post > 0.75) & (plaus > 0.5)
    # relaxed growth above the skyline: pixels the colour model calls sky that are only
    # half sky-coloured or half smooth (dark, textured cloud) join when they touch the sky
    loose = above & (post > 0.5) & ((plaus > 0.25) | (smooth > 0.5))
    grown = _touching(region | loose, region)
    sky = (grown & above) | enclosed | through
    prob = sky.astype(np.float32)
    prob = cv2.GaussianBlur(prob.astype(np.float32), (3, 3), 0)
    # 5. Full size: bilinear upsample; near the sky, the per-pixel colour posterior decides
    # (thin branches, hair, small holes); then a guided filter whose guide is the image
    # projected on the colour axis that best separates sky from ground (Fisher LDA), so edges
    # follow sky/ground colour changes and fractional pixels get fractional alpha.
    up = cv2.resize(prob, (W, H), interpolation=cv2.INTER_LINEAR) if (h, w) != (H, W) else prob
    scale = H / h
    skyline = np.where(skyline_small >= 0, (skyline_small + 1.0) * scale, -1.0)
    skyline = cv2.resize(skyline[None, :].astype(np.float32), (W, 1), interpolation=cv2.INTER_LINEAR)[0]
    post_full = np.take(post_lut.ravel(), _colour_index(image))
    near = np.minimum(1.0, up * (1.0 / 0.35))
    refined = np.where(up > 0.97, up * (post_full > 0.2), near * np.minimum(1.0, 2.0 * post_full))
    refined = refined.astype(np.float32)
    guide = _lda_guide(image, f, region, above)
    radius = max(2, round(scale))
    alpha = cv2.ximgproc.guidedFilter(guide, refined, radius, 4e-3, -1)
    alpha = np.clip((alpha - 0.5) * 1.15 + 0.5, 0.0, 1.0).astype(np.float32)
    fraction = float(alpha.mean())
    top_cover = float(seeds[:top_rows].mean())
    conf = float(np.sqrt(max(0.0, float(cand[seeds].mean()) if seeds.any() else 0.0) * min(1.0, top_cover * 2)))
    return SkyEstimate(alpha, fraction, conf, skyline.astype(np.float32), new_model)


def sky_alpha(image: np.ndarray, *, prior: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Sky alpha of one RGB frame.

    Args:
        image: ``(H, W, 3)`` uint8 RGB.
        prior: optional ``(H', W')`` float32 alpha in [0, 1] of the previous frame (resized to
            fit); stabilises video (see :func:`estimate_sky`).

    Returns:
        ``(alpha, score)``: ``alpha`` is ``(H, W)`` float32 in [0, 1] (1 = sky, fractional at
        branches, hair and soft skylines); ``score`` is the sky fraction of the frame in [0, 1]
        (0.0 when no sky was found). Callers decide "no sky" with a threshold on it (the sky
        analyzer uses 0.02).

    Example:
        >>> img = np.full((48, 64, 3), 90, np.uint8)   # flat dark grey: not sky
        >>> alpha, score = sky_alpha(img)
        >>> float(alpha.max()), score
        (0.0, 0.0)
    """
    est = estimate_sky(image, prior=prior)
    return est.alpha, est.score
