from bot.slack.mrkdwn import escape, to_slack


def test_broadcast_mentions_never_reach_slack_as_markup() -> None:
    out = to_slack("Hey <!channel> and <!here|here> and <!everyone>, ping <!subteam^S123|@devs>")
    for forbidden in ("<!channel>", "<!here", "<!everyone>", "<!subteam"):
        assert forbidden not in out
    assert "<" not in out and ">" not in out


def test_bare_broadcast_words_are_defanged() -> None:
    out = to_slack("@channel please look, @here too; email me@here.com stays")
    assert "@channel" not in out and "@here " not in out
    assert "me@here.com" in out


def test_html_is_escaped_not_interpreted() -> None:
    assert to_slack("<script>alert(1)</script> & more") == "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"


def test_markdown_links_become_safe_slack_links() -> None:
    out = to_slack("See [the docs](https://example.com/a?b=1&c=2) now")
    assert out == "See <https://example.com/a?b=1&amp;c=2|the docs> now"


def test_forged_slack_link_in_output_is_escaped() -> None:
    out = to_slack("<https://evil.example|company handbook>")
    assert out.startswith("&lt;https://evil.example")


def test_markdown_bold_and_headings_become_mrkdwn() -> None:
    assert to_slack("## Plan\n**Ship** it") == "*Plan*\n*Ship* it"


def test_escape_order_does_not_double_escape() -> None:
    assert escape("a & <b>") == "a &amp; &lt;b&gt;"
