"""Make model output safe and readable in Slack.

Model output is untrusted: injected text in a thread or a pinned document can make a model echo ``<!channel>``
or a forged ``<https://evil|docs>`` link. Slack treats ``<...>`` as control sequences, so we escape ``&``, ``<`` and
``>`` (Slack's own escaping rule) after removing broadcast mentions outright. Markdown links are the one piece of
markup we rebuild ourselves, from a validated http(s) URL, so users still get clickable links.
"""

from __future__ import annotations

import re

# <!channel>, <!here>, <!everyone>, <!subteam^ID|@team>, and their escaped-looking variants.
_SPECIAL_MENTION = re.compile(r"<\s*!\s*(channel|here|everyone|subteam\^[^>]*)\s*(\|[^>]*)?>", re.IGNORECASE)
_BARE_BROADCAST = re.compile(r"(?<![\w@])@(channel|here|everyone)\b", re.IGNORECASE)
_MD_LINK = re.compile(r"\[([^\]\n]{1,200})\]\((https?://[^\s)<>|]{1,2000})\)")
_MD_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_MD_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def escape(text: str) -> str:
    """Slack's escaping: only these three characters are control characters in message text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _defang_broadcasts(text: str) -> str:
    text = _SPECIAL_MENTION.sub(lambda m: f"@\u200b{m.group(1).split('^')[0].lower()}", text)
    # A zero-width space keeps "@channel" readable but stops any client-side linkification.
    return _BARE_BROADCAST.sub(lambda m: f"@\u200b{m.group(1)}", text)


def to_slack(text: str) -> str:
    """Turn model Markdown into safe Slack mrkdwn: no pings, no forged links, no raw HTML."""
    text = _defang_broadcasts(text)
    links: list[tuple[str, str]] = []

    def _stash_link(match: re.Match[str]) -> str:
        links.append((match.group(1), match.group(2)))
        return f"\x00{len(links) - 1}\x00"

    text = _MD_LINK.sub(_stash_link, text)
    text = escape(text)
    text = _MD_BOLD.sub(r"*\1*", text)
    text = _MD_HEADING.sub(r"*\1*", text)
    for index, (label, url) in enumerate(links):
        safe_label = escape(label).replace("|", "¦")
        text = text.replace(f"\x00{index}\x00", f"<{escape(url)}|{safe_label}>")
    return text
