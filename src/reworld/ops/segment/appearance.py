"""Colour/texture appearance model of a foreground and its background (:class:`AppearanceModel`).

Joint histograms of quantised RGB x local-contrast level (luma standard deviation in a 5x5
window), smoothed; their log-likelihood ratio scores pixels as foreground or background. Used by
:func:`reworld.ops.segment.mask_from_prompt` (fitted on the clicks/box and refitted on the grown
region) and :func:`reworld.ops.segment.refine_mask`, and updated over time by the region tracker.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.ndimage import gaussian_filter

from reworld.ops.segment._checks import _check_alpha, _check_image
from reworld.ops.segment._morph import _distance_to

__all__ = ["AppearanceModel"]


_EPS = 1e-6
_LLR_CLIP = 5.0

@dataclass(frozen=True)
class AppearanceModel:
    """Foreground and background histograms of quantised colour x local contrast.

    Attributes:
        fg: ``(bins**3 * levels,)`` float32 foreground histogram (sums to 1).
        bg: same shape, background.
        bins: colour levels per RGB channel.
        levels: local-contrast (texture) levels: luma standard deviation in a 5x5 window.
    """

    fg: np.ndarray
    bg: np.ndarray
    bins: int = 16
    levels: int = 3

    @staticmethod
    def features(image: np.ndarray, bins: int = 16, levels: int = 3) -> np.ndarray:
        """Histogram bin of every pixel: ``(H, W)`` int32 in ``[0, bins**3 * levels)``."""
        img = _check_image(image)
        q = (img.astype(np.int32) * bins) >> 8
        idx = (q[..., 0] * bins + q[..., 1]) * bins + q[..., 2]
        if levels > 1:
            y = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
            m = cv2.blur(y, (5, 5))
            sd = np.sqrt(np.maximum(cv2.blur(y * y, (5, 5)) - m * m, 0))
            tex = np.digitize(sd, np.asarray([4.0, 12.0, 30.0][: levels - 1], np.float32)).astype(np.int32)
            idx = idx + tex * bins ** 3
        return idx

    @staticmethod
    def _hist(idx: np.ndarray, weights: np.ndarray, bins: int, levels: int) -> np.ndarray:
        h = np.bincount(idx.ravel(), weights=weights.ravel(), minlength=bins ** 3 * levels).astype(np.float32)
        h = gaussian_filter(h.reshape(levels, bins, bins, bins), (0.0, 0.8, 0.8, 0.8), mode="constant")
        h = h.reshape(-1)
        return h / max(float(h.sum()), _EPS)

    @classmethod
    def fit(cls, image: np.ndarray, alpha: np.ndarray, *, bg_weight: np.ndarray | None = None,
            band: int | None = None, bins: int = 16, levels: int = 3,
            idx: np.ndarray | None = None) -> AppearanceModel:
        """Fit from an image and its alpha.

        Args:
            image: ``(H, W, 3)`` uint8 RGB (or float in [0, 1]).
            alpha: ``(H, W)`` foreground weight in [0, 1] (bool/uint8 accepted).
            bg_weight: ``(H, W)`` background weight; default ``1 - alpha`` inside a band of
                ``band`` pixels around the mask (the local background matters most).
            band: background band width in pixels (default: the mask's equivalent radius,
                at least 8); ``0`` = the whole image.
            idx: precomputed :meth:`features` of ``image``.
        """
        img = _check_image(image)
        a = _check_alpha(alpha, img.shape[:2], "alpha")
        if idx is None:
            idx = cls.features(img, bins, levels)
        if bg_weight is None:
            bg_weight = 1.0 - a
            if band is None:
                band = max(8, int(np.sqrt(max(float(a.sum()), 1.0) / np.pi)))
            if band > 0 and a.max() > 0.5:
                bg_weight = bg_weight * (_distance_to(a > 0.5) <= band)
        fg = cls._hist(idx, a, bins, levels)
        bg = cls._hist(idx, np.asarray(bg_weight, np.float32), bins, levels)
        return cls(fg, bg, bins, levels)

    def llr(self, image: np.ndarray | None = None, *, idx: np.ndarray | None = None) -> np.ndarray:
        """Log-likelihood ratio log p(fg) / p(bg) per pixel: ``(H, W)`` float32 in [-5, 5].

        Colours neither histogram has seen get about 0 (undecided)."""
        if idx is None:
            idx = self.features(image, self.bins, self.levels)
        table = np.clip(np.log((self.fg + 2e-5) / (self.bg + 2e-5)), -_LLR_CLIP, _LLR_CLIP).astype(np.float32)
        return table[idx]

    def update(self, image: np.ndarray, alpha: np.ndarray, *, fg_rate: float = 0.1, bg_rate: float = 0.5,
               bg_weight: np.ndarray | None = None, idx: np.ndarray | None = None) -> AppearanceModel:
        """A new model blended towards the statistics of ``(image, alpha)``: ``(1 - rate) * old + rate * new``
        (``bg_weight`` as in :meth:`fit`)."""
        new = self.fit(image, alpha, bg_weight=bg_weight, bins=self.bins, levels=self.levels, idx=idx)
        fg = (1 - fg_rate) * self.fg + fg_rate * new.fg
        bg = (1 - bg_rate) * self.bg + bg_rate * new.bg
        return AppearanceModel(fg.astype(np.float32), bg.astype(np.float32), self.bins, self.levels)

    def similarity(self, idx: np.ndarray, mask: np.ndarray) -> float:
        """Bhattacharyya coefficient in [0, 1] between the foreground histogram and the pixels in ``mask``."""
        h = self._hist(idx, mask.astype(np.float32), self.bins, self.levels)
        return float(np.sqrt(h * self.fg).sum())
