"""digit_core.normalize: MNIST's own 20x20 fit and centre-of-mass placement."""

from __future__ import annotations

import numpy as np
import pytest

from digit_core import strokes
from digit_core.errors import EmptyImageError
from digit_core.normalize import (
    BOX,
    CENTRE_SLACK,
    SIZE,
    center_by_mass,
    fit_box,
    ink_bbox,
    to_mnist,
)


def moments_centre(image: np.ndarray) -> tuple[float, float]:
    """(row, column) of the centre of mass, by numpy: an independent oracle."""
    mass = image.astype(np.float64)
    rows, cols = np.indices(mass.shape)
    return (rows * mass).sum() / mass.sum(), (cols * mass).sum() / mass.sum()


def cropped(ink: np.ndarray) -> np.ndarray:
    x, y, w, h = ink_bbox(ink)
    return ink[y : y + h, x : x + w]


def test_ink_bbox_docstring_example():
    ink = np.zeros((10, 10), np.float32)
    ink[2, 5] = 1.0
    assert ink_bbox(ink) == (5, 2, 1, 1)


def test_ink_bbox_of_blank_raises():
    with pytest.raises(EmptyImageError):
        ink_bbox(np.zeros((10, 10), np.float32))


@pytest.mark.parametrize(
    ("h", "w"),
    [(100, 50), (50, 100), (7, 3), (3, 7), (1, 40), (40, 1), (20, 20), (5, 5)]
    + [(300, 299), (13, 200), (21, 20), (2, 2)],
)
def test_fit_box_longer_side_is_20_and_aspect_kept(h, w):
    rng = np.random.default_rng(h * 1000 + w)
    ink = rng.random((h, w)).astype(np.float32)
    before = ink.copy()
    fitted = fit_box(ink)
    out_h, out_w = fitted.shape
    assert max(out_h, out_w) == BOX
    assert min(out_h, out_w) >= 1
    # each side is the exact scaled length rounded (or 1 for slivers)
    scale = BOX / max(h, w)
    assert abs(out_h - h * scale) <= 0.5 or out_h == 1
    assert abs(out_w - w * scale) <= 0.5 or out_w == 1
    assert fitted.dtype == np.float32
    assert fitted.min() >= 0.0 and fitted.max() <= 1.0
    np.testing.assert_array_equal(ink, before)  # input not modified


def test_fit_box_keeps_mean_intensity_when_downscaling():
    """Area averaging (MNIST's anti-aliasing) keeps the mean grey level."""
    rng = np.random.default_rng(0)
    ink = (rng.random((200, 120)) > 0.7).astype(np.float32)
    assert fit_box(ink).mean() == pytest.approx(ink.mean(), abs=0.02)


def shapes() -> list[tuple[str, np.ndarray]]:
    """Boxes (h, w <= 20) with their mass off-centre in different ways."""
    rng = np.random.default_rng(1)
    out = [
        (f"template-{digit}-{i}", fit_box(cropped(strokes.render(template, 80))))
        for digit, templates in strokes.TEMPLATES.items()
        for i, template in enumerate(templates)
    ]
    ell = np.zeros((20, 12), np.float32)
    ell[:, 3:6] = 1.0  # an L: tall stem, heavy foot
    ell[14:19, 3:] = 1.0
    out.append(("L", ell))
    out.append(("random", rng.random((17, 9)).astype(np.float32)))
    out.append(("dot", np.ones((1, 1), np.float32)))
    out.append(("bar", np.ones((3, 20), np.float32)))
    for width in (1, 2):  # cv2.moments reads an (n, 2) array as n points
        out.append((f"{width} px wide stem", np.ones((20, width), np.float32)))
        out.append((f"{width} px tall bar", np.ones((width, 20), np.float32)))
    return out


@pytest.mark.parametrize(("name", "box"), shapes(), ids=[n for n, _ in shapes()])
def test_center_by_mass_puts_centre_at_14_14(name, box):
    before = box.copy()
    framed = center_by_mass(box)
    assert framed.shape == (SIZE, SIZE)
    assert framed.dtype == np.float32
    assert framed.min() >= 0.0 and framed.max() <= 1.0
    row, col = moments_centre(framed)
    assert abs(row - 14.0) < 0.5, name
    assert abs(col - 14.0) < 0.5, name
    np.testing.assert_array_equal(box, before)
    # the shift only moves ink: nothing is lost off the frame
    assert framed.sum() == pytest.approx(box.sum(), rel=0.01)


def test_center_by_mass_of_blank_raises():
    with pytest.raises(EmptyImageError):
        center_by_mass(np.zeros((20, 20), np.float32))


@pytest.mark.parametrize(("name", "box"), shapes(), ids=[n for n, _ in shapes()])
def test_center_by_mass_by_whole_pixels(name, box):
    """whole=True: moved by whole pixels (crisp), centre within CENTRE_SLACK px."""
    framed = center_by_mass(box, whole=True)
    row, col = moments_centre(framed)
    assert abs(row - 14.0) <= CENTRE_SLACK + 1e-3, name
    assert abs(col - 14.0) <= CENTRE_SLACK + 1e-3, name
    assert framed.sum() == pytest.approx(box.sum(), rel=0.01)
    # the box pasted at the nearest whole-pixel offset, blended by 5% at most a side
    cy, cx = moments_centre(box)
    top, left = round(14.0 - cy), round(14.0 - cx)
    h, w = box.shape
    pasted = np.zeros((SIZE, SIZE), np.float32)
    pasted[top : top + h, left : left + w] = box
    assert np.abs(framed - pasted).max() <= 2 * (0.5 - CENTRE_SLACK) + 1e-4, name


@pytest.fixture(scope="module")
def mnist_digits(mnist):
    return mnist.x_test[:1000].astype(np.float32) / 255.0


def test_to_mnist_leaves_mnist_digits_nearly_unchanged(mnist_digits):
    """Re-normalising an MNIST digit moves it less than a one-pixel shift would."""
    changes, shifts = [], []
    for digit in mnist_digits:
        changes.append(np.abs(to_mnist(digit) - digit).mean())
        shifts.append(np.abs(np.roll(digit, 1, axis=1) - digit).mean())
    changes, shifts = np.array(changes), np.array(shifts)
    assert (changes < shifts).all(), np.flatnonzero(changes >= shifts)
    assert np.median(changes / shifts) < 0.6


def test_mnist_digits_come_back_where_they_were(mnist_digits):
    """MNIST was centred by whole pixels: to_mnist puts its digits back unmoved."""
    moved = 0
    for digit in mnist_digits[:300]:
        rows, cols = (
            np.flatnonzero(digit.any(axis=1)),
            np.flatnonzero(digit.any(axis=0)),
        )
        if max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 != BOX:
            continue
        moved += not np.allclose(to_mnist(digit), digit / digit.max(), atol=0.06)
    assert moved <= 3


def test_to_mnist_output_is_mnist_style(mnist_digits):
    for digit in mnist_digits[:200]:
        out = to_mnist(digit)
        assert out.shape == (SIZE, SIZE)
        assert out.dtype == np.float32
        assert out.min() >= 0.0
        assert out.max() == pytest.approx(1.0)
        row, col = moments_centre(out)
        assert abs(row - 14.0) < 0.5 and abs(col - 14.0) < 0.5
        _, _, w, h = ink_bbox(out, floor=0.5)
        assert max(w, h) <= BOX


def test_to_mnist_peaks_at_one_whatever_the_contrast():
    ink = 0.3 * strokes.render(strokes.TEMPLATES[3][0], 60)
    assert to_mnist(ink).max() == pytest.approx(1.0)
