"""digit_core.strokes: stroke templates and their renderer."""

from __future__ import annotations

import numpy as np
import pytest

from digit_core import strokes

ALL_TEMPLATES = [
    (digit, index, template)
    for digit, templates in strokes.TEMPLATES.items()
    for index, template in enumerate(templates)
]


def test_every_digit_has_a_template():
    assert sorted(strokes.TEMPLATES) == list(range(10))
    assert all(len(templates) >= 1 for templates in strokes.TEMPLATES.values())


@pytest.mark.parametrize(
    ("digit", "index", "template"),
    ALL_TEMPLATES,
    ids=[f"{d}-{i}" for d, i, _ in ALL_TEMPLATES],
)
def test_every_template_renders(digit, index, template):
    size = 112
    image = strokes.render(template, size=size)
    assert image.shape == (size, size)
    assert image.dtype == np.float32
    assert image.min() == 0.0  # background exactly 0
    assert image.max() == pytest.approx(1.0)  # full-strength stroke cores
    ink = image > 0.5
    assert 0.03 < ink.mean() < 0.5  # a stroke drawing, not a speck or a blob
    # the margin (10%) stays empty, less half a pen width for the strokes' caps
    edge = round(0.1 * size - 0.09 * size / 2) - 1
    assert not image[:edge].any() and not image[-edge:].any()
    assert not image[:, :edge].any() and not image[:, -edge:].any()


@pytest.mark.parametrize("size", [16, 28, 112, 400])
@pytest.mark.parametrize("thickness", [0.001, 0.05, 0.2])
def test_render_range_at_any_size_and_pen(size, thickness):
    image = strokes.render(strokes.TEMPLATES[8][0], size=size, thickness=thickness)
    assert image.shape == (size, size)
    assert image.dtype == np.float32
    assert image.min() >= 0.0 and image.max() <= 1.0
    assert image.max() > 0.5


def test_thicker_pen_draws_more_ink():
    template = strokes.TEMPLATES[2][0]
    areas = [
        (strokes.render(template, thickness=t) > 0.5).sum() for t in (0.03, 0.09, 0.15)
    ]
    assert areas[0] < areas[1] < areas[2]


def test_jitter_zero_is_identity_and_input_untouched():
    template = strokes.TEMPLATES[4][0]
    rng = np.random.default_rng(0)
    same = strokes.jitter(template, rng, amount=0.0)
    np.testing.assert_allclose(np.concatenate(same), np.concatenate(template))
    varied = strokes.jitter(template, rng)
    assert len(varied) == len(template)
    assert [len(s) for s in varied] == [len(s) for s in template]
    assert not np.allclose(np.concatenate(varied), np.concatenate(template))


def test_jitter_is_reproducible_by_seed():
    template = strokes.TEMPLATES[7][1]
    a = strokes.jitter(template, np.random.default_rng(5))
    b = strokes.jitter(template, np.random.default_rng(5))
    assert a == b


@pytest.mark.parametrize("digit", range(10))
def test_sample_draws_every_digit(digit):
    rng = np.random.default_rng(digit)
    for _ in range(5):
        image = strokes.sample(digit, rng, size=64)
        assert image.shape == (64, 64)
        assert image.dtype == np.float32
        assert image.min() >= 0.0 and image.max() <= 1.0
        assert (image > 0.5).sum() > 20


def test_arc_end_points():
    points = strokes.arc(0.5, 0.5, 0.2, 0.1, 0, 90, n=5)
    assert len(points) == 5
    assert points[0] == pytest.approx((0.7, 0.5))
    assert points[-1] == pytest.approx((0.5, 0.6))  # 90 degrees = down
