"""Quiz mode for classrooms: the app names a digit, the student draws it.

The game is a frozen `Quiz` moved on by pure functions, so a page only keeps
it in session state and draws it. A round ends with an answer (scored) or a
skip (not scored); either way the next digit is never the one just asked.

    quiz = new(rng)              # quiz.target: the digit to draw
    quiz = answer(quiz, "7", rng)
    quiz.last.correct, quiz.right, quiz.asked
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

DIGIT_NAMES = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
)


@dataclass(frozen=True, slots=True)
class Answer:
    """One scored round: what was asked and what the network read."""

    target: int
    read: str  # the digits read, "" for none; "71" when it saw two
    correct: bool


@dataclass(frozen=True, slots=True)
class Quiz:
    """A session's quiz: the digit asked now and the running score."""

    target: int  # the digit to draw now
    round: int = 0  # rounds finished, answered or skipped: names this round's canvas
    asked: int = 0  # rounds answered
    right: int = 0
    streak: int = 0  # right answers in a row, up to now
    best_streak: int = 0
    last: Answer | None = None  # the latest answer; None before the first

    @property
    def accuracy(self) -> float | None:
        """Right answers as a fraction; None before the first answer."""
        return self.right / self.asked if self.asked else None


def pick(rng: np.random.Generator, previous: int | None = None) -> int:
    """A random digit 0-9, never `previous`: the same digit twice looks stuck."""
    choices = [d for d in range(10) if d != previous]
    return int(rng.choice(choices))


def new(rng: np.random.Generator) -> Quiz:
    """A fresh quiz with a score of 0 of 0."""
    return Quiz(target=pick(rng))


def prompt(digit: int) -> str:
    """The task in words and figures: "Draw a seven (7)"."""
    return f"Draw a {DIGIT_NAMES[digit]} ({digit})"


def answer(quiz: Quiz, read: str, rng: np.random.Generator) -> Quiz:
    """Score what the network read against the target, then ask the next digit.

    Right only when exactly the target digit was read: "77" or "" is wrong.
    """
    correct = read == str(quiz.target)
    streak = quiz.streak + 1 if correct else 0
    return replace(
        quiz,
        target=pick(rng, quiz.target),
        round=quiz.round + 1,
        asked=quiz.asked + 1,
        right=quiz.right + correct,
        streak=streak,
        best_streak=max(quiz.best_streak, streak),
        last=Answer(quiz.target, read, correct),
    )


def skip(quiz: Quiz, rng: np.random.Generator) -> Quiz:
    """Ask another digit without scoring this one."""
    return replace(quiz, target=pick(rng, quiz.target), round=quiz.round + 1)
