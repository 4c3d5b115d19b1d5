"""Provider profiles: where requests go, how they authenticate, what each one accepts."""

from __future__ import annotations

from dataclasses import dataclass
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
    api_key_required: bool = True
    base_url_env: str | None = None
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

    def path(self, api: ApiName, *, account_id: str | None = None) -> str:
        """The path appended to ``base_url`` for one wire format."""
        if self.name == "minimax":
            return {
                "chat_completions": "/v1/chat/completions",
                "anthropic_messages": "/anthropic/v1/messages",
            }[api]
        if self.name == "cloudflare":
            suffix = {"chat_completions": "chat/completions", "anthropic_messages": "messages"}
            return f"/accounts/{account_id}/ai/v1/{suffix[api]}"
        if self.name == "runware":
            return "/chat/completions" if api == "chat_completions" else ""
        return "/chat/completions"

    def normalise_base_url(self, base_url: str) -> str:
        """Strip a trailing slash; for MiniMax also a trailing ``/v1`` or ``/anthropic``,
        which users copy from MiniMax's own examples."""
        url = base_url.rstrip("/")
        if self.name == "minimax":
            for suffix in ("/v1", "/anthropic"):
                if url.endswith(suffix):
                    return url[: -len(suffix)]
        return url


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
        base_url_env="MINIMAX_BASE_URL",
        sends_reasoning_split=True,
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
        temperature_range=(0.0, 1.0),
        top_p_range=(0.0, 1.0),
        max_tokens_field="max_tokens",
        supports_required_tool_choice=False,
        max_image_bytes=_IMAGE_LIMIT,
        max_video_bytes=_VIDEO_LIMIT,
    ),
    "runware": ProviderProfile(
        name="runware",
        default_model="minimax:m3@0",
        apis=("runware_tasks", "chat_completions"),
        default_base_url="https://api.runware.ai/v1",
        api_key_env="RUNWARE_API_KEY",
        temperature_range=(0.0, 2.0),
        top_p_range=(0.0, 1.0),
        max_output_tokens=512_000,
        max_image_bytes=_IMAGE_LIMIT,
        max_video_bytes=_VIDEO_LIMIT,
    ),
    "openai-compatible": ProviderProfile(
        name="openai-compatible",
        default_model="MiniMax-M3",
        apis=("chat_completions",),
        default_base_url=None,
        api_key_env=None,
        api_key_required=False,
        thinking_in_template_kwargs=True,
        template_may_prefill_reasoning=True,
        replays_reasoning_inline=True,
    ),
}


def get_provider(name: str) -> ProviderProfile:
    """The profile for a provider name; a ValueError lists the allowed names."""
    try:
        return PROVIDERS[name]
    except KeyError:
        allowed = ", ".join(repr(n) for n in PROVIDERS)
        raise ValueError(f"provider must be one of {allowed}; got {name!r}") from None
