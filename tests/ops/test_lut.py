"""reworld.ops.lut and reworld.io.lut: 3D LUTs, .cube files, grade export (kornia-style names)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest

from reworld.errors import InvalidInput
from reworld.io.lut import read_cube, write_cube
from reworld.ops.color import grade_function, grade_lut
from reworld.ops.dtype import to_uint8
from reworld.ops.lut import Lut3D, apply_lut, bake_lut, format_cube, identity_lut, parse_cube

LEVEL = 1.0 / 255.0
PHOTO = Path(__file__).resolve().parents[2].parent / "shared" / "media" / "photos" / "landscape_lake_boats_sunset_sky.jpg"
INTERPOLATIONS = ("tetrahedral", "trilinear")
from conftest import REALISTIC_GRADE as REALISTIC  # noqa: E402 - shared test grade


def _rand(shape, seed=0):
    return np.random.default_rng(seed).random(shape).astype(np.float32)  # local seeded generator


def _cube(size, rows, head=""):
    return head + f"LUT_3D_SIZE {size}\n" + "".join(f"{r} {g} {b}\n" for r, g, b in rows)


def _corners():
    # red fastest: (0,0,0) (1,0,0) (0,1,0) (1,1,0) (0,0,1) ...
    return [(r, g, b) for b in (0, 1) for g in (0, 1) for r in (0, 1)]


# ---------------------------------------------------------------- apply / bake

def test_smoke():
    out = apply_lut(_rand((4, 4, 3)), identity_lut(5))
    assert out.dtype == np.float32 and out.shape == (4, 4, 3)


@pytest.mark.parametrize("shape", [(3,), (1, 1, 3), (0, 3), (2, 4, 5, 3), (40_000, 3)])
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_cardinality(shape, interpolation):
    x = _rand(shape)
    out = apply_lut(x, identity_lut(9), interpolation=interpolation)
    assert out.shape == shape
    assert np.abs(out - x).max(initial=0.0) < 1e-6


@pytest.mark.parametrize("size", [2, 3, 33])
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_unit_identity_is_noop(size, interpolation):
    x = np.concatenate([_rand((5000, 3)), np.eye(3, dtype=np.float32), np.ones((1, 3), np.float32)])
    assert np.abs(apply_lut(x, identity_lut(size), interpolation=interpolation) - x).max() < 1e-6


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_unit_linear_matrix_is_exact(interpolation):
    m = np.array([[0.8, 0.15, 0.05], [0.1, 0.7, 0.2], [-0.1, 0.3, 0.9]], np.float32)
    lut = bake_lut(lambda rgb: rgb @ m.T, 5)
    x = _rand((5000, 3))
    assert np.abs(apply_lut(x, lut, interpolation=interpolation) - x @ m.T).max() < 1e-5


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_unit_matches_colour_science(interpolation):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import colour
    table = _rand((7, 7, 7, 3), seed=1) * 1.2 - 0.1
    x = _rand((20_000, 3), seed=2)
    ref_fn = {
        "tetrahedral": colour.algebra.table_interpolation_tetrahedral,
        "trilinear": colour.algebra.table_interpolation_trilinear,
    }[interpolation]
    ref = colour.LUT3D(table.astype(np.float64)).apply(x.astype(np.float64), interpolator=ref_fn)
    assert np.abs(apply_lut(x, Lut3D(table), interpolation=interpolation) - ref).max() < 1e-5


def test_unit_index_order_and_domain():
    lut = identity_lut(3)
    assert lut.table[2, 1, 0].tolist() == [1.0, 0.5, 0.0]  # table[r, g, b]
    wide = Lut3D(identity_lut(5).table * 2.0 - 0.5, domain_min=(-0.5,) * 3, domain_max=(1.5,) * 3)
    x = np.array([[-0.25, 0.5, 1.25], [-3.0, 0.0, 9.0]], np.float32)
    np.testing.assert_allclose(apply_lut(x, wide), [[-0.25, 0.5, 1.25], [-0.5, 0.0, 1.5]], atol=1e-6)


def test_unit_refine_shrinks_kink_error():
    def fn(rgb):
        return np.minimum(rgb * 1.4, 1.0)

    x = _rand((20_000, 3))
    plain = np.abs(apply_lut(x, bake_lut(fn, 9)) - fn(x)).max()
    refined = np.abs(apply_lut(x, bake_lut(fn, 9, refine=3)) - fn(x)).max()
    assert refined < 0.9 * plain
    smooth = bake_lut(lambda rgb: rgb * 0.5, 9, refine=3)  # linear: refinement changes nothing
    np.testing.assert_allclose(smooth.table, identity_lut(9).table * 0.5, atol=1e-6)


def test_exception_lut3d():
    with pytest.raises(InvalidInput, match="shape"):
        Lut3D(np.zeros((4, 4, 3, 3)))
    with pytest.raises(InvalidInput, match="size"):
        Lut3D(np.zeros((1, 1, 1, 3)))
    bad = identity_lut(2).table.copy()
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(InvalidInput, match="finite"):
        Lut3D(bad)
    with pytest.raises(InvalidInput, match="domain"):
        Lut3D(identity_lut(2).table, domain_min=(0, 0, 1), domain_max=(1, 1, 1))
    with pytest.raises(InvalidInput, match="title"):
        Lut3D(identity_lut(2).table, title='a "quoted" title')
    for size in (1, 257, 2.5, True):
        with pytest.raises(InvalidInput) as info:
            identity_lut(size)
        assert info.value.arg == "size"


def test_exception_apply_and_bake():
    lut = identity_lut(2)
    with pytest.raises(InvalidInput) as info:
        apply_lut(np.zeros((4, 4), np.float32), lut)
    assert info.value.arg == "image"
    with pytest.raises(InvalidInput, match="dtype"):
        apply_lut(np.zeros((4, 3), np.uint8), lut)
    with pytest.raises(InvalidInput) as info:
        apply_lut(np.zeros((4, 3), np.float32), lut, interpolation="cubic")
    assert info.value.arg == "interpolation"
    with pytest.raises(InvalidInput) as info:
        apply_lut(np.zeros((4, 3), np.float32), lut.table)
    assert info.value.arg == "lut"
    with pytest.raises(InvalidInput) as info:
        bake_lut(lambda rgb: rgb[:, :2], 3)
    assert info.value.arg == "fn"
    with pytest.raises(InvalidInput) as info:
        bake_lut(lambda rgb: rgb, 3, refine=-1)
    assert info.value.arg == "refine"


def test_unit_immutable():
    table = identity_lut(2).table.copy()
    lut = Lut3D(table)
    table[0, 0, 0] = 5.0  # the LUT keeps its own copy
    assert lut.table[0, 0, 0].tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError):
        lut.table[0, 0, 0, 0] = 1.0
    assert lut == Lut3D(identity_lut(2).table) and lut != Lut3D(table)


# ---------------------------------------------------------------- .cube text

def test_unit_parse_cube_red_fastest_and_header():
    rows = _corners()
    text = "# comment\r\nTITLE \"My look\"\r\n\r\nDOMAIN_MIN 0 0 0\nDOMAIN_MAX 1 1 1\n" + _cube(2, rows)
    lut = parse_cube(text)
    assert lut.title == "My look" and lut.size == 2
    for r, g, b in rows:
        assert lut.table[r, g, b].tolist() == [r, g, b]
    ranged = parse_cube("LUT_3D_INPUT_RANGE -1 2\n" + _cube(2, rows))
    assert ranged.domain_min == (-1.0,) * 3 and ranged.domain_max == (2.0,) * 3


def test_unit_cube_round_trip():
    table = _rand((5, 5, 5, 3), seed=3) * 3.0 - 1.0
    lut = Lut3D(table, domain_min=(-0.1, 0.0, 0.0), domain_max=(1.0, 1.5, 2.0), title="round trip")
    text = format_cube(lut)
    assert "LUT_3D_SIZE 5" in text and 'TITLE "round trip"' in text
    assert sum(1 for line in text.splitlines() if line and line[0] in "-0123456789") == 125
    back = parse_cube(text)
    assert np.abs(back.table - lut.table).max() < 1e-6
    assert back.domain_min == lut.domain_min and back.domain_max == lut.domain_max and back.title == lut.title


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("TITLE \"x\"\n0 0 0\n", "LUT_3D_SIZE"),
        ("LUT_3D_SIZE 1\n0 0 0\n", "outside [2, 256]"),
        ("LUT_3D_SIZE 257\n", "outside [2, 256]"),
        ("LUT_3D_SIZE two\n", "not an integer"),
        (_cube(2, _corners()[:7]), "expected 8, got 7"),
        (_cube(2, _corners() + [(0, 0, 0)]), "expected 8, got 9"),
        ("LUT_1D_SIZE 4\n0 0 0\n0.3 0.3 0.3\n0.6 0.6 0.6\n1 1 1\n", "1D LUTs"),
        (_cube(2, _corners()[:3] + [("0.5", "abc", "0.1")] + _corners()[4:]), "non-numeric"),
        (_cube(2, _corners()[:3] + [("nan", 0, 0)] + _corners()[4:]), "NaN"),
        (_cube(2, _corners()[:3]) + "0.5 0.5\n" + "0 0 0\n" * 4, "2 values instead of 3"),
        ("DOMAIN_MIN 0 0\n" + _cube(2, _corners()), "DOMAIN_MIN"),
        ("DOMAIN_MIN 1 1 1\nDOMAIN_MAX 0 0 0\n" + _cube(2, _corners()), "DOMAIN_MIN"),
    ],
)
def test_exception_parse_cube(text, needle):
    with pytest.raises(InvalidInput) as info:
        parse_cube(text, source="bad.cube")
    assert info.value.arg == "lut"
    assert needle in str(info.value) and "bad.cube" in str(info.value)


# ---------------------------------------------------------------- files (io/lut.py)

def test_unit_read_write_cube(tmp_path):
    lut = Lut3D(_rand((4, 4, 4, 3), seed=4), title="file")
    path = tmp_path / "look.cube"
    write_cube(path, lut)
    assert np.abs(read_cube(path).table - lut.table).max() < 1e-6
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # a UTF-8 BOM is fine
    assert read_cube(str(path)).title == "file"


def test_exception_read_cube(tmp_path):
    with pytest.raises(InvalidInput) as info:
        read_cube(tmp_path / "missing.cube")
    assert info.value.arg == "lut" and "missing.cube" in str(info.value)
    latin = tmp_path / "latin.cube"
    latin.write_bytes(b"TITLE \"caf\xe9\"\nLUT_3D_SIZE 2\n")
    with pytest.raises(InvalidInput, match="UTF-8"):
        read_cube(latin)
    with pytest.raises(InvalidInput, match="folder"):
        read_cube(tmp_path)
    short = tmp_path / "short.cube"
    short.write_text(_cube(2, _corners()[:5]))
    with pytest.raises(InvalidInput, match="expected 8, got 5") as info:
        read_cube(short)
    assert "short.cube" in str(info.value)


def test_unit_write_cube_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "look.cube"
    path.write_text("old contents")
    write_cube(path, identity_lut(3))
    assert read_cube(path) == Lut3D(identity_lut(3).table, title="identity")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["look.cube"]  # no temp files left
    old = path.read_text()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_cube(path, identity_lut(5))
    assert path.read_text() == old  # untouched on failure
    assert sorted(p.name for p in tmp_path.iterdir()) == ["look.cube"]


def test_exception_write_cube(tmp_path):
    with pytest.raises(InvalidInput) as info:
        write_cube(tmp_path / "nope" / "look.cube", identity_lut(2))
    assert info.value.arg == "path"
    with pytest.raises(InvalidInput) as info:
        write_cube(tmp_path / "look.cube", "not a lut")
    assert info.value.arg == "lut"
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- grade export round trip

def _levels_apart(a, b):
    return int(np.abs(to_uint8(np.clip(a, 0, 1)).astype(int) - to_uint8(b).astype(int)).max())


@pytest.mark.slow
def test_unit_grade_cube_round_trip_matches_direct_grade(tmp_path):
    """.cube export -> import -> tetrahedral apply equals the direct grade within 1 uint8 level."""
    path = tmp_path / "grade.cube"
    write_cube(path, grade_lut(REALISTIC))  # default: size 65, 3 refinement steps
    lut = read_cube(path)
    assert lut.size == 65
    direct = grade_function(REALISTIC)
    colours = _rand((300_000, 3), seed=5)  # dense random sample of the RGB cube
    ramp = np.repeat(np.linspace(0, 1, 256, dtype=np.float32)[:, None], 3, axis=1)
    for sample in (colours, ramp):
        via_lut = apply_lut(sample, lut)
        assert _levels_apart(via_lut, direct(sample)) <= 1
        assert np.abs(np.clip(via_lut, 0, 1) - direct(sample)).max() < 1.3 * LEVEL
    if not PHOTO.exists():
        pytest.skip(f"shared media file missing: {PHOTO}")
    cv2 = pytest.importorskip("cv2")
    photo = cv2.imread(str(PHOTO), cv2.IMREAD_COLOR)[:, :, ::-1].astype(np.float32) / 255.0
    assert _levels_apart(apply_lut(photo, lut), direct(photo)) <= 1
