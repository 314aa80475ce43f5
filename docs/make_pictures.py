"""Make the pictures the README shows: a drawn neuron, and a screenshot of its explorer page.

    python docs/make_pictures.py

Needs Graphviz's dot (or graphviz-pure) for the drawing, and Debian's chromium with
Playwright (the test extra) for the screenshot.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from autograd import explore, save_graph

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "examples"))

from engine_demo import neuron  # noqa: E402 (the README's neuron, after backward)


def main() -> None:
    o = neuron()
    save_graph(o, HERE / "neuron.svg")
    print(f"wrote {HERE / 'neuron.svg'}")
    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("the screenshot needs Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        page_path = explore(o, title="o = tanh(x1·w1 + x2·w2 + b)").save(Path(folder) / "page.html")
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1600, "height": 520}, device_scale_factor=1)
        page.goto(page_path.as_uri() + "#step=10")  # a backward step: local × upstream on the edges
        page.wait_for_function("window.explorerReady !== undefined")
        page.screenshot(path=str(HERE / "explorer.png"))
        browser.close()
    print(f"wrote {HERE / 'explorer.png'}")


if __name__ == "__main__":
    main()
