"""Join from a phone: the address students open on the same network, as a QR code.

Streamlit listens on every interface unless `server.address` names one, so the
address to hand out is this machine's LAN IP with the server's port. A bound
loopback address (127.0.0.1, localhost) cannot be reached from a phone: the
result says so, and the page tells the teacher how to start the app instead.

    here = address(server_address=None, port=8501, lan="192.168.1.20")
    here.url                 # "http://192.168.1.20:8501/"
    qr_png(here.url)         # PNG bytes, dark modules on white
"""

from __future__ import annotations

import io
import ipaddress
import socket
from dataclasses import dataclass

import segno

ANY_ADDRESS = ("", "0.0.0.0", "::")  # server.address values that mean every interface
PROBE = ("10.255.255.255", 1)  # any non-local address: routing picks the LAN side
QR_SCALE = 10  # px per module: a version-3 code is then about 330 px wide
QR_BORDER = 4  # modules of quiet zone, as the QR standard asks


@dataclass(frozen=True, slots=True)
class JoinAddress:
    """Where students point their phones."""

    url: str
    host: str
    port: int
    loopback: bool  # True: only this computer can open `url`


def lan_ip() -> str | None:
    """This machine's IPv4 address on its network; None when it cannot be told.

    Connecting a UDP socket sends no packet; it only asks the OS which local
    address would route out. Without a route, the host name's address is used,
    which may be loopback (Debian maps the host name to 127.0.1.1).
    """
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(PROBE)
            return str(probe.getsockname()[0])
    except OSError:
        pass
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return None


def is_loopback(host: str) -> bool:
    """True for addresses only this machine reaches: 127.x.x.x, ::1, localhost."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # another host name: assume the network resolves it


def address(
    server_address: str | None,
    port: int,
    lan: str | None,
    base_path: str = "",
    secure: bool = False,
) -> JoinAddress:
    """The URL of the app for phones on the same network.

    server_address: Streamlit's `server.address` (None or "0.0.0.0": every
    interface, so `lan` is used); port: `server.port`; lan: lan_ip();
    base_path: `server.baseUrlPath`; secure: an SSL certificate is set (https).
    """
    bound = (server_address or "").strip()
    host = bound if bound not in ANY_ADDRESS else (lan or "127.0.0.1")
    netloc = f"[{host}]" if ":" in host else host  # IPv6 literals need brackets
    path = "/" + "".join(f"{part}/" for part in base_path.split("/") if part)
    scheme = "https" if secure else "http"
    return JoinAddress(
        url=f"{scheme}://{netloc}:{port}{path}",
        host=host,
        port=port,
        loopback=is_loopback(host),
    )


def qr_png(text: str, scale: int = QR_SCALE) -> bytes:
    """`text` as a QR code PNG (black on white, quiet zone included).

    Error correction M (15% damage) with segno's boost: a projected code
    still scans from the back of a room.
    """
    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(
        buffer, kind="png", scale=scale, border=QR_BORDER
    )
    return buffer.getvalue()
