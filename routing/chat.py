"""One message of a prompt, as every OpenAI-compatible chat API takes it: ``{"role": ..., "content": ...}``.

Its own module because everything in ``routing/`` passes prompts around (the router, the cost estimates, the
generator, the client) and none of them should import another just to name the type.
"""

from __future__ import annotations

ChatMessage = dict[str, str]
