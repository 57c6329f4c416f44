"""Many small images tiled into one picture, for galleries and channel grids.

One st.image of a mosaic is far lighter for the browser than dozens of small
images, and keeps the tiles aligned on any screen width. Used by inside.py
(a layer's channels, its filters) and explore.py (MNIST by class).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from digit_core.charts import to_uint8

GAP = 1  # px between tiles: enough to tell 28x28 digits or 3x3 filters apart
GAP_VALUE = 0.35  # grey between tiles, distinct from black paper and white ink


def mosaic(
    tiles: NDArray, columns: int | None = None, gap: int = GAP
) -> NDArray[np.uint8]:
    """Tile (n, h, w) images row by row into one (rows*(h+gap)-gap, ...) image.

    tiles: float in [0, 1] or uint8 (see charts.to_uint8), not modified.
    columns: tiles per row; default ceil(sqrt(n)), a near-square grid. Cells
    after the last tile and the gaps are GAP_VALUE grey. Example: 32 tiles of
    26x26 with gap 1 -> 6 columns, 6 rows -> (161, 161) uint8.
    """
    array = np.asarray(tiles)
    if array.ndim != 3 or len(array) == 0:
        msg = f"need tiles as (n, h, w) with n >= 1, not {array.shape}"
        raise ValueError(msg)
    count, h, w = array.shape
    # flattened first: to_uint8 would read an (n, h, 1) stack as one gray picture
    pixels = to_uint8(array.reshape(count, h * w)).reshape(count, h, w)
    columns = columns or math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    grey = round(GAP_VALUE * 255)
    out = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap), grey, np.uint8)
    for index, tile in enumerate(pixels):
        top, left = (index // columns) * (h + gap), (index % columns) * (w + gap)
        out[top : top + h, left : left + w] = tile
    return out
