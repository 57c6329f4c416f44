"""Decode and check pictures: paths, bytes, Pillow images or arrays -> numpy arrays.

Awkward but valid files are read like any other: EXIF-rotated phone photos
(turned upright), CMYK, 16-bit, palette, transparent and animated (first frame).
Bad ones raise a typed error with a message fit for users: not an image,
truncated, empty, too many bytes or pixels, a decompression bomb.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps, UnidentifiedImageError

from digit_core.errors import ImageDecodeError, ImageTooLargeError

MAX_BYTES = 20_000_000  # 20 MB: a large phone photo is 5-10 MB
MAX_PIXELS = 50_000_000  # 50 megapixels: above any phone camera, below a bomb
ImageSource = (
    str | os.PathLike[str] | bytes | bytearray | memoryview | Image.Image | NDArray
)


def _read_bytes(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            msg = f"{path}: {size} bytes is over {MAX_BYTES}"
            raise ImageTooLargeError(msg)
        return path.read_bytes()
    except OSError as exc:
        msg = f"{path}: {exc.strerror or exc}"
        raise ImageDecodeError(msg) from exc


def _open(data: bytes) -> Image.Image:
    if not data:
        msg = "empty file"
        raise ImageDecodeError(msg)
    if len(data) > MAX_BYTES:
        msg = f"{len(data)} bytes is over {MAX_BYTES}"
        raise ImageTooLargeError(msg)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            image.seek(0)  # animated GIF, WebP, TIFF: the first frame
            if image.width * image.height > MAX_PIXELS:
                msg = f"{image.width}x{image.height} pixels is over {MAX_PIXELS}"
                raise ImageTooLargeError(msg)
            image.load()  # decode now, so truncated files fail here
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLargeError(str(exc)) from exc
    except UnidentifiedImageError as exc:
        msg = "not an image file Pillow can identify"
        raise ImageDecodeError(msg) from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        msg = f"cannot decode image: {exc}"
        raise ImageDecodeError(msg) from exc
    return image


def to_array(image: Image.Image) -> NDArray:
    """A Pillow image, turned upright by its EXIF tag, as an array.

    Returns uint8 (h, w), (h, w, 2 | 3 | 4) for 8-bit modes, uint16 or int32
    (h, w) for 16/32-bit grey, float32 (h, w) for mode F. Palette images keep
    their transparency; CMYK, YCbCr, LAB and HSV become RGB.
    """
    try:
        upright = ImageOps.exif_transpose(image)
    except (OSError, ValueError, SyntaxError) as exc:  # a broken EXIF block
        msg = f"cannot read EXIF orientation: {exc}"
        raise ImageDecodeError(msg) from exc
    image = upright if upright is not None else image
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return np.asarray(image, dtype=np.uint16)
    if mode in ("I", "F"):
        return np.asarray(image)
    if mode == "1":
        image = image.convert("L")
    elif mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif mode == "PA":
        image = image.convert("RGBA")
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        image = image.convert("RGB")
    return np.asarray(image)


def decode(source: ImageSource) -> NDArray:
    """Whatever the caller has -> a numpy array ready for preprocess.prepare.

    Arrays pass through untouched (preprocess checks them); paths are read with
    a byte limit; everything else is decoded by Pillow with a pixel limit.
    """
    if isinstance(source, np.ndarray):
        return source
    if isinstance(source, Image.Image):
        if source.width * source.height > MAX_PIXELS:
            msg = f"{source.width}x{source.height} pixels is over {MAX_PIXELS}"
            raise ImageTooLargeError(msg)
        return to_array(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return to_array(_open(bytes(source)))
    if isinstance(source, (str, os.PathLike)):
        return to_array(_open(_read_bytes(Path(source))))
    msg = f"cannot read a picture from {type(source).__name__}"
    raise ImageDecodeError(msg)
