"""Media in and out — the only package that imports PyAV.

``probe`` reads facts, ``ClipReader`` streams frames in chunks, ``ClipWriter`` encodes atomically,
``read_image``/``write_image`` handle stills, ``read_cube``/``write_cube`` handle 3D LUT files.
"""

from reworld.io.audio import read_audio
from reworld.io.lut import read_cube, write_cube
from reworld.io.probe import probe
from reworld.io.reader import ClipReader, read_clip
from reworld.io.stills import read_image, read_mask, write_image
from reworld.io.writer import ClipWriter

__all__ = ["probe", "read_audio", "ClipReader", "read_clip", "ClipWriter", "read_image", "read_mask", "write_image",
           "read_cube", "write_cube"]
