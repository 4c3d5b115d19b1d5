"""What each MiniMax model can do: context window, output limit, inputs, sampling ranges."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ModelInfo:
    family: str
    context_window: int
    max_output_tokens: int
    image_input: bool
    video_input: bool
    # The output limit sent when a format requires one and the caller set none (MiniMax's
    # recommendation for its Anthropic-compatible endpoint).
    default_max_tokens: int
    tool_calling: bool = True
    reasoning: bool = True
    # M3 takes a thinking switch (adaptive or disabled); M2.x always thinks, and MiniMax
    # accepts "disabled" for them and ignores it, so no switch is sent.
    thinking_can_be_disabled: bool = False
    # The tag it writes its reasoning in when nothing parses it out.
    think_tag: str = "think"
    temperature_range: tuple[float, float] = (0.0, 2.0)
    top_p_range: tuple[float, float] = (0.0, 1.0)


M3 = ModelInfo(
    family="MiniMax-M3",
    context_window=1_000_000,
    max_output_tokens=524_288,
    image_input=True,
    video_input=True,
    default_max_tokens=131_072,
    thinking_can_be_disabled=True,
    think_tag="mm:think",
)
M2 = ModelInfo(
    family="MiniMax-M2",
    context_window=204_800,
    max_output_tokens=204_800,
    image_input=False,
    video_input=False,
    default_max_tokens=65_536,
)

# Provider ids differ ("MiniMax-M3", "minimax/m3" on Cloudflare, "minimax:m3@0" on Runware,
# "MiniMaxAI/MiniMax-M3" on a self-hosted server), so the family is read from the id.
_FAMILY = re.compile(r"(?:^|[^a-z0-9])m([23])(?:[^0-9]|$)")


def model_info(model: str) -> ModelInfo | None:
    """The capabilities of a MiniMax model id on any provider, or None if it is not M2/M3."""
    match = _FAMILY.search(model.lower())
    if match is None:
        return None
    return M3 if match.group(1) == "3" else M2


# For a model that is neither: a limit every MiniMax model takes.
FALLBACK_MAX_TOKENS = 32_768


def model_info_or(model: str, fallback: str) -> ModelInfo | None:
    """The model's capabilities, or ``fallback``'s when its id says nothing: a self-hosted
    server may serve M3 under any name (``--served-model-name``)."""
    return model_info(model) or model_info(fallback)


def takes_thinking_switch(model: str, fallback: str = "") -> bool:
    info = model_info_or(model, fallback)
    return info is not None and info.thinking_can_be_disabled


def think_tag(model: str, fallback: str = "") -> str:
    info = model_info_or(model, fallback)
    return info.think_tag if info is not None else "think"


def default_max_tokens(model: str) -> int:
    info = model_info(model)
    return info.default_max_tokens if info is not None else FALLBACK_MAX_TOKENS
