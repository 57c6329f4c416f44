"""The model on OpenCV's DNN module, for the few images one reading needs.

A drawing holds one digit, or a handful, and TensorFlow spends more time
setting up a call than computing it: on 2 CPU cores, one image costs about
1.5 ms through the traced graph and 0.5 ms through OpenCV's DNN module, which
is built for such small inferences. For big batches TensorFlow is the faster
of the two (3x at 1,000 images), so this is used for small batches only.

The Keras model stays the source of truth: its inference graph is frozen
(variables turned into constants) and handed to `cv2.dnn`, whose classic
engine runs these small networks faster than OpenCV 5's new one (0.37 vs
0.44 ms for the bundled CNN, 0.62 vs 0.76 ms for a two-member ensemble).
OpenCV imports only some TensorFlow graphs, and a few crash it outright, so
the import is tried first in a child process, which also runs a probe batch:
the fast path is used only when that child comes back with the Keras model's
own probabilities (within PROBE_TOLERANCE). Otherwise `runner` returns None
and the caller keeps TensorFlow.
"""

from __future__ import annotations

import logging
import pickle
import queue
import subprocess
import sys
from typing import Any

import numpy as np
from numpy.typing import NDArray

log = logging.getLogger(__name__)

SMALL_BATCH = 8  # up to this many images OpenCV is faster here; beyond, TensorFlow
PROBE_TOLERANCE = 1e-4  # largest difference from Keras's probabilities allowed
PROBE_TIMEOUT = 60.0  # s for the child to import OpenCV and run the probe
PROBE = """
import pickle, sys
try:  # a crash here is expected for some graphs: no core file for it
    import resource
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
except (ImportError, ValueError, OSError):
    pass
import cv2, numpy as np
graph, probe = pickle.load(sys.stdin.buffer)
net = cv2.dnn.readNetFromTensorflow(
    np.frombuffer(graph, np.uint8), np.empty(0, np.uint8), cv2.dnn.ENGINE_CLASSIC
)
net.setInput(probe.reshape(-1, 1, 28, 28))
pickle.dump(np.array(net.forward(), np.float32), sys.stdout.buffer)
"""


def frozen_graph(model: Any) -> bytes | None:
    """The model's inference graph with its weights as constants, serialised.

    None on a Keras backend other than TensorFlow (no graph to export).
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    spec = tf.TensorSpec((None, 28, 28, 1), tf.float32)
    graph = tf.function(lambda x: model(x, training=False)).get_concrete_function(spec)
    return (
        convert_variables_to_constants_v2(graph)
        .graph.as_graph_def()
        .SerializeToString()
    )


def probe_batch() -> NDArray[np.float32]:
    """Three inputs that exercise the network: blank, full ink, random."""
    rng = np.random.default_rng(0)
    return np.stack(
        [
            np.zeros((28, 28), np.float32),
            np.ones((28, 28), np.float32),
            rng.random((28, 28), dtype=np.float32),
        ]
    )[..., None]


def probe(graph: bytes, inputs: NDArray[np.float32]) -> NDArray[np.float32] | None:
    """OpenCV's output for `inputs`, computed in a child process; None if it failed.

    A crash, an import error or a timeout in the child only costs the fast path.
    """
    try:
        done = subprocess.run(
            [sys.executable, "-c", PROBE],
            input=pickle.dumps((graph, inputs)),
            capture_output=True,
            timeout=PROBE_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        log.info("OpenCV DNN probe did not run: %s", err)
        return None
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:]
        log.info("OpenCV DNN cannot run this model (%s): %s", done.returncode, tail)
        return None
    return pickle.loads(done.stdout)


class NetPool:
    """Thread-safe calls into OpenCV nets: one net per concurrent caller.

    A `cv2.dnn.Net` holds its buffers, so two threads must not run one net at
    once; nets are made on demand (a few ms) and reused, so a server that
    starts a thread per script run does not import the graph per call.
    """

    def __init__(self, graph: bytes) -> None:
        self._graph = np.frombuffer(graph, np.uint8)
        self._idle: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def __call__(self, inputs: NDArray[np.float32]) -> NDArray[np.float32]:
        """(N, 28, 28[, 1]) float32 -> (N, 10) probabilities."""
        import cv2

        try:
            net = self._idle.get_nowait()
        except queue.Empty:
            net = cv2.dnn.readNetFromTensorflow(
                self._graph, np.empty(0, np.uint8), cv2.dnn.ENGINE_CLASSIC
            )
        try:
            net.setInput(
                np.ascontiguousarray(inputs, np.float32).reshape(-1, 1, 28, 28)
            )
            return np.array(
                net.forward(), np.float32
            )  # a copy: the net reuses its buffer
        finally:
            self._idle.put(net)


def runner(model: Any, expected: Any) -> NetPool | None:
    """The model on OpenCV's DNN module, or None where that is not exactly it.

    expected: the model's own inference (N, 28, 28, 1) -> (N, 10), to check
    the probe's output against.
    """
    graph = frozen_graph(model)
    if graph is None:
        return None
    inputs = probe_batch()
    got = probe(graph, inputs)
    want = np.asarray(expected(inputs), np.float32)
    if got is None or got.shape != want.shape:
        return None
    difference = float(np.abs(got - want).max())
    if not difference <= PROBE_TOLERANCE:
        log.info("OpenCV DNN differs from Keras by %.2g: not used", difference)
        return None
    return NetPool(graph)
