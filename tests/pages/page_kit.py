"""Helpers for the AppTest page tests: pages, canvas state and test pictures.

Pictures are made from MNIST test digits, which a good model reads right, so a
wrong reading points at the app, not at the handwriting.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image
from streamlit.testing.v1 import AppTest

from digit_core import canvas

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60  # s: the first run imports Keras and loads the model


def page(name: str) -> AppTest:
    """An AppTest for a file under the project root, e.g. "pages/draw.py"."""
    return AppTest.from_file(str(ROOT / name), default_timeout=TIMEOUT)


def canvas_state(ink: np.ndarray) -> dict:
    """What the canvas component keeps in session state after a stroke."""
    return {
        "drawing": {"raw": {"objects": []}, "data": canvas.png_data_url(ink / 255)},
        "backgroundFit": None,
    }


def side_by_side(*images: np.ndarray) -> np.ndarray:
    """MNIST digits in a row, in a square frame: (28n, 28n) uint8, ink high."""
    row = np.concatenate(images, axis=1)
    frame = np.zeros((row.shape[1], row.shape[1]), np.uint8)
    top = (frame.shape[0] - row.shape[0]) // 2
    frame[top : top + row.shape[0]] = row
    return frame


def photo(*images: np.ndarray, scale: int = 5) -> np.ndarray:
    """Digits as a phone might see them: dark ink on uneven grey paper, noisy.

    Returns (h, w, 3) uint8 RGB, about 28 * scale px high plus margins.
    """
    row = np.concatenate(images, axis=1).astype(np.float32) / 255
    big = (
        np.asarray(
            Image.fromarray(np.round(row * 255).astype(np.uint8)).resize(
                (row.shape[1] * scale, row.shape[0] * scale), Image.Resampling.BILINEAR
            ),
            np.float32,
        )
        / 255
    )
    h, w = big.shape[0] + 60, big.shape[1] + 80
    ink = np.zeros((h, w), np.float32)
    ink[30 : 30 + big.shape[0], 40 : 40 + big.shape[1]] = big
    light = np.linspace(0.92, 0.75, w)[None, :] * np.ones(
        (h, 1)
    )  # falls off to the right
    rng = np.random.default_rng(0)
    gray = light * (1 - 0.8 * ink) + rng.normal(0, 0.015, (h, w))
    tint = np.array([1.0, 0.97, 0.9])  # warm paper
    return np.round(np.clip(gray[..., None] * tint, 0, 1) * 255).astype(np.uint8)


def encode(image: np.ndarray | Image.Image, fmt: str, **options) -> bytes:
    picture = image if isinstance(image, Image.Image) else Image.fromarray(image)
    buffer = io.BytesIO()
    picture.save(buffer, format=fmt, **options)
    return buffer.getvalue()
