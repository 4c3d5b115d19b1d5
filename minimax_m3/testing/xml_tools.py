"""MiniMax's raw XML tool-call syntax, as the model writes it when nothing parses it.

Servers without a MiniMax tool parser (and, now and then, MiniMax's own Anthropic
endpoint) pass the model's tool calls through as text::

    <minimax:tool_call>
    <invoke name="get_weather">
    <parameter name="city">Paris</parameter>
    <parameter name="days">3</parameter>
    </invoke>
    </minimax:tool_call>

String values are written raw (no escaping, as the model does); any other JSON value is
written as JSON text. All calls of one answer share one ``<minimax:tool_call>`` block.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

OPEN = "<minimax:tool_call>"
CLOSE = "</minimax:tool_call>"


def parameter_text(value: Any) -> str:
    """A parameter value as the model writes it: strings raw, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def render_invoke(name: str, arguments: str) -> str:
    """One ``<invoke>`` element; ``arguments`` is the call's JSON text.

    Arguments that are not a JSON object (scripted malformed JSON) go inside the element
    verbatim, so a test can still see them.
    """
    try:
        parsed = json.loads(arguments)
    except ValueError:
        parsed = None
    lines = [f'<invoke name="{name}">']
    if isinstance(parsed, dict):
        lines += [
            f'<parameter name="{key}">{parameter_text(value)}</parameter>'
            for key, value in parsed.items()
        ]
    elif arguments:
        lines.append(arguments)
    lines.append("</invoke>")
    return "\n".join(lines)


def render_tool_calls(calls: Iterable[tuple[str, str]]) -> str:
    """The XML block for ``(name, arguments JSON text)`` pairs."""
    return "\n".join([OPEN, *(render_invoke(name, args) for name, args in calls), CLOSE])


def append_to_text(text: str, calls: Iterable[tuple[str, str]]) -> str:
    """``text`` followed by the XML block, separated by a blank line when there is text."""
    block = render_tool_calls(calls)
    return f"{text}\n\n{block}" if text else block
