// Alert rule form: show only the fields of the chosen kind (the form works without this).
(function () {
  "use strict";
  var kind = document.getElementById("r-kind");
  if (!kind) { return; }
  function show() {
    document.querySelectorAll(".kind-fields").forEach(function (block) {
      block.hidden = block.getAttribute("data-kind") !== kind.value;
    });
  }
  kind.addEventListener("change", show);
  show();
})();
