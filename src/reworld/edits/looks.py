"""The look library: named looks, worlds, materials, lighting and atmospheres as recipes (data).

Each :class:`Look` is a small declarative list of steps ``(op, params, ramp, weight)`` over the ops
of :mod:`reworld.ops.stylize.recipe` — data, not code — plus words for the prompt matcher
(``title``, one-sentence ``description``, ``tags``) and how it varies with a seed.

**Intensity.** ``look.strength(intensity) = intensity ** curve`` (``curve`` per look, default 1),
and each step's amount is ``weight · clip((strength − lo) / (hi − lo), 0, 1)`` for its ramp
``(lo, hi)``: colour steps usually come in first, heavy restyles (paint, ink, cells) later, so
low intensities are a tasteful grade and 1 is the full look. Intensity 0 is the identity (every
step skipped; the frame is returned unchanged).

**Seed.** A seed moves each look along its ``vary`` axes within a tasteful range:

- ``hue`` (degrees): every ``"#rrggbb"`` in the params is rotated in CIELAB hue, ``hue``
  params (palettes, gradients) and ``hue_shift.shift`` are offset;
- ``scale`` (log factor): cell, block, spacing, stroke and texture sizes are multiplied by
  ``exp(offset)``;
- ``angle`` (degrees): stroke, hatching, screen and light directions are rotated;
- ``warmth``, ``tint``, ``tone``, ``saturation``: a global cast (white balance, green-magenta
  tint, exposure in stops, saturation offset) merged into the last colour table when only
  overlays (grain, vignette, bloom, particles…) follow it, else applied last — every look
  varies along these by default (:data:`DEFAULT_VARY`); its amount is ``min(1, 2 · strength)``
  so variations differ as much at flex intensities as at full intensity.

Seed 0 is the canonical look (all offsets 0). Other seeds: the (warmth, tint) cast lies on an
ellipse at angle ``2π · frac(seed · 0.381966 + 1/12)`` (golden-angle steps); the hue offset alternates in
sign (odd seeds turn by ``−range``; a negative range flips that, chosen per look where the
other direction is hidden by the look's own colours) with a magnitude of
``|range| · (0.5 + 0.5 frac(seed · 0.618…))``; every other axis is a
Weyl sequence ``u = frac(0.5 + seed · α_k)``, ``offset = range · (2u − 1)``; so **consecutive
seeds are spread evenly** and variations ``seed, seed + 1, …`` differ visibly (pairwise ΔE00
is measured in docs/looks.md) — when the engine passes ``seed + i`` for variation ``i``.
Random textures, palettes and layouts use ``numpy.random.default_rng`` seeded by (seed, step).

Engine interface::

    look = get_look("watercolour")
    state = look.prepare(sample_frames_uint8, intensity=0.7, seed=3, depth=None)   # once per clip
    out = look.apply(frame_float, state, frame_index=i, depth=d, person_alpha=p, sky_alpha=s)

Example:
    >>> import numpy as np
    >>> look = get_look("film_noir")
    >>> frames = np.random.default_rng(0).integers(0, 256, (2, 36, 64, 3), dtype=np.uint8)
    >>> state = look.prepare(frames, intensity=0.0, seed=0)
    >>> x = frames[0].astype(np.float32) / 255
    >>> bool(np.array_equal(look.apply(x, state, frame_index=0), x))
    True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from reworld.errors import InvalidInput
from reworld.ops.stylize._common import rotate_hue
from reworld.ops.stylize.recipe import OPS, PreparedRecipe, prepare_recipe, run_recipe

__all__ = ["CATEGORIES", "LOOKS", "Look", "LookState", "Step", "get_look", "list_looks", "look_names"]

CATEGORIES = ("look", "world", "material", "lighting", "atmosphere", "art style")
VARY_AXES = ("hue", "warmth", "tint", "tone", "saturation", "scale", "angle")
#: ranges every look varies by unless it sets its own (0 switches an axis off)
DEFAULT_VARY = {"warmth": 0.45, "tint": 0.6, "tone": 0.35, "saturation": 0.25}
_GOLDEN = 0.3819660112501051  #: 1 - 1/phi: the golden angle as a share of a turn
#: Weyl increments of the other axes: irrationals well inside (0, 1), so consecutive seeds jump
_ALPHA = {"hue": 0.6180339887498949, "tone": 0.41421356237309515, "saturation": 0.7320508075688772,
          "scale": 0.30277563773199456, "angle": 0.5413812651491097}
_SCALE_KEYS = frozenset({"cell", "block", "spacing", "stroke_length", "scale", "bump_scale", "caustic_scale", "brush"})
_ANGLE_KEYS = frozenset({"angle"})
_INT_KEYS = frozenset({"block"})
#: frame ops that leave a colour cast applied before them visible (the cast may go before them)
_OVERLAY_OPS = frozenset({"vignette", "grain", "soften", "aberration", "paper", "canvas", "particles", "vhs", "bloom"})


@dataclass(frozen=True)
class Step:
    """One recipe step: an op name, its parameters, the strength ramp (lo, hi) and a weight in [0, 1]."""

    op: str
    params: Mapping[str, Any] = field(default_factory=dict)
    ramp: tuple[float, float] = (0.0, 1.0)
    weight: float = 1.0

    def amount(self, strength: float) -> float:
        """Amount of this step at a look strength in [0, 1]."""
        lo, hi = self.ramp
        t = 1.0 if strength >= hi else (strength - lo) / (hi - lo) if strength > lo else 0.0
        return float(self.weight * min(max(t, 0.0), 1.0))


@dataclass(frozen=True)
class LookState:
    """Clip-level state of a look (from :meth:`Look.prepare`); immutable.

    Attributes:
        look: look name. intensity, seed: as given. strength: ``look.strength(intensity)``.
        amounts: per step amount. variation: axis -> offset actually used.
        recipe: the prepared stages (baked colour tables, fitted palettes, layouts, textures).
    """

    look: str
    intensity: float
    seed: int
    strength: float
    amounts: tuple[float, ...]
    variation: Mapping[str, float]
    recipe: PreparedRecipe

    @property
    def size(self) -> tuple[int, int]:
        """(H, W) of the frames the fitted maps were made for."""
        return self.recipe.size

    @property
    def animated(self) -> bool:
        """True when the look's output depends on the frame index (particles, VHS, caustics, animated grain)."""
        return self.recipe.animated

    @property
    def warpable(self) -> list[tuple[int, str]]:
        """(stage index, key) of fitted maps fixed to the scene that an engine may warp with the flow.

        Label maps (int32, cell layouts) must be warped with nearest-neighbour sampling;
        textures (float32) bilinearly. Replace them with :meth:`with_fitted`.
        """
        return [(i, k) for i, s in enumerate(self.recipe.stages) for k in s.warpable if k in s.fitted]

    def with_fitted(self, stage: int, **maps: Any) -> LookState:
        """A copy with some fitted maps of one stage replaced (e.g. a cell layout warped to frame t).

        Example:
            >>> frames = np.zeros((1, 32, 32, 3), np.uint8)
            >>> st = get_look("mosaic").prepare(frames, intensity=1.0, seed=0)
            >>> i, key = st.warpable[0]
            >>> st2 = st.with_fitted(i, **{key: st.recipe.stages[i].fitted[key]})
            >>> st2.look
            'mosaic'
        """
        stages = list(self.recipe.stages)
        if not 0 <= stage < len(stages):
            raise InvalidInput("stage", stage, f"must be in [0, {len(stages) - 1}]")
        old = stages[stage]
        unknown = set(maps) - set(old.fitted)
        if unknown:
            raise InvalidInput("maps", sorted(unknown), f"must be among {sorted(old.fitted)}")
        for key, value in maps.items():
            ref = old.fitted[key]
            if isinstance(ref, np.ndarray) and (not isinstance(value, np.ndarray) or value.dtype != ref.dtype
                                                or value.shape[2:] != ref.shape[2:]):
                raise InvalidInput(key, getattr(value, "shape", type(value).__name__),
                                   f"must be a {ref.dtype} array shaped like {ref.shape}")
        stages[stage] = replace(old, fitted={**old.fitted, **maps})
        return replace(self, recipe=replace(self.recipe, stages=tuple(stages)))


@dataclass(frozen=True)
class Look:
    """A named look: recipe data plus words for prompt matching (see the module docstring)."""

    name: str
    title: str
    category: str
    description: str
    tags: tuple[str, ...]
    steps: tuple[Step, ...]
    vary: Mapping[str, float] = field(default_factory=dict)
    curve: float = 1.0

    # ------------------------------------------------------------------ intensity and seed
    def strength(self, intensity: float) -> float:
        """Overall strength in [0, 1] for an intensity in [0, 1] (0 -> 0 = identity, 1 -> 1 = full look)."""
        return float(_check_intensity(intensity) ** self.curve)

    def amounts(self, intensity: float) -> tuple[float, ...]:
        """Per-step amounts at an intensity."""
        s = self.strength(intensity)
        return tuple(step.amount(s) for step in self.steps)

    def variation(self, seed: int) -> dict[str, float]:
        """Offsets of each ``vary`` axis for a seed (all 0 for seed 0)."""
        seed = _check_seed(seed)
        ranges = {**DEFAULT_VARY, **self.vary}
        out: dict[str, float] = {}
        if seed == 0:
            return out
        # the colour cast walks round a circle by the golden angle: seed 0 sits at its centre
        # and any few consecutive seeds are far apart on it
        phi = 2.0 * math.pi * ((seed * _GOLDEN + 1.0 / 12.0) % 1.0)  # +30°: seeds 1-3 go cool, yellow-green, magenta
        if ranges.get("warmth"):
            out["warmth"] = float(ranges["warmth"]) * math.cos(phi)
        if ranges.get("tint"):
            t = math.sin(phi)
            out["tint"] = float(ranges["tint"]) * t * (0.75 if t < 0 else 1.0)  # green casts read as sickly: less of them
        if ranges.get("hue"):
            # alternating sign, magnitude >= half the range: no seed lands next to the canonical hues
            mag = 0.5 + 0.5 * ((seed * _ALPHA["hue"]) % 1.0)
            out["hue"] = float(ranges["hue"]) * mag * (-1.0 if seed % 2 else 1.0)
        for axis, alpha in _ALPHA.items():
            rng_ = float(ranges.get(axis, 0.0))
            if rng_ and axis != "hue":
                u = (0.5 + seed * alpha) % 1.0
                out[axis] = rng_ * (2.0 * u - 1.0)
        return out

    @property
    def uses_seed(self) -> bool:
        """True when different seeds give different output (a vary axis or a seeded op)."""
        seeded = {"paper", "canvas", "grain", "pencil", "charcoal", "pastel", "oil", "watercolour", "relief", "mosaic",
                  "stained_glass", "low_poly", "underwater", "particles", "vhs", "palette", "pixelate"}
        return any({**DEFAULT_VARY, **self.vary}.values()) or any(s.op in seeded for s in self.steps)

    @property
    def colour_only(self) -> bool:
        """True when every step is a per-pixel colour op (one baked colour table per frame)."""
        return all(OPS[s.op].kind == "pixel" for s in self.steps)

    def resolved_steps(self, intensity: float, seed: int, *, colour_only: bool = False) -> list[tuple[str, dict, float]]:
        """The concrete ``(op, params, amount)`` list for an intensity and seed (what is prepared)."""
        amounts = self.amounts(intensity)
        var = self.variation(seed)
        steps = []
        for step, amount in zip(self.steps, amounts):
            if colour_only and OPS[step.op].kind != "pixel":
                amount = 0.0
            steps.append((step.op, _vary_params(step.op, step.params, var), amount))
        cast = _variation_grade(var)
        if cast and self.strength(intensity) > 0:
            # full from half strength up, so variations differ as much at flex as at full intensity
            amount = min(1.0, 2.0 * self.strength(intensity))
            # merge into the last colour table when only overlays follow it (cheaper); else at the end
            pixel = [i for i, (op, _, a) in enumerate(steps) if OPS[op].kind == "pixel" and a > 0]
            at = pixel[-1] + 1 if pixel else len(steps)
            if any(op not in _OVERLAY_OPS and a > 0 for op, _, a in steps[at:]):
                at = len(steps)
            steps.insert(at, ("grade", cast, amount))
        return steps

    # ------------------------------------------------------------------ engine interface
    def prepare(self, sample_frames: np.ndarray, *, intensity: float, seed: int, depth: np.ndarray | None = None,
                colour_only: bool = False) -> LookState:
        """Fit the clip-level state once per clip (deterministic for the same inputs and seed).

        Args:
            sample_frames: ``(n, H, W, 3)`` (or one ``(H, W, 3)``) uint8 RGB frames of the clip, at
                the size frames will be rendered at (fitted maps are made for that size).
            intensity: in [0, 1]. seed: int in [0, 2**32 - 1].
            depth: optional ``(h, w)`` or ``(n, h, w)`` relative inverse depth of the samples.
            colour_only: keep only the per-pixel colour steps (for adhere-like, texture-keeping use).

        Returns:
            :class:`LookState`.

        Raises:
            InvalidInput: bad frames, intensity or seed.
        """
        frames = _check_samples(sample_frames)
        steps = self.resolved_steps(intensity, seed, colour_only=colour_only)
        floats = frames.astype(np.float32) * np.float32(1.0 / 255.0)
        recipe = prepare_recipe(steps, floats, seed=_check_seed(seed), depth=depth)
        amounts = tuple(0.0 if colour_only and OPS[st.op].kind != "pixel" else a for st, a in zip(self.steps, self.amounts(intensity)))
        return LookState(self.name, float(intensity), int(seed), self.strength(intensity), amounts, self.variation(seed), recipe)

    def apply(self, frame: np.ndarray, state: LookState, *, frame_index: int, depth: np.ndarray | None = None,
              person_alpha: np.ndarray | None = None, sky_alpha: np.ndarray | None = None) -> np.ndarray:
        """Render one frame.

        Args:
            frame: ``(H, W, 3)`` float32 RGB in [0, 1].
            state: from :meth:`prepare` of this look.
            frame_index: frame number >= 0 (animated ops: particles, VHS, caustics).
            depth: optional ``(h, w)`` relative inverse depth (1 = near); person_alpha, sky_alpha:
                optional ``(h, w)`` alphas in [0, 1] (uint8 accepted). Resized to the frame.

        Returns:
            ``(H, W, 3)`` float32 in [0, 1], a new array.
        """
        if not isinstance(state, LookState) or state.look != self.name:
            raise InvalidInput("state", getattr(state, "look", type(state).__name__), f"must be a LookState of {self.name!r}")
        if state.strength == 0.0:
            from reworld.ops.stylize._common import check_image

            return check_image(frame, "frame").copy()
        return run_recipe(state.recipe, frame, frame_index=frame_index, depth=depth, person_alpha=person_alpha,
                          sky_alpha=sky_alpha)

    def to_json(self) -> dict[str, Any]:
        """Plain data (for `reworld looks --json` and the API)."""
        return {"name": self.name, "title": self.title, "category": self.category, "description": self.description,
                "tags": list(self.tags), "vary": dict(self.vary), "curve": self.curve,
                "steps": [{"op": s.op, "params": _plain(s.params), "ramp": list(s.ramp), "weight": s.weight} for s in self.steps]}


# ---------------------------------------------------------------------------- helpers


def _plain(x: Any) -> Any:
    if isinstance(x, Mapping):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x


def _check_intensity(intensity: Any) -> float:
    if isinstance(intensity, bool) or not isinstance(intensity, (int, float, np.integer, np.floating)):
        raise InvalidInput("intensity", intensity, "must be a number in [0, 1]")
    if not math.isfinite(intensity) or not 0.0 <= intensity <= 1.0:
        raise InvalidInput("intensity", intensity, "must be in [0, 1]")
    return float(intensity)


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) <= 2**32 - 1:
        raise InvalidInput("seed", seed, "must be an integer in [0, 2**32 - 1]")
    return int(seed)


def _check_samples(frames: Any) -> np.ndarray:
    if not isinstance(frames, np.ndarray) or frames.dtype != np.uint8:
        raise InvalidInput("sample_frames", getattr(frames, "dtype", type(frames).__name__), "must be a uint8 numpy array")
    if frames.ndim == 3:
        frames = frames[None]
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[0] < 1 or min(frames.shape[1:3]) < 8:
        raise InvalidInput("sample_frames", frames.shape, "must be (n, H, W, 3) or (H, W, 3) with H, W >= 8")
    return frames


def _variation_grade(var: Mapping[str, float]) -> dict[str, float]:
    """The global cast of a variation: white balance, tint, exposure and saturation offsets."""
    grade = {}
    if var.get("warmth"):
        grade["temperature"] = float(np.clip(var["warmth"], -1, 1))
    if var.get("tint"):
        grade["tint"] = float(np.clip(var["tint"], -1, 1))
    if var.get("tone"):
        grade["exposure"] = float(var["tone"])
    if var.get("saturation"):
        grade["saturation"] = float(np.clip(1.0 + var["saturation"], 0.0, 4.0))
    return grade


def _vary_value(key: str, value: Any, var: Mapping[str, float]) -> Any:
    if isinstance(value, str) and value.startswith("#") and var.get("hue"):
        return rotate_hue(value, var["hue"])
    if isinstance(value, Mapping):
        return {k: _vary_value(k, v, var) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_vary_value(key, v, var) for v in value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if key in _SCALE_KEYS and var.get("scale"):
            v = value * math.exp(var["scale"])
            return max(1, int(round(v))) if key in _INT_KEYS else v
        if key in _ANGLE_KEYS and var.get("angle"):
            return value + var["angle"]
    return value


def _vary_params(op: str, params: Mapping[str, Any], var: Mapping[str, float]) -> dict[str, Any]:
    out = {k: _vary_value(k, v, var) for k, v in params.items()}
    hue = var.get("hue", 0.0)
    if hue and op in ("palette", "pixelate", "gradient_map") and "hue" in params:
        out["hue"] = float(params["hue"]) + hue
    if hue and op == "hue_shift" and "shift" in params and params.get("vary_shift", True):
        out["shift"] = float(np.clip(float(params["shift"]) + 0.5 * hue, -180, 180))
    out.pop("vary_shift", None)
    return out


def S(op: str, lo: float = 0.0, hi: float = 1.0, weight: float = 1.0, **params: Any) -> Step:
    """Shorthand used by the library below: ``S("bloom", 0.3, 1.0, radius=30)``."""
    return Step(op, params, (lo, hi), weight)


def _look(name: str, title: str, category: str, description: str, tags: Sequence[str], steps: Sequence[Step],
          vary: Mapping[str, float] | None = None, curve: float = 1.0) -> Look:
    return Look(name, title, category, description, tuple(tags), tuple(steps), dict(vary or {}), curve)


# ---------------------------------------------------------------------------- the library (data)

_LIBRARY: list[Look] = [
    # ------------------------------------------------------------------ looks (film and colour)
    _look("teal_orange", "Teal and orange blockbuster", "look",
          "A Hollywood blockbuster colour grade with teal shadows and warm orange skin tones and highlights.",
          ["teal and orange", "blockbuster", "hollywood", "cinematic", "action movie", "orange and teal"],
          [S("grade", contrast=1.15, saturation=1.1, vibrance=0.15),
           S("split_tone", shadows="#007f8c", highlights="#ff9440", strength=0.9, balance=0.1),
           S("vignette", 0.3, 1.0, amount=0.3)],
          vary={"hue": 45}),
    _look("bleach_bypass", "Bleach bypass", "look",
          "A gritty desaturated high-contrast film look with silvery skin and crushed blacks, as if the bleach bath was skipped.",
          ["bleach bypass", "silver retention", "gritty", "desaturated", "war film", "harsh contrast"],
          [S("bleach", strength=0.9, desaturate=0.65), S("grade", contrast=1.2, shadows=-0.15),
           S("split_tone", shadows="#2c4a66", highlights="#d9c7a0", strength=0.4),
           S("grain", 0.3, 1.0, amount=0.05, size=1.2), S("vignette", 0.3, 1.0, amount=0.35)],
          vary={"hue": 60}),
    _look("technicolor_2strip", "Two-strip Technicolor", "look",
          "An early 1930s two-strip Technicolor film with only red-orange and cyan-green hues and rich, soft colour.",
          ["technicolor", "two-strip", "1930s colour film", "early colour", "vintage hollywood", "red and cyan"],
          [S("channel_mix", matrix=((1.0, 0.0, 0.0), (0.15, 0.55, 0.3), (0.15, 0.45, 0.4))),
           S("grade", contrast=1.15, saturation=1.35),
           S("split_tone", shadows="#0a5a60", highlights="#ffb080", strength=0.35),
           S("soften", 0.5, 1.0, sigma=0.8), S("grain", 0.4, 1.0, amount=0.04)],
          vary={"hue": 30}),
    _look("cross_process", "Cross-processed film", "look",
          "Cross-processed slide film with yellow-green highlights, blue shadows, punchy contrast and oversaturated colour.",
          ["cross process", "cross-processed", "xpro", "lomography", "slide film in c41", "yellow highlights"],
          [S("grade", saturation=1.35, contrast=1.1,
             curves={"r": ((0, 0), (0.25, 0.18), (0.75, 0.86), (1, 1)), "g": ((0, 0), (0.25, 0.2), (0.75, 0.83), (1, 1)),
                     "b": ((0, 0.12), (0.5, 0.48), (1, 0.8))}),
           S("split_tone", shadows="#1c3c78", highlights="#f4f06a", strength=0.45),
           S("vignette", 0.3, 1.0, amount=0.4)],
          vary={"hue": 30}),
    _look("kodachrome", "Kodachrome slide", "look",
          "A warm saturated Kodachrome slide from the 1960s with deep reds, strong blues and fine grain.",
          ["kodachrome", "slide film", "1960s photo", "vintage colour", "national geographic", "saturated film"],
          [S("grade", contrast=1.2, saturation=1.12, vibrance=0.1, temperature=0.12, shadows=-0.1),
           S("hue_shift", centre=40, width=60, shift=-6, saturation=1.25, vary_shift=False),
           S("split_tone", shadows="#1a2a4a", highlights="#ffd9a0", strength=0.35),
           S("fade", black="#0c0a12"), S("grain", 0.3, 1.0, amount=0.03)],
          vary={"hue": 25}),
    _look("polaroid", "Polaroid instant photo", "look",
          "A faded instant Polaroid photo with milky lifted blacks, soft focus, cyan shadows and creamy warm highlights.",
          ["polaroid", "instant film", "instax", "faded photo", "retro snapshot", "washed out"],
          [S("grade", contrast=0.85, saturation=0.8, temperature=0.2, highlights=-0.1),
           S("split_tone", shadows="#2f6f73", highlights="#f7cf96", strength=0.6),
           S("fade", black="#2b2533", white="#f6efdd"), S("soften", 0.3, 1.0, sigma=0.8),
           S("vignette", 0.2, 1.0, amount=0.35, radius=0.5, colour="#2a1c10"), S("grain", 0.3, 1.0, amount=0.035)],
          vary={"hue": 40}),
    _look("film_noir", "Film noir", "look",
          "A black-and-white 1940s film noir with hard contrast, deep shadows, glowing highlights and heavy grain.",
          ["film noir", "black and white", "monochrome", "1940s detective", "noir", "b&w", "grayscale"],
          [S("mono", filter="#ff5030", filter_strength=1.5),
           S("grade", 0.0, 0.8, contrast=1.4, shadows=-0.2, highlights=-0.1),
           S("split_tone", shadows="#30405a", highlights="#e8dcc8", strength=0.12),
           S("bloom", 0.4, 1.0, threshold=0.85, radius=20, strength=0.2),
           S("vignette", 0.2, 1.0, amount=0.6, radius=0.45), S("grain", 0.3, 1.0, amount=0.06, size=1.3)],
          vary={"hue": 90}),
    _look("sepia_1920s", "Sepia 1920s", "look",
          "A brown sepia-toned photograph from the 1920s, soft and grainy with darkened corners like an old silent film.",
          ["sepia", "1920s", "old photo", "antique", "silent film", "vintage brown", "early cinema"],
          [S("gradient_map", name="sepia", hue=0.0), S("grade", 0.2, 1.0, contrast=1.1),
           S("soften", 0.3, 1.0, sigma=1.2),
           S("vignette", 0.2, 1.0, amount=0.55, radius=0.4, colour="#1e120a"),
           S("grain", 0.3, 1.0, amount=0.07, size=1.5)],
          vary={"hue": 25}),
    _look("vhs_tape", "VHS tape", "look",
          "A worn 1980s VHS home video with colour bleeding, wobbling scanlines, tape noise and a tracking glitch.",
          ["vhs", "videotape", "1980s home video", "camcorder", "analog glitch", "retro tape", "lo-fi"],
          [S("grade", saturation=1.2, contrast=0.9, temperature=-0.1),
           S("split_tone", shadows="#203060", highlights="#f0d0e0", strength=0.35),
           S("soften", 0.2, 1.0, sigma=1.0),
           S("vhs", 0.3, 1.0, bleed=5.0, jitter=0.8, scanlines=0.18, noise=0.035, tracking=1.0),
           S("aberration", 0.3, 1.0, shift=2.0)],
          vary={"hue": 30}),
    _look("vaporwave", "Vaporwave", "look",
          "A dreamy vaporwave aesthetic in pastel pink, purple and cyan with glowing highlights, like a 1990s synth album cover.",
          ["vaporwave", "synthwave", "retrowave", "outrun", "pink and cyan", "aesthetic", "80s neon pastel"],
          [S("gradient_map", weight=0.7, name="vaporwave", hue=0.0),
           S("split_tone", shadows="#4a1a8a", highlights="#30e0ff", strength=0.6),
           S("grade", saturation=1.3, contrast=1.05),
           S("sky", 0.2, 1.0, top="#3a1a7a", horizon="#ff7ac0"),
           S("bloom", 0.3, 1.0, threshold=0.6, radius=30, strength=0.6, tint="#ff80d0")],
          vary={"hue": 35}),
    _look("infrared", "Infrared false colour", "look",
          "A false-colour infrared photograph where green foliage turns red and pink and the sky goes deep blue.",
          ["infrared", "aerochrome", "false colour", "ir photo", "pink trees", "surreal foliage"],
          [S("hue_shift", centre=115, width=100, shift=-120, saturation=1.45, lightness=9),
           S("hue_shift", centre=260, width=80, shift=8, saturation=1.3, lightness=-10, vary_shift=False),
           S("grade", saturation=1.1, contrast=1.12, highlights=0.1),
           S("bloom", 0.4, 1.0, threshold=0.75, radius=16, strength=0.35)],
          vary={"hue": 60}),
    _look("thermal", "Thermal camera", "look",
          "A thermal imaging camera view where warm bodies glow yellow and white against cold purple and black surroundings.",
          ["thermal", "heat vision", "infrared camera", "flir", "heat map", "predator vision", "thermography"],
          [S("sky", top="#000000", horizon="#1a1a1a", detail=0.0), S("person", colour="#ffffff", strength=0.6),
           S("soften", sigma=2.5),
           S("gradient_map", name="ironbow", hue=0.0, gamma=1.1), S("grain", 0.5, 1.0, amount=0.03)],
          vary={"hue": -60}),
    _look("night_vision", "Night vision", "look",
          "A grainy green night-vision goggle view with glowing highlights and a dark circular surround.",
          ["night vision", "nvg", "green phosphor", "military goggles", "surveillance", "low light camera"],
          [S("grade", exposure=0.6, contrast=1.1), S("soften", sigma=1.2), S("gradient_map", name="phosphor", hue=0.0),
           S("bloom", threshold=0.6, radius=20, strength=0.6, tint="#80ff80"), S("grain", amount=0.09, size=1.3),
           S("vignette", amount=0.85, radius=0.55, softness=0.3)],
          vary={"hue": 30}),
    _look("cyanotype", "Cyanotype print", "look",
          "A Prussian-blue cyanotype sun print on textured paper, with white highlights and deep blue shadows.",
          ["cyanotype", "blueprint photo", "sun print", "blue monochrome", "alternative process", "prussian blue"],
          [S("mono", filter="#ffa040", filter_strength=0.8), S("gradient_map", name="cyanotype", hue=0.0),
           S("paper", 0.3, 1.0, strength=0.25, scale=1.0), S("vignette", 0.3, 1.0, amount=0.3, colour="#0b1f4b")],
          vary={"hue": 30, "scale": 0.3}),
    _look("lomo", "Lomo toy camera", "look",
          "A toy-camera lomography snapshot with saturated colour, strong contrast and heavy dark vignetting.",
          ["lomo", "lomography", "toy camera", "holga", "diana", "vignette", "saturated snapshot"],
          [S("grade", saturation=1.4, contrast=1.25, curves={"b": ((0, 0.05), (1, 0.96))}),
           S("split_tone", shadows="#10306a", highlights="#ffd8a0", strength=0.3),
           S("vignette", amount=0.7, radius=0.35, softness=0.6), S("grain", 0.3, 1.0, amount=0.04)],
          vary={"hue": 30}),
    _look("faded_70s", "Faded 1970s print", "look",
          "A faded 1970s colour print with warm brown shadows, yellowed highlights, low saturation and soft grain.",
          ["1970s", "seventies", "faded", "vintage print", "retro film", "warm nostalgic", "old family photo"],
          [S("grade", saturation=0.8, temperature=0.35, contrast=0.9),
           S("split_tone", shadows="#5a3a20", highlights="#f5d48a", strength=0.5),
           S("fade", black="#3a2a20", white="#f2e6c8"), S("grain", 0.3, 1.0, amount=0.045, size=1.4),
           S("soften", 0.4, 1.0, sigma=0.7)],
          vary={"hue": 30}),
    _look("moody_cinematic", "Moody cold cinematic", "look",
          "A moody, cold and desaturated cinematic grade with blue-green shadows, dim exposure and crushed blacks.",
          ["moody", "cold", "desaturated", "thriller", "nordic noir", "bleak", "blue grade", "david fincher"],
          [S("grade", exposure=-0.4, contrast=1.2, saturation=0.6, temperature=-0.35, shadows=-0.2),
           S("split_tone", shadows="#0c2a40", highlights="#b8c8d0", strength=0.6), S("vignette", 0.2, 1.0, amount=0.45)],
          vary={"hue": 40}),
    # ------------------------------------------------------------------ lighting
    _look("golden_hour", "Golden hour", "lighting",
          "Warm golden-hour sunlight low in the sky, with long soft light, glowing rim light and an orange sunset sky.",
          ["golden hour", "sunset", "sunrise", "magic hour", "warm sunlight", "evening sun", "backlit"],
          [S("grade", temperature=0.55, saturation=1.15, exposure=0.1, highlights=0.1),
           S("split_tone", shadows="#5a3a6a", highlights="#ffb050", strength=0.45),
           S("relight", 0.2, 1.0, angle=160, elevation=15, key="#ffb868", key_strength=0.7, ambient="#ffe6cc",
             ambient_strength=0.55, rim="#ffc070", rim_strength=0.7),
           S("sky", 0.2, 1.0, top="#5b7fc0", horizon="#ffb36b", detail=0.7),
           S("bloom", 0.3, 1.0, threshold=0.6, radius=40, strength=0.55, tint="#ffb070")],
          vary={"angle": 50, "hue": 20}),
    _look("overcast", "Overcast day", "lighting",
          "A flat grey overcast day with soft shadowless light, muted colours and a pale cloudy sky.",
          ["overcast", "cloudy", "grey day", "soft light", "dull weather", "diffuse light", "gloomy"],
          [S("grade", saturation=0.6, contrast=0.8, temperature=-0.2, highlights=-0.3, exposure=-0.15),
           S("split_tone", shadows="#405060", highlights="#d8dde0", strength=0.35),
           S("sky", top="#9aa3ab", horizon="#c9ced2", detail=0.4), S("fog", 0.3, 1.0, density=0.7, airlight="#c5cad0")],
          vary={"hue": 40}),
    _look("moonlight", "Moonlight", "lighting",
          "A cold blue moonlit night with dim silvery light, deep blue shadows and a dark starless sky.",
          ["moonlight", "night", "moonlit", "day for night", "blue night", "midnight", "nocturnal"],
          [S("grade", exposure=-1.4, temperature=-0.8, saturation=0.45, contrast=1.1),
           S("split_tone", shadows="#0b1d4a", highlights="#b8d0ff", strength=0.5),
           S("relight", 0.3, 1.0, angle=60, elevation=40, key="#b8ccff", key_strength=0.8, ambient="#4a5a80",
             ambient_strength=0.45, rim="#9fbfff", rim_strength=0.5),
           S("sky", 0.2, 1.0, top="#050a1e", horizon="#1c2c55", detail=0.5),
           S("bloom", 0.4, 1.0, threshold=0.5, radius=20, strength=0.3, tint="#a0b8ff"),
           S("vignette", 0.3, 1.0, amount=0.45)],
          vary={"hue": -30, "angle": 60}),
    _look("candlelight", "Candlelight", "lighting",
          "A dark room lit only by warm flickering candlelight, with orange glow on faces and deep shadows around.",
          ["candlelight", "candle", "firelight", "warm interior", "barry lyndon", "torch light", "oil lamp"],
          [S("grade", exposure=-0.8, temperature=0.85, saturation=1.1),
           S("relight", angle=200, elevation=20, key="#ff9a40", key_strength=1.0, ambient="#3a1c0a", ambient_strength=0.25,
             rim="#ffb060", rim_strength=0.4),
           S("vignette", amount=0.75, radius=0.3, softness=0.8, colour="#0a0502"),
           S("bloom", 0.3, 1.0, threshold=0.55, radius=30, strength=0.6, tint="#ff9a40"),
           S("grain", 0.4, 1.0, amount=0.04)],
          vary={"angle": 90, "hue": 15}),
    _look("blue_hour", "Blue hour", "lighting",
          "The blue hour just after sunset, with a deep blue sky fading to pink at the horizon and warm city lights.",
          ["blue hour", "twilight", "dusk", "after sunset", "evening", "crepuscular"],
          [S("grade", exposure=-0.6, temperature=-0.55, saturation=1.05, contrast=1.05),
           S("split_tone", shadows="#14206a", highlights="#ffb0c8", strength=0.55),
           S("sky", 0.2, 1.0, top="#101d5c", horizon="#e08aa8"),
           S("bloom", 0.3, 1.0, threshold=0.6, radius=30, strength=0.5, tint="#ffd0a0")],
          vary={"hue": 30}),
    _look("harsh_noon", "Harsh midday sun", "lighting",
          "Harsh midday summer sun from overhead with hard contrast, bright highlights and a deep blue sky.",
          ["midday", "noon", "harsh sun", "summer", "bright daylight", "hard light", "hot day"],
          [S("grade", contrast=1.3, exposure=0.25, saturation=1.1, highlights=0.15, shadows=-0.2),
           S("relight", angle=90, elevation=70, key="#fffaf0", key_strength=0.8, ambient="#c8d8ff", ambient_strength=0.35),
           S("sky", top="#0a3aa0", horizon="#6aa8e8")],
          vary={"angle": 40, "hue": 15}),
    _look("dramatic_rim_light", "Dramatic rim light", "lighting",
          "Dramatic low-key studio lighting with a warm key light, dark background and a bright cool rim light outlining the subject.",
          ["rim light", "low key", "dramatic lighting", "studio portrait", "chiaroscuro", "backlight", "moody portrait"],
          [S("grade", exposure=-0.9, contrast=1.3, saturation=0.9),
           S("relight", angle=20, elevation=25, key="#ffd2a0", key_strength=0.9, ambient="#1a2030", ambient_strength=0.25,
             rim="#6ad0ff", rim_strength=1.2),
           S("vignette", amount=0.55, radius=0.35)],
          vary={"hue": 40, "angle": 60}),
    _look("neon_club", "Neon club lighting", "lighting",
          "A nightclub lit by saturated magenta and cyan neon lights, with glowing haze and coloured rim light.",
          ["nightclub", "club lights", "party", "neon lighting", "rave", "disco", "concert lights"],
          [S("grade", exposure=-0.7, saturation=1.2, contrast=1.1),
           S("relight", angle=0, elevation=20, key="#ff2ab8", key_strength=1.0, ambient="#1a0a3a", ambient_strength=0.35,
             rim="#21e6ff", rim_strength=1.0),
           S("bloom", threshold=0.5, radius=30, strength=0.7, tint="#ff6ad0"),
           S("fog", 0.4, 1.0, density=0.8, airlight="#3a1050")],
          vary={"hue": -60, "angle": 90}),
    # ------------------------------------------------------------------ atmosphere
    _look("foggy_morning", "Foggy morning", "atmosphere",
          "A misty foggy morning where distant things fade into soft white fog and the light is pale and cool.",
          ["fog", "mist", "foggy", "misty morning", "haze", "dawn fog", "atmospheric"],
          [S("grade", contrast=0.85, saturation=0.75, temperature=-0.1, exposure=0.1),
           S("fog", density=1.8, airlight="#d9dee3", near=0.05),
           S("bloom", 0.3, 1.0, threshold=0.55, radius=50, strength=0.35, tint="#fff4e0"),
           S("sky", 0.3, 1.0, top="#c9d0d8", horizon="#e8e6e0", detail=0.3)],
          vary={"hue": 25}),
    _look("underwater", "Underwater", "atmosphere",
          "Deep underwater in the ocean, with blue-green water absorbing red light, drifting particles and rippling caustic light.",
          ["underwater", "under the sea", "ocean", "aquarium", "diving", "submerged", "deep sea", "caustics"],
          [S("grade", saturation=0.9, contrast=0.95),
           S("underwater", distance=1.6, water="#0b5c74", turbidity=0.9, caustics=0.45),
           S("soften", 0.3, 1.0, sigma=1.0),
           S("particles", 0.5, 1.0, style="dust", count=350, colour="#cfe8e8", opacity=0.5, speed=0.5),
           S("bloom", 0.4, 1.0, threshold=0.6, radius=30, strength=0.3, tint="#80e0ff")],
          vary={"hue": -35, "scale": 0.3}),
    _look("snowy_winter", "Snowy winter", "atmosphere",
          "A cold snowy winter day with falling snowflakes, pale blue light, white haze and a soft grey sky.",
          ["snow", "winter", "snowfall", "blizzard", "christmas", "cold", "frozen", "snowy"],
          [S("grade", temperature=-0.45, saturation=0.7, exposure=0.25, highlights=0.2, contrast=0.95),
           S("split_tone", shadows="#2a4a7a", highlights="#f0f6ff", strength=0.45),
           S("fog", 0.2, 1.0, density=1.0, airlight="#e6edf5"),
           S("sky", 0.2, 1.0, top="#b8c6d8", horizon="#eef2f6", detail=0.3),
           S("particles", 0.4, 1.0, style="snow", count=700, colour="#ffffff", opacity=0.9, wind=0.002)],
          vary={"hue": 25}),
    _look("rainy_night", "Rainy night", "atmosphere",
          "A dark rainy night in the city with falling rain streaks, wet blue shadows and warm glowing streetlights.",
          ["rain", "rainy", "storm", "wet night", "downpour", "drizzle", "noir rain"],
          [S("grade", exposure=-1.0, temperature=-0.5, saturation=0.8, contrast=1.15),
           S("split_tone", shadows="#0a1a3a", highlights="#ffb070", strength=0.5),
           S("fog", 0.2, 1.0, density=0.9, airlight="#1c2838"),
           S("bloom", 0.3, 1.0, threshold=0.55, radius=30, strength=0.6, tint="#ffc080"),
           S("particles", 0.4, 1.0, style="rain", count=900, colour="#c8d8ff", opacity=0.55, wind=0.004)],
          vary={"hue": 30}),
    _look("desert_dusk", "Desert dusk", "atmosphere",
          "A hot desert at dusk with dusty orange haze, purple shadows and a burning sunset sky.",
          ["desert", "dusk", "sahara", "dune", "arid", "mad max", "dusty sunset", "western"],
          [S("grade", temperature=0.65, saturation=1.2, contrast=1.05, exposure=-0.2),
           S("split_tone", shadows="#4a2a6a", highlights="#ffa048", strength=0.65),
           S("sky", 0.2, 1.0, top="#2e2a6a", horizon="#ff9a50", detail=0.6),
           S("fog", 0.3, 1.0, density=1.2, airlight="#e8a070"),
           S("particles", 0.6, 1.0, style="dust", count=200, colour="#ffd8a0", opacity=0.4, wind=0.003)],
          vary={"hue": 25}),
    _look("autumn", "Autumn", "atmosphere",
          "A golden autumn day where green leaves turn orange, red and yellow, with warm light and falling leaves.",
          ["autumn", "fall", "fall foliage", "orange leaves", "october", "harvest", "golden leaves"],
          [S("hue_shift", centre=130, width=60, shift=-80, saturation=1.35, lightness=-3),
           S("hue_shift", centre=95, width=40, shift=-25, saturation=1.2, vary_shift=False),
           S("grade", temperature=0.35, saturation=1.1, contrast=1.05),
           S("split_tone", shadows="#4a2a1a", highlights="#ffc070", strength=0.3),
           S("particles", 0.5, 1.0, style="petals", count=120, colour="#d2691e", opacity=0.9, speed=0.6)],
          vary={"hue": 30}),
    _look("spring_bloom", "Spring bloom", "atmosphere",
          "A fresh bright spring day with vivid young greens, pink blossom petals drifting in the air and soft glowing light.",
          ["spring", "blossom", "cherry blossom", "sakura", "flowers", "fresh", "pastel spring"],
          [S("hue_shift", centre=130, width=90, shift=8, saturation=1.25, lightness=4, vary_shift=False),
           S("grade", exposure=0.25, saturation=1.15, contrast=0.95, temperature=0.05),
           S("split_tone", shadows="#3a6a5a", highlights="#ffb8d4", strength=0.7),
           S("bloom", 0.3, 1.0, threshold=0.5, radius=40, strength=0.6, tint="#ffd0e4"),
           S("particles", 0.5, 1.0, style="petals", count=240, colour="#ffc0d8", opacity=0.95, speed=0.5)],
          vary={"hue": 30}),
    _look("lava_inferno", "Lava inferno", "atmosphere",
          "A hellish volcanic inferno lit from below by glowing red lava, with smoky red haze and rising embers.",
          ["lava", "inferno", "hell", "volcano", "fire", "embers", "apocalypse fire", "magma"],
          [S("grade", exposure=-0.4, contrast=1.2, saturation=1.2),
           S("gradient_map", weight=0.6, name="lava", hue=0.0),
           S("relight", 0.2, 1.0, angle=270, elevation=20, key="#ff5a14", key_strength=1.0, ambient="#401008",
             ambient_strength=0.4, rim="#ff8a30", rim_strength=0.8),
           S("sky", 0.2, 1.0, top="#1a0402", horizon="#c8300a", detail=0.8),
           S("fog", 0.3, 1.0, density=1.0, airlight="#5a1206"),
           S("bloom", 0.3, 1.0, threshold=0.5, radius=35, strength=0.8, tint="#ff7020"),
           S("particles", 0.5, 1.0, style="embers", count=260, colour="#ff8a30", opacity=0.9)],
          vary={"hue": -35}),
    _look("dreamy_haze", "Dreamy haze", "atmosphere",
          "A soft dreamy haze with glowing blown-out highlights, pastel lavender tones and a gentle diffusion filter.",
          ["dreamy", "ethereal", "soft focus", "diffusion filter", "romantic", "glow", "hazy memory"],
          [S("grade", exposure=0.25, contrast=0.8, saturation=0.9),
           S("split_tone", shadows="#6a5a9a", highlights="#ffe0f0", strength=0.5), S("fade", black="#3a3050"),
           S("soften", 0.3, 1.0, weight=0.5, sigma=3.0),
           S("bloom", threshold=0.45, radius=60, strength=0.8, tint="#fff0f8")],
          vary={"hue": 45}),
    # ------------------------------------------------------------------ worlds
    _look("cyberpunk_neon", "Cyberpunk neon night", "world",
          "A rainy neon-lit futuristic city at night with magenta and cyan signs, glowing haze and wet reflections.",
          ["cyberpunk", "neon", "blade runner", "futuristic city", "night city", "sci-fi noir", "neo tokyo"],
          [S("grade", exposure=-0.8, contrast=1.2, saturation=1.25, temperature=-0.35),
           S("split_tone", shadows="#1a0a6a", highlights="#ff2ab0", strength=0.9, balance=-0.1),
           S("hue_shift", centre=70, width=90, shift=-60, saturation=1.3, vary_shift=False),
           S("relight", 0.3, 1.0, angle=10, elevation=20, key="#ff3ac8", key_strength=0.8, ambient="#2a1a6a",
             ambient_strength=0.45, rim="#1ee8ff", rim_strength=1.0),
           S("sky", 0.2, 1.0, top="#07031a", horizon="#6a1a7a", detail=0.8),
           S("fog", 0.3, 1.0, density=0.8, airlight="#3a1060"),
           S("bloom", 0.3, 1.0, threshold=0.5, radius=35, strength=0.9, tint="#ff60e0"),
           S("particles", 0.6, 1.0, style="rain", count=600, colour="#a0e8ff", opacity=0.35, wind=0.003)],
          vary={"hue": -40, "angle": 60}),
    _look("spaceship_interior", "Spaceship interior", "world",
          "The clean cool interior of a science-fiction spaceship with cold blue-white light, teal shadows and glowing panels.",
          ["spaceship", "spacecraft interior", "sci-fi", "space station", "starship", "futuristic interior", "2001"],
          [S("grade", temperature=-0.45, saturation=0.75, contrast=1.2, exposure=-0.2),
           S("split_tone", shadows="#06303a", highlights="#e0f4ff", strength=0.6),
           S("relight", 0.2, 1.0, angle=90, elevation=60, key="#d8ecff", key_strength=0.8, ambient="#1a3a4a",
             ambient_strength=0.45, rim="#30c8ff", rim_strength=0.9),
           S("bloom", 0.3, 1.0, threshold=0.6, radius=30, strength=0.6, tint="#a0e0ff"),
           S("vignette", 0.3, 1.0, amount=0.45)],
          vary={"hue": 40, "angle": 60}),
    _look("post_apocalyptic", "Post-apocalyptic wasteland", "world",
          "A dusty post-apocalyptic wasteland with bleached yellow-brown colours, choking dust haze and a sickly sky.",
          ["post apocalyptic", "wasteland", "dystopia", "fallout", "dust bowl", "ruined world", "desolate"],
          [S("grade", saturation=0.55, contrast=1.25, temperature=0.35, shadows=-0.1),
           S("split_tone", shadows="#3a3020", highlights="#e0c890", strength=0.55),
           S("sky", 0.2, 1.0, top="#8a7a5a", horizon="#d8b880", detail=0.6),
           S("fog", 0.3, 1.0, density=1.3, airlight="#b8a070"),
           S("particles", 0.6, 1.0, style="dust", count=300, colour="#e0c890", opacity=0.45, wind=0.004),
           S("grain", 0.4, 1.0, amount=0.05), S("vignette", 0.3, 1.0, amount=0.45)],
          vary={"hue": 25}),
    _look("enchanted_forest", "Enchanted forest", "world",
          "A magical enchanted fairy-tale forest with emerald greens, golden glowing light, soft mist and floating fireflies.",
          ["enchanted forest", "fairy tale", "magical", "fantasy", "fireflies", "elven", "mystical woods"],
          [S("hue_shift", centre=120, width=100, shift=25, saturation=1.35),
           S("grade", saturation=1.1, contrast=1.05, exposure=-0.1),
           S("split_tone", shadows="#0a3a3a", highlights="#ffd870", strength=0.6),
           S("fog", 0.3, 1.0, density=0.9, airlight="#7ac0a0"),
           S("bloom", 0.3, 1.0, threshold=0.5, radius=45, strength=0.7, tint="#ffe080"),
           S("particles", 0.5, 1.0, style="embers", count=120, colour="#d8ff70", opacity=0.8, speed=0.3)],
          vary={"hue": 35}),
    _look("mars_red_planet", "Red planet", "world",
          "The dusty surface of Mars, a red planet under a butterscotch sky with rust-orange ground and drifting dust.",
          ["mars", "red planet", "martian", "alien desert", "rust", "space colony", "the martian"],
          [S("channel_mix", matrix=((0.9, 0.3, 0.0), (0.35, 0.55, 0.0), (0.2, 0.25, 0.15))),
           S("grade", contrast=1.1, saturation=1.1),
           S("sky", 0.2, 1.0, top="#c87848", horizon="#f0b888", detail=0.4),
           S("fog", 0.3, 1.0, density=1.2, airlight="#d08858"),
           S("particles", 0.6, 1.0, style="dust", count=250, colour="#f0b080", opacity=0.4, wind=0.005)],
          vary={"hue": 20}),
    _look("alien_world", "Alien world", "world",
          "A strange alien planet where every colour is shifted to otherworldly hues under a teal and pink sky.",
          ["alien planet", "alien world", "extraterrestrial", "exoplanet", "otherworldly", "surreal colours", "avatar"],
          [S("hue_shift", shift=140.0, saturation=1.3), S("grade", contrast=1.1),
           S("sky", 0.2, 1.0, top="#1a6a5a", horizon="#ff80b0", detail=0.6),
           S("fog", 0.3, 1.0, density=0.9, airlight="#80ffd0"),
           S("bloom", 0.3, 1.0, threshold=0.55, radius=35, strength=0.5, tint="#a0ffe0")],
          vary={"hue": 80}),
    # ------------------------------------------------------------------ art styles
    _look("anime_cel", "Anime cel shading", "art style",
          "A bright anime cel-shaded cartoon with flat colours, crisp dark outlines and a vivid blue painted sky.",
          ["anime", "cel shading", "cartoon", "manga", "ghibli", "toon", "2d animation", "japanese animation"],
          [S("grade", 0.0, 0.5, saturation=1.3, exposure=0.15, contrast=1.05, vibrance=0.2),
           S("smooth", 0.1, 0.7, sigma_s=40, sigma_r=0.12, iterations=3),
           S("quantize_luma", 0.3, 1.0, levels=5, sharpness=5.0),
           S("palette", 0.5, 1.0, k=14, hue=0.0, saturation=1.15),
           S("ink", 0.4, 1.0, sigma=1.0, p=20, epsilon=0.03, phi=30, colour="#1a1420", opacity=0.9),
           S("sky", 0.3, 1.0, top="#2a7be0", horizon="#a8dcff", detail=0.9)],
          vary={"hue": 20}),
    _look("watercolour", "Watercolour", "art style",
          "A loose watercolour painting on textured paper with soft washes, bleeding edges, pigment granulation and dark rims.",
          ["watercolour", "watercolor", "aquarelle", "wash painting", "paper texture", "loose painting"],
          [S("grade", 0.0, 0.6, exposure=0.35, saturation=0.85, contrast=0.8),
           S("watercolour", 0.1, 1.0, abstraction=1.6, edge_darkening=2.2, granulation=1.3, paper=1.1, wobble=4.0, scale=1.0,
             work_long_side=400),
           S("quantize_luma", 0.4, 1.0, levels=7, sharpness=2.0),
           S("split_tone", 0.3, 1.0, shadows="#3a4a7a", highlights="#fff4e0", strength=0.3)],
          vary={"hue": 30, "scale": 0.3}),
    _look("oil_paint", "Oil painting", "art style",
          "A rich oil painting on canvas with thick visible brush strokes, impasto texture and saturated colour.",
          ["oil painting", "oil paint", "impasto", "painterly", "van gogh", "canvas", "fine art painting"],
          [S("grade", 0.0, 0.6, saturation=1.3, contrast=1.12, vibrance=0.2),
           S("split_tone", 0.3, 1.0, shadows="#2a2040", highlights="#ffe0b0", strength=0.4),
           S("oil", 0.1, 1.0, radius=4, impasto=0.6, brush=18, length=2.5, detail=0.06, angle=120, work_long_side=560),
           S("canvas", 0.5, 1.0, strength=0.06, spacing=4)],
          vary={"hue": 25, "scale": 0.3, "angle": 60}),
    _look("pencil_sketch", "Pencil sketch", "art style",
          "A graphite pencil sketch on white paper with clean outlines and cross-hatched shading.",
          ["pencil", "sketch", "drawing", "graphite", "hatching", "line drawing", "storyboard"],
          [S("pencil", blur=10, darkness=1.3, hatch_strength=0.8, spacing=6, angle=45, layers=3, colour=0.0,
             lead="#2b2b33", paper_colour="#f7f4ec")],
          vary={"angle": 40, "scale": 0.3, "hue": 30}),
    _look("charcoal", "Charcoal drawing", "art style",
          "A smudgy charcoal drawing on rough paper with bold dark strokes, soft smeared shading and grainy texture.",
          ["charcoal", "charcoal drawing", "conte", "smudged", "expressive drawing", "life drawing"],
          [S("charcoal", contrast=1.4, smudge=3.0, lines=0.7, stroke_length=20, angle=60, paper_colour="#ebe5d8",
             charcoal_colour="#151313")],
          vary={"angle": 50, "scale": 0.3, "hue": 30}),
    _look("comic_ink", "Comic book ink", "art style",
          "A bold comic-book illustration with thick black ink outlines, flat posterised colours and strong shadows.",
          ["comic", "comic book", "graphic novel", "marvel", "ink drawing", "inked", "superhero comic"],
          [S("grade", 0.0, 0.5, saturation=1.35, contrast=1.15),
           S("smooth", 0.1, 0.6, sigma_s=30, sigma_r=0.15, iterations=2),
           S("quantize_luma", 0.3, 1.0, levels=4, sharpness=12.0),
           S("palette", 0.5, 1.0, k=10, hue=0.0, saturation=1.2),
           S("ink", 0.3, 1.0, sigma=1.6, p=25, epsilon=0.02, phi=60, colour="#0a0a0a")],
          vary={"hue": 25}),
    _look("pop_art_halftone", "Pop art halftone", "art style",
          "A pop-art print like Roy Lichtenstein with bold saturated colours, printed halftone dots and black outlines.",
          ["pop art", "halftone", "lichtenstein", "warhol", "ben day dots", "print", "retro comic print"],
          [S("hue_shift", shift=0.0), S("grade", 0.0, 0.5, saturation=1.8, contrast=1.2),
           S("smooth", 0.1, 0.6, sigma_s=30, sigma_r=0.2, iterations=2),
           S("palette", 0.3, 1.0, k=6, hue=0.0, saturation=1.6, lightness=5.0),
           S("halftone", 0.4, 1.0, cell=7, angle=45, mode="benday", paper="#fff8e8", smooth=0.0),
           S("ink", 0.4, 1.0, sigma=1.4, p=25, epsilon=0.02, phi=60, colour="#111111")],
          vary={"hue": 90, "scale": 0.3, "angle": 30}),
    _look("ukiyo_e", "Ukiyo-e woodblock", "art style",
          "A Japanese ukiyo-e woodblock print with flat indigo, vermilion and ochre colours, ink outlines and aged paper.",
          ["ukiyo-e", "woodblock print", "hokusai", "japanese print", "edo period", "hiroshige"],
          [S("grade", 0.0, 0.5, saturation=0.85, contrast=1.05, temperature=0.1),
           S("smooth", 0.1, 0.6, sigma_s=40, sigma_r=0.15, iterations=3),
           S("palette", 0.4, 1.0, name="ukiyoe", hue=0.0),
           S("ink", 0.3, 1.0, sigma=1.2, p=22, epsilon=0.03, phi=40, colour="#1b1b1f", opacity=0.95),
           S("sky", 0.3, 1.0, top="#5a86a6", horizon="#efe3c8", detail=0.2),
           S("paper", 0.4, 1.0, strength=0.2, scale=1.2), S("fade", 0.5, 1.0, black="#2a2420", white="#f0e4c8")],
          vary={"hue": 20, "scale": 0.25}),
    _look("pastel_chalk", "Chalk pastel", "art style",
          "A soft chalk pastel drawing on toned paper with grainy strokes and the paper showing through.",
          ["pastel", "chalk", "soft pastel", "crayon", "toned paper", "degas"],
          [S("grade", 0.0, 0.5, saturation=1.1, exposure=0.15),
           S("pastel", 0.1, 1.0, paper_colour="#e6dccb", coverage=0.95, stroke_length=14, angle=70)],
          vary={"hue": 30, "scale": 0.3, "angle": 50}),
    _look("pixel_art", "Pixel art", "art style",
          "Retro 16-bit pixel art with big square pixels and a limited colour palette, like a video game sprite.",
          ["pixel art", "8-bit", "16-bit", "retro game", "sprite", "pixelated", "arcade"],
          [S("grade", 0.0, 0.5, saturation=1.45, contrast=1.15), S("pixelate", block=8, k=16, hue=0.0, saturation=1.25)],
          vary={"hue": 25, "scale": 0.3}),
    _look("gameboy", "Game Boy", "art style",
          "A chunky pixelated image in four shades of olive green, like an original 1989 Game Boy screen.",
          ["game boy", "gameboy", "4 colours", "green monochrome pixel", "handheld console", "dmg"],
          [S("grade", 0.0, 0.5, contrast=1.2), S("pixelate", block=5, name="gameboy", hue=0.0, metric="lightness")],
          vary={"hue": 60, "scale": 0.2}),
    _look("mosaic", "Mosaic tiles", "art style",
          "An ancient mosaic made of small irregular coloured stone tiles set in grout.",
          ["mosaic", "tiles", "tesserae", "roman mosaic", "byzantine", "tiled"],
          [S("grade", 0.0, 0.5, saturation=1.2, contrast=1.05),
           S("mosaic", 0.1, 1.0, cell=26, jitter=0.85, grout=1.0, grout_colour="#8a8276", bevel=0.25)],
          vary={"hue": 20, "scale": 0.3}),
    _look("stained_glass", "Stained glass", "art style",
          "A glowing stained-glass window of brightly coloured glass panes held by dark lead lines.",
          ["stained glass", "church window", "cathedral glass", "leaded glass", "tiffany", "glass panes"],
          [S("hue_shift", shift=0.0),
           S("stained_glass", 0.1, 1.0, cell=36, jitter=0.9, lead=2.2, lead_colour="#141210", saturation=1.8,
             brightness=0.15),
           S("bloom", 0.5, 1.0, threshold=0.6, radius=20, strength=0.35)],
          vary={"hue": 40, "scale": 0.3}),
    _look("low_poly", "Low poly", "art style",
          "A low-poly 3D render made of flat-shaded triangles with faceted surfaces.",
          ["low poly", "polygon art", "triangles", "faceted", "geometric", "flat shaded 3d"],
          [S("grade", 0.0, 0.5, saturation=1.15),
           S("split_tone", 0.0, 0.5, shadows="#20306a", highlights="#ffe0b0", strength=0.3),
           S("low_poly", 0.1, 1.0, cell=44, edge_points=350, facet=0.08)],
          vary={"hue": 40, "scale": 0.35}),
    _look("neon_outline", "Neon outline", "art style",
          "Glowing neon tube outlines tracing every edge on a dark background, like a neon sign drawing.",
          ["neon outline", "neon sign", "glow lines", "tron", "light painting", "edge glow"],
          [S("hue_shift", shift=0.0), S("smooth", sigma_s=20, sigma_r=0.15, iterations=2),
           S("neon", darken=0.85, glow=8, intensity=1.6, sigma=1.5, p=25, epsilon=0.01, phi=30, pre_blur=1.2)],
          vary={"hue": 120}),
    _look("blueprint", "Blueprint", "art style",
          "A technical blueprint drawing with white lines on deep blue paper and a faint grid.",
          ["blueprint", "technical drawing", "schematic", "engineering drawing", "architect plan", "cyanotype lines"],
          [S("mono"), S("gradient_map", name="blueprint", hue=0.0),
           S("ink", sigma=1.2, p=25, epsilon=0.02, phi=40, colour="#eaf2ff", opacity=1.0, mode="screen"),
           S("grid", spacing=40, colour="#bcd4ff", opacity=0.25, minor=4), S("paper", 0.3, 1.0, strength=0.15)],
          vary={"hue": -30, "scale": 0.3}),
    # ------------------------------------------------------------------ materials
    _look("claymation", "Claymation", "material",
          "A stop-motion claymation scene where everything looks sculpted from soft plasticine with smooth rounded shapes.",
          ["claymation", "clay", "plasticine", "stop motion", "aardman", "wallace and gromit", "play-doh"],
          [S("grade", 0.0, 0.5, saturation=1.5, contrast=1.1, exposure=0.15, temperature=0.15),
           S("smooth", 0.1, 0.7, sigma_s=60, sigma_r=0.25, iterations=3, work_long_side=400),
           S("quantize_luma", 0.3, 1.0, levels=8, sharpness=2.0),
           S("relief", 0.3, 1.0, strength=3.0, smooth=18, luma=1.0, bumps=0.02, bump_scale=6, angle=120, elevation=45,
             specular=0.3),
           S("vignette", 0.4, 1.0, amount=0.25)],
          vary={"hue": 20, "angle": 60}),
    _look("marble_statue", "Marble statue", "material",
          "Everything carved from white marble like a classical stone statue, smooth and pale with soft shading.",
          ["marble", "statue", "stone", "sculpture", "carved stone", "greek statue", "plaster"],
          [S("mono"), S("smooth", sigma_s=30, sigma_r=0.2),
           S("gradient_map", stops=((0, "#3a3836"), (0.5, "#b8b4ac"), (1, "#f4f2ee")), hue=0.0),
           S("relief", strength=1.5, smooth=5, bumps=0.05, specular=0.25, angle=120)],
          vary={"hue": 40, "angle": 60}),
    _look("gold_metal", "Polished gold", "material",
          "Everything turned into polished shining gold metal with bright specular highlights, like a golden statue.",
          ["gold", "golden statue", "metal", "metallic", "bronze", "brass", "midas touch"],
          [S("smooth", sigma_s=30, sigma_r=0.2),
           S("gradient_map", stops=((0, "#1e1204"), (0.35, "#6a4410"), (0.7, "#d8a838"), (1, "#fff4c0")), gamma=1.1, hue=0.0),
           S("relief", strength=2.0, smooth=4, specular=0.6, angle=120, elevation=40),
           S("bloom", threshold=0.7, radius=20, strength=0.4, tint="#ffd070")],
          vary={"hue": 40, "angle": 60}),
    _look("plastic_toy", "Plastic toy", "material",
          "A glossy toy world made of smooth shiny coloured plastic, like injection-moulded figures and toy bricks.",
          ["plastic", "toy", "lego", "glossy", "vinyl figure", "toy story", "miniature"],
          [S("grade", saturation=1.5, contrast=1.1, exposure=0.1), S("smooth", sigma_s=60, sigma_r=0.25, iterations=3),
           S("palette", 0.4, 1.0, k=12, saturation=1.2, hue=0.0),
           S("relief", strength=1.5, smooth=8, specular=0.5, angle=120)],
          vary={"hue": 30, "angle": 60}),
    _look("paper_cutout", "Paper cut-out", "material",
          "A layered paper cut-out collage made of flat pieces of coloured craft paper with soft shadows at their edges.",
          ["paper cutout", "papercraft", "collage", "construction paper", "cut paper", "south park", "craft"],
          [S("smooth", sigma_s=50, sigma_r=0.2), S("palette", 0.3, 1.0, k=7, hue=0.0, saturation=1.1),
           S("relief", 0.4, 1.0, strength=2.0, smooth=1.5, angle=135, elevation=45),
           S("paper", 0.3, 1.0, strength=0.15, scale=1.0)],
          vary={"hue": 25, "scale": 0.3}),
]

LOOKS: dict[str, Look] = {look.name: look for look in _LIBRARY}


def look_names() -> list[str]:
    """Sorted look names."""
    return sorted(LOOKS)


def list_looks() -> list[Look]:
    """Every look, sorted by category then name."""
    order = {c: i for i, c in enumerate(CATEGORIES)}
    return sorted(LOOKS.values(), key=lambda lk: (order[lk.category], lk.name))


def get_look(name: str) -> Look:
    """The look called ``name``.

    Raises:
        InvalidInput: an unknown name; the message lists the valid names.

    Example:
        >>> get_look("golden_hour").category
        'lighting'
    """
    if not isinstance(name, str) or name not in LOOKS:
        raise InvalidInput("look", name, f"must be one of {', '.join(look_names())}")
    return LOOKS[name]
