"""One small hierarchy of errors whose messages are fit to show to users.

Every error the app may show derives from `DigitError`; pages catch only that
class, so anything else is a bug and stays visible. `user_message` is a
sentence for people; the exception text (``str(err)``) holds the detail for logs.
"""

from __future__ import annotations


class DigitError(Exception):
    """Base of every error meant for users."""

    user_message = "Something went wrong while reading the digits."

    def __str__(self) -> str:
        detail = super().__str__()
        return detail or self.user_message


class ImageDecodeError(DigitError):
    user_message = (
        "That file is not an image we can read. Try a PNG or JPEG photo or drawing."
    )


class ImageTooLargeError(DigitError):
    user_message = (
        "That image is too large. Try a smaller photo "
        "(at most 50 megapixels and 20 MB)."
    )


class EmptyImageError(DigitError):
    user_message = (
        "No digit found: the picture looks blank. Draw or photograph a digit."
    )


class DatasetNotFoundError(DigitError):
    user_message = (
        "MNIST could not be loaded. Put mnist.npz in data/ under the project, "
        "or set DIGITS_MNIST_PATH to its path, or connect to the internet so "
        "Keras can download it."
    )


class UspsNotFoundError(DatasetNotFoundError):
    user_message = (
        "The USPS digits (usps.npz) could not be loaded. Put usps.npz in "
        "../shared/data/ beside the project, or give its path."
    )


class ModelLoadError(DigitError):
    user_message = "The model file could not be loaded; it may be missing or damaged."


class JobError(DigitError):
    user_message = "The training job could not be started or has failed."


class JobBusyError(JobError):
    user_message = (
        "A training job is already running, started here or in another tab. "
        "Watch it below, or stop it before starting another."
    )


class RunNotFoundError(DigitError):
    user_message = (
        "That trained model is gone or damaged; it may have been deleted in "
        "another tab. Reload the page to see the runs that are left."
    )


class SamplesError(DigitError):
    user_message = (
        'The "my digits" database could not be used: it may be missing, busy or '
        "on a full or read-only disk. Try again, or set DIGITS_SAMPLES_PATH."
    )


class SamplesDamagedError(SamplesError):
    user_message = (
        'The "my digits" database is damaged or is not a "my digits" file. '
        "Move it aside (it is kept as a backup) and start with an empty one."
    )


class SamplesImportError(SamplesError):
    user_message = (
        'That file is not a "my digits" export. Choose an .npz file made with '
        "Export on the My digits page."
    )
