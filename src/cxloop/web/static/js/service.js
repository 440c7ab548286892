// Draws the two charts of the service page (by period, by team/agent/channel) from the
// JSON the page carries in <script type="application/json"> elements. Animation off.
(function () {
  "use strict";
  var charts = [];
  var COLORS = ["#1f5fa8", "#2e8b57", "#c0612b", "#7a4ea3"];

  function draw(boxId, dataId) {
    var box = document.getElementById(boxId);
    var source = document.getElementById(dataId);
    if (!box || !source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    var chart = window.echarts.init(box, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      color: COLORS,
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 48, right: 24, top: 64, bottom: 32 },
      xAxis: { type: "category", data: data.labels },
      yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      series: data.series.map(function (s) {
        return { name: s.name, type: data.kind, data: s.data, connectNulls: false, symbolSize: 6 };
      }),
    });
    charts.push(chart);
  }

  document.addEventListener("DOMContentLoaded", function () {
    draw("service-trend-chart", "service-trend-data");
    draw("service-groups-chart", "service-groups-data");
  });
  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
})();
