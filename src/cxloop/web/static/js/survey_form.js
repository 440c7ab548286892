// Survey form, progressive enhancement only: the form works without this file.
// Shows a conditional follow-up only while its condition holds (the server applies
// the same rule and ignores answers to hidden questions), and moves focus to the
// error summary after a failed submit.
(function () {
  "use strict";
  var form = document.querySelector(".survey-form");
  if (!form) { return; }
  document.documentElement.classList.add("js");

  function chosen(name) {
    var values = [];
    var fields = form.querySelectorAll("[name]");
    for (var i = 0; i < fields.length; i++) {
      var field = fields[i];
      if (field.name !== name || field.disabled) { continue; }
      if ((field.type === "radio" || field.type === "checkbox") && !field.checked) { continue; }
      if (field.value.trim() !== "") { values.push(field.value.trim()); }
    }
    return values;
  }

  function holds(box) {
    var values = chosen(box.getAttribute("data-if-question"));
    if (!values.length) { return false; }
    var any = box.getAttribute("data-if-any");
    if (any !== null) {
      var wanted = any.split("\n");
      return values.some(function (v) { return wanted.indexOf(v) !== -1; });
    }
    var score = Number(values[0]);
    if (isNaN(score)) { return false; }
    var min = box.getAttribute("data-if-min");
    var max = box.getAttribute("data-if-max");
    return (min === null || score >= Number(min)) && (max === null || score <= Number(max));
  }

  function update() {
    var boxes = form.querySelectorAll("[data-if-question]");
    for (var i = 0; i < boxes.length; i++) {
      var show = holds(boxes[i]);
      boxes[i].hidden = !show;
      var inputs = boxes[i].querySelectorAll("input, textarea, select");
      for (var j = 0; j < inputs.length; j++) { inputs[j].disabled = !show; }
    }
  }

  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
