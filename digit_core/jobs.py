"""One training job at a time, in a worker process, seen alike by every viewer.

    manager = JobManager(RunStore())
    manager.start(TrainConfig())      # JobBusyError while another job runs
    manager.latest()                  # a frozen JobStatus: progress, curves, result
    manager.stop()                    # ends after the current batch, keeps the best

The app keeps one manager per process (pages/common.py), so leaving the page,
reloading or opening a second tab neither stops nor repeats a job. Training runs
digit_core.train.train in a child Python process at a lower CPU priority: in a
thread of the app's own process it held the GIL so often that the server took
1-11 s to answer a page request (measured on 2 busy cores), and Draw stalled
with it. A supervisor thread, which never touches Streamlit, turns the child's
reports into JobStatus snapshots under a lock.

The child gets (config, runs folder) pickled on its stdin and sends pickled
(kind, payload) reports on its stdout; a line on its stdin, or the stdin closing
because the app has gone, stops it after the current batch. It saves the result
as a run (digit_core.runs), finished or stopped; a run only reads digits once
someone chooses it. An exception in training, or the child dying, ends the job
as failed, with its message.
"""

from __future__ import annotations

import logging
import math
import os
import pickle
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any, Literal

from digit_core.errors import DigitError, JobBusyError
from digit_core.model import PROJECT_ROOT
from digit_core.runs import RunStore
from digit_core.train import EpochMetrics, Listener, Progress, TrainConfig, train

log = logging.getLogger(__name__)

JobState = Literal["running", "finished", "stopped", "failed"]
CURVE_POINTS_PER_EPOCH = 50  # live training curve: enough to look smooth, small to send
# The child yields some CPU to the app's server and recognition, not more:
# TensorFlow's ops wait for their slowest thread, so at nice 10 every burst of
# server or browser work stalled training (the fast preset took 1.6x as long
# from the page as from the command line; at 3, about as long).
NICENESS = 3
CHILD = "from digit_core.jobs import child_main; child_main()"


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """The running training loss and accuracy at a moment inside an epoch."""

    epoch: float  # epochs done: 1.5 is halfway through the second
    loss: float  # Keras's running mean over the epoch so far
    accuracy: float


@dataclass(frozen=True, slots=True)
class JobStatus:
    """A snapshot of a job; safe to keep, compare and show from any thread."""

    id: str
    config: TrainConfig
    state: JobState
    stop_requested: bool
    progress: Progress | None  # None until the first batch is done
    history: tuple[EpochMetrics, ...]  # finished epochs, validation included
    curve: tuple[CurvePoint, ...]
    started: float  # time.time()
    ended: float | None
    run_id: str | None  # the saved run, once finished or stopped
    test_accuracy: float | None  # MNIST test, once finished or stopped
    error: str | None  # why it failed

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def fraction_done(self) -> float:
        """Share of all batches done, in [0, 1], for a progress bar."""
        if self.state in ("finished", "stopped"):
            return 1.0
        return self.progress.fraction if self.progress is not None else 0.0

    @property
    def message(self) -> str:
        """One line for the progress bar: epoch, batch, time left, or the outcome."""
        p = self.progress
        if self.state == "finished":
            return f"Finished: {self.test_accuracy:.2%} on the MNIST test set."
        if self.state == "stopped":
            return f"Stopped: the best model so far reads {self.test_accuracy:.2%}."
        if self.state == "failed":
            return f"Failed: {self.error}"
        if p is None:
            return "Loading MNIST and building the network..."
        if self.stop_requested or p.fraction >= 1.0:
            return "Testing the model on 10,000 MNIST test images and saving it..."
        left = p.seconds_left
        eta = f" · about {_duration(left)} left" if left is not None else ""
        return f"Epoch {p.epoch}/{p.epochs} · batch {p.batch}/{p.batches}{eta}"


def _duration(seconds: float) -> str:
    """12 s, 3 min 05 s: a human time left."""
    seconds = max(0, math.ceil(seconds))
    if seconds < 60:
        return f"{seconds} s"
    return f"{seconds // 60} min {seconds % 60:02d} s"


class _Job(Listener):
    """A job's mutable state: written by its supervisor, read as JobStatus snapshots."""

    def __init__(self, config: TrainConfig) -> None:
        self.id = uuid.uuid4().hex[:12]
        self.config = config
        self._lock = threading.Lock()
        self._state: JobState = "running"
        self._stop_requested = False
        self._progress: Progress | None = None
        self._history: list[EpochMetrics] = []
        self._curve: list[CurvePoint] = []
        self._started = time.time()
        self._ended: float | None = None
        self._run_id: str | None = None
        self._test_accuracy: float | None = None
        self._error: str | None = None
        self.child: subprocess.Popen | None = None
        self.supervisor: threading.Thread | None = None

    def on_progress(self, progress: Progress) -> None:
        every = max(1, progress.batches // CURVE_POINTS_PER_EPOCH)
        point = None
        if progress.batch % every == 0 or progress.batch == progress.batches:
            done = progress.epoch - 1 + progress.batch / progress.batches
            point = CurvePoint(done, progress.loss, progress.accuracy)
        with self._lock:
            self._progress = progress
            if point is not None:
                self._curve.append(point)

    def on_epoch(self, metrics: EpochMetrics) -> None:
        with self._lock:
            self._history.append(metrics)

    def request_stop(self) -> None:
        """Tell the child to stop after its current batch (a line on its stdin)."""
        with self._lock:
            if self._state != "running" or self.child is None:
                return
            self._stop_requested = True
            try:
                self.child.stdin.write(b"stop\n")
                self.child.stdin.flush()
            except (BrokenPipeError, ValueError):  # it has just ended by itself
                log.info("job %s ended before the stop reached it", self.id)

    def end(
        self,
        state: JobState,
        run_id: str | None = None,
        test_accuracy: float | None = None,
        error: str | None = None,
    ) -> None:
        with self._lock:
            self._state = state
            self._run_id = run_id
            self._test_accuracy = test_accuracy
            self._error = error
            self._ended = time.time()

    def status(self) -> JobStatus:
        with self._lock:
            return JobStatus(
                id=self.id,
                config=self.config,
                state=self._state,
                stop_requested=self._stop_requested,
                progress=self._progress,
                history=tuple(self._history),
                curve=tuple(self._curve),
                started=self._started,
                ended=self._ended,
                run_id=self._run_id,
                test_accuracy=self._test_accuracy,
                error=self._error,
            )


class JobManager:
    """Runs at most one training at a time; thread-safe, one per app process."""

    def __init__(self, store: RunStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._job: _Job | None = None  # the latest job, running or ended

    def start(self, config: TrainConfig) -> JobStatus:
        """Start training `config` in a child process; JobBusyError if one runs.

        The child finds MNIST as data.load_mnist does (config.data_path, then
        $DIGITS_MNIST_PATH, ...): it inherits this process's environment.
        """
        with self._lock:
            if self._job is not None and self._job.status().running:
                msg = f"job {self._job.id} is still running"
                raise JobBusyError(msg)
            job = _Job(config)
            job.child = _launch(config, self.store)
            job.supervisor = threading.Thread(
                target=_supervise, args=(job,), name=f"train-{job.id}", daemon=True
            )
            job.supervisor.start()
            self._job = job
        log.info("started training job %s: %s", job.id, config)
        return job.status()

    def stop(self) -> None:
        """Ask the running job to end after its current batch; no-op when idle."""
        with self._lock:
            job = self._job
        if job is not None:
            job.request_stop()

    def latest(self) -> JobStatus | None:
        """The running job, else the last one that ended; None before the first."""
        with self._lock:
            job = self._job
        return job.status() if job is not None else None

    def wait(self, timeout: float | None = None) -> JobStatus | None:
        """Block until the latest job has ended (or `timeout` s); for scripts, tests."""
        with self._lock:
            job = self._job
        if job is None:
            return None
        if job.supervisor is not None:
            job.supervisor.join(timeout)
        return job.status()


# the parent's side


def _launch(config: TrainConfig, store: RunStore) -> subprocess.Popen:
    """Start the child with this interpreter and hand it its work."""
    paths = [str(PROJECT_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,  # reports; its logs go to our stderr
        env={**os.environ, "PYTHONPATH": os.pathsep.join(paths)},
    )
    pickle.dump((config, store.root), child.stdin)
    child.stdin.flush()
    return child


def _supervise(job: _Job) -> None:
    """The supervisor thread: the child's reports into `job`, until it ends."""
    child = job.child
    assert child is not None and child.stdout is not None
    ended = False
    try:
        while not ended:
            kind, payload = pickle.load(child.stdout)
            if kind == "progress":
                job.on_progress(payload)
            elif kind == "epoch":
                job.on_epoch(payload)
            elif kind == "failed":
                job.end("failed", error=payload)
                ended = True
            else:
                job.end(kind, *payload)
                log.info("job %s %s: run %s", job.id, kind, payload[0])
                ended = True
    except EOFError:
        log.error("job %s: the training process ended without a report", job.id)
    code = child.wait()
    child.stdin.close()
    child.stdout.close()
    if not ended:
        job.end("failed", error=f"the training process ended unexpectedly ({code})")


# the child's side


class _Reporter(Listener):
    """In the child: progress and finished epochs, out to the supervisor."""

    def __init__(self, report: Callable[[str, Any], None]) -> None:
        self.report = report

    def on_progress(self, progress: Progress) -> None:
        self.report("progress", progress)

    def on_epoch(self, metrics: EpochMetrics) -> None:
        self.report("epoch", metrics)


def child_main() -> None:
    """The training process: work in on stdin, reports out on stdout, pickled."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a library's stray print goes to stderr, not into the reports

    def report(kind: str, payload: Any) -> None:
        pickle.dump((kind, payload), out)
        out.flush()

    # unbuffered: no read-ahead swallows a stop line, and no buffer lock for the
    # stop thread to hold when the interpreter shuts down (a fatal error then)
    commands = os.fdopen(sys.stdin.fileno(), "rb", buffering=0, closefd=False)
    config, root = pickle.load(commands)
    stop = threading.Event()
    threading.Thread(
        target=_stop_when_asked, args=(commands, stop), daemon=True
    ).start()
    if hasattr(os, "nice"):  # POSIX; elsewhere the child keeps normal priority
        os.nice(NICENESS)
    try:
        result = train(config, listener=_Reporter(report), stop=stop)
        run = RunStore(root).save(result)
    except Exception as exc:  # the process's edge: any failure ends the job
        log.exception("training failed")
        report("failed", _describe(exc))
        return
    report(
        "stopped" if result.stopped else "finished", (run.id, result.card.test_accuracy)
    )


def _stop_when_asked(commands: IO[bytes], stop: threading.Event) -> None:
    """A line on stdin, or its end (the app has gone), stops training."""
    commands.readline()
    stop.set()


def _describe(exc: Exception) -> str:
    """A failure for the page: a DigitError's user message, else type and text."""
    if isinstance(exc, DigitError):
        return f"{exc.user_message} ({exc})"
    return f"{type(exc).__name__}: {exc}"
