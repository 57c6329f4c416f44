"""The Upload page in real Chromium: a photo-like picture is uploaded and read."""

from __future__ import annotations

import pytest
from e2e_kit import (
    READING,
    TIMEOUT,
    UPLOAD,
    digits_in,
    open_page,
    photo_of,
    settled_reading,
)

pytestmark = pytest.mark.e2e


def test_a_photo_is_read(browser, app_url, artifacts, tmp_path):
    path = tmp_path / "number.jpg"
    photo_of("73").save(path, quality=80)
    page = open_page(browser, f"{app_url}/upload", ready=UPLOAD)
    try:
        page.locator(UPLOAD).set_input_files(path)
        page.wait_for_selector(READING, timeout=TIMEOUT * 1000)
        text = settled_reading(page)
        page.screenshot(path=artifacts / "upload.png", full_page=True)
        assert digits_in(text) == "73", text
    finally:
        page.close()


def test_a_bad_file_gives_a_message(browser, app_url, tmp_path):
    path = tmp_path / "notes.png"
    path.write_bytes(b"these are notes, not a picture")
    page = open_page(browser, f"{app_url}/upload", ready=UPLOAD)
    try:
        page.locator(UPLOAD).set_input_files(path)
        error = page.locator("[data-testid='stAlertContentError']")
        error.wait_for(timeout=TIMEOUT * 1000)
        assert "not an image we can read" in error.inner_text()
    finally:
        page.close()
