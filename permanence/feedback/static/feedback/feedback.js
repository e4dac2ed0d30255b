// « Votre avis »: opens the form in a <dialog> and sends it without leaving the page. The
// link keeps working without JavaScript (the form on its own page).
(function () {
  "use strict";
  function setup(root) {
    var open = root.querySelector(".feedback-open");
    var dialog = root.querySelector("dialog");
    var form = root.querySelector("form");
    var status = root.querySelector(".feedback-status");
    if (!open || !dialog || !form || typeof dialog.showModal !== "function") return;
    open.addEventListener("click", function (event) {
      event.preventDefault();
      status.textContent = "";
      form.hidden = false;
      dialog.showModal();
    });
    root.querySelector("[data-feedback-close]").addEventListener("click", function () {
      dialog.close();
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      fetch(form.action, {
        method: "POST", body: new FormData(form), credentials: "same-origin",
        headers: {"Accept": "application/json"}
      }).then(function (response) {
        return response.json().then(function (data) { return {ok: response.ok, data: data}; });
      }).then(function (result) {
        if (result.ok) {
          status.textContent = result.data.message;
          form.reset();
          setTimeout(function () { dialog.close(); }, 1500);
        } else {
          var errors = result.data.errors || {};
          var first = Object.keys(errors)[0];
          status.textContent = result.data.error || (first ? errors[first][0] : "Erreur");
        }
      }).catch(function () {
        status.textContent = "Envoi impossible pour l'instant : réessayez.";
      }).then(function () { button.disabled = false; });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-feedback]").forEach(setup);
  });
})();
