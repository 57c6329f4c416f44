"""Fixtures for the AppTest page tests: the model and MNIST's test digits."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from page_kit import ROOT, missing

from pages.common import model_path

MNIST_ENV = "DIGITS_MNIST_PATH"
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist.npz"


@pytest.fixture(scope="session", autouse=True)
def model_file() -> Path:
    path = model_path()
    if not path.is_file():
        missing(f"the model {path}")
    return path


@pytest.fixture(scope="session")
def mnist() -> tuple[np.ndarray, np.ndarray]:
    """MNIST's test set: (10000, 28, 28) uint8 ink high, (10000,) labels."""
    path = Path(os.environ.get(MNIST_ENV) or SHARED_MNIST)
    if not path.is_file():
        missing(f"MNIST at {path} (set {MNIST_ENV})")
    with np.load(path) as data:
        return data["x_test"], data["y_test"]


@pytest.fixture(scope="session")
def digits(mnist) -> dict[int, np.ndarray]:
    """The first MNIST test image of each digit: (28, 28) uint8, ink high."""
    x, y = mnist
    return {d: x[int(np.flatnonzero(y == d)[0])] for d in range(10)}
