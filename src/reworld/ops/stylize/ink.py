"""Line drawing: XDoG ink lines, pencil sketch with hatching, charcoal.

- :func:`xdog_lines` — eXtended Difference of Gaussians (Winnemöller, Kyprianidis & Olsen 2012,
  "XDoG: an eXtended difference-of-Gaussians compendium"): ``D = (1 + p) G_σ − p G_kσ`` of the
  luma, soft-thresholded with ``tanh``; returns line strength (1 = ink). Computed on a blurred
  signal, so sensor noise does not turn into crawling specks.
- :func:`ink` — lay lines of one colour over an image (multiply for dark ink, screen for the
  white lines of a blueprint, ``"glow"`` adds the colour for neon).
- :func:`pencil_sketch` — the classic colour-dodge sketch (grey divided by its blur: white
  paper, dark where the picture changes) multiplied by hatching layers that appear as the
  tone darkens (tonal art maps, Praun, Hoppe, Webb & Finkelstein 2001) and a paper texture.
- :func:`neon_lines` — the picture darkened, its lines redrawn as glowing tubes in the
  picture's own hues pushed to full saturation (or a fixed colour), with a soft halo;
- :func:`charcoal` — soft, smudged high-contrast darks that sit on the paper's tooth (pigment
  only where the paper grain rises above the local darkness), plus strokes and ink-like edges.

Inputs are ``(H, W, 3)`` float32 RGB in [0, 1]; textures come from :mod:`.texture` and are
fitted once per clip.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from reworld.errors import InvalidInput
from reworld.ops.stylize._common import check_image, check_range, gaussian, hex_to_rgb, luma, smoothstep

__all__ = ["charcoal", "ink", "neon_lines", "pencil_sketch", "xdog_lines"]


def xdog_lines(image: np.ndarray, *, sigma: float = 1.0, k: float = 1.6, p: float = 20.0, epsilon: float = 0.02,
               phi: float = 40.0, pre_blur: float = 0.7) -> np.ndarray:
    """XDoG line strength of an image's luma: ``(H, W)`` float32 in [0, 1], 1 = ink.

    Args:
        image: ``(H, W, 3)`` float32 (or ``(H, W)`` luma).
        sigma: inner Gaussian in px, [0.3, 8] (line thickness grows with it).
        k: outer/inner sigma ratio, [1.1, 5]. p: edge emphasis, [0, 100].
        epsilon: threshold on the normalised response, [-1, 1] (lower = fewer lines).
        phi: softness of the threshold, [0.1, 500] (large = hard black lines).
        pre_blur: denoising blur in px before the DoG, [0, 4].

    Example:
        >>> img = np.ones((20, 20, 3), np.float32); img[:, 10:] = 0.0
        >>> lines = xdog_lines(img)
        >>> float(lines[10, 2]), bool(lines[10, 9:12].max() > 0.5)
        (0.0, True)
    """
    s = check_range(sigma, "sigma", 0.3, 8.0)
    kk = check_range(k, "k", 1.1, 5.0)
    pp = check_range(p, "p", 0.0, 100.0)
    eps = check_range(epsilon, "epsilon", -1.0, 1.0)
    ph = check_range(phi, "phi", 0.1, 500.0)
    check_range(pre_blur, "pre_blur", 0.0, 4.0)
    y = luma(check_image(image)) if image.ndim == 3 else image.astype(np.float32)
    if pre_blur > 0:
        y = gaussian(y, pre_blur)
    g1 = gaussian(y, s)
    g2 = gaussian(y, s * kk)
    d = (1.0 + pp) * g1 - pp * g2  # sharpened luma; dark side of an edge dips below its level
    t = np.where(d >= eps, 1.0, 1.0 + np.tanh(np.float32(ph) * (d - eps)))
    return np.clip(1.0 - t, 0.0, 1.0).astype(np.float32)


def ink(image: np.ndarray, lines: np.ndarray, *, colour: str = "#101010", opacity: float = 1.0,
        mode: str = "multiply") -> np.ndarray:
    """Lay ``lines`` (``(H, W)`` in [0, 1], 1 = ink) of ``colour`` over the image.

    Args:
        mode: ``"multiply"`` (mix toward the ink colour: dark ink), ``"screen"`` (mix toward a
            light colour: white chalk, blueprint lines) — both are plain mixes —, or ``"glow"``
            (adds the colour: neon tubes).
        opacity: in [0, 1].

    Example:
        >>> img = np.ones((2, 2, 3), np.float32)
        >>> ink(img, np.ones((2, 2), np.float32), colour="#000000")[0, 0].tolist()
        [0.0, 0.0, 0.0]
    """
    check_image(image)
    op = check_range(opacity, "opacity", 0.0, 1.0)
    a = (np.clip(lines, 0.0, 1.0) * np.float32(op))[..., None]
    c = hex_to_rgb(colour)
    if mode in ("multiply", "screen"):
        out = image + a * (c - image)
    elif mode == "glow":
        out = image + a * c
    else:
        raise InvalidInput("mode", mode, "must be 'multiply', 'screen' or 'glow'")
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def pencil_sketch(image: np.ndarray, hatches: Sequence[np.ndarray], paper: np.ndarray | None = None, *,
                  blur: float = 8.0, darkness: float = 1.0, hatch_strength: float = 0.8, colour: float = 0.0,
                  lead: str = "#2a2a30", paper_colour: str = "#f6f3ec") -> np.ndarray:
    """Pencil drawing: dodge-blend outlines, tone by hatching layers, paper grain.

    Args:
        image: ``(H, W, 3)`` float32.
        hatches: ``(H, W)`` hatch layers from :func:`.texture.hatch_texture`, lightest first;
            layer ``i`` of ``n`` appears where the tone darkness passes ``0.38 + 0.5 i / n``.
        paper: optional ``(H, W)`` paper texture (mean ~0.5).
        blur: dodge blur in px, [1, 64] (larger = longer outlines).
        darkness: outline darkness, [0, 3]. hatch_strength: [0, 1].
        colour: [0, 1] share of the picture's own colour kept (coloured pencil).
        lead, paper_colour: ``"#rrggbb"`` graphite and paper colours.

    Example:
        >>> from reworld.ops.stylize.texture import hatch_texture
        >>> img = np.full((16, 16, 3), 0.5, np.float32)
        >>> h = [hatch_texture((16, 16), np.random.default_rng(0))]
        >>> pencil_sketch(img, h).shape
        (16, 16, 3)
    """
    check_image(image)
    b = check_range(blur, "blur", 1.0, 64.0)
    dk = check_range(darkness, "darkness", 0.0, 3.0)
    hs = check_range(hatch_strength, "hatch_strength", 0.0, 1.0)
    col = check_range(colour, "colour", 0.0, 1.0)
    y = gaussian(luma(image), 0.6)
    dodge = np.clip(y / np.maximum(gaussian(y, b), 1e-3), 0.0, 1.0)
    value = 1.0 - dk * (1.0 - dodge)  # 1 = paper
    tone = 1.0 - gaussian(y, 1.5)  # darkness
    n = len(hatches)
    for i, hatch in enumerate(hatches):
        t0 = 0.38 + 0.5 * i / n
        w = smoothstep(t0 - 0.1, t0 + 0.1, tone)
        value = value * (1.0 - hs * hatch * w)
    value = np.clip(value, 0.0, 1.0)
    if paper is not None:
        value = value * (0.9 + 0.2 * paper)
        # graphite skips the paper's valleys: lighter strokes where the paper dips
        value = value + (1.0 - value) * 0.35 * np.clip(0.5 - paper, 0.0, 0.5) * 2.0
    value = np.clip(value, 0.0, 1.0)[..., None]
    pc, lc = hex_to_rgb(paper_colour), hex_to_rgb(lead)
    grey = lc + value * (pc - lc)
    if col > 0:
        tinted = grey * (0.55 + 0.45 * image / np.maximum(luma(image)[..., None], 0.05))
        grey = grey + col * (np.clip(tinted, 0, 1) - grey)
    return np.clip(grey, 0.0, 1.0).astype(np.float32)


def charcoal(image: np.ndarray, paper: np.ndarray, strokes: np.ndarray | None = None, *, contrast: float = 1.6,
             smudge: float = 3.0, lines: float = 0.8, paper_colour: str = "#ece6da",
             charcoal_colour: str = "#141212") -> np.ndarray:
    """Charcoal drawing: high-contrast smudged tone on the paper's tooth, strokes, strong edges.

    Args:
        image: ``(H, W, 3)`` float32. paper: ``(H, W)`` paper texture (mean ~0.5).
        strokes: optional ``(H, W)`` stroke texture (:func:`.texture.stroke_texture`).
        contrast: tone contrast about mid grey, [0.5, 4]. smudge: blur of the tone in px, [0, 16].
        lines: edge darkness, [0, 2].

    Example:
        >>> img = np.full((16, 16, 3), 0.5, np.float32)
        >>> charcoal(img, np.full((16, 16), 0.5, np.float32)).shape
        (16, 16, 3)
    """
    check_image(image)
    c = check_range(contrast, "contrast", 0.5, 4.0)
    sm = check_range(smudge, "smudge", 0.0, 16.0)
    ln = check_range(lines, "lines", 0.0, 2.0)
    y = luma(image)
    dark = np.clip(0.5 + c * (0.5 - gaussian(y, sm)), 0.0, 1.0)  # 1 = black
    tooth = np.clip(paper, 0.0, 1.0)
    cover = smoothstep(0.0, 0.35, dark + (tooth - 0.5) * 0.9 - 0.15)  # pigment catches the peaks first
    cover = cover * dark ** 0.8
    if strokes is not None:
        cover = np.clip(cover * (0.75 + 0.5 * strokes), 0.0, 1.0)
    edges = xdog_lines(y, sigma=1.6, p=25.0, epsilon=0.03, phi=25.0, pre_blur=1.0)
    cover = np.clip(cover + ln * edges * (0.6 + 0.4 * tooth), 0.0, 1.0)[..., None]
    pc, cc = hex_to_rgb(paper_colour), hex_to_rgb(charcoal_colour)
    return np.clip(pc + cover * (cc - pc), 0.0, 1.0).astype(np.float32)


def neon_lines(image: np.ndarray, lines: np.ndarray, *, darken: float = 0.8, colour: str | None = None,
               glow: float = 6.0, intensity: float = 1.5) -> np.ndarray:
    """Neon outline: darken the picture, draw ``lines`` as saturated glowing tubes.

    Args:
        image: ``(H, W, 3)`` float32. lines: ``(H, W)`` in [0, 1] (e.g. :func:`xdog_lines`).
        darken: [0, 1] how much the picture is darkened. colour: ``"#rrggbb"`` tube colour, or
            ``None`` for the picture's own hue at full saturation.
        glow: halo radius in px, [0, 64]. intensity: [0, 4].

    Example:
        >>> img = np.full((16, 16, 3), 0.5, np.float32); l = np.zeros((16, 16), np.float32)
        >>> float(neon_lines(img, l, darken=1.0).max())
        0.0
    """
    check_image(image)
    dk = check_range(darken, "darken", 0.0, 1.0)
    gl = check_range(glow, "glow", 0.0, 64.0)
    it = check_range(intensity, "intensity", 0.0, 4.0)
    h, w = image.shape[:2]
    if colour is None:
        # the picture's hue at full saturation, from a quarter-size copy (tubes are smooth in colour)
        src = cv2.resize(image, (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_AREA)
        r, g, b = cv2.split(src)
        lo = cv2.min(cv2.min(r, g), b)
        hi = cv2.max(cv2.max(r, g), b)
        span = hi - lo
        vivid = np.clip((src - lo[..., None]) / np.maximum(span, 0.04)[..., None], 0.0, 1.0)
        grey = np.clip(1.0 - span * 8.0, 0.0, 1.0)[..., None]  # greys get a cyan tube, not a white one
        tube = vivid * (1.0 - grey) + grey * np.array([0.2, 0.9, 1.0], np.float32)
        tube = cv2.resize(tube, (w, h), interpolation=cv2.INTER_LINEAR)
    else:
        tube = np.broadcast_to(hex_to_rgb(colour), image.shape).astype(np.float32)
    l = np.clip(lines, 0.0, 1.0)[..., None]
    light = l * tube
    if gl > 0:  # the halo at quarter size
        q = cv2.resize(light, (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_AREA)
        halo = 1.5 * gaussian(q, gl / 4.0) + 0.8 * gaussian(q, max(0.5, gl / 12.0))
        light = light + cv2.resize(halo, (w, h), interpolation=cv2.INTER_LINEAR)
    core = l * np.float32(0.3) * (1.0 - tube)  # white-hot tube centres
    out = image * np.float32(1.0 - dk) + np.float32(it) * light + core
    return np.clip(out, 0.0, 1.0).astype(np.float32)
