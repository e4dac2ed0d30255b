// The user's live channel: notifications appear as toasts and in the bell counter.
(function () {
  "use strict";
  var proto = location.protocol === "https:" ? "wss://" : "ws://";
  var delay = 1000;
  function connect() {
    var ws = new WebSocket(proto + location.host + "/ws/live/");
    ws.onopen = function () { delay = 1000; };
    ws.onmessage = function (e) {
      var msg = JSON.parse(e.data);
      if (msg.type !== "notification") return;
      var count = document.getElementById("bell-count");
      if (count) { count.hidden = false; count.textContent = String((parseInt(count.textContent, 10) || 0) + 1); }
      var box = document.getElementById("toasts");
      if (!box) return;
      var a = document.createElement("a");
      a.className = "toast";
      a.href = msg.payload.conversation ? "/app/boite/" + msg.payload.conversation + "/" : "/app/boite/notifications/";
      a.textContent = msg.payload.text || (document.documentElement.lang === "en" ? "New notification" : "Nouvelle notification");
      box.appendChild(a);
      setTimeout(function () { a.remove(); }, 8000);
    };
    ws.onclose = function () { setTimeout(connect, delay); delay = Math.min(delay * 2, 15000); };
  }
  connect();
})();
