"""Every setting of the transport and of both adapters, declared once.

``ConnectionSettings`` is where requests go and how they are sent: ``Transport`` is built
from one, and both adapters are one. ``ModelSettings`` is what each request asks of the
model by default; a call's options of the same names override it. Each field's type,
default, check and description live here and nowhere else.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_serializer,
    field_validator,
)

from minimax_m3.credentials import without_credentials
from minimax_m3.pools import DEFAULT_MAX_RESPONSE_BYTES
from minimax_m3.retry import DEFAULT_MAX_RETRIES
from minimax_m3.types import ChatRequest, DeliveryMethod, ServiceTier, Thinking
from minimax_m3.validation import can_be_header_value, check_headers

DEFAULT_MODEL = "MiniMax-M3"

# What a call may set for itself: every field of the request but its messages.
CALL_OPTIONS = frozenset(f.name for f in dataclasses.fields(ChatRequest)) - {"messages"}


class ConnectionSettings(BaseModel):
    """Where requests go and how they are sent."""

    # A refused value is not quoted back: it may be a key or a header that carries one.
    # The schema is built on first use: the adapters build their own, and only
    # Transport(**settings) ever validates one of these.
    model_config = ConfigDict(
        arbitrary_types_allowed=True, hide_input_in_errors=True, defer_build=True
    )

    provider: str = Field(
        default="minimax",
        description="Who serves the model: 'minimax', 'cloudflare', 'runware' or "
        "'openai-compatible' (a self-hosted vLLM or SGLang server; set base_url).",
    )
    api: str | None = Field(
        default=None,
        description="Wire format; None is the provider's default ('chat_completions' for most).",
    )
    api_key: SecretStr | None = Field(
        default=None,
        exclude=True,
        validation_alias=AliasChoices("api_key", "minimax_api_key"),
        description="API key (minimax_api_key also works); None reads the provider's "
        "environment variable. Never shown, serialized or pickled.",
    )
    base_url: str | None = Field(
        default=None,
        description="The provider's API root; MiniMax also reads MINIMAX_BASE_URL.",
    )
    account_id: str | None = Field(
        default=None,
        description="Cloudflare account id; None reads CLOUDFLARE_ACCOUNT_ID.",
    )
    timeout: float | httpx.Timeout | None = Field(
        default=None,
        description="Seconds (or an httpx.Timeout); None waits up to 10 minutes, 10 s to connect.",
    )
    # Strict: True or "2" is no count of retries; RetryPolicy checks the range.
    max_retries: int = Field(
        default=DEFAULT_MAX_RETRIES,
        strict=True,
        description="Retries after the first attempt, on rate limits, server errors and "
        "dropped connections; the only retry layer.",
    )
    max_response_bytes: int = Field(
        default=DEFAULT_MAX_RESPONSE_BYTES,
        strict=True,
        gt=0,
        description="The most bytes, decompressed, that a whole response or one stream "
        "event may hold (default 64 MiB, some twenty times the longest answer M3 can "
        "write); more raises ResponseTooLargeError.",
    )
    http_client: httpx.Client | None = Field(
        default=None,
        exclude=True,
        repr=False,
        description="Your own sync client; by default a pooled client shared by all.",
    )
    http_async_client: httpx.AsyncClient | None = Field(
        default=None,
        exclude=True,
        repr=False,
        description="Your own async client; by default a pooled client per event loop.",
    )
    default_headers: dict[str, str] | None = Field(
        default=None,
        repr=False,
        description="Headers added to every request; those carrying credentials are "
        "never serialized.",
    )
    gateway_id: str | None = Field(
        default=None,
        description="Cloudflare AI Gateway to route through, sent as cf-aig-gateway-id.",
    )
    poll_interval: float = Field(
        default=1.0,
        description="First wait, in seconds, between polls of a Runware task sent with "
        "extra_body={'deliveryMethod': 'async'}; later waits grow up to 10 s.",
    )

    @field_validator("timeout", mode="before")
    @classmethod
    def _timeout_is_positive(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            # What to_dict() wrote for an httpx.Timeout comes back as one.
            value = httpx.Timeout(**value)
        if isinstance(value, httpx.Timeout):
            for phase, seconds in value.as_dict().items():
                if seconds is not None:
                    _require_positive(f"timeout.{phase}", seconds)
        elif value is not None:
            _require_positive("timeout", value)
        return value

    @field_validator("poll_interval", mode="before")
    @classmethod
    def _poll_interval_is_positive(cls, value: Any) -> Any:
        _require_positive("poll_interval", value)
        return value

    @field_validator("default_headers", mode="before")
    @classmethod
    def _headers_can_be_sent(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            check_headers(value)
        return value

    @field_validator("gateway_id", mode="before")
    @classmethod
    def _gateway_id_can_be_sent(cls, value: Any) -> Any:
        # Sent as the cf-aig-gateway-id header.
        if isinstance(value, str) and not can_be_header_value(value):
            raise ValueError("gateway_id must be printable ASCII, without line breaks")
        return value

    @field_serializer("timeout")
    def _timeout_as_data(self, timeout: float | httpx.Timeout | None) -> Any:
        return timeout.as_dict() if isinstance(timeout, httpx.Timeout) else timeout

    @field_serializer("default_headers")
    def _headers_without_credentials(self, headers: dict[str, str] | None) -> Any:
        return without_credentials(headers)


class ModelSettings(BaseModel):
    """What each request asks of the model, unless a call says otherwise."""

    model_config = ConfigDict(defer_build=True)

    model: str = Field(
        default=DEFAULT_MODEL,
        description="Model id; default 'MiniMax-M3', or the provider's own id for M3 when "
        "only provider is given ('minimax/m3' on Cloudflare, 'minimax:m3@0' on Runware).",
    )
    thinking: Thinking | None = Field(
        default=None,
        description="M3's thinking: 'adaptive', 'disabled', or None for the provider's "
        "default (adaptive).",
    )
    temperature: float | None = Field(
        default=None, description="Sampling temperature, checked against the provider's range."
    )
    top_p: float | None = Field(
        default=None, description="Nucleus sampling, checked against the provider's range."
    )
    max_tokens: int | None = Field(
        default=None, description="Most tokens to generate, reasoning included."
    )
    stop: list[str] | None = Field(
        default=None,
        description="Stop sequences; the answer is also cut on the client side, since "
        "MiniMax accepts stop but does not honour it.",
    )
    n: int | None = Field(
        default=None,
        description="Answers per call: 1 to 4 on Runware's native tasks (numberResults, "
        "not when streaming); every other provider and format returns one, so anything "
        "but 1 (or None) is refused there before sending.",
    )
    extra_body: dict[str, Any] | None = Field(
        default=None,
        description="Extra top-level fields for the request body, sent as they are; a "
        "call's own extra_body is merged over them.",
    )
    # Strict, as the same value given to a call is checked: "40" or 2.0 is no top_k.
    top_k: int | None = Field(
        default=None,
        strict=True,
        description="Sample from the k likeliest tokens (an integer from 1): Cloudflare's "
        "Anthropic format and self-hosted servers; "
        "refused elsewhere (MiniMax's Anthropic endpoint documents it as ignored).",
    )
    user_id: str | None = Field(
        default=None,
        description="An opaque id of your end user, sent as metadata.user_id on the "
        "Anthropic format (MiniMax and Cloudflare); refused elsewhere.",
    )
    service_tier: ServiceTier | None = Field(
        default=None,
        description="MiniMax's 'standard' or 'priority' (priority admission at 1.5x the "
        "price), on both of its formats; refused on other providers.",
    )
    mask_sensitive_info: bool | None = Field(
        default=None,
        strict=True,
        description="Cloudflare's Chat Completions switch that masks e-mails, links and ID "
        "numbers in the output; refused elsewhere.",
    )
    # Runware's webhook credentials go in the URL's query string, so it is kept as a key
    # is: out of reprs, dumps, serialization, traces and pickles.
    webhook_url: str | None = Field(
        default=None,
        repr=False,
        exclude=True,
        description="Runware native tasks: an http(s) URL Runware also POSTs each finished "
        "result to (webhookURL); the call still waits for its own answer. Like the key, "
        "never shown, serialized or pickled.",
    )
    delivery_method: DeliveryMethod | None = Field(
        default=None,
        description="Runware native tasks, calls not streamed: 'sync' (the answer in the "
        "response, the default) or 'async' (acknowledged, then polled for).",
    )
    builtin_tools: list[str | dict[str, Any]] | None = Field(
        default=None,
        description="Tools the provider runs itself, by type ('search') or as Runware "
        "writes them ({'type': 'search'}): 'search' and 'codeInterpreter' on Runware's "
        "native tasks; refused elsewhere.",
    )


def connection_settings(fields: Mapping[str, Any]) -> ConnectionSettings:
    """Settings from keywords; a name that is no setting is refused, as Python would."""
    known = {*ConnectionSettings.model_fields, "minimax_api_key"}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise TypeError(
            f"unexpected keyword arguments {unknown}; the settings are "
            f"{sorted(ConnectionSettings.model_fields)}"
        )
    return ConnectionSettings(**fields)


def _require_positive(name: str, value: object) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not 0 < value < math.inf  # NaN fails both comparisons
    ):
        raise ValueError(f"{name} must be a positive, finite number of seconds; got {value!r}")
