"""The Recognizer: from any picture to the digits it shows, with the reasons.

    from digit_core import dnn, Recognizer
    reading = Recognizer.load().recognize("photo.jpg", mode="auto")
    reading.digits            # "2026"
    reading.predictions[0]    # digit, confidence, probabilities, box, input

One Recognizer serves every session of the app: it is thread-safe. Pictures are
preprocessed in the calling thread (OpenCV releases the GIL); the model runs
as one traced TensorFlow graph (model.inference), which threads may call at
once, batched over all digits of a picture.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digit_core import dnn, images, level, preprocess, segment
from digit_core import model as model_lib
from digit_core import verifier as verifier_lib
from digit_core.errors import DigitError, EmptyImageError
from digit_core.images import ImageSource
from digit_core.model import ModelCard
from digit_core.preprocess import Step
from digit_core.segment import MODES

Box = tuple[int, int, int, int]  # x, y, w, h in input pixels
UNSURE_BELOW = 0.6  # confidence under which the app says it is unsure
Judgement = Callable[
    [NDArray[np.float32]], NDArray[np.float32]
]  # (N, 28, 28) -> (N, 11)
DigitInput = tuple[NDArray[np.float32], tuple[Step, ...]]  # preprocess.digit_input's


@dataclass(frozen=True, slots=True)
class Prediction:
    """The reading of one digit."""

    digit: int
    confidence: float  # probability of `digit`, in [0, 1]
    probabilities: tuple[float, ...]  # 10 values summing to 1, index = digit
    box: Box  # where the digit is in the input picture
    input: NDArray[np.float32]  # (28, 28) in [0, 1], what the network saw
    steps: tuple[Step, ...]  # this digit's own steps: crop, pen width, fit, centre

    @property
    def unsure(self) -> bool:
        return self.confidence < UNSURE_BELOW

    @property
    def top2(self) -> tuple[tuple[int, float], tuple[int, float]]:
        """The two most likely digits with their probabilities, best first."""
        first, second = np.argsort(self.probabilities)[::-1][:2].tolist()
        return (first, self.probabilities[first]), (second, self.probabilities[second])


@dataclass(frozen=True, slots=True)
class Reading:
    """Everything read from one picture; `digits` is "" when there is no digit."""

    digits: str
    predictions: tuple[Prediction, ...]
    steps: tuple[Step, ...]  # the whole picture's steps, input first
    size: tuple[int, int]  # input width, height in pixels
    mode: str  # the mode asked for

    @property
    def empty(self) -> bool:
        return not self.predictions


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A picture segmented into digit inputs, waiting for the model."""

    inputs: tuple[NDArray[np.float32], ...]
    boxes: tuple[Box, ...]
    digit_steps: tuple[tuple[Step, ...], ...]
    steps: tuple[Step, ...]
    size: tuple[int, int]
    mode: str
    probabilities: NDArray[np.float32] | None = None  # (N, 10) when the judge read all


def _prepare(
    image: ImageSource, mode: str, judgement: Judgement | None = None
) -> _Prepared:
    """Decode, clean and segment one picture (thread-parallel).

    The models are involved only through `judgement`, which segmentation's judge
    calls to settle doubtful places; the judge's inputs and readings are kept
    so that no digit is prepared or read twice.
    """
    if mode not in MODES:
        msg = f"mode must be one of {', '.join(MODES)}, not {mode!r}"
        raise ValueError(msg)
    array = images.decode(image)
    size = (int(array.shape[1]), int(array.shape[0])) if array.ndim >= 2 else (0, 0)
    try:
        page = preprocess.prepare(array)
        judge, seen = _keeping_judge(judgement)
        found = segment.segment(page.ink, mode, judge)
    except EmptyImageError:
        shown = preprocess.as_float(array)
        return _Prepared(
            (), (), (), (Step("input", shown, "the picture as given"),), size, mode
        )
    page_steps = page.steps
    if found and found[0].turned:
        turned = level.turn(page.ink, found[0].turned)
        caption = f"the row rose {turned.degrees:.0f}°: turned level"
        page_steps += (Step("level", turned.ink, caption),)
    inputs, boxes, steps, read = [], [], [], []
    for part in found:
        kept = seen.get(id(part.ink))
        try:
            if kept is not None and kept[0] is part.ink:
                digit, digit_steps = kept[1]
            else:
                digit, digit_steps = preprocess.digit_input(part.ink)
        except EmptyImageError:
            continue
        inputs.append(digit)
        boxes.append(segment.to_input_box(part.box, page.scale, size))
        steps.append(digit_steps)
        read.append(part.probabilities)
    known = None
    if read and all(p is not None for p in read):
        known = np.stack(read).astype(np.float32)
    return _Prepared(
        tuple(inputs), tuple(boxes), tuple(steps), page_steps, size, mode, known
    )


def _keeping_judge(
    judgement: Judgement | None,
) -> tuple[segment.Judge | None, dict[int, tuple[NDArray, DigitInput]]]:
    """segment.segment's judge over `judgement`, and what it prepared, by ink id.

    The ink is kept beside its input, so an id is matched only to its array.
    """
    seen: dict[int, tuple[NDArray, DigitInput]] = {}
    if judgement is None:
        return None, seen

    def judge(inks: Sequence[NDArray[np.float32]]) -> NDArray[np.float32]:
        prepared = [preprocess.digit_input(ink) for ink in inks]
        seen.update((id(ink), (ink, p)) for ink, p in zip(inks, prepared, strict=True))
        return judgement(np.asarray([p[0] for p in prepared], np.float32))

    return judge, seen


def _reading(prepared: _Prepared, probabilities: NDArray[np.float32]) -> Reading:
    predictions = tuple(
        Prediction(
            digit=int(p.argmax()),
            confidence=float(p.max()),
            probabilities=tuple(float(v) for v in p),
            box=box,
            input=digit_input,
            steps=steps,
        )
        for p, box, digit_input, steps in zip(
            probabilities,
            prepared.boxes,
            prepared.inputs,
            prepared.digit_steps,
            strict=True,
        )
    )
    return Reading(
        digits="".join(str(p.digit) for p in predictions),
        predictions=predictions,
        steps=prepared.steps,
        size=prepared.size,
        mode=prepared.mode,
    )


class Recognizer:
    """Reads digits with one Keras model; share one instance between threads."""

    def __init__(
        self,
        net: Any,
        model_path: Path | None = None,
        card: ModelCard | None = None,
        verifier: Any = None,
    ) -> None:
        """net: a digit model; verifier: a verifier model (default: the bundled
        one, which serves any digit model)."""
        self.model = net
        self.model_path = model_path
        self.card = card
        self.verifier = verifier if verifier is not None else verifier_lib.load()
        self._judging = verifier_lib.judging(net, self.verifier)  # (N, 11)
        self._run = model_lib.inference(self._judging)  # traced once; thread-safe
        self._read = model_lib.inference(net)  # big batches: no verifier needed
        self._small = dnn.runner(self._judging, self._run)  # None: TensorFlow reads

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> Recognizer:
        """The bundled model, or the .keras file at `path`; ModelLoadError if bad."""
        model_path = Path(path) if path is not None else model_lib.BUNDLED_MODEL
        return cls(
            model_lib.load(model_path), model_path, model_lib.load_card(model_path)
        )

    def predict(self, inputs: NDArray[np.float32]) -> NDArray[np.float32]:
        """(N, 28, 28) float32 inputs in [0, 1] -> (N, 10) probabilities.

        A few images go through the judging graph on OpenCV (see _judgement),
        more through TensorFlow's graph of the digit model alone.
        """
        if self._small is not None and 0 < len(inputs) <= dnn.SMALL_BATCH:
            return self._small(inputs)[:, :10]
        return model_lib.predict(self.model, inputs, run=self._read)

    def _judgement(self, inputs: NDArray[np.float32]) -> NDArray[np.float32]:
        """(N, 28, 28) inputs -> (N, 11): probabilities, then wholeness.

        A few images (one reading) go through OpenCV's DNN module when it runs
        the two models exactly (see digit_core.dnn), more through TensorFlow.
        The verifier costs a few percent of the digit model.
        """
        if self._small is not None and 0 < len(inputs) <= dnn.SMALL_BATCH:
            return self._small(inputs)
        return model_lib.predict(self._judging, inputs, run=self._run)

    @property
    def engine(self) -> str:
        """What reads a single picture: "OpenCV DNN" or "TensorFlow"."""
        return "OpenCV DNN" if self._small is not None else "TensorFlow"

    def judge(self, inks: Sequence[NDArray[np.float32]]) -> NDArray[np.float32]:
        """(N, 11) for N pieces of ink, in one call: class probabilities, then
        the verifier's chance that the piece is one whole digit.

        A segment.Judge: each piece (h, w) float32 in [0, 1], ink high, with
        some ink, goes through preprocess.digit_input like a digit would.
        """
        judge, _ = _keeping_judge(self._judgement)
        assert judge is not None
        return judge(inks)

    def recognize(self, image: ImageSource, mode: str = "auto") -> Reading:
        """Read the digits in one picture (path, bytes, PIL image or array).

        A blank picture gives a Reading with no digits; a file that is not a
        usable image raises ImageDecodeError or ImageTooLargeError.
        """
        prepared = _prepare(image, mode, self._judgement)
        if prepared.probabilities is not None:
            return _reading(prepared, prepared.probabilities)
        return _reading(
            prepared, self.predict(np.asarray(prepared.inputs).reshape(-1, 28, 28))
        )

    def recognize_many(
        self, sources: Sequence[ImageSource], mode: str = "auto"
    ) -> list[Reading | DigitError]:
        """Read many pictures; errors come back in place.

        Digits that segmentation's judge has not read already (all of them in
        "single" mode) go through the model in one batched call.
        """
        prepared: list[_Prepared | DigitError] = []
        for source in sources:
            try:
                prepared.append(_prepare(source, mode, self._judgement))
            except DigitError as err:
                prepared.append(err)
        waiting = [
            p for p in prepared if isinstance(p, _Prepared) and p.probabilities is None
        ]
        inputs = [digit for p in waiting for digit in p.inputs]
        probabilities = self.predict(np.asarray(inputs, np.float32).reshape(-1, 28, 28))
        results: list[Reading | DigitError] = []
        start = 0
        for item in prepared:
            if isinstance(item, DigitError):
                results.append(item)
                continue
            if item.probabilities is not None:
                results.append(_reading(item, item.probabilities))
                continue
            stop = start + len(item.inputs)
            results.append(_reading(item, probabilities[start:stop]))
            start = stop
        return results
