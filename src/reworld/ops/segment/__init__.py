"""Masks from a user's prompt, mask refinement, warping and mask metrics (layer 1: numpy/cv2/scipy).

A prompt is positive clicks ``points``, negative clicks ``negative`` and/or a ``box``, all in the
image's pixels as ``(x, y)`` (``box`` = ``(x0, y0, x1, y1)``, right/bottom edges exclusive;
validated by :func:`check_prompt`). :func:`mask_from_prompt` turns it into a soft alpha in four
steps (:mod:`reworld.ops.segment.prompt`):

1. **superpixels** (SLIC-O on CIELAB) and a **colour/texture model**: joint histograms of
   quantised RGB x local-contrast level (:class:`AppearanceModel`,
   :mod:`reworld.ops.segment.appearance`) for the foreground (clicked superpixels or the box
   interior) and the background (border superpixels, negative clicks, the outside of the box);
2. **superpixel growing**: the connected superpixels whose mean log-likelihood ratio favours
   the foreground, twice (the model is refitted on the grown region);
3. **graph-cut refinement** with :func:`cv2.grabCut` initialised from that mask, on a crop
   around it at a reduced size (``max_side``) — the only slow step (~0.1-0.5 s), meant for the
   key frame;
4. **edge snapping**: the hard mask is upsampled and passed through a guided filter
   (He et al. 2010) with the image as guide, which gives a soft edge that follows the image's
   edges.

:func:`refine_mask` re-segments one frame from a prior (e.g. the previous mask warped by optical
flow with :func:`warp_mask`): colour log-likelihood ratio + the blurred prior as a spatial
term, edge-aware smoothing, limited to a band around the prior; a few milliseconds, no grabCut
(:mod:`reworld.ops.segment.refine`).
:func:`mask_iou` and :func:`boundary_f` are the DAVIS region (J) and boundary (F) measures
(:mod:`reworld.ops.segment.metrics`).

Modules: ``_checks`` (input validation, :func:`check_prompt`), ``_morph`` (mask morphology
shared by prompt and refine: components, holes, edge snapping, distances), ``appearance``,
``prompt``, ``refine``, ``metrics``.

Example:
    >>> import numpy as np
    >>> img = np.zeros((60, 80, 3), np.uint8); img[20:40, 30:50] = (230, 120, 40)
    >>> alpha = mask_from_prompt(img, points=[(40, 30)])
    >>> truth = np.zeros((60, 80), bool); truth[20:40, 30:50] = True
    >>> mask_iou(alpha > 0.5, truth) > 0.9
    True
"""

from __future__ import annotations

from reworld.ops.segment._checks import check_prompt
from reworld.ops.segment.appearance import AppearanceModel
from reworld.ops.segment.metrics import boundary_f, mask_iou
from reworld.ops.segment.prompt import mask_from_prompt
from reworld.ops.segment.refine import refine_mask, warp_mask

__all__ = [
    "AppearanceModel",
    "boundary_f",
    "check_prompt",
    "mask_from_prompt",
    "mask_iou",
    "refine_mask",
    "warp_mask",
]
