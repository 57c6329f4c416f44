"""digit_core: everything behind the digit studio, importable without Streamlit.

`from digit_core import Recognizer` is resolved lazily, so that importing the
light modules (preprocess, segment, images) does not import Keras.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from digit_core.recognize import Recognizer

__all__ = ["Recognizer"]


def __getattr__(name: str) -> Any:
    if name == "Recognizer":
        from digit_core.recognize import Recognizer

        return Recognizer
    msg = f"module 'digit_core' has no attribute {name!r}"
    raise AttributeError(msg)
