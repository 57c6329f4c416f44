"""digit_core.outside: USPS drawn as pictures, and scoring pictures read whole."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digit_core import evaluation, outside, preprocess
from digit_core.errors import DatasetNotFoundError
from digit_core.outside import UspsNotFoundError

# usps_pictures


def test_pictures_are_dark_ink_on_paper_with_a_margin(usps):
    x, _ = usps
    before = x[:20].copy()
    pictures = outside.usps_pictures(x[:20])
    np.testing.assert_array_equal(x[:20], before)  # input not modified
    assert len(pictures) == 20
    side = outside.USPS_SIDE * outside.SCALE + 2 * outside.MARGIN
    m = outside.MARGIN
    for picture in pictures:
        assert picture.shape == (side, side) and picture.dtype == np.uint8
        ring = np.concatenate(
            [picture[:m].ravel(), picture[-m:].ravel(), picture[:, :m].ravel()]
        )
        assert (ring == outside.PAPER).all()
        assert picture.min() < 64  # ink is dark


def test_pictures_shrink_back_to_the_usps_digit(usps):
    """Independent check: undo the drawing with OpenCV and compare with USPS."""
    x, _ = usps
    m = outside.MARGIN
    for digit, picture in zip(x[:50], outside.usps_pictures(x[:50]), strict=True):
        inner = picture[m:-m, m:-m].astype(np.float32)
        back = cv2.resize(inner, (16, 16), interpolation=cv2.INTER_AREA)
        ink = 1.0 - back / 255.0
        assert np.abs(ink - digit).mean() < 0.05


def test_scale_and_margin(usps):
    x, _ = usps
    (picture,) = outside.usps_pictures(x[:1], scale=2, margin=3)
    assert picture.shape == (38, 38)


def test_pictures_go_through_preprocessing_mnist_style(usps):
    x, _ = usps
    for picture in outside.usps_pictures(x[:: len(x) // 10]):
        digit = preprocess.preprocess(picture)
        assert digit.shape == (28, 28) and digit.dtype == np.float32
        row, col = preprocess.mass_centre(digit)
        assert abs(row - 14) < 0.5 and abs(col - 14) < 0.5


# load_usps


def test_load_usps_default_path(usps):
    loaded = outside.load_usps()
    x, y = usps
    assert loaded.x.shape == x.shape == (2007, 16, 16)
    assert loaded.x.dtype == np.float32 and loaded.y.dtype == np.uint8
    np.testing.assert_array_equal(loaded.y, y)
    assert loaded.source == str(outside.USPS_PATH)


def write_npz(path, **arrays):
    with path.open("wb") as handle:
        np.savez(handle, **arrays)
    return path


@pytest.mark.parametrize(
    "arrays",
    [
        {"x": np.zeros((3, 16, 16), np.float32)},  # no labels
        {"x": np.zeros((3, 28, 28), np.float32), "y": np.zeros(3, np.uint8)},
        {"x": np.zeros((3, 16, 16), np.float32), "y": np.zeros(4, np.uint8)},
        {"x": np.zeros((3, 16, 16), np.uint8), "y": np.zeros(3, np.uint8)},
        {"x": np.full((3, 16, 16), 2.0, np.float32), "y": np.zeros(3, np.uint8)},
        {"x": np.zeros((3, 16, 16), np.float32), "y": np.full(3, 10, np.uint8)},
    ],
    ids=["no-labels", "shape", "count", "dtype", "range", "labels"],
)
def test_load_usps_rejects_wrong_files(tmp_path, arrays):
    with pytest.raises(UspsNotFoundError):
        outside.load_usps(write_npz(tmp_path / "usps.npz", **arrays))


def test_load_usps_missing_or_not_npz(tmp_path):
    with pytest.raises(DatasetNotFoundError) as missing:
        outside.load_usps(tmp_path / "nowhere.npz")
    assert isinstance(missing.value, UspsNotFoundError)
    assert "usps.npz" in missing.value.user_message
    text = tmp_path / "usps.npz"
    text.write_text("not an archive")
    with pytest.raises(UspsNotFoundError):
        outside.load_usps(text)


def test_load_usps_small_valid_file(tmp_path):
    x = np.random.default_rng(0).random((5, 16, 16)).astype(np.float64)
    y = np.arange(5, dtype=np.int64)
    loaded = outside.load_usps(write_npz(tmp_path / "u.npz", x=x, y=y))
    assert loaded.x.dtype == np.float32 and loaded.y.dtype == np.uint8
    np.testing.assert_array_equal(loaded.y, y)


# score_readings


def test_no_digit_counts_as_wrong():
    result = outside.score_readings(np.array([-1, 1, 2, 2]), np.array([0, 1, 2, 3]))
    scores = result.evaluation
    assert result.unread == 1
    assert scores.accuracy == pytest.approx(0.5)
    assert scores.count == 4
    assert np.array(scores.confusion).sum() == 3
    assert scores.per_class_accuracy[:4] == (0.0, 1.0, 1.0, 0.0)
    assert scores.confusion[3][2] == 1


labelled = st.integers(1, 60).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(-1, 9), min_size=n, max_size=n),
        st.lists(st.integers(0, 9), min_size=n, max_size=n),
    )
)


@settings(max_examples=60, deadline=None)
@given(labelled)
def test_scores_match_a_direct_count(pair):
    read, labels = map(np.array, pair)
    result = outside.score_readings(read, labels)
    scores = result.evaluation
    assert scores.accuracy == pytest.approx(float((read == labels).mean()))
    assert result.unread == int((read == -1).sum())
    assert np.array(scores.confusion).sum() + result.unread == len(labels)
    for digit in range(10):
        mine = labels == digit
        expected = float((read[mine] == digit).mean()) if mine.any() else 0.0
        assert scores.per_class_accuracy[digit] == pytest.approx(expected)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 9), min_size=1, max_size=40), st.randoms())
def test_without_blanks_it_agrees_with_evaluation_score(labels, rng):
    labels = np.array(labels)
    read = np.array([rng.randrange(10) for _ in labels])
    ours = outside.score_readings(read, labels).evaluation
    theirs = evaluation.score(np.eye(10, dtype=np.float32)[read], labels)
    assert ours == theirs


# reading pictures with a model


def test_read_digits_in_chunks_like_one_batch(recognizer, usps):
    x, _ = usps
    pictures = [*outside.usps_pictures(x[:12]), b"not a picture"]
    whole = outside.read_digits(recognizer, pictures)
    chunked = outside.read_digits(recognizer, pictures, chunk=5)
    np.testing.assert_array_equal(whole, chunked)
    assert whole.shape == (13,)
    assert whole[-1] == -1  # an unreadable picture is read as nothing
    assert ((whole[:-1] >= 0) & (whole[:-1] <= 9)).all()


def test_evaluate_pictures_counts_everything(recognizer, usps):
    x, y = usps
    result = outside.evaluate_pictures(
        recognizer, outside.usps_pictures(x[:30]), y[:30]
    )
    assert result.evaluation.count == 30
    assert np.array(result.evaluation.confusion).sum() + result.unread == 30
