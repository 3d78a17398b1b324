// Deri web page: uploads a record to /api/v1/analyze and draws it on ECG paper.
// Paper: 25 mm/s, 10 mm/mV; 1 mm minor and 5 mm major grid; 3 rows × 4 columns of 2.5 s (I, II, III | aVR, aVL, aVF |
// V1–V3 | V4–V6) plus a 10 s lead II rhythm strip; a 1 mV calibration pulse opens each row.
"use strict";
const layout = [["I", "aVR", "V1", "V4"], ["II", "aVL", "V2", "V5"], ["III", "aVF", "V3", "V6"]];
let zoom = 1, last = null;
const $ = id => document.getElementById(id);

// Paper geometry (mm): a left margin holding the 1 mV calibration pulse, 4 columns of 2.5 s, 3 lead rows and the
// rhythm strip, each row 30 mm high (±1.5 mV at 10 mm/mV before neighbouring rows overlap, as on printed ECGs).
const mmPerSec = 25, colSec = 2.5, rowMm = 30, marginMm = 10, rightMm = 2, footMm = 6;

function draw(canvas, signal, pxPerMm) {
  const physical = signal.units === "mV";
  // Uploads are physical (mV): 10 mm/mV. A store case is the model's input, min–max normalised over the record, so
  // its full range (1 unit) gets 20 mm; it is labelled so and has no calibration pulse (it has no mV scale).
  const mmPerUnit = physical ? 10 : 20;
  const widthMm = marginMm + 4 * colSec * mmPerSec + rightMm, heightMm = 4 * rowMm + footMm;
  canvas.width = Math.round(widthMm * pxPerMm); canvas.height = Math.round(heightMm * pxPerMm);
  canvas.dataset.pxPerMm = pxPerMm; canvas.dataset.widthMm = widthMm;
  const g = canvas.getContext("2d");
  g.fillStyle = "#fff"; g.fillRect(0, 0, canvas.width, canvas.height);
  // Grid: 1 mm minor lines, then 5 mm major lines on top, on pixel centres so that they stay sharp.
  const px = mm => Math.round(mm * pxPerMm) + 0.5;
  for (const major of [false, true]) {
    g.strokeStyle = major ? "#e8a0a0" : "#f8d8d8"; g.lineWidth = major ? Math.max(1, pxPerMm / 4) : Math.max(0.5, pxPerMm / 8);
    g.beginPath();
    for (let mm = 0; mm <= widthMm; mm++) if ((mm % 5 === 0) === major) { g.moveTo(px(mm), 0); g.lineTo(px(mm), canvas.height); }
    for (let mm = 0; mm <= heightMm; mm++) if ((mm % 5 === 0) === major) { g.moveTo(0, px(mm)); g.lineTo(canvas.width, px(mm)); }
    g.stroke();
  }
  const rate = signal.sampling_rate, lead = name => signal.data[signal.leads.indexOf(name)] ?? [];
  const median = values => {
    const v = values.filter(x => x !== null).sort((a, b) => a - b);
    return v.length ? v[v.length >> 1] : 0;
  };
  g.strokeStyle = "#000"; g.lineJoin = "round";
  // One lead from t0 to t1 s, starting at x mm, its baseline (the segment's median, as the upload's baseline wander
  // is not removed) on y mm.
  const trace = (values, t0, t1, xMm, yMm) => {
    const i0 = Math.round(t0 * rate), i1 = Math.min(values.length, Math.round(t1 * rate));
    const base = median(values.slice(i0, i1));
    g.lineWidth = Math.max(1, pxPerMm / 3); g.beginPath();
    let pen = false;
    for (let i = i0; i < i1; i++) {
      const v = values[i];
      if (v === null) { pen = false; continue; }
      const x = (xMm + (i - i0) / rate * mmPerSec) * pxPerMm, y = (yMm - (v - base) * mmPerUnit) * pxPerMm;
      pen ? g.lineTo(x, y) : g.moveTo(x, y); pen = true;
    }
    g.stroke();
  };
  // The 1 mV calibration pulse: 10 mm high, 0.2 s (5 mm) wide, in the left margin of each row.
  const pulse = yMm => {
    g.lineWidth = Math.max(1, pxPerMm / 3); g.beginPath();
    const x = mm => mm * pxPerMm, y = mm => mm * pxPerMm;
    g.moveTo(x(1), y(yMm)); g.lineTo(x(3), y(yMm)); g.lineTo(x(3), y(yMm - 10)); g.lineTo(x(8), y(yMm - 10));
    g.lineTo(x(8), y(yMm)); g.lineTo(x(marginMm), y(yMm));
    g.stroke();
  };
  g.font = `bold ${Math.max(10, 3.5 * pxPerMm)}px sans-serif`; g.fillStyle = "#000";
  const label = (text, xMm, yMm) => g.fillText(text, xMm * pxPerMm, yMm * pxPerMm);
  const rowsOf = [...layout, null];
  rowsOf.forEach((row, r) => {
    const baseline = rowMm * r + rowMm * 0.6;
    if (physical) pulse(baseline);
    if (row === null) {
      trace(lead("II"), 0, 4 * colSec, marginMm, baseline);
      label("II", marginMm + 1, rowMm * r + 5);
      return;
    }
    row.forEach((name, c) => {
      const x = marginMm + c * colSec * mmPerSec;
      trace(lead(name), c * colSec, (c + 1) * colSec, x, baseline);
      label(name, x + 1, rowMm * r + 5);
      if (c > 0) {   // lead-change mark between columns
        g.lineWidth = Math.max(1, pxPerMm / 3); g.beginPath();
        g.moveTo(x * pxPerMm, (baseline - 4) * pxPerMm); g.lineTo(x * pxPerMm, (baseline + 4) * pxPerMm); g.stroke();
      }
    });
  });
  g.font = `${Math.max(10, 3 * pxPerMm)}px sans-serif`;
  label(physical ? "25 mm/s   10 mm/mV   grid 1 mm / 5 mm   unfiltered" : "25 mm/s   normalised model input (no mV scale): 20 mm per unit",
    marginMm, 4 * rowMm + footMm - 1.5);
}

function render(result) {
  last = result;
  $("error").hidden = true; $("result").hidden = false;
  const r = result.record;
  $("title").textContent = r.id;
  $("facts").textContent = `${r.format}, ${r.leads.length} leads, ${r.sampling_rate} Hz, ${r.duration_s} s`;
  draw($("ecg"), result.signal, 4 * zoom);
  renderMeasurements(result.measurements, result.device_measurements);
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

// A server bound beyond loopback requires an API key (X-Api-Key). The page asks for it once, on the first 401, keeps it
// in sessionStorage (this tab only, never in the URL) and sends it with every API request.
const keyName = "deri-api-key";
function askKey(message) {
  return new Promise(resolve => {
    const form = $("keyForm");
    $("keyMessage").textContent = message;
    form.hidden = false; $("key").value = ""; $("key").focus();
    form.onsubmit = e => {
      e.preventDefault(); form.hidden = true;
      sessionStorage.setItem(keyName, $("key").value);
      resolve();
    };
  });
}

async function api(url, options = {}) {
  for (let tries = 0; ; tries++) {
    const key = sessionStorage.getItem(keyName);
    const headers = new Headers(options.headers ?? {});
    if (key !== null) headers.set("X-Api-Key", key);
    const res = await fetch(url, { ...options, headers });
    if (res.status !== 401 || tries >= 3) return res;
    sessionStorage.removeItem(keyName);
    await askKey(tries === 0 ? "This server needs its API key." : "That key was refused; enter the server's API key.");
  }
}

// The measurements block: one row per value (key as in the API), Deri's value and the recording device's beside it when
// the file carried one; "—" for an absent value, with the notes saying why as its tooltip.
const MEASURES = [
  ["heart_rate_bpm", "Heart rate", "bpm"], ["pr_ms", "PR", "ms"], ["qrs_ms", "QRS", "ms"], ["qt_ms", "QT", "ms"],
  ["qtc_bazett_ms", "QTc Bazett", "ms"], ["qtc_fridericia_ms", "QTc Fridericia", "ms"],
  ["p_axis_deg", "P axis", "°"], ["qrs_axis_deg", "QRS axis", "°"], ["t_axis_deg", "T axis", "°"],
];
function renderMeasurements(m, device) {
  const table = $("measurements");
  const cell = (tag, text) => { const c = document.createElement(tag); c.textContent = text; return c; };
  const head = document.createElement("tr");
  head.append(cell("th", ""), cell("th", "Deri"), ...(device ? [cell("th", "device")] : []));
  const notes = m ? m.notes.join("\n") : "the record could not be measured";
  const rows = MEASURES.map(([key, name, unit]) => {
    const tr = document.createElement("tr");
    tr.dataset.key = key;
    const v = m ? m[key] : null;
    const ours = cell("td", v === null || v === undefined ? "—" : `${Math.round(v)} ${unit}`);
    ours.className = "ours";
    if (v === null || v === undefined) ours.title = notes;
    tr.append(cell("th", name), ours);
    if (device) {
      const d = device[key] ?? (key.startsWith("qtc_") ? device.qtc_ms : undefined);
      const c = cell("td", d === undefined || d === null ? "—" : `${Math.round(d)} ${unit}`);
      c.className = "device";
      tr.append(c);
    }
    return tr;
  });
  table.replaceChildren(head, ...rows);
  table.title = m ? m.notes.join("\n") : notes;
}

async function showCase(id) {
  const res = await api(`/api/v1/cases/${encodeURIComponent(id)}`);
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
  const res = await api("/api/v1/analyze", { method: "POST", body: form });
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
api("/api/v1/model").then(r => r.json()).then(m => {
  if (!m.classes) return;
  // A bundle names itself and its version and has a card; a run folder is named by its folder, epoch and checkpoint.
  $("model").textContent = m.version
    ? `model ${m.name} ${m.version} (${m.method}, ${m.classes.length} classes, ${m.engine})`
    : `${m.run} (${m.method}, ${m.classes.length} classes, epoch ${m.checkpoint_epoch ?? "?"}, sha256 ${m.checkpoint_sha256})`;
  if (m.card) {
    const link = $("cardLink");
    link.hidden = false;
    link.onclick = async e => {
      e.preventDefault();
      const res = await api(m.card);
      $("cardText").textContent = res.ok ? await res.text() : `the card could not be read (${res.status})`;
      $("card").showModal();
    };
  }
});
