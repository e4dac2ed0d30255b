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

/* Behaviours declared in the markup, since the Content-Security-Policy refuses inline event
   handlers: a select that submits its form when changed (data-autosubmit), a form that asks
   before submitting (data-confirm="question"), a form whose 422 answers htmx still shows
   (data-swap-errors: the field errors), and buttons only useful without JavaScript
   (data-recalc: « Recalculer le prix », htmx recomputes on every change). */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el && el.matches && el.matches("select[data-autosubmit]") && el.form) {
      el.form.submit();
    }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;
    var form = source && source.closest && source.closest("[data-swap-errors]");
    if (form && event.detail.xhr.status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  function hideRecalc() {
    document.querySelectorAll("[data-recalc]").forEach(function (b) { b.hidden = true; });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", hideRecalc);
  } else {
    hideRecalc();
  }
})();
