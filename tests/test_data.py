"""digit_core.data: where MNIST is looked for, in which order, and what is accepted.

Order: an explicit path; $DIGITS_MNIST_PATH; data/mnist.npz; the Keras download.
Small fake files stand in for MNIST: the expected sizes are shrunk to match.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from digit_core import data
from digit_core.errors import DatasetNotFoundError

TRAIN, TEST = 12, 4  # sizes of the fake MNIST files
SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist.npz"
README_SHA256 = "67ca12216ee159b904710da45ea19fb6a097ac4b2e3dd078c11489b8c6527e8b"
README_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def fake_arrays(marker: int = 1) -> dict[str, np.ndarray]:
    """Valid MNIST-shaped arrays, TRAIN and TEST long; x_test[0, 0, 0] = marker."""
    rng = np.random.default_rng(marker)
    arrays = {
        "x_train": rng.integers(0, 256, (TRAIN, 28, 28), dtype=np.uint8),
        "y_train": np.arange(TRAIN, dtype=np.uint8) % 10,
        "x_test": rng.integers(0, 256, (TEST, 28, 28), dtype=np.uint8),
        "y_test": np.arange(TEST, dtype=np.uint8) % 10,
    }
    arrays["x_test"][0, 0, 0] = marker
    return arrays


def write(path, **arrays):
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        np.savez(handle, **arrays)
    return path


@pytest.fixture
def places(tmp_path, monkeypatch):
    """Shrunk sizes, no env var, data/mnist.npz in tmp_path, a download that fails."""
    monkeypatch.setattr(data, "TRAIN_SIZE", TRAIN)
    monkeypatch.setattr(data, "TEST_SIZE", TEST)
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    monkeypatch.setattr(data, "LOCAL_PATH", tmp_path / "data" / "mnist.npz")
    import keras

    def offline(*args, **kwargs):
        msg = "no internet here"
        raise OSError(msg)

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    return tmp_path


def marker(mnist: data.Mnist) -> int:
    return int(mnist.x_test[0, 0, 0])


# order


def test_explicit_path_comes_first(places, monkeypatch):
    explicit = write(places / "explicit.npz", **fake_arrays(1))
    env = write(places / "env.npz", **fake_arrays(2))
    write(data.LOCAL_PATH, **fake_arrays(3))
    monkeypatch.setenv(data.ENV_VAR, str(env))
    loaded = data.load_mnist(explicit)
    assert marker(loaded) == 1 and loaded.source == str(explicit)


def test_env_var_comes_second(places, monkeypatch):
    env = write(places / "env.npz", **fake_arrays(2))
    write(data.LOCAL_PATH, **fake_arrays(3))
    monkeypatch.setenv(data.ENV_VAR, str(env))
    assert marker(data.load_mnist()) == 2


def test_local_file_comes_third(places):
    write(data.LOCAL_PATH, **fake_arrays(3))
    loaded = data.load_mnist()
    assert marker(loaded) == 3 and loaded.source == str(data.LOCAL_PATH)


def test_download_comes_last(places, monkeypatch):
    import keras

    arrays = fake_arrays(4)
    monkeypatch.setattr(
        keras.datasets.mnist,
        "load_data",
        lambda: (
            (arrays["x_train"], arrays["y_train"]),
            (arrays["x_test"], arrays["y_test"]),
        ),
    )
    loaded = data.load_mnist()
    assert marker(loaded) == 4
    assert loaded.source == "keras.datasets.mnist" and loaded.sha256 == ""


def test_failed_download_says_how_to_provide_the_file(places):
    with pytest.raises(DatasetNotFoundError) as failed:
        data.load_mnist()
    message = failed.value.user_message
    assert "DIGITS_MNIST_PATH" in message and "data/" in message
    assert "mnist.npz" in message
    assert "no internet here" in str(failed.value)  # the detail, for logs


def test_no_download_when_not_allowed(places):
    with pytest.raises(DatasetNotFoundError) as failed:
        data.load_mnist(allow_download=False)
    assert str(data.LOCAL_PATH) in str(failed.value)


def test_a_named_file_that_is_missing_is_an_error(places, monkeypatch):
    write(data.LOCAL_PATH, **fake_arrays(3))  # would be found, but was not asked for
    with pytest.raises(DatasetNotFoundError, match="not found"):
        data.load_mnist(places / "typo.npz")
    monkeypatch.setenv(data.ENV_VAR, str(places / "typo.npz"))
    with pytest.raises(DatasetNotFoundError, match="not found"):
        data.load_mnist()


def test_sha256_of_the_file(places):
    path = write(places / "m.npz", **fake_arrays())
    assert data.load_mnist(path).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


# validation


def broken(change: str) -> dict[str, np.ndarray]:
    arrays = fake_arrays()
    if change == "missing-key":
        del arrays["y_test"]
    elif change == "train-shape":
        arrays["x_train"] = arrays["x_train"][:, :27]
    elif change == "test-count":
        arrays["y_test"] = arrays["y_test"][:-1]
    elif change == "float-images":
        arrays["x_train"] = arrays["x_train"].astype(np.float32) / 255
    elif change == "float-labels":
        arrays["y_test"] = arrays["y_test"].astype(np.float32)
    elif change == "label-10":
        arrays["y_train"] = arrays["y_train"] + 1
    elif change == "negative-label":
        arrays["y_test"] = arrays["y_test"].astype(np.int8) - 1
    return arrays


@pytest.mark.parametrize(
    "change",
    [
        "missing-key",
        "train-shape",
        "test-count",
        "float-images",
        "float-labels",
        "label-10",
        "negative-label",
    ],
)
def test_wrong_arrays_are_refused(places, change):
    path = write(places / f"{change}.npz", **broken(change))
    with pytest.raises(DatasetNotFoundError) as refused:
        data.load_mnist(path)
    assert str(path) in str(refused.value)


@pytest.mark.parametrize("content", [b"", b"plain text, not npz"])
def test_unreadable_files_are_refused(places, content):
    path = places / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(DatasetNotFoundError):
        data.load_mnist(path)


def test_a_cut_off_npz_is_refused(places):
    """A download that stopped half way: a zip archive missing its end."""
    whole = write(places / "whole.npz", **fake_arrays()).read_bytes()
    path = places / "cut.npz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DatasetNotFoundError):
        data.load_mnist(path)


def test_wide_integer_labels_become_uint8(places):
    arrays = fake_arrays()
    arrays["y_train"] = arrays["y_train"].astype(np.int64)
    loaded = data.load_mnist(write(places / "m.npz", **arrays))
    assert loaded.y_train.dtype == np.uint8
    np.testing.assert_array_equal(loaded.y_train, arrays["y_train"])


# the real file


def test_real_mnist_matches_its_readme(mnist):
    assert mnist.x_train.shape == (60_000, 28, 28) and mnist.x_train.dtype == np.uint8
    assert mnist.x_test.shape == (10_000, 28, 28) and mnist.y_test.shape == (10_000,)
    assert np.bincount(mnist.y_train, minlength=10).tolist() == README_TRAIN_COUNTS
    assert mnist.x_test.max() == 255 and mnist.x_test.min() == 0
    if Path(mnist.source).resolve() == SHARED_MNIST.resolve():
        assert mnist.sha256 == README_SHA256
