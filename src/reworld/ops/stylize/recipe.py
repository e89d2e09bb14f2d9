"""Run a look's recipe: a list of (op name, params, amount) steps over frames.

A recipe is data: ``[("grade", {"contrast": 1.2}, 1.0), ("bloom", {"radius": 30}, 0.5), ...]``
with op names from :data:`OPS`. :func:`prepare_recipe` runs once per clip:

1. consecutive **pixel** ops (per-pixel colour functions, :mod:`.colour`) are composed and
   baked into one 3D colour table (:func:`.colour.bake_table`);
2. **frame** ops that need clip-level state get it from their ``fit``: palettes fitted on the
   sample frames *as they arrive at that step* (after the earlier steps), cell layouts,
   textures, particle sets, caustic waves — all from a generator seeded by ``(seed, step)``;
3. the result is a :class:`PreparedRecipe` (immutable; its fitted maps are plain arrays the
   engine may warp with the scene, listed by :attr:`Stage.warpable`).

:func:`run_recipe` then applies the stages to one frame; it uses nothing but the frame, the
prepared state and the per-frame inputs (frame index, depth, person/sky alpha), so the same
inputs give the same bytes. A step with amount 0 is skipped (exact identity).

Length parameters (px) are given for a 720-line frame and scaled with the frame height, so a
preview at lower resolution looks the same.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reworld.errors import InvalidInput
from reworld.ops.stylize import abstraction, atmosphere, cells, colour, ink, paint, quantize, relight, texture
from reworld.ops.stylize._common import (
    check_image,
    check_map,
    gaussian,
    hex_to_rgb,
    mix,
    resize,
    rotate_hue,
    rgb_to_hex,
    value_noise,
    work_size,
)
from reworld.ops.stylize.palettes import GRADIENTS, palette_rgb

__all__ = ["OPS", "FrameContext", "OpSpec", "PreparedRecipe", "Stage", "prepare_recipe", "run_recipe"]

FIT_LONG_SIDE = 320  #: sample frames are run through the recipe at this size during preparation


@dataclass(frozen=True)
class FrameContext:
    """Per-frame inputs of a frame op (maps already at the frame's size, or None)."""

    frame_index: int
    seed: int
    depth: np.ndarray | None = None
    person_alpha: np.ndarray | None = None
    sky_alpha: np.ndarray | None = None


@dataclass(frozen=True)
class OpSpec:
    """One recipe op.

    Attributes:
        name: recipe name. kind: ``"pixel"`` (baked into the colour table) or ``"frame"``.
        apply: pixel: ``fn(x, amount, **params)``; frame: ``fn(x, amount, params, fitted, ctx)``.
        fit: ``fit(samples, size, rng, params) -> dict`` (frame ops with clip-level state).
        animated: the output depends on the frame index.
        warpable: fitted keys that are scene-attached maps the engine may warp.
        summary: one line for docs.
    """

    name: str
    kind: str
    apply: Callable[..., np.ndarray]
    fit: Callable[..., dict[str, Any]] | None = None
    animated: bool = False
    warpable: tuple[str, ...] = ()
    summary: str = ""


@dataclass(frozen=True)
class Stage:
    """A prepared step: a baked colour table or one frame op with its fitted state."""

    op: str  #: "table" for a baked chain of pixel ops
    amount: float
    params: Mapping[str, Any] = field(default_factory=dict)
    fitted: Mapping[str, Any] = field(default_factory=dict)
    table: np.ndarray | None = None

    @property
    def warpable(self) -> tuple[str, ...]:
        """Fitted keys holding maps fixed to the scene (label maps, textures)."""
        return () if self.op == "table" else OPS[self.op].warpable


@dataclass(frozen=True)
class PreparedRecipe:
    """Clip-level state of a recipe (see :func:`prepare_recipe`)."""

    stages: tuple[Stage, ...]
    size: tuple[int, int]  #: (H, W) the fitted maps were made for
    seed: int

    @property
    def animated(self) -> bool:
        """True when some stage depends on the frame index."""
        return any(s.op != "table" and OPS[s.op].animated for s in self.stages)


def _px(x: np.ndarray) -> float:
    return x.shape[0] / 720.0


def _fit_map(value: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resize a fitted map to a frame's size (nearest for label maps)."""
    if value.shape[:2] == tuple(shape):
        return value
    return resize(value, shape, nearest=value.dtype == np.int32)


def _fitted(fitted: Mapping[str, Any], key: str, shape: tuple[int, int]) -> Any:
    v = fitted[key]
    if isinstance(v, np.ndarray) and v.ndim >= 2 and v.shape[:2] != tuple(shape):
        return _fit_map(v, shape)
    if isinstance(v, list):
        return [_fit_map(t, shape) if t.shape[:2] != tuple(shape) else t for t in v]
    return v


# ---------------------------------------------------------------- palettes


def _palette_fit(samples: np.ndarray, size: tuple[int, int], rng: np.random.Generator, p: Mapping[str, Any]) -> dict:
    if p.get("colours"):
        pal = np.stack([hex_to_rgb(c) for c in p["colours"]])
    elif p.get("name"):
        pal = palette_rgb(p["name"])
    else:
        pal = quantize.fit_palette(samples, int(p.get("k", 12)), rng)
    hue, sat, light = float(p.get("hue", 0.0)), float(p.get("saturation", 1.0)), float(p.get("lightness", 0.0))
    if hue or sat != 1.0 or light:
        pal = _adjust_palette(pal, hue, sat, light)
    return {"palette": pal.astype(np.float32), "table": quantize.palette_table(pal, metric=p.get("metric", "lab"))}


def _adjust_palette(pal: np.ndarray, hue: float, sat: float, light: float) -> np.ndarray:
    from reworld.ops.match import lab_to_srgb, srgb_to_lab

    if hue:
        pal = np.stack([hex_to_rgb(rotate_hue(rgb_to_hex(c), hue)) for c in pal])
    lab = srgb_to_lab(pal.astype(np.float32))
    lab[:, 1:] *= sat
    lab[:, 0] = np.clip(lab[:, 0] + light, 0, 100)
    return lab_to_srgb(lab)


def _palette_apply(x, a, p, f, ctx):  # type: ignore[no-untyped-def]
    return mix(x, quantize.map_to_palette(x, f["palette"], f["table"]), a)


def _pixelate_apply(x, a, p, f, ctx):  # type: ignore[no-untyped-def]
    block = max(1, int(round(1 + (float(p.get("block", 8)) * _px(x) - 1) * a)))
    pal = f.get("palette")
    out = quantize.pixelate(x, block=block, palette=pal, table=f.get("table"))
    return out if a >= 1.0 else mix(x, out, a)


def _pixelate_fit(samples, size, rng, p):  # type: ignore[no-untyped-def]
    if p.get("k") or p.get("name") or p.get("colours"):
        return _palette_fit(samples, size, rng, p)
    return {}


# ---------------------------------------------------------------- textures


def _scaled(size: tuple[int, int]) -> float:
    return size[0] / 720.0


def _paper_fit(samples, size, rng, p):  # type: ignore[no-untyped-def]
    return {"paper": texture.paper_texture(size, rng, scale=max(0.25, float(p.get("scale", 1.0)) * _scaled(size)))}


def _canvas_fit(samples, size, rng, p):  # type: ignore[no-untyped-def]
    return {"paper": texture.canvas_texture(size, rng, spacing=max(2.0, float(p.get("spacing", 4.0)) * _scaled(size)))}


def _texture_apply(x, a, p, f, ctx):  # type: ignore[no-untyped-def]
    return texture.apply_texture(x, _fitted(f, "paper", x.shape[:2]), strength=float(p.get("strength", 0.3)) * a,
                                 mode=p.get("mode", "multiply"))


def _grain_fit(samples, size, rng, p):  # type: ignore[no-untyped-def]
    if p.get("animated", False):
        return {}
    return {"grain": texture.grain_field(size, rng, size=float(p.get("size", 1.0)) * max(_scaled(size), 0.3),
                                         mono=bool(p.get("mono", True)))}


def _grain_apply(x, a, p, f, ctx):  # type: ignore[no-untyped-def]
    if "grain" in f:
        field_ = _fitted(f, "grain", x.shape[:2])
    else:
        rng = np.random.default_rng([ctx.seed & 0xFFFFFFFF, 0x6A, int(ctx.frame_index)])
        field_ = texture.grain_field(x.shape[:2], rng, size=max(0.3, float(p.get("size", 1.0)) * _px(x)),
                                     mono=bool(p.get("mono", True)))
    # finer than a pixel below 720 lines: a downscaled grain averages out (std ~ 1 / scale)
    return texture.add_grain(x, field_, amount=float(p.get("amount", 0.04)) * a * min(1.0, _px(x)))


def _hatch_fit(samples, size, rng, p):  # type: ignore[no-untyped-def]
    s = _scaled(size)
    base = float(p.get("angle", 45.0))
    n = int(p.get("layers", 3))
    spacing = max(2.0, float(p.get("spacing", 6.0)) * s)
    angles = [base + d for d in (0.0, -60.0, 40.0, 90.0, -25.0)[:n]]
    hatches = [texture.hatch_texture(size, rng, spacing=max(2.0, spacing * (1.0 - 0.12 * i)), angle=ang,
                                     thickness=0.35, wobble=min(8.0, 1.2 * s)) for i, ang in enumerate(angles)]
    return {"hatches": hatches, "paper": texture.paper_texture(size, rng, scale=max(0.25, s))}


def _pencil_apply(x, a, p, f, ctx):  # type: ignore[no-untyped-def]
    shape = x.shape[:2]
    out = ink.pencil_sketch(x, _fitted(f, "hatches", shape), _fitted(f, "paper", shape),
                            blur=min(64.0, max(1.0, float(p.get("blur", 10.0)) * _px(x))),
                            darkness=float(p.get("darkness", 1.2)), hatch_strength=float(p.get("hatch_strength", 0.75)),
                            colour=float(p.get("colour", 0.0)), lead=p.get("lead", "#2a2a30"),
                            paper_colour=p.get("paper_colour", "#f6f3ec"))
    return mix(x, out, a)


def _strokes_fit(samples, size, rng, p):  # type: ignore[no-untyped-def]
    s = _scaled(size)
    length = min(200.0, max(2.0, float(p.get("stroke_length", 14.0)) * s))
    out = {"paper": texture.paper_texture(size, rng, scale=max(0.25, s))}
    out["strokes"] = texture.stroke_texture(size, rng, length=length, angle=float(p.get("angle", 60.0)),
                                            density=float(p.get("density", 0.03)), width=min(8.0, 1.5 * s))
    return out


def _charcoal_apply(x, a, p, f, ctx):  # type: ignore[no-untyped-def]
    shape = x.shape[:2]
    out = ink.charcoal(x, _fitted(f, "paper", shape), _fitted(f, "strokes", shape),
                       contrast=float(p.get("contrast", 1.6)), smudge=min(16.0, float(p.get("smudge", 3.0)) * _px(x)),
                       lines=float(p.get("lines", 0.8)), paper_colour=p.get("paper_colour", "#ece6da"),
                       charcoal_colour=p.get("charcoal_colour", "#141212"))
    return mix(x, out, a)


def _pastel_apply(x, a, p, f, ctx):  # type: ignore[no-untyped-def]
    shape = x.shape[:2]
    out = paint.pastel(x, _fitted(f, "paper", shape), _fitted(f, "strokes", shape),
                       paper_colour=p.get("paper_colour", "#e9e0cf"), coverage=float(p.get("coverage", 0.7)))
    return mix(x, out, a)


def _oil_fit(samples, size, rng, p):  # type: ignore[no-untyped-def]
    brush = float(np.clip(float(p.get("brush", 12.0)), 2.0, 64.0))
    return {"strokes": paint.make_strokes(rng, aspect=size[1] / size[0], brush=brush, layers=int(p.get("layers", 2)))}


def _oil_apply(x, a, p, f, ctx):  # type: ignore[no-untyped-def]
    out = paint.oil_paint(x, f["strokes"], radius=int(p.get("radius", 4)), work_long_side=int(p.get("work_long_side", 640)),
                          impasto=min(4.0, float(p.get("impasto", 1.0)) * _px(x)), azimuth=float(p.get("angle", 120.0)),
                          length=float(p.get("length", 2.5)), detail=float(p.get("detail", 0.08)))
    return mix(x, out, a)


def _watercolour_fit(samples, size, rng, p):  # type: ignore[no-untyped-def]
    s = _scaled(size)
    sc = float(p.get("scale", 1.0)) * s
    return {"paper": texture.paper_texture(size, rng, scale=max(0.25, sc)),
            "granulation": value_noise(size, 6.0 * max(sc, 0.2), rng, octaves=3),
            "wobble": np.stack([value_noise(size, 40.0 * max(sc, 0.1), rng, octaves=2),
                                value_noise(size, 40.0 * max(sc, 0.1), rng, octaves=2)], -1)}


def _watercolour_apply(x, a, p, f, ctx):  # type: ignore[no-untyped-def]
    shape = x.shape[:2]
    out = paint.watercolour(x, _fitted(f, "paper", shape), _fitted(f, "granulation", shape), _fitted(f, "wobble", shape),
                            abstraction=float(p.get("abstraction", 1.0)), edge_darkening=float(p.get("edge_darkening", 1.2)),
                            granulation_strength=float(p.get("granulation", 0.7)), paper_strength=float(p.get("paper", 0.6)),
                            wobble_px=min(16.0, float(p.get("wobble", 3.0)) * _px(x)),
                            work_long_side=int(p.get("work_long_side", 640)))
    return mix(x, out, a)


def _relief_fit(samples, size, rng, p):  # type: ignore[no-untyped-def]
    s = _scaled(size)
    return {"bumps": value_noise(size, max(1.0, float(p.get("bump_scale", 6.0)) * s), rng, octaves=2)}


def _relief_apply(x, a, p, f, ctx):  # type: ignore[no-untyped-def]
    from reworld.ops.stylize._common import luma

    h = gaussian(luma(x), max(0.5, float(p.get("smooth", 4.0)) * _px(x))) * float(p.get("luma", 1.0))
    h = h + float(p.get("bumps", 0.0)) * _fitted(f, "bumps", x.shape[:2])
    # slopes per pixel grow as the frame shrinks: scale by the frame height (720 lines = 1)
    return paint.relief(x, h, strength=min(8.0, float(p.get("strength", 1.0)) * a * _px(x)), azimuth=float(p.get("angle", 120.0)),
                        elevation=float(p.get("elevation", 50.0)), specular=float(p.get("specular", 0.0)) * a)


# ---------------------------------------------------------------- abstraction / ink


def _smooth_apply(x, a, p, f, ctx):  # type: ignore[no-untyped-def]
    out = abstraction.abstract(x, sigma_s=min(400.0, float(p.get("sigma_s", 40.0)) * _px(x)),
                               sigma_r=float(p.get("sigma_r", 0.15)), iterations=int(p.get("iterations", 3)),
                               work_long_side=int(p.get("work_long_side", 640)), upsample=p.get("upsample", "linear"))
    return mix(x, out, a)


def _kuwahara_apply(x, a, p, f, ctx):  # type: ignore[no-untyped-def]
    size = work_size(x.shape, int(p.get("work_long_side", 640)))
    out = resize(abstraction.kuwahara(resize(x, size), radius=int(p.get("radius", 4)),
                                      sharpness=float(p.get("sharpness", 8.0))), x.shape[:2])
    return mix(x, out, a)


def _quantize_apply(x, a, p, f, ctx):  # type: ignore[no-untyped-def]
    return mix(x, quantize.quantize_luma(x, levels=int(p.get("levels", 6)), sharpness=float(p.get("sharpness", 6.0))), a)


def _lines(x: np.ndarray, p: Mapping[str, Any]) -> np.ndarray:
    s = _px(x)
    return ink.xdog_lines(x, sigma=min(8.0, max(0.3, float(p.get("sigma", 1.0)) * s)), k=float(p.get("k", 1.6)),
                          p=float(p.get("p", 20.0)), epsilon=float(p.get("epsilon", 0.02)), phi=float(p.get("phi", 40.0)),
                          pre_blur=min(4.0, float(p.get("pre_blur", 0.8)) * s))


def _ink_apply(x, a, p, f, ctx):  # type: ignore[no-untyped-def]
    return ink.ink(x, _lines(x, p), colour=p.get("colour", "#101010"), opacity=float(p.get("opacity", 1.0)) * a,
                   mode=p.get("mode", "multiply"))


def _neon_apply(x, a, p, f, ctx):  # type: ignore[no-untyped-def]
    out = ink.neon_lines(x, _lines(x, p), darken=float(p.get("darken", 0.8)), colour=p.get("colour"),
                         glow=min(64.0, float(p.get("glow", 6.0)) * _px(x)), intensity=float(p.get("intensity", 1.5)))
    return mix(x, out, a)


def _halftone_apply(x, a, p, f, ctx):  # type: ignore[no-untyped-def]
    out = texture.halftone(x, cell=min(64.0, max(3.0, float(p.get("cell", 8.0)) * _px(x))), angle=float(p.get("angle", 45.0)),
                           mode=p.get("mode", "mono"), ink=p.get("ink", "#101010"), paper=p.get("paper", "#f4efe4"),
                           smooth=min(16.0, float(p.get("smooth", 1.0)) * _px(x)))
    return mix(x, out, a)


def _grid_apply(x, a, p, f, ctx):  # type: ignore[no-untyped-def]
    return texture.grid_overlay(x, spacing=min(512.0, max(4.0, float(p.get("spacing", 40.0)) * _px(x))),
                                colour=p.get("colour", "#ffffff"), opacity=float(p.get("opacity", 0.25)) * a,
                                minor=int(p.get("minor", 4)))


def _soften_apply(x, a, p, f, ctx):  # type: ignore[no-untyped-def]
    return mix(x, gaussian(x, float(p.get("sigma", 2.0)) * _px(x)), a)


# ---------------------------------------------------------------- cells


def _voronoi_fit(samples, size, rng, p):  # type: ignore[no-untyped-def]
    cell = min(512.0, max(3.0, float(p.get("cell", 24.0)) * _scaled(size)))
    out = {"labels": cells.voronoi_layout(size, rng, cell=cell, jitter=float(p.get("jitter", 0.9)))}
    out["glass"] = value_noise(size, max(2.0, cell / 3.0), rng, octaves=2)
    return out


def _delaunay_fit(samples, size, rng, p):  # type: ignore[no-untyped-def]
    cell = min(512.0, max(4.0, float(p.get("cell", 40.0)) * _scaled(size)))
    first = resize(samples[0], size) if samples is not None and len(samples) else None
    labels = cells.delaunay_layout(size, rng, cell=cell, image=first, edge_points=int(p.get("edge_points", 300)))
    return {"labels": labels, "shade": rng.uniform(-1.0, 1.0, int(labels.max()) + 1).astype(np.float32)}


def _mosaic_apply(x, a, p, f, ctx):  # type: ignore[no-untyped-def]
    out = cells.mosaic(x, _fitted(f, "labels", x.shape[:2]), grout=min(8.0, float(p.get("grout", 1.5)) * _px(x)),
                       grout_colour=p.get("grout_colour", "#3a352f"), bevel=float(p.get("bevel", 0.25)))
    return mix(x, out, a)


def _glass_apply(x, a, p, f, ctx):  # type: ignore[no-untyped-def]
    shape = x.shape[:2]
    out = cells.stained_glass(x, _fitted(f, "labels", shape), _fitted(f, "glass", shape),
                              lead=min(8.0, float(p.get("lead", 2.0)) * _px(x)), lead_colour=p.get("lead_colour", "#15130f"),
                              saturation=float(p.get("saturation", 1.7)), brightness=float(p.get("brightness", 0.12)))
    return mix(x, out, a)


def _lowpoly_apply(x, a, p, f, ctx):  # type: ignore[no-untyped-def]
    out = cells.low_poly(x, _fitted(f, "labels", x.shape[:2]), f.get("shade"), facet=float(p.get("facet", 0.08)))
    return mix(x, out, a)


# ---------------------------------------------------------------- atmosphere / light


def _fog_apply(x, a, p, f, ctx):  # type: ignore[no-untyped-def]
    return atmosphere.fog(x, ctx.depth, density=float(p.get("density", 2.0)) * a, airlight=p.get("airlight", "#c8ccd0"),
                          near=float(p.get("near", 0.0)))


def _underwater_fit(samples, size, rng, p):  # type: ignore[no-untyped-def]
    return {"waves": atmosphere.make_waves(rng, scale=float(p.get("caustic_scale", 1.0)))}


def _underwater_apply(x, a, p, f, ctx):  # type: ignore[no-untyped-def]
    c = atmosphere.caustics(x.shape[:2], f["waves"], ctx.frame_index, speed=float(p.get("speed", 1.0)))
    out = atmosphere.underwater(x, ctx.depth, c, distance=float(p.get("distance", 1.5)),
                                absorption=tuple(p.get("absorption", (1.6, 0.45, 0.25))), water=p.get("water", "#0b5c74"),
                                turbidity=float(p.get("turbidity", 0.8)), caustic_strength=float(p.get("caustics", 0.35)))
    return mix(x, out, a)


def _bloom_apply(x, a, p, f, ctx):  # type: ignore[no-untyped-def]
    return atmosphere.bloom(x, threshold=float(p.get("threshold", 0.7)), radius=min(400.0, float(p.get("radius", 24.0)) * _px(x)),
                            strength=float(p.get("strength", 0.6)) * a, tint=p.get("tint", "#ffffff"))


def _vignette_apply(x, a, p, f, ctx):  # type: ignore[no-untyped-def]
    return atmosphere.vignette(x, amount=float(p.get("amount", 0.4)) * a, radius=float(p.get("radius", 0.6)),
                               softness=float(p.get("softness", 0.6)), colour=p.get("colour", "#000000"))


def _aberration_apply(x, a, p, f, ctx):  # type: ignore[no-untyped-def]
    return atmosphere.chromatic_aberration(x, shift=min(32.0, float(p.get("shift", 2.0)) * _px(x) * a))


def _particles_fit(samples, size, rng, p):  # type: ignore[no-untyped-def]
    area = size[0] * size[1] / (720.0 * 1280.0)
    count = int(np.clip(round(float(p.get("count", 600)) * max(area, 0.05) ** 0.5), 1, 20000))
    return {"particles": atmosphere.make_particles(rng, style=p.get("style", "snow"), count=count)}


def _particles_apply(x, a, p, f, ctx):  # type: ignore[no-untyped-def]
    return atmosphere.particles(x, f["particles"], int(ctx.frame_index), depth=ctx.depth, colour=p.get("colour", "#ffffff"),
                                opacity=float(p.get("opacity", 0.85)) * a, speed=float(p.get("speed", 1.0)),
                                wind=float(p.get("wind", 0.0)), size=float(p.get("size", 1.0)))


def _vhs_apply(x, a, p, f, ctx):  # type: ignore[no-untyped-def]
    out = atmosphere.vhs(x, int(ctx.frame_index), ctx.seed, bleed=float(p.get("bleed", 4.0)), jitter=float(p.get("jitter", 1.0)),
                         scanlines=float(p.get("scanlines", 0.15)), noise=float(p.get("noise", 0.03)),
                         tracking=float(p.get("tracking", 1.0)))
    return mix(x, out, a)


def _relight_apply(x, a, p, f, ctx):  # type: ignore[no-untyped-def]
    n = relight.normals_from_luma(x, relief=float(p.get("luma_relief", 3.0)), full_size=False)
    rim = occ = None
    if ctx.depth is not None:
        nd = relight.normals_from_depth(ctx.depth, n.shape[:2], relief=float(p.get("relief", 30.0)))
        n = nd / nd[..., 2:] + n / n[..., 2:]  # add the two tilts: (-gx1 - gx2, gy1 + gy2, 2)
        n[..., 2] = 1.0
        n /= np.linalg.norm(n, axis=-1, keepdims=True)
        rim, occ = relight.depth_edges(ctx.depth, None)
        rim = resize(rim, x.shape[:2])
    out = relight.relight(x, n, azimuth=float(p.get("angle", 135.0)), elevation=float(p.get("elevation", 35.0)),
                          key=p.get("key", "#ffffff"), key_strength=float(p.get("key_strength", 0.8)),
                          ambient=p.get("ambient", "#ffffff"), ambient_strength=float(p.get("ambient_strength", 0.5)),
                          rim=p.get("rim", "#ffffff"), rim_strength=float(p.get("rim_strength", 0.0)),
                          rim_map=rim, occlusion=None if occ is None else resize(occ, n.shape[:2]),
                          person_alpha=ctx.person_alpha)
    return mix(x, out, a)


def _sky_apply(x, a, p, f, ctx):  # type: ignore[no-untyped-def]
    return relight.sky_gradient(x, ctx.sky_alpha, top=p.get("top", "#1b3b8a"), horizon=p.get("horizon", "#f0a060"),
                                detail=float(p.get("detail", 0.6)), strength=float(p.get("strength", 1.0)) * a)


def _person_apply(x, a, p, f, ctx):  # type: ignore[no-untyped-def]
    if ctx.person_alpha is None:
        return x
    alpha = gaussian(ctx.person_alpha, 2.0 * _px(x))[..., None]
    c = hex_to_rgb(p.get("colour", "#ffffff"))
    return np.clip(x + np.float32(float(p.get("strength", 0.4)) * a) * alpha * (c - x), 0.0, 1.0).astype(np.float32)


def _gradient_pixel(x: np.ndarray, amount: float = 1.0, **p: Any) -> np.ndarray:
    stops = p.pop("stops", None)
    name = p.pop("name", None)
    if stops is None:
        if name not in GRADIENTS:
            raise InvalidInput("gradient_map.name", name, f"must be one of {', '.join(sorted(GRADIENTS))}")
        stops = GRADIENTS[name]
    hue = float(p.pop("hue", 0.0))
    if hue:
        stops = tuple((pos, rotate_hue(c, hue)) for pos, c in stops)
    return colour.gradient_map(x, amount, stops=stops, **p)


OPS: dict[str, OpSpec] = {
    spec.name: spec
    for spec in [
        OpSpec("grade", "pixel", colour.grade_op, summary="primary grade (GradeParams fields), scaled toward identity"),
        OpSpec("split_tone", "pixel", colour.split_tone, summary="tint shadows and highlights (a*b* by L*)"),
        OpSpec("channel_mix", "pixel", colour.channel_mix, summary="3x3 channel mixer + offset"),
        OpSpec("mono", "pixel", colour.mono, summary="black and white through a coloured filter"),
        OpSpec("gradient_map", "pixel", _gradient_pixel, summary="luma through colour stops or a named gradient"),
        OpSpec("hue_shift", "pixel", colour.hue_shift, summary="rotate/saturate one band of hues (LCh)"),
        OpSpec("tint", "pixel", colour.tint, summary="multiply/screen/overlay/colour blend with one colour"),
        OpSpec("fade", "pixel", colour.fade, summary="black and white points to colours"),
        OpSpec("bleach", "pixel", colour.bleach, summary="bleach bypass"),
        OpSpec("smooth", "frame", _smooth_apply, summary="edge-aware smoothing (domain transform)"),
        OpSpec("kuwahara", "frame", _kuwahara_apply, summary="smooth Kuwahara paint patches"),
        OpSpec("quantize_luma", "frame", _quantize_apply, summary="soft lightness bands (cel shading)"),
        OpSpec("palette", "frame", _palette_apply, _palette_fit, summary="nearest colour of a clip-level palette"),
        OpSpec("pixelate", "frame", _pixelate_apply, _pixelate_fit, summary="pixel art blocks (+ palette)"),
        OpSpec("ink", "frame", _ink_apply, summary="XDoG lines laid in one colour"),
        OpSpec("neon", "frame", _neon_apply, summary="glowing neon tubes along the lines"),
        OpSpec("pencil", "frame", _pencil_apply, _hatch_fit, warpable=("hatches", "paper"), summary="pencil sketch + hatching"),
        OpSpec("charcoal", "frame", _charcoal_apply, _strokes_fit, warpable=("paper", "strokes"), summary="charcoal"),
        OpSpec("pastel", "frame", _pastel_apply, _strokes_fit, warpable=("paper", "strokes"), summary="chalk pastel"),
        OpSpec("oil", "frame", _oil_apply, _oil_fit, summary="oil paint: Kuwahara + brush strokes + impasto"),
        OpSpec("watercolour", "frame", _watercolour_apply, _watercolour_fit, warpable=("paper", "granulation", "wobble"),
               summary="watercolour (Bousseau et al. 2006)"),
        OpSpec("relief", "frame", _relief_apply, _relief_fit, warpable=("bumps",), summary="light a luma/bump height field"),
        OpSpec("halftone", "frame", _halftone_apply, summary="AM halftone dots"),
        OpSpec("grid", "frame", _grid_apply, summary="draft grid lines"),
        OpSpec("soften", "frame", _soften_apply, summary="Gaussian softening"),
        OpSpec("paper", "frame", _texture_apply, _paper_fit, warpable=("paper",), summary="paper texture"),
        OpSpec("canvas", "frame", _texture_apply, _canvas_fit, warpable=("paper",), summary="canvas weave texture"),
        OpSpec("grain", "frame", _grain_apply, _grain_fit, summary="film grain (static field, or per frame if animated)"),
        OpSpec("mosaic", "frame", _mosaic_apply, _voronoi_fit, warpable=("labels", "glass"), summary="Voronoi tiles"),
        OpSpec("stained_glass", "frame", _glass_apply, _voronoi_fit, warpable=("labels", "glass"), summary="stained glass"),
        OpSpec("low_poly", "frame", _lowpoly_apply, _delaunay_fit, warpable=("labels",), summary="Delaunay facets"),
        OpSpec("fog", "frame", _fog_apply, summary="depth fog"),
        OpSpec("underwater", "frame", _underwater_apply, _underwater_fit, animated=True, summary="underwater + caustics"),
        OpSpec("bloom", "frame", _bloom_apply, summary="glow around highlights"),
        OpSpec("vignette", "frame", _vignette_apply, summary="corner fall-off"),
        OpSpec("aberration", "frame", _aberration_apply, summary="lateral chromatic aberration"),
        OpSpec("particles", "frame", _particles_apply, _particles_fit, animated=True, summary="snow/rain/embers/petals/dust"),
        OpSpec("vhs", "frame", _vhs_apply, animated=True, summary="VHS tape artefacts"),
        OpSpec("relight", "frame", _relight_apply, summary="key/ambient/rim relight from depth normals"),
        OpSpec("sky", "frame", _sky_apply, summary="sky recoloured with a gradient (needs sky alpha)"),
        OpSpec("person", "frame", _person_apply, summary="tint the person (needs person alpha)"),
    ]
}


def _check_steps(steps: Sequence[tuple[str, Mapping[str, Any], float]]) -> None:
    for i, step in enumerate(steps):
        if len(step) != 3:
            raise InvalidInput(f"steps[{i}]", step, "must be (op, params, amount)")
        op, params, amount = step
        if op not in OPS:
            raise InvalidInput(f"steps[{i}].op", op, f"must be one of {', '.join(sorted(OPS))}")
        if not isinstance(params, Mapping):
            raise InvalidInput(f"steps[{i}].params", params, "must be a mapping")
        if not (isinstance(amount, (int, float)) and math.isfinite(amount) and 0.0 <= amount <= 1.0):
            raise InvalidInput(f"steps[{i}].amount", amount, "must be in [0, 1]")


def _run_stage(stage: Stage, x: np.ndarray, ctx: FrameContext) -> np.ndarray:
    if stage.op == "table":
        return colour.apply_table(x, stage.table)
    out = OPS[stage.op].apply(x, stage.amount, stage.params, stage.fitted, ctx)
    return np.clip(out, 0.0, 1.0).astype(np.float32, copy=False)


def prepare_recipe(steps: Sequence[tuple[str, Mapping[str, Any], float]], samples: np.ndarray, *, seed: int,
                   depth: np.ndarray | None = None, size: tuple[int, int] | None = None,
                   table_size: int = colour.TABLE_SIZE) -> PreparedRecipe:
    """Prepare a recipe for a clip (see the module docstring).

    Args:
        steps: ``[(op, params, amount), ...]``; amount in [0, 1] (0 = step skipped).
        samples: ``(n, H, W, 3)`` float32 sample frames in [0, 1] (a few frames of the clip).
        seed: int; fixes every random choice (textures, palettes' k-means start, layouts).
        depth: optional ``(h, w)`` or ``(n, h, w)`` relative inverse depth of the samples.
        size: (H, W) of the frames the state is for (default: the samples' size).
        table_size: lattice size of baked colour tables.

    Returns:
        :class:`PreparedRecipe`.

    Example:
        >>> frames = np.random.default_rng(0).random((2, 24, 32, 3), dtype=np.float32)
        >>> prep = prepare_recipe([("grade", {"contrast": 1.3}, 1.0), ("vignette", {}, 1.0)], frames, seed=0)
        >>> [s.op for s in prep.stages]
        ['table', 'vignette']
    """
    _check_steps(steps)
    if not isinstance(samples, np.ndarray) or samples.ndim != 4 or samples.shape[-1] != 3 or samples.dtype != np.float32:
        raise InvalidInput("samples", getattr(samples, "shape", type(samples).__name__), "must be (n, H, W, 3) float32")
    size = tuple(size or samples.shape[1:3])  # type: ignore[assignment]
    small_size = work_size(samples.shape[1:3], FIT_LONG_SIDE)
    work = np.stack([resize(check_image(np.ascontiguousarray(s), "samples"), small_size) for s in samples])
    if depth is not None:
        d = np.asarray(depth)
        d = d if d.ndim == 3 else np.broadcast_to(d, (len(samples), *d.shape))
        depths = [check_map(np.ascontiguousarray(di), small_size, "depth") for di in d]
    else:
        depths = [None] * len(samples)
    stages: list[Stage] = []
    pending: list[tuple[Callable[..., np.ndarray], float, Mapping[str, Any]]] = []

    def flush() -> None:
        nonlocal work
        if pending:
            table = colour.bake_table(colour.chain(list(pending)), table_size)
            stage = Stage("table", 1.0, table=table)
            stages.append(stage)
            work = np.stack([colour.apply_table(w, table) for w in work])
            pending.clear()

    for i, (op, params, amount) in enumerate(steps):
        if amount <= 0.0:
            continue
        spec = OPS[op]
        if spec.kind == "pixel":
            pending.append((spec.apply, float(amount), dict(params)))
            continue
        flush()
        rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, i, 0x5EED])
        fitted = spec.fit(work, size, rng, params) if spec.fit is not None else {}
        stage = Stage(op, float(amount), dict(params), fitted)
        stages.append(stage)
        work = np.stack([_run_stage(stage, w, FrameContext(0, int(seed), depth=dd)) for w, dd in zip(work, depths)])
    flush()
    return PreparedRecipe(tuple(stages), (int(size[0]), int(size[1])), int(seed))


def run_recipe(prepared: PreparedRecipe, frame: np.ndarray, *, frame_index: int = 0, depth: np.ndarray | None = None,
               person_alpha: np.ndarray | None = None, sky_alpha: np.ndarray | None = None) -> np.ndarray:
    """Apply a prepared recipe to one ``(H, W, 3)`` float32 frame; returns a new float32 frame in [0, 1].

    Example:
        >>> frames = np.random.default_rng(0).random((1, 8, 8, 3), dtype=np.float32)
        >>> prep = prepare_recipe([("grade", {"saturation": 0.0}, 1.0)], frames, seed=0)
        >>> out = run_recipe(prep, frames[0])
        >>> bool(np.abs(out - out[..., :1]).max() < 2e-3)
        True
    """
    check_image(frame, "frame")
    if not isinstance(frame_index, (int, np.integer)) or frame_index < 0:
        raise InvalidInput("frame_index", frame_index, "must be an integer >= 0")
    shape = frame.shape[:2]
    ctx = FrameContext(int(frame_index), prepared.seed, check_map(depth, shape, "depth"),
                       check_map(person_alpha, shape, "person_alpha"), check_map(sky_alpha, shape, "sky_alpha"))
    x = frame
    for stage in prepared.stages:
        x = _run_stage(stage, x, ctx)
    return x if x is not frame else frame.copy()
