// closedloop pages: progressive enhancement only. Pages work without this file.
// Charts: Vega-Lite specs sit in <script type="application/json"> blocks (no inline script, CSP-safe);
// vega-embed draws them as SVG with the expression interpreter (`ast: true`), so no eval is needed.
(function () {
  "use strict";

  function drawCharts() {
    var holders = document.querySelectorAll("[data-spec]");
    if (!holders.length || typeof window.vegaEmbed !== "function") { return; }
    holders.forEach(function (el) {
      var block = document.getElementById(el.getAttribute("data-spec"));
      if (!block) { return; }
      var spec = JSON.parse(block.textContent);
      window.vegaEmbed(el, spec, {
        renderer: "svg", actions: false, ast: true, defaultStyle: false,
        tooltip: { theme: "custom", disableDefaultStyle: true }
      })
        .then(function () { el.classList.add("drawn"); })
        .catch(function (err) { el.textContent = String(err && err.message || err); });
    });
  }

  function autosubmit() {
    document.querySelectorAll("[data-autosubmit]").forEach(function (el) {
      el.addEventListener("change", function () { el.form.submit(); });
    });
    document.documentElement.classList.add("js");
  }

  function confirmations() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { ev.preventDefault(); }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    autosubmit();
    confirmations();
    drawCharts();
  });
})();
