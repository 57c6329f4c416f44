"""The Train page in real Chromium: a tiny training, live charts, a clicked cell.

The app runs with a runs folder of its own (DIGITS_RUNS_DIR in a tmp folder).
The training is the fast preset on 12,000 images for two epochs, set in the
advanced section: long enough (several seconds even on a quiet machine) for
the live chart to be polled more than once; a second tab watches the same job.
"""

from __future__ import annotations

import time

import pytest
from e2e_kit import TIMEOUT, open_page, shown_count

from digit_core.runs import ENV_VAR as RUNS_ENV
from digit_core.runs import RunStore
from scripts.screenshots import serve

pytestmark = pytest.mark.e2e

START = ".st-key-train-start"
CURVES = ".st-key-train-curves .js-plotly-plot"
MATRIX = "[class*='st-key-train-matrix'] .scatterlayer .trace .points path"
CELL = ".st-key-train-cell"
WAIT = 240  # s: the tiny training on a busy 2-core machine, through a browser


@pytest.fixture(scope="module")
def served(tmp_path_factory, artifacts, mnist):
    """(URL, runs folder): the app with an empty runs folder of its own."""
    root = tmp_path_factory.mktemp("runs")
    env = {RUNS_ENV: str(root), "DIGITS_MNIST_PATH": mnist.source}
    try:
        with serve(artifacts / "streamlit-train.log", env) as url:
            yield url, root
    except RuntimeError as err:
        pytest.fail(str(err))


def curve_points(page) -> int:
    """Points on the live training curve, as Plotly holds them; 0 before a chart."""
    return page.evaluate(
        f"() => {{ const p = document.querySelector({CURVES!r});"
        " return p && p.data ? p.data[0].x.length : 0; }"
    )


def test_a_tiny_training_updates_live_and_its_matrix_opens_a_gallery(
    browser, served, artifacts
):
    train_url, root = served
    page = open_page(browser, f"{train_url}/train", ready=START)
    # a deep link on a fresh server still goes through app.py: menu and model panel
    sidebar = page.inner_text("[data-testid='stSidebar']")
    assert "Active model" in sidebar and "Classroom" in sidebar, sidebar
    page.get_by_text("Advanced settings").click()
    for label, value in (("Training images", "12000"), ("Epochs", "2")):
        field = page.get_by_role("spinbutton", name=label)
        field.fill(value)
        field.press("Enter")
    page.get_by_text("fast preset · 2 epochs · 12,000 images").wait_for()

    page.get_by_role("button", name="Train the model").click()
    page.get_by_text("Loading MNIST", exact=False).or_(
        page.get_by_text("Epoch 1/2", exact=False)
    ).first.wait_for()

    watcher = open_page(browser, f"{train_url}/train", ready=START)  # a second tab
    seen, deadline = [], time.monotonic() + WAIT
    while time.monotonic() < deadline and not page.locator(MATRIX).count():
        seen.append(curve_points(page))
        time.sleep(0.25)
    page.screenshot(path=artifacts / "train-done.png", full_page=True)
    print(f"curve points seen, every 0.25 s: {seen}")
    assert len(set(seen)) >= 2, seen  # the chart changed while training ran
    assert watcher.get_by_role("button", name="Train the model").is_disabled() or (
        "Finished" in watcher.inner_text("body")
    )  # the other tab sees the same job and offers no second start

    page.locator(MATRIX).nth(99).wait_for(state="attached", timeout=WAIT * 1000)
    assert page.locator(MATRIX).count() == 100  # a clickable square per cell
    assert "Finished" in page.inner_text("body")
    before = page.inner_text(CELL)
    assert before.startswith("True ")  # the most common mistake, before a click

    cell = page.locator(MATRIX).nth(1 * 10 + 1)  # true 1, read as 1
    cell.scroll_into_view_if_needed()  # the page scrolls inside its own container
    time.sleep(0.5)
    box = cell.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.get_by_text("True 1, read as 1", exact=False).wait_for(timeout=TIMEOUT * 1000)
    # the caption comes first; the pictures follow in the same rerun, a moment later
    shown = shown_count(page.locator(f"{CELL} img"))
    page.locator(CELL).scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "train-cell.png")
    print(f"gallery after the click: {page.inner_text(CELL)[:80]!r}, {shown} images")
    assert shown > 0
    watcher.reload()  # a reload starts nothing either
    watcher.wait_for_selector(MATRIX, state="attached")
    assert len(RunStore(root).list()) == 1  # two tabs, one job, one run
    watcher.close()
    page.close()
