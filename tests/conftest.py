"""Hypothesis profiles: deterministic in CI, more examples on demand.

- "ci" (chosen when CI=true): derandomized, so every run tries the same examples.
- "dev" (the default elsewhere): random examples, as many as "ci".
- "thorough": many more examples; run ``HYPOTHESIS_PROFILE=thorough pytest``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

common = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow], "print_blob": True}
settings.register_profile("ci", derandomize=True, max_examples=60, **common)
settings.register_profile("dev", max_examples=60, **common)
settings.register_profile("thorough", max_examples=2000, **common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") == "true" else "dev"))
