// The user's live channel: notifications appear as toasts and in the bell counter.
// On back-office pages with the inbox in the menu, the inbox channel too: the unread count
// (menu badge and tab title) follows it, and the page hears "inbox:changed" (inbox.js
// refreshes its list) — one socket per page.
(function () {
  "use strict";
  var proto = location.protocol === "https:" ? "wss://" : "ws://";
  function socket(path, onMessage) {
    var delay = 1000;
    function connect() {
      var ws = new WebSocket(proto + location.host + path);
      ws.onopen = function () { delay = 1000; };
      ws.onmessage = function (e) { onMessage(JSON.parse(e.data)); };
      ws.onclose = function () { setTimeout(connect, delay); delay = Math.min(delay * 2, 15000); };
    }
    connect();
  }

  socket("/ws/live/", function (msg) {
    if (msg.type !== "notification") return;
    var count = document.getElementById("bell-count");
    if (count) { count.hidden = false; count.textContent = String((parseInt(count.textContent, 10) || 0) + 1); }
    var box = document.getElementById("toasts");
    if (!box) return;
    var a = document.createElement("a");
    a.className = "toast";
    a.href = msg.payload.link || (msg.payload.conversation ? "/app/boite/" + msg.payload.conversation + "/" : "/app/boite/notifications/");
    a.textContent = msg.payload.text || (document.documentElement.lang === "en" ? "New notification" : "Nouvelle notification");
    box.appendChild(a);
    setTimeout(function () { a.remove(); }, 8000);
  });

  var badge = document.getElementById("inbox-unread");
  if (!badge) return;
  var label = document.getElementById("inbox-unread-label");
  function showUnread(text) {
    badge.textContent = text;
    badge.hidden = !text;
    if (label) label.hidden = !text;
    var title = document.title.replace(/^\(\d+\+?\) /, "");
    document.title = text ? "(" + text + ") " + title : title;
  }
  var pending = null;
  function refreshUnread() {
    if (pending) return;
    // Coalesce a burst of changes (a bulk action, a mail storm) into one request.
    pending = setTimeout(function () {
      pending = null;
      fetch(badge.dataset.url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data) showUnread(data.count ? data.label : ""); })
        .catch(function () {});
    }, 250);
  }
  socket("/ws/inbox/", function (msg) {
    if (msg.type !== "inbox.changed") return;
    document.dispatchEvent(new CustomEvent("inbox:changed", { detail: msg }));
    refreshUnread();
  });
  // Opening a conversation (or its live timeline refreshing) marks it read.
  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.target && e.target.id === "timeline") refreshUnread();
  });
})();
