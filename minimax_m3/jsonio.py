"""JSON text to Python values, fast, with the standard library as the judge.

Every response body and every stream chunk is a JSON document, so parsing is on the hot
path. pydantic-core's parser (a dependency already, through pydantic) takes about half
the time of ``json.loads``. Text it refuses (a lone UTF-16 surrogate escape, which
``json.loads`` accepts, or text that is not JSON at all) goes to ``json.loads``, so the
values and the errors are the standard library's; only nesting too deep for either
parser is a ValueError here rather than a RecursionError.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic_core import from_json


def loads(data: str | bytes) -> Any:
    """Parse JSON like ``json.loads``; raises ValueError for text that is not JSON."""
    try:
        return from_json(data)
    except ValueError:
        pass
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deeply to parse") from None
