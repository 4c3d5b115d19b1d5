"""MiniMax's tool-call markup, as the model writes it when nothing parses it.

Servers without a MiniMax tool parser (and, now and then, MiniMax's own Anthropic
endpoint) pass the model's tool calls through as text. M2 writes::

    <minimax:tool_call>
    <invoke name="get_weather">
    <parameter name="city">Paris</parameter>
    <parameter name="days">3</parameter>
    </invoke>
    </minimax:tool_call>

String values are written raw (no escaping, as the model does); any other JSON value is
written as JSON text. All calls of one answer share one ``<minimax:tool_call>`` block.

M3 writes its namespace marker before every tag and each argument as an element named
after the parameter, as its chat template's ``to_xml`` renders past calls: objects as
nested elements, arrays as repeated ``<item>``, booleans as ``true``/``false``, other
scalars raw, ``None`` left out.
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
    parsed = json_object(arguments)
    lines = [f'<invoke name="{name}">']
    if parsed is not None:
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


def append_to_text(text: str, calls: Iterable[tuple[str, str]], markup: str = "m2") -> str:
    """``text`` followed by the block of ``markup``'s grammar: M2's after a blank line, M3's
    on the next line, as in vLLM's test data."""
    if markup == "m3":
        block = render_m3_tool_calls(calls)
        return f"{text}\n{block}" if text else block
    block = render_tool_calls(calls)
    return f"{text}\n\n{block}" if text else block


MARKER = "]<]minimax[>["


def render_m3_value(name: str, value: Any) -> str:
    """One argument as M3 writes it: ``]<]minimax[>[<name>value]<]minimax[>[</name>``."""
    if value is None:
        return ""
    if isinstance(value, dict):
        inner = "".join(render_m3_value(key, item) for key, item in value.items())
    elif isinstance(value, list):
        inner = "".join(render_m3_value("item", item) for item in value)
    elif isinstance(value, bool):
        inner = "true" if value else "false"
    else:
        inner = str(value)
    return f"{MARKER}<{name}>{inner}{MARKER}</{name}>"


def render_m3_invoke(name: str, arguments: str) -> str:
    parsed = json_object(arguments)
    if parsed is not None:
        inner = "".join(render_m3_value(key, value) for key, value in parsed.items())
    else:
        inner = arguments
    return f'{MARKER}<invoke name="{name}">{inner}{MARKER}</invoke>'


def render_m3_tool_calls(calls: Iterable[tuple[str, str]]) -> str:
    """M3's block for ``(name, arguments JSON text)`` pairs, one invoke a line."""
    invokes = [render_m3_invoke(name, arguments) for name, arguments in calls]
    return "\n".join([f"{MARKER}<tool_call>", *invokes, f"{MARKER}</tool_call>"])


def json_object(arguments: str) -> dict[str, Any] | None:
    """The arguments as a dict, or None when they are not a JSON object."""
    try:
        parsed = json.loads(arguments)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None
