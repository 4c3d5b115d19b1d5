"""LangChain model profiles from the transport's model table."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, cast, get_type_hints

from langchain_core.language_models import ModelProfile

from minimax_m3.models import model_info

__all__ = ["model_profile"]


@lru_cache(maxsize=1)
def _declared_keys() -> frozenset[str]:
    return frozenset(get_type_hints(ModelProfile))


def model_profile(model: str) -> ModelProfile | None:
    """What ``model`` can do, as LangChain's ``ModelProfile``; None for an unknown id.

    Keys this langchain-core does not declare are left out (it warns about unknown ones).
    """
    info = model_info(model)
    if info is None:
        return None
    values: dict[str, Any] = {
        "max_input_tokens": info.context_window,
        "max_output_tokens": info.max_output_tokens,
        "text_inputs": True,
        "image_inputs": info.image_input,
        "image_url_inputs": info.image_input,
        "video_inputs": info.video_input,
        "audio_inputs": False,
        "pdf_inputs": False,
        "image_tool_message": False,
        "pdf_tool_message": False,
        "text_outputs": True,
        "image_outputs": False,
        "audio_outputs": False,
        "video_outputs": False,
        "reasoning_output": info.reasoning,
        "tool_calling": info.tool_calling,
        "tool_choice": info.tool_calling,
        "tool_call_streaming": info.tool_calling,
        # Not claimed: MiniMax documents no schema-enforced output, so agents should use
        # a tool for structured answers (``with_structured_output``'s default does).
        "structured_output": False,
        "temperature": True,
    }
    declared = _declared_keys()
    return cast(ModelProfile, {k: v for k, v in values.items() if k in declared})
