// The case page: a reply template button puts its text into the reply box.
(function () {
  "use strict";
  var box = document.getElementById("r-body");
  if (!box) { return; }
  document.querySelectorAll("[data-template-body]").forEach(function (button) {
    button.addEventListener("click", function () {
      var text = button.getAttribute("data-template-body") || "";
      box.value = box.value.trim() ? box.value.replace(/\s+$/, "") + "\n\n" + text : text;
      box.focus();
    });
  });
})();
