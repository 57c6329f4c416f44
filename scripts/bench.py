"""Speed and memory of the recogniser and of the fast training preset.

    python scripts/bench.py            # full run, ~5 minutes on 2 cores
    python scripts/bench.py --quick    # a short run: fewer repeats, no training race
    python scripts/bench.py --no-training  # full repeats, no training race

Everything is measured side by side in one process, so ratios hold even on a
noisy machine:
- single-image recognition (preprocessing included) p50/p95 against
  `model.predict` on the same model and image: the ratio must be >= 20;
- batch throughput of `Recognizer.recognize_many`;
- recognition p95 with 30 threads at once (a class on one server);
- the Draw page's server-side work after a stroke on its 280x280 canvas
  (decode the canvas, recognise, build the charts) p95 for one user (<= 150 ms)
  and for 30 sessions drawing at once (<= 1 s);
- wall time for the `fast` preset to reach 99.0% MNIST test accuracy against
  keras.io's mnist_convnet reference trained to 99.0% in the same run, their
  epochs interleaved (<= 0.4);
- peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project root

from digit_core import Recognizer, canvas, charts  # noqa: E402
from digit_core.data import load_mnist  # noqa: E402
from digit_core.errors import DigitError  # noqa: E402
from digit_core.train import EpochMetrics, Listener, TrainConfig, train  # noqa: E402

TARGET = 0.99  # the accuracy both trainings race to
MAX_REFERENCE_EPOCHS = 20  # keras.io trains 15; here it took ~10-12 to reach 99%


@dataclass(frozen=True, slots=True)
class Latency:
    p50_ms: float
    p95_ms: float


def latency(call: Callable[[], Any], repeats: int) -> Latency:
    """p50 and p95 of `repeats` timed calls, after one untimed warm-up."""
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return Latency(statistics.median(times), float(np.percentile(times, 95)))


def paired_latency(
    first: Callable[[], Any], second: Callable[[], Any], repeats: int, block: int = 10
) -> tuple[Latency, Latency]:
    """Latency of two calls timed in alternating blocks of `block` calls each.

    On a shared machine the speed drifts by 30% within a minute: timing all
    of one call's repeats and then the other's puts that drift into their
    ratio. Blocks, not single calls, alternate, so neither call is timed in
    the other's wake (TensorFlow's worker threads spin on after a call).
    """
    times: tuple[list[float], list[float]] = ([], [])
    for done in range(0, repeats, block):
        for call, into in ((first, times[0]), (second, times[1])):
            call()  # untimed: the first call after the other's block
            for _ in range(min(block, repeats - done)):
                start = time.perf_counter()
                call()
                into.append((time.perf_counter() - start) * 1000)
    return tuple(  # type: ignore[return-value]
        Latency(statistics.median(t), float(np.percentile(t, 95))) for t in times
    )


def concurrent_latency(
    call: Callable[[int], Any], threads: int, per_thread: int
) -> Latency:
    """Latency of each call while `threads` threads call at once."""

    def worker(seed: int) -> list[float]:
        times = []
        for i in range(per_thread):
            start = time.perf_counter()
            call(seed * per_thread + i)
            times.append((time.perf_counter() - start) * 1000)
        return times

    with ThreadPoolExecutor(threads) as pool:
        times = [t for chunk in pool.map(worker, range(threads)) for t in chunk]
    return Latency(statistics.median(times), float(np.percentile(times, 95)))


def picture(digit: np.ndarray) -> np.ndarray:
    """An MNIST digit as a 280x280 black-on-white drawing, like the canvas sends."""
    import cv2

    big = cv2.resize(digit, (200, 200), interpolation=cv2.INTER_LINEAR)
    canvas = np.full((280, 280), 255, np.uint8)
    canvas[40:240, 40:240] = 255 - big
    return canvas


def canvas_strokes(count: int) -> list[np.ndarray]:
    """What the Draw page's canvas sends: white strokes on black, (280, 280, 4) RGBA.

    Template digits at a finger's pen width, one or two to a picture (a number).
    """
    from digit_core.strokes import TEMPLATES, render

    rng = np.random.default_rng(0)
    pictures = []
    for i in range(count):
        digits = rng.integers(0, 10, size=1 + i % 2)
        size = 220 // len(digits)
        ink = np.zeros((280, 280), np.float32)
        for j, d in enumerate(digits):
            styles = TEMPLATES[int(d)]
            glyph = render(styles[i % len(styles)], size=size)
            top, left = 30, 30 + j * size
            ink[top : top + size, left : left + size] = glyph
        rgba = np.zeros((280, 280, 4), np.uint8)
        rgba[..., :3] = np.round(ink * 255).astype(np.uint8)[..., None]
        rgba[..., 3] = 255
        pictures.append(rgba)
    return pictures


def as_streamlit_sends(figure: Any) -> str:
    """What st.plotly_chart does with a figure: validate it, then send JSON.

    With Streamlit's own plotly template registered (as in the app), which
    is much smaller than plotly's default.
    """
    import plotly.io
    import plotly.tools
    from streamlit.elements import plotly_chart  # noqa: F401  (its template)

    checked = plotly.tools.return_figure_from_figure_or_data(figure, True)
    return plotly.io.to_json(checked, validate=False)


def after_a_stroke(recognizer: Recognizer, image_data: np.ndarray) -> None:
    """The Draw page's work after a stroke, "What the model sees" open.

    The same calls pages/draw.py makes, plus the JSON Streamlit sends.
    """
    picture = canvas.drawing(image_data)
    reading = recognizer.recognize(picture, mode="auto")
    as_streamlit_sends(
        charts.probability_bars([p.probabilities for p in reading.predictions])
    )
    if len(reading.predictions) > 1:
        boxes = [p.box for p in reading.predictions]
        charts.with_boxes(picture, boxes, [str(p.digit) for p in reading.predictions])
    for p in reading.predictions:
        for step in (*reading.steps, *p.steps):
            charts.for_display(step.image, square=True)


class Reference:
    """keras.io mnist_convnet, exactly: Adam, batch 128, 10% validation split;
    trained one epoch at a time until it reaches TARGET on the MNIST test set."""

    def __init__(self, mnist: Any) -> None:
        import keras

        from digit_core import model as model_lib

        self.x = mnist.x_train.astype("float32")[..., None] / 255
        self.y = keras.utils.to_categorical(mnist.y_train, 10)
        self.x_test = mnist.x_test.astype("float32")[..., None] / 255
        self.y_test = mnist.y_test
        self.net = model_lib.build("reference")
        self.net.compile(
            loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"]
        )
        self.seconds, self.epochs, self.accuracy = 0.0, 0, 0.0

    @property
    def done(self) -> bool:
        return self.accuracy >= TARGET or self.epochs >= MAX_REFERENCE_EPOCHS

    def epoch(self, log: Callable[[str], None]) -> None:
        """One more epoch, timed; the test set is scored after the clock stops."""
        from digit_core import model as model_lib

        start = time.perf_counter()
        self.net.fit(
            self.x, self.y, batch_size=128, epochs=1, validation_split=0.1, verbose=0
        )
        self.seconds += time.perf_counter() - start
        self.epochs += 1
        read = model_lib.predict(self.net, self.x_test).argmax(1)
        self.accuracy = float((read == self.y_test).mean())
        log(
            f"reference epoch {self.epochs}: test {self.accuracy:.4f} "
            f"after {self.seconds:.1f}s"
        )


def race(mnist: Any, log: Callable[[str], None]) -> dict[str, Any]:
    """The fast preset as the Train page runs it (its defaults, one click) against
    the reference, their epochs interleaved: fast 1, reference 1, fast 2, ...

    The machine's speed drifts by 2x within minutes; one training after the
    other puts that drift into the ratio, alternating epochs shares it out.
    """
    reference = Reference(mnist)

    class Interleave(Listener):
        def on_epoch(self, metrics: EpochMetrics) -> None:
            log(
                f"fast epoch {metrics.epoch}: val {metrics.val_accuracy:.4f} "
                f"in {metrics.seconds:.1f}s"
            )
            if not reference.done:
                reference.epoch(log)

    result = train(TrainConfig(preset="fast"), mnist=mnist, listener=Interleave())
    while not reference.done:
        reference.epoch(log)
    fast = sum(entry["seconds"] for entry in result.card.history)
    return {
        "reference_to_99": {
            "seconds": reference.seconds,
            "epochs": reference.epochs,
            "test_accuracy": reference.accuracy,
        },
        "fast_to_99": {
            "seconds": fast,
            "epochs": len(result.card.history),
            "test_accuracy": result.card.test_accuracy,
        },
        "fast_time_ratio": fast / reference.seconds,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, help="model file (default: bundled)")
    parser.add_argument("--data-path", help="MNIST .npz (default: see data.load_mnist)")
    parser.add_argument(
        "--quick", action="store_true", help="short run, no training race"
    )
    parser.add_argument(
        "--no-training", action="store_true", help="full repeats, no training race"
    )
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    args = parser.parse_args(argv)

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    repeats = 30 if args.quick else 200
    try:
        mnist = load_mnist(args.data_path)
        recognizer = Recognizer.load(args.model)
    except DigitError as err:
        print(f"error: {err.user_message}\n({err})", file=sys.stderr)
        return 1
    image = picture(mnist.x_test[0])
    single = np.asarray(mnist.x_test[:1], np.float32)[..., None] / 255

    predict, recognize = paired_latency(
        lambda: recognizer.model.predict(single, verbose=0),
        lambda: recognizer.recognize(image),
        repeats,
    )
    results: dict[str, Any] = {
        "model_predict": asdict(predict),
        "recognize": asdict(recognize),
        "speedup_p50": predict.p50_ms / recognize.p50_ms,
        "engine": recognizer.engine,
    }
    log(
        f"single image (280x280 drawing, {recognizer.engine}): recognize p50 "
        f"{recognize.p50_ms:.1f} ms, model.predict p50 {predict.p50_ms:.1f} ms: "
        f"{results['speedup_p50']:.1f}x faster"
    )

    count = 1000 if args.quick else 10_000
    batch = list(mnist.x_test[:count])
    start = time.perf_counter()
    recognizer.recognize_many(batch, mode="single")
    results["batch_images_per_s"] = count / (time.perf_counter() - start)
    log(f"batch: {results['batch_images_per_s']:.0f} images/s (28x28, mode single)")

    drawings = [picture(d) for d in mnist.x_test[:300]]
    crowd = concurrent_latency(
        lambda i: recognizer.recognize(drawings[i % len(drawings)]),
        threads=30,
        per_thread=5 if args.quick else 20,
    )
    results["recognize_30_threads"] = asdict(crowd)
    log(f"30 threads: recognize p50 {crowd.p50_ms:.1f} ms, p95 {crowd.p95_ms:.1f} ms")

    strokes = canvas_strokes(60)
    one_user = latency(lambda: after_a_stroke(recognizer, strokes[0]), repeats)
    whole_class = concurrent_latency(
        lambda i: after_a_stroke(recognizer, strokes[i % len(strokes)]),
        threads=30,
        per_thread=3 if args.quick else 10,
    )
    results["draw_page_one_user"] = asdict(one_user)
    results["draw_page_30_sessions"] = asdict(whole_class)
    log(
        f"Draw page after a stroke: p95 {one_user.p95_ms:.1f} ms for one user, "
        f"{whole_class.p95_ms:.0f} ms with 30 sessions at once"
    )

    if not (args.quick or args.no_training):
        results.update(race(mnist, log))
        reference, fast = results["reference_to_99"], results["fast_to_99"]
        log(
            f"to {TARGET:.1%}: fast {fast['seconds']:.0f}s "
            f"(test {fast['test_accuracy']:.4f}), "
            f"reference {reference['seconds']:.0f}s "
            f"({reference['epochs']} epochs): ratio {results['fast_time_ratio']:.2f}"
        )

    results["peak_memory_mb"] = (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    )
    log(f"peak memory: {results['peak_memory_mb']:.0f} MB")
    if args.json:
        print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
