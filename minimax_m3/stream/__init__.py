"""The one normaliser, for whole answers and streams alike, sync and async.

``StreamState.handle`` takes one decoded wire event (a ``WireDelta``) and returns the
clean events to hand to the caller; ``StreamState.result()`` is everything so far. A whole
response is handed to it as the deltas its body holds, so a whole answer and a streamed
one are made by the same code. It owns every fix MiniMax's answers need:

- reasoning that arrives incrementally on some deployments and as cumulative snapshots
  on others (``ReasoningTrack``), structured reasoning winning over an inline copy,
- reasoning inline in content as ``<think>`` or ``<mm:think>``, with the opening tag
  written by the model, prefilled by the chat template, or not known; tags split
  anywhere; stray closing tags (``ReasoningTagReader``),
- M2's and M3's tool-call markup left in the text (``minimax_m3.tool_markup``),
- tool calls in fragments merged by ``index``,
- stop sequences cut on the client side, since MiniMax accepts ``stop`` and ignores it.
"""

from minimax_m3.stream.reader import StreamReader
from minimax_m3.stream.reasoning import SNAPSHOT_MIN_PREFIX, ReasoningTrack
from minimax_m3.stream.state import StreamState, result_from_deltas, whole_answer
from minimax_m3.stream.stop import StopCutter
from minimax_m3.stream.tags import CLOSE_TAGS, OPEN_TAGS, ReasoningTagReader
from minimax_m3.types import ReasoningStart

__all__ = [
    "CLOSE_TAGS",
    "OPEN_TAGS",
    "SNAPSHOT_MIN_PREFIX",
    "ReasoningStart",
    "ReasoningTagReader",
    "ReasoningTrack",
    "StopCutter",
    "StreamReader",
    "StreamState",
    "result_from_deltas",
    "whole_answer",
]
