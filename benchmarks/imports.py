"""Import time, each statement in a fresh interpreter, less an interpreter that imports nothing.

``import minimax_m3`` and ``import langchain_minimax_m3`` are lazy (names load on first
use), so each is also measured with the name a user actually needs (``Transport``,
``ChatMiniMaxM3``); the targets hold for both.

Our packages are byte-compiled first, as pip does when it installs them and as every
library we are compared with already is. Without it, a checkout where Python does not
write bytecode (PYTHONDONTWRITEBYTECODE, a read-only tree) would charge our modules a
compile on every import, and only ours.
"""

from __future__ import annotations

import compileall
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

HTTPX = "import httpx"
MINIMAX = "import minimax_m3"
TRANSPORT = "from minimax_m3 import Transport"
BASE_CHAT_MODEL = "from langchain_core.language_models import BaseChatModel"
LANGCHAIN = "import langchain_minimax_m3"
CHAT_MINIMAX = "from langchain_minimax_m3 import ChatMiniMaxM3"
CHAT_OPENAI = "from langchain_openai import ChatOpenAI"
FUNCTION_CALLING_LLM = "from llama_index.core.llms.function_calling import FunctionCallingLLM"
LLAMA_INDEX = "import llama_index_minimax_m3"
MINIMAX_LLM = "from llama_index_minimax_m3 import MiniMaxM3"
OPENAI_LIKE = "from llama_index.llms.openai_like import OpenAILike"
PACKAGES = ("minimax_m3", "langchain_minimax_m3", "llama_index_minimax_m3")

STATEMENTS = (
    HTTPX,
    MINIMAX,
    TRANSPORT,
    BASE_CHAT_MODEL,
    LANGCHAIN,
    CHAT_MINIMAX,
    CHAT_OPENAI,
    FUNCTION_CALLING_LLM,
    LLAMA_INDEX,
    MINIMAX_LLM,
    OPENAI_LIKE,
)


def _wall(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
    return time.perf_counter() - started


def import_times(rounds: int, statements: tuple[str, ...] = STATEMENTS) -> dict[str, float]:
    """Median seconds per statement, interpreter start-up taken off; rounds alternate."""
    for package in PACKAGES:
        compileall.compile_dir(ROOT / package, quiet=1)
    _wall("pass")
    for code in statements:  # the first run also warms the OS file cache
        _wall(code)
    base: list[float] = []
    samples: dict[str, list[float]] = {code: [] for code in statements}
    for _ in range(rounds):
        base.append(_wall("pass"))
        for code in statements:
            samples[code].append(_wall(code))
    start_up = statistics.median(base)
    return {code: max(statistics.median(v) - start_up, 0.0) for code, v in samples.items()}
