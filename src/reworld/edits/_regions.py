"""RegionEdit: a local edit, i.e. a target (class, points, box or mask), an action and its params."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import (
    BeforeValidator,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    WrapValidator,
    field_validator,
    model_validator,
)

from reworld.edits._fields import (
    Color,
    FrameIndex,
    PathStr,
    Pixel,
    Point,
    SpecModel,
    Text,
    Unit,
    field_error,
    seq,
)

TARGET_LABELS = ("sky", "person", "clothes", "face", "background")
REGION_ACTIONS = ("recolor", "restyle", "replace", "remove", "insert")
TargetLabel = Literal["sky", "person", "clothes", "face", "background"]
_TARGET_HINT = (
    "must be one of 'sky', 'person', 'clothes', 'face', 'background' "
    "or an object with `points`, `box` or `mask`"
)


class PointsTarget(SpecModel):
    """The object under the given points on one frame (tracked through the clip)."""

    points: tuple[Point, ...] = Field(min_length=1, description="Points [x, y] in full-resolution pixels.")
    frame: FrameIndex = Field(0, description="Frame index the points are given on.")


class BoxTarget(SpecModel):
    """The object inside a box on one frame (tracked through the clip)."""

    box: Annotated[
        tuple[Pixel, Pixel, Pixel, Pixel], BeforeValidator(seq(4, "a box [x0, y0, x1, y1] in pixels"))
    ] = Field(description="Box [x0, y0, x1, y1] in full-resolution pixels, x1 > x0 and y1 > y0.")
    frame: FrameIndex = Field(0, description="Frame index the box is given on.")

    @field_validator("box")
    @classmethod
    def _box_order(cls, v: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        if not (v[2] > v[0] and v[3] > v[1]):
            raise field_error("must be [x0, y0, x1, y1] with x1 > x0 and y1 > y0", value=list(v))
        return v


class MaskTarget(SpecModel):
    """A user-supplied mask: one image for every frame, or a clip/folder with one per frame."""

    mask: PathStr = Field(description="Path of the mask image, clip or folder (white = edit).")


def _target_tag(v: Any) -> str | None:
    if isinstance(v, str):
        return "label"
    if isinstance(v, dict):
        found = [k for k in ("points", "box", "mask") if k in v]
        return found[0] if len(found) == 1 else None
    return {PointsTarget: "points", BoxTarget: "box", MaskTarget: "mask"}.get(type(v))


def _label(v: Any, handler: Any) -> Any:
    try:
        return handler(v)
    except ValidationError:
        raise field_error(_TARGET_HINT) from None


RegionTarget = Annotated[
    Union[
        Annotated[TargetLabel, WrapValidator(_label), Tag("label")],
        Annotated[PointsTarget, Tag("points")],
        Annotated[BoxTarget, Tag("box")],
        Annotated[MaskTarget, Tag("mask")],
    ],
    Discriminator(
        _target_tag,
        custom_error_type="reworld",
        custom_error_message=_TARGET_HINT,
        custom_error_context={"reason": _TARGET_HINT},
    ),
]


class RegionParams(SpecModel):
    """What to put in the region; which fields are needed depends on the action."""

    color: Color | None = Field(None, description="Target colour for `recolor` ('#rrggbb' or [r, g, b]).")
    prompt: Text | None = Field(None, description="Text for `restyle`, `replace` or `insert`.")
    image: PathStr | None = Field(None, description="Image for `replace` or `insert` (RGBA keeps its alpha).")
    feather: Pixel = Field(4.0, description="Soft edge width of the region mask in pixels.")
    strength: Unit = Field(1.0, description="Blend of the edit with the original inside the region.")

    @property
    def rgb(self) -> tuple[int, int, int] | None:
        """``color`` as integers in [0, 255], or None."""
        if self.color is None:
            return None
        return tuple(int(self.color[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


class RegionEdit(SpecModel):
    """One local edit: where (`target`), what (`action`) and with what (`params`).

    Example:
        >>> RegionEdit(target="clothes", action="recolor", params={"color": [255, 0, 0]}).params.color
        '#ff0000'
    """

    target: RegionTarget = Field(description="A named class or an object with `points`, `box` or `mask`.")
    action: Literal["recolor", "restyle", "replace", "remove", "insert"] = Field(
        description="recolor | restyle | replace | remove | insert"
    )
    params: RegionParams = Field(default_factory=RegionParams)

    @model_validator(mode="after")
    def _needs(self) -> RegionEdit:
        p = self.params
        if self.action == "recolor" and p.color is None:
            raise field_error("is required when `action` is 'recolor'", field="params.color", value=None)
        if self.action == "replace" and p.image is None and p.prompt is None:
            raise field_error(
                "needs `image` or `prompt` when `action` is 'replace'", field="params", value=p.model_dump()
            )
        if self.action == "insert" and p.image is None:
            raise field_error("is required when `action` is 'insert'", field="params.image", value=None)
        return self
