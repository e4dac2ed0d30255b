// Live inbox: countdowns tick, lists and timelines refresh when the server says so,
// and colleagues on the same conversation see each other (viewing / typing).
(function () {
  "use strict";
  // The page's language (<html lang>, French first); English words for the few live texts.
  var EN = document.documentElement.lang === "en";
  var T = EN
    ? { d: " d ", late: "overdue by ", within: "in ", typing: " is replying…", viewing: " is viewing this conversation" }
    : { d: " j ", late: "en retard de ", within: "dans ", typing: " est en train de répondre…", viewing: " consulte ce dossier" };
  function human(seconds) {
    var m = Math.floor(Math.abs(seconds) / 60), d = Math.floor(m / 1440), h = Math.floor((m % 1440) / 60), mm = m % 60;
    if (d) return d + T.d + h + " h";
    if (h) return h + " h " + String(mm).padStart(2, "0");
    return mm + " min";
  }
  function tick() {
    document.querySelectorAll("time.countdown[data-due]").forEach(function (el) {
      var left = (new Date(el.dataset.due) - new Date()) / 1000;
      el.textContent = left <= 0 ? T.late + human(left) : T.within + human(left);
      el.classList.toggle("late", left <= 0);
      el.classList.toggle("soon", left > 0 && left <= 4 * 3600);
    });
  }
  setInterval(tick, 30000);

  function socket(path, onMessage, onOpen) {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    var ws, delay = 1000;
    function connect() {
      ws = new WebSocket(proto + location.host + path);
      ws.onopen = function () { delay = 1000; if (onOpen) onOpen(ws); };
      ws.onmessage = function (e) { onMessage(JSON.parse(e.data), ws); };
      ws.onclose = function () { setTimeout(connect, delay); delay = Math.min(delay * 2, 15000); };
    }
    connect();
    return function (obj) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(obj)); };
  }

  // live.js holds the page's /ws/inbox/ socket (it also keeps the menu's unread count).
  var list = document.getElementById("inbox-results");
  if (list) {
    document.addEventListener("inbox:changed", function () {
      if (window.htmx) htmx.trigger(list, "refresh");
    });
  }

  var conv = document.querySelector("[data-conversation]");
  if (conv) {
    var id = conv.dataset.conversation;
    var presence = document.getElementById("presence");
    var timeline = document.getElementById("timeline");
    var reply = document.querySelector("#reply-form textarea");
    var typingSent = 0;
    var send = socket("/ws/conversations/" + id + "/", function (msg) {
      if (msg.type === "presence" && presence) {
        var others = msg.users.filter(function (u) { return u.id !== Number(conv.dataset.me); });
        presence.innerHTML = "";
        others.forEach(function (u) {
          var span = document.createElement("span");
          span.className = "who" + (u.typing ? " typing" : "");
          span.textContent = u.name + (u.typing ? T.typing : T.viewing);
          presence.appendChild(span);
        });
        presence.hidden = others.length === 0;
      } else if (msg.type === "message" && timeline && window.htmx) {
        htmx.trigger(timeline, "refresh");
        if (msg.direction === "in" && reply && reply.value.trim()) {
          var warn = document.getElementById("new-message-warning");
          if (warn) warn.hidden = false;
        }
      }
    });
    if (reply) {
      reply.addEventListener("input", function () {
        var now = Date.now();
        if (now - typingSent > 3000) { typingSent = now; send({ type: "typing", typing: true }); }
      });
      reply.addEventListener("blur", function () { send({ type: "typing", typing: false }); });
    }
    document.querySelectorAll("[data-canned]").forEach(function (btn) {
      btn.addEventListener("click", function () {
        if (reply) { reply.value = btn.dataset.canned; reply.focus(); }
      });
    });
  }

  var bulk = document.getElementById("bulk-form");
  if (bulk) {
    bulk.addEventListener("submit", function () {
      var ids = Array.prototype.map.call(document.querySelectorAll("input.pick:checked"), function (c) { return c.value; });
      bulk.querySelector("input[name=ids]").value = ids.join(",");
    });
  }
})();
