"""Atmosphere and lens: fog from depth, underwater, bloom, vignette, chromatic aberration,
weather particles and VHS tape.

- :func:`fog` — single-scattering haze (Koschmieder; the model behind dark-channel dehazing,
  He, Sun & Tang 2009): ``I·t + A·(1 − t)``, ``t = exp(−β · far)``, ``far = 1 − depth`` with depth
  the relative inverse depth (1 = near). Depth 1 everywhere is the identity.
- :func:`underwater` — the same model with per-channel absorption (red goes first, Jerlov
  water types) toward a water colour, plus moving caustics (:func:`caustics`).
- :func:`bloom` — bright-pass, blurred at quarter size at two radii, screened back on.
- :func:`vignette`, :func:`chromatic_aberration` — lens fall-off and lateral colour fringes.
- :func:`make_particles`, :func:`particles` — snow, rain, embers, petals, dust: a seeded set of
  particles (position, nearness, phase) made once per clip; at frame ``t`` each sits at
  ``(p0 + v t) mod 1`` (plus sway), so motion is smooth and any frame can be rendered alone.
  With a depth map, particles behind nearer objects are hidden.
- :func:`vhs` — chroma bleed and delay, soft luma, scanlines, per-line jitter and a rolling
  tracking band; the noise comes from ``(seed, frame_index)`` so every frame is reproducible.

When ``depth`` is ``None``, :func:`depth_prior` stands in: far at the top of the frame, near at the
bottom (a ground plane seen from standing height), as in :mod:`reworld.ops.depth.monocular`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import cv2
import numpy as np

from reworld.errors import InvalidInput
from reworld.ops.stylize._common import check_image, check_map, check_range, gaussian, hex_to_rgb, luma, resize, screen

__all__ = [
    "Particles",
    "bloom",
    "caustics",
    "chromatic_aberration",
    "depth_prior",
    "fog",
    "make_particles",
    "particles",
    "underwater",
    "vhs",
    "vignette",
]


def depth_prior(shape: tuple[int, int]) -> np.ndarray:
    """Fallback relative inverse depth: 0 (far) above 35 % of the height, rising to 1 at the bottom.

    Example:
        >>> d = depth_prior((10, 4))
        >>> float(d[0, 0]), float(d[-1, 0])
        (0.0, 1.0)
    """
    h, w = shape
    y = np.linspace(0.0, 1.0, h, dtype=np.float32)
    col = np.clip((y - 0.35) / 0.65, 0.0, 1.0) ** 0.7
    return np.repeat(col[:, None], w, axis=1).astype(np.float32)


def _depth(depth: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray:
    d = check_map(depth, shape, "depth")
    return depth_prior(shape) if d is None else d


def fog(image: np.ndarray, depth: np.ndarray | None = None, *, density: float = 2.0, airlight: str = "#c8ccd0",
        near: float = 0.0) -> np.ndarray:
    """Depth fog ``I t + A (1 − t)``, ``t = exp(−density · max(far − near, 0))``, ``far = 1 − depth``.

    Args:
        image: ``(H, W, 3)`` float32. depth: ``(h, w)`` relative inverse depth in [0, 1]
            (1 = near; resized), or ``None`` for :func:`depth_prior`.
        density: β in [0, 20]. airlight: ``"#rrggbb"`` fog colour. near: fog-free distance in [0, 1].

    Example:
        >>> img = np.random.default_rng(0).random((4, 4, 3), dtype=np.float32)
        >>> bool(np.allclose(fog(img, np.ones((4, 4), np.float32), density=5.0), img))
        True
    """
    check_image(image)
    beta = check_range(density, "density", 0.0, 20.0)
    nr = check_range(near, "near", 0.0, 1.0)
    d = _depth(depth, image.shape[:2])
    t = np.exp(-np.float32(beta) * np.maximum(1.0 - d - np.float32(nr), 0.0))[..., None]
    a = hex_to_rgb(airlight)
    return np.clip(image * t + a * (1.0 - t), 0.0, 1.0).astype(np.float32)


@dataclass(frozen=True)
class Waves:
    """Plane waves whose zero crossings draw a caustic network (made once per clip)."""

    k: np.ndarray  #: (n, 2) wave vectors in radians per unit of the frame's long side
    phase: np.ndarray  #: (n,)
    omega: np.ndarray  #: (n,) radians per frame


def make_waves(rng: np.random.Generator, *, scale: float = 1.0, n: int = 5) -> Waves:
    """Random plane waves for :func:`caustics` (directions, frequencies ~ 9/scale cycles per frame width)."""
    ang = rng.uniform(0, 2 * np.pi, n)
    freq = rng.uniform(6.0, 12.0, n) * 2 * np.pi / max(scale, 0.1)
    k = np.stack([np.cos(ang), np.sin(ang)], 1) * freq[:, None]
    return Waves(k=k, phase=rng.uniform(0, 2 * np.pi, n), omega=rng.uniform(0.04, 0.09, n) * rng.choice([-1, 1], n))


def caustics(shape: tuple[int, int], waves: Waves, frame_index: int, *, speed: float = 1.0, sharpness: float = 6.0) -> np.ndarray:
    """Caustic light network at frame ``frame_index``: ``(H, W)`` float32 in [0, 1].

    Computed at ≤ 256 px and upsampled; ``speed`` scales the wave motion per frame.

    Example:
        >>> c = caustics((32, 48), make_waves(np.random.default_rng(0)), 0)
        >>> c.shape, bool(0 <= c.min() and c.max() <= 1)
        ((32, 48), True)
    """
    h, w = shape
    s = min(1.0, 256.0 / max(h, w))
    sh, sw = max(2, round(h * s)), max(2, round(w * s))
    long_side = float(max(sh, sw))
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    xx /= long_side
    yy /= long_side
    v = np.zeros((sh, sw), np.float32)
    for (kx, ky), ph, om in zip(waves.k, waves.phase, waves.omega):
        v += np.sin(np.float32(kx) * xx + np.float32(ky) * yy + np.float32(ph + om * speed * frame_index))
    v /= np.float32(math.sqrt(len(waves.phase)))
    c = np.exp(-np.float32(sharpness) * v * v)
    return np.clip(resize(c, (h, w)), 0.0, 1.0)


def underwater(image: np.ndarray, depth: np.ndarray | None = None, caustic: np.ndarray | None = None, *,
               distance: float = 1.5, absorption: tuple[float, float, float] = (1.6, 0.45, 0.25),
               water: str = "#0b5c74", turbidity: float = 0.8, caustic_strength: float = 0.35) -> np.ndarray:
    """Underwater: per-channel absorption with distance, scattering toward the water colour, caustics.

    ``d = 0.2 + distance (1 − depth)``; transmitted ``I exp(−a_c d)``; in-scatter
    ``W (1 − exp(−turbidity d))``; caustics brighten near surfaces by ``1 + s c depth``.

    Args:
        distance: water path of the farthest point, [0, 5]. absorption: per-channel (R, G, B)
            coefficients in [0, 5]. water: ``"#rrggbb"``. turbidity: [0, 5].
        caustic: optional ``(H, W)`` caustic pattern (:func:`caustics`). caustic_strength: [0, 2].

    Example:
        >>> img = np.full((4, 4, 3), 0.8, np.float32)
        >>> out = underwater(img, np.ones((4, 4), np.float32))
        >>> bool(out[0, 0, 0] < out[0, 0, 2])     # red is absorbed first
        True
    """
    check_image(image)
    dist = check_range(distance, "distance", 0.0, 5.0)
    tb = check_range(turbidity, "turbidity", 0.0, 5.0)
    cs = check_range(caustic_strength, "caustic_strength", 0.0, 2.0)
    a = np.asarray(absorption, np.float32)
    if a.shape != (3,) or a.min() < 0 or a.max() > 5:
        raise InvalidInput("absorption", absorption, "must be 3 numbers in [0, 5]")
    dep = _depth(depth, image.shape[:2])
    d = (0.2 + dist * (1.0 - dep))[..., None]
    out = image * np.exp(-a * d) + hex_to_rgb(water) * (1.0 - np.exp(-np.float32(tb) * d))
    if caustic is not None and cs > 0:
        out = out * (1.0 + np.float32(cs) * (caustic * dep)[..., None])
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def bloom(image: np.ndarray, *, threshold: float = 0.7, radius: float = 24.0, strength: float = 0.6,
          tint: str = "#ffffff") -> np.ndarray:
    """Glow around bright areas: bright-pass, two blurs (``radius`` and ``radius / 3`` px), screened.

    Args:
        threshold: luma where the glow starts, [0, 1). radius: px at full size, [1, 400].
        strength: [0, 4]. tint: ``"#rrggbb"`` colour of the glow.

    Example:
        >>> img = np.zeros((16, 16, 3), np.float32)
        >>> bool(np.array_equal(bloom(img), img))
        True
    """
    check_image(image)
    thr = check_range(threshold, "threshold", 0.0, 0.999)
    rad = check_range(radius, "radius", 1.0, 400.0)
    st = check_range(strength, "strength", 0.0, 4.0)
    h, w = image.shape[:2]
    q = max(1, min(4, int(rad // 4)))
    small = cv2.resize(image, (max(1, w // q), max(1, h // q)), interpolation=cv2.INTER_AREA)
    bright = small * np.clip((luma(small) - thr) / (1.0 - thr), 0.0, 1.0)[..., None]
    glow = 0.6 * gaussian(bright, rad / q) + 0.4 * gaussian(bright, rad / q / 3.0)
    glow = resize(glow, (h, w)) * (np.float32(st) * hex_to_rgb(tint))
    return np.clip(screen(image, np.clip(glow, 0.0, 1.0)), 0.0, 1.0).astype(np.float32)


def vignette(image: np.ndarray, *, amount: float = 0.4, radius: float = 0.6, softness: float = 0.6,
             colour: str = "#000000") -> np.ndarray:
    """Darken (or tint) toward the corners.

    Args:
        amount: [0, 1] opacity at the corners. radius: [0, 1.5] where the fall-off starts (1 =
            the half-diagonal). softness: (0, 2] width of the fall-off. colour: ``"#rrggbb"``.

    Example:
        >>> img = np.ones((9, 9, 3), np.float32)
        >>> out = vignette(img, amount=1.0, radius=0.2, softness=0.5)
        >>> float(out[4, 4, 0]), bool(out[0, 0, 0] < 0.5)
        (1.0, True)
    """
    check_image(image)
    am = check_range(amount, "amount", 0.0, 1.0)
    r0 = check_range(radius, "radius", 0.0, 1.5)
    sf = check_range(softness, "softness", 1e-3, 2.0)
    m = _vignette_mask(image.shape[0], image.shape[1], r0, sf) * np.float32(am)
    c = hex_to_rgb(colour)
    if not c.any():  # black: a plain multiply
        return image * (1.0 - m)
    return (image + m * (c - image)).astype(np.float32)


@functools.lru_cache(maxsize=8)
def _vignette_mask(h: int, w: int, r0: float, sf: float) -> np.ndarray:
    """``(H, W, 1)`` smoothstep fall-off (cached: a pure function of its arguments)."""
    yy = (np.arange(h, dtype=np.float32) - (h - 1) / 2) / np.float32(max(h, w) / 2)
    xx = (np.arange(w, dtype=np.float32) - (w - 1) / 2) / np.float32(max(h, w) / 2)
    diag = math.hypot(w, h) / max(h, w)
    r = np.sqrt(yy[:, None] ** 2 + xx[None, :] ** 2) / np.float32(diag)
    t = np.clip((r - r0) / sf, 0.0, 1.0)
    m = (t * t * (3 - 2 * t))[..., None].astype(np.float32)
    m.setflags(write=False)
    return m


def chromatic_aberration(image: np.ndarray, *, shift: float = 2.0) -> np.ndarray:
    """Lateral chromatic aberration: red scaled out, blue scaled in, by ``shift`` px at the frame edge ([0, 32]).

    Example:
        >>> img = np.full((8, 8, 3), 0.5, np.float32)
        >>> bool(np.allclose(chromatic_aberration(img, shift=2.0), img))
        True
    """
    check_image(image)
    s = check_range(shift, "shift", 0.0, 32.0)
    if s == 0:
        return image.copy()
    h, w = image.shape[:2]
    cx, cy = (w - 1) / 2, (h - 1) / 2
    out = image.copy()
    for ch, sign in ((0, 1.0), (2, -1.0)):
        k = 1.0 + sign * s / max(cx, 1.0)
        m = np.float32([[k, 0, cx * (1 - k)], [0, k, cy * (1 - k)]])
        out[..., ch] = cv2.warpAffine(np.ascontiguousarray(image[..., ch]), m, (w, h), flags=cv2.INTER_LINEAR,
                                      borderMode=cv2.BORDER_REFLECT)
    return out


@dataclass(frozen=True)
class Particles:
    """A seeded particle set (made once per clip by :func:`make_particles`)."""

    position: np.ndarray  #: (n, 2) start (x, y) in [0, 1) of the frame
    nearness: np.ndarray  #: (n,) in [0, 1]: 1 = close to the camera (bigger, faster)
    phase: np.ndarray  #: (n,) radians, for sway and flicker
    style: str


_STYLES = {  # velocity (x, y) in frame heights per frame at nearness 1, size px at 720p, sway
    "snow": ((0.0, 0.006), 4.0, 0.004),
    "rain": ((0.004, 0.05), 1.3, 0.0),
    "embers": ((0.0, -0.004), 2.5, 0.003),
    "petals": ((0.002, 0.004), 5.0, 0.006),
    "dust": ((0.0005, 0.0004), 1.6, 0.002),
}


def make_particles(rng: np.random.Generator, *, style: str = "snow", count: int = 600) -> Particles:
    """Seeded particles for :func:`particles`.

    Args:
        style: one of snow, rain, embers, petals, dust. count: [1, 20000].
    """
    if style not in _STYLES:
        raise InvalidInput("style", style, f"must be one of {', '.join(_STYLES)}")
    if not 1 <= count <= 20000:
        raise InvalidInput("count", count, "must be in [1, 20000]")
    return Particles(position=rng.random((count, 2)), nearness=rng.random(count) ** 2,
                     phase=rng.uniform(0, 2 * np.pi, count), style=style)


def particles(image: np.ndarray, parts: Particles, frame_index: int, *, depth: np.ndarray | None = None,
              colour: str = "#ffffff", opacity: float = 0.85, speed: float = 1.0, wind: float = 0.0,
              size: float = 1.0) -> np.ndarray:
    """Render the particles at ``frame_index`` over the image.

    Args:
        parts: from :func:`make_particles`. frame_index: frame number (>= 0).
        depth: optional relative inverse depth; a particle of nearness z is hidden where the
            scene is nearer (depth > 0.25 + 0.75 z).
        colour: ``"#rrggbb"``. opacity: [0, 1]. speed: fall speed multiplier, [0, 10].
        wind: sideways drift in frame heights per frame, [-0.05, 0.05]. size: [0.2, 5].

    Example:
        >>> img = np.zeros((36, 64, 3), np.float32)
        >>> p = make_particles(np.random.default_rng(0), count=50)
        >>> bool(particles(img, p, 3).max() > 0)
        True
    """
    check_image(image)
    op = check_range(opacity, "opacity", 0.0, 1.0)
    sp = check_range(speed, "speed", 0.0, 10.0)
    wd = check_range(wind, "wind", -0.05, 0.05)
    sz = check_range(size, "size", 0.2, 5.0)
    if not isinstance(frame_index, (int, np.integer)) or frame_index < 0:
        raise InvalidInput("frame_index", frame_index, "must be an integer >= 0")
    h, w = image.shape[:2]
    (vx, vy), base, sway = _STYLES[parts.style]
    z = parts.nearness
    speed_z = (0.3 + 0.7 * z) * sp
    t = float(frame_index)
    aspect = h / w
    x = parts.position[:, 0] + (vx + wd) * aspect * speed_z * t + sway * np.sin(parts.phase + 0.05 * t) * aspect
    y = parts.position[:, 1] + vy * speed_z * t
    x, y = x % 1.0, y % 1.0
    scale = h / 720.0 * sz
    radius = base * scale * (0.35 + 0.9 * z)
    dep = check_map(depth, (h, w), "depth")
    layer = np.zeros((h, w), np.uint8)
    px, py = x * w, y * h
    if parts.style == "rain":
        dx, dy = (vx + wd) * aspect * w * 3.0, vy * h * 3.0
        for i in range(len(z)):
            ln = 0.4 + 0.8 * z[i]
            p0 = (int(px[i] * 16), int(py[i] * 16))
            p1 = (int((px[i] + dx * ln) * 16), int((py[i] + dy * ln) * 16))
            cv2.line(layer, p0, p1, int(90 + 120 * z[i]), max(1, int(round(radius[i]))), cv2.LINE_AA, shift=4)
    else:
        flicker = 0.75 + 0.25 * np.sin(parts.phase * 3 + 0.4 * t) if parts.style == "embers" else np.ones_like(z)
        for i in range(len(z)):
            r = max(1, int(round(radius[i] * 16)))
            val = int(np.clip(255 * (0.55 + 0.45 * z[i]) * flicker[i], 0, 255))
            if parts.style == "petals":
                cv2.ellipse(layer, (int(px[i] * 16), int(py[i] * 16)), (r, max(1, r // 2)),
                            float(np.degrees(parts.phase[i] + 0.03 * t)), 0, 360, val, -1, cv2.LINE_AA, shift=4)
            else:
                cv2.circle(layer, (int(px[i] * 16), int(py[i] * 16)), r, val, -1, cv2.LINE_AA, shift=4)
    a = layer.astype(np.float32) / np.float32(255.0)
    if parts.style in ("snow", "petals", "embers"):
        a = gaussian(a, 0.6 * scale)
    if dep is not None:
        # nearness of each pixel's particle is unknown after drawing; use the mean nearness band
        a = a * np.clip(1.5 - 2.0 * dep, 0.0, 1.0)
    a = (a * np.float32(op))[..., None]
    c = hex_to_rgb(colour)
    if parts.style == "embers":
        glow = gaussian(a[..., 0], 3.0 * scale)[..., None]
        return np.clip(image + (a + glow) * c, 0.0, 1.0).astype(np.float32)
    return np.clip(image + a * (c - image), 0.0, 1.0).astype(np.float32)


def vhs(image: np.ndarray, frame_index: int, seed: int, *, bleed: float = 4.0, jitter: float = 1.0,
        scanlines: float = 0.15, noise: float = 0.03, tracking: float = 1.0) -> np.ndarray:
    """VHS tape: chroma bleed and delay, soft luma, per-line jitter, scanlines, tracking band, noise.

    Args:
        frame_index: frame number (>= 0); seed: int. Both fix the per-frame noise exactly.
        bleed: chroma smear/delay in px at 720p, [0, 32]. jitter: line jitter std in px, [0, 8].
        scanlines: darkening of alternate line pairs, [0, 1]. noise: [0, 0.3].
        tracking: strength of the rolling tracking band, [0, 4].

    Example:
        >>> img = np.full((24, 32, 3), 0.5, np.float32)
        >>> bool(np.array_equal(vhs(img, 3, 1), vhs(img, 3, 1)))
        True
    """
    check_image(image)
    bl = check_range(bleed, "bleed", 0.0, 32.0)
    jt = check_range(jitter, "jitter", 0.0, 8.0)
    sl = check_range(scanlines, "scanlines", 0.0, 1.0)
    nz = check_range(noise, "noise", 0.0, 0.3)
    tr = check_range(tracking, "tracking", 0.0, 4.0)
    if not isinstance(frame_index, (int, np.integer)) or frame_index < 0:
        raise InvalidInput("frame_index", frame_index, "must be an integer >= 0")
    h, w = image.shape[:2]
    px = h / 720.0
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, int(frame_index)])
    ycc = cv2.cvtColor(image, cv2.COLOR_RGB2YCrCb)
    if bl > 0:
        k = max(1, int(round(bl * px * 2)))
        chroma = cv2.blur(np.ascontiguousarray(ycc[..., 1:]), (k * 2 + 1, 1))
        shift = int(round(bl * px))
        chroma = np.roll(chroma, shift, axis=1)
        ycc[..., 1:] = chroma
        ycc[..., 0] = cv2.blur(np.ascontiguousarray(ycc[..., 0]), (3, 1))
    out = cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB)
    offs = gaussian(rng.standard_normal(h).astype(np.float32)[:, None], 2.0)[:, 0] * np.float32(jt * px * 2.0)
    if tr > 0:
        centre = ((frame_index * 0.004 + rng.random() * 0.002) % 1.2 - 0.1) * h
        band = np.exp(-(((np.arange(h) - centre) / (0.02 * h)) ** 2)).astype(np.float32)
        offs = offs + band * np.float32(tr * 6.0 * px) * (0.5 + rng.random(h).astype(np.float32))
    else:
        band = np.zeros(h, np.float32)
    if jt > 0 or tr > 0:
        mx = np.arange(w, dtype=np.float32)[None, :] - offs[:, None]
        my = np.repeat(np.arange(h, dtype=np.float32)[:, None], w, axis=1)
        out = cv2.remap(out, mx.astype(np.float32), my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    if sl > 0:
        period = max(2, int(round(2 * px)) * 2)
        rows = (np.arange(h) % period) >= period // 2
        out[rows] *= np.float32(1.0 - sl)
    if nz > 0 or tr > 0:
        n = rng.standard_normal((h, w), dtype=np.float32) * np.float32(nz)
        n += (rng.random((h, w), dtype=np.float32) > 0.97) * band[:, None] * np.float32(0.5 * tr)
        out = out + n[..., None]
    return np.clip(out, 0.0, 1.0).astype(np.float32)
