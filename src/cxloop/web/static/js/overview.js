// Draws the monthly trend chart of the overview from the JSON the page carries in
// <script type="application/json" id="trend-data">; again after htmx swaps the dashboard.
(function () {
  "use strict";
  var chart = null;
  var drawnWidth = 0;
  var resizeTimer = null;

  function draw() {
    var box = document.getElementById("trend-chart");
    var source = document.getElementById("trend-data");
    if (chart) { chart.dispose(); chart = null; }
    if (!box || !source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    chart = window.echarts.init(box, null, { renderer: "canvas" });
    drawnWidth = box.clientWidth;
    chart.setOption({
      animation: false,
      color: ["#1f5fa8", "#2e8b57", "#c0612b"],
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 48, right: 48, top: 64, bottom: 32 },
      xAxis: { type: "category", data: data.labels },
      yAxis: [
        { type: "value", name: data.axes[0], min: -100, max: 100 },
        { type: "value", name: data.axes[1], min: 1, max: 7, splitLine: { show: false } },
      ],
      series: data.series.map(function (s) {
        return {
          name: s.name, type: "line", yAxisIndex: s.axis, data: s.data,
          connectNulls: false, symbolSize: 6,
        };
      }),
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.body.addEventListener("htmx:afterSettle", draw);
  // Redraw only when the chart's width changes (a taller window needs nothing), and
  // only once the window has stopped changing size.
  window.addEventListener("resize", function () {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(function () {
      var box = document.getElementById("trend-chart");
      if (chart && box && box.clientWidth !== drawnWidth) {
        drawnWidth = box.clientWidth;
        chart.resize();
      }
    }, 150);
  });
})();
