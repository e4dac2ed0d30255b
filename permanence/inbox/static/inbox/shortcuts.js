// Keyboard shortcuts of the inbox and the conversation page, as in the helpdesks agents know:
//   list:          j / k next / previous conversation, Enter or o open, x select, / search
//   conversation:  j / k next / previous conversation of the last list, u back to the list,
//                  r reply, n internal note, e resolve, / search
//   everywhere:    ? the list of shortcuts (a modal dialog; Esc closes it)
// A shortcut never fires while typing in a field, nor with Ctrl/Alt/Meta held.
(function () {
  "use strict";
  var STORE = "permanence.inbox.list"; // the last list's conversation URLs, for j / k
  var list = document.getElementById("inbox-results"); // the list page (its rows: [data-kbd-list])
  var conversation = document.querySelector("[data-conversation]");
  var help = document.getElementById("kbd-help");
  if (!list && !conversation) return;

  function typing(target) {
    if (!target || !target.closest) return false;
    return Boolean(target.closest("input, textarea, select, [contenteditable=''], [contenteditable=true]"));
  }

  function store(urls) {
    try { sessionStorage.setItem(STORE, JSON.stringify(urls)); } catch (e) { /* private mode */ }
  }
  function stored() {
    try { return JSON.parse(sessionStorage.getItem(STORE) || "[]"); } catch (e) { return []; }
  }

  // --- The list -------------------------------------------------------------------------------
  var current = -1;
  function rows() {
    var body = document.querySelector("[data-kbd-list] tbody");
    return body ? Array.prototype.filter.call(body.querySelectorAll("tr"), function (tr) {
      return tr.querySelector("a[href]");
    }) : [];
  }
  function remember() {
    store(rows().map(function (tr) { return tr.querySelector("a[href]").getAttribute("href"); }));
  }
  function select(index) {
    var all = rows();
    if (!all.length) return;
    current = Math.max(0, Math.min(index, all.length - 1));
    all.forEach(function (tr, i) {
      var on = i === current;
      tr.classList.toggle("kbd-current", on);
      if (on) tr.setAttribute("aria-current", "true"); else tr.removeAttribute("aria-current");
    });
    var link = all[current].querySelector("a[href]");
    link.focus({ preventScroll: true });
    all[current].scrollIntoView({ block: "nearest" });
  }
  if (list) {
    remember();
    // The results are replaced by htmx (filters, live refresh): keep the selection's place.
    document.body.addEventListener("htmx:afterSwap", function () {
      remember();
      if (current >= 0) select(current);
    });
    if (location.hash === "#rechercher") {
      var q = document.getElementById("q");
      if (q) q.focus();
    }
  }

  // --- The conversation page ------------------------------------------------------------------
  function neighbour(step) {
    var urls = stored();
    var here = urls.indexOf(location.pathname);
    if (here < 0) return null;
    return urls[here + step] || null;
  }
  function focusField(selector) {
    var field = document.querySelector(selector);
    if (!field) return false;
    var fold = field.closest("details");
    if (fold) fold.open = true;
    field.focus();
    field.scrollIntoView({ block: "center" });
    return true;
  }

  // --- The help dialog ------------------------------------------------------------------------
  var opener = null;
  function showHelp() {
    if (!help) return;
    opener = document.activeElement;
    if (help.showModal) help.showModal(); else help.setAttribute("open", "");
    var close = help.querySelector("[data-kbd-close]");
    if (close) close.focus();
  }
  if (help) {
    help.addEventListener("close", function () { if (opener && opener.focus) opener.focus(); });
    help.querySelectorAll("[data-kbd-close]").forEach(function (btn) {
      btn.addEventListener("click", function () { if (help.close) help.close(); else help.removeAttribute("open"); });
    });
    document.querySelectorAll("[data-kbd-open]").forEach(function (btn) {
      btn.addEventListener("click", showHelp);
    });
  }

  var inboxUrl = list ? location.pathname : conversation.getAttribute("data-inbox-url") || "/app/boite/";
  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    if (typing(e.target)) return;
    if (help && help.open) return; // the dialog handles its own keys (Esc, Tab)
    var key = e.key, done = true;
    if (key === "?") {
      showHelp();
    } else if (key === "/") {
      if (list) { var q = document.getElementById("q"); if (q) { q.focus(); q.select(); } else done = false; }
      else location.href = inboxUrl + "#rechercher";
    } else if (list && (key === "j" || key === "ArrowDown" && current >= 0)) {
      select(current + 1);
    } else if (list && (key === "k" || key === "ArrowUp" && current >= 0)) {
      select(current - 1);
    } else if (list && (key === "o" || key === "Enter" && (e.target === document.body
        || rows().indexOf(e.target.closest && e.target.closest("tr")) >= 0)) && current >= 0) {
      var link = rows()[current] && rows()[current].querySelector("a[href]");
      if (link) location.href = link.href; else done = false;
    } else if (list && key === "x" && current >= 0) {
      var pick = rows()[current].querySelector("input.pick");
      if (pick) pick.click(); else done = false;
    } else if (conversation && (key === "j" || key === "k")) {
      var next = neighbour(key === "j" ? 1 : -1);
      if (next) location.href = next; else done = false;
    } else if (conversation && key === "u") {
      location.href = inboxUrl;
    } else if (conversation && key === "r") {
      done = focusField("#reply-form textarea");
    } else if (conversation && key === "n") {
      done = focusField("#note-form textarea");
    } else if (conversation && key === "e") {
      var resolve = document.querySelector("[data-kbd-resolve]");
      if (resolve) resolve.click(); else done = false;
    } else {
      done = false;
    }
    if (done) e.preventDefault();
  });
})();
