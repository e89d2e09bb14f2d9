"""Stylize ops (reworld.ops.stylize): exact expectations on synthetic images, determinism, ranges."""

from __future__ import annotations

import numpy as np
import pytest

from reworld.errors import InvalidInput
from reworld.ops.stylize import (
    abstract,
    add_grain,
    apply_table,
    bake_table,
    bloom,
    caustics,
    cell_means,
    channel_mix,
    chromatic_aberration,
    delaunay_layout,
    fit_palette,
    fog,
    grade_op,
    gradient_map,
    grain_field,
    halftone,
    hatch_texture,
    hue_shift,
    kuwahara,
    low_poly,
    make_particles,
    make_waves,
    map_to_palette,
    mono,
    mosaic,
    normals_from_depth,
    palette_table,
    paper_texture,
    particles,
    pixelate,
    prepare_recipe,
    quantize_luma,
    run_recipe,
    sky_gradient,
    split_tone,
    stained_glass,
    underwater,
    vhs,
    vignette,
    voronoi_layout,
    xdog_lines,
)
from reworld.ops.match import srgb_to_lab
from reworld.ops.stylize.paint import brush_strokes, make_strokes, oil_paint, watercolour
from reworld.ops.stylize.relight import depth_edges, relight


def rand_image(h: int = 48, w: int = 64, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)  # fixed seed: deterministic fixture
    return rng.random((h, w, 3), dtype=np.float32)


def smooth_image(h: int = 48, w: int = 64) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.stack([xx / (w - 1), yy / (h - 1), 0.5 + 0.3 * np.sin(xx / 7)], -1).astype(np.float32)


# ---------------------------------------------------------------- colour ops


def test_table_reproduces_a_smooth_colour_function():
    img = rand_image()
    fn = lambda x: np.clip(x**0.8 * np.array([1.0, 0.9, 0.8], np.float32), 0, 1)  # noqa: E731
    out = apply_table(img, bake_table(fn, 33))
    err = np.abs(out - fn(img))
    assert err.max() < 6e-3 and err.mean() < 5e-4  # trilinear error is largest where x ** 0.8 is steep
    assert np.abs(apply_table(img, bake_table(lambda x: x, 33)) - img).max() < 1e-3


def test_pixel_ops_are_identity_at_amount_zero():
    x = rand_image().reshape(-1, 3)
    for op, kw in [(grade_op, {"contrast": 1.5, "temperature": 0.5}), (split_tone, {"strength": 1.0}),
                   (channel_mix, {"matrix": ((0, 1, 0), (1, 0, 0), (0, 0, 1))}), (mono, {}),
                   (gradient_map, {}), (hue_shift, {"shift": 90.0})]:
        assert np.abs(op(x, 0.0, **kw) - x).max() < 2e-3, op.__name__


def test_split_tone_keeps_lightness_and_mono_is_grey():
    x = rand_image().reshape(-1, 3) * 0.8 + 0.1
    toned = split_tone(x, 1.0, strength=0.6)
    assert np.abs(srgb_to_lab(toned)[:, 0] - srgb_to_lab(x)[:, 0]).mean() < 1.0
    g = mono(x, 1.0, filter="#ff3010", filter_strength=1.5)
    assert np.allclose(g[:, 0], g[:, 1]) and np.allclose(g[:, 1], g[:, 2])


def test_gradient_map_hits_its_end_stops():
    x = np.array([[0, 0, 0], [1, 1, 1]], np.float32)
    out = gradient_map(x, 1.0, stops=((0, "#102030"), (1, "#f0e0d0")))
    assert np.allclose(out * 255, [[16, 32, 48], [240, 224, 208]], atol=0.01)


def test_hue_shift_moves_only_the_chosen_band():
    green, red = np.array([[0.2, 0.7, 0.2]], np.float32), np.array([[0.8, 0.15, 0.1]], np.float32)
    moved = hue_shift(green, 1.0, centre=135, width=60, shift=-80)
    assert np.abs(moved - green).max() > 0.1
    assert np.abs(hue_shift(red, 1.0, centre=135, width=60, shift=-80) - red).max() < 2e-3


# ---------------------------------------------------------------- palettes and quantization


def test_palette_mapping_outputs_only_palette_colours():
    pal = np.array([[0.1, 0.1, 0.1], [0.9, 0.2, 0.2], [0.2, 0.8, 0.3], [0.95, 0.95, 0.9]], np.float32)
    out = map_to_palette(smooth_image(), pal, palette_table(pal))
    colours = np.unique(out.reshape(-1, 3), axis=0)
    assert all(any(np.array_equal(c, p) for p in pal) for c in colours)
    assert len(colours) >= 3


def test_fit_palette_is_deterministic_and_finds_the_clusters():
    img = np.zeros((20, 30, 3), np.float32)
    img[:, 10:20] = (1.0, 0.0, 0.0)
    img[:, 20:] = (0.0, 0.0, 1.0)
    a = fit_palette(img, 3, np.random.default_rng(5))
    b = fit_palette(img, 3, np.random.default_rng(5))
    assert np.array_equal(a, b)
    assert sorted(map(tuple, a.round(3).tolist())) == [(0.0, 0.0, 0.0), (0.0, 0.0, 1.0), (1.0, 0.0, 0.0)]


def test_quantize_luma_makes_bands():
    ramp = np.repeat(np.linspace(0.05, 0.95, 200, dtype=np.float32)[None, :, None], 3, axis=2)
    out = quantize_luma(ramp, levels=4, sharpness=40.0)
    lightness = srgb_to_lab(out)[0, :, 0]
    hist = np.sort(np.histogram(lightness, bins=20, range=(0, 100))[0])[::-1]
    assert hist[:5].sum() >= 0.85 * lightness.size  # four plateaus (one split by a bin edge), short transitions


def test_pixelate_blocks_are_constant():
    out = pixelate(rand_image(), block=8)
    for by in range(0, 48, 8):
        for bx in range(0, 64, 8):
            assert (out[by:by + 8, bx:bx + 8] == out[by, bx]).all()


# ---------------------------------------------------------------- abstraction, paint, ink


def test_abstraction_keeps_flat_regions_and_edges():
    img = np.zeros((40, 40, 3), np.float32)
    img[:, 20:] = 1.0
    for out in (abstract(img, sigma_s=10.0), kuwahara(img, radius=3)):
        assert np.abs(out[:, :17] - 0.0).max() < 1e-3 and np.abs(out[:, 23:] - 1.0).max() < 1e-3
    noisy = np.clip(0.5 + 0.05 * np.random.default_rng(0).standard_normal((40, 40, 3)), 0, 1).astype(np.float32)
    assert kuwahara(noisy, radius=4).std() < 0.5 * noisy.std()


def test_xdog_draws_lines_on_edges_only():
    img = np.ones((30, 30, 3), np.float32)
    img[:, 15:] = 0.2
    lines = xdog_lines(img)
    assert lines[:, :10].max() == 0.0 and lines[:, 20:].max() == 0.0
    assert lines[:, 13:17].max() > 0.5


def test_oil_and_watercolour_keep_shape_and_range():
    img = smooth_image()
    t = np.full(img.shape[:2], 0.5, np.float32)
    for out in (oil_paint(img, make_strokes(np.random.default_rng(0), brush=30.0), radius=2),
                watercolour(img, t, t, np.full((*img.shape[:2], 2), 0.5, np.float32)),
                brush_strokes(img, make_strokes(np.random.default_rng(1), brush=40.0))):
        assert out.shape == img.shape and out.dtype == np.float32
        assert np.isfinite(out).all() and out.min() >= 0 and out.max() <= 1


# ---------------------------------------------------------------- textures and screens


def test_halftone_mono_has_two_levels_and_true_coverage():
    grey = np.full((96, 96, 3), 0.7, np.float32)  # luma 0.7: 30 % ink
    out = halftone(grey, cell=8.0, angle=30.0)
    levels = np.unique(out.reshape(-1, 3), axis=0)
    assert len(levels) == 2
    ink = (out[..., 0] < 0.5).mean()
    assert abs(ink - 0.3) < 0.03
    assert len(np.unique(halftone(rand_image(), cell=6.0).reshape(-1, 3), axis=0)) == 2


def test_textures_are_deterministic_in_range_and_seed_dependent():
    for make in (lambda r: paper_texture((32, 40), r), lambda r: hatch_texture((32, 40), r),
                 lambda r: grain_field((32, 40), r)):
        a, b, c = make(np.random.default_rng(3)), make(np.random.default_rng(3)), make(np.random.default_rng(4))
        assert np.array_equal(a, b) and not np.array_equal(a, c)
    p = paper_texture((32, 40), np.random.default_rng(0))
    assert 0 <= p.min() and p.max() <= 1
    img = rand_image(32, 40)
    assert np.array_equal(add_grain(img, np.zeros((32, 40), np.float32)), img)


# ---------------------------------------------------------------- cells


def test_voronoi_cells_are_one_colour_inside_a_cell():
    img = rand_image(60, 80)
    labels = voronoi_layout((60, 80), np.random.default_rng(0), cell=12.0)
    out = mosaic(img, labels, grout=0.0, bevel=0.0)
    means = cell_means(img, labels)
    for k in np.unique(labels):
        inside = out[labels == k]
        assert (inside == inside[0]).all()
        assert np.allclose(inside[0], means[k], atol=1e-6)
    assert np.array_equal(labels, voronoi_layout((60, 80), np.random.default_rng(0), cell=12.0))


def test_low_poly_triangles_and_stained_glass_are_flat_per_cell():
    img = rand_image(60, 80)
    tri = delaunay_layout((60, 80), np.random.default_rng(1), cell=16.0, image=img)
    assert tri.min() == 0 and tri.max() > 8
    out = low_poly(img, tri, np.zeros(int(tri.max()) + 1, np.float32))
    for k in np.unique(tri)[:10]:
        assert (out[tri == k] == out[tri == k][0]).all()
    glass = stained_glass(img, voronoi_layout((60, 80), np.random.default_rng(0), cell=15.0))
    assert glass.shape == img.shape and glass.min() >= 0 and glass.max() <= 1


# ---------------------------------------------------------------- atmosphere


def test_fog_is_identity_at_near_depth_and_airlight_far_away():
    img = rand_image()
    assert np.allclose(fog(img, np.ones(img.shape[:2], np.float32), density=8.0), img, atol=1e-6)
    far = fog(img, np.zeros(img.shape[:2], np.float32), density=20.0, airlight="#808080")
    assert np.allclose(far, 128 / 255, atol=1e-3)
    # fog grows with distance
    d = np.tile(np.linspace(1, 0, 64, dtype=np.float32), (48, 1))
    out = fog(np.zeros_like(img), d, density=2.0, airlight="#ffffff")
    assert (np.diff(out[0, :, 0]) >= 0).all()


def test_underwater_absorbs_red_first():
    img = np.full((8, 8, 3), 0.8, np.float32)
    out = underwater(img, np.zeros((8, 8), np.float32))
    assert out[0, 0, 0] < out[0, 0, 1] and out[0, 0, 0] < out[0, 0, 2]


def test_particles_move_with_time_and_are_reproducible():
    img = np.zeros((72, 128, 3), np.float32)
    parts = make_particles(np.random.default_rng(0), style="snow", count=60)
    f3, f3b, f4 = particles(img, parts, 3), particles(img, parts, 3), particles(img, parts, 40)
    assert np.array_equal(f3, f3b) and not np.array_equal(f3, f4)
    rain = make_particles(np.random.default_rng(0), style="rain", count=60)
    assert particles(img, rain, 0).max() > 0
    with pytest.raises(InvalidInput, match="style"):
        make_particles(np.random.default_rng(0), style="hail")


def test_vhs_and_caustics_depend_only_on_frame_index_and_seed():
    img = smooth_image()
    assert np.array_equal(vhs(img, 5, 9), vhs(img, 5, 9))
    assert not np.array_equal(vhs(img, 5, 9), vhs(img, 6, 9))
    waves = make_waves(np.random.default_rng(2))
    c0, c1 = caustics((40, 60), waves, 0), caustics((40, 60), waves, 10)
    assert np.array_equal(c0, caustics((40, 60), waves, 0)) and not np.array_equal(c0, c1)
    assert 0 <= c0.min() and c0.max() <= 1


def test_lens_ops_are_neutral_where_they_should_be():
    flat = np.full((32, 48, 3), 0.4, np.float32)
    assert np.allclose(chromatic_aberration(flat, shift=3.0), flat)
    assert np.array_equal(bloom(np.zeros_like(flat)), np.zeros_like(flat))
    v = vignette(np.ones_like(flat), amount=0.8)
    assert v[16, 24, 0] > 0.99 and v[0, 0, 0] < 0.5


# ---------------------------------------------------------------- relight and sky


def test_relight_and_normals_from_depth():
    shape = (40, 60)
    n = normals_from_depth(np.full(shape, 0.5, np.float32), shape)
    assert np.allclose(n, (0, 0, 1), atol=1e-6)
    ramp = np.tile(np.linspace(0, 1, 60, dtype=np.float32), (40, 1))  # nearer to the right
    tilted = normals_from_depth(ramp, shape, relief=200.0)
    assert tilted[20, 30, 0] < -0.05  # surface faces left (x component negative)
    img = np.full((*shape, 3), 0.5, np.float32)
    lit_left = relight(img, tilted, azimuth=180.0, elevation=30.0, key_strength=0.8, ambient_strength=0.3)
    lit_right = relight(img, tilted, azimuth=0.0, elevation=30.0, key_strength=0.8, ambient_strength=0.3)
    assert lit_left.mean() > lit_right.mean()
    d = np.zeros(shape, np.float32)
    d[10:30, 20:40] = 1.0
    rim, occ = depth_edges(d, shape)
    assert rim[11, 30] > rim[20, 30] and occ[8, 30] > occ[0, 0]


def test_sky_gradient_needs_a_sky_and_paints_it():
    img = np.full((20, 30, 3), 0.6, np.float32)
    assert np.array_equal(sky_gradient(img, None), img)
    alpha = np.zeros((20, 30), np.float32)
    alpha[:8] = 1.0
    out = sky_gradient(img, alpha, top="#102060", horizon="#f0a060", detail=0.0)
    assert np.allclose(out[0, 0] * 255, (16, 32, 96), atol=0.5)
    assert np.array_equal(out[10:], img[10:])


# ---------------------------------------------------------------- recipes


def test_recipe_merges_colour_steps_and_skips_zero_amounts():
    frames = np.stack([smooth_image(), rand_image()])
    steps = [("grade", {"contrast": 1.2}, 1.0), ("split_tone", {}, 0.5), ("vignette", {}, 1.0),
             ("bloom", {}, 0.0), ("mono", {}, 1.0)]
    prep = prepare_recipe(steps, frames, seed=1)
    assert [s.op for s in prep.stages] == ["table", "vignette", "table"]
    a = run_recipe(prep, frames[0], frame_index=3)
    b = run_recipe(prepare_recipe(steps, frames, seed=1), frames[0], frame_index=3)
    assert np.array_equal(a, b)
    with pytest.raises(InvalidInput, match="vignette"):  # the message lists the valid ops
        prepare_recipe([("nonsense", {}, 1.0)], frames, seed=0)


def test_recipe_rejects_bad_frames():
    prep = prepare_recipe([("mono", {}, 1.0)], rand_image()[None], seed=0)
    with pytest.raises(InvalidInput, match="frame"):
        run_recipe(prep, (rand_image() * 255).astype(np.uint8))
    with pytest.raises(InvalidInput, match="frame_index"):
        run_recipe(prep, rand_image(), frame_index=-1)
