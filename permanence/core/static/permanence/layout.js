/* A table (or any box) that scrolls sideways inside its own container must be reachable with
   the keyboard, or a keyboard user cannot read its hidden columns (WCAG 2.1.1; axe's
   "scrollable-region-focusable"). Re-checked on resize and after htmx swaps. */
(function () {
  "use strict";
  var SELECTOR = ".table, .table-scroll, .compare-wrap, .hours, pre";
  // A table wider than its container (many columns, long cells) scrolls inside its own box
  // at any screen width (below 800 px the stylesheet already does so for every table).
  function fit() {
    document.querySelectorAll("table.table").forEach(function (table) {
      var parent = table.parentElement;
      if (!parent) { return; }
      if (table.classList.contains("scroll-x")) {
        table.classList.remove("scroll-x");
      }
      if (table.offsetWidth > parent.clientWidth + 1) {
        table.classList.add("scroll-x");
      }
    });
  }
  function mark() {
    fit();
    document.querySelectorAll(SELECTOR).forEach(function (el) {
      var scrolls = el.scrollWidth > el.clientWidth + 1;
      if (scrolls && !el.hasAttribute("tabindex")) {
        el.setAttribute("tabindex", "0");
        el.dataset.scrollFocus = "1";
      } else if (!scrolls && el.dataset.scrollFocus) {
        el.removeAttribute("tabindex");
        delete el.dataset.scrollFocus;
      }
    });
  }
  var pending = null;
  function later() { if (pending) { clearTimeout(pending); } pending = setTimeout(mark, 100); }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mark);
  } else {
    mark();
  }
  window.addEventListener("resize", later);
  document.addEventListener("htmx:afterSettle", later);
})();
