"""Notebook 8 runs PyTorch: it is in the `torch` test group, and skipped where torch is not installed."""

from __future__ import annotations

import importlib.util

import pytest

NEEDS_TORCH = "08_from_chainrule_to_pytorch.ipynb"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.endswith(NEEDS_TORCH) or NEEDS_TORCH in item.nodeid.split("::")[0]:
            item.add_marker(pytest.mark.torch)
            if importlib.util.find_spec("torch") is None:
                item.add_marker(pytest.mark.skip(reason="needs the torch extra (pip install -e '.[torch]')"))
