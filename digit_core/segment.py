"""Split a picture of a number into its digits, left to right.

Steps: ink components (8-connected); specks of noise dropped; fragments of one
digit grouped (the detached bar of a 5, a 4 or 7 in two strokes, a broken
line); groups too wide for one digit cut where the ink is thinnest. Boxes are
in the coordinates of the ink image given; `to_input_box` maps them back.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from digit_core.errors import EmptyImageError

INK = 0.25  # a pixel is ink above this (paper is exactly 0 after preprocessing)
SPECK_AREA = 0.02  # components under 2% of the largest one's area are noise...
SPECK_SIZE = 0.2  # ...and so are those under 20% of the tallest in both directions
FRAGMENT_HEIGHT = 0.55  # shorter than this fraction of the line: part of a digit
FRAGMENT_REACH = 0.35  # a fragment joins a digit this close, in line heights
OVERLAP = 0.45  # pieces sharing this much of the narrower one's width: one digit
WIDE = 1.35  # a group wider than this many line heights holds several digits
DIGIT_WIDTH = 0.7  # typical digit width in line heights, for counting digits
MODES = ("auto", "single", "multi")

Box = tuple[int, int, int, int]  # x, y, w, h


@dataclass(frozen=True, slots=True)
class Segment:
    """One digit's place and ink."""

    box: Box  # in the ink image's pixels
    ink: NDArray[np.float32]  # (h, w) of the box, only this digit's ink


@dataclass(slots=True)
class _Group:
    labels: list[int]
    x0: int
    y0: int
    x1: int  # exclusive
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    def absorb(self, other: _Group) -> None:
        self.labels += other.labels
        self.x0, self.y0 = min(self.x0, other.x0), min(self.y0, other.y0)
        self.x1, self.y1 = max(self.x1, other.x1), max(self.y1, other.y1)


def _components(ink: NDArray[np.float32]) -> tuple[NDArray[np.int32], list[_Group]]:
    """Labelled ink and one group per component that is not a speck."""
    mask = (ink > INK).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        raise EmptyImageError
    stats = stats[1:]
    biggest_area = stats[:, cv2.CC_STAT_AREA].max()
    tallest = stats[:, cv2.CC_STAT_HEIGHT].max()
    groups = []
    for label, (x, y, w, h, area) in enumerate(stats.tolist(), start=1):
        tiny = w < SPECK_SIZE * tallest and h < SPECK_SIZE * tallest
        if area < SPECK_AREA * biggest_area or tiny:
            continue
        groups.append(_Group([label], x, y, x + w, y + h))
    return labels, groups


def _overlap(a: _Group, b: _Group) -> float:
    shared = min(a.x1, b.x1) - max(a.x0, b.x0)
    return shared / max(1, min(a.width, b.width))


def _gap(a: _Group, b: _Group) -> int:
    return max(0, max(a.x0, b.x0) - min(a.x1, b.x1))


def _merge(groups: list[_Group]) -> list[_Group]:
    """Join pieces that share columns, then fragments to their nearest digit."""
    line = float(
        np.median(
            [
                g.height
                for g in groups
                if g.height >= 0.5 * max(h.height for h in groups)
            ]
        )
    )
    groups = sorted(groups, key=lambda g: g.x0)
    merged = True
    while merged:
        merged = False
        for i, a in enumerate(groups):
            for b in groups[i + 1 :]:
                if _overlap(a, b) >= OVERLAP:
                    a.absorb(b)
                    groups.remove(b)
                    merged = True
                    break
            if merged:
                break
    for fragment in [g for g in groups if g.height < FRAGMENT_HEIGHT * line]:
        others = [
            g
            for g in groups
            if g is not fragment and g.height >= FRAGMENT_HEIGHT * line
        ]
        if not others:
            continue
        nearest = min(others, key=lambda g: _gap(g, fragment))
        if _gap(nearest, fragment) <= FRAGMENT_REACH * line:
            nearest.absorb(fragment)
            groups.remove(fragment)
    return sorted(groups, key=lambda g: g.x0)


def _cuts(ink: NDArray[np.float32], pieces: int) -> list[int]:
    """Columns where to cut touching digits: the thinnest ink near even spacing."""
    profile = (ink > INK).sum(axis=0).astype(np.float64)
    width = len(profile)
    cuts = []
    for k in range(1, pieces):
        centre = round(k * width / pieces)
        reach = max(1, round(0.25 * width / pieces))
        lo, hi = max(1, centre - reach), min(width - 1, centre + reach)
        if hi <= lo:
            continue
        window = profile[lo:hi]
        # prefer the thinnest column; among equals, the one nearest the centre
        distance = np.abs(np.arange(lo, hi) - centre)
        cuts.append(lo + int(np.lexsort((distance, window))[0]))
    return sorted(set(cuts))


def _segment_of(
    ink: NDArray[np.float32], labels: NDArray[np.int32], group: _Group
) -> NDArray[np.float32]:
    """The group's own ink: its components plus their anti-aliased rims."""
    region = (slice(group.y0, group.y1), slice(group.x0, group.x1))
    own = np.isin(labels[region], group.labels).astype(np.uint8)
    rim = cv2.dilate(own, np.ones((3, 3), np.uint8)).astype(bool)
    others = (labels[region] > 0) & ~own.astype(bool)
    return np.where(rim & ~others, ink[region], 0.0).astype(np.float32)


def _trimmed(x: int, y: int, ink: NDArray[np.float32]) -> Segment | None:
    """A segment cropped to its ink; None when nothing is left."""
    rows = np.flatnonzero((ink > INK).any(axis=1))
    cols = np.flatnonzero((ink > INK).any(axis=0))
    if rows.size == 0:
        return None
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    return Segment(
        (x + int(c0), y + int(r0), int(c1 - c0), int(r1 - r0)), ink[r0:r1, c0:c1]
    )


def segment(ink: NDArray[np.float32], mode: str = "auto") -> tuple[Segment, ...]:
    """The digits in `ink`, left to right; EmptyImageError when there are none.

    ink: (h, w) float32 in [0, 1], ink high, paper exactly 0 (preprocess.prepare).
    mode: "single" reads all ink as one digit; "multi" and "auto" split it
    (auto = multi that also accepts a single digit; both give one segment for
    one digit).
    """
    if mode not in MODES:
        msg = f"mode must be one of {', '.join(MODES)}, not {mode!r}"
        raise ValueError(msg)
    labels, groups = _components(ink)
    if not groups:
        raise EmptyImageError
    if mode == "single":
        whole = groups[0]
        for g in groups[1:]:
            whole.absorb(g)
        found = _trimmed(whole.x0, whole.y0, _segment_of(ink, labels, whole))
        return (found,) if found else ()
    groups = _merge(groups)
    line = float(np.median([g.height for g in groups]))
    segments = []
    for group in groups:
        own = _segment_of(ink, labels, group)
        pieces = round(group.width / (DIGIT_WIDTH * max(line, group.height)))
        if group.width <= WIDE * max(line, group.height) or pieces < 2:
            cuts = []
        else:
            cuts = _cuts(own, pieces)
        for start, stop in zip([0, *cuts], [*cuts, group.width], strict=True):
            found = _trimmed(group.x0 + start, group.y0, own[:, start:stop])
            if found is not None:
                segments.append(found)
    if not segments:
        raise EmptyImageError
    return tuple(sorted(segments, key=lambda s: s.box[0]))


def to_input_box(box: Box, scale: float, size: tuple[int, int]) -> Box:
    """Map a box from working pixels back to input pixels, clipped to the picture.

    scale: working pixels per input pixel (preprocess.Page.scale); size: input
    (width, height). Inverse of working = input * scale. Example: (10, 20, 5, 5)
    at scale 0.5 in a 100x100 input -> (20, 40, 10, 10).
    """
    x, y, w, h = box
    x0, y0 = int(np.floor(x / scale)), int(np.floor(y / scale))
    x1, y1 = int(np.ceil((x + w) / scale)), int(np.ceil((y + h) / scale))
    x0, y0 = max(0, x0), max(0, y0)
    x1, y1 = min(size[0], x1), min(size[1], y1)
    return x0, y0, max(1, x1 - x0), max(1, y1 - y0)
