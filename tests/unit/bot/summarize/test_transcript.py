"""A transcript line is what a summarizing model reads: names resolved, bots marked, thread sizes kept."""

from bot import replies
from bot.slack.conversations import SlackMessage
from bot.slack.people import people_in
from bot.summarize.transcript import transcript_line, transcript_lines, without_summaries


def test_transcript_line_resolves_names_and_marks_bots_and_threads() -> None:
    human = SlackMessage("U1", "ping <@U2> and <@U3|carol>", "1700000000.000100", False, reply_count=2)
    bot = SlackMessage("B1", "deployed", "1700000060.000100", True)
    names = {"U1": "Alice", "U2": "Bob"}
    assert transcript_line(human, names) == "[2023-11-14 22:13] Alice: ping @Bob and @carol [2 replies in thread]"
    assert transcript_line(bot, names) == "[2023-11-14 22:14] B1 (bot): deployed"
    assert people_in([human, bot]) == ["U1", "U2", "U3"], "authors and mentions, bots left out"


def test_lines_keep_the_message_id_and_edit_version_and_pennys_summaries_are_left_out() -> None:
    edited = SlackMessage("U1", "we ship Friday", "1700000000.000100", False, edited_ts="1700000500.000100")
    summary = SlackMessage("UPENNY", replies.summary_header("this channel", 3, "7 days") + "\n\nGist", "2.0", True)
    other_bot = SlackMessage("B1", "*Summary of* the build: green", "3.0", False)  # a person typing that is kept
    assert without_summaries([edited, summary, other_bot]) == [edited, other_bot]
    (line,) = transcript_lines([edited], {"U1": "Alice"})
    assert (line.ts, line.version, line.text) == (
        "1700000000.000100",
        "1700000500.000100",
        transcript_line(edited, {"U1": "Alice"}),
    )
    assert SlackMessage.from_api({"ts": "1.0", "text": "x", "edited": {"user": "U1", "ts": "9.0"}}).edited_ts == "9.0"
    assert SlackMessage.from_api({"ts": "1.0", "text": "x"}).edited_ts == ""
