"""Image and video input: every LangChain block form reaches M3 as the right part."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from lc_helpers import Driver

from langchain_minimax_m3 import ChatMiniMaxM3
from minimax_m3.testing import MiniMaxEmulator

MakeModel = Callable[..., ChatMiniMaxM3]
B64 = "iVBORw0KGgo="
URL = "https://example.com/cat.png"
VIDEO = "https://example.com/cat.mp4"


@pytest.mark.parametrize(
    ("block", "part"),
    [
        (
            {"type": "image", "base64": B64, "mime_type": "image/jpeg"},
            {"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{B64}"}},
        ),
        ({"type": "image", "url": URL}, {"type": "image_url", "image_url": {"url": URL}}),
        (
            {"type": "image", "source_type": "base64", "data": B64, "mime_type": "image/png"},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{B64}"}},
        ),
        (
            {"type": "image_url", "image_url": {"url": URL, "detail": "high"}},
            {"type": "image_url", "image_url": {"url": URL, "detail": "high"}},
        ),
        ({"type": "image_url", "image_url": URL}, {"type": "image_url", "image_url": {"url": URL}}),
        (
            {
                "type": "image",
                "source": {"type": "base64", "media_type": "image/webp", "data": B64},
            },
            {"type": "image_url", "image_url": {"url": f"data:image/webp;base64,{B64}"}},
        ),
        ({"type": "video", "url": VIDEO}, {"type": "video_url", "video_url": {"url": VIDEO}}),
        (
            {"type": "video_url", "video_url": {"url": VIDEO, "fps": 2}},
            {"type": "video_url", "video_url": {"url": VIDEO, "fps": 2.0}},
        ),
        (
            {"type": "video", "base64": B64, "mime_type": "video/mp4"},
            {"type": "video_url", "video_url": {"url": f"data:video/mp4;base64,{B64}"}},
        ),
    ],
)
async def test_media_blocks_reach_m3_as_parts(
    emulator: MiniMaxEmulator,
    make_model: MakeModel,
    block: dict[str, Any],
    part: dict[str, Any],
) -> None:
    message = HumanMessage(content=[{"type": "text", "text": "What is this?"}, block])
    await make_model().ainvoke([message])
    content = emulator.requests[0].json["messages"][0]["content"]
    assert content == [{"type": "text", "text": "What is this?"}, part]


async def test_images_work_on_both_paths(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    message = HumanMessage(content=[{"type": "image", "url": URL}, "Describe it."])
    answer = await driver.invoke(make_model(), [message])
    assert answer.content == "Emulated reply to: Describe it."
    assert emulator.requests[0].json["messages"][0]["content"][0]["type"] == "image_url"


@pytest.mark.parametrize(
    "block",
    [
        {"type": "audio", "base64": B64, "mime_type": "audio/wav"},
        {"type": "file", "base64": B64, "mime_type": "application/pdf"},
        {"type": "image", "file_id": "file-123"},
    ],
)
async def test_inputs_m3_cannot_take_fail_before_sending(
    emulator: MiniMaxEmulator, make_model: MakeModel, block: dict[str, Any]
) -> None:
    with pytest.raises(ValueError, match="content block 1"):
        await make_model().ainvoke([HumanMessage(content=["Look:", block])])
    assert emulator.requests == []


async def test_m2_models_refuse_images_before_sending(
    emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    message = HumanMessage(content=[{"type": "image", "url": URL}])
    with pytest.raises(ValueError, match=r"messages\[0\]: MiniMax-M2\.7 takes no image input"):
        await make_model(model="MiniMax-M2.7").ainvoke([message])
    with pytest.raises(ValueError, match=r"MiniMax-M2\.5 takes no image input"):
        await make_model().ainvoke([message], model="MiniMax-M2.5")
    assert emulator.requests == []
