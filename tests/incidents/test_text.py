"""Text limits come from the column: the service refuses what the form would, with one message."""

import pytest

from incidents.errors import Invalid
from incidents.models import Question
from incidents.text import checked_text, limit


def test_the_limit_is_the_column_length():
    assert limit(Question, "text") == Question._meta.get_field("text").max_length


def test_text_at_the_limit_is_kept_stripped():
    most = limit(Question, "text")
    text = "  " + "x" * most + "\r\n"
    assert checked_text(text, model=Question, field="text", label="The question") == "x" * most


def test_one_character_over_says_the_length_and_the_limit():
    most = limit(Question, "text")
    with pytest.raises(Invalid) as refused:
        checked_text("x" * (most + 1), model=Question, field="text", label="The question")
    assert str(refused.value) == (
        f"The question is {most + 1:,} characters; the limit is {most:,}. Shorten it."
    )


def test_empty_text_says_what_to_write_unless_optional():
    with pytest.raises(Invalid, match="Write the question."):
        checked_text("   ", model=Question, field="text", label="Q", missing="Write the question.")
    assert checked_text("   ", model=Question, field="text", label="Q") == ""
