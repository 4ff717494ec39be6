"""Leaked chat-template tokens never reach a user, however the stream cuts them; ordinary text is untouched."""

from __future__ import annotations

import pytest

from routing.calls.control_tokens import CONTROL_TOKENS, ControlTokenFilter, strip_control_tokens

LEAKY = "Hello there.<|im_end|>\n<|im_start|>assistant\nSecond part<end_of_turn><|eot_id|> done<|im_end|>"
CLEAN = "Hello there.\nSecond part done"


def _streamed(text: str, size: int) -> str:
    flt = ControlTokenFilter()
    out = "".join(flt.feed(text[i : i + size]) for i in range(0, len(text), size))
    return out + flt.finish()


@pytest.mark.parametrize("token", CONTROL_TOKENS)
def test_every_listed_token_is_removed(token: str) -> None:
    assert strip_control_tokens(f"a{token}b{token}") == "ab"


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 11, 100])
def test_tokens_cut_across_pieces_are_removed(size: int) -> None:
    assert _streamed(LEAKY, size) == CLEAN


def test_role_headers_go_with_their_turn_marker() -> None:
    assert strip_control_tokens("<|im_start|>user\nhi<start_of_turn>model\nyes") == "hiyes"


@pytest.mark.parametrize(
    "text",
    [
        "if a < b || c > d: print('<|>')",
        "Use <s>strike</s> and [INST] literally",
        "pipe | and angle <brackets>",
        "x <|",  # a tail that only looks like the start of a marker is released at the end
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert strip_control_tokens(text) == text
    for size in (1, 3, 50):
        assert _streamed(text, size) == text


def test_a_hundred_leaked_markers_leave_only_the_words() -> None:
    leaked = "".join(f"word{i}<|im_end|>" for i in range(100))
    assert _streamed(leaked, 4) == "".join(f"word{i}" for i in range(100))
