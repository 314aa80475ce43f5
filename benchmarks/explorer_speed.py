"""The explorer page for micrograd's 2-16-16-1 network on one point with its loss, in headless Chromium.

Targets: the page at most 1 MB, written in at most 1 s, the first step shown at
most 0.5 s after navigation starts, each later step at most 50 ms. Needs Debian's
chromium and Playwright (the test extra).

    python benchmarks/explorer_speed.py [--runs 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import table

TARGETS = {"size_mb": 1.0, "write_s": 1.0, "first_step_s": 0.5, "step_ms": 50.0}


def build_page(folder: Path) -> tuple[Path, float]:
    from autograd import Value, explore
    from nn import MLP, losses

    model = MLP(2, [16, 16, 1], seed=1337)
    loss = losses.hinge([model([Value(0.5, label="x1"), Value(-0.3, label="x2")])], [1.0])
    start = time.perf_counter()
    path = explore(loss, title="2-16-16-1 on one point").save(folder / "page.html")
    return path, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="page loads to measure (default 5)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("needs Debian's chromium (apt-get install chromium)")
    writes, firsts, steps = [], [], []
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for _ in range(args.runs):
            path, seconds = build_page(Path(folder))
            writes.append(seconds)
            page = browser.new_page(viewport={"width": 1400, "height": 800})
            page.goto(path.as_uri())
            page.wait_for_function("window.explorerReady !== undefined")
            firsts.append(page.evaluate("window.explorerReady") / 1000)
            steps += page.evaluate(
                "() => { const times = []; for (let k = 1; k < currentSteps.length; k++) {"
                " const t = performance.now(); show(k); times.push(performance.now() - t); } return times; }"
            )
            page.close()
        browser.close()
        size = path.stat().st_size / 1e6
    measured = {
        "size_mb": size,
        "write_s": statistics.median(writes),
        "first_step_s": statistics.median(firsts),
        "step_ms": statistics.median(steps),
    }
    rows = [["measure", "median", "target", "met"]]
    for key, value in measured.items():
        rows.append([key, f"{value:.3f}", f"<= {TARGETS[key]}", "yes" if value <= TARGETS[key] else "NO"])
    rows.append(
        ["step_ms (slowest)", f"{max(steps):.1f}", f"<= {TARGETS['step_ms']}", "yes" if max(steps) <= 50 else "NO"]
    )
    print(f"explorer page, 2-16-16-1 network on one point, {args.runs} loads, {len(steps)} steps timed")
    print(table(rows))


if __name__ == "__main__":
    main()
