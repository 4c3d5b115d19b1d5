"""Errors that are both the transport's and LangChain's.

Each class inherits the ``minimax_m3.errors`` class the transport raised and the
matching ``langchain_core.exceptions`` class, so code that catches either keeps
working. :func:`to_langchain_error` is the only place that picks the class.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
    ModelTimeoutError,
)

from minimax_m3 import errors as transport_errors

__all__ = [
    "MiniMaxAuthenticationError",
    "MiniMaxBadRequestError",
    "MiniMaxConnectionError",
    "MiniMaxContentFilteredError",
    "MiniMaxContextOverflowError",
    "MiniMaxError",
    "MiniMaxInsufficientBalanceError",
    "MiniMaxNotFoundError",
    "MiniMaxPermissionDeniedError",
    "MiniMaxProtocolError",
    "MiniMaxRateLimitError",
    "MiniMaxResponseTooLargeError",
    "MiniMaxServerError",
    "MiniMaxStreamInterruptedError",
    "MiniMaxTimeoutError",
    "langchain_errors",
    "to_langchain_error",
]


class MiniMaxError(transport_errors.MiniMaxM3Error, ModelError):
    """An error the transport could not classify more precisely."""


class MiniMaxAuthenticationError(transport_errors.AuthenticationError, ModelAuthenticationError):
    """The API key is missing, wrong, or belongs to another region."""


class MiniMaxPermissionDeniedError(
    transport_errors.PermissionDeniedError, ModelPermissionDeniedError
):
    """The key may not use this model or resource."""


class MiniMaxInsufficientBalanceError(
    transport_errors.InsufficientBalanceError, ModelPermissionDeniedError
):
    """No balance, or the plan's quota is used up.

    LangChain has no billing error; the account is refused until it is topped up, which is
    closest to a permission error (and, unlike a rate limit, not worth retrying soon).
    """


class MiniMaxBadRequestError(transport_errors.BadRequestError, ModelInvalidRequestError):
    """The provider rejected the request as invalid."""


class MiniMaxContextOverflowError(
    transport_errors.ContextWindowExceededError, ContextOverflowError
):
    """The prompt does not fit in the model's context window."""


class MiniMaxContentFilteredError(transport_errors.ContentFilteredError, ModelInvalidRequestError):
    """The provider's safety filter blocked the input or the output."""


class MiniMaxNotFoundError(transport_errors.NotFoundError, ModelNotFoundError):
    """Unknown model, account or path."""


class MiniMaxRateLimitError(transport_errors.RateLimitError, ModelRateLimitError):
    """Too many requests or tokens for now; the transport already retried."""


class MiniMaxServerError(transport_errors.ServerError, ModelAPIError):
    """The provider failed on its side; the transport already retried."""


class MiniMaxProtocolError(transport_errors.ProtocolError, ModelAPIError):
    """The provider's response was malformed."""


class MiniMaxResponseTooLargeError(transport_errors.ResponseTooLargeError, ModelAPIError):
    """A response, or one stream event, was larger than ``max_response_bytes``."""


class MiniMaxConnectionError(transport_errors.APIConnectionError, ModelConnectionError):
    """No usable response: the connection failed or was refused."""


class MiniMaxTimeoutError(transport_errors.APITimeoutError, ModelTimeoutError):
    """The request timed out."""


class MiniMaxStreamInterruptedError(transport_errors.StreamInterruptedError, ModelConnectionError):
    """A stream broke off before the model finished; ``partial`` holds what arrived."""


# Most specific first is not needed: the lookup walks the raised error's MRO.
_DUAL_CLASSES: dict[
    type[transport_errors.MiniMaxM3Error], type[transport_errors.MiniMaxM3Error]
] = {
    transport_errors.MiniMaxM3Error: MiniMaxError,
    transport_errors.AuthenticationError: MiniMaxAuthenticationError,
    transport_errors.PermissionDeniedError: MiniMaxPermissionDeniedError,
    transport_errors.InsufficientBalanceError: MiniMaxInsufficientBalanceError,
    transport_errors.BadRequestError: MiniMaxBadRequestError,
    transport_errors.ContextWindowExceededError: MiniMaxContextOverflowError,
    transport_errors.ContentFilteredError: MiniMaxContentFilteredError,
    transport_errors.NotFoundError: MiniMaxNotFoundError,
    transport_errors.RateLimitError: MiniMaxRateLimitError,
    transport_errors.ServerError: MiniMaxServerError,
    transport_errors.ProtocolError: MiniMaxProtocolError,
    transport_errors.ResponseTooLargeError: MiniMaxResponseTooLargeError,
    transport_errors.APIConnectionError: MiniMaxConnectionError,
    transport_errors.APITimeoutError: MiniMaxTimeoutError,
    transport_errors.StreamInterruptedError: MiniMaxStreamInterruptedError,
}


def to_langchain_error(error: transport_errors.MiniMaxM3Error) -> transport_errors.MiniMaxM3Error:
    """The same error as an instance of its dual class.

    Every attribute (status, provider code, request id, body, ``partial``, ...), the
    message, the cause and the traceback are carried over; ``is_retryable`` follows the
    transport's verdict for this very error, and is true for an interrupted stream. An
    error that already is a LangChain error is returned unchanged.
    """
    if isinstance(error, ModelError):
        return error
    dual = next(
        (_DUAL_CLASSES[cls] for cls in type(error).__mro__ if cls in _DUAL_CLASSES),
        MiniMaxError,
    )
    converted = dual.__new__(dual, *error.args)
    converted.args = error.args
    converted.__dict__.update(vars(error))
    # A stream cut after it yielded is never retried by the transport (the caller has
    # seen part of an answer), but a new call is as sound as after any dropped
    # connection: LangChain's retry middleware makes one, so it is told it may.
    retryable = error.retryable or isinstance(error, transport_errors.StreamInterruptedError)
    converted.is_retryable = bool(retryable)  # type: ignore[attr-defined]
    converted.__cause__ = error.__cause__
    converted.__suppress_context__ = True
    return converted.with_traceback(error.__traceback__)


@contextmanager
def langchain_errors() -> Iterator[None]:
    """Re-raise the transport's errors as their dual classes; anything else passes."""
    try:
        yield
    except transport_errors.MiniMaxM3Error as error:
        raise to_langchain_error(error)  # noqa: B904 - the cause is carried over on purpose
