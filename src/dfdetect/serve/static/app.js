// dfdetect web page: upload a file to POST /v1/score, show the verdict, a timeline of per-frame
// (video) or per-window (audio) scores with the threshold line, and the most suspicious face
// crops. Plain JavaScript and inline SVG: nothing is fetched from outside this server.
"use strict";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
let model = null;

function message(text, isError) {
  $("message").textContent = text;
  $("message").className = isError ? "error" : "";
}

async function loadModel() {
  try {
    const r = await fetch("/v1/model");
    model = await r.json();
    const files = model.checkpoints.map((c) => c.file).join(", ");
    $("model").textContent = `Model ${model.model.name || "?"} (${model.modality}, ${files}) · ` +
      `threshold ${model.threshold.toFixed(3)} · accepts ${model.extensions.join(" ")} up to ` +
      `${(model.server.limits.max_upload_bytes / 1048576).toFixed(0)} MB`;
  } catch (e) {
    $("model").textContent = "Could not read the model description: " + e;
  }
}

function el(name, attrs, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

// points: [{x (seconds), y (score), title}]
function drawTimeline(points, threshold, xLabel) {
  const svg = $("timeline");
  svg.replaceChildren();
  const W = 640, H = 220, L = 44, R = 12, T = 12, B = 36;
  const xs = points.map((p) => p.x);
  const x0 = Math.min(...xs), x1 = Math.max(...xs, x0 + 1e-6);
  const sx = (x) => L + (points.length === 1 ? (W - L - R) / 2 : (x - x0) / (x1 - x0) * (W - L - R));
  const sy = (y) => T + (1 - y) * (H - T - B);
  el("line", {class: "axis", x1: L, y1: sy(0), x2: W - R, y2: sy(0)}, svg);
  el("line", {class: "axis", x1: L, y1: sy(0), x2: L, y2: sy(1)}, svg);
  for (const v of [0, 0.5, 1]) {
    el("text", {x: 4, y: sy(v) + 4}, svg).textContent = v.toFixed(1);
  }
  el("text", {x: L, y: H - 8}, svg).textContent = `${x0.toFixed(1)} s`;
  el("text", {x: W - R - 40, y: H - 8}, svg).textContent = `${x1.toFixed(1)} s`;
  el("text", {x: W / 2 - 40, y: H - 8}, svg).textContent = xLabel;
  const thr = el("line", {class: "threshold", x1: L, y1: sy(threshold), x2: W - R,
                          y2: sy(threshold)}, svg);
  el("title", {}, thr).textContent = `threshold ${threshold.toFixed(3)}`;
  el("polyline", {class: "line", points: points.map((p) => `${sx(p.x)},${sy(p.y)}`).join(" ")}, svg);
  for (const p of points) {
    const c = el("circle", {class: "point" + (p.y >= threshold ? " over" : ""), cx: sx(p.x),
                            cy: sy(p.y), r: 4, "data-score": p.y.toFixed(4)}, svg);
    el("title", {}, c).textContent = p.title;
  }
}

function showResult(body) {
  $("result").hidden = false;
  const fake = body.label === "fake";
  $("verdict").textContent = `${fake ? "Likely FAKE" : "Likely REAL"} · score ${body.score.toFixed(3)}`;
  $("verdict").className = fake ? "fake" : "real";
  const note = body.status === "partial" ? ` · scored from part of the file: ${body.error}` : "";
  $("details").textContent = `${body.name}: ${body.modality}, P(fake) ${body.score.toFixed(4)} ` +
    `against threshold ${body.threshold.toFixed(3)} · ${body.seconds} s${note}`;
  let points = [], label = "";
  if (body.frames && body.frames.length) {
    points = body.frames.map((f) => ({x: f.time ?? f.frame, y: f.score,
      title: `frame ${f.frame}${f.time !== undefined ? ` at ${f.time} s` : ""}: ${f.score.toFixed(3)}`}));
    label = "time in the video";
  } else if (body.windows && body.windows.length) {
    points = body.windows.map((w) => ({x: (w.start + w.end) / 2, y: w.score,
      title: `${w.start}–${w.end} s: ${w.score.toFixed(3)}`}));
    label = "time in the clip (window centres)";
  }
  $("chart").hidden = points.length === 0;
  if (points.length) {
    drawTimeline(points, body.threshold, label);
    $("chart-caption").textContent = `${points.length} ${body.frames ? "frames" : "windows"} scored; ` +
      "dashed line: threshold; red points are above it.";
  }
  const thumbs = $("thumbs");
  thumbs.replaceChildren();
  $("thumbs-title").hidden = !(body.thumbnails && body.thumbnails.length);
  for (const t of body.thumbnails || []) {
    const fig = document.createElement("figure");
    const img = document.createElement("img");
    img.src = t.image;
    img.alt = `face crop of frame ${t.frame}`;
    const cap = document.createElement("figcaption");
    cap.textContent = `${t.time !== undefined ? t.time + " s" : "frame " + t.frame} · ${t.score.toFixed(3)}`;
    fig.append(img, cap);
    thumbs.appendChild(fig);
  }
}

async function upload(file) {
  $("result").hidden = true;
  const limit = model && model.server.limits.max_upload_bytes;
  if (limit && file.size > limit) {
    message(`${file.name} is ${(file.size / 1048576).toFixed(1)} MB: larger than the server's ` +
            `limit of ${(limit / 1048576).toFixed(0)} MB.`, true);
    return;
  }
  message(`Scoring ${file.name}…`, false);
  const form = new FormData();
  form.append("file", file, file.name);
  let r, body;
  try {
    r = await fetch("/v1/score", {method: "POST", body: form});
    body = await r.json();
  } catch (e) {
    message(`Could not score ${file.name}: ${e}`, true);
    return;
  }
  if (!r.ok || body.status === "error") {
    const retry = r.headers.get("Retry-After");
    message(`Cannot score ${file.name}: ${body.error || "HTTP " + r.status}` +
            (retry ? ` (retry in ${retry} s)` : ""), true);
    return;
  }
  message("", false);
  showResult(body);
}

$("file").addEventListener("change", (e) => {
  if (e.target.files.length) upload(e.target.files[0]);
});
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  if (e.dataTransfer.files.length) upload(e.dataTransfer.files[0]);
});
loadModel();
