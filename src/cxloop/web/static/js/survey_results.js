// Draws a survey's results from <script type="application/json" id="survey-charts">:
// a bar chart per question's answer distribution, the responses over time, and the
// SERVQUAL gaps with their 95 % intervals. Every number is also in a table on the page.
// Also shows the "Copy" buttons beside the public link and the embed snippet.
(function () {
  "use strict";
  var charts = [];

  function init(id) {
    var box = document.getElementById(id);
    if (!box || !window.echarts) { return null; }
    var chart = window.echarts.init(box, null, { renderer: "svg" });
    charts.push(chart);
    return chart;
  }

  function bars(id, labels, values) {
    var chart = init(id);
    if (!chart) { return; }
    chart.setOption({
      animation: false, color: ["#1f5fa8"], tooltip: { trigger: "axis" },
      grid: { left: 40, right: 12, top: 12, bottom: 40 },
      xAxis: { type: "category", data: labels, axisLabel: { interval: 0, width: 80, overflow: "truncate" } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", data: values, barMaxWidth: 40 }],
    });
  }

  function timeline(data) {
    var chart = init("timeline-chart");
    if (!chart) { return; }
    chart.setOption({
      animation: false, color: ["#1f5fa8", "#2e8b57"], tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 40, right: 12, top: 32, bottom: 32 },
      xAxis: { type: "category", data: data.timeline.labels },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: data.responses, type: "bar", data: data.timeline.responses, barMaxWidth: 24 },
        { name: data.complete, type: "line", data: data.timeline.complete },
      ],
    });
  }

  function servqual(gaps) {
    var chart = init("servqual-chart");
    if (!chart || !gaps) { return; }
    var errorBars = gaps.values.map(function (_, i) {
      return {
        type: "line", silent: true, z: 10, tooltip: { show: false },
        data: [[i, gaps.low[i]], [i, gaps.high[i]]], symbol: "rect", symbolSize: [14, 2],
        lineStyle: { color: "#1d2430", width: 1.5 }, itemStyle: { color: "#1d2430" },
      };
    });
    chart.setOption({
      animation: false, color: ["#b5452c"], tooltip: { trigger: "item" },
      grid: { left: 48, right: 12, top: 24, bottom: 40 },
      xAxis: { type: "category", data: gaps.labels, axisLabel: { interval: 0 } },
      yAxis: { type: "value", name: gaps.name },
      series: [{ name: gaps.name, type: "bar", data: gaps.values, barMaxWidth: 48 }].concat(errorBars),
    });
  }

  function copyButtons() {
    document.querySelectorAll("button.copy[data-copy]").forEach(function (button) {
      var field = document.getElementById(button.getAttribute("data-copy"));
      if (!field || !navigator.clipboard) { return; }
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(field.value).then(function () {
          button.classList.add("copied");
        });
      });
    });
  }

  function draw() {
    copyButtons();
    var source = document.getElementById("survey-charts");
    if (!source) { return; }
    var data = JSON.parse(source.textContent);
    data.questions.forEach(function (q) { bars(q.id, q.labels, q.counts); });
    timeline(data);
    servqual(data.servqual);
  }

  document.addEventListener("DOMContentLoaded", draw);
  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
})();
