"""scripts/evaluate.py end to end: figures that agree with each other, clear errors.

Runs on the first few hundred images of each set (--limit): these tests check
the plumbing and the consistency of the figures, never the model's accuracy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from digit_core.errors import DatasetNotFoundError, ModelLoadError, UspsNotFoundError
from scripts import evaluate

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 200


@pytest.fixture(scope="module")
def data_path(mnist) -> str:
    """The MNIST file the session's fixture found (skips or fails like it)."""
    return mnist.source


def check_scores(scores: dict, count: int) -> None:
    """Accuracy, per-class accuracy and confusion matrix tell the same story."""
    confusion = np.array(scores["confusion"])
    assert confusion.shape == (10, 10)
    assert scores["count"] == count
    assert len(scores["per_class_accuracy"]) == 10
    assert all(0.0 <= a <= 1.0 for a in scores["per_class_accuracy"])
    assert scores["accuracy"] == pytest.approx(np.trace(confusion) / count)


def test_json_report(capsys, model_path, data_path, recognizer, mnist, usps):
    code = evaluate.main(
        [
            "--model",
            str(model_path),
            "--data-path",
            data_path,
            "--pipeline",
            "--usps",
            "--limit",
            str(LIMIT),
            "--json",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    report = json.loads(out)
    assert report["model"] == str(model_path)
    check_scores(report["test"], LIMIT)
    assert np.array(report["test"]["confusion"]).sum() == LIMIT

    # the model's own figure, checked against a direct call of the network
    x = mnist.x_test[:LIMIT].astype(np.float32)[..., None] / 255.0
    read = np.asarray(recognizer.model(x, training=False)).argmax(axis=1)
    direct = float((read == mnist.y_test[:LIMIT]).mean())
    assert report["test"]["accuracy"] == pytest.approx(direct, abs=1.5 / LIMIT)

    for key in ("pipeline", "usps"):
        scores, unread = report[key]["evaluation"], report[key]["unread"]
        check_scores(scores, LIMIT)
        assert np.array(scores["confusion"]).sum() + unread == LIMIT
    assert report["usps_source"].endswith("usps.npz")


def test_text_report(capsys, model_path, data_path):
    code = evaluate.main(
        ["--model", str(model_path), "--data-path", data_path, "--limit", "50"]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "MNIST test, model on 50 raw 28x28 images: accuracy" in out
    assert "confusion matrix" in out
    assert "pipeline" not in out and "USPS" not in out  # only when asked
    assert "Outside MNIST" not in out


OUTSIDE = 12  # pictures per outside suite: plumbing only, the floors are elsewhere


def test_outside_suites_json(capsys, model_path, data_path, usps):
    code = evaluate.main(
        [
            "--model",
            str(model_path),
            "--data-path",
            data_path,
            "--outside",
            "--limit",
            str(OUTSIDE),
            "--json",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    report = json.loads(out)
    assert report["usps"] is None  # --outside loads USPS, but scores only its suites
    suites = report["outside"]
    assert suites["seed"] == evaluate.outside.SEED
    for key in ("canvas", "mnist_photos", "usps_photos", "usps_tight", "uci_digits"):
        scores, unread = suites[key]["evaluation"], suites[key]["unread"]
        check_scores(scores, OUTSIDE)
        assert np.array(scores["confusion"]).sum() + unread == OUTSIDE
    for key in ("numbers", "tilted_numbers"):
        numbers = suites[key]
        assert numbers["count"] == OUTSIDE
        assert 0.0 <= numbers["exact"] <= 1 and 0.0 <= numbers["digit_accuracy"] <= 1
        assert 0 <= numbers["miscounted"] <= OUTSIDE


def test_outside_suites_text(capsys, model_path, data_path, usps):
    args = ["--model", str(model_path), "--data-path", data_path, "--outside"]
    code = evaluate.main([*args, "--limit", "5", "--seed", "3"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Outside MNIST (seed 3)" in out
    for title in (
        "canvas strokes",
        "phone photos of MNIST test",
        "phone photos of USPS",
        "tight crops of USPS",
        "UCI digits (scikit-learn's 8x8 scans)",
    ):
        assert f"{title}, 5 pictures through the pipeline, mode auto: accuracy" in out
    assert "optimistic" in out  # the canvas figure's caveat
    assert "numbers in a row, 5 4-digit numbers of USPS digits" in out
    assert "the same, photographed turned up to 15°, 5 4-digit numbers" in out


def test_outside_suites_without_scikit_learn(
    capsys, monkeypatch, model_path, data_path
):
    """The UCI digits come with scikit-learn, a test dependency: without it
    the report says how to read them, and the other suites still run."""
    monkeypatch.setattr(evaluate.outside, "load_uci_digits", lambda: None)
    args = ["--model", str(model_path), "--data-path", data_path, "--outside"]
    code = evaluate.main([*args, "--limit", "2"])
    out = capsys.readouterr().out
    assert code == 0
    assert "UCI digits: not read (pip install scikit-learn to read them)" in out
    assert "tight crops of USPS, 2 pictures" in out


@pytest.mark.parametrize("content", [None, b"not an npz file"])
def test_missing_or_broken_mnist_is_a_message(capsys, tmp_path, content):
    path = tmp_path / "mnist.npz"
    if content is not None:
        path.write_bytes(content)
    code = evaluate.main(["--data-path", str(path)])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert DatasetNotFoundError.user_message in err
    assert str(path) in err


@pytest.mark.parametrize("flag", ["--usps", "--outside"])
def test_missing_usps_is_a_message(capsys, tmp_path, data_path, flag):
    path = tmp_path / "usps.npz"
    code = evaluate.main(["--data-path", data_path, flag, "--usps-path", str(path)])
    err = capsys.readouterr().err
    assert code == 1
    assert UspsNotFoundError.user_message in err


def test_missing_model_is_a_message(capsys, tmp_path, data_path):
    code = evaluate.main(
        ["--data-path", data_path, "--model", str(tmp_path / "none.keras")]
    )
    assert code == 1
    assert ModelLoadError.user_message in capsys.readouterr().err


def command(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python scripts/evaluate.py ARGS` as typed, without PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "evaluate.py"), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
        check=False,
    )


def test_command_line_missing_data_no_traceback(tmp_path):
    done = command("--data-path", str(tmp_path / "nowhere.npz"), cwd=tmp_path)
    assert done.returncode == 1
    assert DatasetNotFoundError.user_message in done.stderr
    assert "Traceback" not in done.stderr


def test_command_line_json(tmp_path, model_path, data_path):
    done = command(
        "--model",
        str(model_path),
        "--data-path",
        data_path,
        "--pipeline",
        "--limit",
        "100",
        "--json",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    check_scores(report["test"], 100)
    check_scores(report["pipeline"]["evaluation"], 100)
    assert report["usps"] is None
