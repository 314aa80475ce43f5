"""Hypothesis profiles: deterministic in CI, more examples on demand.

- "ci" (chosen when CI=true): derandomized, so every run tries the same examples.
- "dev" (the default elsewhere): random examples, as many as "ci".
- "thorough": many more examples; run ``HYPOTHESIS_PROFILE=thorough pytest``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from autograd import render as rendering

common = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow], "print_blob": True}
settings.register_profile("ci", derandomize=True, max_examples=60, **common)
settings.register_profile("dev", max_examples=60, **common)
settings.register_profile("thorough", max_examples=2000, **common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") == "true" else "dev"))


@pytest.fixture(autouse=True)
def automatic_renderer_choice(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts from the automatic choice of renderer, whatever the environment or another test chose."""
    monkeypatch.delenv(rendering.ENV_VARIABLE, raising=False)
    rendering.use_renderer(None)
    yield
    rendering.use_renderer(None)
