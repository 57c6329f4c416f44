"""The per-user data folder: where runs and "my digits" live, never in a checkout."""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_FOLDER = "digit-studio"


def user_data_folder() -> Path:
    """The platform's per-user data folder for this app.

    Linux and BSD: $XDG_DATA_HOME (default ~/.local/share); macOS: ~/Library/
    Application Support; Windows: %LOCALAPPDATA%. Then digit-studio.
    """
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    return base / APP_FOLDER
