"""scripts/predict.py end to end: good and bad files mixed, --json lines, exit codes.

The model under test is a throwaway or the bundled one: these tests check the
plumbing (order, fields, errors, batching), never accuracy.
"""

from __future__ import annotations

import io
import json
import os
import re
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from digit_core.errors import ImageDecodeError, ImageTooLargeError, ModelLoadError
from scripts import predict

ROOT = Path(__file__).resolve().parent.parent
KEYS = {"file", "digits", "predictions", "error"}
PREDICTION_KEYS = {"digit", "confidence", "probabilities", "box"}


def png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "PNG")
    return buffer.getvalue()


def drawing(text: str, size: tuple[int, int] = (200, 200)) -> np.ndarray:
    """Black digits on white paper, (h, w) uint8, drawn with OpenCV's font."""
    width, height = size
    image = np.full((height, width), 255, np.uint8)
    cv2.putText(
        image, text, (width // 8, height * 4 // 5), cv2.FONT_HERSHEY_SIMPLEX, 5, 0, 14
    )
    return image


def huge_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height pixels (a pixel bomb)."""
    data = bytearray(png(np.zeros((4, 4), np.uint8)))
    assert data[12:16] == b"IHDR"
    header = b"IHDR" + struct.pack(">II", width, height) + bytes(data[24:29])
    data[12:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(header))
    return bytes(data)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """Good pictures and every kind of bad file, by name."""
    folder = tmp_path_factory.mktemp("predict")
    good = png(drawing("7"))
    contents = {
        "seven.png": good,
        "number.png": png(drawing("4   2", (600, 200))),
        "blank.png": png(np.full((50, 50), 255, np.uint8)),
        "text.png": b"this is a text file, not a picture\n",
        "empty.png": b"",
        "truncated.png": good[: len(good) * 6 // 10],
        "bomb.png": huge_png(10_000, 8_000),
    }
    paths = {}
    for name, content in contents.items():
        paths[name] = folder / name
        paths[name].write_bytes(content)
    paths["missing.png"] = folder / "missing.png"  # never written
    return paths


@pytest.fixture
def shared_model(monkeypatch, recognizer, model_path):
    """--model MODEL_PATH reuses the session's Recognizer: one load, not one a run."""
    real_load = predict.Recognizer.load

    class Shared:
        @staticmethod
        def load(path=None):
            same = path is not None and Path(path) == model_path
            return recognizer if same else real_load(path)

    monkeypatch.setattr(predict, "Recognizer", Shared)
    return ["--model", str(model_path)]


def run(capsys, argv: list[str]) -> tuple[int, list[str], str]:
    code = predict.main(argv)
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def check_line(line: dict, size: tuple[int, int]) -> None:
    """A good file's JSON line: consistent digits, probabilities and boxes."""
    assert set(line) == KEYS
    assert line["error"] is None
    assert line["digits"] == "".join(str(p["digit"]) for p in line["predictions"])
    for p in line["predictions"]:
        assert set(p) == PREDICTION_KEYS
        probabilities = np.array(p["probabilities"])
        assert probabilities.shape == (10,)
        assert abs(probabilities.sum() - 1) < 1e-4
        assert p["digit"] == int(probabilities.argmax())
        assert p["confidence"] == pytest.approx(probabilities.max(), abs=1e-6)
        x, y, w, h = p["box"]
        assert all(isinstance(v, int) for v in p["box"])
        assert 0 <= x < x + w <= size[0] and 0 <= y < y + h <= size[1]


def test_json_lines_mixed_good_and_bad(capsys, files, shared_model):
    names = [
        "seven.png",
        "text.png",
        "empty.png",
        "number.png",
        "truncated.png",
        "missing.png",
        "bomb.png",
        "blank.png",
    ]
    code, lines, _ = run(
        capsys, [*shared_model, "--json", *(str(files[n]) for n in names)]
    )
    assert code == 1  # some files failed
    records = [json.loads(line) for line in lines]
    assert [r["file"] for r in records] == [str(files[n]) for n in names]
    by_name = dict(zip(names, records, strict=True))
    for name in ("text.png", "empty.png", "truncated.png", "missing.png"):
        record = by_name[name]
        assert set(record) == KEYS
        assert record["error"].startswith(ImageDecodeError.user_message)
        assert record["digits"] is None and record["predictions"] == []
    assert by_name["bomb.png"]["error"].startswith(ImageTooLargeError.user_message)
    check_line(by_name["seven.png"], (200, 200))
    assert len(by_name["seven.png"]["predictions"]) == 1
    check_line(by_name["number.png"], (600, 200))
    blank = by_name["blank.png"]  # no digit is an answer, not an error
    assert blank["error"] is None and blank["digits"] == ""
    assert blank["predictions"] == []


def test_all_good_files_exit_zero(capsys, files, shared_model):
    paths = [str(files["seven.png"]), str(files["blank.png"])]
    code, lines, _ = run(capsys, [*shared_model, "--json", *paths])
    assert code == 0
    assert len(lines) == 2


def test_modes_split_a_number_or_not(capsys, files, shared_model):
    number = str(files["number.png"])
    _, multi, _ = run(capsys, [*shared_model, "--json", "--mode", "multi", number])
    _, single, _ = run(capsys, [*shared_model, "--json", "--mode", "single", number])
    many, one = json.loads(multi[0]), json.loads(single[0])
    assert len(many["predictions"]) == 2
    lefts = [p["box"][0] for p in many["predictions"]]
    assert lefts == sorted(lefts)  # left to right
    assert len(one["predictions"]) == 1


def test_plain_output_one_line_per_file(capsys, files, shared_model):
    names = ["seven.png", "blank.png", "text.png"]
    code, lines, _ = run(capsys, [*shared_model, *(str(files[n]) for n in names)])
    assert code == 1
    seven, blank, text = lines
    assert re.fullmatch(
        re.escape(str(files["seven.png"])) + r": \d \(\d+\.\d%\)", seven
    )
    assert blank == f"{files['blank.png']}: no digit"
    assert text.startswith(
        f"{files['text.png']}: error: {ImageDecodeError.user_message}"
    )


def test_chunks_keep_order_and_bounds(monkeypatch, files):
    monkeypatch.setattr(predict, "CHUNK_FILES", 3)
    paths = [str(files["seven.png"])] * 7 + [str(files["text.png"])]
    batches = list(predict.chunks(paths))
    assert [len(b) for b in batches] == [3, 3, 2]
    assert sum(batches, []) == paths
    monkeypatch.setattr(predict, "CHUNK_PIXELS", 200 * 200 * 2)  # two drawings
    assert [len(b) for b in predict.chunks(paths)] == [2, 2, 2, 2]
    assert predict.working_pixels(str(files["text.png"])) == 0
    assert predict.working_pixels(str(files["bomb.png"])) > 0  # header only


def test_chunked_run_reads_like_one_batch(capsys, monkeypatch, files, shared_model):
    paths = [str(files[n]) for n in ("seven.png", "text.png", "number.png")] * 2
    _, whole, _ = run(capsys, [*shared_model, "--json", *paths])
    monkeypatch.setattr(predict, "CHUNK_FILES", 2)
    _, chunked, _ = run(capsys, [*shared_model, "--json", *paths])
    for a, b in zip(whole, chunked, strict=True):
        a, b = json.loads(a), json.loads(b)
        assert (a["file"], a["digits"], a["error"]) == (
            b["file"],
            b["digits"],
            b["error"],
        )
        for p, q in zip(a["predictions"], b["predictions"], strict=True):
            assert p["probabilities"] == pytest.approx(q["probabilities"], abs=1e-4)


def test_unusable_model_is_a_message(capsys, files, tmp_path):
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"not a zip")
    for model in (tmp_path / "missing.keras", broken):
        code, lines, err = run(capsys, ["--model", str(model), str(files["seven.png"])])
        assert code == 1 and lines == []
        assert ModelLoadError.user_message in err
        assert "Traceback" not in err


def test_help(capsys):
    with pytest.raises(SystemExit) as exit_:
        predict.main(["--help"])
    assert exit_.value.code == 0
    assert "--json" in capsys.readouterr().out


def test_command_line_from_any_folder(files, model_path, tmp_path):
    """`python scripts/predict.py` works as typed, without PYTHONPATH, from anywhere."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    names = ["seven.png", "empty.png", "missing.png"]
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "predict.py"),
            "--json",
            "--model",
            str(model_path),
            *(str(files[n]) for n in names),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["file"] for r in records] == [str(files[n]) for n in names]
    check_line(records[0], (200, 200))
    assert records[1]["error"].startswith(ImageDecodeError.user_message)
    assert records[2]["error"].startswith(ImageDecodeError.user_message)
    assert "Traceback" not in done.stderr
