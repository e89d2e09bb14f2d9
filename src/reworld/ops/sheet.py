"""Contact sheets: a grid of frames with labels, for looking at results (pure array function)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from reworld.errors import InvalidInput


def contact_sheet(rows: Sequence[Sequence[np.ndarray]], *, labels: Sequence[str] | None = None,
                  cell_width: int = 320, gap: int = 4, label_width: int = 110) -> np.ndarray:
    """Lay out frames as a grid, one row per sequence, each cell resized to ``cell_width``.

    Args:
        rows: each row a sequence of ``(H, W, 3)`` uint8 RGB frames (sizes may differ).
        labels: optional text per row, drawn in a left margin.
        cell_width: width of each cell in pixels (height keeps the first frame's aspect).
        gap: pixels between cells.
        label_width: width of the label margin (0 disables it).

    Returns:
        ``(H', W', 3)`` uint8 RGB image.

    Example:
        >>> f = np.zeros((48, 64, 3), np.uint8)
        >>> contact_sheet([[f, f], [f, f]], cell_width=32, labels=["a", "b"]).shape
        (52, 178, 3)
    """
    import cv2

    if not rows or not all(len(r) for r in rows):
        raise InvalidInput("rows", f"{len(rows)} rows", "must be a non-empty list of non-empty frame lists")
    if labels is not None and len(labels) != len(rows):
        raise InvalidInput("labels", len(labels), f"must give one label per row ({len(rows)})")
    first = np.asarray(rows[0][0])
    if first.ndim != 3 or first.shape[-1] != 3 or first.dtype != np.uint8:
        raise InvalidInput("rows", f"frame {first.shape} {first.dtype}", "must hold (H, W, 3) uint8 frames")
    cell_h = max(1, round(cell_width * first.shape[0] / first.shape[1]))
    margin = label_width if labels else 0
    ncols = max(len(r) for r in rows)
    height = len(rows) * cell_h + (len(rows) - 1) * gap
    width = margin + ncols * cell_width + (ncols - 1) * gap
    sheet = np.full((height, width, 3), 24, np.uint8)
    for i, row in enumerate(rows):
        y = i * (cell_h + gap)
        for j, frame in enumerate(row):
            x = margin + j * (cell_width + gap)
            cell = cv2.resize(np.asarray(frame), (cell_width, cell_h), interpolation=cv2.INTER_AREA)
            sheet[y:y + cell_h, x:x + cell_width] = cell
        if labels:
            scale = 0.45
            for k, line in enumerate(str(labels[i]).split("\n")):
                cv2.putText(sheet, line, (6, y + 18 + 18 * k), cv2.FONT_HERSHEY_SIMPLEX, scale,
                            (235, 235, 235), 1, cv2.LINE_AA)
    return sheet
