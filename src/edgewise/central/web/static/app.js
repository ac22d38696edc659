// Edgewise portals: progressive enhancement only (every page works as plain HTML forms).
// - `ew.api(method, url, body)`: a fetch to the central's own API with the session's CSRF token;
// - `[data-refresh]` elements reload their HTML from `data-refresh` every `data-every` seconds
//   (live progress), paused while the tab is hidden;
// - `form[data-confirm]` asks before submitting (forms brought by a live refresh too);
// - a refreshed fragment holding a `[data-final]` element stops its element's refreshing;
// - `<html data-ready>` is set once the page is interactive (the browser tests and the figures
//   wait for it).
"use strict";
(function () {
  const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

  async function api(method, url, body, extraHeaders) {
    const headers = { "X-CSRF-Token": csrf(), "X-Requested-With": "edgewise", ...(extraHeaders || {}) };
    let payload = body;
    if (body !== undefined && !(body instanceof Blob) && !(body instanceof FormData) &&
        typeof body !== "string") {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    const response = await fetch(url, { method, headers, body: payload, credentials: "same-origin" });
    let data = null;
    const type = response.headers.get("Content-Type") || "";
    if (type.includes("json")) data = await response.json();
    else data = await response.text();
    if (response.status === 401) window.location.assign("/ui/login?next=" + encodeURIComponent(location.pathname));
    return { ok: response.ok, status: response.status, data, headers: response.headers };
  }

  function describeProblem(result) {
    const body = result.data || {};
    if (typeof body !== "object") return `the central answered ${result.status}`;
    const lines = (body.problems || []).map((p) => (p.where ? `${p.where}: ${p.message}` : p.message));
    return [body.detail || body.title || `the central answered ${result.status}`, ...lines].join("\n");
  }

  function refresher(element) {
    const every = Math.max(1, Number(element.dataset.every || 3)) * 1000;
    let busy = false;
    let last = null;  // the fragment as last received (the DOM's own serialisation differs)
    async function tick() {
      if (document.hidden || busy) return;
      busy = true;
      try {
        const result = await fetch(element.dataset.refresh, {
          headers: { "X-Requested-With": "edgewise" }, credentials: "same-origin" });
        const html = result.ok ? await result.text() : null;
        if (html !== null && html !== last) {  // unchanged: nothing replaced, nothing re-announced
          last = html;
          element.innerHTML = html;
          element.dispatchEvent(new CustomEvent("ew:refreshed", { bubbles: true }));
          // a fragment that shows a final state (`data-final`) needs no more refreshing
          if (element.querySelector("[data-final]")) clearInterval(timer);
        }
      } finally { busy = false; }
    }
    const timer = setInterval(tick, every);
  }

  function init() {
    document.querySelectorAll("[data-refresh]").forEach(refresher);
    // one listener for every form, those a live refresh brings later included
    document.addEventListener("submit", (event) => {
      const form = event.target;
      if (form instanceof HTMLFormElement && form.dataset.confirm &&
          !window.confirm(form.dataset.confirm)) event.preventDefault();
    });
    document.documentElement.dataset.ready = "1";
    document.dispatchEvent(new CustomEvent("ew:ready"));
  }

  window.ew = { api, csrf, describeProblem };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
