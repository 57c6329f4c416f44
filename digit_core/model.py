"""CNN architectures, and saving and loading models with their JSON model card.

Presets:
- ``standard``: the bundled model. Conv-BN blocks with a learned strided 5x5
  downsampling in place of max-pooling (after C. Deotte's MNIST study, which
  reached 99.7% with this design and augmentation); 327k parameters, 1.3 MB.
- ``fast``: one-click retraining in class: keras.io's convnet with half the
  channels and a hidden dense layer; 99.1% in 6 epochs of batch 256, about a
  quarter of the time the reference needs for 99.0% on 2 CPU cores.
- ``reference``: keras.io's ``mnist_convnet`` example, the yardstick in bench.py.

Every model takes (N, 28, 28, 1) float32 in [0, 1], ink high, and returns
(N, 10) softmax probabilities.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from digit_core.errors import ModelLoadError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_MODEL = PROJECT_ROOT / "models" / "digits.keras"
INPUT_SHAPE = (28, 28, 1)
PRESETS = ("standard", "fast", "reference")


def build(preset: str = "standard") -> Any:
    """A fresh, uncompiled Keras model for `preset` (see the module docstring)."""
    import keras
    from keras import layers

    def conv_bn(filters: int, kernel: int, strides: int = 1) -> list[Any]:
        padding = "same" if strides > 1 else "valid"
        return [
            layers.Conv2D(filters, kernel, strides, padding, use_bias=False),
            layers.BatchNormalization(),
            layers.ReLU(),
        ]

    if preset == "standard":
        stack = [
            *conv_bn(32, 3),  # 26x26
            *conv_bn(32, 3),  # 24x24
            *conv_bn(32, 5, strides=2),  # 12x12
            layers.Dropout(0.4),
            *conv_bn(64, 3),  # 10x10
            *conv_bn(64, 3),  # 8x8
            *conv_bn(64, 5, strides=2),  # 4x4
            layers.Dropout(0.4),
            *conv_bn(128, 4),  # 1x1
            layers.Flatten(),
            layers.Dropout(0.4),
            layers.Dense(10, activation="softmax"),
        ]
    elif preset == "fast":
        # keras.io's convnet at half the channels (4x fewer multiply-adds in the
        # costly second convolution) and a hidden dense layer; no batch norm: on
        # CPU it costs more than the convolutions it speeds up
        stack = [
            layers.Conv2D(16, 3, activation="relu"),  # 26x26
            layers.MaxPooling2D(2),  # 13x13
            layers.Conv2D(32, 3, activation="relu"),  # 11x11
            layers.MaxPooling2D(2),  # 5x5
            layers.Flatten(),
            layers.Dropout(0.25),
            layers.Dense(128, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    elif preset == "reference":
        stack = [
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    else:
        msg = f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}"
        raise ValueError(msg)
    return keras.Sequential([keras.Input(INPUT_SHAPE), *stack], name=preset)


@dataclass(frozen=True, slots=True)
class LayerInfo:
    name: str
    kind: str
    output_shape: tuple[int | None, ...]
    params: int


def layer_table(model: Any) -> tuple[LayerInfo, ...]:
    """One row per layer: name, type, output shape, parameter count."""
    return tuple(
        LayerInfo(
            name=layer.name,
            kind=type(layer).__name__,
            output_shape=tuple(layer.output.shape),
            params=int(layer.count_params()),
        )
        for layer in model.layers
    )


def layers_from_json(rows: Sequence[dict[str, Any]]) -> tuple[LayerInfo, ...]:
    """A card's architecture as read back from its JSON."""
    return tuple(
        LayerInfo(**{**row, "output_shape": tuple(row["output_shape"])}) for row in rows
    )


@dataclass(frozen=True, slots=True)
class ModelCard:
    """What a model is, how it was made and how well it reads: saved as JSON."""

    name: str
    preset: str
    params: int
    architecture: tuple[LayerInfo, ...]
    training: dict[str, Any]  # the TrainConfig, as a dict
    dataset: dict[str, str]  # source and sha256 of the MNIST file
    test_accuracy: float  # MNIST test set, 10,000 images
    per_class_accuracy: tuple[float, ...]
    confusion_matrix: tuple[tuple[int, ...], ...]  # rows: true, columns: read
    history: tuple[dict[str, float], ...]  # one entry per epoch
    created: str  # ISO 8601, UTC
    file_size: int = 0  # bytes of the .keras file
    keras_version: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # other evaluations

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> ModelCard:
        raw = json.loads(text)
        raw["architecture"] = layers_from_json(raw["architecture"])
        raw["per_class_accuracy"] = tuple(raw["per_class_accuracy"])
        raw["confusion_matrix"] = tuple(map(tuple, raw["confusion_matrix"]))
        raw["history"] = tuple(raw["history"])
        return cls(**raw)


def ensemble(members: Sequence[Any], name: str = "ensemble") -> Any:
    """One model that averages the members' probabilities (same input, 10 outputs).

    Members trained from different seeds make different mistakes, so their mean
    is more accurate than any one of them; it costs one forward pass each.
    Members are renamed member_1, member_2, ... so one file can hold them.
    """
    import keras

    inputs = keras.Input(INPUT_SHAPE, name="digits")
    for i, member in enumerate(members, start=1):
        member.name = f"member_{i}"
    outputs = keras.layers.Average(name="mean")([m(inputs) for m in members])
    return keras.Model(inputs, outputs, name=name)


class Card(Protocol):
    """A model card (ModelCard, verifier.VerifierCard): JSON beside its model."""

    file_size: int
    keras_version: str

    def to_json(self) -> str: ...


CardT = TypeVar("CardT", bound=Card)


def card_path(model_path: Path) -> Path:
    """The model card sits beside the model: digits.keras -> digits.json."""
    return model_path.with_suffix(".json")


def _atomic_write(path: Path, write: Any) -> None:
    """Write through a temporary file in the same folder, then rename.

    The rename is atomic, so an interrupted save (Ctrl-C, a crash) never leaves
    a half-written file under the final name.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.stem}-", suffix=".partial" + path.suffix
    )
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; others (the app) must read it
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def save(model: Any, path: Path, card: CardT | None = None) -> CardT | None:
    """Save the model (weights and architecture, no optimiser) and its card.

    The optimiser state is left out: it triples the file and is not needed to
    read digits. Returns the card with `file_size` filled in.
    """
    import keras

    # rebuilt from its config, uncompiled: clone_model, or a config that keeps
    # the compile settings, would carry the optimiser along
    config = json.loads(model.to_json())
    config.pop("compile_config", None)
    clean = keras.models.model_from_json(json.dumps(config))
    clean.set_weights(model.get_weights())
    _atomic_write(Path(path), lambda tmp: clean.save(tmp))
    if card is None:
        return None
    from dataclasses import replace

    card = replace(
        card, file_size=Path(path).stat().st_size, keras_version=keras.__version__
    )
    _atomic_write(card_path(Path(path)), lambda tmp: tmp.write_text(card.to_json()))
    return card


def load(path: str | os.PathLike[str] | None = None, outputs: int = 10) -> Any:
    """Load a .keras model, the bundled one by default; ModelLoadError if unusable.

    outputs: what the model must give per image (10 for a digit model).
    """
    import keras

    path = Path(path) if path is not None else BUNDLED_MODEL
    if not path.is_file():
        msg = f"model file not found: {path}"
        raise ModelLoadError(msg)
    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as exc:  # Keras raises many kinds for a damaged zip
        msg = f"cannot load model {path}: {exc}"
        raise ModelLoadError(msg) from exc
    if tuple(model.input_shape[1:]) != INPUT_SHAPE or model.output_shape[-1] != outputs:
        shapes = f"takes {model.input_shape}, gives {model.output_shape}"
        kind = "digit model" if outputs == 10 else f"model with {outputs} output(s)"
        msg = f"{path}: {shapes}; not a {kind}"
        raise ModelLoadError(msg)
    return model


def load_card(model_path: str | os.PathLike[str] | None = None) -> ModelCard | None:
    """The card beside a model file, or None when there is none or it is unreadable."""
    path = card_path(Path(model_path) if model_path is not None else BUNDLED_MODEL)
    try:
        return ModelCard.from_json(path.read_text())
    except (OSError, ValueError, TypeError, KeyError):
        return None


def inference(model: Any) -> Callable[[Any], Any]:
    """The model as one traced graph: (N, 28, 28, 1) float32 -> (N, 10) numpy.

    `model.predict` sets up a whole data pipeline per call (about 50 ms here
    even for one image) and `predict_on_batch` still costs a few Python layers
    (about 1 ms); calling a concrete TensorFlow function skips both. The graph
    is traced once, here, and may be run from many threads at once. Other
    Keras backends fall back to `predict_on_batch`.
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        return model.predict_on_batch
    import tensorflow as tf

    spec = tf.TensorSpec((None, *INPUT_SHAPE), tf.float32)
    graph = tf.function(lambda x: model(x, training=False)).get_concrete_function(spec)
    return lambda x: graph(tf.convert_to_tensor(x)).numpy()


def predict(
    model: Any,
    images: Any,
    batch_size: int = 1024,
    run: Callable[[Any], Any] | None = None,
) -> Any:
    """Probabilities for many images, in batches, without `model.predict`.

    images: (N, 28, 28) or (N, 28, 28, 1) float32 in [0, 1]. run: the model's
    `inference` graph when the caller keeps one (tracing costs ~100 ms).
    Returns (N, 10) float32.
    """
    import numpy as np

    x = np.asarray(images, dtype=np.float32).reshape(-1, *INPUT_SHAPE)
    if len(x) == 0:
        return np.zeros((0, model.output_shape[-1]), np.float32)
    run = run or model.predict_on_batch
    parts = [
        np.asarray(run(x[start : start + batch_size]))
        for start in range(0, len(x), batch_size)
    ]
    return np.concatenate(parts).astype(np.float32)
