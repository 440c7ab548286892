// Draws the charts of the text page (topics x sentiment as stacked bars, the topic
// trend as lines) from the JSON the page carries in
// <script type="application/json" id="text-charts">; again after htmx swaps the page.
(function () {
  "use strict";
  var charts = [];
  var resizeTimer = null;
  var SENTIMENT_COLORS = {
    positive: "#2e8b57", neutral: "#9aa5b1", negative: "#c0392b", unrated: "#d9dee3",
  };

  function init(id) {
    var box = document.getElementById(id);
    if (!box || !window.echarts) { return null; }
    var chart = window.echarts.init(box, null, { renderer: "canvas" });
    charts.push(chart);
    return chart;
  }

  function drawTopics(data) {
    var chart = init("topics-chart");
    if (!chart) { return; }
    // Biggest topic on top: echarts draws a category axis from the bottom up.
    var labels = data.labels.slice().reverse();
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0 },
      grid: { left: 8, right: 24, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: labels },
      series: data.series.map(function (s) {
        return {
          name: s.name, type: "bar", stack: "texts", data: s.data.slice().reverse(),
          itemStyle: { color: SENTIMENT_COLORS[s.key] }, emphasis: { focus: "series" },
        };
      }),
    });
  }

  function drawTrend(data) {
    var chart = init("topic-trend-chart");
    if (!chart) { return; }
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { top: 0, type: "scroll" },
      grid: { left: 48, right: 24, top: 48, bottom: 32 },
      xAxis: { type: "category", data: data.labels },
      yAxis: { type: "value", minInterval: 1 },
      series: data.series.map(function (s) {
        return { name: s.name, type: "line", data: s.data, symbolSize: 6 };
      }),
    });
  }

  function sizeTopics(count) {
    var box = document.getElementById("topics-chart");
    if (box) { box.classList.add("rows-" + Math.min(Math.max(count, 1), 30)); }
  }

  function draw() {
    charts.forEach(function (chart) { chart.dispose(); });
    charts = [];
    var source = document.getElementById("text-charts");
    if (!source) { return; }
    var data = JSON.parse(source.textContent);
    sizeTopics(data.topics.labels.length);
    drawTopics(data.topics);
    drawTrend(data.trend);
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.body.addEventListener("htmx:afterSettle", draw);
  window.addEventListener("resize", function () {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(function () {
      charts.forEach(function (chart) { chart.resize(); });
    }, 150);
  });
})();
