"""pages/upload.py: picture files and camera shots are read; bad files explained."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from page_kit import encode, page, photo
from PIL import Image

from digit_core.errors import EmptyImageError, ImageDecodeError, ImageTooLargeError
from pages.common import READING

FILE = "upload.file"


@pytest.fixture
def upload():
    at = page("pages/upload.py").run()
    assert not at.exception
    return at


def uploaded(at, name: str, data: bytes, mime: str = "image/png"):
    at.file_uploader(key=FILE).set_value((name, data, mime))
    at.run()
    assert not at.exception
    return at


def read(at) -> str:
    return at.get_by_key(READING).title[0].value


def test_nothing_uploaded_shows_a_tip(upload):
    assert "reads best" in upload.info[0].value
    assert not upload.error


def test_a_photo_of_a_number_is_read(upload, digits):
    shot = photo(digits[3], digits[1], digits[4])
    at = uploaded(upload, "number.jpg", encode(shot, "JPEG", quality=85), "image/jpeg")
    assert read(at) == "314"
    # The photo with boxes, then per digit its ink, its 28x28 input and its chart.
    assert len(at.image) == 1 + 2 * 3
    assert len(at.get("plotly_chart")) == 3
    assert [s.value for s in at.subheader] == ["Digit 1: 3", "Digit 2: 1", "Digit 3: 4"]


def test_a_camera_shot_is_read(upload, digits):
    upload.toggle(key="upload.use_camera").set_value(True).run()
    shot = encode(photo(digits[8]), "JPEG", quality=90)
    upload.camera_input(key="upload.camera").set_value(("shot.jpg", shot, "image/jpeg"))
    upload.run()
    assert not upload.exception
    assert read(upload) == "8"


def cmyk(image: np.ndarray) -> bytes:
    return encode(Image.fromarray(image).convert("CMYK"), "JPEG")


def sixteen_bit(image: np.ndarray) -> bytes:
    gray = Image.fromarray(image).convert("L")
    return encode(Image.fromarray(np.asarray(gray).astype(np.uint16) * 257), "PNG")


def palette_gif(image: np.ndarray) -> bytes:
    """Animated: the digit first, then a blank frame."""
    first = Image.fromarray(image).convert("P")
    blank = Image.new("P", first.size, color=255)
    return encode(first, "GIF", save_all=True, append_images=[blank], duration=100)


def transparent(image: np.ndarray) -> bytes:
    """Dark ink on a fully transparent background."""
    ink = 255 - np.asarray(Image.fromarray(image).convert("L"))
    rgba = np.zeros((*ink.shape, 4), np.uint8)
    rgba[..., 3] = np.where(ink > 128, 255, 0)
    return encode(rgba, "PNG")


def exif_rotated(image: np.ndarray) -> bytes:
    """Stored turned a quarter, with EXIF orientation 6 to turn it upright."""
    stored = Image.fromarray(image).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to view
    return encode(stored, "JPEG", exif=exif.tobytes())


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("cmyk.jpg", cmyk),
        ("deep.png", sixteen_bit),
        ("moving.gif", palette_gif),
        ("clear.png", transparent),
        ("turned.jpg", exif_rotated),
        ("digit.webp", lambda image: encode(image, "WEBP", quality=90)),
        ("digit.bmp", lambda image: encode(image, "BMP")),
        ("digit.tiff", lambda image: encode(image, "TIFF")),
    ],
)
def test_awkward_but_valid_files_are_read(upload, digits, name, make):
    at = uploaded(upload, name, make(photo(digits[2], digits[7])))
    assert not at.error
    assert read(at) == "27"


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height pixels: a decompression bomb."""
    data = bytearray(encode(np.zeros((1, 1), np.uint8), "PNG"))
    header = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + header))
    return bytes(data)


def truncated_png() -> bytes:
    data = encode(np.full((200, 200), 128, np.uint8), "PNG")
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("notes.png", b"these are my notes, not a picture", ImageDecodeError),
        ("empty.png", b"", ImageDecodeError),
        ("cut.png", truncated_png(), ImageDecodeError),
        ("bomb.png", png_claiming(30_000, 30_000), ImageTooLargeError),
        ("huge.png", b"\x89PNG\r\n\x1a\n" + bytes(20_000_001), ImageTooLargeError),
    ],
)
def test_bad_files_give_a_message(upload, digits, name, data, message):
    at = uploaded(upload, name, data)
    assert [e.value for e in at.error] == [message.user_message]
    # ...and the page keeps working: a good file afterwards is read.
    at = uploaded(at, "good.png", encode(photo(digits[6]), "PNG"))
    assert not at.error
    assert read(at) == "6"


@pytest.mark.parametrize(
    "pixels",
    [
        np.full((300, 400), 255, np.uint8),
        np.zeros((300, 400), np.uint8),
        np.random.default_rng(1).integers(0, 256, (300, 400), dtype=np.uint8),
    ],
    ids=["blank", "all-ink", "noise"],
)
def test_nothing_to_read_says_so(upload, pixels):
    at = uploaded(upload, "nothing.png", encode(pixels, "PNG"))
    assert not at.error
    assert at.get_by_key(READING).warning[0].value == EmptyImageError.user_message


def test_the_model_sees_each_digit(upload, digits):
    upload.session_state["upload.seen"] = True
    shot = encode(photo(digits[5], digits[0]), "PNG")
    at = uploaded(upload, "fifty.png", shot)
    (seen,) = at.expander
    assert [c.value for c in seen.caption][1:] == [
        "Digit 1, read as 5",
        "Digit 2, read as 0",
    ]
