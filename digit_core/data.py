"""Load MNIST from wherever it is, with a clear message when it is nowhere.

Order: an explicit path; the environment variable DIGITS_MNIST_PATH; data/mnist.npz
under the project root (git-ignored); the normal `keras.datasets.mnist` download,
for users with internet. Arrays are checked, so a wrong file fails early and clearly.
"""

from __future__ import annotations

import hashlib
import logging
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from digit_core.errors import DatasetNotFoundError

log = logging.getLogger(__name__)

ENV_VAR = "DIGITS_MNIST_PATH"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOCAL_PATH = PROJECT_ROOT / "data" / "mnist.npz"
KEYS = ("x_train", "y_train", "x_test", "y_test")
TRAIN_SIZE, TEST_SIZE = 60_000, 10_000  # the official split


@dataclass(frozen=True, slots=True)
class Mnist:
    """MNIST as uint8 arrays: images (N, 28, 28), 0 = background, 255 = ink."""

    x_train: NDArray[np.uint8]
    y_train: NDArray[np.uint8]
    x_test: NDArray[np.uint8]
    y_test: NDArray[np.uint8]
    source: str  # where it was loaded from, for the model card and messages
    sha256: str  # of the file, "" when it came from the Keras cache


def candidate_paths(path: str | os.PathLike[str] | None = None) -> list[Path]:
    """The files to try, in order; the Keras download comes after them."""
    paths = []
    if path is not None:
        paths.append(Path(path))
    if os.environ.get(ENV_VAR):
        paths.append(Path(os.environ[ENV_VAR]))
    paths.append(LOCAL_PATH)
    return paths


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def validate(arrays: dict[str, np.ndarray], source: str) -> None:
    """Raise DatasetNotFoundError unless the arrays look like MNIST."""
    for key in KEYS:
        if key not in arrays:
            msg = f"{source}: missing array {key!r}"
            raise DatasetNotFoundError(msg)
    for split, size in (("train", TRAIN_SIZE), ("test", TEST_SIZE)):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.shape != (size, 28, 28) or y.shape != (size,):
            msg = f"{source}: {split} shapes {x.shape}, {y.shape} are not MNIST's"
            raise DatasetNotFoundError(msg)
        if x.dtype != np.uint8 or not np.issubdtype(y.dtype, np.integer):
            msg = f"{source}: {split} dtypes {x.dtype}, {y.dtype} are not MNIST's"
            raise DatasetNotFoundError(msg)
        if y.min() < 0 or y.max() > 9:
            msg = f"{source}: {split} labels outside 0..9"
            raise DatasetNotFoundError(msg)


def _from_file(path: Path) -> Mnist:
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        msg = f"{path}: not a readable .npz file ({exc})"
        raise DatasetNotFoundError(msg) from exc
    validate(arrays, str(path))
    return Mnist(
        *(arrays[k] if k.startswith("x") else arrays[k].astype(np.uint8) for k in KEYS),
        source=str(path),
        sha256=file_sha256(path),
    )


def _from_keras() -> Mnist:
    try:
        import keras

        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as exc:  # any download or cache failure: tell the user how
        msg = f"keras download failed: {exc}"
        raise DatasetNotFoundError(msg) from exc
    arrays = dict(zip(KEYS, (x_train, y_train, x_test, y_test), strict=True))
    validate(arrays, "keras.datasets.mnist")
    return Mnist(**arrays, source="keras.datasets.mnist", sha256="")


def load_mnist(
    path: str | os.PathLike[str] | None = None, *, allow_download: bool = True
) -> Mnist:
    """Load MNIST from the first place that has it.

    An explicit `path` or DIGITS_MNIST_PATH that is set but broken is an error,
    not silently skipped: the user asked for that file.
    """
    tried = []
    for index, candidate in enumerate(candidate_paths(path)):
        explicit = index == 0 and (path is not None or bool(os.environ.get(ENV_VAR)))
        if candidate.is_file():
            log.info("loading MNIST from %s", candidate)
            return _from_file(candidate)
        tried.append(str(candidate))
        if explicit:
            msg = f"MNIST file not found: {candidate}"
            raise DatasetNotFoundError(msg)
    if allow_download:
        return _from_keras()
    msg = "MNIST not found in " + ", ".join(tried)
    raise DatasetNotFoundError(msg)
