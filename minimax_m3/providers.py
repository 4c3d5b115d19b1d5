"""Provider profiles: where requests go, how they authenticate, what each one accepts.

A profile is data: what differs between providers is a field here, read where it is used,
and no code elsewhere asks which provider it is.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

ProviderName: TypeAlias = Literal["minimax", "cloudflare", "runware", "openai-compatible"]
ApiName: TypeAlias = Literal["chat_completions", "anthropic_messages", "runware_tasks"]


@dataclass(frozen=True, slots=True)
class ProviderProfile:
    name: ProviderName
    default_model: str
    # The first entry is the default wire format.
    apis: tuple[ApiName, ...]
    default_base_url: str | None
    api_key_env: str | None
    # The path appended to base_url for each wire format; {account_id} is filled in.
    paths: Mapping[ApiName, str] = field(default_factory=dict)
    api_key_required: bool = True
    base_url_env: str | None = None
    # Endings users copy into base_url from the provider's own examples, taken off again.
    base_url_suffixes: tuple[str, ...] = ()
    # An account the paths name, where it comes from when not passed, and whether needed.
    account_id_env: str | None = None
    account_id_required: bool = False
    # The header a gateway id goes in (Cloudflare AI Gateway), where the provider has one.
    gateway_header: str | None = None
    # Wire formats that take text only, or have no switch to turn thinking off.
    text_only_apis: tuple[ApiName, ...] = ()
    apis_without_thinking_switch: tuple[ApiName, ...] = ()
    # MiniMax needs reasoning_split to keep <think> out of the content; other servers
    # either do it by default or do not know the field.
    sends_reasoning_split: bool = False
    # Self-hosted servers: M3's chat template takes thinking_mode in chat_template_kwargs,
    # may write the opening reasoning tag into the prompt (so the answer starts inside
    # it), and renders past reasoning from the content, written inline.
    thinking_in_template_kwargs: bool = False
    template_may_prefill_reasoning: bool = False
    replays_reasoning_inline: bool = False
    temperature_range: tuple[float, float] | None = None
    top_p_range: tuple[float, float] | None = None
    # A provider's own cap on output tokens, below the model's where it differs.
    max_output_tokens: int | None = None
    # Cloudflare's minimax/m3 schema documents max_tokens; MiniMax deprecates it.
    max_tokens_field: str = "max_completion_tokens"
    # Cloudflare's schema takes tool_choice "none" or "auto" only.
    supports_required_tool_choice: bool = True
    # Largest inline image and video (decoded bytes of a data: URL) and request body the
    # provider accepts; None where nothing is documented (a self-hosted server sets its own).
    max_image_bytes: int | None = None
    max_video_bytes: int | None = None
    max_request_bytes: int | None = None
    # Where the provider counts a request's input tokens (in the Anthropic format), if
    # it documents a place.
    count_tokens_path: str | None = None
    # The request options (ChatRequest fields) that only some formats take, per format
    # this provider serves; any other is refused before sending (validation.OPTIONAL).
    options: Mapping[ApiName, frozenset[str]] = field(default_factory=dict)
    # Most answers one request may ask for (``n``), per format; 1 where not listed.
    max_results: Mapping[ApiName, int] = field(default_factory=dict)
    # Tools the provider runs itself, by type, per format that offers them.
    builtin_tool_types: Mapping[ApiName, tuple[str, ...]] = field(default_factory=dict)

    def takes_option(self, api: ApiName, option: str) -> bool:
        """Whether ``api`` on this provider takes one of the options only some formats take."""
        return option in self.options.get(api, frozenset())

    # Models whose Anthropic-format endpoint here ignores explicit cache_control markers
    # (model id prefixes, lower case); sending markers to them warns once.
    ignores_cache_markers: tuple[str, ...] = ()
    # Whether the Anthropic format's ``system`` may be a list of text blocks here (the
    # only form in which it carries a cache marker).
    anthropic_system_blocks: bool = True

    def path(self, api: ApiName, *, account_id: str | None = None) -> str:
        """The path appended to ``base_url`` for one wire format."""
        return self.paths[api].format(account_id=account_id)

    def normalise_base_url(self, base_url: str) -> str:
        """Strip a trailing slash, and an ending copied from the provider's examples."""
        url = base_url.rstrip("/")
        for suffix in self.base_url_suffixes:
            if url.endswith(suffix):
                return url[: -len(suffix)]
        return url

    def resolve_api(self, api: str | None) -> ApiName:
        """The wire format asked for, or the provider's default; raises if it has not it."""
        if api is None:
            return self.apis[0]
        for name in self.apis:
            if name == api:
                return name
        allowed = ", ".join(repr(a) for a in self.apis)
        raise ValueError(f"api must be one of {allowed} for provider {self.name!r}; got {api!r}")

    def resolve_api_key(self, api_key: object) -> str | None:
        """The key passed (a str or a pydantic ``SecretStr``) or the one the environment
        holds, or None. A missing key is only refused when a call is made
        (``missing_api_key``): a model can be built before its secrets are there."""
        if isinstance(api_key, str):
            value = api_key
        elif api_key is not None:
            reveal = getattr(api_key, "get_secret_value", None)
            if reveal is None:
                raise TypeError(f"api_key must be a str or a SecretStr; got {type(api_key)}")
            value = reveal()
        else:
            value = os.environ.get(self.api_key_env, "") if self.api_key_env else ""
        # A key read from a file or a CRLF .env ends in a line break; none belongs to it.
        value = str(value).strip()
        if not value:
            return None
        check_api_key(value)
        return value

    def missing_api_key(self) -> ValueError:
        """What a call without a key raises, naming what to set."""
        return ValueError(
            f"api_key is required for provider {self.name!r}: pass api_key= or "
            f"set {self.api_key_env}"
        )

    def resolve_base_url(self, base_url: str | None) -> str:
        """The API root passed, from the environment, or the provider's default."""
        env = self.base_url_env
        url = base_url or (os.environ.get(env) if env else None) or self.default_base_url
        if not url:
            raise ValueError(
                f"base_url is required for provider {self.name!r} "
                "(for example http://localhost:8000/v1)"
            )
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://; got {url!r}")
        return self.normalise_base_url(url)

    def resolve_account_id(self, account_id: str | None) -> str | None:
        """The account passed, or the one the environment names; raises if one is needed."""
        value = account_id or (os.environ.get(self.account_id_env) if self.account_id_env else None)
        if self.account_id_required and not value:
            raise ValueError(
                f"account_id is required for provider {self.name!r}: pass account_id= or set "
                f"{self.account_id_env}"
            )
        # It goes into the URL path: "../../user/tokens/verify?" would send the token
        # to another endpoint of the same host.
        if value and not _ACCOUNT_ID.fullmatch(value):
            raise ValueError(f"account_id must be letters, digits, '-' and '_' only; got {value!r}")
        return value

    def gateway_headers(self, gateway_id: str | None) -> dict[str, str]:
        """The header carrying a gateway id; raises where the provider has no gateway."""
        if not gateway_id:
            return {}
        if self.gateway_header is None:
            with_gateway = ", ".join(repr(p.name) for p in PROVIDERS.values() if p.gateway_header)
            raise ValueError(
                f"gateway_id is for provider {with_gateway} (its AI Gateway); "
                f"provider {self.name!r} has none"
            )
        return {self.gateway_header: gateway_id}


_ACCOUNT_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


def check_api_key(value: str) -> None:
    """Refuse a key no header can carry, without quoting it."""
    if not value.isascii() or not value.isprintable() or " " in value:
        raise ValueError(
            f"api_key must be printable ASCII without spaces or line breaks; the "
            f"{len(value)}-character key given is not (it is not shown)"
        )


_MB = 1024 * 1024
# MiniMax documents images up to 10 MB, videos (by URL or base64) up to 50 MB and request
# bodies up to 64 MB. Cloudflare and Runware serve the same model and take its media limits.
_IMAGE_LIMIT, _VIDEO_LIMIT = 10 * _MB, 50 * _MB

PROVIDERS: dict[str, ProviderProfile] = {
    "minimax": ProviderProfile(
        name="minimax",
        default_model="MiniMax-M3",
        apis=("chat_completions", "anthropic_messages"),
        default_base_url="https://api.minimax.io",
        api_key_env="MINIMAX_API_KEY",
        paths={
            "chat_completions": "/v1/chat/completions",
            "anthropic_messages": "/anthropic/v1/messages",
        },
        base_url_env="MINIMAX_BASE_URL",
        base_url_suffixes=("/v1", "/anthropic"),
        sends_reasoning_split=True,
        count_tokens_path="/anthropic/v1/messages/count_tokens",
        # service_tier is in both endpoints' OpenAPI, metadata.user_id in the Anthropic
        # one's; top_k is documented there as ignored, so it is refused rather than
        # dropped unseen. response_format is accepted by M3 without a guarantee.
        options={
            "chat_completions": frozenset({"service_tier", "response_format"}),
            "anthropic_messages": frozenset({"service_tier", "user_id"}),
        },
        # M3 on /anthropic bills marked prompts in full (earendil-works/pi#5605,
        # NousResearch/hermes-agent#83678); M2.x there honours markers as documented.
        ignores_cache_markers=("minimax-m3",),
        max_request_bytes=64 * _MB,
        max_image_bytes=_IMAGE_LIMIT,
        max_video_bytes=_VIDEO_LIMIT,
    ),
    "cloudflare": ProviderProfile(
        name="cloudflare",
        default_model="minimax/m3",
        apis=("chat_completions", "anthropic_messages"),
        default_base_url="https://api.cloudflare.com/client/v4",
        api_key_env="CLOUDFLARE_API_TOKEN",
        paths={
            "chat_completions": "/accounts/{account_id}/ai/v1/chat/completions",
            "anthropic_messages": "/accounts/{account_id}/ai/v1/messages",
        },
        account_id_env="CLOUDFLARE_ACCOUNT_ID",
        account_id_required=True,
        gateway_header="cf-aig-gateway-id",
        temperature_range=(0.0, 1.0),
        top_p_range=(0.0, 1.0),
        max_tokens_field="max_tokens",
        supports_required_tool_choice=False,
        # Seed 000's minimax/m3 schema: mask_sensitive_info and response_format on Chat
        # Completions, top_k (> 0) and metadata on Messages.
        options={
            "chat_completions": frozenset({"mask_sensitive_info", "response_format"}),
            "anthropic_messages": frozenset({"top_k", "user_id"}),
        },
        # The emulator's Cloudflare /ai/v1/messages takes a string system prompt only.
        anthropic_system_blocks=False,
        max_image_bytes=_IMAGE_LIMIT,
        max_video_bytes=_VIDEO_LIMIT,
    ),
    "runware": ProviderProfile(
        name="runware",
        default_model="minimax:m3@0",
        apis=("runware_tasks", "chat_completions"),
        default_base_url="https://api.runware.ai/v1",
        api_key_env="RUNWARE_API_KEY",
        # Native tasks are posted to the root itself.
        paths={"runware_tasks": "", "chat_completions": "/chat/completions"},
        # Runware's minimax:m3@0 task has no image or video parts and no thinking switch.
        text_only_apis=("runware_tasks",),
        apis_without_thinking_switch=("runware_tasks",),
        temperature_range=(0.0, 2.0),
        top_p_range=(0.0, 1.0),
        max_output_tokens=512_000,
        # Seed 003: webhookURL, deliveryMethod, numberResults 1 to 4, the built-in search
        # and codeInterpreter tools. Its settings for minimax:m3@0 are systemPrompt,
        # temperature, topP and maxTokens only, so no topK (other text models' settings
        # have one; reference B.2). Its OpenAI-compatible endpoint documents none of these.
        options={
            "runware_tasks": frozenset({"webhook_url", "delivery_method", "builtin_tools"}),
            "chat_completions": frozenset({"response_format"}),
        },
        max_results={"runware_tasks": 4},
        builtin_tool_types={"runware_tasks": ("search", "codeInterpreter")},
        max_image_bytes=_IMAGE_LIMIT,
        max_video_bytes=_VIDEO_LIMIT,
    ),
    "openai-compatible": ProviderProfile(
        name="openai-compatible",
        default_model="MiniMax-M3",
        apis=("chat_completions",),
        default_base_url=None,
        api_key_env=None,
        paths={"chat_completions": "/chat/completions"},
        api_key_required=False,
        thinking_in_template_kwargs=True,
        template_may_prefill_reasoning=True,
        replays_reasoning_inline=True,
        # vLLM's and SGLang's OpenAI servers take top_k as a sampling parameter.
        options={"chat_completions": frozenset({"top_k", "response_format"})},
    ),
}


def get_provider(name: str) -> ProviderProfile:
    """The profile for a provider name; a ValueError lists the allowed names."""
    try:
        return PROVIDERS[name]
    except KeyError:
        allowed = ", ".join(repr(n) for n in PROVIDERS)
        raise ValueError(f"provider must be one of {allowed}; got {name!r}") from None
