"""The scope table ``penny check`` and the manifest test read: complete, and the header parsed as Slack sends it."""

from __future__ import annotations

from bot.slack.scopes import EVENT_SCOPES, PURPOSE, parse_scopes, required_bot_scopes


def test_every_required_scope_says_what_breaks_without_it() -> None:
    assert required_bot_scopes() == set(PURPOSE)
    assert {s for s in EVENT_SCOPES.values() if s} <= required_bot_scopes()


def test_the_x_oauth_scopes_header_with_or_without_spaces() -> None:
    assert parse_scopes("chat:write,pins:read") == {"chat:write", "pins:read"}
    assert parse_scopes("files:read, chat:write:bot") == {"files:read", "chat:write:bot"}
    assert parse_scopes(None) == set() == parse_scopes("")
