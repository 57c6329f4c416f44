"""digit_core.charts: plotly figures and display pictures, checked by property."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from digit_core import charts


def probabilities(best: int, peak: float = 0.91) -> tuple[float, ...]:
    rest = (1.0 - peak) / 9
    return tuple(peak if d == best else rest for d in range(10))


def test_one_digit_colours_the_best_bar():
    figure = charts.probability_bars([probabilities(4)])
    assert isinstance(figure, go.Figure)
    (bars,) = figure.data
    assert list(bars.x) == list(range(10))
    assert sum(bars.y) == pytest.approx(1.0)
    assert bars.marker.color[4] == charts.BEST
    assert {c for d, c in enumerate(bars.marker.color) if d != 4} == {charts.OTHERS}
    assert bars.text[4] == "91%"
    assert not figure.layout.showlegend


def test_several_digits_get_one_named_trace_each():
    rows = [probabilities(4), probabilities(2, 0.55)]
    figure = charts.probability_bars(rows, names=["1st: 4", "2nd: 2"])
    assert [t.name for t in figure.data] == ["1st: 4", "2nd: 2"]
    assert figure.layout.showlegend
    assert figure.layout.barmode == "group"
    for trace, row in zip(figure.data, rows, strict=True):
        assert tuple(trace.y) == pytest.approx(row)


def test_tiny_probabilities_get_no_label():
    row = [0.0] * 10
    row[3] = 1.0
    (bars,) = charts.probability_bars([row]).data
    assert [t for t in bars.text if t] == ["100%"]


@pytest.mark.parametrize("rows", [[], [[0.1] * 9], [[0.1] * 10, [0.5] * 2]])
def test_rows_must_have_ten_values(rows):
    with pytest.raises(ValueError, match="10 probabilities"):
        charts.probability_bars(rows)


def test_figure_serialises():
    assert '"type":"bar"' in charts.probability_bars([probabilities(0)]).to_json()


def test_to_uint8_scales_floats_and_keeps_bytes():
    floats = np.array([[0.0, 0.5], [1.0, 2.0]], np.float32)
    assert charts.to_uint8(floats).tolist() == [[0, 128], [255, 255]]
    pixels = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    np.testing.assert_array_equal(charts.to_uint8(pixels), pixels)
    gray_alpha = np.stack([floats.clip(0, 1), np.ones_like(floats)], axis=2)
    assert charts.to_uint8(gray_alpha).shape == (2, 2)


def test_pixelated_makes_constant_blocks():
    rng = np.random.default_rng(0)
    image = rng.random((28, 28), dtype=np.float32)
    big = charts.pixelated(image, scale=8)
    assert big.shape == (224, 224) and big.dtype == np.uint8
    small = charts.to_uint8(image)
    for dy in range(8):
        for dx in range(8):
            np.testing.assert_array_equal(big[dy::8, dx::8], small)


def test_pixelated_keeps_channels_and_refuses_zero():
    assert charts.pixelated(np.zeros((3, 4, 3), np.uint8), 2).shape == (6, 8, 3)
    with pytest.raises(ValueError, match="scale"):
        charts.pixelated(np.zeros((3, 3)), 0)


def test_with_boxes_draws_on_a_copy():
    image = np.zeros((200, 300), np.float32)
    before = image.copy()
    out = charts.with_boxes(image, [(50, 60, 40, 80)], ["7"])
    np.testing.assert_array_equal(image, before)
    assert out.shape == (200, 300, 3) and out.dtype == np.uint8
    # The box's left edge carries the first box colour; its inside stays black.
    assert tuple(out[100, 50]) == charts.BOX_COLOURS[0]
    assert out[100, 70].max() == 0
    assert out[:55].max() > 0  # the label sits above the box


def test_with_boxes_shrinks_large_pictures_and_scales_boxes():
    image = np.full((2000, 1000, 3), 255, np.uint8)
    out = charts.with_boxes(image, [(500, 1000, 200, 400)], ["3"], max_side=500)
    assert out.shape == (500, 250, 3)
    assert tuple(out[300, 125]) == charts.BOX_COLOURS[0]  # left edge at x = 500/4


def test_with_boxes_shows_light_ink_on_transparent_background():
    rgba = np.zeros((50, 50, 4), np.uint8)
    rgba[20:30, 20:30] = 255  # opaque white ink, rest transparent
    out = charts.with_boxes(rgba, [], [])
    assert out[25, 25].tolist() == [255, 255, 255]
    assert out[5, 5].tolist() == [0, 0, 0]


def test_with_boxes_needs_a_label_per_box():
    with pytest.raises(ValueError, match="labels"):
        charts.with_boxes(np.zeros((10, 10)), [(0, 0, 5, 5)], [])


def test_with_boxes_maps_boxes_from_the_source_size():
    working = np.full((500, 1000), 1.0, np.float32)  # a 2000x1000 photo, halved
    out = charts.with_boxes(
        working, [(500, 100, 200, 400)], ["1"], source_size=(2000, 1000), max_side=500
    )
    assert out.shape == (250, 500, 3)
    assert tuple(out[100, 125]) == charts.BOX_COLOURS[0]  # x 500 * 512/2000 = 125


def test_to_uint8_scales_other_integer_types():
    sixteen = np.array([[0, 65535]], np.uint16)
    assert charts.to_uint8(sixteen).tolist() == [[0, 255]]


def test_for_display_pixelates_only_small_images():
    assert charts.for_display(np.zeros((28, 28), np.float32)).shape == (168, 168)
    assert charts.for_display(np.zeros((100, 80, 3), np.uint8)).shape == (100, 80, 3)


def test_for_display_can_pad_to_a_centred_square():
    strip = np.ones((20, 6), np.float32)  # a thin 1, fitted
    shown = charts.for_display(strip, square=True)
    assert shown.shape == (20 * charts.ENLARGE, 20 * charts.ENLARGE)
    columns = np.flatnonzero(shown.max(axis=0))
    assert (columns[0], columns[-1] + 1) == (7 * charts.ENLARGE, 13 * charts.ENLARGE)
    assert charts.for_display(np.ones((40, 50, 3)), square=True).shape == (50, 50, 3)


# the Train page's charts


def test_the_confusion_matrix_has_a_clickable_point_per_cell():
    confusion = np.arange(100).reshape(10, 10)
    figure = charts.confusion_matrix(confusion)
    cells, clicks = figure.data
    assert cells.type == "heatmap" and cells.hoverinfo == "skip"
    assert clicks.type == "scatter" and len(clicks.x) == 100
    for true, read, count, _ in clicks.customdata:
        assert confusion[int(true), int(read)] == count
    assert list(clicks.y[:10]) == [0] * 10 and list(clicks.x[:10]) == list(range(10))
    assert figure.layout.yaxis.autorange == "reversed"  # true 0 on top
    assert cells.text[3][4] == "34"


def test_the_normalised_matrix_shows_shares_of_each_true_digit():
    confusion = np.diag([90] * 10) + np.eye(10, k=1, dtype=int) * 10
    cells, clicks = charts.confusion_matrix(confusion, normalized=True).data
    assert cells.text[0][0] == "90.0%" and cells.text[0][1] == "10.0%"
    assert cells.text[9][9] == "100.0%" and cells.text[0][5] == ""
    assert clicks.customdata[1][3] == pytest.approx(0.1)


def test_the_confusion_matrix_must_be_10_by_10():
    with pytest.raises(ValueError, match="10 x 10"):
        charts.confusion_matrix([[1, 2], [3, 4]])


def test_learning_curves_leave_out_missing_validation():
    from digit_core.jobs import CurvePoint
    from digit_core.train import EpochMetrics

    history = [
        EpochMetrics(1, 0.5, 0.8, float("nan"), float("nan"), 1e-3, 10.0),
        EpochMetrics(2, 0.3, 0.9, float("nan"), float("nan"), 1e-3, 10.0),
    ]
    curve = [CurvePoint(0.5, 0.9, 0.6), CurvePoint(1.0, 0.5, 0.8)]
    figure = charts.learning_curves(history, curve)
    by_name = {}
    for trace in figure.data:
        by_name.setdefault(trace.name, []).append(trace)
    assert [len(t.x) for t in by_name["validation"]] == [0, 0]
    assert list(by_name["training"][1].y) == [0.8, 0.9]  # accuracy, right chart
    assert list(by_name["training, running"][0].x) == [0.5, 1.0]
    assert sum(t.showlegend is not False for t in figure.data) == 3


def test_precision_recall_and_captions():
    figure = charts.precision_recall([0.9] * 10, [0.95] * 10)
    assert [t.name for t in figure.data] == ["precision", "recall"]
    assert figure.layout.yaxis.range[0] == pytest.approx(0.85)
    with pytest.raises(ValueError):
        charts.precision_recall([0.9] * 9, [0.9] * 10)
    row = [0.01, 0, 0, 0, 0.12, 0, 0, 0, 0, 0.87]
    assert charts.probability_caption(row) == "9 87% · 4 12%"
    assert charts.probability_caption([0.0] * 9 + [1.0]) == "9 100%"
