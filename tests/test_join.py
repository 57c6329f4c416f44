"""digit_core.join: the address phones open, and its QR code read back by OpenCV."""

from __future__ import annotations

import ipaddress

import cv2
import numpy as np
import pytest

from digit_core import join


@pytest.mark.parametrize("bound", [None, "", "0.0.0.0", "::"])
def test_listening_everywhere_gives_the_lan_address(bound):
    here = join.address(bound, 8501, "192.168.1.20")
    assert here.url == "http://192.168.1.20:8501/"
    assert (here.host, here.port, here.loopback) == ("192.168.1.20", 8501, False)


def test_a_bound_address_is_used_as_it_is():
    here = join.address("10.0.0.5", 9000, "192.168.1.20")
    assert here.url == "http://10.0.0.5:9000/" and not here.loopback


@pytest.mark.parametrize("bound", ["127.0.0.1", "localhost", "::1"])
def test_a_loopback_address_is_flagged(bound):
    here = join.address(bound, 8501, "192.168.1.20")
    assert here.loopback and here.host == bound


def test_without_a_lan_address_it_says_loopback():
    here = join.address(None, 8501, None)
    assert here.url == "http://127.0.0.1:8501/" and here.loopback
    assert join.address(None, 8501, "127.0.1.1").loopback  # Debian's host name


def test_ipv6_base_path_and_https_make_a_valid_url():
    here = join.address("fd00::5", 8501, None, base_path="/digits/studio/", secure=True)
    assert here.url == "https://[fd00::5]:8501/digits/studio/"
    assert join.address(None, 80, "10.1.1.1", base_path="digits").url == (
        "http://10.1.1.1:80/digits/"
    )


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.1.1", True),
        ("[::1]", True),
        ("LOCALHOST", True),
        ("app.localhost", True),
        ("192.168.0.2", False),
        ("studio.school.lan", False),
    ],
)
def test_is_loopback(host, loopback):
    assert join.is_loopback(host) is loopback


def test_lan_ip_is_an_address_or_none():
    found = join.lan_ip()
    assert found is None or ipaddress.ip_address(found).version == 4


def test_the_qr_code_reads_back_as_the_url():
    """OpenCV's QR decoder is the independent check on what segno encoded."""
    url = "http://192.168.1.20:8501/"
    data = join.qr_png(url)
    assert data.startswith(b"\x89PNG")
    picture = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(picture)
    assert text == url
