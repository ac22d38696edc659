// Edgewise catalog: onboarding by drag and drop. Each drop zone holds a real <input type=file>
// (keyboard and screen readers use it); a dropped or chosen file is onboarded through the
// central's own API: create the item (POST), upload the content (PUT). The API's answer is
// shown as it is: every problem with its file, line and column, in a table (role=alert).
"use strict";
(function () {
  const LOCATED = /^(.*?):(\d+):(\d+)(?: (.*))?$/;

  function contentType(file) {
    const name = file.name.toLowerCase();
    if (name.endsWith(".zip") || name.endsWith(".csar")) return "application/zip";
    return "text/plain"; // a YAML descriptor
  }

  function problemRows(problems) {
    const body = document.querySelector("#onboard-problems tbody");
    body.replaceChildren();
    for (const problem of problems) {
      const row = document.createElement("tr");
      const found = LOCATED.exec(problem.where || "");
      const cells = found
        ? [found[1], found[2], found[3], (found[4] ? found[4] + ": " : "") + problem.message]
        : [problem.where || "", "", "", problem.message];
      cells.forEach((text, index) => {
        const cell = document.createElement(index === 0 ? "th" : "td");
        if (index === 0) cell.scope = "row";
        cell.textContent = text;
        row.append(cell);
      });
      body.append(row);
    }
  }

  function showProblems(file, result) {
    const box = document.getElementById("onboard-problems");
    const data = result.data && typeof result.data === "object" ? result.data : {};
    document.getElementById("onboard-detail").textContent =
      `${file.name} was refused (${result.status}): ${data.detail || data.title || "no detail"}`;
    problemRows(data.problems || []);
    box.hidden = false;
    status("");
  }

  function status(text) { document.getElementById("onboard-status").textContent = text; }

  async function onboard(zone, file) {
    document.getElementById("onboard-problems").hidden = true;
    status(`Onboarding ${file.name}…`);
    const created = await ew.api("POST", zone.dataset.create, {});
    if (!created.ok) { showProblems(file, created); return; }
    const id = created.data.id;
    const url = `${zone.dataset.create}/${encodeURIComponent(id)}/${zone.dataset.content}`;
    const uploaded = await ew.api("PUT", url, file, { "Content-Type": contentType(file) });
    if (!uploaded.ok) {
      await ew.api("DELETE", `${zone.dataset.create}/${encodeURIComponent(id)}`);
      showProblems(file, uploaded);
      return;
    }
    status(`${file.name} is onboarded (${id}).`);
    window.location.assign(`/ui/catalog#${zone.dataset.kind}-${id}`);
    window.location.reload();
  }

  function wire(zone) {
    const input = zone.querySelector("input[type=file]");
    input.addEventListener("change", () => { if (input.files.length) onboard(zone, input.files[0]); });
    zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("over");
      const files = event.dataTransfer && event.dataTransfer.files;
      if (files && files.length) onboard(zone, files[0]);
    });
  }

  function init() { document.querySelectorAll(".dropzone").forEach(wire); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
