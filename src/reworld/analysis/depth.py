"""Relative depth per frame (analyzer ``depth``): parallax where the camera moves, monocular cues elsewhere.

For every frame, at ``depth_long_side`` (default 256 px on the long side):

1. **Monocular** (:func:`reworld.ops.depth.monocular_depth`): sky at infinity (the ``sky``
   track), a ground plane below the horizon (the horizon carried from frame to frame along the
   camera's homography and averaged with each frame's own estimate), standing objects at the
   depth of their contact row, defocus as a weak cue.
2. **Parallax** (:func:`reworld.ops.depth.parallax_depth`), when the camera moved: the
   ``flow`` of the frame to the next one (to the previous one for the last frame, or when the
   next pair is not ``valid`` or its camera stands still) against the flow of the ``camera`` track's pair homography; a pair
   that is not ``valid`` (a cut), where the camera's homography moves the frame by less than
   ``min_camera_motion`` px (a still camera: what moves is the subject, not the viewpoint) or
   whose mean confidence over non-sky pixels is below 0.3 is not used. The parallax map is
   fused with the monocular map (:func:`reworld.ops.depth.fuse_depth`).
3. **ONNX** (``onnx_model``): a user-supplied monocular depth network (e.g. Depth Anything V2
   small exported to ONNX) run with onnxruntime replaces 1–2.
4. **Temporal** (:func:`reworld.ops.depth.temporal_align`): the previous result is warped onto
   the frame along the backward flow and the frame's map is scale/shift-aligned to it and
   blended (``temporal``, ``temporal_monocular`` on monocular frames); it restarts at cuts (camera pair not ``valid``, or a ``sky`` cut).

Track arrays (``T`` frames, ``(dh, dw)`` = ``meta["size"]``):

- ``depth``: ``(T, dh, dw)`` float16 relative **inverse** depth in [0, 1] (1 = nearest,
  0 = farthest/sky); not metric, comparable within a frame and, after alignment, between
  neighbouring frames of a shot.
- ``confidence``: ``(T,)`` float32 in [0, 1]: parallax frames the mean fused parallax
  confidence, monocular frames the horizon-based trust (0.2–0.6), ONNX frames 0.7 (fixed: the
  model says nothing about itself).
- ``source``: ``(T,)`` uint8: 0 monocular, 1 parallax (fused with monocular), 2 ONNX.
- ``horizon``: ``(T,)`` float32 horizon row as a fraction of the height (may be < 0 or > 1).

Meta: ``metric`` (False), ``method``, ``cues`` (weights), ``size``, ``frames_by_source``,
``mean_confidence``, ``mean_abs_change`` (mean |Δdepth| of consecutive frames, not
motion-compensated), ``onnx`` (input name and size) when a model ran.

Example:
    >>> DepthAnalyzer().params.depth_long_side
    256
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from reworld._optional import require
from reworld.analysis.base import (
    AnalysisContext,
    Analyzer,
    FrameChunk,
    allocate_arrays,
    check_overlay_args,
    register,
)
from reworld.analysis.tracks import Track
from reworld.errors import InvalidInput
from reworld.ops import geometry as geo
from reworld.ops.depth import (
    CUE_WEIGHTS,
    SIGN_VOTES,
    depth_to_rgb,
    estimate_horizon,
    fuse_depth,
    homography_flow,
    monocular_depth,
    normalize_depth,
    parallax_depth,
    temporal_align,
)
from reworld.ops.flow import fb_consistency, resize_flow, warp

__all__ = ["DepthAnalyzer", "OnnxDepthModel", "overlay"]

SOURCES = ("monocular", "parallax", "onnx")
#: ImageNet statistics: the normalisation Depth Anything (and most DINOv2-based models) expect
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)
#: self-reported confidence of ONNX frames
ONNX_CONFIDENCE = 0.7
#: a pair counts as parallax when its mean confidence over the pixels that can carry it (not
#: sky) reaches this (rendered camera moves: 0.7-0.9; a hand-held phone bobbing over a dog that
#: moves: at most 0.25, mostly the dog's own motion)
MIN_PARALLAX_CONFIDENCE = 0.3


class OnnxDepthModel:
    """A monocular depth network in an ONNX file, run with onnxruntime (Depth Anything convention).

    Input: the session's first input, ``(1, 3, H, W)`` float32 RGB normalised with the ImageNet
    mean/std. ``H, W`` are the input's static sizes when the file fixes them; otherwise the
    frame is resized to keep its aspect ratio with the short side ``input_size`` and both sides
    rounded to multiples of 14 (the ViT patch). Output: the first output, ``(1, H', W')`` or
    ``(1, 1, H', W')``, relative inverse depth (``kind="depth"`` for models that output depth).

    Args:
        path: the ``.onnx`` file.
        input_size: short side for models with dynamic input sizes (a multiple of 14).
        kind: ``"inverse_depth"`` (larger = nearer, Depth Anything) or ``"depth"``.
        arg: parameter name for error messages.

    Raises:
        InvalidInput: the file is missing, or its input/output signature does not fit.
        MissingDependency: onnxruntime is not installed.
    """

    def __init__(self, path: str, *, input_size: int = 518, kind: str = "inverse_depth",
                 arg: str = "depth.onnx_model") -> None:
        if not os.path.isfile(path):
            raise InvalidInput(arg, path, "is not a file (give the path of an ONNX depth model you exported, "
                                          "e.g. Depth Anything V2 small; see docs/analysis-depth.md)")
        ort = require("onnxruntime", extra="onnx", feature="ONNX depth models")
        self.path, self.input_size, self.kind, self.arg = path, int(input_size), kind, arg
        avail = ort.get_available_providers()
        providers = [p for p in ("CUDAExecutionProvider", "CoreMLExecutionProvider", "CPUExecutionProvider")
                     if p in avail] or None
        try:
            self.session = ort.InferenceSession(path, providers=providers)
        except Exception as exc:  # onnxruntime raises its own exception types
            raise InvalidInput(arg, path, f"could not be loaded by onnxruntime ({exc})") from exc
        inp, out = self.session.get_inputs()[0], self.session.get_outputs()[0]
        shape = list(inp.shape)
        if len(shape) != 4 or (isinstance(shape[1], int) and shape[1] != 3):
            raise InvalidInput(arg, path, f"must take one (1, 3, H, W) RGB input; its input {inp.name!r} has shape {shape}")
        if out.shape is not None and len(out.shape) not in (3, 4):
            raise InvalidInput(arg, path, "must output (1, H, W) or (1, 1, H, W) relative inverse depth; "
                                          f"its output {out.name!r} has shape {list(out.shape)}")
        self.input_name, self.output_name = inp.name, out.name
        self.static_hw = (shape[2], shape[3]) if isinstance(shape[2], int) and isinstance(shape[3], int) else None

    def input_hw(self, h: int, w: int) -> tuple[int, int]:
        """Network input size for an ``(h, w)`` frame."""
        if self.static_hw is not None:
            return int(self.static_hw[0]), int(self.static_hw[1])
        s = self.input_size / min(h, w)
        return max(14, round(h * s / 14) * 14), max(14, round(w * s / 14) * 14)

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        """``(h, w, 3)`` uint8 RGB → ``(h, w)`` float32 relative inverse depth in [0, 1]."""
        h, w = frame.shape[:2]
        ih, iw = self.input_hw(h, w)
        x = cv2.resize(frame, (iw, ih), interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255.0
        x = ((x - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1)[None]
        y = np.asarray(self.session.run([self.output_name], {self.input_name: np.ascontiguousarray(x, np.float32)})[0])
        if y.ndim == 4 and y.shape[:2] == (1, 1):
            y = y[0, 0]
        elif y.ndim == 3 and y.shape[0] == 1:
            y = y[0]
        else:
            raise InvalidInput(self.arg, self.path, "must output (1, H, W) or (1, 1, H, W) relative inverse depth; "
                                                    f"it returned shape {list(y.shape)}")
        y = y.astype(np.float32)
        if self.kind == "depth":
            y = 1.0 / np.maximum(y, 1e-6)
        y = cv2.resize(y, (w, h), interpolation=cv2.INTER_LINEAR)
        return normalize_depth(np.nan_to_num(y))


@register
class DepthAnalyzer(Analyzer):
    """Relative inverse depth per frame (see module doc)."""

    name = "depth"
    version = 2
    requires = ("flow", "camera", "sky")

    @dataclass(frozen=True)
    class Params:
        """Attributes:
            depth_long_side: long side of the stored depth maps, px (>= 32; capped at the
                analysis size).
            onnx_model: path of an ONNX monocular depth model to use instead of the cues
                (needs ``pip install 'reworld[onnx]'``).
            onnx_input_size: short side of the network input for models with dynamic sizes
                (a multiple of 14; Depth Anything uses 518).
            onnx_output: ``"inverse_depth"`` (Depth Anything: larger = nearer) or ``"depth"``.
            mono_weight: weight of the monocular map against parallax of confidence 1.
            temporal: in [0, 1): weight of the previous frame's result where it is trusted, on
                parallax and ONNX frames.
            temporal_monocular: the same on monocular frames, higher: a cue-based estimate
                gains nothing from a new frame of the same view, and its segment-based parts
                can switch on and off with noise.
            parallax_noise: flow noise at the depth grid, px (below it a residual is no parallax).
            min_camera_motion: the camera's homography must move the frame by at least this
                (median, depth-grid px) for a pair to count as parallax.
            mono_interval: the monocular cues are computed on every ``mono_interval``-th frame
                (and at cuts, and when the horizon moves) and carried along the flow in
                between; 1 computes them on every frame.
        """

        depth_long_side: int = 256
        onnx_model: str | None = None
        onnx_input_size: int = 518
        onnx_output: str = "inverse_depth"
        mono_weight: float = 0.3
        temporal: float = 0.6
        temporal_monocular: float = 0.85
        parallax_noise: float = 0.15
        min_camera_motion: float = 0.25
        mono_interval: int = 6

    def validate(self) -> None:
        p = self.params
        if isinstance(p.depth_long_side, bool) or not isinstance(p.depth_long_side, int) or p.depth_long_side < 32:
            raise InvalidInput("depth.depth_long_side", p.depth_long_side, "must be an integer >= 32 pixels")
        if (isinstance(p.onnx_input_size, bool) or not isinstance(p.onnx_input_size, int)
                or p.onnx_input_size < 14 or p.onnx_input_size % 14):
            raise InvalidInput("depth.onnx_input_size", p.onnx_input_size, "must be a positive multiple of 14")
        if p.onnx_output not in ("inverse_depth", "depth"):
            raise InvalidInput("depth.onnx_output", p.onnx_output, "must be 'inverse_depth' or 'depth'")
        self._model: OnnxDepthModel | None = None
        if p.onnx_model is not None:
            if not isinstance(p.onnx_model, (str, os.PathLike)):
                raise InvalidInput("depth.onnx_model", p.onnx_model, "must be a path to an .onnx file")
            # loaded here, before any decoding: a missing file, a missing onnxruntime or a model
            # with the wrong signature fail at once
            self._model = OnnxDepthModel(os.fspath(p.onnx_model), input_size=p.onnx_input_size, kind=p.onnx_output)
        for name, lo, hi in (("mono_weight", 0.0, 10.0), ("parallax_noise", 0.01, 5.0), ("min_camera_motion", 0.0, 100.0)):
            v = getattr(p, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
                raise InvalidInput(f"depth.{name}", v, f"must be a number in [{lo:g}, {hi:g}]")
        if isinstance(p.mono_interval, bool) or not isinstance(p.mono_interval, int) or not 1 <= p.mono_interval <= 100:
            raise InvalidInput("depth.mono_interval", p.mono_interval, "must be an integer in [1, 100]")
        for name in ("temporal", "temporal_monocular"):
            v = getattr(p, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v < 1:
                raise InvalidInput(f"depth.{name}", v, "must be a number in [0, 1)")

    def params_dict(self) -> dict[str, Any]:
        """Parameters plus the model file's sha256 (a replaced model at the same path is new)."""
        d = super().params_dict()
        if self.params.onnx_model:
            if not hasattr(self, "_model_hash"):
                h = hashlib.sha256()
                with open(os.fspath(self.params.onnx_model), "rb") as f:
                    for block in iter(lambda: f.read(1 << 20), b""):
                        h.update(block)
                self._model_hash = h.hexdigest()
            d["onnx_model_sha256"] = self._model_hash
        return d

    # -- streaming -----------------------------------------------------------------------
    def setup(self, ctx: AnalysisContext) -> None:
        p = self.params
        h, w = ctx.size
        s = min(1.0, p.depth_long_side / max(h, w))
        self._size = (max(1, round(h * s)), max(1, round(w * s)))
        self._flow = ctx.tracks.get("flow")
        self._camera = ctx.tracks.get("camera")
        self._sky = ctx.tracks.get("sky")
        full = (self._camera.meta.get("full_size") if self._camera is not None else None) or [
            round(h / ctx.scale), round(w / ctx.scale)]
        dh, dw = self._size
        self._to_grid = (dw / full[1], dh / full[0])  # full-resolution px -> depth grid px
        self._sky_cuts = set((self._sky.meta.get("cuts") or []) if self._sky is not None else [])
        self._dir = tempfile.mkdtemp(prefix="depth-", dir=ctx.scratch) if ctx.scratch else None
        self._arrays: dict[str, np.ndarray] = {}
        self._n = 0
        self._allocate(max(ctx.n_frames, 1))
        self._prev: np.ndarray | None = None
        self._warped: tuple[int, tuple[np.ndarray, np.ndarray]] | None = None
        self._horizon: float | None = None
        self._change = 0.0
        self._mono: tuple[int, np.ndarray, float, float] | None = None  # (key frame, map, confidence, horizon)
        self._flow_memo: dict[tuple[int, bool], tuple[np.ndarray, np.ndarray]] = {}
        self.n_mono = 0

    def _allocate(self, capacity: int) -> None:
        dh, dw = self._size
        shapes = {"depth": ((capacity, dh, dw), np.float16), "confidence": ((capacity,), np.float32),
                  "source": ((capacity,), np.uint8), "horizon": ((capacity,), np.float32)}
        self._arrays = allocate_arrays(shapes, self._dir, self._arrays, self._n)

    def process(self, chunk: FrameChunk, ctx: AnalysisContext) -> None:
        dh, dw = self._size
        for j in range(len(chunk)):
            i = chunk.start + j
            frame = chunk.frames[j]
            small = frame if frame.shape[:2] == (dh, dw) else cv2.resize(frame, (dw, dh), interpolation=cv2.INTER_AREA)
            small = np.ascontiguousarray(small)
            cut = i == 0 or self._prev is None or i in self._sky_cuts or not self._pair_valid(i - 1)
            depth, conf, source, horizon = self._estimate(i, small, cut)
            if not cut:
                prev_w, trust = self._warp_prev(i)
                memory = self.params.temporal_monocular if source == 0 else self.params.temporal
                depth, _ab = temporal_align(depth, prev_w, trust, memory=memory)
                self._change += float(np.abs(depth - self._prev).mean())
            if self._n >= len(self._arrays["depth"]):
                self._allocate(max(2 * self._n, 16))
            k = self._n
            self._arrays["depth"][k] = depth.astype(np.float16)
            self._arrays["confidence"][k] = conf
            self._arrays["source"][k] = source
            self._arrays["horizon"][k] = horizon / dh
            self._prev = depth
            self._n = k + 1

    # -- one frame -------------------------------------------------------------------------
    def _estimate(self, i: int, small: np.ndarray, cut: bool) -> tuple[np.ndarray, float, int, float]:
        dw = self._size[1]
        if self._model is not None:
            return self._model(small), ONNX_CONFIDENCE, 2, float("nan")
        sky = self._sky_alpha(i)
        y_est, _src, _c = estimate_horizon(small, sky_alpha=sky)
        y_h = y_est
        if not cut and self._horizon is not None:  # carry the last horizon along the camera motion
            h_grid = self._pair_h(i - 1)  # frame i -> frame i-1
            if h_grid is not None:
                pred = geo.transform_points(np.linalg.inv(h_grid), np.array([[(dw - 1) / 2.0, self._horizon]]))[0, 1]
                if math.isfinite(pred):
                    y_h = 0.5 * float(pred) + 0.5 * y_est
        self._horizon = y_h
        mono_depth, mono_conf = self._monocular(i, small, sky, y_h, cut)
        par = self._parallax(i, small, sky, mono_depth)
        if par is None:
            return mono_depth, mono_conf, 0, y_h
        p_depth, p_conf = par
        fused, c = fuse_depth(p_depth, p_conf, mono_depth, mono_weight=self.params.mono_weight, sky_alpha=sky)
        return fused, c, 1, y_h

    def _monocular(self, i: int, small: np.ndarray, sky: np.ndarray, y_h: float, cut: bool) -> tuple[np.ndarray, float]:
        """The monocular map of frame ``i``: computed on key frames (every ``mono_interval``
        frames, at cuts, and when the horizon moved by more than 2 % of the height since the last
        key frame), carried along the backward flow in between (a cue-based estimate of the same
        view gains nothing from every frame, and its segmentation is most of the cost)."""
        dh = self._size[0]
        mono = self._mono
        flow = self._flow
        keep = (not cut and mono is not None and i - mono[0] < self.params.mono_interval
                and abs(y_h - mono[3]) <= 0.02 * dh and flow is not None and 0 <= i - 1 < len(flow["backward"]))
        if keep:
            f, _occ = self._flow_from(i, False)
            carried = warp(mono[1], f)
            # pixels with no source in the previous frame keep the warp's nearest value; the
            # sky stays at infinity whatever the warp did
            carried = np.where(sky > 0.5, 0.0, carried).astype(np.float32)
            self._mono = (mono[0], carried, mono[2], mono[3])
            return carried, mono[2]
        m = monocular_depth(small, sky_alpha=sky, horizon=y_h)
        self._mono = (i, m.depth, m.confidence, y_h)
        self.n_mono += 1
        return m.depth, m.confidence

    def _parallax(self, i: int, small: np.ndarray, sky: np.ndarray, prior: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray] | None:
        flow = self._flow
        if flow is None or self._camera is None or len(flow["forward"]) == 0:
            return None
        pairs = len(flow["forward"])
        # the pairs whose camera moved enough (checked on a coarse grid of points first: on a
        # still shot nothing below is computed)
        moving = []
        for fwd in (True, False):
            k = i if fwd else i - 1
            if not (0 <= k < pairs) or not self._pair_valid(k):
                continue
            h_grid = self._pair_h(k)  # frame k+1 -> frame k
            if h_grid is None:
                continue
            h_pair = np.linalg.inv(h_grid) if fwd else h_grid
            if self._grid_motion(h_pair) >= self.params.min_camera_motion:
                moving.append((fwd, h_pair))
        if not moving:
            return None
        grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
        gx, gy = cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1)
        tex = cv2.GaussianBlur(np.hypot(gx, gy), (0, 0), 2.0)
        weight = (1.0 - sky) * (0.3 + 0.7 * np.clip((tex - 0.02) / 0.1, 0, 1))
        if self._prev is not None and self._pair_valid(i - 1):
            prior = 0.5 * prior + 0.5 * self._warp_prev(i)[0]
        results = []
        trusted = weight > 0.05
        for fwd, h_pair in moving[:1]:  # the forward pair when usable, else the backward one
            f, occ = self._flow_from(i, fwd)
            hf = homography_flow(h_pair, *self._size)
            if float(np.median(np.hypot(hf[..., 0], hf[..., 1]))) < self.params.min_camera_motion:
                continue
            p = parallax_depth(f, hf, occlusion=occ, weight=weight, prior=prior, noise=self.params.parallax_noise,
                               focal=self._focal())
            if trusted.any() and float(p.confidence[trusted].mean()) >= MIN_PARALLAX_CONFIDENCE:
                results.append(p)
        if not results:
            return None
        return results[0].depth, results[0].confidence

    def _grid_motion(self, h_pair: np.ndarray) -> float:
        """Median displacement (depth-grid px) of a 9x9 grid of points under a pair homography:
        the same measure as the median of :func:`homography_flow`, at a fraction of the cost."""
        dh, dw = self._size
        ys, xs = np.mgrid[0:dh - 1:9j, 0:dw - 1:9j]
        pts = np.stack([xs.ravel(), ys.ravel()], 1)
        moved = geo.transform_points(h_pair, pts)
        d = np.hypot(*(moved - pts).T)
        return float(np.median(d)) if np.isfinite(d).all() else float("inf")

    # -- track access --------------------------------------------------------------------
    def _pair_valid(self, k: int) -> bool:
        """Pair ``k`` (frames k -> k+1) is trustworthy in the camera track."""
        cam = self._camera
        if cam is None or k < 0 or k + 1 >= len(cam["valid"]):
            return False
        return bool(cam["valid"][k + 1])

    def _pair_h(self, k: int) -> np.ndarray | None:
        """Pair homography ``k`` (frame k+1 -> frame k) in depth-grid pixels."""
        cam = self._camera
        if cam is None or not 0 <= k < len(cam["pair_homography"]):
            return None
        sx, sy = self._to_grid
        return geo.change_grid(np.asarray(cam["pair_homography"][k], np.float64), sx, sy)

    def _focal(self) -> float:
        cam = self._camera
        focal_full = (cam.meta.get("focal_px") if cam is not None else None)
        return float(focal_full) * self._to_grid[0] if focal_full else 1.2 * self._size[1]

    def _sky_alpha(self, i: int) -> np.ndarray:
        dh, dw = self._size
        if self._sky is None or i >= len(self._sky["alpha"]):
            return np.zeros((dh, dw), np.float32)
        a = np.asarray(self._sky["alpha"][i]).astype(np.float32) / 255.0
        return a if a.shape == (dh, dw) else cv2.resize(a, (dw, dh), interpolation=cv2.INTER_AREA)

    def _flow_from(self, i: int, forward: bool) -> tuple[np.ndarray, np.ndarray]:
        """Flow of frame ``i`` to ``i+1`` (or ``i-1``) on the depth grid, and its occlusion mask
        (the last few are kept: the monocular carry, the parallax and the temporal step of one
        frame ask for the same ones)."""
        memo = self._flow_memo
        if (i, forward) in memo:
            return memo[(i, forward)]
        out = self._flow_from_uncached(i, forward)
        for key in [key for key in memo if key[0] < i - 1]:
            del memo[key]
        memo[(i, forward)] = out
        return out

    def _flow_from_uncached(self, i: int, forward: bool) -> tuple[np.ndarray, np.ndarray]:
        flow = self._flow
        k = i if forward else i - 1
        f = np.asarray(flow["forward" if forward else "backward"][k], np.float32)
        if forward:
            occ = np.asarray(flow["occlusion"][k], bool)
        else:
            occ, _err = fb_consistency(f, np.asarray(flow["forward"][k], np.float32))
        dh, dw = self._size
        if f.shape[:2] != (dh, dw):
            f = resize_flow(f, dh, dw)
            occ = cv2.resize(occ.astype(np.uint8), (dw, dh), interpolation=cv2.INTER_NEAREST).astype(bool)
        return f, occ

    def _warp_prev(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """The previous result warped onto frame ``i`` and the per-pixel trust in it (kept per frame)."""
        assert self._prev is not None
        if self._warped is not None and self._warped[0] == i:
            return self._warped[1]
        flow = self._flow
        if flow is None or not 0 <= i - 1 < len(flow["backward"]):
            out = (self._prev, np.ones_like(self._prev))
        else:
            f, occ = self._flow_from(i, False)
            out = (warp(self._prev, f), (~occ).astype(np.float32))
        self._warped = (i, out)
        return out

    def finalize(self, ctx: AnalysisContext) -> Track:
        n = self._n
        arrays = {}
        for name, a in self._arrays.items():
            if isinstance(a, np.memmap):
                a.flush()
            arrays[name] = a[:n]
        counts = np.bincount(arrays["source"], minlength=3) if n else np.zeros(3, int)
        p = self.params
        method = ("onnx model " + os.path.basename(str(p.onnx_model)) if p.onnx_model else
                  "motion parallax (flow vs camera homography) fused with monocular cues; monocular alone on still shots")
        meta: dict[str, Any] = {
            "metric": False,
            "unit": "relative inverse depth in [0, 1], 1 = nearest",
            "method": method,
            "cues": {"monocular": dict(CUE_WEIGHTS), "parallax_sign_votes": dict(SIGN_VOTES),
                     "mono_weight_in_fusion": p.mono_weight, "temporal_memory": p.temporal,
                     "temporal_memory_monocular": p.temporal_monocular},
            "size": list(self._size),
            "frames_by_source": {s: int(c) for s, c in zip(SOURCES, counts)},
            "monocular_key_frames": int(self.n_mono),
            "mean_confidence": round(float(arrays["confidence"].mean()), 4) if n else 0.0,
            "mean_abs_change": round(self._change / max(n - 1, 1), 5),
        }
        if self._model is not None:
            meta["onnx"] = {"input": self._model.input_name, "output": self._model.output_name,
                            "input_size": list(self._model.input_hw(*ctx.size))}
        self._prev = None
        return Track(self.name, arrays, meta)


def overlay(track: Track, frame: np.ndarray, index: int) -> np.ndarray:
    """Frame ``index`` with its colour-mapped depth as a picture-in-picture (top right).

    The inset is a third of the frame's width (inferno: bright = near, dark = far), framed in
    white, with the source and confidence written under it.

    Args:
        track: a ``depth`` track.
        frame: ``(H, W, 3)`` uint8 RGB, any size.
        index: frame index in ``[0, T)``.

    Returns:
        ``(H, W, 3)`` uint8 RGB (a new array).
    """
    depth = track["depth"]
    check_overlay_args(frame, index, depth.shape[0])
    out = frame.copy()
    H, W = frame.shape[:2]
    iw = max(8, W // 3)
    ih = max(8, round(iw * depth.shape[1] / depth.shape[2]))
    if ih > H - 4 or iw > W - 4:
        return out
    inset = cv2.resize(depth_to_rgb(np.asarray(depth[index], np.float32)), (iw, ih), interpolation=cv2.INTER_LINEAR)
    x0, y0 = W - iw - 2, 2
    out[y0:y0 + ih, x0:x0 + iw] = inset
    cv2.rectangle(out, (x0 - 1, y0 - 1), (x0 + iw, y0 + ih), (255, 255, 255), 1)
    src = SOURCES[int(track["source"][index])] if "source" in track else "?"
    conf = float(track["confidence"][index]) if "confidence" in track else 0.0
    cv2.putText(out, f"depth: {src} {conf:.2f}", (x0, min(H - 4, y0 + ih + max(14, H // 40))), cv2.FONT_HERSHEY_SIMPLEX,
                max(0.35, H / 1200), (255, 255, 255), 1, cv2.LINE_AA)
    return out
