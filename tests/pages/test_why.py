"""pages/why.py: the "Why this digit" toggle on the Draw and Upload pages."""

from __future__ import annotations

from page_kit import canvas_state, encode, page, photo, side_by_side


def test_draw_shows_the_heat_over_the_drawing_and_each_input(digits):
    at = page("pages/draw.py").run()
    assert not at.toggle  # nothing read yet: no toggle
    at.session_state["draw.canvas"] = canvas_state(side_by_side(digits[4], digits[2]))
    at.run()
    before = len(at.image)
    at.toggle(key="draw.why").set_value(True).run()
    assert not at.exception
    captions = [c for image in at.image[before:] for c in _captions(image)]
    assert captions[0].startswith("Grad-CAM over your picture")
    assert captions[1:] == [
        "Grad-CAM for 4",
        "saliency for 4",
        "Grad-CAM for 2",
        "saliency for 2",
    ]


def test_upload_shows_the_heat_over_the_photo(digits):
    at = page("pages/upload.py").run()
    shot = encode(photo(digits[7]), "JPEG", quality=90)
    at.file_uploader(key="upload.file").set_value(("seven.jpg", shot, "image/jpeg"))
    at.run()
    before = len(at.image)
    at.toggle(key="upload.why").set_value(True).run()
    assert not at.exception
    assert len(at.image) == before + 2  # the photo with heat; the digit's two maps


def _captions(image) -> list[str]:
    return [img.caption for img in image.proto.imgs]
