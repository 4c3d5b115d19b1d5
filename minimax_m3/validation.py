"""Checks run on a request before anything is sent.

Each failure is a ValueError that names the argument and what is allowed, so a bad
value costs no round trip and no tokens.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import NoReturn, get_args
from urllib.parse import urlsplit

from minimax_m3.models import ModelInfo, model_info
from minimax_m3.providers import PROVIDERS, ApiName, ProviderProfile
from minimax_m3.types import (
    BuiltinTool,
    ChatRequest,
    ContentPart,
    DeliveryMethod,
    ImagePart,
    Message,
    NamedToolChoice,
    ServiceTier,
    TextPart,
    VideoPart,
)

_THINKING = ("adaptive", "disabled")
_TOOL_CHOICES = ("auto", "none", "required")


def validate_request(
    request: ChatRequest,
    profile: ProviderProfile,
    api: ApiName | None = None,
    *,
    stream: bool = False,
) -> None:
    """Every check made before a request is sent; raises ValueError naming the argument."""
    if api is not None:
        _check_api(request, profile, api)
        check_options(profile, api, request_options(request))
    validate_settings(
        profile,
        api=api,
        model=request.model,
        thinking=request.thinking,
        temperature=request.temperature,
        top_p=request.top_p,
        max_tokens=request.max_tokens,
        stop=request.stop,
        n=request.n,
    )
    if stream and request.n != 1:
        raise ValueError(
            f"n must be 1 when streaming: a stream carries one answer (Runware's SDK "
            f"forbids numberResults > 1 in stream mode); got {request.n!r}"
        )
    _check_extra_body(request, stream)
    _check_tools(request, profile)
    _check_response_format(request.response_format)
    check_history(request.messages)
    check_cache_markers(request)
    info = model_info(request.model)
    if info is not None:
        _check_media(request.messages, request.model, info)
    if profile.max_image_bytes is not None or profile.max_video_bytes is not None:
        _check_media_sizes(request.messages, profile)


_RESPONSE_FORMATS = ("text", "json_object", "json_schema")

# Body fields an option of ours writes, which extra_body would otherwise override unseen.
_EXTRA_BODY_OWNED = {"numberResults": "n"}


def _check_extra_body(request: ChatRequest, stream: bool) -> None:
    extra = request.extra_body or {}
    for key, option in _EXTRA_BODY_OWNED.items():
        if key in extra:
            # The answer is read for the n asked: results asked for behind its back
            # would be paid for and dropped.
            raise ValueError(
                f"extra_body[{key!r}] is set through the {option} option; pass {option}= instead"
            )
    if not stream and extra.get("deliveryMethod") == "stream":
        raise ValueError(
            "extra_body['deliveryMethod'] = 'stream' needs a streamed call (stream()); "
            "for other calls use delivery_method='sync' or 'async'"
        )


def _check_response_format(response_format: object) -> None:
    if response_format is None:
        return
    if not isinstance(response_format, Mapping) or (
        response_format.get("type") not in _RESPONSE_FORMATS
    ):
        _response_format_refused(response_format)


def _response_format_refused(response_format: object) -> NoReturn:
    raise ValueError(
        "response_format must be a dict whose 'type' is one of "
        f"{', '.join(map(repr, _RESPONSE_FORMATS))}, such as {{'type': 'json_object'}}; "
        f"got {response_format!r}"
    )


# Options only some providers and formats take (ProviderProfile.options says which), each
# with the check of its value: the seeds' documented ranges.
_SERVICE_TIERS = get_args(ServiceTier)
_DELIVERY_METHODS = get_args(DeliveryMethod)


def _check_top_k(value: object) -> None:
    # Seed 000 types it "number, exclusiveMinimum 0"; Runware's settings.topK and vLLM's
    # top_k are integers, and a fractional k means nothing: an integer from 1.
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"top_k must be an integer of at least 1; got {value!r}")


def _check_user_id(value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(
            f"user_id must be a non-empty string (an opaque id such as a hash); got {value!r}"
        )


def _check_service_tier(value: object) -> None:
    if value not in _SERVICE_TIERS:
        raise ValueError(f"service_tier must be 'standard' or 'priority'; got {value!r}")


def _check_flag(name: str) -> Callable[[object], None]:
    def check(value: object) -> None:
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be True or False; got {value!r}")

    return check


def _check_webhook_url(value: object) -> None:
    parts = urlsplit(value) if isinstance(value, str) else None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or not can_be_header_value(str(value))
        or any(ch.isspace() for ch in str(value))
    ):
        # Runware puts a webhook's credentials in its query string: the value is not quoted.
        raise ValueError(
            "webhook_url must be an http:// or https:// URL with a host, without spaces or "
            "line breaks (the value given is not shown: it may carry credentials)"
        )


def _check_delivery_method(value: object) -> None:
    if value not in _DELIVERY_METHODS:
        raise ValueError(
            f"delivery_method must be 'sync' or 'async' (a streamed call streams); got {value!r}"
        )


def _check_builtin_tools(value: object) -> None:
    if isinstance(value, (str, Mapping)) or not isinstance(value, Sequence):
        raise ValueError(f"builtin_tools must be a list of built-in tools; got {value!r}")
    for tool in value:
        if not isinstance(tool, BuiltinTool):
            raise ValueError(f"builtin_tools must hold BuiltinTool entries; got {tool!r}")


_OPTION_CHECKS: dict[str, Callable[[object], None]] = {
    "top_k": _check_top_k,
    "user_id": _check_user_id,
    "service_tier": _check_service_tier,
    "mask_sensitive_info": _check_flag("mask_sensitive_info"),
    "webhook_url": _check_webhook_url,
    "delivery_method": _check_delivery_method,
    "builtin_tools": _check_builtin_tools,
    "response_format": _check_response_format,
}
OPTIONAL = tuple(_OPTION_CHECKS)


def request_options(request: ChatRequest) -> dict[str, object]:
    """The request's options that only some formats take, by name."""
    return {name: getattr(request, name) for name in OPTIONAL}


def check_options(profile: ProviderProfile, api: ApiName, options: Mapping[str, object]) -> None:
    """Each option set (not None, not empty): one this provider's format takes, with a
    value in its documented range. Raises ValueError naming the option and where it works."""
    for name, value in options.items():
        if value is None or (isinstance(value, (list, tuple)) and not value):
            continue
        if not profile.takes_option(api, name):
            raise ValueError(
                f"{name} is not available with api={api!r} on provider {profile.name!r}; "
                f"it works on {_where_option_works(name)}"
            )
        _OPTION_CHECKS[name](value)
        if name == "builtin_tools":
            _check_builtin_types(value, profile, api)  # type: ignore[arg-type]


def _check_builtin_types(
    tools: Sequence[BuiltinTool], profile: ProviderProfile, api: ApiName
) -> None:
    allowed = profile.builtin_tool_types.get(api, ())
    for tool in tools:
        if tool.type not in allowed:
            raise ValueError(
                f"builtin_tools: {tool.type!r} is no built-in tool of provider "
                f"{profile.name!r}; it has {', '.join(map(repr, allowed))}"
            )


def _where_option_works(name: str) -> str:
    places = [
        f"provider {profile.name!r} with api={api!r}"
        for profile in PROVIDERS.values()
        for api in profile.apis
        if profile.takes_option(api, name)
    ]
    return "; ".join(places) or "no provider"


# One encoder for every call: json.dumps with any keyword builds a new one each time.
_BODY_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_ARGUMENTS_ENCODER = json.JSONEncoder(ensure_ascii=False)
# JSONEncoder.encode still builds a C encoder on every call, which was half the cost of
# encoding a small dict, and a replayed agent turn has two. This is that C encoder with
# the same settings, made once: the text is the same. Its circular-reference markers are
# cleared after a failure, which can leave some behind.
_ARGUMENT_MARKERS: dict[int, object] = {}
_make_encoder = getattr(json.encoder, "c_make_encoder", None)
_ENCODE_ARGUMENTS = (
    _make_encoder(
        _ARGUMENT_MARKERS,
        _ARGUMENTS_ENCODER.default,
        json.encoder.encode_basestring,
        None,
        _ARGUMENTS_ENCODER.key_separator,
        _ARGUMENTS_ENCODER.item_separator,
        False,
        False,
        True,
    )
    if _make_encoder is not None
    else None
)


def request_body_bytes(body: object) -> bytes:
    """The body as compact UTF-8 JSON; raises ValueError naming the part that cannot be
    sent (a value JSON has no form for, text with a lone surrogate)."""
    try:
        return _BODY_ENCODER.encode(body).encode()
    except (TypeError, ValueError, UnicodeEncodeError) as exc:
        where, value = _first_unsendable(body, "body") or ("body", None)
        raise ValueError(
            f"the request cannot be sent as JSON: {where} holds {_describe(value)} "
            f"({type(exc).__name__}: {exc})"
        ) from None


def arguments_json(arguments: object, tool: str) -> str:
    """A tool call's arguments as JSON text; raises ValueError naming the tool and the
    value JSON has no form for (a date, a set, an object), rather than a bare TypeError."""
    try:
        if _ENCODE_ARGUMENTS is not None and type(arguments) is dict:
            return "".join(_ENCODE_ARGUMENTS(arguments, 0))
        return _ARGUMENTS_ENCODER.encode(arguments)
    except (TypeError, ValueError) as exc:
        _ARGUMENT_MARKERS.clear()
        where, value = _first_unsendable(arguments, "arguments") or ("arguments", None)
        raise ValueError(
            f"tool call {tool!r}: {where} holds {_describe(value)}; pass arguments JSON "
            f"can carry ({exc})"
        ) from None


def _first_unsendable(
    value: object, path: str, inside: frozenset[int] = frozenset()
) -> tuple[str, object] | None:
    if isinstance(value, str):
        return (path, value) if not _encodable(value) else None
    if isinstance(value, (Mapping, list, tuple)):
        if id(value) in inside:
            return (path, value)  # a container that holds itself: JSON has no form for it
        inside = inside | {id(value)}
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = _first_unsendable(key, f"{path} key", inside) or _first_unsendable(
                item, f"{path}[{key!r}]", inside
            )
            if found:
                return found
        return None
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = _first_unsendable(item, f"{path}[{index}]", inside)
            if found:
                return found
        return None
    if value is None or isinstance(value, (bool, int)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, value)
    return (path, value)


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _describe(value: object) -> str:
    if isinstance(value, str):
        return "text with a lone surrogate (not valid Unicode)"
    return f"a {type(value).__name__}, which JSON cannot carry"


def _check_api(request: ChatRequest, profile: ProviderProfile, api: ApiName) -> None:
    if request.thinking == "disabled" and api in profile.apis_without_thinking_switch:
        other = next((a for a in profile.apis if a not in profile.apis_without_thinking_switch), "")
        raise ValueError(
            f"thinking='disabled' is not available with api={api!r} on provider "
            f"{profile.name!r}, which has no switch for it; use api={other!r}"
        )
    if api in profile.text_only_apis:
        for position, message in enumerate(request.messages):
            if not isinstance(message.content, str) and not all(
                isinstance(part, TextPart) for part in message.content
            ):
                raise ValueError(
                    f"messages[{position}]: api={api!r} takes text only on provider "
                    f"{profile.name!r}; images and videos are not part of it"
                )


def validate_settings(
    profile: ProviderProfile,
    *,
    api: ApiName | None = None,
    model: str,
    thinking: str | None = None,
    temperature: float | None = None,
    top_p: float | None = None,
    max_tokens: int | None = None,
    stop: Sequence[str] = (),
    n: int = 1,
) -> None:
    """The checks on a model's own settings, for adapters to run when they are built."""
    if not model:
        raise ValueError("model must be a non-empty model id")
    info = model_info(model)
    _check_range(
        "temperature",
        temperature,
        profile.temperature_range,
        info.temperature_range if info else None,
    )
    _check_range("top_p", top_p, profile.top_p_range, info.top_p_range if info else None)
    if max_tokens is not None:
        limits = [
            cap
            for cap in (info.max_output_tokens if info else None, profile.max_output_tokens)
            if cap
        ]
        limit = min(limits) if limits else None
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int):
            raise ValueError(f"max_tokens must be an integer; got {max_tokens!r}")
        if max_tokens < 1 or (limit is not None and max_tokens > limit):
            allowed = f"1 to {limit:,}" if limit else "at least 1"
            raise ValueError(f"max_tokens must be {allowed} for {model}; got {max_tokens}")
    if thinking is not None and thinking not in _THINKING:
        raise ValueError(f"thinking must be 'adaptive', 'disabled' or None; got {thinking!r}")
    if isinstance(stop, str) or not all(isinstance(s, str) for s in stop):
        raise ValueError(f"stop must be a list of strings; got {stop!r}")
    _check_results(n, profile, api)


def _check_results(n: object, profile: ProviderProfile, api: ApiName | None) -> None:
    most = profile.max_results.get(api, 1) if api is not None else 1
    if isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= most:
        return
    if most > 1:
        raise ValueError(
            f"n must be an integer from 1 to {most} with api={api!r} on provider "
            f"{profile.name!r}; got {n!r}"
        )
    several = "; ".join(
        f"provider {p.name!r} with api={a!r} takes 1 to {count}"
        for p in PROVIDERS.values()
        for a, count in p.max_results.items()
    )
    raise ValueError(
        f"n must be 1 on provider {profile.name!r}"
        + (f" with api={api!r}" if api else "")
        + f", which returns one answer per request ({several}); got {n!r}"
    )


def _check_range(
    name: str,
    value: float | None,
    provider_range: tuple[float, float] | None,
    model_range: tuple[float, float] | None,
) -> None:
    if value is None:
        return
    low, high = 0.0, math.inf
    for bounds in (model_range, provider_range):
        if bounds:
            low, high = max(low, bounds[0]), min(high, bounds[1])
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ValueError(f"{name} must be a number from {low:g} to {high:g}; got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be from {low:g} to {high:g}; got {value!r}")


def _check_tools(request: ChatRequest, profile: ProviderProfile) -> None:
    names = [tool.name for tool in request.tools]
    for name in names:
        if not name:
            raise ValueError("tools: every tool needs a non-empty name")
    if len(set(names)) != len(names):
        raise ValueError(f"tools: tool names must be unique; got {names}")
    choice = request.tool_choice
    if choice is None:
        return
    if isinstance(choice, NamedToolChoice):
        if choice.name not in names:
            raise ValueError(
                f"tool_choice names {choice.name!r}, which is not among the tools {names}"
            )
    elif choice not in _TOOL_CHOICES:
        raise ValueError(
            f"tool_choice must be 'auto', 'none', 'required' or a tool's name; got {choice!r}"
        )
    elif choice == "required" and not names and not request.builtin_tools:
        raise ValueError("tool_choice='required' needs at least one tool")
    elif choice == "required" and len(names) > 1 and not profile.supports_required_tool_choice:
        raise ValueError(
            f"tool_choice='required' with several tools is not available on provider "
            f"{profile.name!r}, whose schema takes 'none' or 'auto'; name one tool to force "
            "it, or use 'auto'"
        )


def _media_parts(messages: Sequence[Message]) -> Iterator[tuple[int, str, ImagePart | VideoPart]]:
    """Each image and video part, with its message's position and its kind, image or video."""
    for position, message in enumerate(messages):
        if isinstance(message.content, str):
            continue
        for part in message.content:
            if isinstance(part, ImagePart | VideoPart):
                yield position, "image" if isinstance(part, ImagePart) else "video", part


def _check_media(messages: Sequence[Message], model: str, info: ModelInfo) -> None:
    # MiniMax answers M2.x requests with images as if there were none; say so instead.
    for position, kind, _ in _media_parts(messages):
        if not (info.image_input if kind == "image" else info.video_input):
            raise ValueError(f"messages[{position}]: {model} takes no {kind} input; use MiniMax-M3")


_MB = 1024 * 1024


def data_url_size(url: str) -> int | None:
    """Bytes a ``data:`` URL carries, counted from its length without decoding it; None
    for any other URL (an http(s) address or an upload reference cannot be sized here)."""
    if url[:5].lower() != "data:":
        return None
    comma = url.find(",")
    if comma < 0:
        return 0
    length = len(url) - comma - 1
    if url[:comma].lower().endswith(";base64"):
        padding = 2 if url.endswith("==") else 1 if url.endswith("=") else 0
        return max(0, length * 3 // 4 - padding)
    # Percent-encoded: each %XX escape is one byte.
    return length - 2 * url.count("%", comma + 1)


def _check_media_sizes(messages: Sequence[Message], profile: ProviderProfile) -> None:
    for position, kind, part in _media_parts(messages):
        limit = profile.max_image_bytes if kind == "image" else profile.max_video_bytes
        if limit is None:
            continue
        size = data_url_size(part.url)
        if size is not None and size > limit:
            raise ValueError(
                f"messages[{position}]: an inline {kind} must be at most "
                f"{limit / _MB:g} MB on provider {profile.name!r}; got {size / _MB:.1f} MB"
            )


def check_request_size(size: int, profile: ProviderProfile) -> None:
    """The encoded request body against the provider's documented limit."""
    limit = profile.max_request_bytes
    if limit is not None and size > limit:
        raise ValueError(
            f"the request body must be at most {limit / _MB:g} MB on provider "
            f"{profile.name!r}; got {size / _MB:.1f} MB (images and videos count in full)"
        )


def check_history(messages: Sequence[Message]) -> None:
    """Tool results must answer, right after it, the assistant turn that called them.

    MiniMax rejects anything else with ``tool call result does not follow tool call
    (2013)``; saying so here names the message at fault.
    """
    if not messages:
        raise ValueError("messages must hold at least one message")
    open_calls: set[str] = set()
    for position, message in enumerate(messages):
        if message.role == "tool":
            if message.tool_call_id is None or message.tool_call_id not in open_calls:
                raise ValueError(
                    f"messages[{position}]: a tool result must directly follow the assistant "
                    f"message that called it; no pending tool call has id "
                    f"{message.tool_call_id!r}"
                )
            open_calls.discard(message.tool_call_id)
            if not isinstance(message.content, str) and not all(
                isinstance(part, TextPart) for part in message.content
            ):
                raise ValueError(
                    f"messages[{position}]: a tool result must be text; MiniMax accepts "
                    "only a string as a tool message's content"
                )
            continue
        if open_calls:
            raise ValueError(
                f"messages[{position}]: tool calls {sorted(open_calls)} of the assistant "
                "message before it have no result; every tool call needs a tool message "
                "right after the call"
            )
        if message.role == "assistant" and message.tool_calls:
            open_calls = {call.id for call in message.tool_calls}
    # A history may end with unanswered calls only if nothing follows: that is the
    # caller about to run the tools, not a request to the model.
    if open_calls:
        raise ValueError(
            f"messages: tool calls {sorted(open_calls)} of the last assistant message have "
            "no result; add a tool message for each before calling the model"
        )


# RFC 9110's token: the characters a header name may have.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def can_be_header_value(value: str) -> bool:
    """Printable ASCII (and tabs): what a header carries as it is, with no line break."""
    return all(ch == "\t" or " " <= ch <= "~" for ch in value)


def check_headers(headers: Mapping[str, object], *, setting: str = "default_headers") -> None:
    """Refuse a header httpx could not send, naming it; a credential's value is not quoted."""
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise ValueError(f"{setting}: {name!r} is not a valid header name")
        if not isinstance(value, str):
            raise ValueError(f"{setting}[{name!r}] must be a str; got {type(value).__name__}")
        if not can_be_header_value(value):
            raise ValueError(
                f"{setting}[{name!r}] must be printable ASCII, without line breaks or "
                "other control characters (its value is not shown)"
            )


# Explicit cache breakpoints (cache_control). MiniMax documents "up to 4 breakpoints" for
# its Anthropic endpoint, as Anthropic does, with the same ephemeral type and lifetimes.
MAX_CACHE_MARKERS = 4
CACHE_MARKER_TTLS = ("5m", "1h")


def cache_markers(request: ChatRequest) -> list[tuple[str, Mapping[str, object]]]:
    """Every cache marker of a request, with where it is: ``tools[i]`` or
    ``messages[i].content[j]``, in the order a request body holds them."""
    found: list[tuple[str, Mapping[str, object]]] = [
        (f"tools[{index}] ({spec.name!r})", spec.cache_control)
        for index, spec in enumerate(request.tools)
        if spec.cache_control is not None
    ]
    for index, message in enumerate(request.messages):
        if isinstance(message.content, str):
            continue
        found.extend(
            (f"messages[{index}].content[{position}]", marker)
            for position, marker in _part_markers(message.content)
        )
    return found


def _part_markers(parts: Sequence[ContentPart]) -> Iterator[tuple[int, Mapping[str, object]]]:
    for position, part in enumerate(parts):
        marker = getattr(part, "cache_control", None)
        if marker is not None:
            yield position, marker


def check_cache_markers(request: ChatRequest) -> None:
    """At most four markers, each ``{"type": "ephemeral"}`` with an optional ttl."""
    markers = cache_markers(request)
    for where, marker in markers:
        if not isinstance(marker, Mapping) or marker.get("type") != "ephemeral":
            raise ValueError(
                f"{where}: cache_control must be {{'type': 'ephemeral'}}, optionally with "
                f"'ttl' '5m' or '1h'; got {marker!r}"
            )
        extra = sorted(set(marker) - {"type", "ttl"})
        if extra:
            raise ValueError(
                f"{where}: cache_control takes only 'type' and 'ttl'; got {extra[0]!r}"
            )
        if "ttl" in marker and marker["ttl"] not in CACHE_MARKER_TTLS:
            raise ValueError(
                f"{where}: cache_control ttl must be '5m' or '1h'; got {marker['ttl']!r}"
            )
    if len(markers) > MAX_CACHE_MARKERS:
        places = ", ".join(where for where, _ in markers)
        raise ValueError(
            f"a request may carry at most {MAX_CACHE_MARKERS} cache_control markers "
            f"(MiniMax and Anthropic allow 4 breakpoints); got {len(markers)}: {places}"
        )
