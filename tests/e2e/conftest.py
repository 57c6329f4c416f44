"""Fixtures for the browser tests: `streamlit run app.py` on loopback, and Chromium.

The app is started once per session on a free port; Chromium is Debian's
(/usr/bin/chromium), never a Playwright download. Under CI=true a missing
browser fails the tests instead of skipping them. Screenshots go to artifacts/.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.screenshots import CHROMIUM, ROOT, launch, serve

ARTIFACTS = ROOT / "artifacts" / "e2e"


def missing(what: str) -> None:
    """Under CI a missing dependency fails the test; elsewhere it skips it."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} is missing (CI=true)")
    pytest.skip(f"{what} is missing")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def app_url(artifacts: Path) -> Iterator[str]:
    """The app, served by `streamlit run app.py` on 127.0.0.1 and a free port."""
    try:
        with serve(artifacts / "streamlit.log") as url:
            yield url
    except RuntimeError as err:
        pytest.fail(str(err))


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the playwright package")
    if not CHROMIUM.is_file():
        missing(f"Chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()
