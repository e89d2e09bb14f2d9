"""Cell looks: mosaic tiles, stained glass and low-poly facets over a fixed cell layout.

A **layout** is an ``(H, W)`` int32 label map (cell id per pixel) with ``n`` cells, built once
per clip from a seeded point set (:func:`voronoi_layout`: jittered grid → Voronoi cells;
:func:`delaunay_layout`: points on the picture's edges plus a jittered grid → Delaunay
triangles). Per frame, every cell takes the mean colour of the frame's pixels inside it
(:func:`cell_means`), so a cell is one flat colour.

**Video.** A layout fixed to the screen makes the scene slide under the tiles ("shower
door"); for moving shots the engine should warp the label map with the scene (nearest-
neighbour warping along the optical flow keeps it a label map) and pass the warped map here.
Everything that depends on the layout's geometry (grout, lead lines, bevels) is recomputed
from the label map on each call, so a warped map needs nothing else.

- :func:`mosaic` — tiles with grout lines and a bevel (distance to the tile border);
- :func:`stained_glass` — saturated, brightened cells, dark lead lines, glass mottling;
- :func:`low_poly` — flat triangles with a small per-facet shade (a faceted surface).
"""

from __future__ import annotations

import cv2
import numpy as np

from reworld.errors import InvalidInput
from reworld.ops.match import lab_to_srgb, srgb_to_lab
from reworld.ops.stylize._common import check_image, check_range, hex_to_rgb, luma

__all__ = ["cell_edges", "cell_means", "delaunay_layout", "low_poly", "mosaic", "stained_glass", "voronoi_layout"]


def _check_labels(labels: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if not isinstance(labels, np.ndarray) or labels.shape != tuple(shape) or labels.dtype != np.int32:
        raise InvalidInput("labels", getattr(labels, "shape", type(labels).__name__),
                           f"must be an int32 label map of shape {tuple(shape)}")
    return labels


def _jittered_grid(shape: tuple[int, int], cell: float, rng: np.random.Generator, jitter: float) -> np.ndarray:
    h, w = shape
    ys = np.arange(cell / 2, h + cell / 2, cell)
    xs = np.arange(cell / 2, w + cell / 2, cell)
    gy, gx = np.meshgrid(ys, xs, indexing="ij")
    pts = np.stack([gx.ravel(), gy.ravel()], 1)
    pts += (rng.random(pts.shape) - 0.5) * cell * jitter
    pts[:, 0] = np.clip(pts[:, 0], 0, w - 1)
    pts[:, 1] = np.clip(pts[:, 1], 0, h - 1)
    return pts


def voronoi_layout(shape: tuple[int, int], rng: np.random.Generator, *, cell: float = 24.0, jitter: float = 0.9) -> np.ndarray:
    """Voronoi cells of a jittered grid: ``(H, W)`` int32 labels 0..n-1 (n = ``labels.max() + 1``).

    Args:
        shape: (H, W). rng: generator (the point set). cell: mean cell size in px, [3, 512].
        jitter: [0, 1] share of the grid step points move (0 = square cells).

    Example:
        >>> lab = voronoi_layout((20, 30), np.random.default_rng(0), cell=10.0)
        >>> lab.shape, lab.dtype.name, int(lab.max()) + 1
        ((20, 30), 'int32', 6)
    """
    from scipy.spatial import cKDTree

    c = check_range(cell, "cell", 3.0, 512.0)
    check_range(jitter, "jitter", 0.0, 1.0)
    h, w = shape
    pts = _jittered_grid((h, w), c, rng, jitter)
    yy, xx = np.mgrid[0:h, 0:w]
    _, idx = cKDTree(pts).query(np.stack([xx.ravel(), yy.ravel()], 1), workers=1)
    return idx.reshape(h, w).astype(np.int32)


def delaunay_layout(shape: tuple[int, int], rng: np.random.Generator, *, cell: float = 40.0,
                    image: np.ndarray | None = None, edge_points: int = 400) -> np.ndarray:
    """Delaunay triangles of a jittered grid plus (optionally) points on the image's edges.

    Args:
        shape: (H, W). rng: generator. cell: grid step in px, [4, 512].
        image: optional ``(H, W, 3)`` float32 picture whose strong edges attract extra vertices
            (so facets follow silhouettes).
        edge_points: number of edge vertices drawn (weighted by edge strength), [0, 20000].

    Returns:
        ``(H, W)`` int32 triangle labels 0..n-1.

    Example:
        >>> lab = delaunay_layout((30, 40), np.random.default_rng(0), cell=12.0)
        >>> int(lab.min()) >= 0 and int(lab.max()) > 4
        True
    """
    from scipy.ndimage import distance_transform_edt

    c = check_range(cell, "cell", 4.0, 512.0)
    h, w = shape
    pts = [_jittered_grid((h, w), c, rng, 0.8)]
    border = [(x, 0.0) for x in np.linspace(0, w - 1, max(2, int(w / c) + 1))]
    border += [(x, h - 1.0) for x in np.linspace(0, w - 1, max(2, int(w / c) + 1))]
    border += [(0.0, y) for y in np.linspace(0, h - 1, max(2, int(h / c) + 1))]
    border += [(w - 1.0, y) for y in np.linspace(0, h - 1, max(2, int(h / c) + 1))]
    pts.append(np.array(border))
    if image is not None and edge_points > 0:
        check_image(image)
        y = cv2.GaussianBlur(luma(image), (0, 0), 2.0)
        mag = np.hypot(cv2.Sobel(y, cv2.CV_32F, 1, 0), cv2.Sobel(y, cv2.CV_32F, 0, 1)).ravel().astype(np.float64)
        mag = mag**2
        if mag.sum() > 0:
            pick = rng.choice(mag.size, size=min(int(edge_points), mag.size), replace=False, p=mag / mag.sum())
            pts.append(np.stack([pick % w, pick // w], 1).astype(np.float64))
    allp = np.concatenate(pts)
    subdiv = cv2.Subdiv2D((0, 0, w, h))
    seen = set()
    for x, yv in allp:
        key = (round(float(x), 1), round(float(yv), 1))
        if key not in seen:
            seen.add(key)
            subdiv.insert((float(np.clip(x, 0, w - 1)), float(np.clip(yv, 0, h - 1))))
    labels = np.full((h, w), -1, np.int32)
    n = 0
    for t in subdiv.getTriangleList():
        tri = t.reshape(3, 2)
        if (tri < -0.5).any() or (tri[:, 0] > w).any() or (tri[:, 1] > h).any():
            continue
        cv2.fillConvexPoly(labels, np.round(tri).astype(np.int32), n)
        n += 1
    holes = labels < 0
    if holes.any():
        _, (iy, ix) = distance_transform_edt(holes, return_indices=True)
        labels = labels[iy, ix]
    _, inverse = np.unique(labels, return_inverse=True)  # compact ids
    return inverse.reshape(h, w).astype(np.int32)


def cell_means(image: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Mean colour per cell: ``(n, 3)`` float32 (n = ``labels.max() + 1``; empty cells are grey).

    Example:
        >>> img = np.zeros((2, 2, 3), np.float32); img[:, 1] = 1.0
        >>> cell_means(img, np.array([[0, 1], [0, 1]], np.int32)).tolist()
        [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]
    """
    check_image(image)
    _check_labels(labels, image.shape[:2])
    flat = labels.ravel()
    n = int(flat.max()) + 1
    counts = np.bincount(flat, minlength=n).astype(np.float64)
    out = np.stack([np.bincount(flat, weights=image[..., i].ravel(), minlength=n) for i in range(3)], 1)
    out = np.where(counts[:, None] > 0, out / np.maximum(counts[:, None], 1), 0.5)
    return out.astype(np.float32)


def cell_edges(labels: np.ndarray) -> np.ndarray:
    """Distance in px from each pixel to its cell's border: ``(H, W)`` float32 (0 on the border).

    Example:
        >>> cell_edges(np.array([[0, 0, 1, 1]], np.int32)).round(1).tolist()
        [[1.0, 0.0, 0.0, 1.0]]
    """
    border = np.zeros(labels.shape, bool)
    border[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    border[:, :-1] |= labels[:, :-1] != labels[:, 1:]
    border[1:, :] |= labels[1:, :] != labels[:-1, :]
    border[:-1, :] |= labels[:-1, :] != labels[1:, :]
    inside = (~border).astype(np.uint8)
    return cv2.distanceTransform(inside, cv2.DIST_L2, 3).astype(np.float32)


def mosaic(image: np.ndarray, labels: np.ndarray, *, grout: float = 1.5, grout_colour: str = "#3a352f",
           bevel: float = 0.25) -> np.ndarray:
    """Mosaic tiles: flat cell colours, grout lines ``grout`` px wide, bevelled tile edges.

    Args:
        grout: grout half-width in px, [0, 8]. grout_colour: ``"#rrggbb"``. bevel: [0, 1].

    Example:
        >>> img = np.random.default_rng(0).random((8, 8, 3), dtype=np.float32)
        >>> lab = np.zeros((8, 8), np.int32); lab[:, 4:] = 1
        >>> out = mosaic(img, lab, grout=0.0, bevel=0.0)
        >>> bool((out[:, :4] == out[0, 0]).all())
        True
    """
    g = check_range(grout, "grout", 0.0, 8.0)
    bv = check_range(bevel, "bevel", 0.0, 1.0)
    fill = cell_means(image, labels)[labels]
    if g == 0 and bv == 0:
        return fill
    dist = cell_edges(labels)
    if bv > 0:
        fill = fill * (1.0 - bv * np.exp(-dist / 2.5))[..., None]
    if g > 0:
        a = np.clip(g + 0.5 - dist, 0.0, 1.0)[..., None]
        fill = fill + a * (hex_to_rgb(grout_colour) - fill)
    return np.clip(fill, 0.0, 1.0).astype(np.float32)


def stained_glass(image: np.ndarray, labels: np.ndarray, glass: np.ndarray | None = None, *, lead: float = 2.0,
                  lead_colour: str = "#15130f", saturation: float = 1.7, brightness: float = 0.12) -> np.ndarray:
    """Stained glass: cell colours saturated and brightened, lead came between cells, mottled glass.

    Args:
        glass: optional ``(H, W)`` texture (mean ~0.5) for the mottling.
        lead: lead half-width in px, [0, 8]. saturation: chroma scale, [0, 4].
        brightness: L* lift as a share of 100, [0, 0.5].

    Example:
        >>> img = np.full((8, 8, 3), 0.4, np.float32)
        >>> stained_glass(img, np.zeros((8, 8), np.int32), lead=0.0).shape
        (8, 8, 3)
    """
    ld = check_range(lead, "lead", 0.0, 8.0)
    sat = check_range(saturation, "saturation", 0.0, 4.0)
    br = check_range(brightness, "brightness", 0.0, 0.5)
    means = srgb_to_lab(cell_means(image, labels))
    means[:, 1:] *= sat
    means[:, 0] = means[:, 0] * (1 - br) + 100 * br
    fill = lab_to_srgb(means)[labels]
    dist = cell_edges(labels)
    # glass is brighter in the middle of a pane (light through it) and mottled
    glow = 0.85 + 0.15 * (1.0 - np.exp(-dist / 6.0))
    if glass is not None:
        glow = glow * (0.85 + 0.3 * glass)
    fill = fill * glow[..., None]
    if ld > 0:
        a = np.clip(ld + 0.5 - dist, 0.0, 1.0)[..., None]
        fill = fill + a * (hex_to_rgb(lead_colour) - fill)
    return np.clip(fill, 0.0, 1.0).astype(np.float32)


def low_poly(image: np.ndarray, labels: np.ndarray, shade: np.ndarray | None = None, *, facet: float = 0.08) -> np.ndarray:
    """Flat-coloured triangles; ``shade`` ``(n,)`` in [-1, 1] darkens/lightens facets by ``facet``.

    Args:
        shade: optional per-cell shade values (fitted once, so a facet keeps its shade).
        facet: in [0, 0.5], the shade's strength.

    Example:
        >>> img = np.random.default_rng(0).random((6, 6, 3), dtype=np.float32)
        >>> out = low_poly(img, np.zeros((6, 6), np.int32))
        >>> bool((out == out[0, 0]).all())
        True
    """
    f = check_range(facet, "facet", 0.0, 0.5)
    means = cell_means(image, labels)
    if shade is not None and f > 0:
        s = np.asarray(shade, np.float32)
        if s.shape[0] < means.shape[0]:
            s = np.resize(s, means.shape[0])
        means = means * (1.0 + f * s[: means.shape[0], None])
    return np.clip(means[labels], 0.0, 1.0).astype(np.float32)
