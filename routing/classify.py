"""Task kind and complexity from the request text, the command used and the context size — plain rules.

Rules rather than a model because they run on every request before anything else (budget: well under 15 ms; a
few precompiled regexes cost microseconds) and because a person reading the policy must be able to predict the
tier. The learned scorer (``routing/learned/``) only nudges the result up a tier; it never replaces these rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from routing.policy import Complexity
from vocabulary import TaskKind

_SUMMARIZE_COMMANDS = frozenset({"/summarize", "/summary", "/tldr", "/recap"})
_DRAFT_COMMANDS = frozenset({"/draft", "/write", "/reply"})
_ASK_COMMANDS = frozenset({"/ask", "/qa"})

_SUMMARIZE = re.compile(
    r"\b(summari[sz]e|summary|summaries|tl;?dr|recap|catch me up|digest of|key (points|takeaways)|what did i miss)\b",
    re.IGNORECASE,
)
_DRAFT = re.compile(
    r"\b(draft|write|compose|rewrite|rephrase|polish|proofread|announcement|e-?mail|reply to|respond to|"
    r"cover letter|memo|blog post|post for)\b",
    re.IGNORECASE,
)
_QUESTION_START = re.compile(
    r"^\s*(what|why|how|when|where|who|whom|which|is|are|can|could|should|would|does|do|did|will|explain|"
    r"tell me|list|compare)\b",
    re.IGNORECASE,
)
_HARD_WORDS = re.compile(
    r"\b(analy[sz]e|analysis|compare|contrast|trade-?offs?|pros and cons|step[- ]by[- ]step|prove|derive|"
    r"architecture|design|strategy|debug|root cause|optimi[sz]e|evaluate|critique|calculate|estimate|legal|"
    r"contract|migration|security|why)\b",
    re.IGNORECASE,
)
_CODE = re.compile(r"```|\bdef \w+\(|\bclass \w+|\bSELECT\b.+\bFROM\b|=>|\{\s*\"", re.IGNORECASE)
# Asking for code is where cheap models fall furthest behind (MT-Bench coding: about 2.3 points of 10 between Mixtral
# and GPT-4, against 0.1 for writing); an ask is "make/fix code", a language, or an algorithmic constraint. Plain
# workplace words ("the door code", "the program review") do not count.
_PROGRAMMING = re.compile(
    r"\b(write|implement|develop|create|build|fix|debug|refactor)\b[^.?!\n]{0,40}"
    r"\b(function|program|script|class|method|query|code|regex|algorithm|website|endpoint)\b"
    r"|\b(python|javascript|typescript|c\+\+|c#|golang|rust|html|css|sql|bash)\b"
    r"|\b(time|space) complexity\b|\bO\([^)]{1,12}\)|\bstack ?trace\b",
    re.IGNORECASE,
)
# Maths asks (solve, find x, f(x) = …, probability, geometry), beyond the numeric expressions ``_MATH`` sees.
_MATH_ASK = re.compile(
    r"\b(solve|find (the )?(value|x|y|n)\b|remainder|divisible|prime numbers?|probability|perimeter|"
    r"triangle|integer|theorem|derivative)\b|\b[a-z]\([a-z]\)\s*="
    r"|\b[xyz]\s*[-+*/^=<>]\s*\d",
    re.IGNORECASE,
)
_MATH = re.compile(r"\d+\s*[-+*/^%]\s*\d+|\b(equation|integral|probability|percent(age)?)\b", re.IGNORECASE)
_GREETING = re.compile(
    r"^\s*(hi|hello|hey|thanks|thank you|thx|ok|okay|cool|great|good (morning|night))\b", re.IGNORECASE
)

# Context sizes (estimated tokens) at which the reading itself becomes the hard part.
MEDIUM_CONTEXT_TOKENS = 3_000
COMPLEX_CONTEXT_TOKENS = 20_000


@dataclass(frozen=True)
class Classification:
    """What kind of job a request is and how hard; ``reasons`` say which rules fired (for logs and tests)."""

    task: TaskKind
    complexity: Complexity
    reasons: tuple[str, ...] = field(default_factory=tuple)


def classify_task(text: str, command: str | None = None) -> tuple[TaskKind, str]:
    """The task kind and the rule that decided it. A command wins over the words."""
    if command:
        cmd = command.strip().lower()
        if cmd in _SUMMARIZE_COMMANDS:
            return TaskKind.SUMMARIZE, f"command {cmd}"
        if cmd in _DRAFT_COMMANDS:
            return TaskKind.DRAFT, f"command {cmd}"
        if cmd in _ASK_COMMANDS:
            return TaskKind.QA, f"command {cmd}"
    if _SUMMARIZE.search(text):
        return TaskKind.SUMMARIZE, "summary words"
    if _DRAFT.search(text):
        return TaskKind.DRAFT, "drafting words"
    if "?" in text or _QUESTION_START.search(text):
        return TaskKind.QA, "question"
    return TaskKind.CHAT, "default"


def classify_complexity(text: str, task: TaskKind, context_tokens: int) -> tuple[Complexity, list[str]]:
    """Points for signs of difficulty; 0–1 simple, 2–3 medium, 4+ complex. Context size weighs most."""
    points = 0
    reasons: list[str] = []
    if context_tokens >= COMPLEX_CONTEXT_TOKENS:
        points += 4
        reasons.append("very long context")
    elif context_tokens >= MEDIUM_CONTEXT_TOKENS:
        points += 2
        reasons.append("long context")
    words = len(text.split())
    if words > 150:
        points += 2
        reasons.append("long request")
    elif words > 40:
        points += 1
        reasons.append("detailed request")
    hard = {m.group(0).lower() for m in _HARD_WORDS.finditer(text)}
    if hard:
        points += min(len(hard), 4)
        reasons.append("reasoning words")
    if _CODE.search(text):
        points += 2
        reasons.append("code")
    if _PROGRAMMING.search(text):
        points += 2
        reasons.append("programming")
    if _MATH_ASK.search(text):
        points += 2
        reasons.append("maths")
    elif _MATH.search(text):
        points += 1
        reasons.append("math")
    if text.count("?") >= 3:
        points += 1
        reasons.append("several questions")
    if task is TaskKind.CHAT and _GREETING.search(text) and words <= 6:
        points = 0
        reasons = ["small talk"]
    if points >= 4:
        return Complexity.COMPLEX, reasons
    if points >= 2:
        return Complexity.MEDIUM, reasons
    return Complexity.SIMPLE, reasons


def classify(text: str, *, command: str | None = None, context_tokens: int = 0) -> Classification:
    """Classify one request. Pure and cheap: call it on every request."""
    task, task_reason = classify_task(text, command)
    complexity, reasons = classify_complexity(text, task, context_tokens)
    return Classification(task, complexity, (task_reason, *reasons))
