// The live page of `archlang serve`: loads a spec into the editor, sends the buffer to
// /api/check a moment after each keystroke, and shows the diagnostics, the per-layer
// table and the diagram that come back. Everything from the server is put in as text,
// except the diagram, which is SVG drawn by graphviz from the checked graph.
"use strict";

const $ = (id) => document.getElementById(id);
const DEBOUNCE_MS = 250;
let current = null;  // the open spec, relative to the served folder
let sent = 0;        // the newest check asked for; older answers are dropped
let timer = null;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

function status(text, state) {
  $("status").textContent = text;
  if (state) document.body.dataset.state = state;
}

async function loadFiles() {
  const answer = await fetch("/api/files");
  const data = await answer.json();
  $("root").textContent = data.root + "/";
  const picker = $("picker");
  picker.replaceChildren(...data.files.map((f) => el("option", { value: f }, f)));
  const wanted = decodeURIComponent(location.hash.slice(1));
  const first = data.files.includes(wanted) ? wanted : data.first || data.files[0];
  if (first) await open(first);
  else status("no .arch files in this folder", "empty");
}

async function open(rel) {
  const answer = await fetch("/api/file?path=" + encodeURIComponent(rel));
  if (!answer.ok) { status(await answer.text(), "error"); return; }
  $("editor").value = await answer.text();
  current = rel;
  $("picker").value = rel;
  history.replaceState(null, "", "#" + rel);
  document.title = rel + " — archlang serve";
  await check();
}

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(check, DEBOUNCE_MS);
}

async function check() {
  const mine = ++sent;
  status("checking…", "checking");
  let data;
  try {
    const answer = await fetch("/api/check", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text: $("editor").value, path: current }),
    });
    if (!answer.ok) throw new Error(await answer.text());
    data = await answer.json();
  } catch (e) {
    if (mine === sent) status("the server did not answer: " + e.message, "offline");
    return;
  }
  if (mine !== sent) return;  // a newer buffer is on its way
  show(data);
}

function show(data) {
  const list = $("diagnostics");
  list.replaceChildren(...data.diagnostics.map(diagnosticItem));
  if (!data.diagnostics.length) list.append(el("li", { class: "clean" }, "no problems"));
  $("count").textContent = data.errors ? `${data.errors} error${data.errors === 1 ? "" : "s"}` : "";
  const models = $("models");
  if (data.ok) {
    models.replaceChildren(...data.models.map(modelView));
    models.classList.remove("stale");
    status(`checked ${data.models.length} model${data.models.length === 1 ? "" : "s"}`, "ok");
  } else {
    // The last good table and diagram stay, faded, so the page does not jump while typing.
    models.classList.add("stale");
    status(`${data.errors} error${data.errors === 1 ? "" : "s"}`, "errors");
  }
}

function diagnosticItem(d) {
  const where = d.line ? `${d.line}:${d.column}` : "";
  const item = el("li", { class: d.severity, title: d.rendered },
    el("span", { class: "code" }, d.code),
    el("span", { class: "where" }, where),
    el("span", { class: "message" }, d.message));
  if (d.hint) item.append(el("div", { class: "hint" }, "hint: " + d.hint));
  if (d.line) item.addEventListener("click", () => jump(d.line, d.column, d.end_line, d.end_column));
  return item;
}

// Select a 1-based span of the checker in the editor.
function jump(line, col, endLine, endCol) {
  const text = $("editor").value;
  const offset = (l, c) => {
    let at = 0;
    for (let i = 1; i < l; i++) at = text.indexOf("\n", at) + 1;
    return at + Math.max(0, c - 1);
  };
  const editor = $("editor");
  editor.focus();
  editor.setSelectionRange(offset(line, col), offset(endLine || line, endCol || col + 1));
}

function modelView(m) {
  const head = el("tr", {}, ...["name", "layer", "output shape", "params", "MACs"].map(
    (h, i) => el("th", i > 2 ? { class: "num" } : {}, h)));
  const row = (r) => el("tr", {}, ...r.map((c, i) => el("td", i > 2 ? { class: "num" } : {}, c)));
  const table = el("table", { class: "summary" },
    el("thead", {}, head), el("tbody", {}, ...m.rows.map(row)), el("tfoot", {}, row(m.total)));
  const diagram = el("div", { class: "diagram" });
  if (m.svg) diagram.innerHTML = m.svg;
  else diagram.append(el("pre", {}, m.text), el("p", { class: "muted" }, m.note || ""));
  return el("section", { class: "model", "data-model": m.name },
    el("h3", {}, m.name), el("div", { class: "line" }, m.line), el("div", { class: "body" }, table, diagram));
}

function onKey(e) {
  if (e.key !== "Tab" || e.ctrlKey || e.altKey || e.metaKey) return;
  e.preventDefault();  // indent instead of leaving the editor
  document.execCommand("insertText", false, "    ");
}

function showCursor() {
  const editor = $("editor");
  const before = editor.value.slice(0, editor.selectionStart);
  const line = before.split("\n").length;
  $("cursor").textContent = `line ${line}, column ${before.length - before.lastIndexOf("\n")}`;
}

window.addEventListener("DOMContentLoaded", () => {
  const editor = $("editor");
  editor.addEventListener("input", schedule);
  editor.addEventListener("keydown", onKey);
  for (const ev of ["keyup", "click", "select"]) editor.addEventListener(ev, showCursor);
  $("picker").addEventListener("change", (e) => open(e.target.value));
  loadFiles().catch((e) => status("could not list the specs: " + e.message, "offline"));
});
