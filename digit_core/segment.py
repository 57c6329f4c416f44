"""Split a picture of a number into its digits, left to right.

Steps: ink components (8-connected); specks of noise and faint scratches
dropped; fragments of one digit grouped (the detached bar of a 5, a 4 or 7 in
two strokes, a broken line); groups too wide for one digit cut where the ink
is thinnest. A row that rises to the right is first turned level (level.py).
Boxes are in the coordinates of the ink image given; `to_input_box` maps
them back.

Geometry alone cannot tell a wide 0 from two touching digits, nor a 0 drawn as
"(" ")" from two 1s. Given a judge (Recognizer.judge: the digit network, and
the verifier that says whether a piece is one whole digit), doubtful places
are settled by reading: a part that is wide, read unsurely or not whole is cut
along the drop-fall paths that cross the least ink, two close neighbours are
joined, each only when the new reading is much surer than the old one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np
from numpy.typing import NDArray

from digit_core import level
from digit_core.errors import EmptyImageError

INK = 0.25  # a pixel is ink above this (paper is exactly 0 after preprocessing)
SPECK_AREA = 0.02  # components under 2% of the largest one's area are noise...
SPECK_SIZE = 0.2  # ...and so are those under 20% of the tallest in both directions
OVERLAP = 0.45  # pieces sharing this much of the narrower one's width: one digit
# A piece is a fragment of its neighbour (a 5's detached bar, the open arm of a 4,
# a 7's bar) only when all of these hold. Digits in a row vary in size (up to
# ~0.6x-1.6x), but they stand on the same line, centred on each other; fragments
# hang from the top or bottom of the digit they belong to.
FRAGMENT_REACH = 0.25  # horizontally within this many neighbour heights, and:
FRAGMENT_SMALL = 0.35  # under this fraction of its height (no digit of a row is), or
FRAGMENT_HEIGHT = 0.7  # under this fraction, with its centre...
FRAGMENT_OFFSET = 0.15  # ...this far (neighbour heights) off the neighbour's centre
# but a small piece centred on its neighbour and at least this many of its own
# strokes across both ways is a small digit (a bar or an arc is one stroke thick)
BLOB = 2.5
FAINT = 0.5  # a piece never darker than this is an edge or a scratch (pen cores are ~1)
# Touching digits are cut at a column of thin ink between two digit-sized parts.
VALLEY_STROKES = 1.6  # a cut column holds one run of ink, ~one stroke thick
MIN_PART = 0.1  # each part at least this wide, in the group's heights (a narrow 1)
WIDE = 1.2  # width/height of one MNIST digit is below this 96% of the time, and...
FULL = 0.9  # ...a narrower group is cut only into parts this tall (a 1 touching a 4)
JUNCTION = 2.0  # ...that meet at a point: a valley at most this many strokes wide
# With a judge: candidate cuts are drop-fall paths (a drop slipping down between
# two digits), the cheapest ones ending...
CANDIDATES = 4  # ...in this many places...
APART = 0.2  # ...this many part heights apart
SLANT = 0.1  # a path's cost per sideways step, in ink pixels: straight on paper
CROSS = 2.5  # a cut crosses at most this many strokes' worth of ink pixels
JOIN_GAP = 0.1  # neighbours at most this many heights apart may be one digit...
JOIN_WIDE = 1.6  # ...when together at most this wide for their height
# The network reads two touching digits as one with confidence, so a reading
# is trusted only as far as its shape fits: log(width/height) of MNIST train's
# digits (ink > INK) is near normal for each class, with these means and spreads;
# a reading as wide as only a TAIL of its class or fewer counts as that much less
# sure, down to UNFIT.
WIDTH_MEAN = (
    -0.105,
    -0.929,
    -0.071,
    -0.234,
    -0.241,
    -0.074,
    -0.325,
    -0.263,
    -0.281,
    -0.394,
)
WIDTH_SPREAD = (0.195, 0.459, 0.217, 0.211, 0.211, 0.258, 0.217, 0.215, 0.221, 0.205)
TAIL = 0.01
# A whole wider than all but STRETCHED of its class, cut into two parts of
# common widths read as surely, is two touching digits (a "33" read 3 at 0.9999).
STRETCHED = 0.05
UNFIT = 0.1  # the least fit: the widest readings count as this share as sure
# A piece of ink that geometry cut, read whole, may be this much wider: photos
# taken at an angle and wide strokes on a canvas stretch digits beyond MNIST's
REJOINED = 1.25
SURE = 0.9  # a new reading needs each digit this sure (shape counted)...
DOUBT = 0.05  # ...replaces a reading this doubtful (1 - probability)...
CLEAR = 5.0  # ...when it has this many times less doubt; a cut replaces...
SUSPECT = 0.005  # ...a reading at least this doubtful...
CLEARER = 50.0  # ...when it has this many times less
MIN_DOUBT = 1e-4  # the network is overconfident: less doubt than this means nothing
# The judge also says how likely a piece is one whole digit (verifier.py): a
# reading is as sure as its class and shape say, times its wholeness / WHOLE
# when that is under WHOLE...
WHOLE = 0.5
# ...and a part whose wholeness is under BROKEN is two digits or a piece of one:
# it is cut widely (MANY candidates, MANY_APART heights apart, crossing up to
# MANY_CROSS strokes, parts that overlap allowed), a short 1 allowed beside.
BROKEN = 0.3
MANY = 12
MANY_APART = 0.07
MANY_CROSS = 4.0
SIDE_BY_SIDE = 0.5  # two digits in a row share this much of the shorter one's height
ONE_TALL = 0.75  # any stroke reads as a 1: a cut-off 1 is this tall beside the other
MODES = ("auto", "single", "multi")

Box = tuple[int, int, int, int]  # x, y, w, h
Judge = Callable[[Sequence[NDArray[np.float32]]], NDArray[np.float32]]
"""(N, 11) for N pieces of ink, each (h, w) float32 in [0, 1], ink high,
cropped to its ink: class probabilities (10), then the chance that the piece
is one whole digit (Recognizer.judge)."""


@dataclass(frozen=True, slots=True)
class Segment:
    """One digit's place and ink."""

    box: Box  # in the ink image's pixels
    ink: NDArray[np.float32]  # (h, w), only this digit's ink: the box's, or turned
    probabilities: NDArray[np.float32] | None = None  # (10,) the judge's, if judged
    cut_from: int | None = None  # the piece of ink that geometry cut it from, if cut
    turned: float = 0.0  # degrees its row was turned clockwise to level it (level.py)
    whole: float = 1.0  # the judge's chance that it is one whole digit, if judged


@dataclass(slots=True)
class _Group:
    labels: list[int]
    x0: int
    y0: int
    x1: int  # exclusive
    y1: int
    stroke: float = 0.0  # its typical stroke width, px (0: not measured: thin)

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
        self.stroke = max(self.stroke, other.stroke)


def _components(ink: NDArray[np.float32]) -> tuple[NDArray[np.integer], list[_Group]]:
    """Labelled ink and one group per component that is not a speck.

    A speck is tiny beside the biggest piece, or faint: never as dark as a
    pen's core (an anti-aliased edge, a scratch).
    """
    mask = (ink > INK).astype(np.uint8)
    h, w = mask.shape
    few = (h + 1) // 2 * ((w + 1) // 2) < 2**16  # at most this many pieces fit
    label_type = cv2.CV_16U if few else cv2.CV_32S  # 16 bits: half the time
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        mask, connectivity=8, ltype=label_type
    )
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
    if len(groups) > 1:  # pieces: faint ones dropped, the others measured
        kept = []
        for group in groups:
            region = (slice(group.y0, group.y1), slice(group.x0, group.x1))
            own = labels[region] == group.labels[0]
            if ink[region][own].max() >= FAINT:
                group.stroke = stroke_width(own)
                kept.append(group)
        groups = kept or groups
    return labels, groups


def _overlap(a: _Group, b: _Group) -> float:
    shared = min(a.x1, b.x1) - max(a.x0, b.x0)
    return shared / max(1, min(a.width, b.width))


def _gap(a: _Group, b: _Group) -> int:
    return max(0, max(a.x0, b.x0) - min(a.x1, b.x1))


def _is_fragment(piece: _Group, digit: _Group) -> bool:
    """Whether `piece` belongs to `digit` rather than being a digit of its own.

    Close, and: small and off-centre (hanging from the digit's top or
    bottom), or very small and no blob (a bar, an arc: a small digit centred
    beside a big one is several strokes across).
    """
    if _gap(piece, digit) > FRAGMENT_REACH * digit.height:
        return False
    across = min(piece.width, piece.height)
    offset = abs((piece.y0 + piece.y1) - (digit.y0 + digit.y1)) / 2
    off_centre = offset >= FRAGMENT_OFFSET * digit.height
    if piece.height < FRAGMENT_SMALL * digit.height:
        blob = piece.stroke > 0 and across >= BLOB * piece.stroke
        return off_centre or not blob
    return piece.height <= FRAGMENT_HEIGHT * digit.height and off_centre


def _merge(groups: list[_Group]) -> list[_Group]:
    """Join pieces that share columns, then fragments to the digit they hang from."""
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
    for piece in sorted(groups, key=lambda g: g.height):
        hosts = [g for g in groups if g is not piece and g.height > piece.height]
        if not hosts:
            continue
        nearest = min(hosts, key=lambda g: _gap(g, piece))
        if _is_fragment(piece, nearest):
            nearest.absorb(piece)
            groups.remove(piece)
    return sorted(groups, key=lambda g: g.x0)


def stroke_width(mask: NDArray) -> float:
    """Typical stroke width in pixels of a boolean mask; 0.0 when empty.

    Twice the mean distance to paper along the strokes' ridge (pixels whose
    distance is a local maximum), minus the half pixel that the centre pixel
    counts twice. A 1 px zero border first, so ink touching the frame (every
    crop does) is measured against paper, not against the edge.
    """
    padded = cv2.copyMakeBorder(
        np.asarray(mask, np.uint8), 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0
    )
    if not padded.any():
        return 0.0
    distance = cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_5)
    ridge = (distance >= cv2.dilate(distance, np.ones((3, 3), np.uint8))) & (padded > 0)
    return max(1.0, 2.0 * float(distance[ridge].mean()) - 0.5)


def _row_spans(mask: NDArray[np.bool_]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Rows [top, bottom) holding ink left of each column c, and from c on.

    Returns two (width + 1, 2) arrays indexed by c, (0, 0) where there is no
    ink: the extents of mask[:, :c] and mask[:, c:] for every c in one pass.
    """
    height, width = mask.shape
    rows = np.flatnonzero(mask.any(axis=1))
    first = mask[rows].argmax(axis=1)  # each inked row's first and last ink column
    last = width - 1 - mask[rows, ::-1].argmax(axis=1)
    spans = []
    for at, reverse in ((first + 1, False), (last, True)):
        top, bottom = np.full(width + 1, height), np.full(width + 1, -1)
        np.minimum.at(top, at, rows)
        np.maximum.at(bottom, at, rows)
        if reverse:  # rows reaching column c or beyond
            top = np.minimum.accumulate(top[::-1])[::-1]
            bottom = np.maximum.accumulate(bottom[::-1])[::-1]
        else:  # rows starting before column c
            top, bottom = np.minimum.accumulate(top), np.maximum.accumulate(bottom)
        empty = bottom < 0
        spans.append(np.where(empty[:, None], 0, np.stack([top, bottom + 1], axis=1)))
    return spans[0], spans[1]


def _narrowest(height: int, stroke: float) -> int:
    """The narrowest part a cut may leave: a narrow 1, at least one stroke wide."""
    return max(1, round(MIN_PART * height), round(stroke))


def _cut(ink: NDArray[np.float32]) -> int | None:
    """The column where two touching digits meet in `ink`; None for one digit.

    The cut column holds one run of ink about one stroke thick (where two
    digits touch; not a 0's middle, which crosses two strokes) and leaves two
    digits: parts wide enough, neither a fragment hanging from the other (the
    arm of a 4, the bar of a 7). A group no wider than nearly all single digits
    (WIDE) needs more: two full-height parts meeting at a point (a 1 touching
    a 4), not joined along a bar.
    """
    mask = ink > INK
    height, width = mask.shape
    stroke = stroke_width(mask)
    low = _narrowest(height, stroke)
    if width < 2 * low:
        return None
    wide = width >= WIDE * height
    profile = mask.sum(axis=0).astype(np.float64)
    limit = VALLEY_STROKES * stroke
    runs = (mask[1:] > mask[:-1]).sum(axis=0) + mask[0]  # runs of ink per column
    profile[runs > 1] = np.inf  # two strokes crossing (a 0's middle): no touch
    order = np.lexsort((np.abs(np.arange(width) - width / 2), profile))
    spans = None  # most groups are one digit: no column gets this far
    for column in (int(c) for c in order):
        if profile[column] > limit:
            break
        if not low <= column <= width - low:
            continue
        if not wide and _valley_width(profile, column, limit) > JUNCTION * stroke:
            continue
        lefts, rights = spans = spans or _row_spans(mask)
        left, right = lefts[column].tolist(), rights[column].tolist()
        a = _Group([], 0, left[0], column, left[1])
        b = _Group([], column, right[0], width, right[1])
        if a.height == 0 or b.height == 0:
            continue
        small, big = sorted((a, b), key=lambda g: g.height)
        if not wide and small.height < FULL * height:
            continue
        if not _is_fragment(small, big) and _side_by_side(a, b):
            return column
    return None


def _valley_width(profile: NDArray, column: int, limit: float) -> int:
    """How many columns around `column` stay thin: long for a bar, short for a touch."""
    thin = profile <= limit
    left = column
    while left > 0 and thin[left - 1]:
        left -= 1
    right = column
    while right < len(profile) - 1 and thin[right + 1]:
        right += 1
    return right - left + 1


def _split(ink: NDArray[np.float32]) -> list[tuple[int, int]]:
    """Column spans [start, stop) of the digits in one group's ink, cut recursively."""
    column = _cut(ink)
    if column is None:
        return [(0, ink.shape[1])]
    left = _split(ink[:, :column])
    right = _split(ink[:, column:])
    return left + [(column + a, column + b) for a, b in right]


# reading doubtful places (with a judge)


def _paths(
    mask: NDArray[np.bool_],
    lo: int,
    hi: int,
    enter: float,
    apart: int,
    candidates: int = CANDIDATES,
) -> list[tuple[NDArray[np.intp], int]]:
    """Top-to-bottom paths through columns [lo, hi) that cross the least ink.

    One column per row, moving at most one column a row, so a path slips down
    the paper between two digits and crosses ink only where they touch (a drop
    falling between them). Each entry into ink costs `enter` pixels more, so
    one junction beats crossing two thin strokes. Gives the best path ending in
    each stretch of `apart` columns, for up to `candidates` stretches, cheapest
    first, as (column per row, ink pixels crossed).
    """
    ink = mask[:, lo:hi]
    height, width = ink.shape
    wall = np.ones(1, bool)
    total = ink[0] * (1.0 + enter)
    step = np.zeros((height, width), np.intp)
    columns = np.arange(width)
    for row in range(1, height):
        above, entry = ink[row - 1], ink[row] * enter
        came = np.stack(
            (  # from the column to the left, straight above, to the right
                np.concatenate(([np.inf], total[:-1]))
                + SLANT
                + entry * ~np.concatenate((wall, above[:-1])),
                total + entry * ~above,
                np.concatenate((total[1:], [np.inf]))
                + SLANT
                + entry * ~np.concatenate((above[1:], wall)),
            )
        )
        choice = came.argmin(axis=0)
        total = came[choice, columns] + ink[row]
        step[row] = choice - 1
    ends: list[int] = []
    for end in np.argsort(total, kind="stable").tolist():
        if all(abs(end - e) >= apart for e in ends):
            ends.append(end)
        if len(ends) == candidates:
            break
    found = []
    for column in ends:
        path = np.empty(height, np.intp)
        for row in range(height - 1, -1, -1):
            path[row] = column
            column += step[row, column]
        found.append((path + lo, int(ink[np.arange(height), path].sum())))
    return found


def _as_group(part: Segment) -> _Group:
    x, y, w, h = part.box
    return _Group([], x, y, x + w, y + h)


def halves(part: Segment, widely: bool = False) -> list[list[Segment]]:
    """Ways to cut `part` in two digits, left then right, along drop-fall paths.

    Each cut crosses little ink and leaves two parts wide enough, side by side
    (a cut along a thick stroke leaves parts that overlap as one digit's
    pieces do: OVERLAP), neither a fragment hanging from the other; the judge
    chooses among them. `widely`: for a part known not to be one digit, more
    cuts, across more ink, into parts that may overlap (a 4 tucked under a 7),
    and paths falling up from the top as well, that leave parts standing
    apart (a 1 drawn into the corner of a 4: every path falling down slips
    into the 4's open triangle, which costs less ink than the corner).
    """
    mask = part.ink > INK
    height, width = mask.shape
    low = max(1, round(MIN_PART * height))
    if width < 2 * low + 1:
        return []
    stroke = stroke_width(mask)
    apart = max(1, round((MANY_APART if widely else APART) * height))
    many, cross = (MANY, MANY_CROSS) if widely else (CANDIDATES, CROSS)
    x, y = part.box[:2]
    found: dict[tuple[Box, Box], list[Segment]] = {}  # paths may cut alike
    span = (low, width - low, 2 * stroke, apart, many)
    paths = [(path, crossed, False) for path, crossed in _paths(mask, *span)]
    if widely:  # and the best path from each stretch of the top: falling up
        flipped = _paths(mask[::-1], *span)
        paths += [(path[::-1], crossed, True) for path, crossed in flipped]
    for path, crossed, up in paths:
        if crossed > cross * stroke:
            continue
        left = np.arange(width) < path[:, None]
        a = trimmed(x, y, np.where(left, part.ink, 0.0).astype(np.float32))
        b = trimmed(x, y, np.where(left, 0.0, part.ink).astype(np.float32))
        if a is None or b is None or min(a.box[2], b.box[2]) < low:
            continue
        small, big = sorted((_as_group(a), _as_group(b)), key=lambda g: g.height)
        apart_enough = _overlap(small, big) < OVERLAP and not _is_fragment(small, big)
        if up and not _stand_apart(small, big, stroke):
            continue
        if widely or apart_enough:
            found.setdefault((a.box, b.box), [a, b])
    return list(found.values())


def _stand_apart(small: _Group, big: _Group, stroke: float) -> bool:
    """Whether two parts stand as a stroke drawn into its neighbour's corner
    leaves them: sharing at most a stroke's width of columns, nearly as tall."""
    shared = min(small.x1, big.x1) - max(small.x0, big.x0)
    return shared <= stroke and small.height >= ONE_TALL * big.height


def _joined(a: Segment, b: Segment, wide: float = JOIN_WIDE) -> Segment | None:
    """`a` and `b` as one digit, when they are close and together at most
    `wide` times as wide as tall."""
    whole, other = _as_group(a), _as_group(b)
    if _gap(whole, other) > JOIN_GAP * max(whole.height, other.height):
        return None
    whole.absorb(other)
    if whole.width > wide * whole.height:
        return None
    ink = np.zeros((whole.height, whole.width), np.float32)
    for part in (a, b):
        x, y, w, h = part.box
        view = ink[y - whole.y0 : y - whole.y0 + h, x - whole.x0 : x - whole.x0 + w]
        np.maximum(view, part.ink, out=view)
    return Segment((whole.x0, whole.y0, whole.width, whole.height), ink)


def _side_by_side(a: _Group | Segment, b: _Group | Segment) -> bool:
    """Whether two parts stand in a row: sharing most of the shorter one's height.

    Digits of a number stand on one line; the tail of a wide 9 cut from its
    loop hangs below it.
    """
    a, b = (_as_group(p) if isinstance(p, Segment) else p for p in (a, b))
    shared = min(a.y1, b.y1) - max(a.y0, b.y0)
    return shared >= SIDE_BY_SIDE * min(a.height, b.height)


def _read_as(digit: Segment) -> int:
    """The digit the judge reads."""
    assert digit.probabilities is not None
    return int(digit.probabilities.argmax())


def _wider(read: int, width: float, height: float) -> float:
    """The share of MNIST's digits of class `read` this wide or wider for
    their height."""
    z = (math.log(width / height) - WIDTH_MEAN[read]) / WIDTH_SPREAD[read]
    return 0.5 * math.erfc(z / math.sqrt(2))


def _fit(read: int, width: float, height: float) -> float:
    """How well a digit's shape fits the class read: 1.0 unless it is wider
    than all but a TAIL of MNIST's, then the share that wide / TAIL (>= UNFIT)."""
    return min(1.0, max(UNFIT, _wider(read, width, height) / TAIL))


def _no_digit(digit: Segment) -> bool:
    """Whether `digit` reads as no digit: unsure (under SURE) of a class that
    all but a TAIL of its digits are narrower than."""
    assert digit.probabilities is not None
    read = _read_as(digit)
    unfit = _fit(read, digit.box[2], digit.box[3]) < 1.0
    return unfit and float(digit.probabilities[read]) < SURE


def _beside_stroke(a: Segment, b: Segment) -> Segment | None:
    """Of two parts, the one that reads as a digit when the other reads as
    none; None otherwise.

    Geometry cuts the long tail of a flat 2 from its body: a stroke that reads
    as no digit.
    """
    if _no_digit(a) == _no_digit(b):
        return None
    return b if _no_digit(a) else a


def _wider_than_most(digit: Segment) -> bool:
    """Whether `digit` is wider than all but STRETCHED of the class it reads as."""
    return _wider(_read_as(digit), digit.box[2], digit.box[3]) < STRETCHED


def _stretched(whole: Segment, option: _Option) -> bool:
    """Whether `whole` is wider than all but STRETCHED of its class while the
    parts of cut `option` are each of a common width for theirs."""
    return _wider_than_most(whole) and not any(map(_wider_than_most, option.digits))


def _sure(digit: Segment, leeway: float = 1.0, counted: bool = True) -> float:
    """The judge's confidence in `digit` times its shape's fit (its width
    divided by `leeway` first) and, `counted`, its wholeness (up to WHOLE)."""
    assert digit.probabilities is not None
    read = _read_as(digit)
    fit = _fit(read, digit.box[2] / leeway, digit.box[3])
    whole = min(1.0, digit.whole / WHOLE) if counted else 1.0
    return float(digit.probabilities[read]) * fit * whole


def _mends(join: _Option, pieces: Sequence[_Option]) -> bool:
    """Whether `join` makes pieces that are not all whole into one digit more
    whole than the least of them, read surely by its class and shape.

    The verifier learnt MNIST: it finds some other writers' digits less whole
    (a wide USPS 4: 0.15), and a 4 or a 0 that geometry cut in two less whole
    still; compared with its pieces, the join stands out all the same.
    """
    if join.stop - join.start == 1:
        return False  # a cut
    joined = join.digits[0]
    least = min(d.whole for piece in pieces for d in piece.digits)
    sure = _sure(joined, join.leeway, counted=False)
    return least < WHOLE and joined.whole > least and sure >= SURE


@dataclass(slots=True)
class _Option:
    """A reading of parts[start:stop] as `digits`."""

    start: int
    stop: int
    digits: list[Segment]
    rejoins: bool = False  # joins two parts that geometry cut apart: one piece of ink
    leeway: float = 1.0  # how much wider than MNIST's its digits may be
    keeps: int | None = None  # the digit a rejoin must read, if any
    broken: bool = False  # a cut of a part that is not one whole digit (BROKEN)

    def doubt(self, counted: bool = True) -> float:
        """1 - the chance that every digit is read right (shape counted, and
        wholeness when `counted`)."""
        sure = [_sure(d, self.leeway, counted) for d in self.digits]
        return max(MIN_DOUBT, 1.0 - float(np.prod(sure)))

    def likely(self) -> bool:
        """False for a cut that leaves a 1 shorter than the other part, two 1s
        or parts one above the other, and for parts of one piece of ink joined
        into a 1 or into another digit than the one it `keeps`.

        The network reads any stroke as a 1; a digit cut in half gives strokes.
        """
        reads = [_read_as(d) for d in self.digits]
        if self.rejoins:
            return reads[0] != 1 and self.keeps in (None, reads[0])
        if len(self.digits) != 2 or self.stop - self.start != 1:
            return True
        if not _side_by_side(*self.digits):
            return False
        heights = [d.box[3] for d in self.digits]
        if reads == [1, 1]:
            return False
        return self.broken or all(
            read != 1 or height >= ONE_TALL * other
            for read, height, other in zip(reads, heights, heights[::-1], strict=True)
        )


def _given_back(start: int, a: Segment, b: Segment) -> _Option | None:
    """Parts a and b (read, one piece of ink) as one digit when one is a
    stroke that reads as no digit: as wide as the other for its shape, and
    reading as the other does."""
    body = _beside_stroke(a, b)
    if body is None or (joined := _joined(a, b, math.inf)) is None:
        return None
    leeway = joined.box[2] / body.box[2]
    return _Option(start, start + 2, [joined], True, leeway, _read_as(body))


def _doubt_of(wholes: Sequence[_Option], counted: bool = True) -> float:
    """1 - the chance that every one of `wholes` is read right (wholeness
    counted when `counted`)."""
    return 1.0 - float(np.prod([1.0 - w.doubt(counted) for w in wholes]))


def _read(judge: Judge, options: Sequence[_Option]) -> None:
    """Give every digit of `options` the judge's probabilities and wholeness,
    in one call."""
    digits = [d for option in options for d in option.digits]
    if not digits:
        return
    judged = np.asarray(judge([d.ink for d in digits]), np.float32)
    start = 0
    for option in options:
        rows = judged[start : start + len(option.digits)]
        option.digits = [
            replace(d, probabilities=row[:10], whole=float(row[10]))
            for d, row in zip(option.digits, rows, strict=True)
        ]
        start += len(option.digits)


def _judged(parts: list[Segment], judge: Judge) -> list[Segment]:
    """Join or cut parts where the judge reads the result clearly surer.

    A new reading replaces the parts it covers when each of its digits is
    SURE and it has CLEAR times less doubt than they, read with DOUBT or more.
    A cut also replaces a part read with SUSPECT or more when it has CLEARER
    times less doubt: the network reads two touching digits as one with
    97-99% confidence, but the right cut with 99.99%; and a part wider than
    all but STRETCHED of its class when a cut into digits of common widths
    reads as surely (the network reads a touching "33" as 3 at 99.99%).
    (Not so a join: it reads a short 1 and the 4 beside it surely as one 4.)
    Sureness counts the verifier's wholeness too (WHOLE): a 4 with a 1
    touching it reads as 4 at 99.99% but not as one whole digit, so its cuts
    are read; one that is clearly not whole (BROKEN) is cut widely.
    Parts that geometry cut from one piece of ink are rejoined on the last two
    alone: geometry cuts an open 0 into two strokes that read surely as 1 and 7;
    and a stroke among them that reads as no digit (the long tail of a flat 2)
    is given back to its neighbour however wide, when they read as it alone.
    First judge call: every part, and close pairs cut from one piece joined;
    a second only for what the first leaves in doubt: close pairs joined
    where they read with DOUBT or more, cuts of a part that reads with
    SUSPECT or more or is that wide, strokes given back. A clean digit costs
    one call, whose reading the caller keeps; clean digits side by side are
    read once each.
    """
    wholes = [_Option(i, i + 1, [p]) for i, p in enumerate(parts)]
    pairs = [  # neighbours, and whether geometry cut them from one piece
        (i, a, b, a.cut_from is not None and a.cut_from == b.cut_from)
        for i, (a, b) in enumerate(zip(parts, parts[1:], strict=False))
    ]
    rejoins = [
        _Option(i, i + 2, [joined], rejoins=True, leeway=REJOINED)
        for i, a, b, one_piece in pairs
        if one_piece and (joined := _joined(a, b)) is not None
    ]
    _read(judge, [*wholes, *rejoins])
    joins = [
        _Option(i, i + 2, [joined])
        for i, a, b, one_piece in pairs
        if not one_piece and _doubt_of(wholes[i : i + 2]) >= DOUBT
        if (joined := _joined(a, b)) is not None
    ]
    cuts = [
        _Option(i, i + 1, cut, broken=part.whole < BROKEN)
        for i, whole in enumerate(wholes)
        for part in whole.digits  # one: the part as it is
        if whole.doubt() >= SUSPECT or _wider_than_most(part)
        for cut in halves(part, widely=part.whole < BROKEN)
    ]
    given_back = [
        option
        for i, _, _, one_piece in pairs
        if one_piece
        if (option := _given_back(i, wholes[i].digits[0], wholes[i + 1].digits[0]))
    ]
    _read(judge, [*joins, *cuts, *given_back])
    options = [*rejoins, *joins, *given_back]
    chosen: list[Segment] = []
    start = 0
    while start < len(parts):
        best, gain = wholes[start], 0.0
        for option in (*options, *cuts):
            if option.start != start:
                continue
            here = wholes[start : option.stop]
            replaces = (
                _replaces(option, here, gain)
                or (option.rejoins and _replaces(option, here, gain, counted=False))
                or _mends(option, here)
            )
            if replaces and option.likely():
                best, gain = option, _doubt_of(here) / max(option.doubt(), 1e-9)
        chosen += best.digits
        start = best.stop
    return chosen


def _replaces(
    option: _Option, wholes: Sequence[_Option], gain: float, counted: bool = True
) -> bool:
    """Whether `option` reads clearly surer than `wholes`, the parts it would
    replace, and than the best option so far (`gain` times surer than them);
    wholeness counted when `counted` (see _judged)."""
    old = _doubt_of(wholes, counted)
    new = option.doubt(counted)
    sure = min(_sure(d, option.leeway, counted) for d in option.digits)
    cut = option.stop - option.start == 1
    doubtful = cut or old >= DOUBT or option.rejoins
    read = _doubt_of(wholes, counted=False)  # what the digit network alone says
    clear = CLEAR if read >= DOUBT or option.rejoins else CLEARER
    clearer = old >= max(gain, clear) * new or (
        cut and old >= new and gain <= 1.0 and _stretched(wholes[0].digits[0], option)
    )
    return doubtful and sure >= SURE and clearer


def _segment_of(
    ink: NDArray[np.float32], labels: NDArray[np.integer], group: _Group
) -> NDArray[np.float32]:
    """The group's own ink: its components plus their anti-aliased rims."""
    region = (slice(group.y0, group.y1), slice(group.x0, group.x1))
    here = labels[region]
    mine = np.zeros(max(int(here.max()), *group.labels) + 1, np.uint8)
    mine[group.labels] = 1  # a lookup table: a tenth of np.isin's time
    own = mine[here]
    rim = cv2.dilate(own, np.ones((3, 3), np.uint8)).astype(bool)
    others = (here > 0) & ~own.astype(bool)
    return np.where(rim & ~others, ink[region], 0.0).astype(np.float32)


def trimmed(x: int, y: int, ink: NDArray[np.float32]) -> Segment | None:
    """A segment cropped to its ink; None when nothing is left."""
    rows = np.flatnonzero((ink > INK).any(axis=1))
    cols = np.flatnonzero((ink > INK).any(axis=0))
    if rows.size == 0:
        return None
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    return Segment(
        (x + int(c0), y + int(r0), int(c1 - c0), int(r1 - r0)), ink[r0:r1, c0:c1]
    )


def segment(
    ink: NDArray[np.float32], mode: str = "auto", judge: Judge | None = None
) -> tuple[Segment, ...]:
    """The digits in `ink`, left to right; EmptyImageError when there are none.

    ink: (h, w) float32 in [0, 1], ink high, paper exactly 0 (preprocess.prepare).
    mode: "single" reads all ink as one digit; "multi" and "auto" split it
    (auto = multi that also accepts a single digit; both give one segment for
    one digit). judge: reads doubtful places (see the module docstring); with
    it, "multi" and "auto" segments come with their probabilities.
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
        found = trimmed(whole.x0, whole.y0, _segment_of(ink, labels, whole))
        return (found,) if found else ()
    groups = _merge(groups)
    tilt = level.rising([(g.x0, g.y0, g.x1, g.y1) for g in groups])
    turn = None if tilt is None else level.turn(ink, tilt)
    if turn is not None:
        ink = turn.ink
        labels, groups = _components(ink)
        groups = _merge(groups)
    segments = []
    for index, group in enumerate(groups):
        own = _segment_of(ink, labels, group)
        spans = _split(own)
        for start, stop in spans:
            found = trimmed(group.x0 + start, group.y0, own[:, start:stop])
            if found is not None:
                cut = index if len(spans) > 1 else None
                segments.append(replace(found, cut_from=cut))
    if not segments:
        raise EmptyImageError
    segments.sort(key=lambda s: s.box[0])
    if judge is not None:
        segments = _judged(segments, judge)
    segments.sort(key=lambda s: s.box[0])
    if turn is not None:
        segments = [
            replace(s, box=turn.box_back(s.box, s.ink > INK), turned=turn.degrees)
            for s in segments
        ]
    return tuple(segments)


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
