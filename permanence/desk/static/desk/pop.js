// The desk's live channel (/ws/desk/) on back-office pages: the screen pop of a call ringing
// for this agent (« Appel entrant — <compte> — <numéro> », a link to the call screen), the
// supervisors' board refreshed when an agent's state changes, the agent's own switcher kept
// in step. One socket per page; a refused socket (4403: not someone who answers calls) is
// not retried.
(function () {
  "use strict";
  var proto = location.protocol === "https:" ? "wss://" : "ws://";
  var en = document.documentElement.lang === "en";
  var delay = 1000;

  function style() {
    if (document.getElementById("desk-pop-style")) return;
    var s = document.createElement("style");
    s.id = "desk-pop-style";
    s.textContent = ".desk-pop{position:fixed;right:1rem;top:1rem;z-index:1000;max-width:24rem;background:#fff;" +
      "border:2px solid #c62828;border-radius:10px;box-shadow:0 8px 24px rgba(0,0,0,.2);padding:1rem;}" +
      ".desk-pop h2{margin:0 0 .4rem;font-size:1.05rem;color:#8e1c1c}.desk-pop p{margin:.2rem 0 .8rem}" +
      ".desk-pop .row{display:flex;gap:.5rem;flex-wrap:wrap}";
    document.head.appendChild(s);
  }

  function pop(msg) {
    style();
    var box = document.createElement("div");
    box.className = "desk-pop";
    box.setAttribute("role", "alertdialog");
    box.setAttribute("aria-live", "assertive");
    box.dataset.call = msg.call;
    var h = document.createElement("h2");
    h.textContent = msg.text || ((en ? "Incoming call — " : "Appel entrant — ") + msg.account + " — " + msg.number);
    var p = document.createElement("p");
    p.textContent = msg.caller_name || "";
    var row = document.createElement("div");
    row.className = "row";
    var open = document.createElement("a");
    open.className = "btn primary";
    open.href = msg.url;
    open.textContent = en ? "Open the call screen" : "Ouvrir la fiche d'appel";
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn";
    close.textContent = en ? "Dismiss" : "Fermer";
    close.addEventListener("click", function () { box.remove(); });
    row.appendChild(open);
    row.appendChild(close);
    box.appendChild(h);
    box.appendChild(p);
    box.appendChild(row);
    document.body.appendChild(box);
    open.focus();
    setTimeout(function () { box.remove(); }, 60000);
    document.dispatchEvent(new CustomEvent("desk:ringing", { detail: msg }));
  }

  function connect() {
    var ws = new WebSocket(proto + location.host + "/ws/desk/");
    ws.onopen = function () { delay = 1000; };
    ws.onmessage = function (e) {
      var msg = JSON.parse(e.data);
      if (msg.type === "call.ringing") pop(msg);
      if (msg.type === "agent.state") {
        document.body.dispatchEvent(new CustomEvent("desk:agents", { bubbles: true, detail: msg }));
        var form = document.getElementById("agent-state");
        if (form && String(msg.user) === form.dataset.user) {
          var select = form.querySelector("select");
          if (select && select.querySelector('option[value="' + msg.status + '"]')) select.value = msg.status;
        }
      }
    };
    ws.onclose = function (e) {
      if (e.code === 4403) return;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 15000);
    };
  }
  connect();
})();
