// The /query page with YASGUI (bundled by scripts/build-yasgui.sh), loaded after the bundle. A file rather than an
// inline script, so the Content-Security-Policy allows only scripts from this server.
const examples = JSON.parse(document.getElementById("examples-data").textContent);
// Only completers that work offline: "class" and "property" ask lov.linkeddata.es, and "prefixes" uses its
// bundled list while prefixCcApi is unset. This page talks to this server and to no other host.
const completers = ["prefixes", "variables"];
Yasgui.Yasqe.defaults.autocompleters = completers;
const yasgui = new Yasgui(document.getElementById("yasgui"), {
  requestConfig: {endpoint: new URL("/sparql", location.href).href, method: "POST"},
  copyEndpointOnNewTab: false,
  persistenceId: null,
  endpointCatalogueOptions: {getData: () => [], keys: []},
  yasqe: {autocompleters: completers, prefixCcApi: null, value: JSON.parse(document.getElementById("default-query").textContent)},
});
document.getElementById("examples").addEventListener("change", (e) => {
  if (e.target.value !== "") { yasgui.getTab().setQuery(examples[e.target.value].text); }
});
