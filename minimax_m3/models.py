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
    tool_calling: bool = True
    reasoning: bool = True
    # M2.x always thinks: MiniMax accepts "disabled" for them and ignores it.
    thinking_can_be_disabled: bool = False
    temperature_range: tuple[float, float] = (0.0, 2.0)
    top_p_range: tuple[float, float] = (0.0, 1.0)


M3 = ModelInfo(
    family="MiniMax-M3",
    context_window=1_000_000,
    max_output_tokens=524_288,
    image_input=True,
    video_input=True,
    thinking_can_be_disabled=True,
)
M2 = ModelInfo(
    family="MiniMax-M2",
    context_window=204_800,
    max_output_tokens=204_800,
    image_input=False,
    video_input=False,
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


def is_m3(model: str) -> bool:
    return model_info(model) is M3
