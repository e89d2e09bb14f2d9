"""EditSpec: round trips, JSON Schema, Luma levels, and one InvalidInput per kind of bad value."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reworld.edits import (
    LEVEL_TO_INTENSITY,
    LUMA_MODES,
    EditSpec,
    GradeSpec,
    MotionSpec,
    OutputSpec,
    RegionEdit,
    intensity_to_level,
    validate_paths,
)
from reworld.errors import InvalidInput


def make(**fields):
    """A minimal valid spec dict with ``fields`` merged in."""
    return {"input": "in.mp4", "output": {"path": "out.mp4"}, **fields}


def bad(data, arg, value=None, *, check_value=True):
    """Assert ``data`` is rejected naming ``arg`` (and ``value``); return the error."""
    with pytest.raises(InvalidInput) as info:
        EditSpec.from_json(data)
    err = info.value
    assert err.arg == arg, str(err)
    if check_value:
        assert err.value == value, str(err)
    assert f"`{arg}`" in str(err)
    return err


# ---------------------------------------------------------------- round trips


FULL = make(
    mode="reimagine_2",
    prompt="a neon-lit night street",
    negative_prompt="blurry",
    reference_image="ref.png",
    first_frame="first.png",
    seed=42,
    variations=3,
    engine="classical",
    engine_params={"steps": 20, "nested": {"a": [1, 2.5, None, "x"]}},
    regions=[
        {"target": "sky", "action": "replace", "params": {"image": "sunset.jpg", "feather": 8}},
        {"target": {"points": [[10, 20], [30.5, 40]], "frame": 3}, "action": "recolor", "params": {"color": "#FF8800"}},
        {"target": {"box": [0, 0, 64, 48]}, "action": "remove"},
        {"target": {"mask": "mask.png"}, "action": "insert", "params": {"image": "logo.png", "strength": 0.7}},
        {"target": "clothes", "action": "restyle", "params": {"prompt": "denim"}},
    ],
    grade={
        "exposure": -0.5, "gain": 1.2, "lift": [0.1, 0, -0.1],
        "curves": {"r": [[0, 0.1], [1, 0.9]]}, "lut": "look.cube",
    },
    motion={"speed": 0.5, "reverse": True, "trim": [1, 3.5], "loop": True,
            "focus": {"point": [100, 50], "frame": 2, "strength": 0.4}, "stabilize": True},
)


@pytest.mark.parametrize("data", [make(), FULL, EditSpec.example().to_dict()], ids=["minimal", "full", "example"])
def test_round_trips_through_dict_and_json(data):
    spec = EditSpec.from_json(data)
    assert EditSpec.from_json(spec.to_json()) == spec
    assert EditSpec.from_dict(spec.to_dict()) == spec
    assert spec.to_json() == EditSpec.from_json(spec.to_json()).to_json()  # stable text
    assert json.loads(spec.to_json()) == spec.to_dict()
    assert spec.to_json().startswith('{\n  "schema_version": 1,')


def test_canonical_values_are_stored():
    spec = EditSpec.from_json(FULL)
    assert spec.mode == "reimagine" and spec.intensity == 0.5 and spec.luma_mode == "reimagine_2"
    assert spec.grade.gain == (1.2, 1.2, 1.2)
    assert spec.regions[1].params.color == "#ff8800" and spec.regions[1].params.rgb == (255, 136, 0)
    assert spec.regions[1].target.points == ((10.0, 20.0), (30.5, 40.0))
    assert spec.to_dict()["mode"] == "reimagine"


def test_from_file_and_numpy_and_pathlike_inputs(tmp_path):
    path = tmp_path / "spec.json"
    path.write_text(EditSpec.example().to_json())
    assert EditSpec.from_file(path) == EditSpec.example()
    spec = EditSpec.from_json(make(seed=np.int64(5), input=tmp_path / "in.mp4", grade={"gain": np.array([1, 2, 3.0])}))
    assert spec.seed == 5 and spec.input == str(tmp_path / "in.mp4") and spec.grade.gain == (1.0, 2.0, 3.0)


def test_spec_is_immutable_and_with_changes_revalidates():
    spec = EditSpec.example()
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="frozen"):
        spec.seed = 3  # type: ignore[misc]
    mov = spec.with_changes({"output": {"path": "out.mov", "codec": "prores"}, "mode": "flex_3"})
    assert (mov.output.container, mov.output.bit_depth, mov.output.crf) == ("mov", 10, 18)
    assert (mov.mode, mov.intensity) == ("flex", 1.0) and mov.grade == spec.grade
    with pytest.raises(InvalidInput) as info:
        spec.with_changes({"grade": {"exposure": 99}})
    assert info.value.arg == "grade.exposure"


# ---------------------------------------------------------------- schema


def test_json_schema_export():
    schema = EditSpec.json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] and schema["type"] == "object"
    assert schema["properties"]["schema_version"]["const"] == 1
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"input", "output"}
    assert set(schema["properties"]["mode"]["anyOf"][0]["enum"]) >= set(LUMA_MODES)
    for name, sub in schema["$defs"].items():
        if sub.get("type") == "object":
            assert sub.get("additionalProperties") is False, name
        assert "Example:" not in sub.get("description", "")
    json.dumps(schema)  # plain JSON


def test_json_schema_accepts_valid_specs_and_rejects_unknown_keys():
    jsonschema = pytest.importorskip("jsonschema")
    schema = EditSpec.json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for data in (make(), FULL, EditSpec.from_json(FULL).to_dict()):
        assert not list(validator.iter_errors(data))
    assert list(validator.iter_errors(make(foo=1)))


def test_importing_spec_loads_no_heavy_packages():
    code = (
        "import sys, reworld.edits.spec; "
        "bad = [m for m in ('av', 'cv2', 'colour', 'torch') if m in sys.modules]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------- Luma levels


@pytest.mark.parametrize("luma", LUMA_MODES)
def test_each_luma_mode_string_maps_to_mode_and_intensity(luma):
    mode, level = luma.rsplit("_", 1)
    spec = EditSpec.from_json(make(mode=luma))
    assert spec.mode == mode
    assert spec.intensity == LEVEL_TO_INTENSITY[int(level)]
    assert spec.level == int(level)
    assert spec.luma_mode == luma
    assert EditSpec.from_json(spec.to_json()).luma_mode == luma


@pytest.mark.parametrize(
    ("given", "stored"),
    [(1, 0.0), (2, 0.5), (3, 1.0), (0, 0.0), (0.0, 0.0), (1.0, 1.0), (0.3, 0.3), (np.int32(3), 1.0)],
)
def test_integer_levels_versus_floats(given, stored):
    assert EditSpec.from_json(make(mode="flex", intensity=given)).intensity == stored


def test_level_property_rounds_to_nearest():
    assert [intensity_to_level(x) for x in (0.0, 0.24, 0.25, 0.5, 0.74, 0.75, 1.0)] == [1, 1, 2, 2, 2, 3, 3]


def test_mode_none_has_no_luma_mode_and_agreeing_intensity_is_accepted():
    assert EditSpec.from_json(make()).luma_mode is None
    assert EditSpec.from_json(make(mode="adhere_1", intensity=1)).intensity == 0.0
    assert EditSpec.from_json(make(mode="adhere_1", intensity=0.1)).intensity == 0.1
    assert EditSpec.from_json(make(mode="adhere_3", intensity=1.0)).luma_mode == "adhere_3"


# ---------------------------------------------------------------- bad values


def test_unknown_mode_lists_valid_modes():
    err = bad(make(mode="remix_2"), "mode", "remix_2")
    for name in ("adhere", "flex", "reimagine", "adhere_1", "reimagine_3"):
        assert name in str(err)


@pytest.mark.parametrize("value", [7, -0.1, 1.5, True, "2", -1])
def test_bad_intensity(value):
    err = bad(make(mode="flex", intensity=value), "intensity", value)
    assert "a level 1, 2 or 3 or a float in [0, 1]" in str(err)


def test_intensity_seven_message():
    with pytest.raises(InvalidInput, match=r"^`intensity` must be a level 1, 2 or 3 or a float in \[0, 1\], got 7$"):
        EditSpec.from_json(make(intensity=7))


def test_mode_level_conflicting_with_intensity():
    err = bad(make(mode="adhere_1", intensity=3), "intensity", 3)
    assert "adhere_1" in str(err)


@pytest.mark.parametrize(
    ("fields", "arg", "value"),
    [
        ({"seed": -1}, "seed", -1),
        ({"seed": 2**32}, "seed", 2**32),
        ({"seed": 1.5}, "seed", 1.5),
        ({"variations": 0}, "variations", 0),
        ({"variations": 17}, "variations", 17),
        ({"variations": True}, "variations", True),
        ({"schema_version": 2}, "schema_version", 2),
        ({"prompt": "x" * 2001}, "prompt", "x" * 2001),
        ({"input": ""}, "input", ""),
        ({"engine_params": {"f": float("nan")}}, "engine_params", None),  # nan != nan: arg only
    ],
)
def test_bad_top_level_values(fields, arg, value):
    bad(make(**fields), arg, value, check_value=value is not None)


def test_seed_message_names_range():
    err = bad(make(seed=-1), "seed", -1)
    assert "in [0, 4294967295]" in str(err)


def test_unknown_top_level_key():
    err = bad(make(foo=1), "foo", 1)
    assert "is not a known field of EditSpec" in str(err) and "known: schema_version, input" in str(err)


def test_unknown_nested_key_suggests_the_right_one():
    err = bad(make(grade={"exposur": 0.5}), "grade.exposur", 0.5)
    assert "GradeSpec" in str(err) and "did you mean `exposure`" in str(err)


def test_missing_required_fields():
    bad({"output": {"path": "out.mp4"}}, "input", None)
    bad({"input": "in.mp4", "output": {}}, "output.path", None)


def test_first_error_reports_count_of_the_rest_and_source():
    with pytest.raises(InvalidInput) as info:
        EditSpec.from_json(make(seed=-1, variations=0, foo=1), source="job.json")
    assert info.value.arg == "seed"
    assert "(in job.json; and 2 more errors)" in str(info.value)
    assert [d.arg for d in info.value.details] == ["seed", "variations", "foo"]


@pytest.mark.parametrize(
    ("output", "arg", "value"),
    [
        ({"path": "out.mp4", "codec": "prores"}, "output.codec", "prores"),
        ({"path": "out.mkv", "codec": "png"}, "output.codec", "png"),
        ({"path": "out.mp4", "bit_depth": 10}, "output.bit_depth", 10),
        ({"path": "out.mp4", "codec": "h264", "hdr": "pq"}, "output.hdr", "pq"),
        ({"path": "out.mp4", "codec": "hevc", "bit_depth": 8, "hdr": "hlg"}, "output.hdr", "hlg"),
        ({"path": "out.mov", "codec": "prores", "bit_depth": 8}, "output.bit_depth", 8),
        ({"path": "frames/", "codec": "exr", "bit_depth": 8}, "output.bit_depth", 8),
        ({"path": "out.avi"}, "output.path", "out.avi"),
        ({"path": "out.mp4", "container": "mov"}, "output.container", "mov"),
        ({"path": "renders/", "container": "mp4"}, "output.path", "renders/"),
        ({"path": "out.mp4", "crf": 52}, "output.crf", 52),
        ({"path": "out.mp4", "preset": "turbo"}, "output.preset", "turbo"),
        ({"path": "out.mp4", "width": 641}, "output.width", 641),
        ({"path": "out.mp4", "fps": 0}, "output.fps", 0),
    ],
)
def test_bad_output(output, arg, value):
    bad(make(output=output), arg, value)


def test_prores_in_mp4_message():
    err = bad(make(output={"path": "out.mp4", "codec": "prores"}), "output.codec", "prores")
    assert "needs container 'mov'" in str(err)


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ({"path": "out.mp4"}, ("mp4", "h264", 8)),
        ({"path": "OUT.MOV"}, ("mov", "h264", 8)),
        ({"path": "out.mkv", "hdr": "pq"}, ("mkv", "hevc", 10)),
        ({"path": "out.mov", "codec": "prores", "hdr": "hlg"}, ("mov", "prores", 10)),
        ({"path": "out.mp4", "codec": "hevc", "bit_depth": 10}, ("mp4", "hevc", 10)),
        ({"path": "frames/"}, ("png", "png", 8)),
        ({"path": "frames"}, ("png", "png", 8)),
        ({"path": "frames/", "codec": "exr"}, ("exr", "exr", None)),
        ({"path": "frames/f_%05d.exr"}, ("exr", "exr", None)),
        ({"path": "frames/f_####.png"}, ("png", "png", 8)),
    ],
)
def test_output_inference(output, expected):
    out = OutputSpec(**output)
    assert (out.container, out.codec, out.bit_depth) == expected
    assert out.is_sequence == (expected[0] in ("png", "exr"))


@pytest.mark.parametrize(
    ("region", "arg", "value"),
    [
        ({"target": "sky", "action": "recolor"}, "regions.0.params.color", None),
        ({"target": "sky", "action": "recolor", "params": {"color": "#ff00zz"}}, "regions.0.params.color", "#ff00zz"),
        ({"target": "sky", "action": "recolor", "params": {"color": "red"}}, "regions.0.params.color", "red"),
        (
            {"target": "sky", "action": "recolor", "params": {"color": [255, 0, 256]}},
            "regions.0.params.color",
            [255, 0, 256],
        ),
        ({"target": "sky", "action": "paint"}, "regions.0.action", "paint"),
        ({"target": "moon", "action": "remove"}, "regions.0.target", "moon"),
        ({"target": {"lasso": []}, "action": "remove"}, "regions.0.target", {"lasso": []}),
        ({"target": {"box": [10, 0, 5, 5]}, "action": "remove"}, "regions.0.target.box", [10, 0, 5, 5]),
        ({"target": {"box": [0, 0, 5]}, "action": "remove"}, "regions.0.target.box", [0, 0, 5]),
        ({"target": {"points": [[1, -2]]}, "action": "remove"}, "regions.0.target.points.0.1", -2),
        ({"target": {"points": [[1, 2]], "frme": 1}, "action": "remove"}, "regions.0.target.frme", 1),
        ({"target": "sky", "action": "insert", "params": {"prompt": "a bird"}}, "regions.0.params.image", None),
        ({"target": "sky", "action": "remove", "params": {"feather": -1}}, "regions.0.params.feather", -1),
        ({"target": "sky", "action": "remove", "params": {"strength": 2}}, "regions.0.params.strength", 2),
    ],
)
def test_bad_regions(region, arg, value):
    bad(make(regions=[region]), arg, value)


def test_replace_needs_image_or_prompt():
    err = bad(make(regions=[{"target": "sky", "action": "replace"}]), "regions.0.params", None, check_value=False)
    assert "`image` or `prompt`" in str(err)


def test_recolor_accepts_rgb_list():
    region = RegionEdit(target="clothes", action="recolor", params={"color": [0, 128, 255]})
    assert region.params.color == "#0080ff"


@pytest.mark.parametrize(
    ("grade", "arg", "value"),
    [
        ({"exposure": 12}, "grade.exposure", 12),
        ({"contrast": -1}, "grade.contrast", -1),
        ({"gamma": 0}, "grade.gamma", 0),
        ({"gamma": [1, 0, 1]}, "grade.gamma.1", 0),
        ({"gain": [1, 2]}, "grade.gain", [1, 2]),
        ({"lift": "up"}, "grade.lift", "up"),
        ({"curves": {"r": [[0, 0], [0.5, 0.6], [0.4, 0.7]]}}, "grade.curves.r", [[0, 0], [0.5, 0.6], [0.4, 0.7]]),
        ({"curves": {"r": [[0, 0], [0, 1]]}}, "grade.curves.r", [[0, 0], [0, 1]]),
        ({"curves": {"g": [[0, 0]]}}, "grade.curves.g", [[0, 0]]),
        ({"curves": {"g": [[0, 0], [1, 1.5]]}}, "grade.curves.g.1.1", 1.5),
        ({"curves": {"alpha": [[0, 0], [1, 1]]}}, "grade.curves.alpha", "alpha"),
        ({"lut": "look.png"}, "grade.lut", "look.png"),
        ({"match_strength": 1.1}, "grade.match_strength", 1.1),
    ],
)
def test_bad_grade(grade, arg, value):
    bad(make(grade=grade), arg, value)


def test_curve_message_names_the_offending_point():
    curve = [[0, 0], [0.5, 0.6], [0.4, 0.7]]
    err = bad(make(grade={"curves": {"r": curve}}), "grade.curves.r", curve)
    assert "strictly increasing x" in str(err) and "point 2" in str(err)


@pytest.mark.parametrize(
    ("motion", "arg", "value"),
    [
        ({"speed": 0.05}, "motion.speed", 0.05),
        ({"trim": [3, 1]}, "motion.trim", [3, 1]),
        ({"reverse": "yes"}, "motion.reverse", "yes"),
        ({"focus": {"point": [1, 2], "strength": 3}}, "motion.focus.strength", 3),
    ],
)
def test_bad_motion(motion, arg, value):
    bad(make(motion=motion), arg, value)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"input": "a.mp4",, }', "line 1 column 19"),
        ('{\n  "seed": 1,\n  "seed": 2\n}', None),
        ("[1, 2]", None),
        ('{"x": NaN}', None),
    ],
)
def test_invalid_json_names_the_source(text, where):
    with pytest.raises(InvalidInput) as info:
        EditSpec.from_json(text, source="spec.json")
    assert info.value.arg == "spec.json"
    if where:
        assert where in str(info.value)


def test_from_file_errors_name_the_path(tmp_path):
    with pytest.raises(InvalidInput, match="does not exist"):
        EditSpec.from_file(tmp_path / "nope.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "input": "a.mp4"\n  "output": {}\n}')
    with pytest.raises(InvalidInput) as info:
        EditSpec.from_file(broken)
    assert info.value.arg == str(broken) and "line 3 column 3" in str(info.value)


# ---------------------------------------------------------------- identity checks


def test_grade_and_motion_identity():
    assert GradeSpec().is_identity()
    assert GradeSpec(curves={"master": [[0, 0], [0.5, 0.5], [1, 1]]}, lut="a.cube", lut_strength=0).is_identity()
    assert not GradeSpec(exposure=0.1).is_identity()
    assert not GradeSpec(curves={"master": [[0.2, 0.2], [0.8, 0.8]]}).is_identity()
    assert not GradeSpec(match="ref.png").is_identity()
    assert MotionSpec().is_identity() and not MotionSpec(reverse=True).is_identity()


# ---------------------------------------------------------------- paths


def _files(tmp_path, *names):
    for name in names:
        (tmp_path / name).write_bytes(b"x")


def test_validate_paths_passes_when_files_exist(tmp_path):
    _files(tmp_path, "in.mp4", "ref.png", "first.png", "sunset.jpg", "mask.png", "logo.png", "look.cube")
    spec = EditSpec.from_json(FULL)
    validate_paths(spec, base_dir=tmp_path)
    assert set(spec.input_paths()) == {
        "input", "reference_image", "first_frame", "grade.lut",
        "regions.0.params.image", "regions.3.target.mask", "regions.3.params.image",
    }


def test_missing_reference_image(tmp_path):
    _files(tmp_path, "in.mp4")
    spec = EditSpec.from_json(make(reference_image="style.png"))
    with pytest.raises(InvalidInput) as info:
        spec.validate_paths(base_dir=tmp_path)
    assert (info.value.arg, info.value.value) == ("reference_image", "style.png")
    spec.validate_paths(base_dir=tmp_path, check_exists=False)  # uploads not there yet: fine


def test_missing_region_image_and_lut(tmp_path):
    _files(tmp_path, "in.mp4")
    with pytest.raises(InvalidInput) as info:
        validate_paths(EditSpec.from_json(make(grade={"lut": "x.cube"})), base_dir=tmp_path)
    assert info.value.arg == "grade.lut"
    region = {"target": "sky", "action": "insert", "params": {"image": "bird.png"}}
    with pytest.raises(InvalidInput) as info:
        validate_paths(EditSpec.from_json(make(regions=[region])), base_dir=tmp_path)
    assert info.value.arg == "regions.0.params.image"


def test_output_path_equal_to_input(tmp_path):
    _files(tmp_path, "in.mp4")
    spec = EditSpec.from_json({"input": "in.mp4", "output": {"path": "./sub/../in.mp4"}})
    with pytest.raises(InvalidInput) as info:
        validate_paths(spec, base_dir=tmp_path, check_exists=False)
    assert (info.value.arg, info.value.value) == ("output.path", "./sub/../in.mp4")


def test_output_path_is_a_link_to_the_input(tmp_path):
    _files(tmp_path, "in.mp4")
    (tmp_path / "link.mp4").symlink_to(tmp_path / "in.mp4")
    spec = EditSpec.from_json({"input": "in.mp4", "output": {"path": "link.mp4"}})
    with pytest.raises(InvalidInput, match="output.path"):
        validate_paths(spec, base_dir=tmp_path)


# ---------------------------------------------------------------- property test

_unit = st.floats(0, 1)
_signed = st.floats(-1, 1)
_triple = lambda lo, hi: st.one_of(st.floats(lo, hi), st.lists(st.floats(lo, hi), min_size=3, max_size=3))  # noqa: E731
_curve = st.lists(st.tuples(_unit, _unit), min_size=2, max_size=6, unique_by=lambda p: p[0]).map(
    lambda pts: [list(p) for p in sorted(pts)]
)

grades = st.fixed_dictionaries(
    {},
    optional={
        "exposure": st.floats(-10, 10),
        "contrast": st.floats(0, 4),
        "saturation": st.floats(0, 4),
        "vibrance": _signed,
        "temperature": _signed,
        "tint": _signed,
        "lift": _triple(-1, 1),
        "gamma": _triple(1e-6, 10),
        "gain": _triple(0, 10),
        "shadows": _signed,
        "midtones": _signed,
        "highlights": _signed,
        "curves": st.dictionaries(st.sampled_from(["master", "r", "g", "b"]), _curve),
        "lut": st.just("looks/film.cube") | st.none(),
        "lut_strength": _unit,
        "match": st.just("ref.jpg") | st.none(),
        "match_strength": _unit,
    },
)


@settings(max_examples=150, deadline=None)
@given(grades)
def test_any_valid_grade_round_trips(grade):
    spec = EditSpec.from_json(make(grade=grade))
    again = EditSpec.from_json(spec.to_json())
    assert again == spec
    assert GradeSpec.model_validate(spec.grade.model_dump()) == spec.grade
    assert spec.grade.is_identity() == again.grade.is_identity()


# ---------------------------------------------------------------- docs


def test_json_text_distinguishes_level_one_from_float_one():
    text = '{"input": "a.mp4", "output": {"path": "b.mp4"}, "mode": "flex", "intensity": %s}'
    assert EditSpec.from_json(text % "1").intensity == 0.0
    assert EditSpec.from_json(text % "1.0").intensity == 1.0


def test_examples_in_the_docs_are_valid():
    import pathlib
    import re

    doc = pathlib.Path(__file__).resolve().parents[2] / "docs" / "edit-spec.md"
    if not doc.exists():
        pytest.skip("docs/edit-spec.md not found")
    blocks = re.findall(r"```json\n(.*?)```", doc.read_text(), flags=re.S)
    assert len(blocks) >= 3
    specs = [EditSpec.from_json(b, source=str(doc)) for b in blocks]
    assert specs[0] == EditSpec.example()
    assert specs[1].luma_mode == "reimagine_2"
