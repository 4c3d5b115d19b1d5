"""Run by ``check_wheel.py`` inside a virtualenv holding the wheel and one extra, from a
directory outside the clone: ``python -I run_quickstart.py EXTRA README.md``.

Checks that the packages come from that virtualenv, that the other framework is absent,
that the pytest plugin is registered, that ``python -m minimax_m3.testing`` serves, and
runs the README's first snippet for the framework against the emulator the wheel ships.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

FRAMEWORKS = {
    # extra: (README heading, module the extra brings, module it must not bring)
    "langchain": ("## LangChain", "langchain_core", "llama_index.core"),
    "llama-index": ("## LlamaIndex", "llama_index.core", "langchain_core"),
}


def fail(message: str) -> None:
    raise SystemExit(f"wheel check, {sys.argv[1]}: {message}")


def first_snippet(readme: str, heading: str) -> str:
    section = readme.split(f"\n{heading}\n", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    if found is None:
        fail(f"no python snippet under {heading!r}")
    return found.group(1)  # type: ignore[union-attr]


def importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # its parent package is missing
        return False


def check_installed(brings: str, absent: str) -> None:
    import minimax_m3

    prefix = Path(sys.prefix).resolve()
    where = Path(minimax_m3.__file__).resolve()
    if prefix not in where.parents:
        fail(f"minimax_m3 was imported from {where}, not from this virtualenv ({prefix})")
    if not importable(brings):
        fail(f"the extra did not install {brings}")
    if importable(absent):
        fail(f"{absent} is installed, but only the other extra should bring it")
    plugins = importlib.metadata.entry_points(group="pytest11")
    if not any(ep.value == "pytest_minimax_m3" for ep in plugins):
        fail("the pytest11 entry point of the plugin is not registered")


def check_cli() -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "minimax_m3.testing", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline().strip()
        if not first.startswith("listening on http://127.0.0.1:"):
            fail(f"python -m minimax_m3.testing printed {first!r}")
        base = first.removeprefix("listening on ")
        body = {
            "model": "MiniMax-M3",
            "messages": [{"role": "user", "content": "ping"}],
            "reasoning_split": True,
        }
        request = urllib.request.Request(
            base + "/v1/chat/completions",
            data=json.dumps(body).encode(),
            headers={"content-type": "application/json"},
        )
        # No proxy: urllib would send even a loopback request through one the
        # environment names.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=10) as response:
            answer = json.load(response)
        text = answer["choices"][0]["message"]["content"]
        if text != "Emulated reply to: ping":
            fail(f"the CLI's emulator answered {text!r}")
    finally:
        server.terminate()
        server.wait(timeout=10)


def run_snippet(code: str) -> str:
    from minimax_m3.testing import MiniMaxEmulator

    with MiniMaxEmulator() as emulator:
        os.environ["MINIMAX_API_KEY"] = "wheel-check-key"
        os.environ["MINIMAX_BASE_URL"] = emulator.base_url
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(code, "README.md", "exec"), {"__name__": "__readme__"})
        if not emulator.requests:
            fail("the snippet ran without sending a request")
    return printed.getvalue()


def main() -> None:
    extra, readme = sys.argv[1], Path(sys.argv[2]).read_text(encoding="utf-8")
    heading, brings, absent = FRAMEWORKS[extra]
    check_installed(brings, absent)
    check_cli()
    output = run_snippet(first_snippet(readme, heading))
    if "Emulated reply to:" not in output:
        fail(f"the snippet's output lacks the emulator's answer:\n{output}")
    print(f"[{extra}] quickstart snippet ran from {sys.prefix}:")
    print("    " + output.strip().replace("\n", "\n    "))


if __name__ == "__main__":
    main()
