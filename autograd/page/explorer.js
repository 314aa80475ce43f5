// chainrule's explorer: step through the forward and the backward pass of one graph.
//
// The page holds the SVG drawn by chainrule (each Value is <g id="v{i}">, the operation that made
// it <g id="o{i}">, the edge from its k-th operand <g id="e{i}.{k}">), the graph as JSON (the
// same indices), and the rule table's JavaScript rules in RULES. Nothing here matches drawing to
// data by position or text: only by those ids.
//
// Backward is replayed exactly as autograd.engine.backpropagate runs it: the same nodes in the
// same order, `operand.grad += local * grad` in operand order, and a node whose gradient is zero
// passing nothing on unless one of its local derivatives is infinite or nan. JavaScript numbers
// are IEEE doubles, like Python floats, so the gradients are the engine's to the last bit.

"use strict";

// -- numbers as Python writes them ------------------------------------------------------------

/** The shortest text that reads back as x, written as Python's repr(float) writes it. */
function repr(x) {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mantissa, exponentText] = x.toExponential().split("e"); // shortest round-trip digits
  const exponent = parseInt(exponentText, 10);
  const sign = mantissa.startsWith("-") ? "-" : "";
  const digits = mantissa.replace("-", "").replace(".", "");
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
    const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, "0");
    return `${sign}${whole}.${digits.slice(exponent + 1) || "0"}`;
  }
  const head = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const power = `${exponent < 0 ? "-" : "+"}${String(Math.abs(exponent)).padStart(2, "0")}`;
  return `${sign}${head}e${power}`;
}

/** A float from Python's repr (JSON has no inf or nan). */
function parseNumber(text) {
  if (text === "inf") return Infinity;
  if (text === "-inf") return -Infinity;
  if (text === "nan") return NaN;
  return parseFloat(text);
}

class DomainError extends Error {}

/** Refuse a value outside an operation's domain (called by the rules in RULES). */
function fail(message) {
  throw new DomainError(message);
}

// -- the graph ----------------------------------------------------------------------------------

const DATA = JSON.parse(document.getElementById("graph-data").textContent);
const NODES = DATA.nodes;
const COUNT = NODES.length;
const PRECISION = DATA.precision;
const isLeaf = NODES.map((node) => node.op === undefined);
const operands = NODES.map((node) => (node.operands || []).map((o) => (typeof o === "number" ? o : { constant: parseNumber(o) })));
const data = NODES.map((node) => parseNumber(node.data));
let locals = NODES.map((node) => (node.locals || []).map((local) => (local === null ? null : parseNumber(local))));
const consumers = NODES.map(() => []); // [consumer index, operand position] for each Value
operands.forEach((list, i) => list.forEach((o, k) => typeof o === "number" && consumers[o].push([i, k])));
const ENGINE_ORDER = NODES.map((_, i) => i).filter((i) => !isLeaf[i]); // the root first, as backward runs
const ROOT = 0;
const rulesLoaded = typeof RULES !== "undefined";
const notEditable = DATA.notEditable || (rulesLoaded ? "" : "The rules' JavaScript did not load, so values cannot be recomputed.");

function nameOf(i) {
  if (NODES[i].label) return NODES[i].label;
  return isLeaf[i] ? `leaf ${i}` : `the ${NODES[i].op} node`;
}

function fmt(x) {
  if (!Number.isFinite(x)) return repr(x);
  const size = Math.abs(x);
  if (x === 0 || (size >= 10 ** -PRECISION && size < 1e6)) return x.toFixed(PRECISION);
  const [mantissa, exponent] = x.toExponential(PRECISION).split("e");
  const power = parseInt(exponent, 10);
  return `${mantissa}e${power < 0 ? "-" : "+"}${String(Math.abs(power)).padStart(2, "0")}`;
}

// -- steps --------------------------------------------------------------------------------------

/** Depth of each node: leaves 0, a computed node one more than its deepest Value operand. */
const depth = new Array(COUNT).fill(0);
for (let i = COUNT - 1; i >= 0; i--) {
  for (const o of operands[i]) if (typeof o === "number") depth[i] = Math.max(depth[i], depth[o] + 1);
}

/** A neuron: a dot node, with the one-operand node (its activation) applied to it when only that uses it. */
function neuronKeys() {
  const key = new Array(COUNT).fill(-1);
  for (const i of ENGINE_ORDER) {
    if (NODES[i].op === "dot") key[i] = i;
  }
  for (const i of ENGINE_ORDER) {
    const only = operands[i];
    if (only.length === 1 && typeof only[0] === "number" && NODES[only[0]].op === "dot" && consumers[only[0]].length === 1) {
      key[i] = only[0];
    }
  }
  return ENGINE_ORDER.map((i) => (key[i] === -1 ? `n${i}` : `d${key[i]}`));
}

/**
 * The steps at one granularity. A coarse step is a run of nodes that are next to each other in the
 * engine's order and share a key (a neuron, or a layer of neurons), so every step, coarse or not,
 * ends in a state the engine itself passes through.
 */
function buildSteps(granularity) {
  let keys = ENGINE_ORDER.map((i) => `n${i}`);
  if (granularity !== "node") {
    const neuron = neuronKeys();
    if (granularity === "neuron") keys = neuron;
    else {
      const layerOf = {};
      ENGINE_ORDER.forEach((i, position) => {
        const key = neuron[position];
        layerOf[key] = Math.min(layerOf[key] ?? Infinity, depth[i]);
      });
      keys = neuron.map((key) => `l${layerOf[key]}`);
    }
  }
  const runs = [];
  ENGINE_ORDER.forEach((i, position) => {
    if (position > 0 && keys[position] === keys[position - 1]) runs[runs.length - 1].push(i);
    else runs.push([i]);
  });
  const steps = [{ phase: "start", nodes: [] }];
  for (const run of [...runs].reverse()) steps.push({ phase: "forward", nodes: [...run].reverse() });
  steps.push({ phase: "seed", nodes: [ROOT] });
  for (const run of runs) steps.push({ phase: "backward", nodes: run });
  return steps;
}

// -- state at a step ----------------------------------------------------------------------------

/** Values, gradients and what the step did, after the first `upTo` steps have run. */
function stateAt(steps, upTo) {
  const revealed = isLeaf.slice();
  const grad = new Array(COUNT).fill(0);
  const reached = new Array(COUNT).fill(false);
  let events = [];
  for (let s = 1; s <= upTo; s++) {
    const step = steps[s];
    events = [];
    if (step.phase === "forward") {
      for (const i of step.nodes) {
        revealed[i] = true;
        events.push({ kind: "forward", node: i });
      }
    } else if (step.phase === "seed") {
      grad[ROOT] = 1;
      reached[ROOT] = true;
      events.push({ kind: "seed", node: ROOT });
    } else if (step.phase === "backward") {
      for (const i of step.nodes) events.push(backpropagateOne(i, grad, reached));
    }
  }
  return { revealed, grad, reached, events };
}

/** The chain rule at node i: each Value operand's gradient += local * grad[i] (the engine's loop). */
function backpropagateOne(i, grad, reached) {
  const g = grad[i];
  const event = { kind: "backward", node: i, upstream: g, terms: [], skipped: false };
  const valueLocals = locals[i].filter((local, k) => typeof operands[i][k] === "number");
  // NOTE: as in the engine, a zero gradient passes nothing on, unless a local derivative is inf or nan.
  event.skipped = g === 0 && valueLocals.every((local) => Number.isFinite(local));
  operands[i].forEach((o, k) => {
    if (typeof o !== "number") return; // a constant has no gradient
    const local = locals[i][k];
    const before = grad[o];
    const contribution = local * g;
    if (!event.skipped) grad[o] += contribution;
    reached[o] = true;
    event.terms.push({ operand: o, position: k, local, contribution, before, after: grad[o] });
  });
  return event;
}

// -- editing: recompute every value and local derivative with the table's JavaScript rules -------

function evaluate(values, i) {
  const args = operands[i].map((o) => (typeof o === "number" ? values[o] : o.constant));
  const rule = RULES[NODES[i].op];
  const out = rule.forward(...args);
  return { out, args, rule };
}

/** Every value and local derivative from the leaves' values; a DomainError leaves nothing changed. */
function recompute(values) {
  const next = values.slice();
  const nextLocals = locals.map((list) => list.slice());
  for (let i = COUNT - 1; i >= 0; i--) {
    if (isLeaf[i]) continue;
    const { out, args, rule } = evaluate(next, i);
    next[i] = out;
    const all = rule.derivatives(...args, out);
    nextLocals[i] = operands[i].map((o, k) => (typeof o === "number" ? all[k] : null));
  }
  return { values: next, locals: nextLocals };
}

/** The output for leaf values changed by `changes` (index -> value), or null outside a domain. */
function outputWith(changes) {
  const values = data.slice();
  for (const [j, x] of changes) values[j] = x;
  try {
    for (let i = COUNT - 1; i >= 0; i--) if (!isLeaf[i]) values[i] = evaluate(values, i).out;
    return values[ROOT];
  } catch (error) {
    if (error instanceof DomainError) return null;
    throw error;
  }
}

/** d(output)/d(leaf) by central differences, to set beside the engine's gradient. */
function centralDifference(j) {
  const h = 1e-6 * Math.max(1, Math.abs(data[j]));
  const up = outputWith([[j, data[j] + h]]);
  const down = outputWith([[j, data[j] - h]]);
  return up === null || down === null ? null : (up - down) / (2 * h);
}

// -- the drawing ----------------------------------------------------------------------------------

const svg = document.querySelector("#graph > svg");
const canvas = svg.querySelector("g.graph") || svg;
const valueElement = NODES.map((_, i) => document.getElementById(`v${i}`));
const overlay = document.createElementNS("http://www.w3.org/2000/svg", "g");
overlay.setAttribute("id", "overlay");
canvas.appendChild(overlay);

/** The data and grad fields of a Value's record: its last two texts (the drawing writes label | data | grad). */
const fieldsOf = valueElement.map((element) => {
  if (!element) return null;
  const texts = element.querySelectorAll("text");
  const fields = { data: texts[texts.length - 2], grad: texts[texts.length - 1] };
  fields.data.classList.add("value-field");
  fields.grad.classList.add("value-field");
  return fields;
});
valueElement.forEach((element, i) => element && isLeaf[i] && element.classList.add("leaf"));

const written = NODES.map(() => ({ data: null, grad: null, dataText: null, gradText: null, pending: null }));
let highlighted = [];

/** Write a value only when it changed: a large graph has hundreds of nodes and a step changes few. */
function write(i, key, value, apply) {
  if (written[i][key] !== value) {
    written[i][key] = value;
    apply(value);
  }
}

function drawState(state, step) {
  for (let i = 0; i < COUNT; i++) {
    const element = valueElement[i];
    if (!element) continue;
    const shown = state.revealed[i];
    const reached = state.reached[i];
    write(i, "data", shown ? repr(data[i]) : "", (v) => element.setAttribute("data-data", v));
    write(i, "grad", reached ? repr(state.grad[i]) : "", (v) => element.setAttribute("data-grad", v));
    write(i, "dataText", `data ${shown ? fmt(data[i]) : "?"}`, (v) => (fieldsOf[i].data.textContent = v));
    write(i, "gradText", `grad ${reached ? fmt(state.grad[i]) : "·"}`, (v) => (fieldsOf[i].grad.textContent = v));
    write(i, "pending", !shown || !reached, (v) => element.classList.toggle("pending", v));
  }
  for (const [element, classes] of highlighted) element.classList.remove(...classes);
  highlighted = [];
  const mark = (element, ...classes) => {
    if (!element) return;
    element.classList.add(...classes);
    highlighted.push([element, classes]);
  };
  overlay.replaceChildren();
  let labels = 0; // at most a dozen texts on the drawing: the panel lists every term
  for (const event of state.events) {
    const element = valueElement[event.node];
    if (event.kind === "forward") {
      mark(element, "forward-current");
      operands[event.node].forEach((_, k) => mark(document.getElementById(`e${event.node}.${k}`), "forward-active"));
    } else if (event.kind === "seed") {
      mark(element, "backward-current");
    } else if (event.kind === "backward") {
      mark(element, "backward-current");
      for (const term of event.terms) {
        const edge = document.getElementById(`e${event.node}.${term.position}`);
        mark(edge, "active");
        mark(valueElement[term.operand], "receiving");
        if (labels >= 12) continue;
        labels += 1;
        label(edge, `${fmt(term.local)} × ${fmt(event.upstream)} = ${fmt(term.contribution)}`, "contribution");
        if (consumers[term.operand].length > 1 && !event.skipped) {
          label(valueElement[term.operand], `+= ${fmt(term.contribution)} → ${fmt(term.after)}`, "accumulate", true);
        }
      }
    }
  }
  document.getElementById("slider").value = String(step);
}

/** Where things are drawn never changes: measured once each, so that a step forces no layout. */
const geometry = new Map();

function boxOf(element) {
  if (!geometry.has(element)) geometry.set(element, element.getBBox());
  return geometry.get(element);
}

function middleOf(path) {
  if (!geometry.has(path)) geometry.set(path, path.getPointAtLength(path.getTotalLength() / 2));
  return geometry.get(path);
}

/** A text on the overlay at the middle of an edge, or just above a node. */
function label(element, text, kind, above = false) {
  if (!element) return;
  let x;
  let y;
  const path = element.querySelector("path");
  if (path && !above) {
    const middle = middleOf(path);
    [x, y] = [middle.x, middle.y - 4];
  } else {
    const box = boxOf(element);
    [x, y] = [box.x + box.width / 2, box.y - 4];
  }
  const node = document.createElementNS("http://www.w3.org/2000/svg", "text");
  node.setAttribute("x", String(x));
  node.setAttribute("y", String(y));
  node.setAttribute("text-anchor", "middle");
  node.setAttribute("class", kind);
  node.textContent = text;
  overlay.appendChild(node);
}

// -- the story panel ------------------------------------------------------------------------------

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  for (const child of children) node.append(child);
  return node;
}

function operandText(o) {
  return typeof o === "number" ? `${nameOf(o)} (${fmt(data[o])})` : `the constant ${repr(o.constant)}`;
}

function describe(steps, step, state) {
  const story = document.getElementById("story");
  const current = steps[step];
  const total = steps.length - 1;
  const heading = element("h2");
  const list = element("ul");
  const lines = [];
  if (current.phase === "start") {
    heading.textContent = "Step 0: before the forward pass";
    lines.push("Only the leaves have values. Step forward to compute each node from its operands, in topological order: every node after the nodes it uses.");
  } else if (current.phase === "forward") {
    heading.className = "phase-forward";
    heading.textContent = `Forward: computing ${current.nodes.length === 1 ? nameOf(current.nodes[0]) : `${current.nodes.length} nodes`}`;
    for (const i of current.nodes.slice(0, 12)) {
      const list = operands[i].length <= 6 ? operands[i].map(operandText).join(", ") : `${operands[i].length} operands`;
      lines.push(`${nameOf(i)} = ${NODES[i].op}(${list}) = ${fmt(data[i])}`);
    }
  } else if (current.phase === "seed") {
    heading.className = "phase-backward";
    heading.textContent = "Backward begins: the output's gradient is 1";
    lines.push(`d(${nameOf(ROOT)})/d(${nameOf(ROOT)}) = 1. Each backward step now takes one node, last computed first, and passes its gradient to its operands: local derivative × upstream gradient = contribution, added (+=) to the operand's gradient.`);
  } else {
    heading.className = "phase-backward";
    heading.textContent = `Backward: the chain rule at ${current.nodes.length === 1 ? nameOf(current.nodes[0]) : `${current.nodes.length} nodes`}`;
    for (const event of state.events.slice(0, 12)) {
      if (event.skipped) {
        lines.push(`${nameOf(event.node)} has gradient 0: it passes nothing on (0 × local = 0).`);
        continue;
      }
      lines.push(`${nameOf(event.node)} has gradient ${fmt(event.upstream)} and passes on:`);
      for (const term of event.terms.slice(0, 10)) {
        const shared = consumers[term.operand].length > 1;
        const sum = shared ? `grad += ${fmt(term.contribution)} → ${fmt(term.after)} (used ${consumers[term.operand].length} times: the contributions add up)` : `grad = ${fmt(term.after)}`;
        lines.push(`  → ${nameOf(term.operand)}: local ${fmt(term.local)} × upstream ${fmt(event.upstream)} = ${fmt(term.contribution)}; ${sum}`);
      }
      if (event.terms.length > 10) lines.push(`  → … and ${event.terms.length - 10} more operands, the same way.`);
    }
  }
  if (state.events.length > 12) lines.push(`… and ${state.events.length - 12} more nodes in this step.`);
  for (const line of lines) list.append(element("li", { class: line.startsWith("  →") ? "math" : "" }, line.trim()));
  story.replaceChildren(heading, list);
  document.getElementById("counter").textContent = `step ${step} of ${total}${step === total ? " (end)" : ""}`;
}

// -- leaves: values, gradients and their central-difference estimates -------------------------------

let selectedLeaf = null;
let finalGrads = null;

function refreshLeaves() {
  const leaves = document.getElementById("leaves");
  finalGrads = stateAt(currentSteps, currentSteps.length - 1).grad;
  const rows = [];
  for (let j = 0; j < COUNT; j++) {
    if (!isLeaf[j]) continue;
    const estimate = notEditable ? null : centralDifference(j);
    rows.push(element("tr", {}, element("td", {}, nameOf(j)), element("td", {}, fmt(data[j])), element("td", {}, fmt(finalGrads[j])), element("td", {}, estimate === null ? "—" : fmt(estimate))));
  }
  const table = element("table", {}, element("thead", {}, element("tr", {}, element("th", {}, "leaf"), element("th", {}, "data"), element("th", {}, "grad"), element("th", {}, "central diff."))), element("tbody", {}, ...rows));
  const note = notEditable ? element("p", { class: "note" }, notEditable) : element("p", { class: "note" }, "Each leaf's gradient (after the whole backward pass) beside its estimate by central differences.");
  leaves.replaceChildren(element("h2", {}, "Leaves"), note, table);
}

function openEditor(j) {
  const editor = document.getElementById("editor");
  if (notEditable) return;
  selectedLeaf = j;
  valueElement.forEach((el, i) => el?.classList.toggle("selected", i === j));
  const span = Math.max(1, Math.abs(data[j])) * 2;
  const number = element("input", { type: "number", step: "any", value: repr(data[j]), "aria-label": `value of ${nameOf(j)}` });
  const range = element("input", { type: "range", min: String(data[j] - span), max: String(data[j] + span), step: String(span / 500), value: String(data[j]), "aria-label": `drag the value of ${nameOf(j)}` });
  const message = element("p", { class: "note" }, "Every value and gradient is recomputed as you type or drag.");
  const apply = (text) => {
    const x = parseNumber(text.trim());
    if (text.trim() === "" || Number.isNaN(x) || !Number.isFinite(x)) {
      message.className = "error";
      message.textContent = `${JSON.stringify(text)} is not a finite number.`;
      return;
    }
    const values = data.slice();
    values[j] = x;
    try {
      const result = recompute(values);
      for (let i = 0; i < COUNT; i++) data[i] = result.values[i];
      locals = result.locals;
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      message.className = "error";
      message.textContent = `Not changed: ${error.message}.`;
      return;
    }
    message.className = "note";
    message.textContent = `${nameOf(j)} = ${repr(x)}: recomputed.`;
    refreshLeaves();
    show(currentStep);
  };
  number.addEventListener("input", () => {
    apply(number.value);
    range.value = number.value;
  });
  range.addEventListener("input", () => {
    number.value = repr(parseFloat(range.value));
    apply(number.value);
  });
  editor.replaceChildren(element("h2", {}, `Edit ${nameOf(j)}`), number, range, message);
  editor.hidden = false;
}

// -- stepping, the address, play ---------------------------------------------------------------------

let currentSteps = buildSteps(DATA.granularity);
let currentStep = 0;
let timer = null;

const FOLLOW = ENGINE_ORDER.length > 60; // large graphs: keep the current step in view, readable
let knownSize = null;
window.addEventListener("resize", () => (knownSize = null));

function graphSize() {
  if (knownSize === null) knownSize = svg.getBoundingClientRect();
  return knownSize;
}

function follow(step) {
  const nodes = currentSteps[step].nodes;
  if (!FOLLOW || !box || nodes.length === 0) return;
  const boxes = nodes.map((i) => valueElement[i] && boxOf(valueElement[i])).filter(Boolean);
  if (boxes.length === 0) return;
  const left = Math.min(...boxes.map((b) => b.x));
  const top = Math.min(...boxes.map((b) => b.y));
  const right = Math.max(...boxes.map((b) => b.x + b.width));
  const bottom = Math.max(...boxes.map((b) => b.y + b.height));
  const rect = graphSize();
  const width = Math.max(right - left + 400, rect.width * 1.2);
  const height = width * (rect.height / rect.width);
  const transform = canvas.transform?.baseVal?.consolidate()?.matrix;
  const [dx, dy] = transform ? [transform.e, transform.f] : [0, 0];
  setBox([(left + right) / 2 + dx - width / 2, (top + bottom) / 2 + dy - height / 2, width, height]);
}

function show(step) {
  currentStep = Math.max(0, Math.min(step, currentSteps.length - 1));
  const state = stateAt(currentSteps, currentStep);
  drawState(state, currentStep);
  describe(currentSteps, currentStep, state);
  follow(currentStep);
  const hash = `#step=${currentStep === currentSteps.length - 1 ? "end" : currentStep}`;
  if (location.hash !== hash) {
    try {
      history.replaceState(null, "", hash);
    } catch (error) {
      // a sandboxed frame may forbid it: the page still works, without linkable steps
    }
  }
}

function stepFromHash() {
  const match = /^#step=(end|\d+)$/.exec(location.hash);
  if (!match) return 0;
  return match[1] === "end" ? currentSteps.length - 1 : parseInt(match[1], 10);
}

function setGranularity(granularity) {
  const atEnd = currentStep === currentSteps.length - 1;
  currentSteps = buildSteps(granularity);
  document.getElementById("granularity").value = granularity;
  const slider = document.getElementById("slider");
  slider.max = String(currentSteps.length - 1);
  show(atEnd ? currentSteps.length - 1 : 0);
}

function play() {
  const button = document.getElementById("play");
  if (timer !== null) {
    clearInterval(timer);
    timer = null;
    button.textContent = "▶ play";
    return;
  }
  if (currentStep === currentSteps.length - 1) show(0);
  button.textContent = "⏸ pause";
  timer = setInterval(() => {
    if (currentStep >= currentSteps.length - 1) play();
    else show(currentStep + 1);
  }, 700);
}

// -- pan, zoom and focus --------------------------------------------------------------------------------

const initialBox = svg.viewBox.baseVal ? [svg.viewBox.baseVal.x, svg.viewBox.baseVal.y, svg.viewBox.baseVal.width, svg.viewBox.baseVal.height] : null;
svg.removeAttribute("width");
svg.removeAttribute("height");
let box = initialBox ? initialBox.slice() : null;

function setBox(next) {
  if (!next) return;
  box = next;
  svg.setAttribute("viewBox", box.join(" "));
}

function zoomAt(factor, clientX, clientY) {
  if (!box) return;
  const rect = svg.getBoundingClientRect();
  const scale = Math.max(box[2] / rect.width, box[3] / rect.height);
  const cx = box[0] + (clientX - rect.left) * scale;
  const cy = box[1] + (clientY - rect.top) * scale;
  setBox([cx - (cx - box[0]) * factor, cy - (cy - box[1]) * factor, box[2] * factor, box[3] * factor]);
}

function focusOn(target) {
  const keep = new Set();
  const match = /^[vo](\d+)$/.exec(target.id);
  if (!match) return;
  const i = parseInt(match[1], 10);
  const around = [i, ...operands[i].filter((o) => typeof o === "number"), ...consumers[i].map(([c]) => c)];
  for (const j of around) {
    keep.add(`v${j}`);
    keep.add(`o${j}`);
  }
  operands[i].forEach((_, k) => keep.add(`e${i}.${k}`));
  consumers[i].forEach(([c, k]) => keep.add(`e${c}.${k}`));
  keep.add(`r${i}`);
  svg.querySelectorAll("g.node, g.edge").forEach((g) => g.classList.toggle("dimmed", !keep.has(g.id)));
  const element = document.getElementById(`v${i}`);
  if (element && box) {
    const b = boxOf(element);
    const width = Math.max(b.width * 4, 400);
    const height = Math.max(b.height * 8, 300);
    const transform = canvas.transform?.baseVal?.consolidate()?.matrix;
    const [dx, dy] = transform ? [transform.e, transform.f] : [0, 0];
    setBox([b.x + dx + b.width / 2 - width / 2, b.y + dy + b.height / 2 - height / 2, width, height]);
  }
}

function clearFocus() {
  svg.querySelectorAll(".dimmed").forEach((g) => g.classList.remove("dimmed"));
}

let drag = null;
const graph = document.getElementById("graph");
graph.addEventListener("wheel", (event) => {
  event.preventDefault();
  zoomAt(event.deltaY > 0 ? 1.15 : 1 / 1.15, event.clientX, event.clientY);
}, { passive: false });
graph.addEventListener("pointerdown", (event) => {
  if (event.button !== 0 || !box) return;
  drag = { x: event.clientX, y: event.clientY, start: box.slice(), moved: false };
});
window.addEventListener("pointermove", (event) => {
  if (!drag) return;
  const rect = svg.getBoundingClientRect();
  const scale = Math.max(drag.start[2] / rect.width, drag.start[3] / rect.height);
  const [dx, dy] = [event.clientX - drag.x, event.clientY - drag.y];
  if (Math.abs(dx) + Math.abs(dy) > 3) {
    drag.moved = true;
    graph.classList.add("dragging");
  }
  if (drag.moved) setBox([drag.start[0] - dx * scale, drag.start[1] - dy * scale, drag.start[2], drag.start[3]]);
});
window.addEventListener("pointerup", (event) => {
  const wasDrag = drag?.moved;
  drag = null;
  graph.classList.remove("dragging");
  if (wasDrag) return;
  const leaf = event.target.closest?.("g.leaf");
  if (leaf && graph.contains(leaf)) openEditor(parseInt(leaf.id.slice(1), 10));
});
graph.addEventListener("dblclick", (event) => {
  const target = event.target.closest?.("g.node");
  if (target) focusOn(target);
});

// -- wiring ---------------------------------------------------------------------------------------------

document.getElementById("reset").addEventListener("click", () => show(0));
document.getElementById("prev").addEventListener("click", () => show(currentStep - 1));
document.getElementById("next").addEventListener("click", () => show(currentStep + 1));
document.getElementById("play").addEventListener("click", play);
document.getElementById("fit").addEventListener("click", () => setBox(initialBox && initialBox.slice()));
document.getElementById("slider").addEventListener("input", (event) => show(parseInt(event.target.value, 10)));
document.getElementById("granularity").addEventListener("change", (event) => setGranularity(event.target.value));
window.addEventListener("hashchange", () => show(stepFromHash()));
document.addEventListener("keydown", (event) => {
  if (event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement) return;
  const keys = {
    ArrowRight: () => show(currentStep + 1),
    ArrowLeft: () => show(currentStep - 1),
    Home: () => show(0),
    End: () => show(currentSteps.length - 1),
    " ": play,
    Escape: clearFocus,
    0: () => setBox(initialBox && initialBox.slice()),
  };
  const action = keys[event.key];
  if (action) {
    event.preventDefault();
    action();
  }
});

document.getElementById("granularity").value = DATA.granularity;
document.getElementById("slider").max = String(currentSteps.length - 1);
// Measure the drawing once, before anything is written: later steps then force no layout.
valueElement.forEach((element) => element && boxOf(element));
operands.forEach((list, i) => list.forEach((_, k) => {
  const path = document.getElementById(`e${i}.${k}`)?.querySelector("path");
  if (path) middleOf(path);
}));
refreshLeaves();
show(stepFromHash());
window.explorerReady = performance.now(); // when the first step was shown (read by benchmarks/explorer_speed.py)
