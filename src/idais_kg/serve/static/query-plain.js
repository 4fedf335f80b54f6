// The /query page's plain editor: a textarea, a format and a table, with no bundle. A file rather than an inline
// script, so the Content-Security-Policy allows only scripts from this server.
const examples = JSON.parse(document.getElementById("examples-data").textContent);
document.getElementById("examples").addEventListener("change", (e) => {
  if (e.target.value !== "") { document.getElementById("query").value = examples[e.target.value].text; }
});
function cell(b) { if (!b) return ""; return b.value + (b["xml:lang"] ? " @" + b["xml:lang"] : ""); }
document.getElementById("form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const accept = document.getElementById("accept").value;
  const status = document.getElementById("status"), out = document.getElementById("out");
  status.textContent = "running…"; out.textContent = "";
  const resp = await fetch("/sparql", {method: "POST", headers: {"Content-Type": "application/sparql-query", "Accept": accept},
                                       body: document.getElementById("query").value});
  const text = await resp.text();
  status.textContent = resp.status + " " + resp.statusText + (resp.headers.get("X-Row-Cap") ? " (" + resp.headers.get("X-Row-Cap") + ")" : "");
  if (resp.ok && accept.endsWith("json") && accept.includes("sparql-results")) {
    const data = JSON.parse(text);
    if ("boolean" in data) { out.textContent = String(data.boolean); return; }
    const table = document.createElement("table"), head = table.insertRow();
    for (const v of data.head.vars) { const th = document.createElement("th"); th.textContent = v; head.appendChild(th); }
    for (const b of data.results.bindings) { const row = table.insertRow(); for (const v of data.head.vars) { row.insertCell().textContent = cell(b[v]); } }
    out.appendChild(table);
  } else { const pre = document.createElement("pre"); pre.textContent = text; out.appendChild(pre); }
});
