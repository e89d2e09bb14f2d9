"""GradeSpec (colour grade) and MotionSpec (timing, focus, stabilisation) of the edit spec."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WrapValidator, field_validator

from reworld.edits._fields import (
    Factor,
    Flag,
    FrameIndex,
    PathStr,
    Point,
    Seconds,
    Signed,
    SpecModel,
    Speed,
    Stops,
    Unit,
    field_error,
    fmt_number,
    seq,
    triple,
)

Lift = triple(-1, 1)
Gamma = triple(0, 10, lo_open=True)
Gain = triple(0, 10)
CurveChannel = Literal["master", "r", "g", "b"]
_CURVE_ORDER = ("master", "r", "g", "b")
CurvePoint = Annotated[tuple[Unit, Unit], BeforeValidator(seq(2, "a point [x, y] with x, y in [0, 1]"))]


def _check_curve(points: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], ...]:
    if len(points) < 2:
        raise field_error("must have at least 2 points [x, y]")
    for i in range(1, len(points)):
        if points[i][0] <= points[i - 1][0]:
            raise field_error(
                f"must have strictly increasing x (point {i} has x={fmt_number(points[i][0])} "
                f"after x={fmt_number(points[i - 1][0])})",
                value=[list(p) for p in points],
            )
    return points


Curve = Annotated[tuple[CurvePoint, ...], Field(min_length=2), WrapValidator(lambda v, h: _check_curve(h(v)))]


class GradeSpec(SpecModel):
    """A primary colour grade; fields map 1:1 onto ``reworld.ops.color.GradeParams``.

    Values are for frames as float32 RGB in [0, 1]. Lift/gamma/gain accept a number or an
    ``[r, g, b]`` list and are stored as 3-tuples.

    Example:
        >>> GradeSpec(exposure=0.5, gain=1.1).gain
        (1.1, 1.1, 1.1)
        >>> GradeSpec().is_identity()
        True
    """

    exposure: Stops = Field(0.0, description="Exposure change in stops (x 2**exposure in linear light).")
    contrast: Factor = Field(1.0, description="Contrast around mid-grey; 1 = unchanged, 0 = flat grey.")
    saturation: Factor = Field(1.0, description="Saturation multiplier; 1 = unchanged, 0 = greyscale.")
    vibrance: Signed = Field(0.0, description="Saturation change weighted towards muted colours.")
    temperature: Signed = Field(0.0, description="White balance: -1 cooler (blue) ... +1 warmer (amber).")
    tint: Signed = Field(0.0, description="White balance: -1 green ... +1 magenta.")
    lift: Lift = Field((0.0, 0.0, 0.0), description="Added to shadows, per channel.")
    gamma: Gamma = Field((1.0, 1.0, 1.0), description="Midtone power, per channel; 1 = unchanged.")
    gain: Gain = Field((1.0, 1.0, 1.0), description="Multiplier of highlights, per channel.")
    shadows: Signed = Field(0.0, description="Brighten (+) or darken (-) the shadows.")
    midtones: Signed = Field(0.0, description="Brighten (+) or darken (-) the midtones.")
    highlights: Signed = Field(0.0, description="Brighten (+) or darken (-) the highlights.")
    curves: dict[CurveChannel, Curve] = Field(
        default_factory=dict,
        description="Tone curves by channel (master, r, g, b): >= 2 points [x, y] in [0, 1], x increasing.",
    )
    lut: PathStr | None = Field(None, description="Path of a .cube 3D LUT applied after the grade.")
    lut_strength: Unit = Field(1.0, description="Blend of the LUT result with the graded frame.")
    match: PathStr | None = Field(None, description="Path of a reference image whose colours are matched.")
    match_strength: Unit = Field(1.0, description="Blend of the colour match.")

    @field_validator("curves")
    @classmethod
    def _order_curves(cls, v: dict[str, Any]) -> dict[str, Any]:
        return {k: v[k] for k in _CURVE_ORDER if k in v}

    @field_validator("lut")
    @classmethod
    def _cube(cls, v: str | None) -> str | None:
        if v is not None and not v.lower().endswith(".cube"):
            raise field_error("must be the path of a .cube LUT file")
        return v

    def is_identity(self) -> bool:
        """True when the grade leaves every pixel unchanged (so the op can be skipped)."""
        plain = (
            self.exposure == 0
            and self.contrast == 1
            and self.saturation == 1
            and self.vibrance == self.temperature == self.tint == 0
            and self.shadows == self.midtones == self.highlights == 0
            and self.lift == (0, 0, 0)
            and self.gamma == (1, 1, 1)
            and self.gain == (1, 1, 1)
        )
        curves = all(
            pts[0][0] == 0 and pts[-1][0] == 1 and all(x == y for x, y in pts) for pts in self.curves.values()
        )
        lut = self.lut is None or self.lut_strength == 0
        match = self.match is None or self.match_strength == 0
        return plain and curves and lut and match



class FocusSpec(SpecModel):
    """Pull focus to a point: what lies at the point's depth stays sharp, the rest blurs."""

    point: Point = Field(description="Point [x, y] in full-resolution pixels of `frame`.")
    frame: FrameIndex = Field(0, description="Frame index the point is given on.")
    strength: Unit = Field(1.0, description="Amount of defocus away from the focal plane.")


Trim = Annotated[tuple[Seconds, Seconds], BeforeValidator(seq(2, "[start_s, end_s] in seconds"))]


class MotionSpec(SpecModel):
    """Timing and camera edits applied to the whole clip."""

    speed: Speed = Field(1.0, description="Playback speed factor; 0.5 = half speed, 2 = double.")
    reverse: Flag = Field(False, description="Play the clip backwards.")
    trim: Trim | None = Field(None, description="Keep only [start_s, end_s] of the source, in seconds.")
    loop: Flag = Field(False, description="Blend the end into the start so the result loops seamlessly.")
    focus: FocusSpec | None = Field(None, description="Rack focus to a point (needs depth).")
    stabilize: Flag = Field(False, description="Remove camera shake.")

    @field_validator("trim")
    @classmethod
    def _trim_order(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        if v is not None and not v[1] > v[0]:
            raise field_error("must be [start_s, end_s] with end_s > start_s", value=list(v))
        return v

    def is_identity(self) -> bool:
        """True when the clip's timing and framing are left unchanged."""
        return self == MotionSpec()
