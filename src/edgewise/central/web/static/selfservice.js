// Edgewise self-service: the order form is checked as the user types by the central's own
// check (the orchestrator's validation of the instantiate request); each problem is shown next
// to its field, as "<the API's field path>: <the reason>", with aria-invalid and
// aria-describedby. `form[data-live]` says the check listens; `form[data-checked]` counts its
// answers (the browser tests wait on both).
"use strict";
(function () {
  function showProblems(form, problems) {
    const general = document.getElementById("general-problems");
    form.querySelectorAll("[name]").forEach((field) => {
      const slot = document.getElementById("err-" + field.name);
      if (!slot) return;
      slot.textContent = "";
      slot.removeAttribute("role");
      field.removeAttribute("aria-invalid");
    });
    if (general) general.textContent = "";
    for (const problem of problems) {
      const field = problem.field ? form.elements.namedItem(problem.field) : null;
      const slot = problem.field ? document.getElementById("err-" + problem.field) : null;
      const text = (problem.where ? problem.where + ": " : "") + problem.message;
      if (field && slot && "setAttribute" in field) {
        field.setAttribute("aria-invalid", "true");
        slot.textContent = text;
        slot.setAttribute("role", "alert");
      } else if (general) {
        const line = document.createElement("p");
        line.className = "error";
        line.textContent = text;
        general.appendChild(line);
      }
    }
  }

  function liveCheck(form) {
    let timer = null;
    let asked = 0;
    async function check() {
      const mine = ++asked;
      const result = await window.ew.api("POST", form.dataset.check, new FormData(form));
      if (mine !== asked) return; // a newer answer is coming
      if (result.ok) showProblems(form, result.data.problems || []);
      else showProblems(form, [{ where: "", message: window.ew.describeProblem(result) }]);
      form.dataset.checked = String(Number(form.dataset.checked || 0) + 1);
    }
    const soon = () => { clearTimeout(timer); timer = setTimeout(check, 250); };
    form.addEventListener("input", soon);
    form.addEventListener("change", soon);
    form.dataset.live = "1";
  }

  function init() {
    document.querySelectorAll("form[data-check]").forEach(liveCheck);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
