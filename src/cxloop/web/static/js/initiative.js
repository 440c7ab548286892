// Draws the Check of an initiative: a bar per group (before, after, comparison) with
// its 95 % margin as an error bar, from <script type="application/json" id="check-data">.
// The same numbers are in the table beside it. Error bars are short line series (the
// vendored common build of ECharts has no custom series).
(function () {
  "use strict";
  var chart = null;

  function errorBars(data) {
    return data.values.map(function (_, i) {
      return {
        type: "line", silent: true, z: 10, tooltip: { show: false },
        data: [[i, data.low[i]], [i, data.high[i]]],
        symbol: "rect", symbolSize: [16, 2],
        lineStyle: { color: "#1d2430", width: 1.5 }, itemStyle: { color: "#1d2430" },
      };
    });
  }

  function draw() {
    var box = document.getElementById("check-chart");
    var source = document.getElementById("check-data");
    if (chart) { chart.dispose(); chart = null; }
    if (!box || !source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    chart = window.echarts.init(box, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      color: ["#1f5fa8"],
      tooltip: { trigger: "item" },
      grid: { left: 48, right: 16, top: 24, bottom: 48 },
      xAxis: { type: "category", data: data.labels, axisLabel: { interval: 0, width: 110, overflow: "break" } },
      yAxis: { type: "value", name: data.name, scale: false },
      series: [{ name: data.name, type: "bar", data: data.values, barMaxWidth: 56 }]
        .concat(errorBars(data)),
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
  window.addEventListener("resize", function () { if (chart) { chart.resize(); } });
})();
