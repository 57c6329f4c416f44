# ruff: noqa: E501  (a table of test ids)
"""Requirements of issue #3 that are measured but not met yet.

Each test here is expected to fail (strict xfail): when a fix makes one pass,
the run fails until its line is removed, so this list only ever shrinks.
"""

GAPS = {
    # segmentation: some touching digits are read as one, thin digits in pieces (issue #3, point 3)
    "tests/test_segment.py::test_touching_digits_are_split_in_two[6-9-3px-more]": "3",
}
