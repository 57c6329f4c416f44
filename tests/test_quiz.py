"""digit_core.quiz: asking digits, scoring answers, skipping."""

from __future__ import annotations

import numpy as np
import pytest

from digit_core import quiz as quiz_lib
from digit_core.quiz import Quiz


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def test_a_new_quiz_asks_a_digit_and_scores_nothing(rng):
    quiz = quiz_lib.new(rng)
    assert quiz.target in range(10)
    assert (quiz.round, quiz.asked, quiz.right, quiz.streak) == (0, 0, 0, 0)
    assert quiz.last is None and quiz.accuracy is None


def test_the_right_digit_scores(rng):
    quiz = quiz_lib.answer(Quiz(target=7), "7", rng)
    assert (quiz.asked, quiz.right, quiz.streak, quiz.round) == (1, 1, 1, 1)
    assert quiz.last == quiz_lib.Answer(target=7, read="7", correct=True)
    assert quiz.accuracy == 1.0


@pytest.mark.parametrize("read", ["1", "", "77", "17"])
def test_anything_else_is_wrong(rng, read):
    quiz = quiz_lib.answer(Quiz(target=7, streak=3, best_streak=3), read, rng)
    assert (quiz.asked, quiz.right, quiz.streak, quiz.best_streak) == (1, 0, 0, 3)
    assert quiz.last is not None and not quiz.last.correct and quiz.last.read == read


def test_the_score_runs_over_a_session(rng):
    quiz = quiz_lib.new(rng)
    for correct in [True, True, False, True, True, True]:
        quiz = quiz_lib.answer(quiz, str(quiz.target) if correct else "", rng)
    assert (quiz.asked, quiz.right, quiz.streak, quiz.best_streak) == (6, 5, 3, 3)
    assert quiz.accuracy == pytest.approx(5 / 6)
    assert quiz.round == 6


def test_a_skip_asks_another_digit_without_scoring(rng):
    before = Quiz(target=4, asked=2, right=1, streak=1)
    after = quiz_lib.skip(before, rng)
    assert after.target != 4 and after.round == 1
    assert (after.asked, after.right, after.streak) == (2, 1, 1)
    assert before.target == 4 and before.round == 0  # the old state is untouched


def test_the_next_digit_is_never_the_one_just_asked(rng):
    quiz = quiz_lib.new(rng)
    seen = {quiz.target}
    for _ in range(200):
        following = quiz_lib.answer(quiz, "", rng)
        assert following.target != quiz.target
        seen.add(following.target)
        quiz = following
    assert seen == set(range(10))


def test_the_same_seed_asks_the_same_digits():
    def targets(seed: int) -> list[int]:
        rng = np.random.default_rng(seed)
        quiz, asked = quiz_lib.new(rng), []
        for _ in range(10):
            asked.append(quiz.target)
            quiz = quiz_lib.skip(quiz, rng)
        return asked

    assert targets(3) == targets(3)


def test_the_prompt_names_the_digit_in_words_and_figures():
    assert quiz_lib.prompt(7) == "Draw a seven (7)"
    assert [quiz_lib.prompt(d).split()[2] for d in range(10)] == list(
        quiz_lib.DIGIT_NAMES
    )
