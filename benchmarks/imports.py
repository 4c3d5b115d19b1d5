"""Import time: each statement timed inside a fresh interpreter, in a user's environment.

Where: ``make bench`` builds ``.venv-imports``, a virtualenv holding only what a user
installs (this package with both frameworks, and the two alternatives it is compared
with; the bench extra's pyinstrument too, which no timed statement imports), without the
test tools of ``.venv``. Those tools change what is
measured: pytest brings pygments and pytest-codspeed brings rich, and with both present
``import httpx`` also imports httpx's command-line client, about a third of what importing
our transport costs, which a user without them never pays. Without ``.venv-imports`` the
runner's own interpreter is used, and the report says so.

How: each statement runs in a new interpreter that reads the clock right before and right
after it, so interpreter start-up and shut-down are not counted; rounds alternate between
the statements (see ``benchmarks.timing`` for how medians and ratios are taken).

Our packages are byte-compiled first, as pip does when it installs them and as every
library we are compared with already is. Without it, a checkout where Python does not
write bytecode (PYTHONDONTWRITEBYTECODE, a read-only tree) would charge our modules a
compile on every import, and only ours.

``import minimax_m3`` and ``import langchain_minimax_m3`` are lazy (names load on first
use), so each is also measured with the name a user actually needs (``Transport``,
``ChatMiniMaxM3``); the targets hold for both.
"""

from __future__ import annotations

import compileall
import subprocess
import sys
from pathlib import Path

from benchmarks.timing import Rounds

ROOT = Path(__file__).resolve().parent.parent
USER_PYTHON = ROOT / ".venv-imports" / "bin" / "python"

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


def user_python() -> str | None:
    """The interpreter of ``.venv-imports``, when ``make bench`` has built it."""
    return str(USER_PYTHON) if USER_PYTHON.exists() else None


def _seconds(python: str, code: str) -> float:
    timed = f"import time\n_started = time.perf_counter()\n{code}\n"
    timed += "print(time.perf_counter() - _started)"
    done = subprocess.run(
        [python, "-c", timed], cwd=ROOT, check=True, capture_output=True, text=True
    )
    return float(done.stdout)


def import_times(
    rounds: int, statements: tuple[str, ...] = STATEMENTS, python: str | None = None
) -> Rounds:
    """Seconds per statement and round in ``python`` (default: this interpreter)."""
    python = python or sys.executable
    for package in PACKAGES:
        compileall.compile_dir(ROOT / package, quiet=1)
    for code in statements:  # the first run also warms the OS file cache
        _seconds(python, code)
    samples: dict[str, list[float]] = {code: [] for code in statements}
    for _ in range(rounds):
        for code in statements:
            samples[code].append(_seconds(python, code))
    return samples
