// Highlights the lines that a #line=a,b fragment names (the fragment of every idais:sourceLocation), and
// scrolls to the first of them. A static file, so that the page's Content-Security-Policy allows no inline script.
function highlightLines() {
  document.querySelectorAll("tr.hit").forEach((row) => row.classList.remove("hit"));
  const match = /^#line=(\d+)(?:,(\d+))?$/.exec(window.location.hash);
  if (!match) return;
  const first = Number(match[1]);
  const last = Number(match[2] || match[1]);
  for (let n = first; n <= last; n += 1) {
    const row = document.getElementById("L" + n);
    if (row) row.classList.add("hit");
  }
  const start = document.getElementById("L" + first);
  if (start) start.scrollIntoView({ block: "center" });
}
window.addEventListener("hashchange", highlightLines);
document.addEventListener("DOMContentLoaded", highlightLines);
