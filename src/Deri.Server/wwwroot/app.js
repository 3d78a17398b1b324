// Deri web page: uploads a record to /api/v1/analyze and draws it on ECG paper.
// Paper: 25 mm/s, 10 mm/mV; 1 mm minor and 5 mm major grid; 3 rows × 4 columns of 2.5 s plus a lead II rhythm strip.
"use strict";
const layout = [["I", "aVR", "V1", "V4"], ["II", "aVL", "V2", "V5"], ["III", "aVF", "V3", "V6"]];
let zoom = 1, last = null;
const $ = id => document.getElementById(id);

function draw(canvas, signal, pxPerMm) {
  const rowMm = 30, colSec = 2.5, mmPerSec = 25, mmPerMv = signal.units === "mV" ? 10 : 20;
  const widthMm = 4 * colSec * mmPerSec, heightMm = rowMm * 4;
  canvas.width = widthMm * pxPerMm; canvas.height = heightMm * pxPerMm;
  const g = canvas.getContext("2d");
  g.fillStyle = "#fff"; g.fillRect(0, 0, canvas.width, canvas.height);
  for (let mm = 0; mm <= Math.max(widthMm, heightMm); mm++) {
    g.strokeStyle = mm % 5 === 0 ? "#f0a0a0" : "#fbdada"; g.lineWidth = mm % 5 === 0 ? 1 : 0.5;
    g.beginPath(); g.moveTo(mm * pxPerMm, 0); g.lineTo(mm * pxPerMm, canvas.height); g.moveTo(0, mm * pxPerMm); g.lineTo(canvas.width, mm * pxPerMm); g.stroke();
  }
  const rate = signal.sampling_rate, lead = name => signal.data[signal.leads.indexOf(name)];
  const trace = (values, t0, t1, xMm, yMm) => {
    const v0 = values.slice(Math.round(t0 * rate), Math.round(t1 * rate)).filter(v => v !== null);
    const base = v0.length ? v0.reduce((a, b) => a + b, 0) / v0.length : 0;   // centre the trace on its row
    g.strokeStyle = "#000"; g.lineWidth = 1.2; g.beginPath();
    let pen = false;
    for (let i = Math.round(t0 * rate); i < Math.min(values.length, Math.round(t1 * rate)); i++) {
      const v = values[i];
      if (v === null) { pen = false; continue; }
      const x = (xMm + (i / rate - t0) * mmPerSec) * pxPerMm, y = (yMm - (v - base) * mmPerMv) * pxPerMm;
      pen ? g.lineTo(x, y) : g.moveTo(x, y); pen = true;
    }
    g.stroke();
  };
  g.font = `${Math.max(10, 3.5 * pxPerMm)}px sans-serif`; g.fillStyle = "#000";
  layout.forEach((row, r) => row.forEach((name, c) => {
    trace(lead(name), c * colSec, (c + 1) * colSec, c * colSec * mmPerSec, rowMm * r + rowMm / 2);
    g.fillText(name, (c * colSec * mmPerSec + 1) * pxPerMm, (rowMm * r + 5) * pxPerMm);
  }));
  trace(lead("II"), 0, 10, 0, rowMm * 3 + rowMm / 2);
  g.fillText("II", pxPerMm, (rowMm * 3 + 5) * pxPerMm);
}

function render(result) {
  last = result;
  $("error").hidden = true; $("result").hidden = false;
  const r = result.record;
  $("title").textContent = r.id;
  $("facts").textContent = `${r.format}, ${r.leads.length} leads, ${r.sampling_rate} Hz, ${r.duration_s} s`;
  draw($("ecg"), result.signal, 4 * zoom);
  $("findings").replaceChildren(...result.findings.map(f => {
    const li = document.createElement("li");
    li.textContent = `${f.class} ${f.score.toFixed(3)}` + (f.threshold === null ? "" : ` (threshold ${f.threshold.toFixed(3)})`);
    li.title = f.prompt; li.dataset.class = f.class; li.dataset.score = f.score;
    if (f.positive) li.classList.add("positive");
    return li;
  }));
  $("report").textContent = result.report ?? "(no report model loaded: start deri serve with --report-model)";
  $("similar").replaceChildren(...(result.similar ?? []).map(s => {
    const li = document.createElement("li");
    li.textContent = `${s.id} (${s.score.toFixed(3)}): ${s.report}`;
    li.onclick = () => showCase(s.id);
    return li;
  }));
}

async function showCase(id) {
  const res = await fetch(`/api/v1/cases/${encodeURIComponent(id)}`);
  const c = await res.json();
  if (!res.ok) return fail(c);
  $("case").hidden = false; $("caseTitle").textContent = `${c.id}: ${c.labels.join(", ") || "no labels"}`;
  $("caseReport").textContent = c.report;
  if (c.signal) draw($("caseEcg"), c.signal, 2);
}

function fail(problem) {
  $("error").hidden = false;
  $("error").textContent = `Rejected: ${problem.title ?? "error"} — ${problem.detail ?? ""}`;
}

async function upload(files) {
  const form = new FormData();
  for (const f of files) form.append("file", f, f.name);
  form.append("rate", $("rate").value);
  const res = await fetch("/api/v1/analyze", { method: "POST", body: form });
  const body = await res.json().catch(() => ({ title: `HTTP ${res.status}` }));
  res.ok ? render(body) : fail(body);
}

$("picker").onchange = e => upload(e.target.files);
const drop = $("drop");
drop.ondragover = e => { e.preventDefault(); drop.classList.add("over"); };
drop.ondragleave = () => drop.classList.remove("over");
drop.ondrop = e => { e.preventDefault(); drop.classList.remove("over"); upload(e.dataTransfer.files); };
$("zoomIn").onclick = () => { zoom = Math.min(4, zoom * 1.25); $("zoomLevel").textContent = `${Math.round(zoom * 100)} %`; if (last) draw($("ecg"), last.signal, 4 * zoom); };
$("zoomOut").onclick = () => { zoom = Math.max(0.5, zoom / 1.25); $("zoomLevel").textContent = `${Math.round(zoom * 100)} %`; if (last) draw($("ecg"), last.signal, 4 * zoom); };
fetch("/api/v1/model").then(r => r.json()).then(m => { $("model").textContent = `${m.run} (${m.method}, ${m.classes.length} classes)`; });
