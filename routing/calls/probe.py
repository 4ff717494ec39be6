"""One cheap call per provider, for ``penny check``: is the key accepted, and does the endpoint answer?

The cheapest model of the provider is asked for one token ("ok"), which costs a fraction of a cent even on a
premium tier and proves more than listing models would (some providers list models without a key). The answer
is a reason (``ProbeResult``), never raw error text; the caller words it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import openai

from routing.catalog import Catalog, ModelSpec


class ProbeOutcome(StrEnum):
    OK = "ok"
    NO_KEY = "no_key"  # the environment variable is not set
    REJECTED = "rejected"  # 401/403: the key is wrong or lacks access
    UNKNOWN_MODEL = "unknown_model"  # 404: the endpoint does not serve the catalog's model id
    UNREACHABLE = "unreachable"  # connection, timeout, 5xx


@dataclass(frozen=True)
class ProbeResult:
    provider: str
    model: str
    outcome: ProbeOutcome
    detail: str = ""  # an HTTP status or an exception class name, for the operator


def cheapest_models(catalog: Catalog) -> dict[str, ModelSpec]:
    """Each provider that serves a model, with its cheapest model (input plus output price)."""
    cheapest: dict[str, ModelSpec] = {}
    for model in catalog.models:
        best = cheapest.get(model.provider)
        if best is None or model.price_in_per_mtok + model.price_out_per_mtok < (
            best.price_in_per_mtok + best.price_out_per_mtok
        ):
            cheapest[model.provider] = model
    return dict(sorted(cheapest.items()))


async def probe(catalog: Catalog, model: ModelSpec, *, timeout_s: float = 15.0) -> ProbeResult:
    provider = catalog.provider_of(model)
    key = provider.api_key()
    if key is None:
        return ProbeResult(model.provider, model.id, ProbeOutcome.NO_KEY, provider.api_key_env)
    client = openai.AsyncOpenAI(base_url=provider.base_url, api_key=key, max_retries=0, timeout=timeout_s)
    try:
        await client.chat.completions.create(
            model=model.id, messages=[{"role": "user", "content": "Reply with: ok"}], max_tokens=1
        )
    except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
        return ProbeResult(model.provider, model.id, ProbeOutcome.REJECTED, str(exc.status_code))
    except openai.NotFoundError as exc:
        return ProbeResult(model.provider, model.id, ProbeOutcome.UNKNOWN_MODEL, str(exc.status_code))
    except openai.APIStatusError as exc:
        return ProbeResult(model.provider, model.id, ProbeOutcome.UNREACHABLE, str(exc.status_code))
    except (openai.APIError, OSError) as exc:
        return ProbeResult(model.provider, model.id, ProbeOutcome.UNREACHABLE, type(exc).__name__)
    finally:
        await client.close()
    return ProbeResult(model.provider, model.id, ProbeOutcome.OK)
