"""The bot's Redis state on a real three-master Redis Cluster, by the same tests as on one server: event claims,
the ledger (and its workspace set, found by a scan of every node), retention and kept day totals, the Slack call
budget, joined threads, votes, the digest's reads, the summarizer's kept partials. A script, transaction or
multi-key command whose keys spanned slots would fail here (the cluster client refuses it before Redis would)."""

from __future__ import annotations

from tests.cluster_fixtures import redis, redis_url
from tests.unit.bot.assistant.test_joined_threads import test_a_joined_thread_is_remembered_and_expires
from tests.unit.bot.assistant.test_thread_state import (
    test_a_long_non_english_question_round_trips_through_the_fresh_answer_button,
    test_joining_then_people_writing,
)
from tests.unit.bot.bookkeeping.test_retention import (
    test_a_trimmed_week_reads_the_same_from_its_kept_days,
    test_every_kept_day_expires,
    test_trimming_is_scoped_by_team_and_leaves_recent_rows,
    test_workspaces_are_found_by_one_scan_then_by_their_set,
)
from tests.unit.bot.digest.test_report import (
    test_a_week_adds_up_exactly_and_only_that_weeks_rows_of_that_team,
    test_votes_count_net_per_model_and_tier,
)
from tests.unit.bot.feedback.test_deleted_messages import (
    test_deleting_pennys_reply_evicts_the_entry_it_showed_and_a_source_evicts_by_source,
)
from tests.unit.bot.feedback.test_votes import (
    test_a_thumb_on_any_part_of_an_answer_counts_for_its_model_and_task,
    test_thumbs_down_evicts_the_cache_entry_and_teaches_the_scorer,
)
from tests.unit.bot.slack.test_event_claims import (
    test_a_claim_re_sent_after_a_lost_reply_is_still_won_by_its_owner,
    test_claims_are_scoped_by_team,
    test_expired_lease_is_taken_over_with_the_placeholder,
    test_first_claim_wins_and_duplicates_are_dropped,
)
from tests.unit.bot.slack.test_update_budget import (
    test_a_held_place_expires_when_its_worker_died,
    test_progress_leaves_a_slot_for_every_reply_in_flight,
)
from tests.unit.bot.summarize.test_mapreduce import (
    catalog,
    test_an_edit_invalidates_only_the_chunk_that_holds_the_message,
    test_the_same_summary_twice_makes_only_the_reduce_call_the_second_time,
)
from tests.unit.bot.test_ledger import (
    test_a_request_is_recorded_exactly_once_under_concurrency,
    test_reads_are_scoped_by_workspace_and_channel,
)

__all__ = [
    "catalog",
    "redis",
    "redis_url",
    "test_a_claim_re_sent_after_a_lost_reply_is_still_won_by_its_owner",
    "test_a_held_place_expires_when_its_worker_died",
    "test_a_joined_thread_is_remembered_and_expires",
    "test_a_long_non_english_question_round_trips_through_the_fresh_answer_button",
    "test_a_request_is_recorded_exactly_once_under_concurrency",
    "test_a_thumb_on_any_part_of_an_answer_counts_for_its_model_and_task",
    "test_a_trimmed_week_reads_the_same_from_its_kept_days",
    "test_a_week_adds_up_exactly_and_only_that_weeks_rows_of_that_team",
    "test_an_edit_invalidates_only_the_chunk_that_holds_the_message",
    "test_claims_are_scoped_by_team",
    "test_deleting_pennys_reply_evicts_the_entry_it_showed_and_a_source_evicts_by_source",
    "test_every_kept_day_expires",
    "test_expired_lease_is_taken_over_with_the_placeholder",
    "test_first_claim_wins_and_duplicates_are_dropped",
    "test_joining_then_people_writing",
    "test_progress_leaves_a_slot_for_every_reply_in_flight",
    "test_reads_are_scoped_by_workspace_and_channel",
    "test_the_same_summary_twice_makes_only_the_reduce_call_the_second_time",
    "test_thumbs_down_evicts_the_cache_entry_and_teaches_the_scorer",
    "test_trimming_is_scoped_by_team_and_leaves_recent_rows",
    "test_votes_count_net_per_model_and_tier",
    "test_workspaces_are_found_by_one_scan_then_by_their_set",
]
