"""digit_core.model: architectures, save/load, and the model card beside a model."""

from __future__ import annotations

import os
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from digit_core import evaluation
from digit_core import model as model_lib
from digit_core.errors import ModelLoadError
from digit_core.model import ModelCard

MAX_FILE_SIZE = 5_000_000  # issue 3: keep the bundled model under 5 MB


def random_inputs(count: int = 16, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.random((count, 28, 28)).astype(np.float32)


def card_for(net, **changes) -> ModelCard:
    """A small but complete card for `net`, for save/load tests."""
    confusion = tuple(
        tuple(1000 if i == j else 0 for j in range(10)) for i in range(10)
    )
    card = ModelCard(
        name="test",
        preset=net.name,
        params=int(net.count_params()),
        architecture=model_lib.layer_table(net),
        training={"epochs": 0},
        dataset={"source": "none", "sha256": ""},
        test_accuracy=1.0,
        per_class_accuracy=(1.0,) * 10,
        confusion_matrix=confusion,
        history=({"epoch": 1, "loss": 0.5},),
        created="2026-01-01T00:00:00+00:00",
    )
    return replace(card, **changes)


# architectures


@pytest.mark.parametrize("preset", model_lib.PRESETS)
def test_every_preset_maps_images_to_ten_probabilities(preset):
    net = model_lib.build(preset)
    assert tuple(net.input_shape) == (None, 28, 28, 1)
    assert tuple(net.output_shape) == (None, 10)
    probabilities = model_lib.predict(net, random_inputs())
    assert probabilities.shape == (16, 10)
    assert probabilities.dtype == np.float32
    assert (probabilities >= 0).all()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_unknown_preset_is_refused():
    with pytest.raises(ValueError, match="preset"):
        model_lib.build("huge")


def test_predict_accepts_both_input_layouts_and_nothing():
    net = model_lib.build("fast")
    x = random_inputs(5)
    np.testing.assert_allclose(
        model_lib.predict(net, x), model_lib.predict(net, x[..., None]), atol=1e-6
    )
    assert model_lib.predict(net, x[:0]).shape == (0, 10)


def test_predict_in_batches_matches_one_batch():
    net = model_lib.build("fast")
    x = random_inputs(37)
    np.testing.assert_allclose(
        model_lib.predict(net, x, batch_size=8),
        model_lib.predict(net, x, batch_size=1024),
        atol=1e-5,
    )


def test_layer_table_lists_every_layer():
    net = model_lib.build("fast")
    table = model_lib.layer_table(net)
    assert len(table) == len(net.layers)
    assert sum(row.params for row in table) == net.count_params()
    assert table[-1].output_shape == (None, 10)


# save and load


@pytest.mark.parametrize("preset", ["fast", "reference"])
def test_save_load_round_trip_gives_identical_predictions(preset, tmp_path):
    net = model_lib.build(preset)
    path = tmp_path / "model.keras"
    card = model_lib.save(net, path, card_for(net))
    loaded = model_lib.load(path)
    x = random_inputs()
    np.testing.assert_array_equal(
        model_lib.predict(loaded, x), model_lib.predict(net, x)
    )
    assert card is not None and card.file_size == path.stat().st_size
    assert model_lib.load_card(path) == card
    assert model_lib.card_path(path) == tmp_path / "model.json"
    assert not list(tmp_path.glob("*partial*"))


def test_save_without_card_writes_only_the_model(tmp_path):
    net = model_lib.build("fast")
    assert model_lib.save(net, tmp_path / "m.keras") is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.keras"]
    assert model_lib.load_card(tmp_path / "m.keras") is None


def test_saved_files_are_readable_by_others(tmp_path):
    """A model written by training is served by the app, maybe as another user."""
    old = os.umask(0o022)
    try:
        net = model_lib.build("fast")
        model_lib.save(net, tmp_path / "m.keras", card_for(net))
    finally:
        os.umask(old)
    for name in ("m.keras", "m.json"):
        mode = (tmp_path / name).stat().st_mode & 0o777
        assert mode & 0o044 == 0o044, f"{name} has mode {oct(mode)}"


def test_interrupted_save_leaves_the_old_model(tmp_path, monkeypatch):
    """Ctrl-C in the middle of writing: the old file stays whole, no partial is left."""
    import keras

    net = model_lib.build("fast")
    path = tmp_path / "m.keras"
    model_lib.save(net, path)
    before = path.read_bytes()

    def half_write(self, filepath, *args, **kwargs):
        Path(filepath).write_bytes(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt

    monkeypatch.setattr(keras.Model, "save", half_write)
    with pytest.raises(KeyboardInterrupt):
        model_lib.save(net, path, card_for(net))
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.keras"]


# damaged files


@pytest.fixture(scope="module")
def good_model_bytes(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("good") / "m.keras"
    model_lib.save(model_lib.build("fast"), path)
    return path.read_bytes()


def damaged(kind: str, good: bytes, folder: Path) -> Path:
    path = folder / "damaged.keras"
    rng = np.random.default_rng(0)
    if kind == "random bytes":
        path.write_bytes(rng.bytes(4096))
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif kind == "flipped bytes":
        data = bytearray(good)
        for index in rng.integers(len(data) // 4, len(data), 64):
            data[index] ^= 0xFF
        path.write_bytes(bytes(data))
    elif kind == "zip of text":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("config.json", "{not json")
    elif kind == "a folder":
        path.mkdir()
    elif kind == "missing":
        pass
    else:
        raise AssertionError(kind)
    return path


DAMAGE = [
    "random bytes",
    "empty",
    "truncated",
    "flipped bytes",
    "zip of text",
    "a folder",
    "missing",
]


@pytest.mark.parametrize("kind", DAMAGE)
def test_damaged_model_file_raises_model_load_error(kind, good_model_bytes, tmp_path):
    path = damaged(kind, good_model_bytes, tmp_path)
    with pytest.raises(ModelLoadError) as info:
        model_lib.load(path)
    assert info.value.user_message


def test_a_model_that_is_not_a_digit_model_is_refused(tmp_path):
    import keras

    other = keras.Sequential([keras.Input((10,)), keras.layers.Dense(3)])
    path = tmp_path / "other.keras"
    other.save(path)
    with pytest.raises(ModelLoadError):
        model_lib.load(path)


@pytest.mark.parametrize("text", ["", "{", "[]", '{"name": "x"}'])
def test_unreadable_card_is_none(text, tmp_path):
    (tmp_path / "m.json").write_text(text)
    assert model_lib.load_card(tmp_path / "m.keras") is None


# the card beside the model under test


@pytest.fixture(scope="module")
def loaded(model_path):
    return model_lib.load(model_path)


@pytest.fixture(scope="module")
def card(model_path) -> ModelCard:
    found = model_lib.load_card(model_path)
    assert found is not None, f"no readable model card beside {model_path}"
    return found


def test_card_describes_the_model(card, loaded):
    assert card.params == loaded.count_params()
    assert len(card.architecture) == len(loaded.layers)
    assert [row.kind for row in card.architecture] == [
        type(layer).__name__ for layer in loaded.layers
    ]
    assert [row.params for row in card.architecture] == [
        layer.count_params() for layer in loaded.layers
    ]
    assert card.preset in model_lib.PRESETS
    assert card.architecture == model_lib.layer_table(loaded)


def test_card_figures_are_consistent(card, mnist):
    confusion = np.array(card.confusion_matrix)
    assert confusion.shape == (10, 10)
    assert confusion.sum() == 10_000
    assert (confusion >= 0).all()
    np.testing.assert_array_equal(confusion.sum(axis=1), np.bincount(mnist.y_test))
    assert card.test_accuracy == pytest.approx(np.trace(confusion) / 10_000, abs=1e-12)
    assert len(card.per_class_accuracy) == 10
    np.testing.assert_allclose(
        card.per_class_accuracy, np.diag(confusion) / confusion.sum(axis=1), atol=1e-9
    )
    assert card.history and all("val_accuracy" in epoch for epoch in card.history)


def test_card_file_size_and_dataset(card, model_path, mnist):
    assert card.file_size == model_path.stat().st_size
    assert card.file_size < MAX_FILE_SIZE
    if card.dataset.get("sha256"):
        assert card.dataset["sha256"] == mnist.sha256
    assert card.keras_version


def test_card_accuracy_is_the_models(card, loaded, mnist):
    """Evaluating the model again gives the card's confusion matrix (no stale card)."""
    scores = evaluation.evaluate(
        loaded, mnist.x_test.astype(np.float32) / 255, mnist.y_test
    )
    differing = np.abs(
        np.array(scores.confusion) - np.array(card.confusion_matrix)
    ).sum()
    assert differing <= 4  # two images may flip on another CPU's float rounding
    assert scores.accuracy == pytest.approx(card.test_accuracy, abs=2e-4)
