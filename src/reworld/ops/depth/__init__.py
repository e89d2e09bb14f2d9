"""Relative depth from motion parallax and monocular cues, as pure array functions (layer 1).

Depth here is always **relative inverse depth** (disparity-like): ``(h, w)`` float32 in [0, 1],
1 = nearest, 0 = farthest (sky). It is not metric and has no fixed scale between frames except
through :func:`temporal_align`.

Two estimators and two combinators:

- :func:`parallax_depth` (:mod:`reworld.ops.depth.parallax`) — for a camera that *moves*: the
  flow left after removing the camera's dominant motion (the homography of the background
  plane, or a pure rotation) is plane-plus-parallax, ``r(x) = γ(x)·(x − e)`` with ``e`` the
  epipole (Irani & Anandan; Sawhney 1994). It says whether there is parallax and where the
  epipole is; the rotation and epipole are then refined on the whole flow, inverse depth is
  read along the epipolar lines and its sign (which end is near) decided by votes
  (:data:`SIGN_VOTES`).
- :func:`monocular_depth` (:mod:`reworld.ops.depth.monocular`) — for static shots and photos,
  a "pop-up" scene model (Hoiem et al. 2005 in spirit, no learning): sky at infinity, a ground
  plane below the horizon whose inverse depth grows linearly with the distance below the
  horizon (a flat ground seen from height ``h_c``: ``1/Z = (y − y_h) / (f h_c)``), standing
  objects at the depth of the row where they touch the ground, and defocus as a weak cue
  (:data:`CUE_WEIGHTS`).
- :func:`fuse_depth` (:mod:`reworld.ops.depth.fusion`) — monocular depth aligned to parallax
  depth (robust scale/shift) and blended by the parallax confidence.
- :func:`temporal_align` (:mod:`reworld.ops.depth.fusion`) — a frame's depth aligned (robust
  scale/shift) to the previous result warped by the flow, then blended with it by confidence,
  so depth is stable over time.

:func:`spearman` measures rank agreement (what relative depth can be judged on) and
:func:`normalize_depth` maps a raw map to [0, 1] (:mod:`reworld.ops.depth._common`);
:func:`depth_to_rgb` colour-maps a result (:mod:`reworld.ops.depth.fusion`).

Modules:

- ``_common``: input checks shared by the others, :func:`normalize_depth`, :func:`spearman`;
- ``parallax``: :func:`homography_flow`, :class:`ParallaxDepth`, epipole/rotation fitting,
  :func:`parallax_depth`;
- ``monocular``: :class:`MonocularDepth`, :func:`estimate_horizon`, segments, sharpness,
  standing objects, :func:`monocular_depth`;
- ``fusion``: :func:`fuse_depth`, :func:`temporal_align`, :func:`depth_to_rgb`.
"""

from __future__ import annotations

from reworld.ops.depth._common import normalize_depth, spearman
from reworld.ops.depth.fusion import depth_to_rgb, fuse_depth, temporal_align
from reworld.ops.depth.monocular import (
    CUE_WEIGHTS,
    MonocularDepth,
    estimate_horizon,
    monocular_depth,
)
from reworld.ops.depth.parallax import (
    SIGN_VOTES,
    ParallaxDepth,
    homography_flow,
    parallax_depth,
)

__all__ = [
    "CUE_WEIGHTS",
    "SIGN_VOTES",
    "MonocularDepth",
    "ParallaxDepth",
    "depth_to_rgb",
    "estimate_horizon",
    "fuse_depth",
    "homography_flow",
    "monocular_depth",
    "normalize_depth",
    "parallax_depth",
    "spearman",
    "temporal_align",
]
