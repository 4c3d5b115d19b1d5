"""A loopback emulator of MiniMax's API, for tests, demos and offline development.

    from minimax_m3.testing import MiniMaxEmulator, Reply, ToolCallReply, Fault

    with MiniMaxEmulator(api_key="test-key") as emu:
        emu.queue(Reply(text="Hi", reasoning="The user greets me."))
        ...  # point a client at emu.base_url
        assert emu.requests[0].json["model"] == "MiniMax-M3"

It imports only the standard library and h11, so it never depends on the code it tests.
"""

from minimax_m3.testing.script import Fault, RecordedRequest, Reply, ToolCallReply
from minimax_m3.testing.server import MiniMaxEmulator

__all__ = ["Fault", "MiniMaxEmulator", "RecordedRequest", "Reply", "ToolCallReply"]
