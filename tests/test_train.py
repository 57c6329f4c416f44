"""digit_core.train and scripts/train.py: tiny trainings, stopping, saving, resuming.

Every training here is the `fast` preset on ~2000 images for an epoch or two:
these check the machinery, not the accuracy.
"""

from __future__ import annotations

import shutil
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from digit_core import model as model_lib
from digit_core.model import ModelCard
from digit_core.train import (
    EpochMetrics,
    Listener,
    Progress,
    TrainConfig,
    TrainResult,
    split,
    train,
)

TINY = TrainConfig(
    preset="fast", epochs=1, train_size=2000, validation_split=0.02, batch_size=128
)
BATCHES = 16  # ceil(2000 / 128)


class Recorder(Listener):
    """Keeps every progress report and finished epoch; can stop or crash on cue."""

    def __init__(
        self,
        stop: threading.Event | None = None,
        stop_after_batches: int | None = None,
        crash_after_epoch: int | None = None,
    ) -> None:
        self.progress: list[Progress] = []
        self.epochs: list[EpochMetrics] = []
        self.stop = stop
        self.stop_after_batches = stop_after_batches
        self.crash_after_epoch = crash_after_epoch

    def on_progress(self, progress: Progress) -> None:
        self.progress.append(progress)
        if self.stop is not None and len(self.progress) == self.stop_after_batches:
            self.stop.set()

    def on_epoch(self, metrics: EpochMetrics) -> None:
        self.epochs.append(metrics)
        if metrics.epoch == self.crash_after_epoch:
            raise Killed


class Killed(Exception):
    """Stands in for the process being killed right after a checkpoint."""


@pytest.fixture(scope="module")
def tiny(mnist) -> tuple[TrainResult, Recorder]:
    recorder = Recorder()
    return train(TINY, mnist=mnist, listener=recorder, name="tiny"), recorder


def test_tiny_training_returns_a_model_and_its_card(tiny):
    result, _ = tiny
    card = result.card
    assert isinstance(card, ModelCard)
    assert not result.stopped
    assert card.name == "tiny" and card.preset == "fast"
    assert card.params == result.model.count_params()
    assert len(card.history) == 1
    confusion = np.array(card.confusion_matrix)
    assert confusion.shape == (10, 10) and confusion.sum() == 10_000
    assert card.test_accuracy == pytest.approx(np.trace(confusion) / 10_000)
    assert result.test_probabilities.shape == (10_000, 10)
    np.testing.assert_allclose(result.test_probabilities.sum(axis=1), 1.0, atol=1e-4)
    assert card.training["train_images"] == 2000
    assert card.training["best_epoch"] == 1
    assert card.dataset["sha256"]


def test_tiny_training_learns_something(tiny):
    """Better than chance after 16 batches; the test set only measures."""
    result, _ = tiny
    assert result.card.test_accuracy > 0.5


def test_progress_reaches_the_listener(tiny):
    _, recorder = tiny
    assert len(recorder.progress) == BATCHES
    fractions = [p.fraction for p in recorder.progress]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert all(p.batches == BATCHES and p.epochs == 1 for p in recorder.progress)
    assert [m.epoch for m in recorder.epochs] == [1]
    metrics = recorder.epochs[0]
    assert 0.0 <= metrics.accuracy <= 1.0 and 0.0 <= metrics.val_accuracy <= 1.0
    assert metrics.seconds > 0


def test_validation_never_overlaps_training(mnist):
    cfg = TrainConfig(validation_split=0.1, train_size=None)
    x_train, _, x_val, _ = split(mnist, cfg)
    assert len(x_train) + len(x_val) == len(mnist.x_train)
    train_rows = {row.tobytes() for row in (x_train[:3000] * 255).astype(np.uint8)}
    val_rows = {row.tobytes() for row in (x_val * 255).astype(np.uint8)}
    assert len(train_rows & val_rows) <= 5  # MNIST itself holds a few duplicates


def test_a_set_stop_event_ends_training_early(mnist):
    stop = threading.Event()
    recorder = Recorder(stop=stop, stop_after_batches=3)
    result = train(replace(TINY, epochs=3), mnist=mnist, listener=recorder, stop=stop)
    assert result.stopped
    assert len(recorder.progress) < BATCHES  # far from 3 epochs of 16 batches
    assert isinstance(result.card, ModelCard)
    # the unfinished epoch is not reported as finished
    assert len(result.card.history) == 0, result.card.history


def test_stop_before_start_trains_nothing(mnist):
    stop = threading.Event()
    stop.set()
    recorder = Recorder()
    result = train(TINY, mnist=mnist, listener=recorder, stop=stop)
    assert result.stopped
    assert recorder.progress == [] and result.card.history == ()


@pytest.fixture(scope="module")
def killed_run(mnist, tmp_path_factory) -> tuple[Path, Recorder]:
    """The checkpoint folder of a 2-epoch run killed right after epoch 1."""
    folder = tmp_path_factory.mktemp("killed") / "ckpt"
    first = Recorder(crash_after_epoch=1)
    with pytest.raises(Killed):
        train(
            replace(TINY, epochs=2), mnist=mnist, listener=first, checkpoint_dir=folder
        )
    assert (folder / "state.json").is_file()
    return folder, first


def test_resume_from_checkpoint_continues(mnist, killed_run, tmp_path):
    """A run killed after epoch 1 resumes at epoch 2 rather than starting again."""
    folder = tmp_path / "ckpt"
    shutil.copytree(killed_run[0], folder)
    second = Recorder()
    cfg = replace(TINY, epochs=2)
    result = train(cfg, mnist=mnist, listener=second, checkpoint_dir=folder)
    assert [m.epoch for m in second.epochs] == [2]  # only the missing epoch ran
    assert len(second.progress) == BATCHES
    assert len(result.card.history) == 2
    assert result.card.history[0]["loss"] == pytest.approx(killed_run[1].epochs[0].loss)
    assert result.card.history[1]["epoch"] == 2


def test_a_checkpoint_of_another_recipe_is_not_resumed(mnist, killed_run, tmp_path):
    folder = tmp_path / "ckpt"
    shutil.copytree(killed_run[0], folder)
    recorder = Recorder()
    other = replace(TINY, epochs=2, seed=1)
    result = train(other, mnist=mnist, listener=recorder, checkpoint_dir=folder)
    assert [m.epoch for m in recorder.epochs] == [1, 2]  # started afresh
    assert len(result.card.history) == 2


# the command line


def test_train_script_writes_model_and_card_atomically(mnist, tmp_path, capsys):
    from scripts import train as train_script

    out = tmp_path / "out" / "digits.keras"
    code = train_script.main(
        [
            "--preset",
            "fast",
            "--epochs",
            "1",
            "--train-size",
            "1000",
            "--validation-split",
            "0.02",
            "--data-path",
            mnist.source,
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert sorted(p.name for p in out.parent.iterdir()) == [
        "digits.json",
        "digits.keras",
    ]
    assert not list(tmp_path.rglob("*partial*"))
    net = model_lib.load(out)
    card = model_lib.load_card(out)
    assert card is not None
    assert card.file_size == out.stat().st_size
    assert card.params == net.count_params()
    assert "test accuracy" in capsys.readouterr().out


def test_train_script_reports_missing_data(tmp_path, capsys):
    from scripts import train as train_script

    code = train_script.main(
        ["--data-path", str(tmp_path / "none.npz"), "--out", str(tmp_path / "m.keras")]
    )
    assert code == 1
    assert "MNIST" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_train_script_help_lists_every_option(capsys):
    from scripts import train as train_script

    with pytest.raises(SystemExit) as info:
        train_script.main(["--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for option in (
        "--preset",
        "--epochs",
        "--batch-size",
        "--learning-rate",
        "--validation-split",
        "--augment",
        "--train-size",
        "--seed",
        "--data-path",
        "--out",
    ):
        assert option in text
