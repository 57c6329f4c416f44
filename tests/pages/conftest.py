"""Fixtures for the AppTest page tests; MNIST and the model come from tests/conftest.py.

Pictures are made from MNIST test digits, which a good model reads right, so a
wrong reading points at the app, not at the handwriting.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session", autouse=True)
def needs_model(model_path: Path) -> Path:
    """Every page loads the model: without it, skip here and fail under CI."""
    return model_path


@pytest.fixture(scope="session")
def digits(mnist) -> dict[int, np.ndarray]:
    """The first MNIST test image of each digit: (28, 28) uint8, ink high."""
    return {
        d: mnist.x_test[int(np.flatnonzero(mnist.y_test == d)[0])] for d in range(10)
    }
