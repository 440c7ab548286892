// Draws the journey page's emotion curve and Sankey of paths from the JSON the page
// carries in <script type="application/json" id="journey-data">, and offers PNG and
// SVG downloads of the charts and of the map (no inline scripts: strict CSP).
(function () {
  "use strict";
  var charts = [];
  var words = {};

  function download(href, filename) {
    var link = document.createElement("a");
    link.href = href;
    link.download = filename;
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  function svgDataUrl(text) {
    return "data:image/svg+xml;charset=utf-8," + encodeURIComponent(text);
  }

  // Draw an SVG document on a canvas (twice its size, white background) and save a PNG.
  function svgToPng(text, width, height, filename) {
    var image = new Image();
    image.onload = function () {
      var canvas = document.createElement("canvas");
      canvas.width = width * 2;
      canvas.height = height * 2;
      var context = canvas.getContext("2d");
      context.fillStyle = "#ffffff";
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.scale(2, 2);
      context.drawImage(image, 0, 0, width, height);
      download(canvas.toDataURL("image/png"), filename);
    };
    image.src = svgDataUrl(text);
  }

  function addButtons(box, chart, name) {
    var bar = document.createElement("p");
    bar.className = "chart-exports";
    [["png", words.png], ["svg", words.svg]].forEach(function (pair) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "link-button";
      button.textContent = pair[1];
      button.addEventListener("click", function () {
        var text = chart.renderToSVGString();
        if (pair[0] === "svg") {
          download(svgDataUrl(text), name + ".svg");
        } else {
          svgToPng(text, box.clientWidth, box.clientHeight, name + ".png");
        }
      });
      bar.appendChild(button);
    });
    box.insertAdjacentElement("afterend", bar);
  }

  function drawCurve(data) {
    var box = document.getElementById("curve-chart");
    if (!box || !data.curve) { return; }
    var chart = window.echarts.init(box, null, { renderer: "svg" });
    var labels = data.curve.map(function (p) { return p.label; });
    var low = data.curve.map(function (p) { return p.low; });
    var band = data.curve.map(function (p) {
      return p.low === null || p.high === null ? null : Math.round((p.high - p.low) * 10) / 10;
    });
    chart.setOption({
      animation: false,
      color: ["#1f5fa8"],
      tooltip: { trigger: "axis" },
      grid: { left: 48, right: 24, top: 24, bottom: 32 },
      xAxis: { type: "category", data: labels, boundaryGap: false },
      yAxis: { type: "value", min: 0, max: 100, name: words.score },
      series: [
        { type: "line", data: low, stack: "ci", lineStyle: { opacity: 0 }, symbol: "none", tooltip: { show: false } },
        { type: "line", data: band, stack: "ci", lineStyle: { opacity: 0 }, symbol: "none",
          areaStyle: { color: "rgba(31, 95, 168, 0.15)" }, tooltip: { show: false } },
        { type: "line", name: words.score, data: data.curve.map(function (p) { return p.value; }),
          symbolSize: 8, connectNulls: true,
          markLine: data.mean === null ? undefined : {
            symbol: "none", lineStyle: { type: "dashed", color: "#888" },
            label: { position: "insideEndTop", formatter: words.mean + " {c}" }, data: [{ yAxis: data.mean }],
          } },
      ],
    });
    charts.push(chart);
    addButtons(box, chart, "emotion-curve");
  }

  function drawSankey(data) {
    var box = document.getElementById("sankey-chart");
    if (!box || !data.links) { return; }
    var names = data.names || {};
    var nodes = {};
    var links = data.links.map(function (link) {
      var source = link.step + "|" + link.source;
      var target = (link.step + 1) + "|" + link.target;
      nodes[source] = link.step - 1;
      nodes[target] = link.step;
      return { source: source, target: target, value: link.count };
    });
    var chart = window.echarts.init(box, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "item" },
      series: [{
        type: "sankey", left: 8, right: 120, top: 8, bottom: 8, nodeGap: 6,
        emphasis: { focus: "adjacency" },
        nodeAlign: "left",
        // Each node sits in the column of its step, whatever links it has.
        data: Object.keys(nodes).map(function (key) { return { name: key, depth: nodes[key] }; }),
        links: links,
        label: {
          // On a phone the names would overlap: the tooltip and the tables name them.
          show: box.clientWidth >= 600,
          formatter: function (p) {
            var key = p.name.slice(p.name.indexOf("|") + 1);
            return names[key] || key;
          },
        },
        lineStyle: { color: "source", opacity: 0.35 },
      }],
    });
    charts.push(chart);
    addButtons(box, chart, "paths");
  }

  function mapPng() {
    var link = document.getElementById("map-svg-link");
    var button = document.getElementById("map-png");
    if (!link || !button) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      fetch(link.href, { credentials: "same-origin" })
        .then(function (response) { return response.text(); })
        .then(function (text) {
          var size = /width="(\d+)" height="(\d+)"/.exec(text);
          svgToPng(text, Number(size[1]), Number(size[2]), "journey-map.png");
        });
    });
  }

  function draw() {
    var source = document.getElementById("journey-data");
    var labels = document.getElementById("journey-words");
    if (!source || !window.echarts) { return; }
    words = labels ? JSON.parse(labels.textContent) : {};
    var data = JSON.parse(source.textContent);
    drawCurve(data);
    drawSankey(data);
    mapPng();
  }

  document.addEventListener("DOMContentLoaded", draw);
  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
})();
