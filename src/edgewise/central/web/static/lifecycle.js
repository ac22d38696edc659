// Edgewise lifecycle pages: the live parts (operation progress, rollout waves) are reloaded by
// app.js's [data-refresh]; the forms they bring (cancel, abort, ...) ask for confirmation like
// the page's own (app.js binds only the forms present when the page loaded).
"use strict";
(function () {
  document.addEventListener("ew:refreshed", (event) => {
    event.target.querySelectorAll("form[data-confirm]").forEach((form) => {
      form.addEventListener("submit", (submitted) => {
        if (!window.confirm(form.dataset.confirm)) submitted.preventDefault();
      });
    });
  });
})();
