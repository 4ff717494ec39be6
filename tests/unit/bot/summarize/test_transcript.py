"""A transcript line is what a summarizing model reads: names resolved, bots marked, thread sizes kept."""

from bot.slack.conversations import SlackMessage
from bot.slack.people import people_in
from bot.summarize.transcript import transcript_line


def test_transcript_line_resolves_names_and_marks_bots_and_threads() -> None:
    human = SlackMessage("U1", "ping <@U2> and <@U3|carol>", "1700000000.000100", False, reply_count=2)
    bot = SlackMessage("B1", "deployed", "1700000060.000100", True)
    names = {"U1": "Alice", "U2": "Bob"}
    assert transcript_line(human, names) == "[2023-11-14 22:13] Alice: ping @Bob and @carol [2 replies in thread]"
    assert transcript_line(bot, names) == "[2023-11-14 22:14] B1 (bot): deployed"
    assert people_in([human, bot]) == ["U1", "U2", "U3"], "authors and mentions, bots left out"
