"""Everything about models: which one answers a request, and how the answer arrives when providers misbehave.

The assistant's API (built once by ``routing.factory.build_routing(catalog, redis, escalator=...)``):

- ``Router.plan(RouteRequest) -> RoutePlan | Refusal`` — routing returns reasons and notes as values, never
  sentences (the bot words them). Allow-list, user limits, classification (+ learned
  nudge), budget (soft: premium down one tier, note said once; hard: ``Refusal``), health, context window,
  fallback chain, and a budget reservation held in Redis.
- ``Generator.stream(plan) -> AsyncIterator[TextDelta | Generation]`` — the one retry loop; text as it arrives,
  then one ledger-ready ``Generation`` (also on failure). Settles the budget.
- ``Budget`` / ``Health`` for admin views; ``classify`` and ``cost`` are pure functions.

Modules: ``catalog`` + ``policy`` (YAML config), ``classify``, ``router`` (+ ``chain``, ``context``),
``budget``, ``limits``, ``health``, ``generate`` (+ ``overlap``, ``generation``, ``quality`` and its ``gate``),
``llm`` (one SDK call),
``cost``, ``keys`` (Redis key names), ``learned`` (kNN scorer, plugged in through ``router.Escalator``).
"""
