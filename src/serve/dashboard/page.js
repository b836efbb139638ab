/* nattel usage dashboard: draws the charts (inline SVG) from the data the
 * page carries, and, in a page written to a file, applies the filters of
 * its URL to that data and redraws the tables. Stored strings only ever
 * reach the page through textContent and setAttribute of fixed names. */
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var PALETTE = ["#2f6fde", "#e8743b", "#19a979", "#945ecf", "#13a4b4",
                 "#d8487f", "#8a9a5b", "#b8860b"];
  var OUTCOME = {success: "#19a979", failure: "#d9453d",
                 interrupted: "#e8a33b", other: "#9aa5b5"};
  var holder = document.getElementById("nattel-data");
  if (!holder) return;
  var wrapped = JSON.parse(holder.textContent);
  var data = wrapped.data;

  function el(name, attrs, text) {
    var e = document.createElementNS(SVG, name);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function html(name, text, cls) {
    var e = document.createElement(name);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  function pct(f, n) { return (n ? 100 * f / n : 0).toFixed(1) + "%"; }
  function fmt(v) { return v === null || v === undefined ? "-" : String(v); }
  function chartOf(id) {
    var c = document.querySelector("#" + id + " .chart");
    while (c.firstChild) c.removeChild(c.firstChild);
    return c;
  }
  function legend(box, entries) {
    var l = html("div", undefined, "legend");
    entries.forEach(function (e) {
      var s = html("span");
      var i = html("i");
      i.style.background = e.color;
      s.appendChild(i);
      s.appendChild(document.createTextNode(e.label));
      l.appendChild(s);
    });
    box.appendChild(l);
  }
  function short(s, n) { return s.length > n ? s.slice(0, n - 1) + "\u2026" : s; }

  /* Horizontal bars: rows of {label, parts: [{v, color}], note}. */
  function hbars(box, rows, title) {
    if (!rows.length) { box.appendChild(html("p", "no events")); return; }
    var lw = 150, bw = 280, rh = 20, w = lw + bw + 250;
    var h = rows.length * rh + 22;
    var max = 1;
    rows.forEach(function (r) {
      var t = r.parts.reduce(function (a, p) { return a + p.v; }, 0);
      if (t > max) max = t;
    });
    var svg = el("svg", {viewBox: "0 0 " + w + " " + h, width: w, height: h,
                         role: "img"});
    svg.appendChild(el("title", {}, title));
    svg.appendChild(el("text", {x: 0, y: 13, "font-weight": "bold"}, title));
    rows.forEach(function (r, i) {
      var y = 20 + i * rh, x = lw;
      var label = el("text", {x: lw - 6, y: y + 13, "text-anchor": "end"},
                     short(r.label, 22));
      label.appendChild(el("title", {}, r.label));
      svg.appendChild(label);
      r.parts.forEach(function (p) {
        var len = p.v / max * bw;
        if (len > 0) svg.appendChild(el("rect", {x: x, y: y + 3, width: len,
                                                 height: rh - 6, fill: p.color}));
        x += len;
      });
      svg.appendChild(el("text", {x: x + 5, y: y + 13}, r.note));
    });
    box.appendChild(svg);
  }

  /* Events over time: a column per bucket, stacked by command. */
  function columns(box, series) {
    if (!series.length) { box.appendChild(html("p", "no events")); return; }
    var buckets = [], byBucket = {}, totals = {};
    series.forEach(function (s) {
      if (!(s.bucket in byBucket)) { byBucket[s.bucket] = {}; buckets.push(s.bucket); }
      byBucket[s.bucket][s.command] = (byBucket[s.bucket][s.command] || 0) + s.count;
      totals[s.command] = (totals[s.command] || 0) + s.count;
    });
    buckets.sort();
    var cmds = Object.keys(totals).sort(function (a, b) {
      return totals[b] - totals[a] || (a < b ? -1 : 1);
    });
    var shown = cmds.slice(0, PALETTE.length - 1);
    var colorOf = function (c) {
      var i = shown.indexOf(c);
      return i < 0 ? PALETTE[PALETTE.length - 1] : PALETTE[i];
    };
    var entries = shown.map(function (c) { return {label: c, color: colorOf(c)}; });
    if (cmds.length > shown.length)
      entries.push({label: "other commands", color: PALETTE[PALETTE.length - 1]});
    legend(box, entries);
    var w = 1100, h = 240, left = 50, bottom = 40, top = 10;
    var max = 1;
    buckets.forEach(function (b) {
      var t = 0;
      for (var c in byBucket[b]) t += byBucket[b][c];
      if (t > max) max = t;
    });
    var svg = el("svg", {viewBox: "0 0 " + w + " " + h, width: w, height: h, role: "img"});
    svg.appendChild(el("title", {}, "events over time by command"));
    var ph = h - bottom - top, pw = w - left - 10;
    var step = pw / buckets.length, bw = Math.max(1, step * 0.8);
    svg.appendChild(el("line", {x1: left, y1: top + ph, x2: w - 10, y2: top + ph, "class": "axis"}));
    svg.appendChild(el("line", {x1: left, y1: top, x2: left, y2: top + ph, "class": "axis"}));
    [0, 0.5, 1].forEach(function (f) {
      var v = Math.round(max * f);
      svg.appendChild(el("text", {x: left - 4, y: top + ph - ph * v / max + 4,
                                  "text-anchor": "end"}, String(v)));
    });
    var every = Math.max(1, Math.ceil(buckets.length / 8));
    buckets.forEach(function (b, i) {
      var x = left + i * step + (step - bw) / 2, y = top + ph;
      var total = 0;
      cmds.slice().reverse().forEach(function (c) {
        var v = byBucket[b][c] || 0;
        if (!v) return;
        var hh = ph * v / max;
        y -= hh;
        total += v;
        var r = el("rect", {x: x, y: y, width: bw, height: hh, fill: colorOf(c)});
        r.appendChild(el("title", {}, b + " " + c + ": " + v));
        svg.appendChild(r);
      });
      if (i % every === 0 || i === buckets.length - 1)
        svg.appendChild(el("text", {x: x + bw / 2, y: top + ph + 16,
                                    "text-anchor": "middle"}, b.replace("T", " ") +
                                    (b.length === 13 ? "h" : "")));
    });
    box.appendChild(svg);
  }

  function sums(list, key) {
    var m = {}, order = [];
    list.forEach(function (it) {
      if (!(it[key] in m)) { m[it[key]] = 0; order.push(it[key]); }
      m[it[key]] += it.count;
    });
    return order.map(function (k) { return {key: k, count: m[k]}; })
      .sort(function (a, b) { return b.count - a.count || (a.key < b.key ? -1 : 1); })
      .slice(0, 12);
  }

  function draw(d) {
    columns(chartOf("series"), d.series);
    var c = chartOf("commands");
    hbars(c, d.commands.map(function (r) {
      return {label: r.command, note: r.count + " (" + pct(r.failure, r.count) + " failed)",
              parts: [{v: r.count - r.failure, color: PALETTE[0]},
                      {v: r.failure, color: OUTCOME.failure}]};
    }), "events per command; red: failures");
    hbars(c, d.commands.filter(function (r) { return r.p99DurationMs !== null; })
      .map(function (r) {
        var p50 = r.p50DurationMs, p95 = r.p95DurationMs, p99 = r.p99DurationMs;
        return {label: r.command, note: "p50 " + p50 + " / p95 " + p95 + " / p99 " + p99 + " ms",
                parts: [{v: p50, color: "#2f6fde"}, {v: p95 - p50, color: "#7fa6ea"},
                        {v: p99 - p95, color: "#c9d8f5"}]};
      }), "duration per command: p50 | p95 | p99 (ms)");
    var o = chartOf("outcomes");
    legend(o, ["success", "failure", "interrupted", "other"].map(function (k) {
      return {label: k, color: OUTCOME[k]};
    }));
    hbars(o, d.outcomes.map(function (r) {
      return {label: r.command + (r.subcommand ? " " + r.subcommand : ""),
              note: r.count + " (" + pct(r.failure, r.count) + " failed)",
              parts: ["success", "failure", "interrupted", "other"].map(function (k) {
                return {v: r[k], color: OUTCOME[k]};
              })};
    }), "outcomes per command and subcommand");
    [["errors", d.errorClasses, "errorClass", "#d9453d"],
     ["versions", d.clientVersions, "clientVersion", "#945ecf"],
     ["archs", d.cpuArchitectures, "cpuArchitecture", "#13a4b4"]].forEach(function (s) {
      hbars(chartOf(s[0]), sums(s[1], s[2]).map(function (r) {
        return {label: r.key, note: String(r.count), parts: [{v: r.count, color: s[3]}]};
      }), "events");
    });
    hbars(chartOf("types"), d.eventTypes.map(function (r) {
      return {label: r.event + " " + r.schemaVersion, note: String(r.count),
              parts: [{v: r.count, color: "#8a9a5b"}]};
    }), "events per type and schema version");
  }

  /* ---- a page written to a file: the filters of its URL, applied here ---- */
  function fill(id, rows) {
    var body = document.querySelector("#t-" + id + " tbody");
    while (body.firstChild) body.removeChild(body.firstChild);
    rows.forEach(function (cells) {
      var tr = html("tr");
      cells.forEach(function (c) {
        tr.appendChild(typeof c === "number" || c === "-" || /%$/.test(c)
                       ? html("td", String(c), "n") : html("td", c));
      });
      body.appendChild(tr);
    });
  }
  function tables(d) {
    fill("series", d.series.map(function (s) { return [s.bucket, s.command, s.count]; }));
    fill("commands", d.commands.map(function (r) {
      return [r.command, r.count, r.success, r.failure, r.interrupted,
              pct(r.failure, r.count), fmt(r.p50DurationMs), fmt(r.p95DurationMs),
              fmt(r.p99DurationMs)];
    }));
    fill("outcomes", d.outcomes.map(function (r) {
      return [r.command, r.subcommand, r.count, r.success, r.failure, r.interrupted,
              r.other, pct(r.failure, r.count)];
    }));
    fill("errors", sums(d.errorClasses, "errorClass").map(function (r) { return [r.key, r.count]; }));
    fill("versions", sums(d.clientVersions, "clientVersion").map(function (r) { return [r.key, r.count]; }));
    fill("archs", sums(d.cpuArchitectures, "cpuArchitecture").map(function (r) { return [r.key, r.count]; }));
  }
  function inRange(bucket, from, to) {
    return (!from || bucket >= from.slice(0, bucket.length)) &&
           (!to || bucket <= to.slice(0, bucket.length));
  }
  function applyUrl(d) {
    var q = new URLSearchParams(location.search);
    var cmd = q.get("command") || "", from = q.get("from") || "", to = q.get("to") || "";
    var form = document.getElementById("filter");
    form.elements.command.value = cmd;
    form.elements.from.value = from;
    form.elements.to.value = to;
    var keep = function (r) { return !cmd || r.command === cmd; };
    var out = {
      commands: d.commands.filter(keep), outcomes: d.outcomes.filter(keep),
      series: d.series.filter(function (s) { return keep(s) && inRange(s.bucket, from, to); }),
      errorClasses: d.errorClasses.filter(keep), clientVersions: d.clientVersions.filter(keep),
      cpuArchitectures: d.cpuArchitectures.filter(keep), eventTypes: d.eventTypes
    };
    var total = out.commands.reduce(function (a, r) { return a + r.count; }, 0);
    document.getElementById("summary").textContent =
      total + " command events" + (cmd ? " of " + cmd : "") + " (written to a file)";
    if (from || to) {
      var note = document.getElementById("file-note");
      note.hidden = false;
      note.textContent = "In this file the time range narrows the chart and table of " +
        "events over time; the other figures cover what the file was written with.";
    }
    tables(out);
    return out;
  }

  draw(wrapped.mode === "file" ? applyUrl(data) : data);
})();
