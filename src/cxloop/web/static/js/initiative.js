// Draws the Check of an initiative: a bar per group (before, after, comparison) with
// its 95 % margin as an error bar, from <script type="application/json" id="check-data">.
// The same numbers are in the table beside it.
(function () {
  "use strict";
  var chart = null;

  function errorBar(params, api) {
    var x = api.value(0);
    var low = api.coord([x, api.value(1)]);
    var high = api.coord([x, api.value(2)]);
    var half = api.size([1, 0])[0] * 0.1;
    var style = { stroke: "#1d2430", lineWidth: 1.5 };
    return {
      type: "group",
      children: [
        { type: "line", shape: { x1: low[0], y1: low[1], x2: high[0], y2: high[1] }, style: style },
        { type: "line", shape: { x1: low[0] - half, y1: low[1], x2: low[0] + half, y2: low[1] }, style: style },
        { type: "line", shape: { x1: high[0] - half, y1: high[1], x2: high[0] + half, y2: high[1] }, style: style },
      ],
    };
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
      tooltip: { trigger: "axis" },
      grid: { left: 48, right: 16, top: 24, bottom: 48 },
      xAxis: { type: "category", data: data.labels, axisLabel: { interval: 0, width: 110, overflow: "break" } },
      yAxis: { type: "value", name: data.name },
      series: [
        { name: data.name, type: "bar", data: data.values, barMaxWidth: 56 },
        {
          type: "custom", name: "95 %", renderItem: errorBar, z: 10, tooltip: { show: false },
          data: data.values.map(function (_, i) { return [i, data.low[i], data.high[i]]; }),
        },
      ],
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
  window.addEventListener("resize", function () { if (chart) { chart.resize(); } });
})();
