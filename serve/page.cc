#include "serve/page.h"

namespace nmt::serve {

const std::string& page_html() {
  static const std::string html = R"PAGE(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>nmt: compare the models</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
  h1 { font-size: 1.3em; margin: 0 0 0.6em; }
  textarea { width: 100%; max-width: 60em; height: 4.5em; font-size: 1em; }
  #controls { margin: 0.6em 0; display: flex; flex-wrap: wrap; gap: 1em; align-items: center; }
  #controls input[type=number] { width: 4em; }
  #results { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
  .model-result { border: 1px solid #ccc; border-radius: 6px; padding: 0.6em 0.8em; flex: 1 1 20em; max-width: 34em; }
  .model-result h2 { font-size: 1.05em; margin: 0 0 0.3em; }
  .kind, .time { color: #666; font-size: 0.85em; }
  .translation { font-size: 1.1em; margin: 0.4em 0; }
  .error { color: #b00; }
  table { border-collapse: collapse; font-size: 0.8em; margin: 0.3em 0; }
  table.nbest td { padding: 1px 6px; border-bottom: 1px solid #eee; }
  table.heatmap td { width: 1.6em; height: 1.3em; border: 1px solid #fff; }
  table.heatmap th { font-weight: normal; padding: 0 3px; white-space: nowrap; }
  table.heatmap thead th { writing-mode: vertical-rl; transform: rotate(180deg); text-align: left; }
  table.heatmap tbody th { text-align: right; }
  .no-attention { font-style: italic; color: #666; }
</style>
</head>
<body>
<h1>nmt: compare the models on your own sentence</h1>
<textarea id="source" placeholder="Type a sentence (one per line)">A man is riding a bicycle down the street.</textarea>
<div id="controls">
  <span id="models">loading the models…</span>
  <label>beam <input id="beam" type="number" min="1" value="5"></label>
  <label>n-best <input id="nbest" type="number" min="1" value="3"></label>
  <button id="translate">Translate</button>
  <span id="status"></span>
</div>
<div id="results"></div>
<script>
"use strict";
let models = [];

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

async function loadModels() {
  const r = await fetch("/v1/models");
  const j = await r.json();
  models = j.models;
  document.getElementById("beam").value = j.defaults.beam_size;
  const box = document.getElementById("models");
  box.textContent = "";
  for (const m of models) {
    const label = el("label");
    const cb = el("input", {type: "checkbox", value: m.name, class: "model-choice"});
    cb.checked = true;
    label.append(cb, " " + m.name + " (" + m.type + ")");
    box.append(label, " ");
  }
}

function heatmap(t) {
  const table = el("table", {class: "heatmap"});
  const head = el("tr");
  head.append(el("th"));
  for (const s of t.source_pieces) head.append(el("th", {}, s));
  const thead = el("thead");
  thead.append(head);
  table.append(thead);
  const body = el("tbody");
  t.alignment.forEach((row, i) => {
    const tr = el("tr");
    tr.append(el("th", {}, t.target_pieces[i]));
    row.forEach((w, j) => {
      const td = el("td", {title: t.target_pieces[i] + " ← " + t.source_pieces[j] + ": " + w.toFixed(3)});
      td.style.background = "rgba(25, 85, 200, " + w.toFixed(3) + ")";
      tr.append(td);
    });
    body.append(tr);
  });
  table.append(body);
  return table;
}

function nbestTable(list) {
  const table = el("table", {class: "nbest"});
  list.forEach((h, i) => {
    const tr = el("tr");
    tr.append(el("td", {}, String(i + 1)), el("td", {}, h.text), el("td", {class: "score"}, h.score.toFixed(3)));
    table.append(tr);
  });
  return table;
}

function showResult(card, model, j, lines, roundTrip) {
  card.append(el("div", {class: "time"}, j.ms + " ms on the server, " + roundTrip + " ms round trip"));
  j.translations.forEach((t, i) => {
    if (lines.length > 1) card.append(el("div", {class: "kind"}, lines[i]));
    card.append(el("div", {class: "translation"}, t.text));
    if (t.n_best && t.n_best.length) card.append(nbestTable(t.n_best));
    if (!model.attention)
      card.append(el("p", {class: "no-attention"},
        "No heatmap: this model has no attention (its decoder starts from the encoder's final state only)."));
    else if (t.alignment && t.alignment.length) card.append(heatmap(t));
  });
}

async function translateOne(model, lines, beam, nbest) {
  const card = el("div", {class: "model-result", "data-model": model.name});
  card.append(el("h2", {}, model.name), el("div", {class: "kind"}, model.type + ": " + model.encoder + " encoder, " + model.decoder + " decoder"));
  document.getElementById("results").append(card);
  const body = {text: lines, model: model.name, beam_size: beam, n_best: Math.min(nbest, beam), alignment: model.attention};
  const t0 = performance.now();
  try {
    const r = await fetch("/v1/translate", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
    const j = await r.json();
    if (!r.ok) throw new Error(j.error || r.statusText);
    showResult(card, model, j, lines, Math.round(performance.now() - t0));
  } catch (e) {
    card.append(el("div", {class: "error"}, String(e.message || e)));
  }
}

async function translateAll() {
  const lines = document.getElementById("source").value.split("\n");
  const chosen = [...document.querySelectorAll(".model-choice:checked")].map(cb => models.find(m => m.name === cb.value));
  const beam = Math.max(1, parseInt(document.getElementById("beam").value, 10) || 1);
  const nbest = Math.max(1, parseInt(document.getElementById("nbest").value, 10) || 1);
  document.getElementById("results").textContent = "";
  const status = document.getElementById("status");
  status.textContent = "translating…";
  await Promise.all(chosen.map(m => translateOne(m, lines, beam, nbest)));
  status.textContent = "done";
}

document.getElementById("translate").addEventListener("click", translateAll);
loadModels().catch(e => { document.getElementById("models").textContent = "cannot load the models: " + e; });
</script>
</body>
</html>
)PAGE";
  return html;
}

}  // namespace nmt::serve
