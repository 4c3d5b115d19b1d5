"""langchain-tests' standard unit suite for ChatMiniMaxM3 (no network, no emulator)."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from langchain_tests.unit_tests import ChatModelUnitTests
from lc_helpers import M3Declarations

# The module, not the function of the same name that langchain_core.load exports.
load_module = importlib.import_module("langchain_core.load.load")
CLASS_PATH = ("langchain_minimax_m3", "chat_models", "ChatMiniMaxM3")


@pytest.fixture(autouse=True)
def trust_our_class_for_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let ``load(..., allowed_objects="all")`` in ``test_serdes`` admit ChatMiniMaxM3.

    "all" means every class in langchain-core's own serialization mapping, which lists
    only the partner packages langchain-core knows; a package outside that repository
    cannot be listed. This adds our class for the test, the way a user trusts it with
    ``load(data, allowed_objects=[ChatMiniMaxM3])`` (tested in test_lc_config.py).
    """
    monkeypatch.setitem(load_module.ALL_SERIALIZABLE_MAPPINGS, CLASS_PATH, CLASS_PATH)
    monkeypatch.setattr(load_module, "_default_class_paths_cache", {})


class TestChatMiniMaxM3Unit(M3Declarations, ChatModelUnitTests):
    @property
    def chat_model_params(self) -> dict[str, Any]:
        # No key: a model is built without one, as at import time, and asks at its call.
        return {"model": "MiniMax-M3"}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return (
            {"MINIMAX_API_KEY": "env-key", "MINIMAX_BASE_URL": "https://api.minimaxi.com"},
            {},
            {"api_key": "env-key", "base_url": "https://api.minimaxi.com", "model": "MiniMax-M3"},
        )
