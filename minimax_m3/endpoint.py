"""What a call to one provider sends and what its answers mean, with no I/O.

``Endpoint`` resolves the settings once (the URL, the key, the headers, the limits) and
holds the pure steps both drivers in ``minimax_m3.transport`` share: validating and
encoding a request, reading a whole response or starting a stream's reader, deciding
about a retry. Keeping them apart leaves the transport only its loops.
"""

from __future__ import annotations

import logging
import math
import random
import time
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NoReturn

import httpx

from minimax_m3 import jsonio
from minimax_m3._version import __version__
from minimax_m3.credentials import Key, credential_values, redact_secret
from minimax_m3.errors import (
    APIConnectionError,
    APITimeoutError,
    CacheMarkersIgnoredWarning,
    MiniMaxM3Error,
    ProtocolError,
    error_from_response,
    request_id_from,
)
from minimax_m3.failures import connection_error
from minimax_m3.pools import environment_proxy, resolve_timeout
from minimax_m3.providers import ApiName, ProviderProfile, get_provider
from minimax_m3.retry import RetryPolicy
from minimax_m3.stream import StreamReader, StreamState, whole_answer
from minimax_m3.types import ChatRequest, ChatResult, StreamEnd, StreamEvent
from minimax_m3.validation import (
    cache_markers,
    check_request_size,
    request_body_bytes,
    validate_request,
)
from minimax_m3.wire import Exchange, Poll, parse_results, wire_format

if TYPE_CHECKING:
    from pydantic import SecretStr
    from typing_extensions import Self

    from minimax_m3.settings import ConnectionSettings


logger = logging.getLogger("minimax_m3")


class Endpoint:
    """One provider's endpoint as settings resolve it, and every step of a call that
    decides rather than waits: the request to send, what a response means, whether to
    try again. ``Transport`` adds the drivers that do the sending."""

    def __init__(
        self,
        settings: ConnectionSettings | None = None,
        /,
        *,
        retry_policy: RetryPolicy | None = None,
        **fields: Any,
    ) -> None:
        """From ``settings`` (each adapter is one), or from their fields as keywords:
        ``Transport(provider="cloudflare", account_id="...")``."""
        if settings is None:
            # pydantic loads here, on first construction, not with this module.
            from minimax_m3.settings import connection_settings

            settings = connection_settings(fields)
        elif fields:
            raise TypeError(
                f"{type(self).__name__} takes settings or their fields as keywords, not both"
            )
        self.profile: ProviderProfile = get_provider(settings.provider)
        self.api: ApiName = self.profile.resolve_api(settings.api)
        self.wire = wire_format(self.api)
        key = self.profile.resolve_api_key(settings.api_key)
        self._key = Key(key) if key else None
        self.account_id = self.profile.resolve_account_id(settings.account_id)
        self.base_url = self.profile.resolve_base_url(settings.base_url)
        self.url = self.base_url + self.profile.path(self.api, account_id=self.account_id)
        # Parsed once: httpx would parse the string again on every request.
        self._httpx_url = httpx.URL(self.url)
        self._proxy = environment_proxy(self.url)
        self.timeout = resolve_timeout(settings.timeout)
        # A timeout given here goes with every request, so it holds on a client you pass
        # in too (httpx would apply the client's own); without one, your client's stands.
        self._request_timeout = None if settings.timeout is None else self.timeout.as_dict()
        self.retry_policy = retry_policy or RetryPolicy(max_retries=settings.max_retries)
        self._http_client = settings.http_client
        self._http_async_client = settings.http_async_client
        self.poll_interval = float(settings.poll_interval)
        self.max_response_bytes = settings.max_response_bytes
        # Header names are case-insensitive: yours are merged by their lower-case names,
        # over ours, so an Authorization of your own replaces the key's (a gateway's
        # token, say) rather than going out beside it.
        self.default_headers = {
            name.lower(): value
            for name, value in {
                **(settings.default_headers or {}),
                **self.profile.gateway_headers(settings.gateway_id),
            }.items()
        }
        self._own_authorization = "authorization" in self.default_headers
        self._count_url = (
            httpx.URL(self.base_url + self.profile.count_tokens_path)
            if self.profile.count_tokens_path
            else None
        )
        self._markers_warned = False

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            "a Transport holds an API key and is never pickled; pickle the adapter (it "
            "reads the key from the environment again) or build a new Transport"
        )

    @property
    def _secrets(self) -> tuple[str, ...]:
        """Whatever may be echoed back, masked in every error that leaves this transport;
        worked out when needed, so no attribute holds the key in the clear."""
        key = [self._key.value] if self._key else []
        return (*key, *credential_values(self.default_headers))

    def __copy__(self) -> Self:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        # Shared, like a connection pool: nothing in it changes after construction but
        # a key read from the environment at the first call, the same for every copy.
        return self

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(provider={self.profile.name!r}, api={self.api!r}, "
            f"url={self.url!r}, api_key={'SecretStr(**********)' if self._key else None})"
        )

    @property
    def api_key(self) -> SecretStr | None:
        """The key as pydantic's ``SecretStr``, or None when there is none.

        pydantic's secret types are imported here, on first use, rather than with this
        module: they cost a sixth of its import time, and a call never needs them.
        """
        if self._key is None:
            return None
        from pydantic import SecretStr

        return SecretStr(self._key.value)

    def max_tokens_sent(self, model: str, max_tokens: int | None) -> int | None:
        """The output cap a request for ``model`` goes with: its own, or the default the
        Anthropic format must send (it requires one); None where none is sent."""
        if self.api != "anthropic_messages":
            return max_tokens
        from minimax_m3.wire.anthropic_messages import max_tokens_sent

        return max_tokens_sent(model, max_tokens)

    def check_api_key(self) -> None:
        """Refuse a call that needs a key and has none, before anything is sent.

        A model built without one reads the environment again here, so a key set after
        construction (secrets injected once a program is running) is found.
        """
        if self._key is not None or self._own_authorization or not self.profile.api_key_required:
            return
        key = self.profile.resolve_api_key(None)
        if key is None:
            raise self.profile.missing_api_key()
        self._key = Key(key)

    def build_http_request(
        self, request: ChatRequest, *, stream: bool
    ) -> tuple[httpx.Request, Exchange]:
        """Validate the request and encode it; raises ValueError before anything is sent."""
        self.check_api_key()
        validate_request(request, self.profile, self.api, stream=stream)
        self._warn_if_markers_ignored(request)
        exchange = self.wire(request, self.profile, stream)
        http_request = self.http_request(exchange.body, exchange.headers, stream=stream)
        check_request_size(len(http_request.content), self.profile)
        return http_request, exchange

    def _warn_if_markers_ignored(self, request: ChatRequest) -> None:
        """Once per endpoint (one per model instance): markers sent where they are ignored."""
        if self._markers_warned or self.api != "anthropic_messages":
            return
        prefixes = self.profile.ignores_cache_markers
        if not prefixes or not request.model.lower().startswith(prefixes):
            return
        if not cache_markers(request):
            return
        self._markers_warned = True
        warnings.warn(
            f"{request.model} on MiniMax's Anthropic-compatible endpoint ignores "
            "cache_control markers and bills the whole prompt as fresh input "
            "(earendil-works/pi#5605, NousResearch/hermes-agent#83678); the Chat "
            "Completions default (api='chat_completions') caches repeated prefixes by "
            "itself, at a fifth of the input price",
            CacheMarkersIgnoredWarning,
            stacklevel=4,
        )

    def http_request(
        self,
        body: Any,
        format_headers: Mapping[str, str],
        *,
        stream: bool,
        url: httpx.URL | None = None,
    ) -> httpx.Request:
        # The body first: encoding it is what may fail, and no frame then holds the key.
        content = request_body_bytes(body)
        headers = {
            "content-type": "application/json",
            "accept": "text/event-stream" if stream else "application/json",
            # Only what a body can be read back from in pieces of bounded size: zstd and
            # brotli inflate a whole network read at once (32 KB made 2 GB).
            "accept-encoding": "gzip, deflate",
            "user-agent": f"minimax-m3-python/{__version__}",
            **format_headers,
            **self.default_headers,
        }
        if self._key is not None and not self._own_authorization:
            headers["authorization"] = f"Bearer {self._key.value}"
        http_request = httpx.Request(
            "POST", url or self._httpx_url, headers=headers, content=content
        )
        if self._request_timeout is not None:
            http_request.extensions["timeout"] = self._request_timeout
        return http_request

    def result_from_response(
        self, request: ChatRequest, exchange: Exchange, response: httpx.Response
    ) -> ChatResult | Poll:
        outcome = self.whole_events(request, exchange, response)
        if isinstance(outcome, Poll):
            return outcome
        end = outcome[-1]
        assert isinstance(end, StreamEnd)
        return end.result

    def results_from_response(
        self, request: ChatRequest, exchange: Exchange, response: httpx.Response
    ) -> list[ChatResult] | Poll:
        """Every answer a whole response holds (``n`` of them where the format can), each
        through the normaliser on its own."""
        request_id, payload = self.json_from_response(response)
        outcome = parse_results(exchange, payload, request_id=request_id)
        if isinstance(outcome, Poll):
            return outcome
        results: list[ChatResult] = []
        for deltas in outcome:
            end = whole_answer(self.new_state(request, exchange, request_id), deltas)[-1]
            assert isinstance(end, StreamEnd)
            results.append(end.result)
        return results

    def whole_events(
        self, request: ChatRequest, exchange: Exchange, response: httpx.Response
    ) -> list[StreamEvent] | Poll:
        """A whole response body as the events it makes, ``StreamEnd`` last; raises the
        provider's error, or says the task is queued."""
        request_id, payload = self.json_from_response(response)
        # Each format checks the body for its provider's in-band errors (HTTP 200 ones).
        outcome = exchange.parse_response(payload, request_id=request_id)
        if isinstance(outcome, Poll):
            return outcome
        # The whole answer goes through the same normaliser as a stream's deltas.
        return whole_answer(self.new_state(request, exchange, request_id), outcome)

    def json_from_response(self, response: httpx.Response) -> tuple[str | None, Any]:
        """The request id and a successful body's JSON; raises the provider's error for
        any other status."""
        request_id = request_id_from(response.headers)
        status_code, body = response.status_code, response.content
        if not 200 <= status_code < 300:
            raise error_from_response(
                status_code, body, response.headers, provider=self.profile.name
            )
        try:
            return request_id, jsonio.loads(body)
        except ValueError:
            raise ProtocolError(
                f"response body is not JSON: {body[:200]!r}",
                status_code=status_code,
                request_id=request_id,
                body=body[:2000].decode("utf-8", "replace"),
            ) from None

    def count_tokens_request(self, request: ChatRequest) -> httpx.Request:
        """The request asking the provider to count ``request``'s input tokens."""
        if self._count_url is None:
            raise ValueError(
                f"provider {self.profile.name!r} documents no token-counting endpoint; "
                "estimate the count offline instead (get_num_tokens_from_messages in "
                "LangChain, MiniMaxM3.estimate_tokens in LlamaIndex)"
            )
        from minimax_m3.wire.anthropic_messages import FORMAT_HEADERS, count_tokens_body

        self.check_api_key()
        validate_request(request, self.profile, "anthropic_messages")
        body = count_tokens_body(request)
        return self.http_request(body, FORMAT_HEADERS, stream=False, url=self._count_url)

    def input_tokens_from_response(self, response: httpx.Response) -> int:
        from minimax_m3.wire.anthropic_messages import input_tokens_from

        request_id, payload = self.json_from_response(response)
        return input_tokens_from(payload, request_id=request_id, provider=self.profile.name)

    def new_state(
        self, request: ChatRequest, exchange: Exchange, request_id: str | None
    ) -> StreamState:
        return StreamState(
            stop=request.stop,
            tools=request.tools,
            reasoning_start=exchange.reasoning_start,
            request_id=request_id,
        )

    def new_stream_reader(
        self, request: ChatRequest, exchange: Exchange, headers: httpx.Headers
    ) -> StreamReader:
        state = self.new_state(request, exchange, request_id_from(headers))
        return StreamReader(exchange, state, max_event_bytes=self.max_response_bytes)

    @property
    def stream_idle_limit(self) -> float:
        """How long a stream may go without bringing any of the answer: the read timeout.
        Keep-alive pings and empty chunks do not count as progress."""
        return self.timeout.read if self.timeout.read is not None else math.inf

    @property
    def poll_budget(self) -> float:
        """How long a queued task may take, all polls together: the read timeout."""
        return self.timeout.read if self.timeout.read is not None else 600.0

    def poll_timed_out(self, started: float, poll: Poll) -> APITimeoutError:
        return APITimeoutError(
            f"the task was still processing after {time.monotonic() - started:.0f}s of polling",
            body=poll.body,
        )

    def redact(self, error: MiniMaxM3Error) -> MiniMaxM3Error:
        """The error with every secret masked wherever the provider echoed it back."""
        return redact_secret(error, *self._secrets)

    def connection_error(self, exc: httpx.HTTPError) -> APIConnectionError:
        """An httpx failure as our error, ``exc`` scrubbed of secrets first."""
        return connection_error(exc, self._secrets)

    def delay_or_raise(self, error: MiniMaxM3Error, retries_done: int) -> float:
        """Seconds to wait before the next attempt, or re-raise ``error``."""
        delay = self.retry_policy.delay_before_retry(
            error, retries_done, now=time.time(), random=random.random
        )
        if delay is None:
            raise self.redact(error)
        logger.info(
            "retrying %s after %s (retry %d in %.2fs)",
            self.url,
            type(error).__name__,
            retries_done + 1,
            delay,
        )
        return delay
