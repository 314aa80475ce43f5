"""The explorer page in a real browser: Debian's Chromium, driven by Playwright, from file://.

Without Chromium or Playwright these tests skip, except when CI=true: there they
must run (`.ci/run` installs both).
"""

from __future__ import annotations

import math
import os
import shutil
import struct
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autograd
from autograd import Primitive, Value, explore
from autograd.rules import PRIMITIVES
from autograd.testing import Expression, expressions
from nn import losses

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # pragma: no cover - depends on the environment
    sync_playwright = None

if CHROMIUM is None or sync_playwright is None:
    if os.environ.get("CI") == "true":
        pytest.fail("the browser tests must run in CI: install chromium and the test extra", pytrace=False)
    pytest.skip("Chromium or Playwright is not installed", allow_module_level=True)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


class Opened:
    """A page opened from file://, with every request it made and every console error."""

    def __init__(self, browser: Browser, path: Path, hash: str = "") -> None:
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(viewport={"width": 1200, "height": 760})
        self.context.route("**/*", self._route)
        self.page: Page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.url = path.as_uri()
        self.page.goto(self.url + hash)

    def _route(self, route: Any) -> None:
        self.requests.append(route.request.url)
        if route.request.url.split("#")[0] == self.url:
            route.continue_()
        else:
            route.abort()  # nothing leaves the file

    def attributes(self) -> dict[int, tuple[str, str]]:
        found = self.page.eval_on_selector_all(
            "#graph g.node[id^='v']", "els => els.map(e => [e.id, e.dataset.data, e.dataset.grad])"
        )
        return {int(i[1:]): (data, grad) for i, data, grad in found}

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def open_page(browser: Browser, tmp_path: Path) -> Iterator[Any]:
    opened: list[Opened] = []

    def open_(root: Value | autograd.explorer.Explorer, hash: str = "", **options: Any) -> Opened:
        page = root if isinstance(root, autograd.explorer.Explorer) else explore(root, **options)
        path = page.save(tmp_path / f"page{len(opened)}.html")
        result = Opened(browser, path, hash)
        opened.append(result)
        return result

    yield open_
    for o in opened:
        assert o.errors == [], o.errors  # no console errors, on any page a test opened
        assert all(url.split("#")[0] == o.url for url in o.requests), o.requests
        o.close()


def a_neuron() -> Value:
    x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(6.8813735870195432, label="b")
    n = x * w + b
    out = n.tanh() * n + x  # n and x are used twice: their gradients accumulate
    out.label = "o"
    return out


def engine_grads(root: Value) -> dict[int, str]:
    root.backward()
    return {i: repr(v.grad) for i, v in enumerate(autograd.topological_order(root, leaves=True)[::-1])}


def test_stepping_to_the_end_with_the_keyboard_gives_the_engines_gradients(open_page: Any) -> None:
    root = a_neuron()
    opened = open_page(root)
    before = opened.attributes()
    assert all(grad == "" for _, grad in before.values())  # step 0: no gradient yet
    steps = int(opened.page.eval_on_selector("#slider", "s => s.max"))
    for _ in range(steps):
        opened.page.keyboard.press("ArrowRight")
    grads = {i: grad for i, (_, grad) in opened.attributes().items()}
    assert grads == engine_grads(root)
    assert opened.page.evaluate("location.hash") == "#step=end"


@pytest.mark.parametrize("options", [{"number_nodes": True, "expand_fused": True}, {"rankdir": "TB"}])
def test_drawing_options_keep_the_page_exact(open_page: Any, options: dict[str, Any]) -> None:
    x, w = Value(0.5, label="x"), Value(-1.5, label="w")
    root = autograd.dot([w, x], [x, 2.0], 0.25).tanh() * x
    opened = open_page(root, "#step=end", **options)
    grads = {i: grad for i, (_, grad) in opened.attributes().items()}
    assert grads == engine_grads(root)


def test_step_links_open_that_step_and_follow_the_stepping(open_page: Any) -> None:
    root = a_neuron()
    values = autograd.topological_order(root, leaves=True)[::-1]
    opened = open_page(root, "#step=0")
    for i, (data, grad) in opened.attributes().items():
        assert data == (repr(values[i].data) if values[i].is_leaf else "")  # only leaves have values yet
        assert grad == ""
    computed = sum(not v.is_leaf for v in values)
    opened.page.goto(opened.url + f"#step={computed}")  # the end of the forward pass
    assert all(data == repr(values[i].data) for i, (data, _) in opened.attributes().items())
    assert "Forward" in opened.page.inner_text("#story")
    opened.page.keyboard.press("ArrowRight")
    assert opened.page.evaluate("location.hash") == f"#step={computed + 1}"
    assert opened.attributes()[0][1] == "1.0"  # the seed: d(o)/d(o) = 1
    opened.page.keyboard.press("Home")
    assert opened.page.evaluate("location.hash") == "#step=0"


def test_a_backward_step_shows_local_times_upstream_and_the_running_sum(open_page: Any) -> None:
    opened = open_page(a_neuron(), "#step=0")
    steps = int(opened.page.eval_on_selector("#slider", "s => s.max"))
    overlays, stories = [], []
    for _ in range(steps):
        opened.page.keyboard.press("ArrowRight")
        overlays += opened.page.eval_on_selector_all("#overlay text", "els => els.map(e => e.textContent)")
        stories.append(opened.page.inner_text("#story"))
    assert any(" × " in t and " = " in t for t in overlays)  # local × upstream = contribution, on an edge
    assert any(t.startswith("+= ") for t in overlays)  # the running sum at a node used twice
    assert any("used 2 times" in story for story in stories)
    assert any("Forward" in story for story in stories)


def test_javascript_repr_writes_floats_as_python_does(open_page: Any) -> None:
    numbers = [0.1, -0.0, 0.0, 1e16, 1e15, 1e-5, 1e-4, 123456789.125, 5e-324, 1.7976931348623157e308]
    numbers += [math.inf, -math.inf, math.nan, 2.0 / 3.0, -1.5e-7, 1e22, 12345.678]
    numbers += [struct.unpack("d", struct.pack("Q", (k * 0x9E3779B97F4A7C15) % (1 << 63)))[0] for k in range(1, 200)]
    opened = open_page(a_neuron())
    texts = opened.page.evaluate("numbers => numbers.map(n => repr(parseNumber(n)))", [repr(x) for x in numbers])
    assert texts == [repr(x) for x in numbers]


def every_primitive() -> Value:
    x, y = Value(0.7, label="x"), Value(1.3, label="y")
    terms = [x + y, x * y, x / y, x**y, -x, abs(x - y), x.exp(), y.log(), y.sqrt(), x.tanh(), x.sigmoid()]
    terms += [(x - 0.2).relu(), (x - 0.9).leaky_relu(0.1), x.sin(), y.cos(), autograd.dot([x, y], [y, 2.0], 0.5)]
    return autograd.sum(terms)


def test_the_javascript_rules_match_the_table_entry_by_entry(open_page: Any) -> None:
    assert_rules_match(open_page(every_primitive()), PRIMITIVES)


def test_the_losses_own_primitives_have_javascript_rules_that_match(open_page: Any) -> None:
    logits = [Value(0.3, label="z0"), Value(-1.2, label="z1"), Value(2.0, label="z2")]
    root = losses.cross_entropy(*logits, 1.0) + losses.softplus(logits[0])
    primitives = {p.name: p for p in (losses.cross_entropy, losses.softplus)}
    assert_rules_match(open_page(root), primitives, points={"cross_entropy": [0.3, -1.2, 2.0, 1.0]})
    opened = open_page(root, "#step=end")
    assert "cannot recompute" not in opened.page.inner_text("#leaves")
    order = autograd.topological_order(root, leaves=True)[::-1]
    edit_leaf(opened, order.index(logits[2]), 0.5)  # the class scores change, and with them every gradient
    again = [Value(x) for x in (0.3, -1.2, 0.5)]
    total = losses.cross_entropy(*again, 1.0) + losses.softplus(again[0])
    total.backward()
    shown = opened.attributes()
    for i, value in enumerate(autograd.topological_order(total, leaves=True)[::-1]):
        assert float(shown[i][0]) == pytest.approx(value.data, rel=1e-12, abs=1e-12)
        assert float(shown[i][1]) == pytest.approx(value.grad, rel=1e-12, abs=1e-12)


def assert_rules_match(
    opened: Opened, primitives: Mapping[str, Primitive], points: Mapping[str, list[float]] | None = None
) -> None:
    """Each primitive's JavaScript forward and derivatives on the page, against its Python ones, at several points."""
    for name, p in primitives.items():
        arity = p.arity or 5
        for shift in range(8):  # the last four with the first operand negative
            point = [0.3 + 0.41 * ((shift + k) % 4) for k in range(arity)]
            point[0] *= -1 if shift >= 4 else 1
            if points and name in points:  # an operand that is not any number (a class index)
                point = [*points[name][:-1], float(shift % 3)]
                point[0] *= -1 if shift >= 4 else 1
            if not p.smooth(*point):
                continue
            out = p.forward(*point)
            rule = list(p.derivatives(*point, out))
            js_out, js_rule = opened.page.evaluate(
                "([name, point]) => { const r = RULES[name]; const out = r.forward(...point);"
                " return [out, r.derivatives(...point, out)]; }",
                [name, point],
            )
            assert js_out == pytest.approx(out, rel=1e-12, abs=1e-300), name
            assert js_rule == pytest.approx(rule, rel=1e-12, abs=1e-300), name


def edit_leaf(opened: Opened, index: int, value: float) -> None:
    """Click the leaf (a press and a release on it, as a mouse makes) and type its new value."""
    opened.page.dispatch_event(f"[id='v{index}']", "pointerdown", {"button": 0, "bubbles": True})
    opened.page.dispatch_event(f"[id='v{index}']", "pointerup", {"button": 0, "bubbles": True})
    assert opened.page.is_visible("#editor")
    opened.page.fill("#editor input[type=number]", repr(value))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(expression=expressions(size=(1, 6)), data=st.data())
def test_editing_a_leaf_recomputes_what_the_engine_computes(
    open_page: Any, expression: Expression, data: st.DataObject
) -> None:
    leaves = [Value(x, label=f"x{i}") for i, x in enumerate(expression.point)]
    root = expression.evaluate(*leaves)
    order = autograd.topological_order(root, leaves=True)[::-1]
    used = [leaf for leaf in leaves if leaf in order]
    leaf = data.draw(st.sampled_from(used))
    new = leaf.data + data.draw(st.sampled_from([0.01, -0.013, 0.002]))
    changed = [Value(new if x is leaf else x.data) for x in leaves]
    try:
        again = expression.evaluate(*changed)
    except (ArithmeticError, ValueError):
        return  # outside a domain: nothing to compare
    again.backward()
    opened = open_page(root, "#step=end")
    edit_leaf(opened, order.index(leaf), new)
    shown = opened.attributes()
    for i, value in enumerate(autograd.topological_order(again, leaves=True)[::-1]):
        data_text, grad_text = shown[i]
        for text, expected in ((data_text, value.data), (grad_text, value.grad)):
            got = float(text)
            assert got == pytest.approx(expected, rel=1e-12, abs=1e-12) or (math.isnan(got) and math.isnan(expected))


def test_labels_and_names_are_text_and_never_script(open_page: Any) -> None:
    nasty = [
        "</script><script>window.pwned = 1</script>",
        '<img src=x onerror="window.pwned=2">',
        "q\"uo'te",
        "\u202eevil\u202c",
    ]
    leaves = [Value(float(i + 1), label=label) for i, label in enumerate(nasty)]
    odd = Primitive("<b>op</b>", lambda x: 2 * x, lambda x, out: (2.0,), js=("(x) => 2 * x", "(x, out) => [2]"))
    root = odd(autograd.sum(leaves))
    root.label = "<svg onload=window.pwned=3>"
    opened = open_page(root, "#step=end")
    assert opened.page.evaluate("window.pwned") is None
    text = opened.page.inner_text("body")
    for label in nasty:
        assert label in text  # shown as text, in the leaves table
    assert opened.page.eval_on_selector_all("#graph img, #graph script, #graph iframe", "els => els.length") == 0


def test_nan_and_inf_are_shown_as_such(open_page: Any) -> None:
    x = Value(math.inf, label="x")
    y = Value(1.0, label="y")
    root = x * 0.0 + y  # inf * 0 is nan
    opened = open_page(root, "#step=end")
    data = {d for d, _ in opened.attributes().values()}
    assert {"inf", "nan"} <= data
    assert "nan" in opened.page.inner_text("#graph")


def test_a_user_primitive_without_javascript_is_stepped_but_not_edited(open_page: Any) -> None:
    cube = Primitive("cube", lambda x: x**3, lambda x, out: (3 * x * x,))
    x = Value(2.0, label="x")
    root = cube(x) + x
    opened = open_page(root, "#step=end")
    assert {grad for _, grad in opened.attributes().values()} >= {repr(13.0)}
    assert "cube, a primitive without JavaScript rules" in opened.page.inner_text("#leaves")
    opened.page.evaluate("openEditor(2)")
    assert opened.page.is_hidden("#editor")


def png_colors(data: bytes) -> int:
    """How many distinct pixel rows a PNG has (a blank page has one)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, position = [], 8
    width = 0
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            width = struct.unpack(">I", body[:4])[0]
        if kind == b"IDAT":
            chunks.append(body)
        position += 12 + length
    raw = zlib.decompress(b"".join(chunks))
    stride = 1 + width * 3
    return len({raw[i : i + stride][1:] for i in range(0, len(raw) - stride + 1, stride)})


def test_a_screenshot_is_not_blank(open_page: Any) -> None:
    opened = open_page(a_neuron(), "#step=end")
    shot = opened.page.screenshot(type="png", omit_background=False)
    assert png_colors(shot) > 50


def test_a_2_16_16_1_network_loads_and_steps(open_page: Any) -> None:
    from nn import MLP, losses

    model = MLP(2, [16, 16, 1], seed=1337)
    loss = losses.hinge([model([Value(0.5), Value(-0.3)])], [1.0])
    opened = open_page(loss)
    assert opened.page.eval_on_selector("#granularity", "s => s.value") == "neuron"
    steps = int(opened.page.eval_on_selector("#slider", "s => s.max"))
    opened.page.keyboard.press("End")
    grads = {i: grad for i, (_, grad) in opened.attributes().items()}
    assert grads == engine_grads(loss)
    assert steps < 100


def test_the_training_replay_shows_the_recorded_step(browser: Browser, tmp_path: Path) -> None:
    from nn import MLP, datasets, train
    from nn.replay import Recorder, training_page

    X, y = datasets.moons(40, seed=1)
    model = MLP(2, [4, 1], seed=1)
    recorder = Recorder(model, X, steps=12)
    history = train(model, X, y, steps=12, progress=False, callback=recorder)
    path = tmp_path / "training.html"
    path.write_text(training_page(recorder, history, X, y, title="replay"), encoding="utf-8")
    opened = Opened(browser, path)
    try:
        assert opened.page.evaluate("document.body.dataset.step") == "11"
        opened.page.keyboard.press("Home")
        for _ in range(4):
            opened.page.keyboard.press("ArrowRight")
        assert opened.page.evaluate("document.body.dataset.step") == "4"
        shown = opened.page.eval_on_selector_all("#parameters tbody tr", "rows => rows.map(r => r.dataset.grad)")
        assert [float(g) for g in shown] == recorder.snapshots[4]["grad"]
        assert opened.errors == []
        assert all(url.split("#")[0] == opened.url for url in opened.requests)
    finally:
        opened.close()
