"""digit_core.train with "my digits": mixing them in, holding some out, reporting.

The training here is the `fast` preset on 1,000 MNIST images for one epoch:
it checks the plumbing, not the accuracy.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from digit_core import model as model_lib
from digit_core import samples
from digit_core.errors import SamplesError
from digit_core.train import MY_DIGITS_HOLDOUT, TrainConfig, split_my_digits

COUNT = 20  # my digits in the store: 4 held out at MY_DIGITS_HOLDOUT = 0.2


@pytest.fixture
def store_path(mnist, tmp_path: Path) -> Path:
    """A store of the first COUNT MNIST test digits, as if the user had saved them."""
    store = samples.SampleStore(tmp_path / "mine.sqlite")
    for i in range(COUNT):
        digit = mnist.x_test[i]
        image = samples.crop_png(digit, (0, 0, 28, 28), (28, 28))
        store.add(samples.sample(image, digit / 255, int(mnist.y_test[i])))
    return store.path


def rows(x: np.ndarray) -> set[bytes]:
    return {image.tobytes() for image in x}


def test_without_my_digits_nothing_is_added():
    x_mine, y_mine, x_held, y_held = split_my_digits(TrainConfig())
    assert x_mine.shape == (0, 28, 28) and x_held.shape == (0, 28, 28)
    assert len(y_mine) == len(y_held) == 0


def test_some_are_held_out_and_the_rest_repeated_by_the_weight(store_path):
    cfg = TrainConfig(my_digits=str(store_path), my_digits_weight=2.5)
    x_mine, y_mine, x_held, y_held = split_my_digits(cfg)
    held = int(COUNT * MY_DIGITS_HOLDOUT)
    assert len(x_held) == len(y_held) == held
    assert len(x_mine) == len(y_mine) == round((COUNT - held) * 2.5)
    assert x_mine.dtype == np.float32 and y_mine.dtype == np.uint8
    assert len(rows(x_mine)) == COUNT - held  # every kept digit, 2 or 3 times
    _, repeats = np.unique([image.tobytes() for image in x_mine], return_counts=True)
    assert set(repeats) <= {2, 3}
    assert not rows(x_mine) & rows(x_held)  # never trained on what measures it


def test_the_holdout_follows_the_split_seed(store_path):
    cfg = TrainConfig(my_digits=str(store_path))
    assert rows(split_my_digits(cfg)[2]) == rows(split_my_digits(cfg)[2])
    other = split_my_digits(replace(cfg, split_seed=1))[2]
    assert rows(other) != rows(split_my_digits(cfg)[2])


def test_weight_zero_only_measures(store_path):
    cfg = TrainConfig(my_digits=str(store_path), my_digits_weight=0)
    x_mine, _, x_held, _ = split_my_digits(cfg)
    assert len(x_mine) == 0 and len(x_held) == COUNT


def test_a_negative_weight_or_a_missing_store_is_refused(tmp_path):
    with pytest.raises(ValueError, match="my_digits_weight"):
        split_my_digits(TrainConfig(my_digits_weight=-1))
    with pytest.raises(SamplesError):
        split_my_digits(TrainConfig(my_digits=str(tmp_path / "typo.sqlite")))


def test_train_script_mixes_my_digits_in_and_reports_them(
    mnist, store_path, tmp_path, capsys
):
    from scripts import train as train_script

    out = tmp_path / "mine.keras"
    code = train_script.main(
        [
            *("--preset", "fast", "--epochs", "1", "--train-size", "1000"),
            *("--validation-split", "0.02", "--data-path", mnist.source),
            *("--my-digits", str(store_path), "--my-digits-weight", "5"),
            *("--out", str(out)),
        ]
    )
    assert code == 0
    card = model_lib.load_card(out)
    assert card is not None
    held = int(COUNT * MY_DIGITS_HOLDOUT)
    report = card.extra["my_digits"]
    assert report["held_out"] == held and report["copies"] == (COUNT - held) * 5
    assert 0.0 <= report["accuracy"] <= 1.0
    assert card.training["train_images"] == 1000 + (COUNT - held) * 5
    assert card.training["my_digits"] == str(store_path)
    assert card.training["my_digits_weight"] == 5.0
    assert "my digits accuracy" in capsys.readouterr().out


def test_train_script_reports_a_missing_store(mnist, tmp_path, capsys):
    from scripts import train as train_script

    code = train_script.main(
        [
            *("--data-path", mnist.source, "--train-size", "100"),
            *("--my-digits", str(tmp_path / "typo.sqlite")),
            *("--out", str(tmp_path / "m.keras")),
        ]
    )
    assert code == 1
    assert "my digits" in capsys.readouterr().err
    assert not (tmp_path / "m.keras").exists()


def test_train_script_help_lists_the_my_digits_options(capsys):
    from scripts import train as train_script

    with pytest.raises(SystemExit):
        train_script.main(["--help"])
    text = capsys.readouterr().out
    assert "--my-digits" in text and "--my-digits-weight" in text
