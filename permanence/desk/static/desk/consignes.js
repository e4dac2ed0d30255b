// Consignes form: « Ajouter » clones the formset's blank row in place (without JavaScript the
// button submits and the page comes back with one more row); a ticked « Supprimer » dims it.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[name=add][data-section]");
    if (!button) return;
    var section = button.getAttribute("data-section");
    var template = document.getElementById(section + "-empty");
    var rows = document.getElementById(section + "-rows");
    var total = document.getElementById("id_" + section + "-TOTAL_FORMS");
    if (!template || !rows || !total) return;
    event.preventDefault();
    var index = parseInt(total.value, 10) || 0;
    var holder = document.createElement("div");
    holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index)).replace(/__num__/g, String(index + 1));
    var row = holder.firstElementChild;
    rows.appendChild(row);
    total.value = String(index + 1);
    var first = row.querySelector("input:not([type=hidden]), select, textarea");
    if (first) first.focus();
  });
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches(".cs-delete input[type=checkbox]")) return;
    var row = box.closest(".cs-row");
    if (row) row.classList.toggle("cs-deleted", box.checked);
  });
})();
