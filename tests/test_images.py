"""digit_core.images: every way a picture arrives, and every way it can be bad."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from digit_core import images
from digit_core.errors import DigitError, ImageDecodeError, ImageTooLargeError

H, W = 48, 64  # test pictures are landscape, so a rotation shows in the shape


def digit_picture() -> np.ndarray:
    """(H, W) uint8: white paper with a black block in the top-left quarter."""
    picture = np.full((H, W), 255, np.uint8)
    picture[6:20, 8:24] = 0
    return picture


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def grey(array: np.ndarray) -> np.ndarray:
    """A decoded array reduced to grey levels (h, w), alpha ignored, as float."""
    array = np.asarray(array, np.float64)
    if array.ndim == 3:
        array = array[..., : 3 if array.shape[2] >= 3 else 1].mean(axis=2)
    return array


def assert_shows_the_block(array: np.ndarray) -> None:
    """The block is dark, the paper light, in the decoded picture's own scale."""
    assert array.shape[:2] == (H, W)
    values = grey(array)
    top = float(values.max())
    assert values[8:18, 10:22].mean() < 0.2 * top
    assert values[30:, 35:].mean() > 0.8 * top


# good files

PIL_CASES = {
    "png-L": (lambda: Image.fromarray(digit_picture()), "PNG", {}),
    "png-RGB": (lambda: Image.fromarray(digit_picture()).convert("RGB"), "PNG", {}),
    "png-RGBA": (lambda: Image.fromarray(digit_picture()).convert("RGBA"), "PNG", {}),
    "png-LA": (lambda: Image.fromarray(digit_picture()).convert("LA"), "PNG", {}),
    "png-1": (lambda: Image.fromarray(digit_picture()).convert("1"), "PNG", {}),
    "png-P": (lambda: Image.fromarray(digit_picture()).convert("P"), "PNG", {}),
    "jpeg-RGB": (
        lambda: Image.fromarray(digit_picture()).convert("RGB"),
        "JPEG",
        {"quality": 90},
    ),
    "jpeg-L": (lambda: Image.fromarray(digit_picture()), "JPEG", {"quality": 90}),
    "jpeg-CMYK": (
        lambda: Image.fromarray(digit_picture()).convert("CMYK"),
        "JPEG",
        {"quality": 90},
    ),
    "webp": (
        lambda: Image.fromarray(digit_picture()).convert("RGB"),
        "WEBP",
        {"lossless": True},
    ),
    "bmp": (lambda: Image.fromarray(digit_picture()).convert("RGB"), "BMP", {}),
    "tiff": (lambda: Image.fromarray(digit_picture()).convert("RGB"), "TIFF", {}),
    "gif": (lambda: Image.fromarray(digit_picture()).convert("P"), "GIF", {}),
}


@pytest.mark.parametrize("case", list(PIL_CASES), ids=list(PIL_CASES))
def test_formats_decode_from_bytes(case):
    make, fmt, options = PIL_CASES[case]
    array = images.decode(encode(make(), fmt, **options))
    assert isinstance(array, np.ndarray)
    assert array.ndim in (2, 3)
    assert array.ndim == 2 or array.shape[2] in (2, 3, 4)
    assert_shows_the_block(array)


@pytest.mark.parametrize("kind", ["str", "Path", "bytes", "bytearray", "memoryview"])
def test_sources_path_and_bytes(kind, tmp_path):
    data = encode(Image.fromarray(digit_picture()), "PNG")
    path = tmp_path / "digit.png"
    path.write_bytes(data)
    source = {
        "str": str(path),
        "Path": path,
        "bytes": data,
        "bytearray": bytearray(data),
        "memoryview": memoryview(data),
    }[kind]
    np.testing.assert_array_equal(images.decode(source), digit_picture())


def test_source_pil_image_is_not_modified():
    image = Image.fromarray(digit_picture()).convert("RGB")
    before = image.tobytes()
    array = images.decode(image)
    assert array.shape == (H, W, 3)
    assert_shows_the_block(array)
    assert image.tobytes() == before


def test_source_array_passes_through():
    array = digit_picture()
    assert images.decode(array) is array


def test_sixteen_bit_png_keeps_its_levels():
    levels = np.linspace(0, 65535, H * W).reshape(H, W).astype(np.uint16)
    image = Image.fromarray(levels)
    assert image.mode.startswith("I;16")
    array = images.decode(encode(image, "PNG"))
    assert array.dtype == np.uint16
    np.testing.assert_array_equal(array, levels)


def test_palette_png_with_transparency_keeps_alpha():
    image = Image.fromarray(digit_picture()).convert("P")
    paper_index = image.getpixel((W - 1, H - 1))
    array = images.decode(encode(image, "PNG", transparency=paper_index))
    assert array.shape == (H, W, 4)
    assert array[H - 1, W - 1, 3] == 0  # paper transparent
    assert array[10, 12, 3] == 255  # ink opaque


def test_la_png_keeps_alpha():
    la = np.dstack([digit_picture(), np.full((H, W), 200, np.uint8)])
    array = images.decode(encode(Image.fromarray(la, "LA"), "PNG"))
    assert array.shape == (H, W, 2)
    np.testing.assert_array_equal(array, la)


def test_mode_1_becomes_grey_levels():
    array = images.decode(encode(Image.fromarray(digit_picture()).convert("1"), "PNG"))
    assert array.dtype == np.uint8
    assert set(np.unique(array).tolist()) <= {0, 255}


def test_animated_gif_gives_the_first_frame():
    first = digit_picture()
    second = np.full((H, W), 255, np.uint8)
    second[28:44, 40:60] = 0  # the block moved to the bottom right
    frames = [Image.fromarray(f).convert("P") for f in (first, second)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    assert Image.open(io.BytesIO(data)).n_frames == 2
    assert_shows_the_block(images.decode(data))


@pytest.mark.parametrize("as_pil", [False, True], ids=["bytes", "pil"])
def test_exif_rotated_jpeg_is_turned_upright(as_pil):
    """Orientation 6: the camera was turned; the stored picture must turn 90 deg CW."""
    stored = digit_picture()
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(Image.fromarray(stored), "JPEG", quality=95, exif=exif)
    source = Image.open(io.BytesIO(data)) if as_pil else data
    array = images.decode(source)
    upright = np.rot90(stored, k=-1)  # numpy: k=-1 turns clockwise
    assert array.shape[:2] == upright.shape == (W, H)
    assert np.abs(grey(array) - upright).mean() < 10  # JPEG noise only


# bad files


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width x height pixels but holds almost no data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit grey
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00"))
        + chunk(b"IEND", b"")
    )


def truncated_png() -> bytes:
    rng = np.random.default_rng(0)
    noisy = rng.integers(0, 256, (200, 200), dtype=np.uint8)  # does not compress
    data = encode(Image.fromarray(noisy), "PNG")
    return data[: len(data) // 2]


BAD_BYTES = {
    "text": (b"hello, this is not a picture\n" * 20, ImageDecodeError),
    "empty": (b"", ImageDecodeError),
    "truncated png": (truncated_png(), ImageDecodeError),
    "png signature only": (b"\x89PNG\r\n\x1a\n", ImageDecodeError),
    "html": (b"<!doctype html><html><body>404</body></html>", ImageDecodeError),
    "bomb 100000x100000": (png_header_only(100_000, 100_000), ImageTooLargeError),
    "8000x8000 (64 MP)": (png_header_only(8000, 8000), ImageTooLargeError),
}


def assert_user_error(err: DigitError, kind: type[DigitError]) -> None:
    assert isinstance(err, kind)
    assert isinstance(err.user_message, str) and err.user_message.strip()
    assert str(err)


@pytest.mark.parametrize("case", list(BAD_BYTES), ids=list(BAD_BYTES))
def test_bad_bytes_raise_typed_errors(case, tmp_path):
    data, kind = BAD_BYTES[case]
    with pytest.raises(kind) as info:
        images.decode(data)
    assert_user_error(info.value, kind)
    path = tmp_path / "upload.png"  # the same through a path
    path.write_bytes(data)
    with pytest.raises(kind) as info:
        images.decode(path)
    assert_user_error(info.value, kind)


@pytest.mark.parametrize("name", ["missing.png", "folder"])
def test_unreadable_paths_raise_decode_error(name, tmp_path):
    (tmp_path / "folder").mkdir()
    with pytest.raises(ImageDecodeError) as info:
        images.decode(tmp_path / name)
    assert_user_error(info.value, ImageDecodeError)


@pytest.mark.parametrize("source", [None, 42, 3.5, ["digit.png"], {"a": 1}])
def test_unsupported_source_types_raise_decode_error(source):
    with pytest.raises(ImageDecodeError) as info:
        images.decode(source)
    assert_user_error(info.value, ImageDecodeError)


@pytest.mark.parametrize("via", ["bytes", "path"])
def test_too_many_bytes(via, tmp_path, monkeypatch):
    data = encode(Image.fromarray(digit_picture()), "PNG")
    monkeypatch.setattr(images, "MAX_BYTES", len(data) - 1)
    path = tmp_path / "big.png"
    path.write_bytes(data)
    with pytest.raises(ImageTooLargeError) as info:
        images.decode(data if via == "bytes" else path)
    assert_user_error(info.value, ImageTooLargeError)


@pytest.mark.parametrize("via", ["bytes", "pil"])
def test_too_many_pixels(via, monkeypatch):
    image = Image.fromarray(digit_picture())
    monkeypatch.setattr(images, "MAX_PIXELS", H * W - 1)
    with pytest.raises(ImageTooLargeError) as info:
        images.decode(encode(image, "PNG") if via == "bytes" else image)
    assert_user_error(info.value, ImageTooLargeError)


def test_limits_are_inclusive(monkeypatch):
    data = encode(Image.fromarray(digit_picture()), "PNG")
    monkeypatch.setattr(images, "MAX_BYTES", len(data))
    monkeypatch.setattr(images, "MAX_PIXELS", H * W)
    assert images.decode(data).shape == (H, W)
