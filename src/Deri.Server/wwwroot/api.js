// Lists the OpenAPI document's endpoints on /api (a file of its own: the Content-Security-Policy allows no inline script).
"use strict";
fetch("/openapi/v1.json").then(r => r.json()).then(doc => {
  const body = document.querySelector("#paths tbody");
  for (const [path, ops] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(ops)) {
      const tr = document.createElement("tr");
      for (const text of [method.toUpperCase(), path, op.summary ?? ""]) { const td = document.createElement("td"); td.textContent = text; tr.append(td); }
      body.append(tr);
    }
});
