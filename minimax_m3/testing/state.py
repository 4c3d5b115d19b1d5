"""The emulator's state: the queue of scripted items, the request log, what it issued.

:class:`ScriptState` is shared by the test's thread and the server's loop thread, so
every access to it goes through one lock.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeAlias

from minimax_m3.testing.plan import ResponsePlan
from minimax_m3.testing.prompt_cache import PromptCache
from minimax_m3.testing.script import Fault, Reply

ScriptItem: TypeAlias = Reply | Fault
# Decides the answer to a request (its parsed JSON body) when nothing is queued; None
# falls back to the default echo reply.
Responder: TypeAlias = Callable[[dict[str, Any]], "Reply | Fault | None"]


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request as the emulator received it.

    ``headers`` has lower-case names (repeated headers are joined with ``", "``);
    ``json`` is the parsed body, or None when the body is empty or not JSON; ``path``
    excludes the query string, which is in ``query``.
    """

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any = None
    query: str = ""

    @classmethod
    def build(
        cls, method: str, target: str, headers: Iterable[tuple[str, str]], body: bytes
    ) -> RecordedRequest:
        path, _, query = target.partition("?")
        merged: dict[str, str] = {}
        for name, value in headers:
            key = name.lower()
            merged[key] = f"{merged[key]}, {value}" if key in merged else value
        return cls(method, path, merged, body, _parse_json(body), query)


def _parse_json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


@dataclass(frozen=True)
class IssuedReasoning:
    """The reasoning the emulator sent alongside tool calls it issued.

    ``text`` is the reasoning exactly as sent: for inline reasoning, every character
    between the tags. ``signature`` is set when it went out as an Anthropic thinking
    block; ``tag`` is the tag of inline reasoning. ``self_hosted``: it came from a
    self-hosted server, whose chat template reads past reasoning from ``content`` only,
    so it must come back there, once.
    """

    text: str
    inline: bool
    signature: str | None = None
    tag: str = "think"
    self_hosted: bool = False


@dataclass(frozen=True)
class ParkedTask:
    """An async task whose answer is decided but not yet released to polls."""

    final: ResponsePlan
    pending_polls: int


class ScriptState:
    """The queue of scripted items, the request log and the issued tool calls."""

    def __init__(
        self,
        api_key: str | None,
        *,
        require_reasoning_replay: bool,
        cloudflare_account_id: str | None = None,
        prompt_cache: bool = True,
    ) -> None:
        self.api_key = api_key
        self.prompt_cache = PromptCache(enabled=prompt_cache)
        self.require_reasoning_replay = require_reasoning_replay
        self.cloudflare_account_id = cloudflare_account_id
        self._lock = threading.Lock()
        self._queue: deque[ScriptItem] = deque()
        self._requests: list[RecordedRequest] = []
        self._issued: dict[str, IssuedReasoning] = {}
        self._tasks: dict[str, ParkedTask] = {}
        self.responder: Responder | None = None

    def enqueue(self, items: Iterable[ScriptItem]) -> None:
        checked = list(items)
        for item in checked:
            if not isinstance(item, Reply | Fault):
                raise TypeError(f"can only queue Reply or Fault, got {type(item).__name__}")
        with self._lock:
            self._queue.extend(checked)

    def take(self, body: dict[str, Any]) -> ScriptItem | None:
        """The next queued item; with none queued, what the responder makes of ``body``."""
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            responder = self.responder
        if responder is None:
            return None
        item = responder(body)
        if item is not None and not isinstance(item, Reply | Fault):
            raise TypeError(
                f"a responder must return Reply, Fault or None, got {type(item).__name__}"
            )
        return item

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def remember_issued(self, call_ids: Iterable[str], reasoning: IssuedReasoning) -> None:
        with self._lock:
            for call_id in call_ids:
                self._issued[call_id] = reasoning

    def issued(self, keys: Iterable[str]) -> IssuedReasoning | None:
        """The reasoning sent with the first of ``keys`` (call ids) the emulator issued."""
        with self._lock:
            return next((self._issued[key] for key in keys if key in self._issued), None)

    def park_task(self, task_uuid: str, final: ResponsePlan, pending_polls: int) -> None:
        """Keep an async task's final answer until ``pending_polls`` polls have passed."""
        with self._lock:
            self._tasks[task_uuid] = ParkedTask(final, pending_polls)

    def poll_task(self, task_uuid: str) -> ParkedTask | None:
        """One poll of a parked task: None when unknown, else its state *before* this poll
        (``pending_polls`` > 0 means still processing). Each poll counts one down."""
        with self._lock:
            task = self._tasks.get(task_uuid)
            if task is None:
                return None
            if task.pending_polls > 0:
                self._tasks[task_uuid] = ParkedTask(task.final, task.pending_polls - 1)
            return task

    def reset(self) -> None:
        """Clear the queue, the request log and the prompt cache (issued tool calls and
        async tasks are kept)."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()
        self.prompt_cache.clear()
