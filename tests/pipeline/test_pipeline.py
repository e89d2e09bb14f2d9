"""Library-level pipeline: progress events, cancellation, stills, match, sequences."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import make_clip, media
from reworld.edits.spec import EditSpec, GradeSpec
from reworld.errors import Cancelled, Unsupported
from reworld.io.reader import read_clip
from reworld.io.stills import read_image, write_image
from reworld.pipeline import grade_clip, render
from reworld.progress import CancelToken


def test_progress_events_are_monotonic_and_complete(tmp_path):
    src = make_clip(tmp_path / "c.mp4", n=40)
    events = []
    grade_clip(src, tmp_path / "o.mp4", {"exposure": 0.3}, progress=events.append)
    render_ev = [e for e in events if e.stage == "render"]
    assert render_ev and render_ev[-1].done == render_ev[-1].total == 40
    assert all(b.done >= a.done for a, b in zip(render_ev, render_ev[1:]))


def test_cancel_stops_and_leaves_no_output(tmp_path):
    src = make_clip(tmp_path / "c.mp4", n=60)
    token = CancelToken()

    def progress(event):
        if event.stage == "render" and event.done >= 16:
            token.set()

    with pytest.raises(Cancelled):
        grade_clip(src, tmp_path / "o.mp4", {"exposure": 0.3}, progress=progress, cancel=token)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.mp4"]


def test_identity_grade_changes_no_pixel(tmp_path, clip):
    """An identity grade gives exactly what a plain decode → encode gives."""
    from reworld.io.writer import ClipWriter

    grade_clip(clip, tmp_path / "graded.mp4", {}, crf=0)
    with ClipWriter(tmp_path / "plain.mp4", fps=10, crf=0) as w:
        w.write(read_clip(clip).frames)
    np.testing.assert_array_equal(read_clip(tmp_path / "graded.mp4").frames, read_clip(tmp_path / "plain.mp4").frames)


def test_grade_still_image(tmp_path):
    rng = np.random.default_rng(3)  # fixed seed
    img = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    write_image(tmp_path / "in.png", img)
    grade_clip(tmp_path / "in.png", tmp_path / "out.png", {"saturation": 0.0})
    out = read_image(tmp_path / "out.png")
    assert out.shape == img.shape
    assert np.abs(out[..., 0].astype(int) - out[..., 1]).max() <= 1  # grey


@pytest.mark.media
def test_match_moves_clip_towards_reference(tmp_path):
    src = make_clip(tmp_path / "c.mp4", n=8, h=64, w=96)
    ref = media("photos/landscape_lake_boats_sunset_sky.jpg")
    grade_clip(src, tmp_path / "o.mp4", {"match": str(ref)})
    r = read_image(ref).reshape(-1, 3).mean(0)
    a = read_clip(src).frames.reshape(-1, 3).mean(0)
    b = read_clip(tmp_path / "o.mp4").frames.reshape(-1, 3).mean(0)
    assert np.linalg.norm(b - r) < 0.5 * np.linalg.norm(a - r)


def test_png_sequence_from_folder_path(tmp_path, clip):
    spec = EditSpec.from_dict({"input": str(clip), "output": {"path": str(tmp_path / "frames")},
                               "grade": {"contrast": 1.1}})
    r = render(spec)
    files = sorted((tmp_path / "frames").iterdir())
    assert r.frames == 12 and len(files) == 12 and files[0].name == "frame_00000.png"


def test_unsupported_features_are_named(tmp_path, clip):
    for extra, needle in [({"regions": [{"target": "sky", "action": "recolor", "params": {"color": "#ff0000"}}]}, "`regions`"),
                          ({"output": {"path": str(tmp_path / "o.mp4"), "hdr": "pq"}}, "`output.hdr`"),
                          ({"motion": {"speed": 2.0}}, "`motion`")]:
        d = {"input": str(clip), "output": {"path": str(tmp_path / "o.mp4")}, **extra}
        with pytest.raises(Unsupported, match=needle):
            render(EditSpec.from_dict(d))
    assert not (tmp_path / "o.mp4").exists()


def test_grade_spec_maps_onto_grade_params():
    from reworld.ops.color import GradeParams
    from reworld.pipeline import build_grade

    spec = GradeSpec(exposure=1, lift=0.1, curves={"r": [[0, 0], [1, 0.9]]})
    p = build_grade(spec)
    assert isinstance(p, GradeParams) and p.lift == (0.1, 0.1, 0.1) and p.exposure == 1.0
    assert p.curves == {"r": ((0.0, 0.0), (1.0, 0.9))}
