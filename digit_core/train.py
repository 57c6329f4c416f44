"""Train a digit CNN on MNIST with augmentation: the recipe behind every model.

Order, as in keras.io's mnist_convnet: load, build, compile, fit, evaluate.
A validation split taken from the training set chooses the best epoch; the test
set is only ever used for the final figures. Progress goes to a listener (the
command line's progress bar, or the app's job manager), a threading.Event stops
training after the current batch, and an optional checkpoint folder makes a
long run resumable after its process was killed.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digit_core import evaluation, samples
from digit_core import model as model_lib
from digit_core.augment import AugmentConfig, augment_batch
from digit_core.data import Mnist, load_mnist

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """A training recipe. Defaults train the `fast` preset for a classroom demo."""

    preset: str = "fast"  # see model.PRESETS
    epochs: int = 6  # fast reaches 99.1% MNIST test accuracy in 6 (measured)
    batch_size: int = 256  # on 2 CPU cores 256 runs an epoch ~1.6x faster than 128
    learning_rate: float = 4e-3  # peak of the warm-up + cosine schedule (Adam)
    warmup_epochs: float = 0.3  # linear warm-up; BN nets tolerate a short one
    validation_split: float = 0.1  # of the training set, for choosing the best epoch
    augment: bool = False  # slower to converge, much better on real handwriting
    train_size: int | None = None  # None: all 60,000 minus validation
    seed: int = 0  # shuffling, augmentation and weights
    split_seed: int = 0  # which images are validation; shared by ensemble members
    data_path: str | None = None  # MNIST .npz; None: see data.load_mnist
    init_model: str | None = None  # start from this .keras model's weights
    my_digits: str | None = None  # a "my digits" store (samples.py) to mix in
    # my_digits_weight: each of my digits is trained on this many times an epoch
    # (oversampling, not a loss weight: with `augment` every copy is distorted
    # anew); 10 makes 100 digits 2% of an MNIST epoch. 0: only measure them.
    my_digits_weight: float = 10.0
    augmentation: AugmentConfig = field(default_factory=AugmentConfig)


@dataclass(frozen=True, slots=True)
class EpochMetrics:
    epoch: int  # 1-based
    loss: float
    accuracy: float
    val_loss: float
    val_accuracy: float
    learning_rate: float
    seconds: float  # wall time of this epoch


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a running fit is: for progress bars and the app's live charts."""

    epoch: int  # 1-based, the epoch in progress
    epochs: int
    batch: int  # batches done in this epoch
    batches: int
    loss: float  # running mean over this epoch
    accuracy: float
    elapsed: float  # seconds since training started

    @property
    def fraction(self) -> float:
        done = (self.epoch - 1) * self.batches + self.batch
        return min(1.0, done / max(1, self.epochs * self.batches))

    @property
    def seconds_left(self) -> float | None:
        fraction = self.fraction
        return None if fraction <= 0 else self.elapsed * (1 - fraction) / fraction


@dataclass(frozen=True, slots=True)
class TrainResult:
    model: Any  # the Keras model with the best validation weights
    card: model_lib.ModelCard
    test_probabilities: NDArray[np.float32]  # (10000, 10), for galleries
    stopped: bool  # True when a stop request ended training early


class Listener:
    """Receives progress; subclass and override what you need. Called from the fit."""

    def on_progress(self, progress: Progress) -> None:
        """After every batch."""

    def on_epoch(self, metrics: EpochMetrics) -> None:
        """After every epoch, validation included."""


def split(
    mnist: Mnist, cfg: TrainConfig
) -> tuple[
    NDArray[np.float32], NDArray[np.uint8], NDArray[np.float32], NDArray[np.uint8]
]:
    """Training and validation arrays as float32 in [0, 1], split by `cfg.split_seed`.

    The validation images are never trained on; `train_size` then takes a subset
    of the rest for quick demos.
    """
    order = np.random.default_rng(cfg.split_seed).permutation(len(mnist.x_train))
    n_val = round(len(order) * cfg.validation_split)
    val, train = order[:n_val], order[n_val:]
    if cfg.train_size is not None:
        train = train[: cfg.train_size]
    x = mnist.x_train.astype(np.float32) / 255.0
    return x[train], mnist.y_train[train], x[val], mnist.y_train[val]


MY_DIGITS_HOLDOUT = 0.2  # of my digits, never trained on: they measure the model


def split_my_digits(
    cfg: TrainConfig,
) -> tuple[
    NDArray[np.float32], NDArray[np.uint8], NDArray[np.float32], NDArray[np.uint8]
]:
    """My digits to train on (each `my_digits_weight` times) and the held-out rest.

    The held-out part, drawn by `cfg.split_seed`, gives the model's accuracy on
    the user's own handwriting, apart from MNIST's. Weight 0 holds out all of
    them. Without `cfg.my_digits` all four arrays are empty.
    """
    if cfg.my_digits_weight < 0:
        msg = f"my_digits_weight must be 0 or more, not {cfg.my_digits_weight}"
        raise ValueError(msg)
    if cfg.my_digits is None:
        x, y = np.zeros((0, 28, 28), np.float32), np.zeros(0, np.uint8)
    else:
        x, y = samples.load_arrays(cfg.my_digits)
    order = np.random.default_rng(cfg.split_seed).permutation(len(x))
    held = len(x) if cfg.my_digits_weight == 0 else int(len(x) * MY_DIGITS_HOLDOUT)
    kept = order[held:]
    copies = np.resize(kept, round(len(kept) * cfg.my_digits_weight))
    return x[copies], y[copies], x[order[:held]], y[order[:held]]


@dataclass(frozen=True, slots=True)
class MyDigitsScore:
    """How a run used my digits; in the model card's `extra["my_digits"]`."""

    copies: int  # my digits trained on per epoch, repeats included
    held_out: int  # never trained on
    accuracy: float | None  # on the held-out ones; None when there were none


def _my_digits_extra(
    net: Any, cfg: TrainConfig, copies: int, x_held: NDArray, y_held: NDArray
) -> dict[str, Any]:
    if cfg.my_digits is None:
        return {}
    accuracy = (
        evaluation.evaluate(net, x_held, y_held).accuracy if len(y_held) else None
    )
    return {"my_digits": asdict(MyDigitsScore(copies, len(y_held), accuracy))}


def _batches(x: NDArray[np.float32], y: NDArray[np.uint8], cfg: TrainConfig) -> Any:
    """A Keras PyDataset of shuffled batches, distorted anew with `augment`.

    Two worker threads always: Keras then feeds the batches through its own
    queue with tf.data's autotuning off. Arrays, or a PyDataset without
    workers, go through tf.data's autotuned prefetching, whose iterator (on
    the TensorFlow backend) took up to 10 s, idle, to shut down at an epoch's
    end when other TensorFlow work had run in the process in the meantime (as
    bench.py's interleaved reference does), and 1-2 s now and then without:
    up to three times the fast preset's epoch.
    """
    import keras

    class Batches(keras.utils.PyDataset):
        def __init__(self) -> None:
            super().__init__(workers=2, use_multiprocessing=False)
            self.epoch = 0
            self.order = np.arange(len(x))
            self.on_epoch_end()

        def __len__(self) -> int:
            return math.ceil(len(x) / cfg.batch_size)

        def on_epoch_end(self) -> None:
            self.epoch += 1
            rng = np.random.default_rng([cfg.seed, self.epoch])
            self.order = rng.permutation(len(x))

        def __getitem__(self, index: int) -> tuple[Any, Any]:
            rows = self.order[index * cfg.batch_size : (index + 1) * cfg.batch_size]
            images, labels = x[rows], y[rows]
            if cfg.augment:
                rng = np.random.default_rng([cfg.seed, self.epoch, index])
                images, labels = augment_batch(images, labels, cfg.augmentation, rng)
            return images[..., None], labels.astype(np.int32)

    return Batches()


def _compile(net: Any, cfg: TrainConfig, steps_per_epoch: int) -> None:
    import keras

    total = max(1, cfg.epochs * steps_per_epoch)
    warmup = min(total - 1, round(cfg.warmup_epochs * steps_per_epoch))
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=cfg.learning_rate * 0.1,
        decay_steps=max(1, total - warmup),
        alpha=0.01,
        warmup_target=cfg.learning_rate,
        warmup_steps=warmup,
    )
    net.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )


def _callbacks(
    cfg: TrainConfig,
    listener: Listener,
    stop: threading.Event,
    checkpoint_dir: Path | None,
    history: list[EpochMetrics],
    best: dict[str, Any],
) -> list[Any]:
    import keras

    started = time.perf_counter()

    class Bridge(keras.callbacks.Callback):
        """Progress to the listener, stop requests in, best weights kept."""

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.epoch = epoch + 1
            self.epoch_started = time.perf_counter()
            self.batches_done = 0

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            self.batches_done = batch + 1
            logs = logs or {}
            listener.on_progress(
                Progress(
                    epoch=self.epoch,
                    epochs=cfg.epochs,
                    batch=batch + 1,
                    batches=self.params["steps"],
                    loss=float(logs.get("loss", math.nan)),
                    accuracy=float(logs.get("accuracy", math.nan)),
                    elapsed=time.perf_counter() - started,
                )
            )
            if stop.is_set():
                self.model.stop_training = True

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            if self.batches_done < self.params["steps"]:
                return  # a stop cut this epoch short: it is not a finished epoch
            logs = logs or {}
            optimizer = self.model.optimizer
            metrics = EpochMetrics(
                epoch=epoch + 1,
                loss=float(logs["loss"]),
                accuracy=float(logs["accuracy"]),
                val_loss=float(logs.get("val_loss", math.nan)),
                val_accuracy=float(logs.get("val_accuracy", math.nan)),
                learning_rate=float(optimizer.learning_rate),
                seconds=time.perf_counter() - self.epoch_started,
            )
            history.append(metrics)
            # without validation data val_accuracy is NaN: then the latest is best
            score = metrics.val_accuracy
            if math.isnan(score) or score > best.get("val_accuracy", -1.0):
                best.update(
                    val_accuracy=metrics.val_accuracy,
                    epoch=metrics.epoch,
                    weights=self.model.get_weights(),
                )
            if checkpoint_dir is not None:
                _save_checkpoint(self.model, checkpoint_dir, cfg, history, best)
            listener.on_epoch(metrics)

    return [Bridge()]


STATE = "state.json"
LAST = "last.keras"  # full model with optimiser state, for resuming
BEST = "best.weights.h5"


def _config_key(cfg: TrainConfig) -> str:
    return json.dumps(asdict(cfg), sort_keys=True)


def _save_checkpoint(
    net: Any,
    folder: Path,
    cfg: TrainConfig,
    history: list[EpochMetrics],
    best: dict[str, Any],
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    net.save(folder / f"{LAST}.partial.keras")
    os.replace(folder / f"{LAST}.partial.keras", folder / LAST)
    if best.get("epoch") == history[-1].epoch:
        net.save_weights(folder / f"{BEST}.partial.weights.h5")
        os.replace(folder / f"{BEST}.partial.weights.h5", folder / BEST)
    state = {
        "config": _config_key(cfg),
        "history": [asdict(m) for m in history],
        "best_epoch": best.get("epoch"),
        "best_val_accuracy": best.get("val_accuracy"),
    }
    (folder / f"{STATE}.partial").write_text(json.dumps(state, indent=1))
    os.replace(folder / f"{STATE}.partial", folder / STATE)


def _resume(
    folder: Path, cfg: TrainConfig, history: list[EpochMetrics], best: dict[str, Any]
) -> Any | None:
    """The checkpointed model if `folder` holds a run of the same recipe, else None."""
    import keras

    state_file = folder / STATE
    if not state_file.is_file() or not (folder / LAST).is_file():
        return None
    state = json.loads(state_file.read_text())
    if state["config"] != _config_key(cfg):
        log.warning("checkpoint in %s is for another recipe; starting afresh", folder)
        return None
    net = keras.models.load_model(folder / LAST)
    history.extend(EpochMetrics(**m) for m in state["history"])
    if state.get("best_epoch") and (folder / BEST).is_file():
        best_net = model_lib.build(cfg.preset)
        best_net.load_weights(folder / BEST)
        best.update(
            epoch=state["best_epoch"],
            val_accuracy=state["best_val_accuracy"],
            weights=best_net.get_weights(),
        )
    log.info("resuming from epoch %d in %s", len(history), folder)
    return net


def train(
    cfg: TrainConfig,
    *,
    mnist: Mnist | None = None,
    listener: Listener | None = None,
    stop: threading.Event | None = None,
    checkpoint_dir: Path | None = None,
    name: str = "",
) -> TrainResult:
    """Train a model by `cfg`; returns the best-validation model and its card.

    A set `stop` event ends training after the current batch; the best epoch
    so far is kept (or the current weights, if no epoch finished).
    """
    import keras

    listener = listener or Listener()
    stop = stop or threading.Event()
    mnist = mnist or load_mnist(cfg.data_path)
    keras.utils.set_random_seed(cfg.seed)
    x_train, y_train, x_val, y_val = split(mnist, cfg)
    x_mine, y_mine, x_held, y_held = split_my_digits(cfg)
    if len(y_mine):
        x_train = np.concatenate([x_train, x_mine])
        y_train = np.concatenate([y_train, y_mine])
    batches = _batches(x_train, y_train, cfg)

    history: list[EpochMetrics] = []
    best: dict[str, Any] = {}
    net = _resume(checkpoint_dir, cfg, history, best) if checkpoint_dir else None
    if net is None:
        net = model_lib.build(cfg.preset)
        if cfg.init_model:
            net.set_weights(model_lib.load(cfg.init_model).get_weights())
        _compile(net, cfg, len(batches))
    started = time.perf_counter()
    if len(history) < cfg.epochs and not stop.is_set():
        net.fit(
            batches,
            epochs=cfg.epochs,
            initial_epoch=len(history),
            validation_data=(x_val[..., None], y_val.astype(np.int32))
            if len(x_val)
            else None,
            callbacks=_callbacks(cfg, listener, stop, checkpoint_dir, history, best),
            verbose=0,
        )
    if "weights" in best:
        net.set_weights(best["weights"])

    x_test = mnist.x_test.astype(np.float32) / 255.0
    probabilities = model_lib.predict(net, x_test)
    scores = evaluation.score(probabilities, mnist.y_test)
    card = model_lib.ModelCard(
        name=name or f"{cfg.preset}-{datetime.now(UTC):%Y%m%d-%H%M%S}",
        preset=cfg.preset,
        params=int(net.count_params()),
        architecture=model_lib.layer_table(net),
        training={
            **asdict(cfg),
            "best_epoch": best.get("epoch"),
            "best_val_accuracy": best.get("val_accuracy"),
            "train_images": len(x_train),
            "validation_images": len(x_val),
            "seconds": round(sum(m.seconds for m in history), 1),
            "wall_seconds_this_process": round(time.perf_counter() - started, 1),
        },
        dataset={"source": mnist.source, "sha256": mnist.sha256},
        test_accuracy=scores.accuracy,
        per_class_accuracy=scores.per_class_accuracy,
        confusion_matrix=scores.confusion,
        history=tuple(asdict(m) for m in history),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        extra=_my_digits_extra(net, cfg, len(y_mine), x_held, y_held),
    )
    return TrainResult(net, card, probabilities, stopped=stop.is_set())
