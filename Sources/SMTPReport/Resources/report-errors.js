// Runs before everything else on the report page: any uncaught error is kept in
// window.__reportErrors and shown in #script-errors (the browser tests read it).
window.__reportErrors = [];
window.onerror = function (m, s, l, c) {
  window.__reportErrors.push(String(m) + " (" + l + ":" + c + ")");
  var b = document.getElementById("script-errors");
  if (b) { b.hidden = false; b.textContent = window.__reportErrors.join("\n"); }
};
