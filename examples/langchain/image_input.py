"""LangChain: an image as a standard content block (base64 here; a URL works too)."""

from __future__ import annotations

import base64
import struct
import zlib

from langchain_core.messages import HumanMessage

from examples._offline import connection
from langchain_minimax_m3 import ChatMiniMaxM3
from minimax_m3.testing import Reply

SCRIPT = [Reply(reasoning="A flat red square.", text="It is a plain red square.")]


def red_square_png(size: int = 32) -> bytes:
    """A tiny PNG made here, so the example needs no file."""
    row = b"\x00" + b"\xff\x00\x00" * size
    raw = zlib.compress(row * size)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def main() -> None:
    with connection(SCRIPT) as settings:
        llm = ChatMiniMaxM3(**settings)
        image = base64.b64encode(red_square_png()).decode()
        message = HumanMessage(
            content=[
                {"type": "text", "text": "What is in this picture?"},
                {"type": "image", "base64": image, "mime_type": "image/png"},
            ]
        )
        print(llm.invoke([message]).content)


if __name__ == "__main__":
    main()
