/* The chat console (/app/chats/): live over /ws/chat/agent/. The queue is re-read from the
   server (escaped by its template) when it changes; messages of the open chat are appended
   with textContent, never parsed as HTML. Every action still works as a plain form. */
(function () {
  "use strict";
  var box = document.getElementById("chat-console");
  if (!box || !window.WebSocket) { return; }
  var chat = parseInt(box.dataset.chat || "0", 10);
  var last = parseInt(box.dataset.after || "0", 10);
  var log = document.getElementById("chat-log");
  var typing = document.getElementById("chat-typing");
  var form = document.getElementById("chat-reply-form");
  var body = document.getElementById("chat-body");
  var seen = {};
  if (log) { log.querySelectorAll("[data-message-id]").forEach(function (li) { seen[li.dataset.messageId] = true; }); }
  var labels = {visitor: "", bot: "Assistant", notice: "Info", note: "Note interne", agent: "Conseiller"};
  var socket = null, delay = 1000, beat = null, typingOff = null;

  function append(m) {
    if (!log || seen[m.id]) { return; }
    seen[m.id] = true;
    last = Math.max(last, m.id);
    var li = document.createElement("li");
    li.className = "chat-line chat-" + m.who;
    li.dataset.messageId = String(m.id);
    var who = document.createElement("strong");
    who.textContent = m.name || labels[m.who] || "";
    var text = document.createElement("span");
    text.className = "chat-text";
    text.textContent = " " + m.text;
    li.appendChild(who); li.appendChild(text);
    (m.attachments || []).forEach(function (name) {
      var small = document.createElement("small");
      small.textContent = " 📎 " + name;
      li.appendChild(small);
    });
    log.appendChild(li);
    li.scrollIntoView({block: "nearest"});
  }

  function refreshQueue() {
    var queue = document.getElementById("chat-queue");
    if (!queue) { return; }
    fetch(queue.dataset.fragment, {credentials: "same-origin"}).then(function (r) { return r.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("chat-queue");
        if (fresh) { queue.replaceWith(fresh); }
      });
  }

  // Without live updates (the socket closed with 4503 — Redis down — or failing again and
  // again), the queue and the open chat are re-read over HTTP every few seconds: the page
  // itself, its chat log escaped by the template, new lines appended.
  var pollTimer = null, failures = 0;
  function pollOnce() {
    refreshQueue();
    if (!chat || !log) { return; }
    fetch(location.href, {credentials: "same-origin"}).then(function (r) { return r.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("chat-log");
        if (!fresh) { return; }
        fresh.querySelectorAll("[data-message-id]").forEach(function (li) {
          if (seen[li.dataset.messageId]) { return; }
          seen[li.dataset.messageId] = true;
          last = Math.max(last, parseInt(li.dataset.messageId, 10));
          log.appendChild(document.importNode(li, true));
        });
      }).catch(function () { /* offline: the next tick tries again */ });
  }
  function startPolling() { if (!pollTimer) { pollTimer = setInterval(pollOnce, 5000); pollOnce(); } }
  function stopPolling() { clearInterval(pollTimer); pollTimer = null; }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + box.dataset.socket);
    socket.onopen = function () {
      delay = 1000; failures = 0; stopPolling();
      if (chat) { socket.send(JSON.stringify({type: "watch", chat: chat, after: last})); }
      clearInterval(beat);
      beat = setInterval(function () { if (socket && socket.readyState === 1) { socket.send('{"type":"beat"}'); } }, 20000);
      var seat = document.getElementById("chat-seat");
      if (seat) { seat.dataset.online = "1"; }
    };
    socket.onmessage = function (event) {
      var frame = JSON.parse(event.data);
      if (frame.type === "message" && frame.chat === chat) { append(frame.message); }
      else if (frame.type === "queue") { refreshQueue(); }
      else if (frame.type === "typing" && frame.chat === chat && typing) {
        typing.hidden = !frame.typing;
        clearTimeout(typingOff);
        if (frame.typing) { typingOff = setTimeout(function () { typing.hidden = true; }, 6000); }
      }
      else if (frame.type === "status" && frame.chat === chat) {
        var badge = document.getElementById("chat-status");
        if (badge) { badge.dataset.status = frame.status; }
        // Taken, transferred or ended meanwhile: the page's actions changed (unless typing).
        if (!body || !body.value) { location.reload(); }
      }
    };
    socket.onclose = function (event) {
      socket = null;
      clearInterval(beat);
      failures += 1;
      if (event.code === 4503 || failures >= 3) { startPolling(); }
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 15000);
    };
  }
  connect();

  if (form && body) {
    var sentTyping = 0, idle = null;
    body.addEventListener("input", function () {
      var now = Date.now();
      if (socket && socket.readyState === 1 && now - sentTyping > 2000) {
        sentTyping = now;
        socket.send(JSON.stringify({type: "typing", chat: chat, typing: true}));
      }
      clearTimeout(idle);
      idle = setTimeout(function () {
        sentTyping = 0;
        if (socket && socket.readyState === 1) { socket.send(JSON.stringify({type: "typing", chat: chat, typing: false})); }
      }, 3000);
    });
    body.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { form.requestSubmit(); }
    });
    var canned = document.getElementById("chat-canned");
    var cannedData = document.getElementById("chat-canned-data");
    if (canned && cannedData) {
      var replies = JSON.parse(cannedData.textContent);
      canned.addEventListener("change", function () {
        var chosen = replies[parseInt(canned.value, 10)];
        if (chosen) { body.value = chosen.body; body.focus(); }
      });
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = new FormData(form);
      fetch(form.action, {method: "POST", body: data, credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.json().then(function (json) { return [r.ok, json]; }); })
        .then(function (result) {
          var error = document.getElementById("chat-error");
          if (result[0]) { body.value = ""; if (error) { error.textContent = ""; } }
          else if (error) { error.textContent = result[1].message || "Erreur"; }
        });
    });
  }
})();
