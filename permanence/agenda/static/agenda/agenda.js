// Live agenda: the page listens on /ws/agenda/ for changes to the account it shows and
// reloads its grid (htmx, "agenda-changed" on body). Reconnects with a growing delay.
(function () {
  const grid = document.getElementById("agenda-grid");
  if (!grid || !window.WebSocket) return;
  const account = grid.dataset.liveAccount;
  let delay = 1000;
  function connect() {
    const proto = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(proto + location.host + "/ws/agenda/");
    socket.onopen = function () { delay = 1000; };
    socket.onmessage = function (event) {
      let data = {};
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (String(data.account) === String(account)) {
        document.body.dispatchEvent(new CustomEvent("agenda-changed"));
      }
    };
    socket.onclose = function () { setTimeout(connect, delay); delay = Math.min(delay * 2, 30000); };
  }
  connect();
})();
