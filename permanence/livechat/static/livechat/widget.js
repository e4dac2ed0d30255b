/* Permanence chat widget: one <script src=".../chat/<slug>/widget.js" async> on the client's
   site. Vanilla JS, styles scoped in a shadow root, no cookie (the chat's token is kept in
   the host page's localStorage), no third-party code. Every text from the network is put in
   the page with textContent: nothing a visitor or an agent types is ever parsed as HTML.
   Transport: a websocket that resumes after the last message id seen (reconnecting with
   back-off), and HTTP polling when sockets fail; messages waiting for their acknowledgement
   are sent again with the same client id (the server keeps one copy). */
(function (CONFIG) {
  "use strict";
  if (window.__permanenceChat) { return; }
  window.__permanenceChat = true;
  var T = CONFIG.texts;
  var script = document.currentScript;
  var BASE = (script && script.src) ? new URL(script.src).origin : CONFIG.base;
  var KEY = "permanence-chat:" + CONFIG.slug;
  var store = (function () {
    try { localStorage.setItem(KEY + ":t", "1"); localStorage.removeItem(KEY + ":t"); return localStorage; }
    catch (e) { try { return sessionStorage; } catch (e2) { return null; } }
  })();
  var memory = {};
  function load() {
    try { return JSON.parse((store ? store.getItem(KEY) : memory[KEY]) || "{}"); } catch (e) { return {}; }
  }
  function save() {
    var data = JSON.stringify(state);
    try { if (store) { store.setItem(KEY, data); } else { memory[KEY] = data; } } catch (e) { memory[KEY] = data; }
  }
  var state = load();
  state.pending = state.pending || {};
  state.last = state.last || 0;

  var CSS = [
    ":host{all:initial}",
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif}",
    ".launch{position:fixed;right:20px;bottom:20px;z-index:2147483000;background:#1d4ed8;color:#fff;border:0;border-radius:999px;padding:12px 18px;font-size:15px;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}",
    ".launch:focus-visible,button:focus-visible,input:focus-visible,textarea:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}",
    ".panel{position:fixed;right:20px;bottom:80px;z-index:2147483000;width:min(370px,calc(100vw - 24px));height:min(540px,calc(100vh - 100px));background:#fff;color:#111827;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);display:flex;flex-direction:column;overflow:hidden;font-size:14px}",
    ".panel[hidden]{display:none}",
    "header{background:#1d4ed8;color:#fff;padding:10px 12px;display:flex;justify-content:space-between;align-items:center}",
    "header h2{font-size:15px;margin:0}",
    "header button{background:transparent;color:#fff;border:0;font-size:20px;cursor:pointer;line-height:1}",
    ".body{flex:1;overflow:auto;padding:10px 12px}",
    "form.pre label{display:block;margin:8px 0 2px;font-weight:600}",
    "input[type=text],input[type=email],textarea{width:100%;padding:7px;border:1px solid #6b7280;border-radius:6px;font-size:14px;color:#111827;background:#fff}",
    ".consent{display:flex;gap:6px;align-items:flex-start;margin:10px 0;font-weight:400!important}",
    "button.main{background:#1d4ed8;color:#fff;border:0;border-radius:6px;padding:8px 12px;cursor:pointer;font-size:14px}",
    "button.link{background:none;border:0;color:#1d4ed8;text-decoration:underline;cursor:pointer;padding:2px;font-size:13px}",
    "ol{list-style:none;margin:0;padding:0}",
    "li{margin:6px 0;padding:7px 9px;border-radius:8px;background:#f3f4f6;white-space:pre-wrap;word-wrap:break-word}",
    "li.visitor{background:#dbeafe;margin-left:30px}",
    "li.notice{background:none;color:#374151;font-style:italic;font-size:13px}",
    "li .who{display:block;font-size:12px;font-weight:700;color:#374151}",
    ".fb{margin-top:6px;display:flex;gap:6px;align-items:center}",
    ".fb button{border:1px solid #1d4ed8;background:#fff;color:#1d4ed8;border-radius:6px;padding:3px 10px;cursor:pointer}",
    ".status{font-size:13px;color:#92400e;background:#fef3c7;padding:6px 12px}",
    ".status[hidden],.typing[hidden]{display:none}",
    ".typing{font-size:12px;color:#374151;padding:0 12px}",
    ".compose{border-top:1px solid #e5e7eb;padding:8px 12px}",
    ".compose textarea{resize:none;height:54px}",
    ".row{display:flex;gap:6px;justify-content:space-between;align-items:center;margin-top:6px;flex-wrap:wrap}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    ".err{color:#b91c1c;font-size:13px}"
  ].join("\n");

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  var host = el("div", {"id": "permanence-chat", "data-permanence-chat": CONFIG.slug});
  var root = host.attachShadow ? host.attachShadow({mode: "open"}) : host;
  var style = el("style"); style.textContent = CSS; root.appendChild(style);
  var launch = el("button", {"class": "launch", "type": "button", "aria-expanded": "false", "aria-controls": "pc-panel"}, T.open);
  var panel = el("section", {"class": "panel", "id": "pc-panel", "role": "dialog", "aria-label": T.title + " — " + CONFIG.account});
  panel.hidden = true;
  var header = el("header");
  header.appendChild(el("h2", {}, CONFIG.account));
  var close = el("button", {"type": "button", "aria-label": T.close}, "×");
  header.appendChild(close);
  var statusLine = el("p", {"class": "status", "role": "status"}); statusLine.hidden = true;
  var body = el("div", {"class": "body"});
  var log = el("ol", {"aria-live": "polite", "aria-relevant": "additions", "aria-label": T.title});
  var typing = el("p", {"class": "typing", "aria-live": "polite"}, T.typing); typing.hidden = true;
  var compose = el("form", {"class": "compose"});
  var error = el("p", {"class": "err", "role": "alert"});
  panel.appendChild(header); panel.appendChild(statusLine); panel.appendChild(body);
  panel.appendChild(typing); panel.appendChild(compose);
  root.appendChild(launch); root.appendChild(panel);

  // --- Pre-chat form -------------------------------------------------------------------------
  function preForm() {
    var form = el("form", {"class": "pre"});
    form.appendChild(el("p", {}, CONFIG.welcome));
    form.appendChild(el("label", {"for": "pc-name"}, T.name));
    var name = el("input", {"id": "pc-name", "type": "text", "required": "", "maxlength": "200", "autocomplete": "name"});
    form.appendChild(name);
    form.appendChild(el("label", {"for": "pc-email"}, T.email));
    var email = el("input", {"id": "pc-email", "type": "email", "required": "", "maxlength": "254", "autocomplete": "email"});
    form.appendChild(email);
    var consentLabel = el("label", {"class": "consent", "for": "pc-consent"});
    var consent = el("input", {"id": "pc-consent", "type": "checkbox", "required": ""});
    consentLabel.appendChild(consent);
    consentLabel.appendChild(el("span", {}, CONFIG.consent));
    form.appendChild(consentLabel);
    form.appendChild(el("button", {"class": "main", "type": "submit"}, T.start));
    form.appendChild(error);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      error.textContent = "";
      api("POST", "/chat/" + CONFIG.slug + "/start", {
        name: name.value, email: email.value, consent: consent.checked,
        page_url: location.href.slice(0, 500), page_title: document.title.slice(0, 200)
      }).then(function (data) {
        state.token = data.token; state.last = 0; state.pending = {}; save();
        showOnline(data);
        startChat();
      }).catch(showError);
    });
    body.textContent = "";
    body.appendChild(form);
    compose.hidden = true;
    return name;
  }

  // --- Composer ------------------------------------------------------------------------------
  var input = el("textarea", {"id": "pc-message", "maxlength": "4000", "rows": "2"});
  var file = el("input", {"id": "pc-file", "type": "file", "class": "sr", "accept": ".pdf,.png,.jpg,.jpeg,.gif,.txt"});
  (function buildCompose() {
    compose.appendChild(el("label", {"for": "pc-message", "class": "sr"}, T.message));
    compose.appendChild(input);
    var row = el("div", {"class": "row"});
    var send = el("button", {"class": "main", "type": "submit"}, T.send);
    var attach = el("button", {"class": "link", "type": "button"}, T.attach);
    var end = el("button", {"class": "link", "type": "button"}, T.end);
    var person = el("button", {"class": "link", "type": "button"}, T.person);
    var transcript = el("button", {"class": "link", "type": "button"}, T.transcript);
    var opinion = el("button", {"class": "link", "type": "button", "aria-expanded": "false"}, T.opinion);
    file.setAttribute("tabindex", "-1"); file.setAttribute("aria-hidden", "true");
    row.appendChild(send); row.appendChild(file); row.appendChild(attach);
    row.appendChild(person); row.appendChild(transcript); row.appendChild(end);
    row.appendChild(opinion);
    compose.appendChild(row);
    // « Votre avis »: a rating and a comment about the chat, sent as an action.
    var opinionBox = el("fieldset", {"class": "opinion"});
    opinionBox.hidden = true;
    opinionBox.appendChild(el("legend", {}, T.opinion_rating));
    var stars = el("div", {"class": "row"});
    [1, 2, 3, 4, 5].forEach(function (n) {
      var id = "pc-opinion-" + n;
      var radio = el("input", {"type": "radio", "name": "pc-opinion", "value": String(n), "id": id});
      stars.appendChild(radio); stars.appendChild(el("label", {"for": id}, String(n)));
    });
    opinionBox.appendChild(stars);
    opinionBox.appendChild(el("label", {"for": "pc-opinion-comment"}, T.opinion_comment));
    var opinionText = el("textarea", {"id": "pc-opinion-comment", "rows": "2", "maxlength": "2000"});
    opinionBox.appendChild(opinionText);
    var opinionSend = el("button", {"class": "main", "type": "button"}, T.send);
    opinionBox.appendChild(opinionSend);
    compose.appendChild(opinionBox);
    opinion.addEventListener("click", function () {
      opinionBox.hidden = !opinionBox.hidden;
      opinion.setAttribute("aria-expanded", String(!opinionBox.hidden));
    });
    opinionSend.addEventListener("click", function () {
      var chosen = opinionBox.querySelector("input:checked");
      if (!chosen) { showError({message: T.opinion_rating}); return; }
      action({type: "avis", rating: parseInt(chosen.value, 10), comment: opinionText.value})
        .then(function () {
          opinionBox.hidden = true; opinion.setAttribute("aria-expanded", "false");
          opinionText.value = ""; chosen.checked = false; notice(T.opinion_thanks);
        }, showError);
    });
    compose.appendChild(error.cloneNode());
    compose.addEventListener("submit", function (event) { event.preventDefault(); submit(); });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); submit(); }
    });
    input.addEventListener("input", typingChanged);
    person.addEventListener("click", function () { sendMessage(T.person); });
    transcript.addEventListener("click", function () {
      action({type: "transcript"}).then(function () { notice(T.transcript_sent); });
    });
    attach.addEventListener("click", function () { file.click(); });
    end.addEventListener("click", function () { action({type: "end"}); });
    file.addEventListener("change", function () { if (file.files.length) { upload(file.files[0]); } });
  })();

  function submit() {
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    sendMessage(text);
  }

  function clientId() {
    return Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
  }

  function sendMessage(text) {
    var id = clientId();
    state.pending[id] = text; save();
    flushPending();
  }

  function flushPending() {
    Object.keys(state.pending).forEach(function (id) {
      var frame = {type: "message", client_id: id, body: state.pending[id]};
      if (socket && socket.readyState === 1) {
        socket.send(JSON.stringify(frame));
      } else {
        api("POST", "/chat/api/" + state.token + "/messages", frame).then(function () {
          delete state.pending[id]; save(); poll();
        }).catch(function (err) {
          if (err && err.status && err.status < 500) { delete state.pending[id]; save(); showError(err); }
        });
      }
    });
  }

  function upload(blob) {
    var data = new FormData();
    data.append("file", blob);
    data.append("client_id", clientId());
    fetch(BASE + "/chat/api/" + state.token + "/attachments", {method: "POST", body: data, mode: "cors", credentials: "omit"})
      .then(function (response) { return response.json().then(function (json) {
        if (!response.ok) { throw {status: response.status, message: json.message}; }
        poll();
      }); }).catch(showError);
    file.value = "";
  }

  var typingTimer = null, typingSent = 0;
  function typingChanged() {
    var now = Date.now();
    if (now - typingSent > 2000) { typingSent = now; signal({type: "typing", typing: true}); }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { typingSent = 0; signal({type: "typing", typing: false}); }, 3000);
  }

  function signal(frame) {
    if (socket && socket.readyState === 1) { socket.send(JSON.stringify(frame)); }
  }

  function action(frame) {
    if (socket && socket.readyState === 1) { socket.send(JSON.stringify(frame)); return Promise.resolve(); }
    return api("POST", "/chat/api/" + state.token + "/actions", frame).then(poll);
  }

  // --- Messages ------------------------------------------------------------------------------
  var seen = {};
  function speaker(m) {
    if (m.who === "visitor") { return T.you; }
    if (m.who === "bot") { return T.bot; }
    if (m.who === "agent") { return m.name || T.agent; }
    return "";
  }

  function render(m) {
    if (seen[m.id]) { return; }
    seen[m.id] = true;
    if (m.id > state.last) { state.last = m.id; save(); }
    var item = el("li", {"class": m.who, "data-message-id": String(m.id)});
    var who = speaker(m);
    if (who) { item.appendChild(el("span", {"class": "who"}, who)); }
    item.appendChild(el("span", {"class": "text"}, m.text));
    (m.attachments || []).forEach(function (name) { item.appendChild(el("span", {"class": "who"}, "📎 " + name)); });
    if (m.who === "bot" && m.exchange) {
      var fb = el("div", {"class": "fb", "role": "group", "aria-label": T.helped});
      fb.appendChild(el("span", {}, T.helped));
      [[true, T.yes], [false, T.no]].forEach(function (choice) {
        var b = el("button", {"type": "button"}, choice[1]);
        b.addEventListener("click", function () {
          fb.remove();
          action({type: "feedback", exchange: m.exchange, helped: choice[0]});
        });
        fb.appendChild(b);
      });
      item.appendChild(fb);
    }
    log.appendChild(item);
    body.scrollTop = body.scrollHeight;
  }

  var typingShown = null;
  function showTyping(on) {
    // A signal not renewed within 6 s is over (the other side may have just stopped).
    typing.hidden = !on;
    clearTimeout(typingShown);
    if (on) { typingShown = setTimeout(function () { typing.hidden = true; }, 6000); }
  }

  function notice(text) {
    log.appendChild(el("li", {"class": "notice"}, text));
  }

  function showError(err) {
    var target = compose.hidden ? error : compose.querySelector(".err");
    target.textContent = (err && err.message) || T.error;
  }

  function showOnline(data) {
    if (data && data.online === false && (data.status === "bot" || !data.status)) {
      statusLine.textContent = T.offline; statusLine.hidden = false;
    } else if (data && data.online) {
      statusLine.hidden = true;
    }
  }

  // --- Transport -----------------------------------------------------------------------------
  function api(method, path, payload) {
    var options = {method: method, mode: "cors", credentials: "omit", headers: {}};
    if (payload !== undefined) { options.headers["Content-Type"] = "application/json"; options.body = JSON.stringify(payload); }
    return fetch(BASE + path, options).catch(function () {
      // Network down, or this site is not allowed (no CORS: the answer cannot be read).
      throw {status: 0, message: T.unavailable};
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (json) {
        if (!response.ok) { throw {status: response.status, message: json.message}; }
        return json;
      });
    });
  }

  var socket = null, failures = 0, retry = null, pollTimer = null;
  function connect() {
    if (!state.token || !window.WebSocket) { startPolling(); return; }
    var url = BASE.replace(/^http/, "ws") + "/ws/chat/visitor/" + encodeURIComponent(state.token) + "/?after=" + state.last;
    try { socket = new WebSocket(url); } catch (e) { socket = null; scheduleReconnect(); return; }
    socket.onopen = function () {
      failures = 0; stopPolling(); statusLine.hidden = statusLine.textContent !== T.offline;
      flushPending();
      signal({type: "page", url: location.href.slice(0, 500), title: document.title.slice(0, 200)});
    };
    socket.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame.type === "message") { render(frame.message); }
      else if (frame.type === "ack") { delete state.pending[frame.client_id]; save(); }
      else if (frame.type === "typing") { showTyping(frame.typing); }
      else if (frame.type === "status" || frame.type === "hello") { chatStatus(frame.status); }
      else if (frame.type === "error") {
        if (frame.client_id) { delete state.pending[frame.client_id]; save(); }
        showError(frame);
      }
    };
    socket.onclose = function (event) {
      socket = null;
      if (event.code === 4403) { forget(); return; }
      // 4503: the server's live updates are down (Redis): poll now, not after 3 failures.
      if (event.code === 4503) { startPolling(); }
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    failures += 1;
    if (failures >= 3) { startPolling(); statusLine.textContent = T.reconnecting; statusLine.hidden = false; }
    clearTimeout(retry);
    retry = setTimeout(connect, Math.min(30000, 1000 * Math.pow(2, Math.min(failures, 5))));
  }

  function startPolling() {
    if (pollTimer || !state.token) { return; }
    pollTimer = setInterval(poll, 3000);
    poll();
  }

  function stopPolling() { clearInterval(pollTimer); pollTimer = null; }

  function poll() {
    if (!state.token) { return Promise.resolve(); }
    return api("GET", "/chat/api/" + state.token + "/messages?after=" + state.last).then(function (data) {
      data.messages.forEach(render);
      showTyping(Boolean(data.typing));
      chatStatus(data.status);
      showOnline(data);
    }).catch(function (err) { if (err && err.status === 404) { forget(); } });
  }

  var again = null;
  function chatStatus(status) {
    if (status !== "terminee" || again) { return; }
    compose.hidden = true;
    again = el("button", {"class": "main", "type": "button"}, T.again);
    again.addEventListener("click", function () {
      again.remove(); again = null;
      forget();
      body.querySelector("input").focus();
    });
    body.appendChild(again);
  }

  function forget() {
    stopPolling();
    clearTimeout(retry);
    if (socket) { socket.onclose = null; socket.close(); socket = null; }
    state = {pending: {}, last: 0}; save();
    log.textContent = "";
    seen = {};
    preForm();
  }

  function startChat(quiet) {
    body.textContent = "";
    body.appendChild(log);
    compose.hidden = false;
    connect();
    if (!quiet) { input.focus(); }
  }

  // --- Opening and closing -------------------------------------------------------------------
  function open() {
    panel.hidden = false;
    launch.setAttribute("aria-expanded", "true");
    if (state.token) {
      if (!log.isConnected) { startChat(); } else { input.focus(); }
    } else {
      preForm().focus();
    }
  }

  function shut() {
    panel.hidden = true;
    launch.setAttribute("aria-expanded", "false");
    launch.focus();
  }

  launch.addEventListener("click", function () { if (panel.hidden) { open(); } else { shut(); } });
  close.addEventListener("click", shut);
  panel.addEventListener("keydown", function (event) { if (event.key === "Escape") { shut(); } });

  function mount() {
    document.body.appendChild(host);
    if (state.token) { startChat(true); }
  }
  if (document.body) { mount(); } else { document.addEventListener("DOMContentLoaded", mount); }
})(/*CONFIG*/{});
