// Form builder enhancement: shows only the fields that fit each question's type (scale
// for ratings, choices for choice questions). Without JavaScript every field shows and
// the server ignores the ones that do not apply.
(function () {
  "use strict";

  function fit(row) {
    var select = row.querySelector("select.question-type");
    if (!select) { return; }
    row.setAttribute("data-kind", select.value);
    row.querySelectorAll("[data-show-for]").forEach(function (part) {
      var kinds = part.getAttribute("data-show-for").split(" ");
      part.hidden = kinds.indexOf(select.value) < 0;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".question-row").forEach(function (row) {
      fit(row);
      var select = row.querySelector("select.question-type");
      if (select) { select.addEventListener("change", function () { fit(row); }); }
    });
  });
})();
