"""``python -m minimax_m3.testing``: the emulator as a server of its own, until interrupted.

For testing what is not Python, or not in-process: curl, a JavaScript app, the official
SDKs. Replies come from a JSON file (see :mod:`minimax_m3.testing.reply_file`), then the
default echo. The first line printed is ``listening on <base URL>``, so a script can
read the port when it asked for port 0.

    python -m minimax_m3.testing --port 8765 --replies replies.json
    curl http://127.0.0.1:8765/v1/chat/completions -H 'content-type: application/json' \\
        -d '{"model": "MiniMax-M3", "messages": [{"role": "user", "content": "Hi"}]}'
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from minimax_m3.testing.reply_file import ReplyFileError, read_reply_file
from minimax_m3.testing.server import MiniMaxEmulator


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m minimax_m3.testing",
        description="Serve the MiniMax M3 emulator (every provider's routes) on loopback.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8765, help="port; 0 picks a free one")
    parser.add_argument("--replies", metavar="FILE", help="JSON file of replies, in order")
    parser.add_argument("--api-key", help="require this key (Bearer, or x-api-key)")
    parser.add_argument(
        "--require-reasoning-replay",
        action="store_true",
        help="reject replayed tool calls that come back without their reasoning",
    )
    parser.add_argument(
        "--cloudflare-account-id", help="the only account id Cloudflare paths accept"
    )
    parser.add_argument(
        "--no-prompt-cache",
        action="store_true",
        help="report no cache reads (by default, MiniMax's passive prompt cache is modelled)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    if not 0 <= options.port <= 65535:
        print(f"--port must be 0-65535, got {options.port}", file=sys.stderr)
        return 2
    try:
        script = read_reply_file(options.replies) if options.replies else []
    except ReplyFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    emulator = MiniMaxEmulator(
        options.api_key,
        require_reasoning_replay=options.require_reasoning_replay,
        host=options.host,
        port=options.port,
        cloudflare_account_id=options.cloudflare_account_id,
        prompt_cache=not options.no_prompt_cache,
    )
    try:
        emulator.start()
    except OSError as exc:
        print(f"error: cannot listen on {options.host}:{options.port}: {exc}", file=sys.stderr)
        return 1
    emulator.queue(*script)
    stop = threading.Event()

    def on_signal(number: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(f"listening on {emulator.base_url}", flush=True)
    print(
        f"  MiniMax Chat Completions  {emulator.chat_completions_url}\n"
        f"  MiniMax Anthropic         {emulator.anthropic_base_url}/v1/messages\n"
        f"  Cloudflare                {emulator.cloudflare_base_url}/accounts/<id>/ai/v1\n"
        f"  Runware                   {emulator.runware_base_url}\n"
        f"  self-hosted (raw output)  {emulator.self_hosted_base_url('raw')}\n"
        f"  {len(script)} scripted replies, then the default echo; Ctrl-C stops",
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
