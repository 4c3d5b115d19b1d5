"""A loopback emulator of MiniMax's API, for tests, demos and offline development.

    from minimax_m3.testing import MiniMaxEmulator, Reply, StreamShape, ToolCallReply, Fault

    with MiniMaxEmulator(api_key="test-key") as emu:
        emu.queue(Reply(text="Hi", reasoning="The user greets me."))
        emu.queue(Reply(text="Slowly", stream=StreamShape(chunk_size=2, event_delay=0.1)))
        ...  # point a client at emu.base_url
        assert emu.requests[0].json["model"] == "MiniMax-M3"

One server speaks every wire format the project supports, all driven by the same queue:
MiniMax Chat Completions (``{base_url}/v1/chat/completions``) and Anthropic Messages
(``{base_url}/anthropic/v1/messages``), Cloudflare (``emu.cloudflare_base_url``) and
Runware (``emu.runware_base_url``). See :class:`MiniMaxEmulator` for the routes.

It imports only the standard library and h11, so it never depends on the code it tests.
"""

from minimax_m3.testing.script import (
    Fault,
    Layout,
    ProviderOptions,
    Reply,
    StreamShape,
    ToolCallReply,
)
from minimax_m3.testing.server import MiniMaxEmulator
from minimax_m3.testing.state import RecordedRequest

__all__ = [
    "Fault",
    "Layout",
    "MiniMaxEmulator",
    "ProviderOptions",
    "RecordedRequest",
    "Reply",
    "StreamShape",
    "ToolCallReply",
]
