"""What each construct becomes in ``mrkdwn`` and in a native stream's Markdown."""

from __future__ import annotations

from bot.slack.formatting import markdown_blocks, to_markdown, to_mrkdwn


def test_python_comments_in_code_stay_code_not_bold() -> None:
    source = "```python\n# comment\n**kwargs = 1\n```"
    assert to_mrkdwn(source) == "```\n# comment\n**kwargs = 1\n```"


def test_emphasis_strike_and_headings() -> None:
    assert to_mrkdwn("## Plan\n**Ship** it, _maybe_ ~~not~~ now") == "*Plan*\n\n*Ship* it, _maybe_ ~not~ now"
    assert to_markdown("## Plan\n**Ship** it, _maybe_ ~~not~~ now") == "## Plan\n\n**Ship** it, *maybe* ~~not~~ now"


def test_heading_with_bold_inside_is_one_bold_line() -> None:
    assert to_mrkdwn("# The **new** plan") == "*The new plan*"


def test_links_are_rebuilt_from_the_url() -> None:
    assert to_mrkdwn("See [the docs](https://example.com/a?b=1&c=2) now") == (
        "See <https://example.com/a?b=1&amp;c=2|the docs> now"
    )
    assert to_markdown("See [the docs](https://example.com/a?b=1&c=2) now") == (
        "See [the docs](https://example.com/a?b=1&c=2) now"
    )


def test_a_label_naming_another_host_shows_the_real_host() -> None:
    source = "[https://sso.acme.com](https://evil.example/?q=SECRET)"
    assert to_mrkdwn(source) == "<https://evil.example/?q=SECRET|evil.example>"
    assert to_markdown(source) == "[evil.example](https://evil.example/?q=SECRET)"


def test_a_label_naming_the_real_host_or_its_parent_domain_stays() -> None:
    assert to_mrkdwn("[acme.com docs](https://docs.acme.com/x)") == "<https://docs.acme.com/x|acme.com docs>"
    assert to_mrkdwn("[docs.acme.com](https://acme.com.evil.example/)").endswith("|acme.com.evil.example>")


def test_look_alike_hosts_are_caught() -> None:
    assert "xn--" in to_mrkdwn("[apple.com](https://аpple.com/)")  # Cyrillic а in the address
    assert to_mrkdwn("[аpple.com](https://apple.com/)") == "<https://apple.com/|apple.com>"


def test_a_mailto_label_must_be_its_address() -> None:
    assert to_mrkdwn("[it@acme.com](mailto:x@evil.example)") == "<mailto:x@evil.example|x@evil.example>"
    assert to_mrkdwn("[write to IT](mailto:it@acme.com)") == "<mailto:it@acme.com|write to IT>"


def test_forged_slack_links_and_unsafe_schemes_are_text() -> None:
    assert to_mrkdwn("<https://evil.example|company handbook>").startswith("&lt;https://evil.example")
    assert to_mrkdwn("[x](javascript:alert(1))") == "[x](javascript:alert(1))"
    assert "%7C" in to_mrkdwn("<https://evil.example|docs>")  # an autolink cannot smuggle a label in


def test_broadcasts_and_pings_are_defanged_everywhere() -> None:
    source = "Hey <!channel> <!here|here> <!everyone> <!subteam^S123|@devs> <@U123|bob> <@W42> @here"
    for out in (to_mrkdwn(source), to_markdown(source)):
        for forbidden in ("<!channel>", "<!here", "<!everyone>", "<!subteam", "<@U123", "<@W42", " @here"):
            assert forbidden not in out
        assert "@bob" in out and "@W42" in out and "devs" in out
    assert "me@here.com" in to_mrkdwn("mail me@here.com")


def test_html_is_escaped_not_interpreted() -> None:
    assert to_mrkdwn("<script>alert(1)</script> & more") == "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"
    assert to_markdown("<script>x</script>") == "\\<script\\>x\\</script\\>"


def test_tables_become_aligned_code_blocks() -> None:
    out = to_mrkdwn("| a | bb |\n|---|---:|\n| long cell | 3 |")
    assert out == "```\na         | bb\n----------+---\nlong cell |  3\n```"


def test_lists_nest_and_keep_their_numbers() -> None:
    assert to_mrkdwn("- a\n  - b\n    - c\n- d") == "• a\n    ◦ b\n        ▪ c\n• d"
    assert to_mrkdwn("3. three\n4. four") == "3. three\n4. four"
    assert to_markdown("- a\n  - b\n- d") == "- a\n  - b\n- d"


def test_markdown_escapes_what_would_become_markup() -> None:
    assert to_markdown("\\# not a heading") == "\\# not a heading"
    assert to_markdown("1\\. not a list") == "1\\. not a list"
    assert to_markdown("\\*not emphasis\\*") == "\\*not emphasis\\*"
    assert to_markdown("a_b_c & d _e") == "a_b_c & d \\_e", "only an _ that could open emphasis is escaped"


def test_code_spans_keep_backticks_and_spaces() -> None:
    assert to_markdown("`` a ` b ``") == "``a ` b``"
    assert to_markdown("`` `tick` ``") == "`` `tick` ``"
    assert to_mrkdwn("`x < y`") == "`x &lt; y`"


def test_native_code_cannot_carry_slack_control_sequences() -> None:
    """Slack's Markdown translation is not ours to trust with ``<!here>`` in code: a zero-width space breaks it."""
    out = to_markdown("```\n<!here> and <@U1>\n```\n\n`<!channel>`")
    assert "<!" not in out and "<@" not in out
    assert out.replace("\u200b", "") == "```\n<!here> and <@U1>\n```\n\n`<!channel>`"
    assert to_mrkdwn("`<!channel>`") == "`&lt;!channel&gt;`", "mrkdwn code is escaped instead, byte-identical"


def test_blocks_join_into_the_whole() -> None:
    source = "one\n\n- a\n- b\n\n```\ncode\n```"
    assert "\n\n".join(markdown_blocks(source)) == to_markdown(source)
