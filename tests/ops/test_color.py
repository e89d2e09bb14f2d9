"""reworld.ops.color: the primary grade (kornia-style test names)."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

from reworld.errors import InvalidInput
from reworld.ops.color import (
    REC709_LUMA,
    GradeParams,
    _decode,
    _encode,
    grade,
    grade_function,
    linear_to_srgb,
    srgb_to_linear,
    temperature_to_cct,
    white_balance_matrix,
)
from reworld.ops.lut import identity_lut

LEVEL = 1.0 / 255.0


def _colour():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import colour
    return colour


def _rand(shape, seed=0):
    return np.random.default_rng(seed).random(shape).astype(np.float32)  # local seeded generator


def _lin(x):
    return srgb_to_linear(np.asarray(x, np.float32)).astype(np.float64)


def _luma(rgb_lin):
    return np.asarray(rgb_lin, np.float64) @ REC709_LUMA


from conftest import REALISTIC_GRADE as REALISTIC  # noqa: E402 - shared test grade
FULL = GradeParams(
    exposure=0.3, contrast=1.1, saturation=1.2, vibrance=0.4, temperature=-0.2, tint=0.2,
    lift=(0.01, 0.02, 0.0), gamma=(1.0, 1.1, 1.0), gain=(1.0, 0.97, 1.02),
    shadows=0.2, midtones=-0.1, highlights=0.1,
    curves={"master": ((0, 0), (0.5, 0.55), (1, 1)), "b": ((0, 0.02), (1, 0.98))},
)


def test_smoke():
    out = grade(_rand((2, 8, 8, 3)), REALISTIC)
    assert out.dtype == np.float32 and out.shape == (2, 8, 8, 3)
    assert 0.0 <= out.min() and out.max() <= 1.0


@pytest.mark.parametrize("shape", [(1, 1, 3), (1, 1, 1, 3), (3,), (0, 3), (3, 5, 7, 3), (16384 + 5, 3), (2, 97, 131, 3)])
@pytest.mark.parametrize("params", [GradeParams(), REALISTIC, FULL], ids=["identity", "realistic", "full"])
def test_cardinality(shape, params):
    x = _rand(shape)
    out = grade(x, params)
    assert out.shape == shape and out.dtype == np.float32
    # chunking and threading never change a pixel's result
    if x.size:
        flat = grade(x.reshape(-1, 3)[::-1].copy(), params)[::-1]
        np.testing.assert_array_equal(flat.reshape(shape), out)


def test_accepts_uint8_and_never_mutates():
    x8 = (np.arange(48, dtype=np.uint8) * 5).reshape(4, 4, 3)
    x = x8.astype(np.float32) / 255
    before = x.copy()
    np.testing.assert_allclose(grade(x8, REALISTIC), grade(x, REALISTIC), atol=1e-6)
    np.testing.assert_array_equal(x, before)


def test_exception_image():
    with pytest.raises(InvalidInput) as info:
        grade(np.zeros((4, 4), np.float32), GradeParams())
    assert info.value.arg == "image"
    with pytest.raises(InvalidInput, match="image"):
        grade(np.full((1, 3), 1.5, np.float32), GradeParams())
    with pytest.raises(InvalidInput, match="params"):
        grade_function({"exposure": 1.0})


BAD_FIELDS = [
    ("exposure", 10.5), ("exposure", -11), ("exposure", float("nan")), ("exposure", "1"), ("exposure", True),
    ("contrast", -0.1), ("contrast", 4.5), ("saturation", -1), ("saturation", 5),
    ("vibrance", 1.1), ("vibrance", -1.5), ("temperature", 2), ("temperature", -1.01),
    ("tint", 1.5), ("tint", -2), ("shadows", 1.2), ("midtones", -1.2), ("highlights", 3),
    ("lut_strength", 1.1), ("lut_strength", -0.1), ("match_strength", 2), ("match_strength", -0.5),
    ("lift", (1.5, 0, 0)), ("lift", (0, 0)), ("lift", 0.1), ("gamma", (0, 1, 1)), ("gamma", (1, 11, 1)),
    ("gain", (-0.1, 1, 1)), ("gain", (1, 1, 10.5)), ("gain", "abc"),
    ("curves", {"x": ((0, 0), (1, 1))}), ("curves", {"r": ((0, 0),)}), ("curves", {"g": ((0, 0), (0, 1))}),
    ("curves", {"b": ((0, 0), (1.5, 1))}), ("curves", {"master": ((0.5, 0), (0.4, 1))}),
    ("curves", {"master": "ab"}), ("curves", [((0, 0), (1, 1))]),
    ("lut", "look.cube"), ("match", "reference.jpg"),
]


@pytest.mark.parametrize(("field", "value"), BAD_FIELDS)
def test_exception_fields(field, value):
    params = GradeParams(**{field: value})
    with pytest.raises(InvalidInput) as info:
        params.validate()
    assert info.value.arg.startswith(f"grade.{field}")
    assert f"grade.{field}" in str(info.value)
    with pytest.raises(InvalidInput):
        grade(np.zeros((1, 1, 3), np.float32), params)


def test_exception_message_curve_order():
    with pytest.raises(InvalidInput) as info:
        GradeParams(curves={"r": [[0.0, 0.0], [0.5, 0.5], [0.4, 1.0]]}).validate()
    assert info.value.arg == "grade.curves.r"
    assert "point 3 has x=0.4 after x=0.5" in str(info.value)


def test_validate_accepts_json_shapes():
    params = GradeParams(lift=[0.1, 0, 0], gamma=[1, 1, 1.2], curves={"master": [[0, 0], [1, 1]]})
    assert params.validate() is params
    assert GradeParams().is_identity
    assert GradeParams(curves={"master": [[0, 0], [0.5, 0.5], [1, 1]]}).is_identity
    assert not GradeParams(exposure=0.1).is_identity
    assert not GradeParams(gain=(1, 1, 0.9)).is_identity
    assert not GradeParams(curves={"r": [[0, 0.1], [1, 1]]}).is_identity
    assert GradeParams(lut=identity_lut(2), lut_strength=0.0).is_identity


def test_unit_identity_is_noop():
    x = _rand((64, 64, 3))
    assert np.abs(grade(x, GradeParams()) - x).max() <= 1e-6
    # the linear-light path (decode, encode) is also exact to float precision
    assert np.abs(grade(x, GradeParams(contrast=1.0 + 1e-9)) - x).max() < LEVEL
    assert np.abs(grade(x, GradeParams(curves={"master": ((0, 0), (1, 1))})) - x).max() <= 1e-6


def test_unit_srgb_transfer_matches_colour_science():
    colour = _colour()
    x = np.concatenate([_rand(100_000), np.array([0.0, 0.04045, 0.0031308, 1.0], np.float32)])
    ref_dec = colour.cctf_decoding(x.astype(np.float64), "sRGB")
    ref_enc = colour.cctf_encoding(x.astype(np.float64), "sRGB")
    assert np.abs(srgb_to_linear(x) - ref_dec).max() < 1e-6
    assert np.abs(linear_to_srgb(x) - ref_enc).max() < 1e-6
    chunk = x[: 3 * 16384].reshape(-1, 3)
    assert np.abs(_decode(chunk) - ref_dec[: chunk.size].reshape(-1, 3)).max() < 1e-6
    assert np.abs(_encode(chunk.copy(), 1.0) - ref_enc[: chunk.size].reshape(-1, 3)).max() < 1e-6


def test_unit_exposure_doubles_linear():
    lin = np.linspace(0.0, 0.45, 50)
    x = linear_to_srgb(np.repeat(lin[:, None], 3, axis=1))
    up = _lin(grade(x, GradeParams(exposure=1.0)))
    np.testing.assert_allclose(up, 2 * _lin(x), atol=2e-6, rtol=1e-5)
    down = _lin(grade(x, GradeParams(exposure=-1.0)))
    np.testing.assert_allclose(down, 0.5 * _lin(x), atol=2e-6, rtol=1e-5)
    assert grade(np.ones((1, 3), np.float32), GradeParams(exposure=3)).tolist() == [[1.0, 1.0, 1.0]]


def test_unit_saturation():
    x = _rand((500, 3))
    grey = grade(x, GradeParams(saturation=0.0))
    assert np.abs(grey - grey[:, :1]).max() < 1e-6
    np.testing.assert_allclose(_lin(grey)[:, 0], _luma(_lin(x)), atol=1e-5)  # Rec.709 luminance kept
    # a mild boost on a muted colour is exactly "chroma x 2 about Y" (far from the gamut edge)
    muted = linear_to_srgb(np.array([[0.30, 0.25, 0.22]], np.float32))
    lin = _lin(muted)[0]
    y = _luma(lin)
    np.testing.assert_allclose(_lin(grade(muted, GradeParams(saturation=2.0)))[0], y + 2 * (lin - y), atol=2e-4)
    # strong boosts are gamut-protected: luminance kept, no channel below half its value
    vivid = grade(x, GradeParams(saturation=4.0))
    inside = (vivid.max(axis=1) < 1.0) & (_luma(_lin(x)) > 0.02)  # not clipped; protection fades near black
    assert inside.mean() > 0.3
    np.testing.assert_allclose(_luma(_lin(vivid[inside])), _luma(_lin(x[inside])), atol=1e-4)
    fade = (0.002**2 / (_luma(_lin(x)) + 0.002))[:, None]  # GAMUT_DARK: protection fades near black
    assert (_lin(vivid) >= 0.5 * _lin(x) - fade - 1e-6).all()


def test_unit_vibrance_prefers_muted_colours():
    muted = linear_to_srgb(np.array([[0.30, 0.25, 0.22]], np.float32))
    vivid = linear_to_srgb(np.array([[0.60, 0.10, 0.05]], np.float32))

    def chroma(img):
        lin = _lin(img)[0]
        return np.abs(lin - _luma(lin)).sum()

    params = GradeParams(vibrance=0.8)
    gain_muted = chroma(grade(muted, params)) / chroma(muted)
    gain_vivid = chroma(grade(vivid, params)) / chroma(vivid)
    assert gain_muted > gain_vivid >= 1.0 - 1e-6
    assert chroma(grade(muted, GradeParams(vibrance=-1.0))) < chroma(muted)


def test_unit_contrast_pivot():
    pivot = linear_to_srgb(np.full((1, 3), 0.18, np.float32))
    for c in (0.0, 0.5, 1.5, 4.0):
        np.testing.assert_allclose(_lin(grade(pivot, GradeParams(contrast=c))), 0.18, rtol=1e-5)
    darker = linear_to_srgb(np.full((1, 3), 0.09, np.float32))
    np.testing.assert_allclose(_lin(grade(darker, GradeParams(contrast=2.0))), 0.045, rtol=1e-4)
    flat = grade(_rand((100, 3)), GradeParams(contrast=0.0))
    np.testing.assert_allclose(_lin(flat), 0.18, rtol=1e-5)


def test_unit_white_balance():
    colour = _colour()
    assert temperature_to_cct(0.0) == pytest.approx(6500)
    assert temperature_to_cct(1.0) == pytest.approx(3500)
    assert temperature_to_cct(-1.0) == pytest.approx(12000)
    temps = [temperature_to_cct(t) for t in np.linspace(-1, 1, 21)]
    assert all(a > b for a, b in zip(temps, temps[1:]))
    np.testing.assert_allclose(white_balance_matrix(0.0, 0.0), np.eye(3))
    grey = np.full((1, 3), 0.5, np.float32)
    warm, cool = grade(grey, GradeParams(temperature=0.5))[0], grade(grey, GradeParams(temperature=-0.5))[0]
    assert warm[0] > warm[1] > warm[2] and cool[2] > cool[1] > cool[0]
    magenta, green = grade(grey, GradeParams(tint=0.5))[0], grade(grey, GradeParams(tint=-0.5))[0]
    assert magenta[1] < min(magenta[0], magenta[2]) and green[1] > max(green[0], green[2])
    # white is adapted (CAT16 von Kries) by the ratio of the 6500 K white to the target white
    space = colour.RGB_COLOURSPACES["sRGB"]
    white = space.matrix_RGB_to_XYZ @ np.ones(3)

    def planck(cct, duv):
        return colour.xy_to_XYZ(colour.UCS_uv_to_xy(colour.temperature.CCT_to_uv_Ohno2013(np.array([cct, duv]))))

    for temperature, tint in ((0.4, 0.0), (-0.7, 0.5)):
        xyz = space.matrix_RGB_to_XYZ @ (white_balance_matrix(temperature, tint) @ np.ones(3))
        target = planck(temperature_to_cct(temperature), -0.02 * tint)
        expected = colour.adaptation.chromatic_adaptation_VonKries(white, planck(6500, 0.0), target, transform="CAT16")
        np.testing.assert_allclose(xyz, expected, atol=1e-9)
        assert xyz[1] == pytest.approx(white[1], rel=1e-3)  # luminance of white (nearly) kept
    cct = colour.temperature.XYZ_to_CCT_Ohno2013(space.matrix_RGB_to_XYZ @ (white_balance_matrix(0.4, 0) @ np.ones(3)))
    assert cct[0] == pytest.approx(temperature_to_cct(0.4), rel=0.02)


def test_unit_lift_gamma_gain():
    x = np.array([[0.0, 0.25, 1.0]], np.float32)
    np.testing.assert_allclose(grade(x, GradeParams(lift=(0.1, 0.1, 0.1))), [[0.1, 0.325, 1.0]], atol=1e-6)
    np.testing.assert_allclose(grade(x, GradeParams(gain=(0.5, 0.5, 0.5))), [[0.0, 0.125, 0.5]], atol=1e-6)
    np.testing.assert_allclose(grade(x, GradeParams(gamma=(2, 2, 2))), [[0.0, 0.5, 1.0]], atol=1e-6)
    per_channel = grade(np.full((1, 3), 0.25, np.float32), GradeParams(gamma=(1.0, 2.0, 0.5)))
    np.testing.assert_allclose(per_channel, [[0.25, 0.5, 0.0625]], atol=1e-6)


def test_unit_tonal_ranges_smooth_and_monotone():
    ramp = np.repeat(np.linspace(0, 1, 1001, dtype=np.float32)[:, None], 3, axis=1)
    for s, m, h in itertools.product([-1.0, 1.0], repeat=3):
        out = grade(ramp, GradeParams(shadows=s, midtones=m, highlights=h))[:, 1]
        assert np.all(np.diff(out) > 0), (s, m, h)  # monotone: no inversions
        assert np.abs(np.diff(out)).max() < 5e-3  # no jumps
        assert out[0] == 0.0 and out[-1] == pytest.approx(1.0, abs=1e-6)
    lifted = grade(ramp, GradeParams(shadows=1.0))[:, 1]
    assert lifted[250] > ramp[250, 1] + 0.05 and abs(lifted[900] - ramp[900, 1]) < 0.01
    dimmed = grade(ramp, GradeParams(highlights=-1.0))[:, 1]
    assert dimmed[750] < ramp[750, 1] - 0.05 and abs(dimmed[100] - ramp[100, 1]) < 0.01


def test_unit_curves():
    pytest.importorskip("scipy")
    from scipy.interpolate import PchipInterpolator

    x = _rand((2000, 3))
    pts = ((0.0, 0.0), (0.5, 0.6), (1.0, 1.0))
    out = grade(x, GradeParams(curves={"master": pts}))
    ref = PchipInterpolator([0, 0.5, 1], [0, 0.6, 1])(x)
    assert np.abs(out - ref).max() < 1e-5
    assert grade(np.full((1, 3), 0.5, np.float32), GradeParams(curves={"master": pts}))[0, 0] == pytest.approx(0.6)
    red = grade(x, GradeParams(curves={"r": pts}))
    np.testing.assert_array_equal(red[:, 1:], x[:, 1:])
    assert np.abs(red[:, 0] - ref[:, 0]).max() < 1e-5
    # master first, then the channel curve; outside the points the curve holds its end values
    both = grade(x, GradeParams(curves={"master": pts, "g": ((0.2, 0.3), (0.8, 0.7))}))
    g_ref = PchipInterpolator([0.2, 0.8], [0.3, 0.7])(np.clip(ref[:, 1], 0.2, 0.8))
    assert np.abs(both[:, 1] - g_ref).max() < 1e-5


def test_unit_lut_stage():
    x = _rand((300, 3))
    assert np.abs(grade(x, GradeParams(lut=identity_lut(17))) - x).max() < LEVEL
    inverted = identity_lut(2)
    from reworld.ops.lut import Lut3D

    inverted = Lut3D(1.0 - inverted.table)
    half = grade(x, GradeParams(lut=inverted, lut_strength=0.5))
    np.testing.assert_allclose(half, 0.5, atol=1e-6)
    np.testing.assert_array_equal(grade(x, GradeParams(lut=inverted, lut_strength=0.0)), x)


def test_unit_temporal_stability():
    frames = _rand((3, 16, 16, 3))
    frames[0, 2, 3] = frames[2, 9, 1] = (0.2, 0.6, 0.9)
    frames[1] = frames[0]
    out = grade(frames, FULL)
    np.testing.assert_array_equal(out[0, 2, 3], out[2, 9, 1])
    np.testing.assert_array_equal(out[0], out[1])
    np.testing.assert_array_equal(grade(frames[2:], FULL)[0], out[2])  # no cross-frame statistics


def test_unit_bit_identical_anywhere():
    """A colour gives the same bits wherever it sits (chunk edges, SIMD tails, threads)."""
    rng = np.random.default_rng(7)  # local seeded generator
    fn = grade_function(FULL)
    for _ in range(5):
        x = rng.random((40_000, 3)).astype(np.float32)
        where = rng.choice(x.shape[0], 3000, replace=False)
        where[:3] = (0, 15359, 39_999)  # first pixel, a chunk boundary, the last pixel
        x[where] = rng.random(3).astype(np.float32)
        out = fn(x)[where]
        assert (out == out[0]).all()
