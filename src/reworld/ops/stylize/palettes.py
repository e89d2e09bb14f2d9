"""Named fixed palettes and gradient maps used by looks (data only).

Palettes are lists of ``"#rrggbb"``; gradients are ``[(position, "#rrggbb"), ...]`` for
:func:`reworld.ops.stylize.colour.gradient_map`. Sources: the Game Boy DMG's four greens, the
PICO-8 fantasy console's 16 colours, an "ironbow" thermal-camera ramp, a P43 green-phosphor ramp,
and palettes picked by eye from ukiyo-e prints (Prussian blue, vermilion, ochre, sumi ink, washi).

Example:
    >>> palette_rgb("gameboy").shape
    (4, 3)
"""

from __future__ import annotations

import numpy as np

from reworld.errors import InvalidInput
from reworld.ops.stylize._common import hex_to_rgb

__all__ = ["GRADIENTS", "PALETTES", "palette_rgb"]

PALETTES: dict[str, tuple[str, ...]] = {
    "gameboy": ("#0f380f", "#306230", "#8bac0f", "#9bbc0f"),
    "pico8": ("#000000", "#1d2b53", "#7e2553", "#008751", "#ab5236", "#5f574f", "#c2c3c7", "#fff1e8",
              "#ff004d", "#ffa300", "#ffec27", "#00e436", "#29adff", "#83769c", "#ff77a8", "#ffccaa"),
    "ukiyoe": ("#1b1b1f", "#1f3a5f", "#3d6e8c", "#5a86a6", "#9fbfc4", "#c8402c", "#d9a441", "#e8c28a", "#6b7f3a",
               "#efe3c8", "#b9a27c", "#f3e9d2"),
    "popart": ("#111111", "#ffffff", "#ffde00", "#ff2d87", "#00a3e0", "#e10600"),
    "comic": ("#141414", "#f4efe4", "#e33b2e", "#f2c12e", "#2f6db5", "#7cb342", "#f3a683", "#6d4c41"),
}

GRADIENTS: dict[str, tuple[tuple[float, str], ...]] = {
    "ironbow": ((0.0, "#000014"), (0.2, "#3b0f70"), (0.4, "#8c2981"), (0.58, "#de4968"), (0.75, "#fe9f6d"),
                (0.9, "#fde38d"), (1.0, "#fffff0")),
    "phosphor": ((0.0, "#010a03"), (0.35, "#0f4d1a"), (0.7, "#4fd65a"), (1.0, "#e6ffd8")),
    "sepia": ((0.0, "#1e140c"), (0.4, "#6b4e33"), (0.75, "#c4a27a"), (1.0, "#f5e6c8")),
    "cyanotype": ((0.0, "#0b1f4b"), (0.5, "#27579b"), (1.0, "#e6eef7")),
    "blueprint": ((0.0, "#0a2a66"), (0.6, "#1d4f9c"), (1.0, "#6d9ad6")),
    "vaporwave": ((0.0, "#1a0933"), (0.3, "#5b2a86"), (0.55, "#ff5fa2"), (0.8, "#7ee8fa"), (1.0, "#fff0fb")),
    "lava": ((0.0, "#0d0202"), (0.35, "#5c0a04"), (0.6, "#c8300a"), (0.8, "#ff8c1a"), (1.0, "#fff2a0")),
    "moonlit": ((0.0, "#020611"), (0.5, "#243a63"), (1.0, "#c9d8f0")),
    "selenium": ((0.0, "#120c14"), (0.5, "#5e5260"), (1.0, "#f1ece8")),
}


def palette_rgb(name: str) -> np.ndarray:
    """A named palette as ``(k, 3)`` float32 RGB in [0, 1].

    Raises:
        InvalidInput: an unknown name (the valid names are listed).
    """
    if name not in PALETTES:
        raise InvalidInput("palette", name, f"must be one of {', '.join(sorted(PALETTES))}")
    return np.stack([hex_to_rgb(c) for c in PALETTES[name]])
