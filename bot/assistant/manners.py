"""Thread manners: which later messages in a thread Penny answered are for Penny, decided without a model call.

A thread Penny answered is still the people's thread. People thank each other, ask each other things and make
plans there, and answering all of it costs a model call each time and interrupts them (ChatGPT-in-Slack's
maintainer refused that behaviour on purpose). So under the default ``addressed`` mode a later message without a
mention is answered only when it is addressed to Penny:

* it comes right after Penny's last reply and the asker wrote it (a clarification, "shorter please"), or anyone
  wrote it as a question or request;
* or the asker wrote it later as a question or request.

It is never answered when it mentions or names someone else first ("<@U123> can you…", "Bob, did you…"), and an
acknowledgement ("thanks", "ok", "got it", an emoji) never costs a model call, whatever the mode. ``all`` answers
every other human message (the old behaviour), ``mention-only`` none. The rules are plain word lists, checked by
tests, so a reader can predict what Penny does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

PENNY = "penny"  # the "author" recorded when Penny's reply is the thread's latest message


class FollowUps(StrEnum):
    """``PENNY_FOLLOW_UPS``: which later messages in a joined thread Penny answers without a mention."""

    ADDRESSED = "addressed"
    ALL = "all"
    MENTION_ONLY = "mention-only"


class Verdict(StrEnum):
    ANSWER = "answer"
    IGNORE = "ignore"  # people talking to each other, or the mode says no
    ACKNOWLEDGEMENT = "acknowledgement"  # "thanks": no model call


@dataclass(frozen=True)
class ThreadState:
    """What Penny remembers of a thread it answered in: who it answered, and who wrote the latest message."""

    askers: frozenset[str] = field(default_factory=frozenset)
    last_author: str = ""


def _vocabulary(*lines: str) -> frozenset[str]:
    return frozenset(" ".join(lines).split())


_ACK_WORDS = _vocabulary(
    "thanks thank you thx ty tysm cheers ok okay k kk got it cool great nice perfect awesome sounds good",
    "makes sense understood will do noted yes yep yeah sure lol haha ha wow amazing brilliant excellent",
    "lovely appreciated appreciate much very a lot so alright right fine good",
)
_QUESTION_WORDS = _vocabulary(
    "what why how when who whom whose where which can could would should shall will is are am was were do",
    "does did has have had may might any anything",
)
_REQUEST_WORDS = _vocabulary(
    "please pls plz make write draft summarize summarise explain list give show tell translate rewrite",
    "shorten expand add remove fix continue try compare check find describe suggest help outline recap",
    "clarify elaborate simplify rephrase reword format convert generate create update change answer",
)
# A leading "Name," or "Name:" addresses someone; these openers do not.
_NOT_A_NAME = _vocabulary(
    "ok okay so also and but well hey hi hello yes no yep nope thanks sure right actually wait hmm oh ah",
    "please penny",
)
_EMOJI = re.compile(r":[a-z0-9_+\-']+(?:::[a-z0-9_\-]+)?:")
_MENTION = re.compile(r"<[@!][A-Z0-9^|a-z]+>")
_USER_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")
_VOCATIVE = re.compile(r"^\s*([A-Za-z][\w.\-]{1,30})\s*[,:]\s*\S")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_PICTOGRAPHS = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f\u200d]")


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(_MENTION.sub(" ", _EMOJI.sub(" ", text)))]


def is_acknowledgement(text: str) -> bool:
    """Thanks, okays and emoji: nothing to answer. One extra word is allowed ("thanks Bob", "great work")."""
    if "?" in text or "？" in text:
        return False
    stripped = _PICTOGRAPHS.sub("", _EMOJI.sub("", _MENTION.sub("", text))).strip(" \t\n.!,;:-~*_")
    if not stripped:
        return True  # only emoji (or nothing at all)
    words = _words(stripped)
    if not words or len(words) > 6:
        return False
    return sum(w not in _ACK_WORDS for w in words) <= 1 and any(w in _ACK_WORDS for w in words)


def is_question_or_request(text: str) -> bool:
    """A question mark (any script), or a first word that asks or asks for something."""
    if "?" in text or "？" in text or "؟" in text:
        return True
    words = _words(text)
    if not words:
        return False
    first = words[1] if words[0] in _NOT_A_NAME and len(words) > 1 else words[0]
    return first in _QUESTION_WORDS or first in _REQUEST_WORDS or "please" in words[:4]


def addresses_someone_else(text: str) -> bool:
    """It mentions a person (Penny's own mention never reaches here: ``app_mention`` answers it) or opens with
    someone's name ("Bob, did you…")."""
    if _USER_MENTION.search(text):
        return True
    match = _VOCATIVE.match(text)
    return match is not None and match.group(1).lower() not in _NOT_A_NAME | _QUESTION_WORDS | _REQUEST_WORDS


def opens_with_penny(text: str) -> bool:
    """ "Penny, what about…" addresses Penny by name."""
    match = _VOCATIVE.match(text)
    return match is not None and match.group(1).lower() == PENNY


def decide(mode: FollowUps, *, author: str, text: str, state: ThreadState) -> Verdict:
    """Whether a later message in a joined thread gets an answer (see the module docstring)."""
    if is_acknowledgement(text):
        return Verdict.ACKNOWLEDGEMENT
    if mode is FollowUps.MENTION_ONLY:
        return Verdict.IGNORE
    if mode is FollowUps.ALL or opens_with_penny(text):
        return Verdict.ANSWER
    if addresses_someone_else(text):
        return Verdict.IGNORE
    asker = author in state.askers
    right_after_penny = state.last_author == PENNY
    if right_after_penny and (asker or is_question_or_request(text)):
        return Verdict.ANSWER
    if asker and is_question_or_request(text):
        return Verdict.ANSWER
    return Verdict.IGNORE
