// chainrule's training replay: every number here was recorded while training (nn.replay.Recorder);
// the page runs no engine. Move the slider (or press play) to see one step: the loss curve up to it,
// the decision boundary last sampled before it, and each parameter with its gradient at that step.

"use strict";

const RUN = JSON.parse(document.getElementById("run-data").textContent);
const STEPS = RUN.loss.length;
const number = (x) => (typeof x === "string" ? parseFloat(x.replace("inf", "Infinity")) : x);
const SVG = "http://www.w3.org/2000/svg";

function svgElement(tag, attributes) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

/** The last recorded item at or before `step` (snapshots and boundaries are kept every few steps). */
function atOrBefore(list, step) {
  let found = list[0];
  for (const item of list) if (item.step <= step) found = item;
  return found;
}

// -- the curve ------------------------------------------------------------------------------

const curve = document.getElementById("curve");
const [left, plotTop, width, height] = [40, 10, 430, 220];
const losses = RUN.loss.map(number).filter(Number.isFinite);
const highest = Math.max(...losses, 1e-12);
const x = (step) => left + (width * step) / Math.max(1, STEPS - 1);
const yLoss = (loss) => plotTop + height - (height * Math.min(loss, highest)) / highest;
const yAccuracy = (accuracy) => plotTop + height - height * accuracy;

curve.append(
  svgElement("line", { class: "axis", x1: left, y1: plotTop + height, x2: left + width, y2: plotTop + height }),
  svgElement("line", { class: "axis", x1: left, y1: plotTop, x2: left, y2: plotTop + height }),
  svgElement("polyline", { class: "loss", points: RUN.loss.map((l, s) => `${x(s)},${yLoss(number(l))}`).join(" ") }),
  svgElement("polyline", { class: "accuracy", points: RUN.accuracy.map((a, s) => `${x(s)},${yAccuracy(a)}`).join(" ") }),
);
for (const [text, at, color] of [[`loss (max ${highest.toPrecision(3)})`, 22, "#c2410c"], ["accuracy (0 to 1)", 36, "#1f8a4c"]]) {
  const label = svgElement("text", { x: left + 8, y: at, fill: color });
  label.textContent = text;
  curve.append(label);
}
const stepLabel = svgElement("text", { x: left + width - 4, y: plotTop + height + 24, "text-anchor": "end" });
stepLabel.textContent = `step ${STEPS - 1}`;
const zeroLabel = svgElement("text", { x: left, y: plotTop + height + 24 });
zeroLabel.textContent = "step 0";
const cursor = svgElement("line", { class: "cursor", x1: left, y1: plotTop, x2: left, y2: plotTop + height });
curve.append(stepLabel, zeroLabel, cursor);

// -- the boundary ---------------------------------------------------------------------------

const canvas = document.getElementById("boundary");
const context = canvas.getContext("2d");
const [x0, x1, y0, y1] = RUN.extent;
const CLASS_COLOURS = ["#f4a582", "#92c5de", "#b8e186", "#fdb863", "#c2a5cf", "#80cdc1"];

function drawBoundary(boundary) {
  const cell = canvas.width / RUN.grid;
  boundary.scores.forEach((raw, k) => {
    const score = number(raw);
    const [i, j] = [k % RUN.grid, Math.floor(k / RUN.grid)];
    let colour;
    if (RUN.classes > 2) colour = CLASS_COLOURS[score % CLASS_COLOURS.length];
    else {
      const strength = Math.min(1, Math.abs(score)) * 0.55 + 0.15;
      colour = score > 0 ? `rgba(47, 111, 219, ${strength})` : `rgba(194, 65, 12, ${strength})`;
    }
    context.fillStyle = "#fff";
    context.fillRect(i * cell, canvas.height - (j + 1) * cell, cell, cell);
    context.fillStyle = colour;
    context.fillRect(i * cell, canvas.height - (j + 1) * cell, cell, cell);
  });
  RUN.points.forEach(([px, py], k) => {
    const cx = ((px - x0) / (x1 - x0)) * canvas.width;
    const cy = canvas.height - ((py - y0) / (y1 - y0)) * canvas.height;
    const label = RUN.labels[k];
    context.beginPath();
    context.arc(cx, cy, 3.2, 0, 2 * Math.PI);
    context.fillStyle = RUN.classes > 2 ? CLASS_COLOURS[label % CLASS_COLOURS.length] : label > 0 ? "#1d4ed8" : "#b91c1c";
    context.fill();
    context.strokeStyle = "#fff";
    context.stroke();
  });
  document.getElementById("boundary-title").textContent = `Decision boundary at step ${boundary.step} (sampled every few steps)`;
}

// -- the parameters -------------------------------------------------------------------------

const body = document.querySelector("#parameters tbody");
const rows = RUN.names.map((name) => {
  const row = document.createElement("tr");
  const cells = ["td", "td", "td", "td"].map((tag) => document.createElement(tag));
  cells[0].textContent = name;
  cells[3].className = "bar";
  const bar = document.createElement("span");
  cells[3].append(bar);
  row.append(...cells);
  body.append(row);
  return { row, value: cells[1], grad: cells[2], bar };
});

function drawParameters(snapshot) {
  const grads = snapshot.grad.map(number);
  const largest = Math.max(...grads.map(Math.abs).filter(Number.isFinite), 1e-300);
  rows.forEach((row, k) => {
    row.value.textContent = String(snapshot.data[k]);
    row.grad.textContent = String(snapshot.grad[k]);
    row.row.dataset.value = String(snapshot.data[k]);
    row.row.dataset.grad = String(snapshot.grad[k]);
    row.bar.style.width = `${(160 * Math.abs(grads[k])) / largest}px`;
    row.bar.className = grads[k] < 0 ? "negative" : "";
  });
  document.getElementById("parameters-title").textContent =
    `Parameters and their gradients at step ${snapshot.step} (before that step's update; bars: |gradient|)`;
}

// -- stepping -------------------------------------------------------------------------------

const slider = document.getElementById("slider");
slider.max = String(STEPS - 1);
let current = 0;
let timer = null;

function show(step) {
  current = Math.max(0, Math.min(step, STEPS - 1));
  slider.value = String(current);
  cursor.setAttribute("x1", String(x(current)));
  cursor.setAttribute("x2", String(x(current)));
  const accuracy = RUN.accuracy[current];
  document.getElementById("counter").textContent =
    `step ${current} of ${STEPS - 1}: batch loss ${RUN.loss[current]}, accuracy ${(100 * accuracy).toFixed(1)}%, lr ${RUN.lr[current]}`;
  document.body.dataset.step = String(current);
  drawBoundary(atOrBefore(RUN.boundaries, current));
  drawParameters(atOrBefore(RUN.snapshots, current));
}

/** Start or stop the replay; it starts over when it has reached the end. */
function play() {
  const starting = timer === null;
  clearInterval(timer);
  timer = null;
  document.getElementById("play").textContent = starting ? "⏸ pause" : "▶ play";
  if (!starting) return;
  if (current === STEPS - 1) show(0);
  timer = setInterval(() => (current >= STEPS - 1 ? play() : show(current + 1)), 120);
}

slider.addEventListener("input", () => show(parseInt(slider.value, 10)));
document.getElementById("play").addEventListener("click", play);
document.addEventListener("keydown", (event) => {
  if (event.target instanceof HTMLInputElement && event.key !== " ") return;
  const keys = { ArrowRight: () => show(current + 1), ArrowLeft: () => show(current - 1), Home: () => show(0),
    End: () => show(STEPS - 1), " ": play };
  if (keys[event.key]) {
    event.preventDefault();
    keys[event.key]();
  }
});
show(STEPS - 1);
