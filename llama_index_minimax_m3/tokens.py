"""M3's token estimate as a LlamaIndex tokenizer, for ``Settings.tokenizer``,
``ChatMemoryBuffer``, ``Memory`` and ``TokenCountingHandler``: each takes a callable from
text to a list, and counts the list's length.

The estimate itself is ``minimax_m3.tokens`` (offline, nothing downloaded); this module
makes it cheap the way LlamaIndex calls it. ``ChatMemoryBuffer.get()`` drops the oldest
message and counts the rest again, joined into one string, until the history fits: on a
1M-token history that is hundreds of calls on ever shorter suffixes of one long text.
Cut afresh each time, trimming would grow with the square of the history; so the last
long text is kept with where each piece of it begins, and a suffix of it is counted from
those, cutting again only the few characters where the two cuts differ.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left
from dataclasses import dataclass

# The estimate's own patterns, so that a suffix is cut exactly as it would be on its own
# (tests/llama_index/test_llama_tokens.py checks the two against each other).
from minimax_m3.tokens import (
    LONG_WORDS,
    NON_ASCII,
    PIECES,
    non_ascii_tokens,
    text_to_token_pieces,
)

__all__ = ["minimax_m3_tokenizer"]

# Shorter texts are cut afresh each time: that is quick, and not worth holding on to.
_KEPT_FROM = 32_768


@dataclass(frozen=True, slots=True)
class _Matches:
    """What one pattern finds in a text, where each match begins, and where the last ends."""

    found: list[str]
    starts: array[int]
    end: int

    @classmethod
    def of(cls, pattern: re.Pattern[str], text: str) -> _Matches:
        found: list[str] = []
        starts = array("q")
        end = 0
        # One object per distinct piece: a suffix's list is then a copy of references to
        # a few hot objects, several times quicker than to one object per piece, and the
        # cut takes a tenth of the memory.
        distinct: dict[str, str] = {}
        for match in pattern.finditer(text):
            piece = match.group()
            found.append(distinct.setdefault(piece, piece))
            starts.append(match.start())
            end = match.end()
        return cls(found, starts, end)

    def after(self, pattern: re.Pattern[str], text: str, start: int) -> list[str]:
        """``pattern.findall(text[start:])``.

        The patterns look neither behind nor at anchors, so whether and how they match at
        a position depends only on the text from there on: once a scan of the suffix
        starts a match where the whole text's scan started one, the rest is that scan's.
        """
        head: list[str] = []
        position = start
        while True:
            index = bisect_left(self.starts, position)
            if index < len(self.starts):
                # The pattern matches at starts[index], so the search stops there at the latest.
                match = pattern.search(text, position)
                if match is not None and match.start() == self.starts[index]:
                    found = self.found[index:]
                    # Into the copy's front: moving references is cheaper than a second copy.
                    found[:0] = head
                    return found
            else:
                # No match begins at or after self.end (the whole scan tried each position
                # there), so only that far is searched; a match found is taken again from
                # the whole text, which may let it run past the bound.
                bounded = pattern.search(text, position, self.end)
                match = bounded and pattern.match(text, bounded.start())
            if match is None:
                return head
            head.append(match.group())
            position = match.end()


@dataclass(frozen=True, slots=True)
class _Cut:
    """A long text as the estimate cuts it, with positions to cut its suffixes from."""

    text: str
    pieces: _Matches
    long_words: _Matches
    # Every non-ASCII character and where it is, not only those counted.
    characters: list[str]
    character_positions: array[int]

    @classmethod
    def of(cls, text: str) -> _Cut:
        characters: list[str] = []
        positions = array("q")
        if not text.isascii():
            # One object per distinct character, as for pieces: a CJK text would otherwise
            # hold a string object (about 80 bytes) for each of its characters.
            distinct: dict[str, str] = {}
            for match in NON_ASCII.finditer(text):
                character = match.group()
                characters.append(distinct.setdefault(character, character))
                positions.append(match.start())
        return cls(
            text, _Matches.of(PIECES, text), _Matches.of(LONG_WORDS, text), characters, positions
        )

    def tokens_after(self, start: int) -> list[str]:
        """``text_to_token_pieces(self.text[start:])``."""
        characters = self.characters[bisect_left(self.character_positions, start) :]
        counted = non_ascii_tokens(len(characters))
        tokens = self.pieces.after(PIECES, self.text, start)
        tokens += self.long_words.after(LONG_WORDS, self.text, start)
        tokens += characters[:counted]
        return tokens


# The last long text counted: first as it was given, and once a suffix of it is asked for,
# as a _Cut (which costs twice a plain cut, so texts that never recur do not pay for it).
# One reference, replaced whole, so threads counting at once (ChatMemoryBuffer.aget
# counts in a worker thread) each see a consistent value.
_last: str | _Cut | None = None


def minimax_m3_tokenizer(text: str) -> list[str]:
    """``text`` cut into as many pieces as M3's offline estimate counts tokens in it.

    Use it wherever LlamaIndex takes a tokenizer::

        Settings.tokenizer = minimax_m3_tokenizer
        ChatMemoryBuffer.from_defaults(token_limit=..., tokenizer_fn=minimax_m3_tokenizer)
        TokenCountingHandler(tokenizer=minimax_m3_tokenizer)

    Only the length means anything (it always equals
    ``minimax_m3.tokens.estimate_text_tokens(text)``); the pieces are not M3's tokens.
    The last long text is kept (about 20 bytes a token, 30 a character of CJK text, once
    a suffix of it is counted) so that its suffixes are counted quickly.
    ``MiniMaxM3.count_tokens`` asks MiniMax for an exact count instead.
    """
    global _last
    if len(text) < _KEPT_FROM:
        return text_to_token_pieces(text)
    last = _last
    whole = last.text if isinstance(last, _Cut) else last
    if whole is not None and len(text) <= len(whole) and whole.endswith(text):
        if not isinstance(last, _Cut):
            last = _last = _Cut.of(whole)
        return last.tokens_after(len(whole) - len(text))
    _last = text
    return text_to_token_pieces(text)
