"""What both framework adapters are besides their framework: settings and a transport.

``ChatMiniMaxM3`` and ``MiniMaxM3`` put ``AdapterSettings`` first among their bases, so
the settings, their checks, the transport built from them, pickling without secrets and
the request of one call are written once, here.
"""

from __future__ import annotations

import logging
import os
import pickle
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, PrivateAttr, SecretStr, model_validator
from typing_extensions import Self

from minimax_m3.credentials import without_credentials
from minimax_m3.providers import get_provider
from minimax_m3.settings import CALL_OPTIONS, ConnectionSettings, ModelSettings
from minimax_m3.transport import Transport
from minimax_m3.types import BuiltinTool, ChatRequest, Message, ToolChoice, ToolSpec
from minimax_m3.validation import check_options, validate_settings

logger = logging.getLogger("minimax_m3")

# Changing any of these after construction builds a new transport on the next call.
CONNECTION_FIELDS = frozenset(ConnectionSettings.model_fields)
# Never pickled: the key, and clients that belong to this process.
_NOT_PICKLED = ("api_key", "http_client", "http_async_client", "webhook_url")


class AdapterSettings(ConnectionSettings, ModelSettings):
    """Every setting of an adapter, and the transport built from them."""

    _transport_cache: Transport | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _default_model_for_provider(cls, values: Any) -> Any:
        if isinstance(values, dict) and values.get("model") is None and values.get("provider"):
            return {**values, "model": get_provider(values["provider"]).default_model}
        return values

    @model_validator(mode="after")
    def _build_transport(self) -> Self:
        """Bad settings fail here, naming the setting, before anything is sent."""
        transport = Transport(self)
        validate_settings(
            transport.profile,
            api=transport.api,
            model=self.model,
            thinking=self.thinking,
            temperature=self.temperature,
            top_p=self.top_p,
            max_tokens=self.max_tokens,
            stop=tuple(self.stop or ()),
            n=_choices(self.n),
        )
        check_options(
            transport.profile,
            transport.api,
            {
                "top_k": self.top_k,
                "user_id": self.user_id,
                "service_tier": self.service_tier,
                "mask_sensitive_info": self.mask_sensitive_info,
                "webhook_url": self.webhook_url,
                "delivery_method": self.delivery_method,
                "builtin_tools": builtin_tools_to_neutral(self.builtin_tools),
            },
        )
        if self.api_key is None and transport.api_key is not None:
            # Read from the environment: kept, so serializers can name it as a secret.
            self.api_key = transport.api_key
        if self.base_url is None and _from_environment(transport.profile.base_url_env):
            # What the environment set is shown as the setting, as the key is.
            self.base_url = transport.base_url
        self._transport_cache = transport
        return self

    @property
    def _transport(self) -> Transport:
        """The transport; built again after a connection setting changes or unpickling,
        reading the key from the environment then (keys are never pickled)."""
        transport = self._transport_cache
        if transport is None:
            transport = self._transport_cache = Transport(self)
        return transport

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "api_key" and isinstance(value, str):
            value = SecretStr(value)
        super().__setattr__(name, value)
        if name in CONNECTION_FIELDS:
            self._transport_cache = None

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy; one that changes a connection setting gets a transport of its own."""
        if update and isinstance(update.get("api_key"), str):
            update = {**update, "api_key": SecretStr(update["api_key"])}
        copied = super().model_copy(update=update, deep=deep)
        if update and CONNECTION_FIELDS.intersection(update):
            copied._transport_cache = None
        return copied

    def __getstate__(self) -> dict[Any, Any]:
        """Pickle the settings, never the key, your clients or the transport.

        An unpickled model reads the key from the environment again on its first call;
        without one that call raises a ValueError naming the variable to set. A setting
        that cannot be pickled (a callback holding a lock, say) is left out, with a warning.
        """
        # pydantic's own state, not a framework's: LlamaIndex's would pickle the clients
        # to find out they cannot be, and warn about each.
        state = BaseModel.__getstate__(self)
        fields = {**state["__dict__"], **dict.fromkeys(_NOT_PICKLED)}
        fields["default_headers"] = without_credentials(fields.get("default_headers"))
        for name, value in list(fields.items()):
            try:
                pickle.dumps(value)
            except Exception:
                owner = type(self).__name__
                logger.warning("%s: %s cannot be pickled and is left out", owner, name)
                del fields[name]
        private = {
            name: value
            for name, value in (state.get("__pydantic_private__") or {}).items()
            if name != "_transport_cache"
        }
        return {**state, "__dict__": fields, "__pydantic_private__": private}

    def __setstate__(self, state: dict[Any, Any]) -> None:
        fields = dict(state.get("__dict__") or {})
        for name, info in type(self).model_fields.items():
            if name not in fields:
                fields[name] = info.get_default(call_default_factory=True)
        private = {**(state.get("__pydantic_private__") or {}), "_transport_cache": None}
        BaseModel.__setstate__(self, {**state, "__dict__": fields, "__pydantic_private__": private})

    def chat_request(
        self,
        options: Mapping[str, Any],
        *,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] = (),
        tool_choice: ToolChoice | None = None,
        builtin_tools: Sequence[BuiltinTool] = (),
    ) -> ChatRequest:
        """One call's request: these settings, each overridden by the call's option of the
        same name (``extra_body`` merged over the instance's)."""
        stop = options.get("stop", self.stop)
        extra_body = {**(self.extra_body or {}), **(options.get("extra_body") or {})}
        return ChatRequest(
            model=options.get("model") or self.model,
            messages=messages,
            tools=tuple(tools),
            tool_choice=tool_choice,
            parallel_tool_calls=options.get("parallel_tool_calls"),
            thinking=options.get("thinking", self.thinking),
            temperature=options.get("temperature", self.temperature),
            top_p=options.get("top_p", self.top_p),
            max_tokens=options.get("max_tokens", self.max_tokens),
            stop=tuple(stop or ()),
            n=_choices(options.get("n", self.n)),
            response_format=options.get("response_format"),
            extra_body=extra_body or None,
            top_k=options.get("top_k", self.top_k),
            user_id=options.get("user_id", self.user_id),
            service_tier=options.get("service_tier", self.service_tier),
            mask_sensitive_info=options.get("mask_sensitive_info", self.mask_sensitive_info),
            webhook_url=options.get("webhook_url", self.webhook_url),
            delivery_method=options.get("delivery_method", self.delivery_method),
            builtin_tools=(
                *builtin_tools_to_neutral(options.get("builtin_tools", self.builtin_tools)),
                *builtin_tools,
            ),
        )


def builtin_tools_to_neutral(tools: object) -> tuple[BuiltinTool, ...]:
    """Built-in tools as given (a type's name, ``{"type": ...}`` or a ``BuiltinTool``)
    as neutral ones; raises ValueError naming anything else."""
    if tools is None:
        return ()
    if isinstance(tools, (str, Mapping)) or not isinstance(tools, Sequence):
        raise ValueError(
            f"builtin_tools must be a list such as ['search', 'codeInterpreter']; got {tools!r}"
        )
    return tuple(_builtin_tool(tool) for tool in tools)


def _builtin_tool(tool: object) -> BuiltinTool:
    if isinstance(tool, BuiltinTool):
        return tool
    kind = tool.get("type") if isinstance(tool, Mapping) else tool
    if isinstance(tool, Mapping) and set(tool) != {"type"}:
        kind = None  # a built-in tool is its type alone; anything more is a function tool
    if not isinstance(kind, str) or not kind:
        raise ValueError(
            "builtin_tools entries must be a tool type such as 'search' or "
            f"{{'type': 'search'}}; got {tool!r}"
        )
    return BuiltinTool(type=kind)


def unknown_call_options(options: Mapping[str, Any]) -> str | None:
    """What to say of call options that are no request field, or None when all are."""
    unknown = sorted(set(options) - CALL_OPTIONS)
    if not unknown:
        return None
    return f"unexpected call arguments {unknown}; a call takes {sorted(CALL_OPTIONS)}"


def _from_environment(variable: str | None) -> bool:
    return bool(variable and os.environ.get(variable))


def _choices(n: int | None) -> int:
    return 1 if n is None else n
