"""The model catalog: providers, models, prices, context windows and tiers, loaded from YAML.

Prices are data, not code (a team changes providers more often than it deploys), so everything money-related
is read here and validated once at start-up: a bad catalog stops Penny with one clear line instead of
mispricing a month of requests.
"""

from __future__ import annotations

import os
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from routing.policy import Policy
from vocabulary import Tier, parse_tier

__all__ = ["Catalog", "CatalogError", "ModelSpec", "Provider", "Tier", "load_catalog"]


class CatalogError(ValueError):
    """The catalog file is missing or invalid; the message names the offending entry."""


class Provider(BaseModel):
    """An OpenAI-compatible endpoint and the environment variable that holds its key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str
    api_key_env: str

    def api_key(self) -> str | None:
        return os.environ.get(self.api_key_env) or None


class ModelSpec(BaseModel):
    """One model: where it lives, what it costs, how much it can read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    provider: str
    tier: Tier
    family: str
    price_in_per_mtok: Decimal = Field(ge=0)
    price_out_per_mtok: Decimal = Field(ge=0)
    # What the provider charges for prompt tokens read from its prefix cache; None: no published discount, so
    # cached tokens are billed as ordinary input.
    price_cached_in_per_mtok: Decimal | None = Field(default=None, ge=0)
    context_window: int = Field(gt=0)
    ttft_threshold_s: float | None = Field(default=None, gt=0)
    max_output_tokens: int = Field(default=1024, gt=0)

    @field_validator("tier", mode="before")
    @classmethod
    def _known_tier(cls, value: Any) -> Tier:
        return parse_tier(value)

    @field_validator("price_in_per_mtok", "price_out_per_mtok", "price_cached_in_per_mtok", mode="before")
    @classmethod
    def _exact_decimal(cls, value: Any) -> Any:
        # YAML floats become binary floats; go through str() so 0.1 stays exactly 0.1 (not 0.1000000000000000055).
        return Decimal(str(value)) if isinstance(value, float | int) else value

    @model_validator(mode="after")
    def _cached_not_dearer(self) -> ModelSpec:
        if self.price_cached_in_per_mtok is not None and self.price_cached_in_per_mtok > self.price_in_per_mtok:
            raise ValueError(f"model '{self.id}': price_cached_in_per_mtok is above price_in_per_mtok")
        return self


class Catalog(BaseModel):
    """Validated catalog; look-ups by id and by tier."""

    model_config = ConfigDict(extra="allow", frozen=True)

    baseline: str
    providers: dict[str, Provider]
    models: list[ModelSpec]
    policy: Policy = Field(default_factory=Policy)

    @model_validator(mode="after")
    def _check_references(self) -> Catalog:
        seen: set[str] = set()
        for model in self.models:
            if model.id in seen:
                raise ValueError(f"duplicate model id '{model.id}'")
            seen.add(model.id)
            if model.provider not in self.providers:
                raise ValueError(f"model '{model.id}' names unknown provider '{model.provider}'")
        if self.baseline not in seen:
            raise ValueError(f"baseline model '{self.baseline}' is not in the catalog")
        if not self.models:
            raise ValueError("the catalog lists no models")
        return self

    def model(self, model_id: str) -> ModelSpec:
        for model in self.models:
            if model.id == model_id:
                return model
        raise KeyError(model_id)

    def provider_of(self, model: ModelSpec) -> Provider:
        return self.providers[model.provider]

    @property
    def baseline_model(self) -> ModelSpec:
        return self.model(self.baseline)

    def ttft_threshold_s(self, model: ModelSpec) -> float:
        """The model's own first-token threshold, else the policy default (long-context models need more)."""
        return model.ttft_threshold_s or self.policy.health.default_ttft_threshold_s


DEFAULT_CATALOG_RESOURCE = "default_catalog.yaml"


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Load and validate a catalog; ``None`` means the default shipped as package data."""
    try:
        if path is None:
            text = resources.files("routing").joinpath(DEFAULT_CATALOG_RESOURCE).read_text("utf-8")
            where = f"routing/{DEFAULT_CATALOG_RESOURCE}"
        else:
            text = Path(path).read_text("utf-8")
            where = str(path)
    except OSError as exc:
        raise CatalogError(f"cannot read model catalog {path}: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogError(f"model catalog {where} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise CatalogError(f"model catalog {where} must be a mapping with providers and models")
    try:
        return Catalog.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise CatalogError(f"model catalog {where}: {loc + ': ' if loc else ''}{first['msg']}") from exc
