"""Filling the blanked java-slack-sdk samples with realistic values, without inventing fields Slack does not send.

The samples keep Slack's real shapes but blank every value, so each test sets only the fields its parser reads.
``fill`` and ``drop`` refuse a path the sample does not have: a test that needs a field outside the real shape
has to say so explicitly (by building the dict itself), which keeps the tests honest about what Slack sends.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

SampleFn = Callable[[str], dict[str, Any]]
"""The ``slack_sample`` fixture: a sample's path under ``java-slack-sdk_samples/`` to a fresh copy."""

# Realistic ids, in the formats Slack uses (team T…, channel C…, user U…, event Ev…, ts "seconds.micros").
TEAM = "T061EG9R6"
CHANNEL = "C0LAN2Q65"
USER = "U061F7AUR"
OTHER_USER = "U0G9QF9C6"
BOT_USER = "U0LAN0Z89"  # Penny's own user id, as Bolt puts it in ``context["bot_user_id"]``
BOT_ID = "B0LAN0Z8A"
EVENT_ID = "Ev0LAN670R"
THREAD_TS = "1515449438.000011"
TS = "1515449522.000016"


def _parent(payload: dict[str, Any], path: str) -> tuple[Any, str | int]:
    """The container holding ``path``'s last key (dotted keys; digits index lists), checked against the shape."""
    *parents, leaf = path.split(".")
    node: Any = payload
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        return node, int(leaf)
    if leaf not in node:
        raise KeyError(f"{path!r} is not in the sample's shape")
    return node, leaf


def fill(payload: dict[str, Any], values: Mapping[str, object]) -> dict[str, Any]:
    """Set existing fields, e.g. ``{"event.text": "hi", "actions.0.value": "…"}``; returns the payload."""
    for path, value in values.items():
        node, key = _parent(payload, path)
        node[key] = value
    return payload


def drop(payload: dict[str, Any], *paths: str) -> dict[str, Any]:
    """Remove existing fields (a sample is a superset of real traffic: real payloads often lack some)."""
    for path in paths:
        node, key = _parent(payload, path)
        del node[key]
    return payload
