// The live dashboard. Samples arrive as Server-Sent Events ("reset" then "sample"s); the browser's
// EventSource reconnects by itself and sends Last-Event-ID, so the server replays only what was missed.
(function () {
  "use strict";
  var COLOR = { blue: "#0072B2", orange: "#E69F00", vermilion: "#D55E00", green: "#009E73", purple: "#CC79A7", grey: "#555555" };
  var CHART_HEIGHT = 290, MAX_POINTS = 3600, MAX_EVENTS = 200, RETRY_MS = 3000;
  var AXIS_FONT = "16px system-ui, sans-serif", LABEL_FONT = "bold 17px system-ui, sans-serif";

  var data, t0, lastSeq, latest, eventCount, resets = 0, renderPending = false;
  var charts = {};
  var el = function (id) { return document.getElementById(id); };

  function clear() {
    data = { x: [], current: [], desired: [], min: [], max: [], cpu: [], target: [], rps: [], p50: [], p99: [] };
    t0 = null; lastSeq = 0; latest = null; eventCount = 0;
    el("events").textContent = "";
    el("no-events").hidden = false;
    el("pods").textContent = "";
  }

  // ---- charts ----

  function axis(label, extra) {
    var a = { label: label, font: AXIS_FONT, labelFont: LABEL_FONT, labelSize: 30, stroke: "#1a1a1a",
      grid: { stroke: "#dddddd", width: 1 }, ticks: { stroke: "#999999" } };
    for (var k in extra) a[k] = extra[k];
    return a;
  }
  var timeAxis = function () { return axis("time since start, s", { size: 44 }); };
  var stepped = uPlot.paths.stepped({ align: 1 });

  var CHARTS = {
    replicas: {
      element: "replicas-chart",
      series: [
        { label: "current", stroke: COLOR.blue, width: 4, paths: stepped },
        { label: "desired", stroke: COLOR.orange, width: 3, dash: [10, 6], paths: stepped },
        { label: "min", stroke: COLOR.grey, width: 2, dash: [2, 6] },
        { label: "max", stroke: COLOR.grey, width: 2, dash: [2, 6] }
      ],
      columns: ["current", "desired", "min", "max"],
      scales: { y: { range: function (u, lo, hi) { return [0, Math.max(1, hi) + 1]; } } },
      axes: [timeAxis(), axis("replicas", { incrs: [1, 2, 5, 10, 20, 50], space: 24 })]
    },
    cpu: {
      element: "cpu-chart",
      series: [
        { label: "average CPU", stroke: COLOR.vermilion, width: 4, spanGaps: false },
        { label: "target", stroke: COLOR.green, width: 3, dash: [10, 6] }
      ],
      columns: ["cpu", "target"],
      scales: { y: { range: function (u, lo, hi) { return [0, Math.max(100, (hi || 0) * 1.1)]; } } },
      axes: [timeAxis(), axis("CPU, % of request")]
    },
    load: {
      element: "load-chart",
      series: [
        { label: "load, requests/s", stroke: COLOR.blue, width: 4, scale: "rps" },
        { label: "p50 latency, ms", stroke: COLOR.orange, width: 3, dash: [3, 4], scale: "ms" },
        { label: "p99 latency, ms", stroke: COLOR.vermilion, width: 3, dash: [10, 6], scale: "ms" }
      ],
      columns: ["rps", "p50", "p99"],
      scales: { rps: { range: function (u, lo, hi) { return [0, Math.max(1, (hi || 0) * 1.1)]; } },
                ms: { range: function (u, lo, hi) { return [0, Math.max(10, (hi || 0) * 1.1)]; } } },
      axes: [timeAxis(), axis("requests/s", { scale: "rps" }),
             axis("latency, ms", { scale: "ms", side: 1, grid: { show: false }, size: 60 })]
    }
  };

  function chartData(spec) {
    return [data.x].concat(spec.columns.map(function (c) { return data[c]; }));
  }

  function makeChart(name) {
    var spec = CHARTS[name], box = el(spec.element);
    var opts = {
      width: Math.max(300, box.clientWidth), height: CHART_HEIGHT,
      // the legend's markers repeat each line's style, so the series differ by more than colour
      legend: { live: false, markers: { width: 3, dash: function (u, i) { var d = u.series[i].dash; return !d ? "solid" : d[0] <= 2 ? "dotted" : "dashed"; } } },
      cursor: { show: true, drag: { x: false, y: false } },
      scales: Object.assign({ x: { time: false } }, spec.scales),
      series: [{ label: "time since start, s" }].concat(spec.series.map(function (s) { return Object.assign({ points: { show: false } }, s); })),
      axes: spec.axes
    };
    charts[name] = new uPlot(opts, chartData(spec), box);
    new ResizeObserver(function () { charts[name].setSize({ width: Math.max(300, box.clientWidth), height: CHART_HEIGHT }); }).observe(box);
  }

  // ---- one sample ----

  function accept(sample) {
    if (sample.seq <= lastSeq) return; // already shown (a replay after a reconnect)
    lastSeq = sample.seq;
    if (t0 === null) t0 = sample.epochMs;
    data.x.push((sample.epochMs - t0) / 1000);
    data.current.push(sample.currentReplicas);
    data.desired.push(sample.desiredReplicas);
    data.min.push(sample.minReplicas);
    data.max.push(sample.maxReplicas);
    data.cpu.push(sample.cpuCurrent);
    data.target.push(sample.cpuTarget);
    data.rps.push(sample.loadRps);
    data.p50.push(sample.p50Ms);
    data.p99.push(sample.p99Ms);
    if (data.x.length > MAX_POINTS) for (var k in data) data[k].shift();
    sample.events.forEach(function (text) { addEvent(sample, text); });
    latest = sample;
    scheduleRender();
  }

  function addEvent(sample, text) {
    var item = document.createElement("li"), when = document.createElement("time");
    when.dateTime = sample.time;
    when.textContent = "t=" + Math.round((sample.epochMs - t0) / 1000) + " s";
    when.title = new Date(sample.epochMs).toLocaleTimeString();
    item.appendChild(when);
    item.appendChild(document.createTextNode(text));
    var list = el("events");
    list.insertBefore(item, list.firstChild);
    while (list.children.length > MAX_EVENTS) list.removeChild(list.lastChild);
    el("no-events").hidden = true;
    eventCount++;
    list.dataset.count = String(eventCount);
  }

  function scheduleRender() {
    if (renderPending) return;
    renderPending = true;
    setTimeout(render, 30); // a burst (the history) is drawn once
  }

  function render() {
    renderPending = false;
    Object.keys(CHARTS).forEach(function (name) {
      charts[name].setData(chartData(CHARTS[name]));
      el(CHARTS[name].element).dataset.points = String(data.x.length);
    });
    if (latest) {
      renderNow(latest);
      renderPods(latest);
    }
    document.body.dataset.lastSeq = String(lastSeq);
  }

  function renderNow(s) {
    el("now-replicas").textContent = s.currentReplicas + " / " + s.desiredReplicas;
    var cpu = el("now-cpu");
    cpu.textContent = (s.cpuCurrent === null ? "unknown" : s.cpuCurrent + "%") + " / " + s.cpuTarget + "%";
    cpu.classList.toggle("over", s.cpuCurrent !== null && s.cpuCurrent > s.cpuTarget);
    el("now-load").textContent = s.loadRps === null ? "–" : s.loadRps.toFixed(1) + " req/s";
    el("now-p99").textContent = s.p99Ms === null ? "–" : Math.round(s.p99Ms) + " ms";
    el("now-decision").textContent = s.decisionReason === null ? "–" : s.decisionReason;
  }

  function renderPods(s) {
    var list = el("pods"), scaleMax = Math.max(100, s.cpuTarget * 2);
    s.pods.forEach(function (p) { if (p.cpuPercent !== null) scaleMax = Math.max(scaleMax, p.cpuPercent); });
    list.textContent = "";
    s.pods.forEach(function (p) {
      var item = document.createElement("li");
      item.className = "pod";
      item.dataset.state = p.state;
      var cpuText = p.cpuPercent === null ? "unknown" : p.cpuPercent + "%";
      item.setAttribute("aria-label", p.name + ": " + p.state + ", CPU " + cpuText + " of request" + (p.restartsText ? ", " + p.restartsText : "")
        + (p.throttledText ? ", " + p.throttledText : ""));
      var name = document.createElement("span");
      name.className = "pod-name"; name.textContent = p.name; name.title = p.name;
      if (p.restartsText) { // RESTARTS, in the words of the local table (KubeFacts.restartsText)
        var restarts = document.createElement("span");
        restarts.className = "restarts"; restarts.textContent = p.restartsText;
        name.appendChild(restarts);
      }
      if (p.throttledText) { // the throttled share of a Pod with a CPU limit (KubeFacts.throttledText), as the local table writes it
        var throttled = document.createElement("span");
        throttled.className = "throttled"; throttled.textContent = p.throttledText;
        name.appendChild(throttled);
      }
      var state = document.createElement("span");
      state.className = "state state-" + p.state; state.textContent = p.state;
      var bar = document.createElement("span");
      bar.className = "bar"; bar.setAttribute("aria-hidden", "true");
      var fill = document.createElement("span");
      fill.className = "bar-fill fill-" + p.state;
      fill.style.width = (p.cpuPercent === null ? 0 : 100 * p.cpuPercent / scaleMax) + "%";
      var target = document.createElement("span");
      target.className = "bar-target";
      target.style.left = (100 * s.cpuTarget / scaleMax) + "%";
      bar.appendChild(fill); bar.appendChild(target);
      var value = document.createElement("span");
      value.className = "pod-cpu"; value.textContent = cpuText;
      [name, state, bar, value].forEach(function (n) { item.appendChild(n); });
      list.appendChild(item);
    });
  }

  // ---- settings and explain ----

  function loadSettings() {
    fetch("api/settings").then(function (r) { return r.ok ? r.json() : null; }).then(function (settings) {
      var list = el("settings");
      list.textContent = "";
      if (!settings) { list.textContent = "not known yet"; return; }
      Object.keys(settings).forEach(function (key) {
        var dt = document.createElement("dt"), dd = document.createElement("dd"), value = settings[key];
        dt.textContent = key;
        if (value !== null && typeof value === "object") {
          var pre = document.createElement("pre");
          pre.textContent = JSON.stringify(value, null, 2);
          dd.appendChild(pre);
        } else {
          dd.textContent = String(value);
        }
        list.appendChild(dt); list.appendChild(dd);
      });
    }).catch(function () { /* the stream's status already says the server is away */ });
  }

  el("explain-button").addEventListener("click", function () {
    var out = el("explain");
    out.hidden = false;
    out.textContent = "asking the server…";
    fetch("api/explain").then(function (r) {
      return r.ok ? r.text() : r.json().then(function (p) { return p.title + ": " + p.detail; });
    }).then(function (text) { out.textContent = text; })
      .catch(function (e) { out.textContent = "the dashboard server cannot be reached: " + e; });
  });

  // ---- the stream ----

  function status(kind, text) {
    var s = el("connection");
    s.className = "connection " + kind;
    s.textContent = text;
  }

  function connect() {
    var source = new EventSource("events");
    source.addEventListener("reset", function () { // a new page, or a server that restarted: start over
      resets++;
      document.body.dataset.resets = String(resets);
      clear();
      loadSettings();
    });
    source.addEventListener("sample", function (e) { accept(JSON.parse(e.data)); });
    source.onopen = function () { status("live", "live"); };
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED) { // the browser gave up (e.g. a non-SSE answer): try again later
        status("reconnecting", "server unreachable, retrying…");
        setTimeout(connect, RETRY_MS);
      } else {
        status("reconnecting", "reconnecting…");
      }
    };
  }

  clear();
  Object.keys(CHARTS).forEach(makeChart);
  connect();
})();
