// Alarms page: the table refreshes itself every few seconds (app.js `data-refresh`); this keeps
// what the reader was doing across a refresh: the "explains N alarms" disclosures left open
// stay open, the keyboard focus stays on the same link or button, and a change in the count
// of alarms is announced once (a polite live region outside the table, not the whole table).
"use strict";
(function () {
  const table = document.getElementById("alarm-table");
  if (!table) return;
  const open = new Set();
  const news = document.getElementById("alarm-news");
  const count = () => (table.querySelector("caption") || {}).textContent || "";
  let lastCount = count();
  let focused = null;
  table.addEventListener("toggle", (event) => {
    const root = event.target.dataset && event.target.dataset.root;
    if (!root) return;
    if (event.target.open) open.add(root); else open.delete(root);
  }, true);
  table.addEventListener("focusin", (event) => {
    focused = event.target.getAttribute("href") || event.target.id || null;
  });
  table.addEventListener("focusout", (event) => {
    if (event.relatedTarget) focused = null; // moved elsewhere (not removed by a refresh)
  });
  table.addEventListener("ew:refreshed", () => {
    const now = count();
    if (news && now !== lastCount) news.textContent = now;
    lastCount = now;
    table.querySelectorAll("details[data-root]").forEach((details) => {
      if (open.has(details.dataset.root)) details.open = true;
    });
    if (focused && (document.activeElement === document.body || !document.activeElement)) {
      const again = Array.from(table.querySelectorAll("a[href], summary"))
        .find((element) => element.getAttribute("href") === focused || element.id === focused);
      if (again) again.focus();
    }
  });
})();
