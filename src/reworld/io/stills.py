"""Still images (photos, sketches, references, masks) in and out, through one loader.

Reading goes through FFmpeg (PyAV) like video, so PNG (8/16-bit, grey, alpha, palette),
JPEG, WebP, TIFF, BMP and EXR all load the same way, with the same clear errors. Writing is
atomic (temp file in the target folder, then rename).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import av
import numpy as np

from reworld.errors import ClipOpenError, InvalidInput
from reworld.io._av import max_side_limit, open_input


def read_image(path: str | os.PathLike, *, arg: str = "image", bit_depth: int = 8,
               max_side: int | None = None, alpha: bool = False) -> np.ndarray:
    """Load a still image as RGB.

    Args:
        path: image file (a video file gives its first frame).
        arg: argument name for error messages (``"reference_image"``, ``"mask"``...).
        bit_depth: 8 → uint8; 16 → uint16; 32 → float32 (EXR keeps linear, unclipped values).
        max_side: size limit (default 8192 or ``$REWORLD_MAX_SIDE``).
        alpha: return RGBA (4 channels; opaque where the file has no alpha).

    Returns:
        ``(H, W, 3)`` (or ``(H, W, 4)``) array; grey images are expanded to RGB.

    Example:
        >>> img = read_image("photo.jpg")  # doctest: +SKIP
        >>> img.shape, img.dtype  # doctest: +SKIP
        ((533, 800, 3), dtype('uint8'))
    """
    if bit_depth not in (8, 16, 32):
        raise InvalidInput("bit_depth", bit_depth, "must be 8, 16 or 32")
    limit = max_side_limit(max_side)
    if str(path).lower().endswith(".exr"):
        arr = _read_exr(path, arg, limit)
        arr = _to_depth_from_float(arr, bit_depth)
        return _alpha(arr, alpha)
    with open_input(path, arg) as container:
        if not container.streams.video:
            raise ClipOpenError(arg, str(path), "is not an image (no picture stream)")
        stream = container.streams.video[0]
        w, h = stream.codec_context.width, stream.codec_context.height
        if max(w, h) > limit:
            raise ClipOpenError(arg, str(path), f"is {w}x{h}, over the limit of {limit} px a side")
        try:
            frame = next(container.decode(stream), None)
        except av.FFmpegError as exc:
            raise ClipOpenError(arg, str(path), f"does not decode as an image ({exc})") from exc
        if frame is None:
            raise ClipOpenError(arg, str(path), "has no decodable picture")
        has_alpha = "a" in frame.format.name.replace("gray", "").replace("yuva", "a") and any(
            c.is_alpha for c in frame.format.components)
        is_float = frame.format.name.startswith(("gbrpf", "gbrapf", "grayf"))
        if is_float:
            fmt = "gbrapf32le" if has_alpha else "gbrpf32le"
            arr = frame.to_ndarray(format=fmt, channel_last=True).astype(np.float32)
            arr = _to_depth_from_float(arr, bit_depth)
        else:
            fmt = {8: "rgba" if has_alpha else "rgb24", 16: "rgba64le" if has_alpha else "rgb48le",
                   32: "rgba64le" if has_alpha else "rgb48le"}[bit_depth]
            arr = frame.to_ndarray(format=fmt)
            if bit_depth == 32:
                arr = arr.astype(np.float32) / 65535.0
        rotation = int(getattr(frame, "rotation", 0) or 0) % 360
    if rotation:
        arr = np.ascontiguousarray(np.rot90(arr, k=rotation // 90))
    return _alpha(arr, alpha)


def _alpha(arr: np.ndarray, alpha: bool) -> np.ndarray:
    if alpha and arr.shape[-1] == 3:
        one = {np.dtype(np.uint8): 255, np.dtype(np.uint16): 65535}.get(arr.dtype, 1.0)
        arr = np.concatenate([arr, np.full(arr.shape[:2] + (1,), one, arr.dtype)], axis=-1)
    elif not alpha and arr.shape[-1] == 4:
        arr = np.ascontiguousarray(arr[..., :3])
    return arr


def _read_exr(path, arg: str, limit: int) -> np.ndarray:
    """EXR through the OpenEXR library: exact half floats (FFmpeg's EXR decoder is off by a few
    tenths of a percent), linear light, RGB or RGBA."""
    import OpenEXR

    from reworld.io._av import check_input_file

    check_input_file(path, arg)
    try:
        with OpenEXR.File(str(path)) as f:
            ch = f.channels()
            if "RGB" in ch or "RGBA" in ch:
                arr = np.asarray(ch.get("RGBA", ch.get("RGB")).pixels, np.float32)
            elif all(k in ch for k in "RGB"):
                arr = np.stack([np.asarray(ch[k].pixels, np.float32) for k in "RGB"], -1)
                if "A" in ch:
                    arr = np.concatenate([arr, np.asarray(ch["A"].pixels, np.float32)[..., None]], -1)
            elif "Y" in ch:
                arr = np.repeat(np.asarray(ch["Y"].pixels, np.float32)[..., None], 3, -1)
            else:
                raise ClipOpenError(arg, str(path), f"has no R, G, B or Y channels (found {sorted(ch)})")
    except (RuntimeError, OSError) as exc:
        raise ClipOpenError(arg, str(path), f"is not a readable EXR image ({exc})") from exc
    if max(arr.shape[:2]) > limit:
        raise ClipOpenError(arg, str(path), f"is {arr.shape[1]}x{arr.shape[0]}, over the limit of {limit} px a side")
    return arr


def _to_depth_from_float(arr: np.ndarray, bit_depth: int) -> np.ndarray:
    if bit_depth == 32:
        return arr
    from reworld.ops.color import linear_to_srgb

    enc = linear_to_srgb(np.clip(arr[..., :3], 0.0, 1.0))
    if arr.shape[-1] == 4:
        enc = np.concatenate([enc, np.clip(arr[..., 3:], 0, 1)], axis=-1)
    scale = 255.0 if bit_depth == 8 else 65535.0
    return np.round(enc * scale).astype(np.uint8 if bit_depth == 8 else np.uint16)


def read_mask(path: str | os.PathLike, *, arg: str = "mask", shape: tuple[int, int] | None = None) -> np.ndarray:
    """Load a mask image as ``(H, W)`` float32 alpha in [0, 1] (alpha channel if any, else luma).

    Args:
        shape: expected ``(H, W)``; a different size raises naming ``arg`` and both sizes.
    """
    img = read_image(path, arg=arg, bit_depth=16, alpha=True)
    a = img[..., 3].astype(np.float32) / 65535.0
    if a.min() >= 1.0:  # no alpha: use luma
        rgb = img[..., :3].astype(np.float32) / 65535.0
        a = rgb @ np.asarray([0.2126, 0.7152, 0.0722], np.float32)
    if shape is not None and a.shape != tuple(shape):
        raise InvalidInput(arg, str(path), f"is {a.shape[1]}x{a.shape[0]} but must match the clip's {shape[1]}x{shape[0]}")
    return a


def write_image(path: str | os.PathLike, image: np.ndarray, *, bit_depth: int | None = None) -> Path:
    """Write a PNG / JPEG / EXR image atomically (temp file in the same folder, then rename).

    Args:
        image: ``(H, W, 3)`` or ``(H, W)`` uint8/uint16 (sRGB-encoded), or float32 in [0, 1].
        bit_depth: PNG 8 or 16 (default from dtype); EXR is always half float, linear light.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".reworld-{uuid.uuid4().hex[:8]}-{path.name}.tmp{path.suffix}"
    try:
        write_image_file(tmp, image, bit_depth=bit_depth)
        os.replace(tmp, path)
    except BaseException:
        if tmp.exists():
            tmp.unlink()
        raise
    return path


def write_image_file(path: str | os.PathLike, image: np.ndarray, *, bit_depth: int | None = None) -> None:
    """Encode ``image`` to ``path`` directly (callers provide atomicity). Suffix picks the format."""
    import cv2  # OpenCV's PNG/JPEG writers are fast and handle 16-bit

    path = Path(path)
    suffix = path.suffix.lower()
    img = np.asarray(image)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=-1)
    if img.ndim != 3 or img.shape[-1] not in (3, 4):
        raise InvalidInput("image", f"array {img.shape}", "must be (H, W, 3), (H, W, 4) or (H, W)")
    if suffix == ".exr":
        _write_exr(path, img)
        return
    if img.dtype.kind == "f":
        depth = bit_depth or 16
        img = np.round(np.clip(img, 0.0, 1.0) * (255.0 if depth == 8 else 65535.0)).astype(
            np.uint8 if depth == 8 else np.uint16)
    elif bit_depth == 16 and img.dtype == np.uint8:
        img = img.astype(np.uint16) * 257
    elif bit_depth == 8 and img.dtype == np.uint16:
        img = np.round(img / 257.0).astype(np.uint8)
    if suffix in (".jpg", ".jpeg") and img.dtype != np.uint8:
        img = np.round(img / 257.0).astype(np.uint8)
    code = cv2.COLOR_RGBA2BGRA if img.shape[-1] == 4 else cv2.COLOR_RGB2BGR
    params = [cv2.IMWRITE_JPEG_QUALITY, 95] if suffix in (".jpg", ".jpeg") else []
    if not cv2.imwrite(str(path), cv2.cvtColor(img, code), params):
        raise InvalidInput("path", str(path), "could not be written as an image (unknown suffix?)")


def _write_exr(path: Path, img: np.ndarray) -> None:
    import OpenEXR

    from reworld.ops.color import srgb_to_linear

    if img.dtype == np.uint8:
        f = img.astype(np.float32) / 255.0
    elif img.dtype == np.uint16:
        f = img.astype(np.float32) / 65535.0
    else:
        f = img.astype(np.float32)
    rgb = srgb_to_linear(np.clip(f[..., :3], 0.0, 1.0)) if img.dtype != np.float32 else f[..., :3]
    channels = {"RGB": np.ascontiguousarray(rgb.astype(np.float16))}
    if img.shape[-1] == 4:
        channels["A"] = np.ascontiguousarray(f[..., 3].astype(np.float16))
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    OpenEXR.File(header, channels).write(str(path))
