"""The depth analyzer: parallax on rendered camera moves with known depth, a still shot, the
ONNX path with a tiny random model, the runner, the overlay."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import make_clip, media

import reworld.analysis.depth  # noqa: F401  (registers the analyzer)
from reworld.analysis.base import REGISTRY
from reworld.analysis.depth import DepthAnalyzer, overlay
from reworld.analysis.runner import analyze
from reworld.errors import InvalidInput, MissingDependency
from reworld.io.writer import ClipWriter
from reworld.ops.depth import spearman

H, W = 180, 320
N = 12


# -- rendered camera moves with known depth -------------------------------------------------

def texture(h: int, w: int, seed: int) -> np.ndarray:
    """(h, w, 3) uint8 smooth random colour texture (features every ~4 px)."""
    rng = np.random.default_rng(seed)  # fixed seed: deterministic texture
    t = rng.random((h // 4 + 2, w // 4 + 2, 3)).astype(np.float32)
    t = cv2.resize(t, (w + 8, h + 8), interpolation=cv2.INTER_CUBIC)[4:4 + h, 4:4 + w]
    return np.clip(cv2.GaussianBlur(t, (0, 0), 1.0) * 200 + 30, 0, 255).astype(np.uint8)


def render(canvas: np.ndarray, inv_rows: np.ndarray, objects: list, fb: float) -> tuple[np.ndarray, np.ndarray]:
    """A camera translating right: ``(N, H, W, 3)`` frames and ``(N, H, W)`` true inverse depth.

    ``canvas`` is the background, its row ``y`` at inverse depth ``inv_rows[y]``; ``objects``
    are ``(image, x0, y0, inverse depth)`` fronto-parallel cards. A point of inverse depth ``q``
    moves left by ``fb · q`` px per frame (``fb`` = baseline × focal).
    """
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float32)
    frames, truth = [], []
    for k in range(N):
        mx = xs + k * fb * inv_rows[:, None].astype(np.float32)
        f = cv2.remap(canvas, mx, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT).astype(np.float32)
        inv = np.repeat(inv_rows[:, None], W, 1).astype(np.float32)
        for img, x0, y0, q in sorted(objects, key=lambda o: o[3]):  # far to near
            m = np.float32([[1, 0, x0 - k * fb * q], [0, 1, y0]])
            layer = cv2.warpAffine(img, m, (W, H), flags=cv2.INTER_LINEAR)
            a = cv2.warpAffine(np.ones(img.shape[:2], np.float32), m, (W, H), flags=cv2.INTER_LINEAR)
            f = f * (1 - a[..., None]) + layer * a[..., None]
            inv = np.where(a > 0.5, q, inv)
        frames.append(np.clip(f + 0.5, 0, 255).astype(np.uint8))
        truth.append(inv)
    return np.stack(frames), np.stack(truth)


def texture_scene() -> tuple[np.ndarray, np.ndarray]:
    """Four layers, no file needed: a wall at inverse depth 0.1 and three cards at 0.25, 0.4, 0.6
    (1, 2.5, 4 and 6 px/frame), sized so no layer dominates (ties cap Spearman otherwise)."""
    cards = [(texture(90, 130, 2), 20, 15, 0.25), (texture(95, 120, 3), 175, 25, 0.4),
             (texture(75, 140, 4), 120, 100, 0.6)]
    return render(texture(H, 400, 1), np.full(H, 0.1), cards, fb=10.0)


def photo_scene(photo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sheep-field photo as a ground plane: sky and hills far (0.02) above the horizon at
    row 82, the field's inverse depth growing linearly to 0.5 at the bottom (exact for flat
    ground), and two cards cut from the photo (colour channels swapped so they stand out)
    standing on it at rows 130 and 170 with the ground's inverse depth there."""
    big = cv2.resize(photo, (380, round(photo.shape[0] * 380 / photo.shape[1])), interpolation=cv2.INTER_AREA)
    top = round(0.46 * big.shape[0] - 82)  # the photo's horizon is at 0.46 of its height
    canvas = np.ascontiguousarray(big[top:top + H])
    y = np.arange(H, dtype=np.float64)

    def ground(row):
        return 0.02 + 0.48 * (row - 82) / (H - 1 - 82)

    inv_rows = np.where(y < 82, 0.02, ground(y))
    card1 = np.ascontiguousarray(big[-70:-10, 20:80][::-1, :, ::-1])
    card2 = np.ascontiguousarray(big[-90:-10, 250:320][::-1, ::-1, [2, 0, 1]])
    cards = [(card1, 60, 130 - 60, ground(130)), (card2, 200, 170 - 80, ground(170))]
    return render(canvas, inv_rows, cards, fb=8.0)


def encode(frames: np.ndarray, path: Path) -> Path:
    with ClipWriter(path, fps=10, crf=4) as w:
        w.write(frames)
    return path


def depth_vs_truth(track, truth: np.ndarray) -> tuple[float, list[float]]:
    """Spearman over every pixel of every frame (truth resized nearest to the depth grid), and per frame."""
    depth = np.asarray(track["depth"], np.float32)
    t, dh, dw = depth.shape
    tr = np.stack([cv2.resize(x, (dw, dh), interpolation=cv2.INTER_NEAREST) for x in truth])
    return spearman(depth, tr), [round(spearman(depth[k], tr[k]), 3) for k in range(t)]


@pytest.mark.parametrize("scene", ["texture", "photo"])
def test_parallax_depth_ranks_like_truth(tmp_path, scene):
    if scene == "texture":
        frames, truth = texture_scene()
    else:
        frames, truth = photo_scene(cv2.imread(str(media("photos/landscape_sheep_field_sky.jpg")))[..., ::-1])
    a = analyze(encode(frames, tmp_path / f"{scene}.mp4"), ["depth"])
    track = a["depth"]
    rho, per_frame = depth_vs_truth(track, truth)
    print(f"{scene}: Spearman over all pixels of all {N} frames {rho:.3f}; per frame {per_frame}; "
          f"sources {track['source'].tolist()}; mean |change| {track.meta['mean_abs_change']}")
    assert track["depth"].shape == (N, 144, 256) and track["depth"].dtype == np.float16
    assert np.all(track["source"] == 1), "every frame of a moving camera uses parallax"
    assert rho >= 0.8  # measured: texture 0.880, photo 0.942
    assert min(per_frame) >= 0.75


@pytest.mark.parametrize("move", ["still", "pan"])
def test_still_and_panning_camera_are_monocular_and_stable(tmp_path, move):
    """A still camera on a photo with fresh sensor noise each frame, and a pan (a camera that
    only turns: no parallax, whatever moves in the picture): monocular every frame, and steady."""
    bgr = cv2.imread(str(media("photos/person_fullbody_beach_sky.jpg")))
    big = cv2.resize(bgr, (400, round(bgr.shape[0] * 400 / bgr.shape[1])), interpolation=cv2.INTER_AREA)[:H, :, ::-1]
    rng = np.random.default_rng(5)  # fixed seed: per-frame noise
    if move == "still":
        frames = np.stack([np.clip(big[:, :W] + rng.normal(0, 2.0, (H, W, 3)), 0, 255).astype(np.uint8)
                           for _ in range(N)])
    else:
        frames = np.stack([np.ascontiguousarray(big[:, 6 * k:6 * k + W]) for k in range(N)])  # 6 px/frame
    track = analyze(encode(frames, tmp_path / f"{move}.mp4"), ["depth"])["depth"]
    depth = np.asarray(track["depth"], np.float32)
    change = float(np.abs(np.diff(depth, axis=0)).mean())
    print(f"{move}: mean |depth change| between consecutive frames {change:.4f} (not motion-compensated)")
    assert np.all(track["source"] == 0)
    assert track.meta["metric"] is False and track.meta["frames_by_source"]["monocular"] == N
    assert change < (0.015 if move == "still" else 0.04)  # measured: still 0.0065, pan 0.024
    h = depth.shape[1]
    y_h = int(np.median(track["horizon"]) * h)
    assert depth[:, int(0.9 * h):].mean() > depth[:, y_h + 2:y_h + 12].mean() + 0.3


# -- ONNX -------------------------------------------------------------------------------------

def tiny_onnx(path: Path, *, output_rank: int = 3) -> Path:
    """A random depth "model" with Depth Anything's signature: pixel_values (1, 3, H, W) ->
    predicted_depth (1, H, W), a 3x3 convolution and a squeeze (``output_rank=2``: a mean over
    the image, (1, 1), the wrong signature)."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)  # fixed seed: the model's weights
    x = helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, [1, 3, "height", "width"])
    inits = [numpy_helper.from_array(rng.normal(0, 0.3, (1, 3, 3, 3)).astype(np.float32), "w")]
    nodes = [helper.make_node("Conv", ["pixel_values", "w"], ["c"], pads=[1, 1, 1, 1])]
    if output_rank == 3:
        inits.append(numpy_helper.from_array(np.array([1], np.int64), "axis"))
        nodes.append(helper.make_node("Squeeze", ["c", "axis"], ["predicted_depth"]))
        shape = [1, "height", "width"]
    else:
        nodes.append(helper.make_node("ReduceMean", ["c"], ["predicted_depth"], axes=[2, 3], keepdims=0))
        shape = [1, 1]
    y = helper.make_tensor_value_info("predicted_depth", TensorProto.FLOAT, shape)
    model = helper.make_model(helper.make_graph(nodes, "tiny_depth", [x], [y], initializer=inits),
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def test_onnx_model_runs(tmp_path):
    pytest.importorskip("onnxruntime")
    model = tiny_onnx(tmp_path / "tiny.onnx")
    clip = make_clip(tmp_path / "c.mp4", n=6, h=48, w=64)
    track = analyze(clip, ["depth"], params={"depth": {"onnx_model": str(model), "onnx_input_size": 28}})["depth"]
    assert track["depth"].shape == (6, 48, 64) and track["depth"].dtype == np.float16
    assert track["source"].tolist() == [2] * 6
    d = np.asarray(track["depth"], np.float32)
    assert 0.0 <= d.min() and d.max() <= 1.0 and d.std() > 0.05
    assert track.meta["onnx"]["input"] == "pixel_values" and track.meta["onnx"]["input_size"] == [28, 42]
    assert len(track.meta["params"]["onnx_model_sha256"]) == 64


def test_onnx_errors(tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    missing = tmp_path / "nowhere" / "depth_anything_v2_vits.onnx"
    with pytest.raises(InvalidInput, match="depth.onnx_model") as err:
        DepthAnalyzer({"onnx_model": str(missing)})
    assert str(missing) in str(err.value)
    bad = tiny_onnx(tmp_path / "bad.onnx", output_rank=2)
    with pytest.raises(InvalidInput, match=r"depth.onnx_model.*\(1, H, W\)"):
        DepthAnalyzer({"onnx_model": str(bad)})
    # and through the runner, before anything is decoded
    with pytest.raises(InvalidInput, match="depth.onnx_model"):
        analyze(make_clip(tmp_path / "c.mp4", n=2), ["depth"], params={"depth": {"onnx_model": str(missing)}})
    with pytest.raises(InvalidInput, match="depth.onnx_input_size"):
        DepthAnalyzer({"onnx_input_size": 500})
    import reworld._optional as optional

    monkeypatch.setattr(optional, "available", lambda module: module != "onnxruntime")
    with pytest.raises(MissingDependency, match=r"ONNX depth models.*reworld\[onnx\]"):
        DepthAnalyzer({"onnx_model": str(tiny_onnx(tmp_path / "ok.onnx"))})


# -- the rest ---------------------------------------------------------------------------------

def test_registry_params_and_one_frame(tmp_path):
    assert REGISTRY["depth"] is DepthAnalyzer and DepthAnalyzer.requires == ("flow", "camera", "sky")
    with pytest.raises(InvalidInput, match="depth.depth_long_side"):
        DepthAnalyzer({"depth_long_side": 8})
    with pytest.raises(InvalidInput, match="depth.temporal"):
        DepthAnalyzer({"temporal": 1.0})
    with pytest.raises(InvalidInput, match="depth.colour"):
        DepthAnalyzer({"colour": 1})
    track = analyze(make_clip(tmp_path / "one.mp4", n=1), ["depth"])["depth"]
    assert track["depth"].shape == (1, 48, 64) and track["source"].tolist() == [0]


def test_overlay(tmp_path):
    track = analyze(make_clip(tmp_path / "c.mp4", n=3), ["depth"])["depth"]
    frame = np.full((96, 128, 3), 40, np.uint8)
    out = overlay(track, frame, 1)
    assert out.shape == frame.shape and out.dtype == np.uint8
    assert np.any(out[2:40, 80:126] != 40) and np.all(out[60:, :60] == 40)
    with pytest.raises(InvalidInput, match="index"):
        overlay(track, frame, 3)
    with pytest.raises(InvalidInput, match="frame"):
        overlay(track, frame[..., 0], 0)
