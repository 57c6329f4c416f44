"""digit_core.dnn: the OpenCV fast path reads exactly what Keras reads, or is unused."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from digit_core import Recognizer, dnn
from digit_core import model as model_lib


@pytest.fixture(scope="module")
def bundled():
    """(model, its TensorFlow inference) of the bundled model."""
    net = model_lib.load()
    return net, model_lib.inference(net)


def test_the_bundled_model_runs_on_opencv_with_kerass_probabilities(bundled, mnist):
    net, tensorflow = bundled
    pool = dnn.runner(net, tensorflow)
    assert pool is not None, "the bundled model must get the fast path"
    x = (np.asarray(mnist.x_test[: dnn.SMALL_BATCH], np.float32) / 255)[..., None]
    got, want = pool(x), tensorflow(x)
    assert got.shape == (dnn.SMALL_BATCH, 10)
    np.testing.assert_allclose(got, want, atol=dnn.PROBE_TOLERANCE)
    assert (got.argmax(1) == mnist.y_test[: dnn.SMALL_BATCH]).all()


@pytest.mark.parametrize("preset", model_lib.PRESETS)
def test_any_architecture_gets_the_fast_path_only_if_it_is_exact(preset):
    """OpenCV 5.0's importer crashes on max-pooling nets: the probe's child
    process takes the crash, this process goes on with TensorFlow."""
    net = model_lib.build(preset)
    tensorflow = model_lib.inference(net)
    pool = dnn.runner(net, tensorflow)
    if pool is not None:
        x = dnn.probe_batch()
        np.testing.assert_allclose(pool(x), tensorflow(x), atol=dnn.PROBE_TOLERANCE)
    reader = Recognizer(net)
    assert reader.engine == ("OpenCV DNN" if pool is not None else "TensorFlow")
    assert reader.predict(np.zeros((1, 28, 28), np.float32)).shape == (1, 10)


def test_a_graph_opencv_cannot_read_gives_no_fast_path():
    assert dnn.probe(b"not a graph", dnn.probe_batch()) is None


def test_a_model_that_reads_differently_gives_no_fast_path(bundled):
    net, tensorflow = bundled

    def different(x):
        return tensorflow(x)[:, ::-1]  # another model's answers

    assert dnn.runner(net, different) is None


def test_threads_share_the_pool_without_mixing_answers(bundled, mnist):
    net, tensorflow = bundled
    pool = dnn.runner(net, tensorflow)
    assert pool is not None
    x = (np.asarray(mnist.x_test[:64], np.float32) / 255)[..., None]
    want = tensorflow(x)
    wrong: list[int] = []

    def worker(start: int) -> None:
        for i in range(start, start + 200):
            k = i % 64
            if not np.allclose(pool(x[k : k + 1]), want[k], atol=dnn.PROBE_TOLERANCE):
                wrong.append(k)

    threads = [threading.Thread(target=worker, args=(t * 7,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []


def test_the_recognizer_reads_small_and_big_batches_alike(recognizer, mnist):
    x = np.asarray(mnist.x_test[:40], np.float32) / 255
    one_by_one = np.concatenate([recognizer.predict(x[i : i + 1]) for i in range(40)])
    together = recognizer.predict(x)  # above SMALL_BATCH: TensorFlow
    np.testing.assert_allclose(one_by_one, together, atol=dnn.PROBE_TOLERANCE)
    assert recognizer.engine == "OpenCV DNN"
