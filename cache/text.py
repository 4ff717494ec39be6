"""Text features the cache policy needs: exact-key normalisation, tokens, and what a question depends on.

Pure functions with no model and no I/O, so the exact layer stays well under a millisecond and the guards can be
unit-tested on their own. English only: the one embedding model Penny ships is English, and a question in another
language is kept out of semantic reuse (``looks_english``) rather than judged badly.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Contractions are expanded before tokenising so "can't" and "cannot" carry the same negation, and "what's"
# and "what is" compare equal.
_CONTRACTIONS: tuple[tuple[str, str], ...] = (
    (r"\bwon't\b", "will not"),
    (r"\bcan't\b", "can not"),
    (r"\bcannot\b", "can not"),
    (r"\bshan't\b", "shall not"),
    (r"\bain't\b", "is not"),
    (r"n't\b", " not"),
    (r"\b(i)'m\b", r"\1 am"),
    (r"'re\b", " are"),
    (r"'ve\b", " have"),
    (r"'ll\b", " will"),
    (r"'d\b", " would"),
    (r"\b(it|what|that|there|where|who|how|here|when|why|he|she)'s\b", r"\1 is"),
    (r"\b(let)'s\b", r"\1 us"),
)

# Spelling without an apostrophe is common in chat ("whats", "dont"); mapped to the contracted form first.
_BARE_CONTRACTIONS = {
    "dont": "do not",
    "doesnt": "does not",
    "didnt": "did not",
    "cant": "can not",
    "wont": "will not",
    "isnt": "is not",
    "arent": "are not",
    "wasnt": "was not",
    "werent": "were not",
    "shouldnt": "should not",
    "couldnt": "could not",
    "wouldnt": "would not",
    "havent": "have not",
    "hasnt": "has not",
    "whats": "what is",
    "im": "i am",
    "ive": "i have",
    "youre": "you are",
    "thats": "that is",
    "wheres": "where is",
    "hows": "how is",
    "theres": "there is",
}

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'"})
_TOKEN_RE = re.compile(
    r"<[@#!][^>]+>|[£$€¥]?\d[\d,]*(?:\.\d+)?(?::\d\d)?(?:%|[a-z]+)?|[a-z][a-z0-9_]*(?:['.-][a-z0-9_]+)*"
)
_WS_RE = re.compile(r"\s+")
_EDGE_PUNCT_RE = re.compile(r"^[\W_]+|[\W_]+$", re.UNICODE)


def normalize_for_exact(text: str) -> str:
    """The exact-layer key text: case, width, whitespace and trailing punctuation do not make a new question."""
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()
    text = _WS_RE.sub(" ", text).strip()
    text = _EDGE_PUNCT_RE.sub("", text)
    return _WS_RE.sub(" ", re.sub(r"\s*([?!.,;:]+)\s*", r"\1 ", text)).strip()


def expand_contractions(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()
    for pattern, repl in _CONTRACTIONS:
        text = re.sub(pattern, repl, text)
    return " ".join(_BARE_CONTRACTIONS.get(word, word) for word in text.split())


@lru_cache(maxsize=4096)
def tokens(text: str) -> tuple[str, ...]:
    """Lower-case word tokens after contraction expansion; Slack refs (``<@U1>``, ``<#C1|x>``) stay whole.

    Phrasal verbs that name one action are joined ("sign up" → "signup", "log in" → "login") so they can be
    compared with their one-word synonyms and opposites.
    """
    return tuple(_TOKEN_RE.findall(_PHRASAL_RE.sub(lambda m: m.group(1) + m.group(2), expand_contractions(text))))


_PHRASAL_RE = re.compile(r"\b(sign|log|set|check|opt|back)[ -](up|in|out|on|off)\b")


def raw_words(text: str) -> list[str]:
    """Words with their original case, used to spot proper names written mid-sentence."""
    return re.findall(r"[A-Za-z][A-Za-z0-9_'’.-]*[A-Za-z0-9]|[A-Za-z]", unicodedata.normalize("NFKC", text))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A deliberately small suffix stripper: enough to make 'refunds'/'refund' or 'applying'/'apply' meet.

    A full lemmatiser would be another dependency; the guards only need inflections of the same word to match.
    """
    word = word.strip("'").removesuffix("'s")
    if len(word) <= 3:
        return word
    for suffix, repl in (
        ("ies", "y"),
        ("ied", "y"),
        ("sses", "ss"),
        ("ing", ""),
        ("ed", ""),
        ("es", ""),
        ("s", ""),
        ("ly", ""),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                continue
            if suffix == "es" and not word.endswith(("ches", "shes", "xes", "zes", "sses", "oes")):
                continue
            base = word[: -len(suffix)] + repl
            if suffix in ("ing", "ed") and len(base) >= 3 and base[-1] == base[-2] and base[-1] not in "lsz":
                base = base[:-1]
            return base.rstrip("e") if len(base) > 3 else base
    return word.rstrip("e") if len(word) > 3 else word


# Words that mark a question as depending on when it is asked. Their answers go stale within a day, so such
# questions never reuse an answer semantically and their exact key carries the day (see policy.py).
_TIME_RELATIVE = {
    "today",
    "tonight",
    "tomorrow",
    "yesterday",
    "now",
    "currently",
    "current",
    "latest",
    "recent",
    "recently",
    "upcoming",
    "ago",
    "this morning",
    "this afternoon",
    "this evening",
    "this week",
    "this weekend",
    "this month",
    "this year",
    "this quarter",
    "next week",
    "next month",
    "last week",
    "last month",
    "right now",
    "so far",
    "at the moment",
    "these days",
}
_TIME_RELATIVE_RE = re.compile(
    r"\b(" + "|".join(sorted((re.escape(p) for p in _TIME_RELATIVE), key=len, reverse=True)) + r")\b"
)

# First person that points at the asker's own data ("my PTO", "am I eligible"). Modal "how do I" / "can I"
# asks for a procedure that is the same for everyone, so it alone does not make a question personal.
_FIRST_PERSON_OBJECT = {"my", "me", "mine", "myself"}
_PROCEDURAL_I_RE = re.compile(
    r"\b(?:(?:how|where|when|what|who|which|why)\s+(?:do|can|could|should|would|must|may)\s+i"
    r"|(?:can|could|may|should|must|would)\s+i)\b"
)


def is_time_relative(text: str) -> bool:
    return _TIME_RELATIVE_RE.search(expand_contractions(text)) is not None


def is_personal(text: str) -> bool:
    """True when the answer may depend on who asks; such entries are only reused for the same user."""
    toks = tokens(text)
    if any(t in _FIRST_PERSON_OBJECT for t in toks):
        return True
    if "i" not in toks:
        return False
    remainder = _PROCEDURAL_I_RE.sub(" ", expand_contractions(text))
    return re.search(r"\bi\b", remainder) is not None


_ENGLISH_FUNCTION_WORDS = {
    "the",
    "a",
    "an",
    "is",
    "are",
    "do",
    "does",
    "did",
    "how",
    "what",
    "when",
    "where",
    "who",
    "why",
    "which",
    "can",
    "could",
    "i",
    "you",
    "we",
    "it",
    "to",
    "of",
    "in",
    "on",
    "for",
    "my",
    "our",
    "your",
    "and",
    "or",
    "with",
    "this",
    "that",
    "there",
    "be",
    "will",
    "should",
    "would",
    "have",
    "has",
    "not",
    "from",
    "at",
    "by",
    "any",
    "about",
    "much",
    "many",
    "me",
    "us",
    "they",
    "was",
    "were",
    "am",
    "get",
    "need",
    "so",
    "if",
}


# Function words of the languages most often mixed into English-speaking workspaces.
_OTHER_FUNCTION_WORDS = {
    "de",
    "la",
    "el",
    "los",
    "las",
    "que",
    "es",
    "y",
    "en",
    "un",
    "una",
    "por",
    "para",
    "con",
    "del",
    "le",
    "les",
    "des",
    "et",
    "est",
    "une",
    "du",
    "au",
    "pour",
    "qui",
    "dans",
    "der",
    "die",
    "das",
    "und",
    "ist",
    "nicht",
    "ich",
    "wie",
    "mit",
    "ein",
    "eine",
    "zu",
    "het",
    "een",
    "van",
    "ik",
    "il",
    "di",
    "che",
    "per",
    "non",
    "della",
    "och",
    "att",
    "jag",
    "som",
    "não",
    "com",
    "uma",
    "como",
    "onde",
    "donde",
    "dónde",
    "qué",
    "cómo",
    "où",
    "wo",
}


def looks_english(text: str) -> bool:
    """Cheap gate for the English-only embedding model: mostly ASCII letters, more English function words than
    those of other common languages.

    Not a language identifier: it only has to keep obviously non-English text away from semantic reuse (the
    exact layer still serves it). Short texts without function words ("VPN token reset") count as English.
    """
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return False
    ascii_share = sum(ch.isascii() for ch in letters) / len(letters)
    if ascii_share < 0.85:
        return False
    words = re.findall(r"[^\W\d_]+", unicodedata.normalize("NFKC", text).lower())
    english = sum(w in _ENGLISH_FUNCTION_WORDS for w in words)
    other = sum(w in _OTHER_FUNCTION_WORDS for w in words)
    return english >= other and (english > 0 or len(words) <= 5 or ascii_share == 1.0)


@dataclass(frozen=True)
class QuestionTraits:
    """What the policy needs to know about a question before looking anything up."""

    english: bool
    time_relative: bool
    personal: bool


def traits(text: str) -> QuestionTraits:
    return QuestionTraits(english=looks_english(text), time_relative=is_time_relative(text), personal=is_personal(text))
