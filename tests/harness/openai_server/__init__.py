"""A local OpenAI-compatible server for tests: scripted answers, pacing and fault injection.

Usage (sync or async tests alike; control methods are thread-safe)::

    from tests.harness.openai_server import Fault, OpenAIServer

    with OpenAIServer(models=["model-a", "model-b"], api_key="sk-test") as server:
        server.set_answer("model-a", "Hello there, Penny here.")
        server.add_rule("summarize", "Here is the summary.", model="model-b")
        server.inject("model-a", Fault.rate_limited(retry_after=2))        # next request only
        server.set_down("model-b", Fault.server_error())                    # until server.clear("model-b")
        client = openai.AsyncOpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)
        ...
        assert server.models_called() == ["model-a", "model-b"]

Standalone: ``python -m tests.harness.openai_server --port 0 --script script.json`` prints
``READY http://127.0.0.1:PORT/v1``; control it over HTTP at ``/_harness/{requests,script,reset,release}``.
"""

from .faults import Chaos, Fault, FaultKind, provider_faults
from .script import Rule, count_prompt_tokens, default_fallback, last_user_message, split_tokens
from .server import ANY_MODEL, OpenAIServer, RequestRecord

__all__ = [
    "ANY_MODEL",
    "Chaos",
    "Fault",
    "FaultKind",
    "OpenAIServer",
    "RequestRecord",
    "Rule",
    "count_prompt_tokens",
    "default_fallback",
    "last_user_message",
    "provider_faults",
    "split_tokens",
]
