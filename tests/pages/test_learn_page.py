"""pages/learn.py: inside the network for a drawing, and the dataset explorer."""

from __future__ import annotations

import pytest
from page_kit import canvas_state, page

from digit_core import explore, inside
from digit_core import model as model_lib
from digit_core.data import ENV_VAR
from digit_core.errors import DatasetNotFoundError
from pages.common import model_path

CANVAS = "learn.canvas"  # the page's keys; pages/learn.py is a script, not imported
TAB = "learn.tab"


@pytest.fixture
def learn():
    at = page("pages/learn.py").run()
    assert not at.exception
    return at


@pytest.fixture
def explorer(mnist, monkeypatch):
    """The page on its Dataset explorer tab, with MNIST where the tests found it."""
    monkeypatch.setenv(ENV_VAR, mnist.source)
    at = page("pages/learn.py")
    at.session_state[TAB] = "Dataset explorer"
    at.run()
    assert not at.exception
    return at


def test_before_drawing_the_layers_and_filters_show(learn):
    assert learn.info[0].value.startswith("Draw a digit")
    net = model_lib.load(model_path())
    members = inside.members(net)  # an ensemble: its table, then each member's
    nets = members if members == (net,) else (net, *members)
    assert len(learn.dataframe) == len(nets)
    for table, shown in zip(learn.dataframe, nets, strict=True):
        assert len(table.value) == len(model_lib.layer_table(shown))
        assert list(table.value.columns) == [
            "layer",
            "type",
            "output shape",
            "parameters",
        ]
    assert len(learn.image) == len(inside.first_filters(net))


def test_a_drawing_shows_every_convolution_layer(learn, digits):
    learn.session_state[CANVAS] = canvas_state(digits[3])
    learn.run()
    assert not learn.exception and not learn.info
    net = model_lib.load(model_path())
    blocks = sum(len(inside.conv_blocks(cnn)) for cnn in inside.members(net))
    # the input, one grid per convolution block of each CNN, their filters
    assert len(learn.image) == 1 + blocks + len(inside.first_filters(net))


def test_the_explorer_shows_a_class(explorer, mnist):
    counts = explore.class_counts(mnist.y_test)  # the test set comes first
    subheaders = [s.value for s in explorer.subheader]
    assert subheaders == [f"{counts[0]:,} examples of 0", "Hardest for the model"]
    assert len(explorer.image) == 3  # random grid, mean, hardest
    assert not explorer.warning and not explorer.error


def test_choosing_a_digit_and_shuffling(explorer, mnist):
    explorer.radio(key="learn.digit").set_value(7).run()
    count = explore.class_counts(mnist.y_test)[7]
    assert explorer.subheader[0].value == f"{count:,} examples of 7"
    explorer.button(key="learn.shuffle").click().run()
    assert not explorer.exception
    assert explorer.session_state["learn.seed"] == 1


def test_missing_mnist_says_how_to_provide_it(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nowhere.npz"))
    at = page("pages/learn.py")
    at.session_state[TAB] = "Dataset explorer"
    at.run()
    assert not at.exception and not at.error
    assert at.warning[0].value == DatasetNotFoundError.user_message
    commands = "\n".join(block.value for block in at.code)
    assert "data/mnist.npz" in commands and f"{ENV_VAR}=" in commands
