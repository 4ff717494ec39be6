"""Ready-made pytest fixtures. Import them into a conftest.py (or a test module) to use them::

    from tests.harness.openai_server.fixtures import openai_client, openai_server  # noqa: F401

`openai_server` is a fresh server per test (cheap: a thread and a socket, a few milliseconds), so faults and
the request log never leak between tests. It accepts any model id; set `accept_any_model = False` and
`add_model(...)` to test `model_not_found`. `openai_client` is the real SDK client pointed at it, with the
SDK's own retries off as in production (`routing/calls/llm.py` owns retrying).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import openai
import pytest

from .server import OpenAIServer

TEST_API_KEY = "sk-test-penny-harness"


@pytest.fixture
def openai_server() -> Iterator[OpenAIServer]:
    """A started server requiring `TEST_API_KEY`, accepting any model; stopped after the test."""
    with OpenAIServer(api_key=TEST_API_KEY, accept_any_model=True) as server:
        yield server


@pytest.fixture
async def openai_client(openai_server: OpenAIServer) -> AsyncIterator[openai.AsyncOpenAI]:
    """`openai.AsyncOpenAI` against `openai_server`, max_retries=0 and a 10 s timeout (tests should not wait
    out the SDK's 600 s default when something hangs)."""
    client = openai.AsyncOpenAI(base_url=openai_server.base_url, api_key=TEST_API_KEY, max_retries=0, timeout=10)
    try:
        yield client
    finally:
        await client.close()
