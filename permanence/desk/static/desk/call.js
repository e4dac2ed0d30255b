// The call screen: show the questions of the chosen motif, the « Appelez le 15 / 112 »
// guidance as soon as an emergency answer is chosen. Everything also works without it
// (the server validates and shows the same things after « Enregistrer »).
(function () {
  "use strict";
  function motifs() {
    var chosen = document.querySelector("input[name=motif]:checked");
    document.querySelectorAll("[data-motif-questions]").forEach(function (box) {
      box.hidden = !chosen || box.getAttribute("data-motif-questions") !== chosen.value;
    });
  }
  function triage() {
    var urgent = false;
    document.querySelectorAll("[data-triage]").forEach(function (item) {
      var picked = item.querySelector("input[type=radio]:checked");
      var alarm = !!picked && picked.value === item.getAttribute("data-emergency");
      var box = item.querySelector("[data-triage-alert]");
      if (box) { box.hidden = !alarm; }
      urgent = urgent || alarm;
    });
    if (urgent) {
      var radio = document.querySelector("input[name=urgency][value=urgent]");
      if (radio) { radio.checked = true; }
    }
  }
  document.addEventListener("change", function (event) {
    var t = event.target;
    if (t.name === "motif") { motifs(); }
    if (t.closest && t.closest("[data-triage]")) { triage(); }
  });
  document.addEventListener("DOMContentLoaded", function () { motifs(); triage(); });
})();
