"""Token counts estimated offline, without M3's tokenizer.

M3's tokenizer is not published as a Python package, and downloading it at run time is
what a counter for trimming histories must not do. So text is cut the way byte-pair
tokenizers cut it before merging (a word with the space before it, up to three digits, a
run of punctuation, a run of white space), each piece counted as one token, a long word
as two, and other scripts by their characters.

Measured against the usage of real ``minimax/m3`` answers (the Cloudflare seed page,
``tests/fixtures/seed``): completions of 25 to 729 tokens are estimated within 4%, and
the four prompts exactly, with the overheads below fitted to them. That is four
samples: treat the estimate as within about 10% for English prose and code, and as
rougher for other scripts. ``count_tokens`` on the adapters asks the provider instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache

from minimax_m3.types import ImagePart, Message, ToolSpec, VideoPart

# What each request costs before its messages (MiniMax's own preamble: the seeds' 114
# cached tokens are part of it), and each message's role markers. A request without a
# system message gets the template's default one.
REQUEST_OVERHEAD = 165
MESSAGE_OVERHEAD = 3
DEFAULT_SYSTEM_PROMPT = 8
TOOL_OVERHEAD = 10
# MiniMax documents rough figures per image: about 600 tokens at low detail, 1k to 3k at
# the default, several thousand at high. Nothing is documented for video; it is counted
# as a handful of default images.
IMAGE_TOKENS = {"low": 600, "high": 6000}
DEFAULT_IMAGE_TOKENS = 2000
VIDEO_TOKENS = 8 * DEFAULT_IMAGE_TOKENS

# ASCII only: other characters match nothing here and are counted apart. Public so that
# a counter of suffixes (llama_index_minimax_m3.tokens) cuts exactly the same way.
PIECES = re.compile(r" ?[A-Za-z]+| ?[0-9]{1,3}| ?[!-/:-@\[-`{-~]+|\s+")
LONG_WORDS = re.compile(r"[A-Za-z]{10,}")
NON_ASCII = re.compile(r"[^\x00-\x7f]")


def estimate_text_tokens(text: str) -> int:
    """About how many tokens M3 makes of ``text``."""
    if not text:
        return 0
    if len(text) <= _CACHED_UP_TO:
        return _cached_text_tokens(text)
    return _text_tokens(text)


# trim_messages counts the same messages many times over, so short texts are cut once;
# a cache of long ones would keep whole documents alive after their caller let go.
_CACHED_UP_TO = 4096


@lru_cache(maxsize=4096)
def _cached_text_tokens(text: str) -> int:
    return _text_tokens(text)


def _text_tokens(text: str) -> int:
    count = len(PIECES.findall(text)) + len(LONG_WORDS.findall(text))
    if not text.isascii():
        count += non_ascii_tokens(len(NON_ASCII.findall(text)))
    return count


def non_ascii_tokens(characters: int) -> int:
    """What ``characters`` non-ASCII characters count for: CJK runs near 0.8 tokens a
    character in byte-pair vocabularies of M3's size."""
    return (characters * 4 + 4) // 5 if characters else 0


def text_to_token_pieces(text: str) -> list[str]:
    """``text`` cut into as many pieces as ``estimate_text_tokens`` counts, for counters
    that take the length of a tokenizer's list (LlamaIndex's ``Settings.tokenizer``)."""
    pieces: list[str] = PIECES.findall(text)
    pieces.extend(LONG_WORDS.findall(text))
    if not text.isascii():
        characters = NON_ASCII.findall(text)
        pieces.extend(characters[: non_ascii_tokens(len(characters))])
    return pieces


def estimate_message_tokens(message: Message) -> int:
    """One message: its text, media, reasoning and tool calls, and its role markers."""
    count = MESSAGE_OVERHEAD
    if isinstance(message.content, str):
        count += estimate_text_tokens(message.content)
    else:
        for part in message.content:
            if isinstance(part, ImagePart):
                count += IMAGE_TOKENS.get(part.detail or "", DEFAULT_IMAGE_TOKENS)
            elif isinstance(part, VideoPart):
                count += VIDEO_TOKENS
            else:
                count += estimate_text_tokens(part.text)
    # Replayed reasoning is counted: whether M3 drops earlier turns' reasoning before
    # counting is not documented, and counting it errs on the side trimming wants.
    for segment in message.reasoning:
        count += estimate_text_tokens(segment.text)
    for call in message.tool_calls:
        count += MESSAGE_OVERHEAD + estimate_text_tokens(call.name + call.arguments)
    return count


def estimate_messages_tokens(messages: Sequence[Message], tools: Sequence[ToolSpec] = ()) -> int:
    """What ``messages`` and ``tools`` themselves come to, about: additive, so the
    parts of a history counted apart add up to the whole (trim_messages relies on it)."""
    count = sum(estimate_message_tokens(message) for message in messages)
    for tool in tools:
        schema = json.dumps(dict(tool.parameters), separators=(",", ":"), default=str)
        count += TOOL_OVERHEAD + estimate_text_tokens(f"{tool.name} {tool.description} {schema}")
    return count


def estimate_request_tokens(messages: Sequence[Message], tools: Sequence[ToolSpec] = ()) -> int:
    """The prompt tokens a request of ``messages`` and ``tools`` comes to, about: theirs
    and the provider's preamble (its default system prompt where none is given)."""
    count = REQUEST_OVERHEAD + estimate_messages_tokens(messages, tools)
    if not any(message.role == "system" for message in messages):
        count += DEFAULT_SYSTEM_PROMPT
    return count
