"""Stylisation ops for looks: pure array functions on ``(H, W, 3)`` float32 RGB in [0, 1] (layer 1).

Optional per-pixel inputs, accepted as ``None``: ``depth`` (relative inverse depth, 1 = near),
``person_alpha`` and ``sky_alpha`` (``(h, w)`` in [0, 1], resized to the frame). Anything a look
needs at clip level (a palette, a cell layout, a texture, a particle set) is made once by a
``fit``/``make_*`` function from a seeded generator and passed in per frame — nothing that runs
per frame looks at image statistics, so nothing adds flicker of its own.

Modules:

- :mod:`.colour` — per-pixel colour ops (grade, split tone, channel mixer, mono filter,
  gradient map, hue band shift, tint, fade, bleach) and the fast baked 3D colour table;
- :mod:`.quantize` — clip-level palettes (k-means), palette mapping, soft luma bands, pixel art;
- :mod:`.abstraction` — domain-transform abstraction, smooth Kuwahara, guided upsampling;
- :mod:`.paint` — oil paint (impasto), watercolour (Bousseau et al. 2006), pastel, relief;
- :mod:`.ink` — XDoG lines, ink, neon tubes, pencil sketch with hatching, charcoal;
- :mod:`.texture` — paper, canvas, strokes, hatching, film grain, halftone, grid;
- :mod:`.cells` — Voronoi/Delaunay layouts, mosaic, stained glass, low poly;
- :mod:`.atmosphere` — fog from depth, underwater, bloom, vignette, chromatic aberration,
  weather particles, VHS;
- :mod:`.relight` — normals from depth (or luma), Lambert key + ambient + rim relight, sky gradient;
- :mod:`.palettes` — named palettes and gradients (data);
- :mod:`.recipe` — the op table and the interpreter that prepares (once per clip) and runs
  (per frame) a look's list of steps.

The functions ``ink.ink`` and ``relight.relight`` share their module's name, so they are not
re-exported here (import them from their modules).

Example:
    >>> import numpy as np
    >>> from reworld.ops.stylize import fog
    >>> img = np.full((4, 4, 3), 0.2, np.float32)
    >>> bool(np.allclose(fog(img, np.ones((4, 4), np.float32)), img))
    True
"""

from __future__ import annotations

from reworld.ops.stylize.abstraction import abstract, guided_upsample, kuwahara
from reworld.ops.stylize.atmosphere import (
    bloom,
    caustics,
    chromatic_aberration,
    depth_prior,
    fog,
    make_particles,
    make_waves,
    particles,
    underwater,
    vhs,
    vignette,
)
from reworld.ops.stylize.cells import cell_means, delaunay_layout, low_poly, mosaic, stained_glass, voronoi_layout
from reworld.ops.stylize.colour import (
    apply_table,
    bake_table,
    bleach,
    channel_mix,
    fade,
    grade_op,
    gradient_map,
    hue_shift,
    mono,
    split_tone,
    tint,
)
from reworld.ops.stylize.ink import charcoal, neon_lines, pencil_sketch, xdog_lines
from reworld.ops.stylize.paint import oil_paint, pastel, relief, watercolour
from reworld.ops.stylize.quantize import fit_palette, map_to_palette, palette_table, pixelate, quantize_luma
from reworld.ops.stylize.recipe import OPS, PreparedRecipe, prepare_recipe, run_recipe
from reworld.ops.stylize.relight import normals_from_depth, normals_from_luma, sky_gradient
from reworld.ops.stylize.texture import (
    add_grain,
    apply_texture,
    canvas_texture,
    grain_field,
    grid_overlay,
    halftone,
    hatch_texture,
    paper_texture,
    stroke_texture,
)

__all__ = [
    "OPS", "PreparedRecipe", "abstract", "add_grain", "apply_table", "apply_texture", "bake_table", "bleach", "bloom",
    "canvas_texture", "caustics", "cell_means", "channel_mix", "charcoal", "chromatic_aberration", "delaunay_layout",
    "depth_prior", "fade", "fit_palette", "fog", "grade_op", "gradient_map", "grain_field", "grid_overlay",
    "guided_upsample", "halftone", "hatch_texture", "hue_shift", "kuwahara", "low_poly", "make_particles",
    "make_waves", "map_to_palette", "mono", "mosaic", "neon_lines", "normals_from_depth", "normals_from_luma",
    "oil_paint", "palette_table", "paper_texture", "particles", "pastel", "pencil_sketch", "pixelate",
    "prepare_recipe", "quantize_luma", "relief", "run_recipe", "sky_gradient", "split_tone",
    "stained_glass", "stroke_texture", "tint", "underwater", "vhs", "vignette", "voronoi_layout", "watercolour",
    "xdog_lines",
]
