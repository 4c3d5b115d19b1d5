"""Parsers for structured answers that arrive as text (``json_schema`` and ``json_mode``).

A reasoning model does not always answer with bare JSON: it may wrap it in a Markdown
fence or put a sentence before or after it. These parsers read the JSON wherever it is,
and parse partial JSON while a stream is still arriving.
"""

from __future__ import annotations

import json
import re
from typing import Any

from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.outputs import Generation

__all__ = ["JsonAnswerParser", "PydanticAnswerParser", "json_text"]

_FENCE = re.compile(r"```(?:json|JSON)?[ \t]*\n?(.*?)(?:```|\Z)", re.DOTALL)


def json_text(text: str) -> str:
    """The JSON inside a model's answer.

    Inside a ````` fence when there is one; from the first ``{`` or ``[`` on; cut where a
    complete value ends, so trailing prose is dropped. An unfinished value (a stream
    still arriving) is returned as it is, for partial parsing.
    """
    match = _FENCE.search(text)
    candidate = match.group(1) if match else text
    starts = [at for at in (candidate.find("{"), candidate.find("[")) if at >= 0]
    if not starts:
        return candidate.strip()
    candidate = candidate[min(starts) :]
    try:
        _, end = json.JSONDecoder().raw_decode(candidate)
    except ValueError:
        return candidate.strip()
    return candidate[:end]


def _json_only(result: list[Generation]) -> list[Generation]:
    return [Generation(text=json_text(result[0].text))]


class JsonAnswerParser(JsonOutputParser):
    """A dict from the JSON in the answer, wherever the model put it."""

    def parse_result(self, result: list[Generation], *, partial: bool = False) -> Any:
        return super().parse_result(_json_only(result), partial=partial)


class PydanticAnswerParser(PydanticOutputParser):  # type: ignore[type-arg]
    """A pydantic object from the JSON in the answer, wherever the model put it."""

    def parse_result(self, result: list[Generation], *, partial: bool = False) -> Any:
        return super().parse_result(_json_only(result), partial=partial)
