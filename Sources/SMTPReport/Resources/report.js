// The report page's script (vanilla JS, no dependencies), embedded into smtp-inspect at build
// time. Two parts: ReportData, the one definition of the data layout that ReportDataEncoder
// writes and its reader (no DOM: the tests run it in node on the encoder's output), then the page
// itself, which reads #report-data, fills the filter menus, pages the session list and draws the
// selected session's ladder as SVG. The DOM holds one page of the list and one ladder at a time.

var ReportData = (function () {
  "use strict";
  // Every string is stored once in `strings`; the rows refer to it by index. Field types:
  // "s" a string index, "s?" the same or -1 for none, "n" a number, "n?" the same or -1 for none,
  // "b" 0 or 1, "[s]" a list of string indexes, "[step]" the steps, "[stripped]" stripped keywords.
  var LAYOUT = {
    top: ["strings", "rules:[s]", "anomalies:[s]", "sessions"],
    session: ["id:s", "client:s", "server:s", "source:s", "start:n", "duration:n", "endReason:s?", "tls:s?",
      "messages:n", "bytesFromClient:n", "bytesFromServer:n", "senders:[s]", "recipients:[s]", "rules:[s]",
      "anomalies:[s]", "replyClasses:n", "steps:[step]"],
    // A step is [kind, time, fields…]: kind is the position in this list, time is microseconds since
    // the session's start.
    steps: [
      ["command", "verb:s", "arg:s", "action:s", "rule:s?", "forwarded:s?"],
      ["reply", "code:n", "text:s", "for:s?", "local:b", "rules:[s]", "stripped:[stripped]"],
      ["message", "from:s", "to:[s]", "size:n", "result:n?", "subject:s?"],
      ["anomaly", "kind:s", "detail:s"],
      ["end", "reason:s", "tls:s?", "bytesFromClient:n", "bytesFromServer:n"],
      ["omitted", "count:n"]
    ],
    stripped: ["keyword:s", "rule:s?", "action:s?"]
  };

  function split(field) {
    var colon = field.indexOf(":");
    return { name: field.slice(0, colon), type: field.slice(colon + 1) };
  }
  // name → position in a row; `offset` skips leading positions (a step's kind and time).
  function fields(list, offset) {
    var out = {};
    list.forEach(function (field, i) { out[split(field).name] = i + (offset || 0); });
    return out;
  }
  var STEP = {}, STEP_FIELDS = {};
  LAYOUT.steps.forEach(function (kind, i) {
    STEP[kind[0]] = i;
    STEP_FIELDS[kind[0]] = fields(kind.slice(1), 2);
  });

  function fail(path, what, v) { throw new Error("report data: " + path + ": " + what + ", got " + JSON.stringify(v)); }
  function isInt(v) { return typeof v === "number" && Math.floor(v) === v; }
  function string(S, v, path) {
    if (!isInt(v) || v < 0 || v >= S.length) fail(path, "a string index below " + S.length, v);
    return S[v];
  }
  function list(v, path) {
    if (!Array.isArray(v)) fail(path, "a list", v);
    return v;
  }
  function value(S, type, v, path) {
    switch (type) {
      case "s": return string(S, v, path);
      case "s?": return v === -1 ? null : string(S, v, path);
      case "n": if (!isInt(v)) fail(path, "an integer", v); return v;
      case "n?": if (!isInt(v)) fail(path, "an integer", v); return v === -1 ? null : v;
      case "b": if (v !== 0 && v !== 1) fail(path, "0 or 1", v); return v === 1;
      case "[s]": return list(v, path).map(function (x, i) { return string(S, x, path + "[" + i + "]"); });
      case "[step]": return list(v, path).map(function (x, i) { return step(S, x, path + "[" + i + "]"); });
      case "[stripped]": return list(v, path).map(function (x, i) { return row(S, LAYOUT.stripped, x, 0, path + "[" + i + "]"); });
    }
    fail(path, "a known field type", type);
  }
  function row(S, layout, values, offset, path, into) {
    list(values, path);
    if (values.length !== layout.length + offset) fail(path, (layout.length + offset) + " fields", values.length);
    var out = into || {};
    layout.forEach(function (field, i) {
      var f = split(field);
      out[f.name] = value(S, f.type, values[i + offset], path + "." + f.name);
    });
    return out;
  }
  // One step as an object: {type: "command", time: …, verb: …, …}.
  function step(S, values, path) {
    path = path || "step";
    var kind = list(values, path)[0];
    if (!isInt(kind) || kind < 0 || kind >= LAYOUT.steps.length) fail(path, "a step kind", kind);
    var layout = LAYOUT.steps[kind];
    var out = { type: layout[0], time: values[1] };
    if (!isInt(values[1])) fail(path + ".time", "microseconds", values[1]);
    return row(S, layout.slice(1), values, 2, path, out);
  }
  // The whole data block as objects, every field checked against LAYOUT (throws on the first mismatch).
  function decode(raw) {
    var keys = Object.keys(raw).sort(), wanted = LAYOUT.top.map(function (f) { return f.split(":")[0]; }).sort();
    if (JSON.stringify(keys) !== JSON.stringify(wanted)) fail("top", "the keys " + wanted.join(","), keys);
    var S = list(raw.strings, "strings");
    S.forEach(function (v, i) { if (typeof v !== "string") fail("strings[" + i + "]", "a string", v); });
    return {
      rules: value(S, "[s]", raw.rules, "rules"),
      anomalies: value(S, "[s]", raw.anomalies, "anomalies"),
      sessions: list(raw.sessions, "sessions").map(function (r, i) { return row(S, LAYOUT.session, r, 0, "sessions[" + i + "]"); })
    };
  }
  return { LAYOUT: LAYOUT, STEP: STEP, STEP_FIELDS: STEP_FIELDS, SESSION: fields(LAYOUT.session), fields: fields, step: step, decode: decode };
})();
if (typeof module === "object" && module.exports) module.exports = ReportData;

if (typeof document === "object" && document.getElementById("report-data")) (function () {
  "use strict";
  var started = performance.now();
  var NS = "http://www.w3.org/2000/svg";
  var raw = JSON.parse(document.getElementById("report-data").textContent);
  var S = raw.strings, sessions = raw.sessions;
  // Positions of the session fields and the command step's action (ReportData.LAYOUT).
  var F = ReportData.SESSION;
  var ID = F.id, CLIENT = F.client, SERVER = F.server, SOURCE = F.source, START = F.start, DURATION = F.duration,
      REASON = F.endReason, TLS = F.tls, MESSAGES = F.messages, BYTES_C = F.bytesFromClient, BYTES_S = F.bytesFromServer,
      SENDERS = F.senders, RECIPIENTS = F.recipients, RULES = F.rules, ANOMALIES = F.anomalies, CLASSES = F.replyClasses,
      STEPS = F.steps;
  var COMMAND = ReportData.STEP.command, ACTION = ReportData.STEP_FIELDS.command.action;
  function decoded(st) { return ReportData.step(S, st); }
  var PAGE = 50, STEP_CAP = 400;
  var state = { matches: null, page: 0, selected: -1, stepCap: STEP_CAP };

  function str(i) { return i < 0 ? null : S[i]; }
  function $(id) { return document.getElementById(id); }
  function h(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) if (attrs[k] !== null && attrs[k] !== undefined) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function s(tag, attrs, text) {
    var e = document.createElementNS(NS, tag);
    if (attrs) for (var k in attrs) if (attrs[k] !== null && attrs[k] !== undefined) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function cut(text, n) { return text.length > n ? text.slice(0, n - 1) + "\u2026" : text; }
  function when(us) { return new Date(us / 1000).toISOString().replace("T", " ").replace("Z", ""); }
  function ms(us) { return (us / 1000).toFixed(us < 10000 ? 3 : 1) + " ms"; }
  function bytes(n) {
    var u = ["B", "kB", "MB", "GB"], i = 0;
    while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
    return (i ? n.toFixed(1) : n) + " " + u[i];
  }
  function hasAction(row, prefix) {
    var steps = row[STEPS];
    for (var i = 0; i < steps.length; i++) if (steps[i][0] === COMMAND && S[steps[i][ACTION]].indexOf(prefix) === 0) return true;
    return false;
  }

  // ---- Tabs ----
  function showTab(name) {
    var buttons = document.querySelectorAll(".tabs button");
    for (var i = 0; i < buttons.length; i++) buttons[i].classList.toggle("active", buttons[i].getAttribute("data-tab") === name);
    $("overview").hidden = name !== "overview";
    $("sessions").hidden = name !== "sessions";
  }
  document.querySelector(".tabs").addEventListener("click", function (ev) {
    var b = ev.target.closest("button[data-tab]");
    if (b) showTab(b.getAttribute("data-tab"));
  });

  // ---- Filters ----
  var f = { address: $("f-address"), sender: $("f-sender"), recipient: $("f-recipient"), rule: $("f-rule"), anomaly: $("f-anomaly"), cls: $("f-class") };
  raw.rules.forEach(function (i) { f.rule.appendChild(h("option", { value: S[i] }, S[i])); });
  raw.anomalies.forEach(function (i) { f.anomaly.appendChild(h("option", { value: S[i] }, S[i])); });

  function anyContains(list, needle) {
    for (var i = 0; i < list.length; i++) if (S[list[i]].toLowerCase().indexOf(needle) >= 0) return true;
    return false;
  }
  function anyEquals(list, value) {
    for (var i = 0; i < list.length; i++) if (S[list[i]] === value) return true;
    return false;
  }
  function filter() {
    var address = f.address.value.trim().toLowerCase(), sender = f.sender.value.trim().toLowerCase(),
        recipient = f.recipient.value.trim().toLowerCase(), rule = f.rule.value, anomaly = f.anomaly.value,
        cls = f.cls.value ? 1 << Number(f.cls.value) : 0;
    if (!address && !sender && !recipient && !rule && !anomaly && !cls) { state.matches = null; return; }
    var out = [];
    for (var i = 0; i < sessions.length; i++) {
      var r = sessions[i];
      if (address && S[r[CLIENT]].toLowerCase().indexOf(address) < 0 && S[r[SERVER]].toLowerCase().indexOf(address) < 0) continue;
      if (sender && !anyContains(r[SENDERS], sender)) continue;
      if (recipient && !anyContains(r[RECIPIENTS], recipient)) continue;
      if (rule && !anyEquals(r[RULES], rule)) continue;
      if (anomaly && !anyEquals(r[ANOMALIES], anomaly)) continue;
      if (cls && !(r[CLASSES] & cls)) continue;
      out.push(i);
    }
    state.matches = out;
  }
  var timer = 0;
  function refilter() {
    clearTimeout(timer);
    timer = setTimeout(function () { filter(); state.page = 0; renderList(true); }, 120);
  }
  ["address", "sender", "recipient"].forEach(function (k) { f[k].addEventListener("input", refilter); });
  ["rule", "anomaly", "cls"].forEach(function (k) { f[k].addEventListener("change", refilter); });
  $("f-clear").addEventListener("click", function () {
    f.address.value = f.sender.value = f.recipient.value = f.rule.value = f.anomaly.value = f.cls.value = "";
    refilter();
  });
  // A click on a chart bar (or Enter on it) searches for it.
  $("overview").addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && ev.target.closest("[data-filter]")) ev.target.closest("[data-filter]").dispatchEvent(new MouseEvent("click", { bubbles: true }));
  });
  $("overview").addEventListener("click", function (ev) {
    var g = ev.target.closest("[data-filter]");
    if (!g) return;
    var kind = g.getAttribute("data-filter"), value = g.getAttribute("data-value");
    f.address.value = f.sender.value = f.recipient.value = f.rule.value = f.anomaly.value = f.cls.value = "";
    var target = { address: f.address, sender: f.sender, recipient: f.recipient, rule: f.rule, anomaly: f.anomaly, "class": f.cls }[kind];
    if (!target) return;
    target.value = value;
    filter(); state.page = 0; renderList(true); showTab("sessions");
  });

  // ---- Session list (one page in the DOM) ----
  function count() { return state.matches ? state.matches.length : sessions.length; }
  function at(k) { return state.matches ? state.matches[k] : k; }
  function renderList(selectFirst) {
    var total = count(), pages = Math.max(1, Math.ceil(total / PAGE));
    state.page = Math.min(state.page, pages - 1);
    var body = document.querySelector("#session-list tbody");
    body.textContent = "";
    var first = state.page * PAGE, last = Math.min(total, first + PAGE);
    for (var k = first; k < last; k++) {
      var i = at(k), r = sessions[i];
      var tr = h("tr", { "data-index": i, "data-session": S[r[ID]], tabindex: "0", "class": i === state.selected ? "selected" : null });
      tr.appendChild(h("td", { "class": "mono", title: S[r[ID]] + "\n" + when(r[START]) }, S[r[ID]]));
      tr.appendChild(h("td", { "class": "mono", title: S[r[CLIENT]] }, S[r[CLIENT]]));
      var sender = r[SENDERS].length ? S[r[SENDERS][0]] + (r[SENDERS].length > 1 ? " +" + (r[SENDERS].length - 1) : "") : "";
      tr.appendChild(h("td", { title: sender }, sender));
      tr.appendChild(h("td", null, String(r[MESSAGES])));
      var flags = h("td");
      if (hasAction(r, "reject")) flags.appendChild(h("span", { "class": "flag rej", title: "a command was rejected" }, "\u2715"));
      if (hasAction(r, "rewrite")) flags.appendChild(h("span", { "class": "flag rw", title: "a command was rewritten" }, "\u270e"));
      if (r[ANOMALIES].length) flags.appendChild(h("span", { "class": "flag anom", title: "anomalies: " + r[ANOMALIES].map(str).join(", ") }, "\u2691" + r[ANOMALIES].length));
      if (r[REASON] < 0) flags.appendChild(h("span", { "class": "flag open", title: "no session-end in the input" }, "\u2026"));
      tr.appendChild(flags);
      body.appendChild(tr);
    }
    $("page-info").textContent = total ? (first + 1) + "\u2013" + last + " of " + total : "0 of 0";
    $("page-prev").disabled = state.page === 0;
    $("page-next").disabled = state.page >= pages - 1;
    $("list-status").textContent = state.matches ? total + " of " + sessions.length + " sessions match" : sessions.length + " sessions";
    if (selectFirst) select(total ? at(first) : -1);
  }
  $("page-prev").addEventListener("click", function () { state.page--; renderList(false); });
  $("page-next").addEventListener("click", function () { state.page++; renderList(false); });
  document.querySelector("#session-list tbody").addEventListener("click", function (ev) {
    var tr = ev.target.closest("tr[data-index]");
    if (tr) select(Number(tr.getAttribute("data-index")));
  });
  document.querySelector("#session-list tbody").addEventListener("keydown", function (ev) {
    var tr = ev.target.closest("tr[data-index]");
    if (!tr) return;
    if (ev.key === "Enter") select(Number(tr.getAttribute("data-index")));
    var next = ev.key === "ArrowDown" ? tr.nextElementSibling : ev.key === "ArrowUp" ? tr.previousElementSibling : null;
    if (next) { ev.preventDefault(); next.focus(); select(Number(next.getAttribute("data-index"))); }
  });

  function select(i) {
    state.selected = i;
    state.stepCap = STEP_CAP;
    var rows = document.querySelectorAll("#session-list tbody tr");
    for (var k = 0; k < rows.length; k++) rows[k].classList.toggle("selected", Number(rows[k].getAttribute("data-index")) === i);
    if (history.replaceState) history.replaceState(null, "", hashFor(i));
    renderDetail();
  }

  // ---- Session detail ----
  function renderDetail() {
    var pane = $("detail");
    pane.textContent = "";
    if (state.selected < 0) { pane.appendChild(h("p", { "class": "empty" }, "No session matches.")); return; }
    var r = sessions[state.selected];
    pane.setAttribute("data-session", S[r[ID]]);
    pane.appendChild(h("h2", null, S[r[ID]]));
    var meta = h("dl", { "class": "meta" });
    function row(k, v) { meta.appendChild(h("dt", null, k)); meta.appendChild(h("dd", null, v)); }
    row("Client \u2192 server", S[r[CLIENT]] + " \u2192 " + S[r[SERVER]]);
    if (S[r[SOURCE]]) row("Source", S[r[SOURCE]]);
    row("Start", when(r[START]) + " UTC \u00b7 " + ms(r[DURATION]));
    row("End", r[REASON] < 0 ? "not in the input (still open, or the log was cut)" : S[r[REASON]] + (r[TLS] >= 0 ? " \u00b7 TLS " + S[r[TLS]] : ""));
    row("Bytes", "client " + bytes(r[BYTES_C]) + " \u00b7 server " + bytes(r[BYTES_S]));
    if (r[RULES].length) row("Rules", r[RULES].map(str).join(", "));
    pane.appendChild(meta);
    var msgs = r[STEPS].map(decoded).filter(function (st) { return st.type === "message"; });
    if (msgs.length) {
      var t = h("table", { "class": "messages" });
      var head = h("tr");
      ["From", "To", "Size", "Result", "Subject"].forEach(function (x) { head.appendChild(h("th", null, x)); });
      t.appendChild(head);
      msgs.forEach(function (m) {
        var tr = h("tr");
        tr.appendChild(h("td", null, m.from || "<>"));
        tr.appendChild(h("td", null, m.to.join(", ")));
        tr.appendChild(h("td", null, bytes(m.size)));
        tr.appendChild(h("td", null, m.result === null ? "none" : String(m.result)));
        tr.appendChild(h("td", null, m.subject === null ? "" : m.subject));
        t.appendChild(tr);
      });
      pane.appendChild(t);
    }
    var wrap = h("div", { "class": "ladder-wrap" });
    wrap.appendChild(ladder(r));
    pane.appendChild(wrap);
    var steps = r[STEPS].length;
    if (steps > state.stepCap) {
      var more = h("button", { type: "button", "class": "more" }, "Show all " + steps + " steps");
      more.addEventListener("click", function () { state.stepCap = steps; renderDetail(); });
      pane.appendChild(more);
    }
  }

  // ---- Ladder diagram ----
  var W = 860, XC = 112, XP = 476, XS = 836, TOP = 62;
  function arrow(g, x1, x2, y) {
    g.appendChild(s("line", { "class": "shaft", x1: x1, y1: y, x2: x2 + (x2 > x1 ? -7 : 7), y2: y }));
    var d = x2 > x1 ? -8 : 8;
    g.appendChild(s("polygon", { "class": "head", points: x2 + "," + y + " " + (x2 + d) + "," + (y - 4.5) + " " + (x2 + d) + "," + (y + 4.5) }));
  }
  function label(g, x, y, text, n, cls) {
    var full = text;
    var t = s("text", { "class": cls || "label", x: x, y: y }, cut(full, n));
    if (full.length > n) t.appendChild(s("title", null, full));
    g.appendChild(t);
    return t;
  }
  function badge(g, x, y, text, kind) {
    var b = s("g", { "class": "badge b-" + kind });
    var w = Math.min(text.length, 44) * 6.1 + 10;
    b.appendChild(s("rect", { x: x, y: y - 11, width: w, height: 15 }));
    b.appendChild(s("text", { x: x + 5, y: y }, cut(text, 44)));
    g.appendChild(b);
  }
  function pass(g, y) { g.appendChild(s("circle", { "class": "pass", cx: XP, cy: y, r: 3.2 })); }

  function ladder(r) {
    var steps = r[STEPS], shown = Math.min(steps.length, state.stepCap);
    var svg = s("svg", { "class": "ladder", width: W, role: "img", "data-steps": steps.length });
    var body = s("g");
    var y = TOP + 14;
    for (var i = 0; i < shown; i++) y = step(body, steps[i], y);
    var height = y + 10;
    svg.setAttribute("height", height);
    svg.setAttribute("viewBox", "0 0 " + W + " " + height);
    [[XC, "client", S[r[CLIENT]]], [XP, "smtp-inspect", "proxy"], [XS, "server", S[r[SERVER]]]].forEach(function (a) {
      svg.appendChild(s("line", { "class": "lifeline", x1: a[0], y1: 40, x2: a[0], y2: height - 4 }));
      var g = s("g", { "class": "actor", "data-actor": a[1] });
      var w = 132;
      var x = Math.min(Math.max(a[0] - w / 2, 2), W - w - 2);
      g.appendChild(s("rect", { x: x, y: 4, width: w, height: 36, rx: 5 }));
      g.appendChild(s("text", { x: x + w / 2, y: 19, "text-anchor": "middle" }, a[1]));
      g.appendChild(s("text", { "class": "sub", x: x + w / 2, y: 33, "text-anchor": "middle" }, cut(a[2] || "", 22)));
      svg.appendChild(g);
    });
    svg.appendChild(body);
    return svg;
  }

  function timeLabel(g, t, y) { g.appendChild(s("text", { "class": "time", x: 4, y: y + 4 }, "+" + ms(t))); }

  function step(parent, row, y) {
    var st = decoded(row), kind = st.type, t = st.time, g;
    if (kind === "command") {
      var verb = st.verb, arg = st.arg, action = st.action, rule = st.rule, fwd = st.forwarded;
      var text = verb + (arg ? " " + arg : "");
      var stopped = action === "reject" || action === "disconnect";
      var rewritten = action === "rewrite" || fwd !== null;
      g = s("g", { "class": "step cmd" + (stopped ? " rejected" : ""), "data-kind": "command", "data-verb": verb, "data-action": action,
        "data-rule": rule, "data-from": "client", "data-to": stopped ? "proxy" : "server" });
      y += 6;
      timeLabel(g, t, y);
      label(g, XC + 8, y - 5, text, 48);
      if (stopped) {
        arrow(g, XC, XP - 6, y);
        g.appendChild(s("path", { "class": "stop", d: "M" + (XP - 6) + " " + (y - 6) + "l12 12m0 -12l-12 12" }));
        badge(g, XP + 12, y + 4, (action === "reject" ? "rejected by " : "disconnected by ") + (rule || "smtp-inspect"), action === "reject" ? "reject" : "disconnect");
      } else if (rewritten) {
        arrow(g, XC, XP, y);
        var f2 = s("g", { "class": "fwd", "data-forwarded": fwd || "" });
        arrow(f2, XP, XS, y);
        label(f2, XP + 8, y - 5, "\u21b3 " + (fwd || text), 48);
        g.appendChild(f2);
        badge(g, XP + 8, y + 17, "rewritten by " + (rule || "smtp-inspect"), "rewrite");
        y += 14;
      } else {
        arrow(g, XC, XS, y);
        pass(g, y);
        if (action.indexOf("would-") === 0) badge(g, XP + 10, y - 4, action + " \u00b7 " + (rule || ""), "would");
        else if (rule) badge(g, XP + 10, y - 4, "log \u00b7 " + rule, "log");
      }
      y += 24;
    } else if (kind === "reply") {
      var code = st.code, rtext = st.text, forVerb = st["for"], local = st.local, rules = st.rules, stripped = st.stripped;
      var cls = Math.floor(code / 100);
      var from = local ? "proxy" : "server";
      g = s("g", { "class": "step reply c" + (cls >= 2 && cls <= 5 ? cls : 0) + (local ? " local" : "") + (forVerb === null ? " unsolicited" : ""),
        "data-kind": "reply", "data-code": code, "data-for": forVerb, "data-local": local ? "true" : "false", "data-from": from, "data-to": "client" });
      y += 6;
      timeLabel(g, t, y);
      label(g, XC + 14, y - 5, code + " " + rtext + (forVerb === null ? "  (unsolicited)" : ""), 46);
      arrow(g, local ? XP : XS, XC, y);
      if (local) badge(g, XP + 12, y + 4, "reply made by smtp-inspect", "local");
      else pass(g, y);
      rules.forEach(function (name, n) { badge(g, XP + 12, y + 20 + n * 17, "log \u00b7 " + name, "log"); });
      if (rules.length) y += 17 * rules.length;
      if (stripped.length) {
        var line = s("text", { "class": "stripped", x: XP + 12, y: y + 18 });
        stripped.forEach(function (kw, n) {
          var span = s("tspan", { "class": "stripped-kw", "data-keyword": kw.keyword }, kw.keyword);
          if (n > 0) line.appendChild(s("tspan", null, " "));
          line.appendChild(span);
        });
        var rulesUsed = stripped.map(function (kw) { return kw.rule || "?"; }).filter(function (v, n, a) { return a.indexOf(v) === n; });
        line.appendChild(s("tspan", { "class": "stripped-note", dx: 8 }, (stripped[0].action === "would-strip" ? "would be stripped by " : "stripped by ") + rulesUsed.join(", ")));
        g.appendChild(line);
        y += 18;
      }
      y += 24;
    } else if (kind === "message") {
      var size = st.size;
      g = s("g", { "class": "step message", "data-kind": "message", "data-size": size, "data-from": "client", "data-to": "server" });
      y += 4;
      timeLabel(g, t, y + 6);
      g.appendChild(s("rect", { "class": "data-bar", x: XC, y: y - 4, width: XS - XC, height: 20, rx: 3 }));
      var who = (st.from || "<>") + " \u2192 " + (st.to.length === 1 ? st.to[0] : st.to.length + " recipients");
      label(g, XC + 10, y + 10, "message body \u00b7 " + bytes(size) + " \u00b7 " + who, 100, "data-text");
      y += 34;
    } else if (kind === "anomaly") {
      var akind = st.kind, detail = st.detail;
      g = s("g", { "class": "step anomaly", "data-kind": "anomaly", "data-anomaly": akind });
      y += 2;
      timeLabel(g, t, y + 6);
      g.appendChild(s("rect", { "class": "anomaly-band", x: XC - 10, y: y - 6, width: XS - XC + 20, height: 20, rx: 3 }));
      g.appendChild(s("text", { "class": "anomaly-flag", x: XP - 4, y: y + 9 }, "\u2691"));
      label(g, XC, y + 8, akind + ": " + detail, 48, "anomaly-text");
      label(g, XP + 12, y + 8, "flagged at the proxy", 40, "anomaly-text");
      y += 28;
    } else if (kind === "end") {
      g = s("g", { "class": "step end", "data-kind": "end", "data-reason": st.reason });
      y += 8;
      timeLabel(g, t, y);
      g.appendChild(s("line", { "class": "end-line", x1: XC, y1: y, x2: XS, y2: y }));
      g.appendChild(s("text", { "class": "end-text", x: XC + 8, y: y + 16 },
        "session end \u00b7 " + st.reason + (st.tls !== null ? " \u00b7 TLS " + st.tls : "") + " \u00b7 client " + bytes(st.bytesFromClient) + ", server " + bytes(st.bytesFromServer)));
      y += 26;
    } else if (kind === "omitted") {
      g = s("g", { "class": "step omitted", "data-kind": "omitted" });
      g.appendChild(s("text", { "class": "end-text", x: XC + 8, y: y + 14 }, st.count + " more events not included in this report"));
      y += 24;
    } else {
      return y;
    }
    parent.appendChild(g);
    return y;
  }

  // ---- Links: #session=ID&sender=…&rule=… selects a session and fills the search ----
  var HASH_KEYS = { address: "address", sender: "sender", recipient: "recipient", rule: "rule", anomaly: "anomaly", "class": "cls" };
  function hashFor(i) {
    var parts = [];
    if (i >= 0) parts.push("session=" + encodeURIComponent(S[sessions[i][ID]]));
    for (var k in HASH_KEYS) if (f[HASH_KEYS[k]].value) parts.push(k + "=" + encodeURIComponent(f[HASH_KEYS[k]].value));
    return parts.length ? "#" + parts.join("&") : location.pathname + location.search;
  }
  function readHash() {
    var out = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (p) {
      var eq = p.indexOf("=");
      if (eq > 0) out[p.slice(0, eq)] = decodeURIComponent(p.slice(eq + 1));
    });
    return out;
  }

  // ---- Start ----
  var wanted = readHash(), linked = false;
  for (var key in HASH_KEYS) if (wanted[key] !== undefined) { f[HASH_KEYS[key]].value = wanted[key]; linked = true; }
  filter();
  var initial = count() ? at(0) : -1, position = 0;
  if (wanted.session !== undefined) {
    linked = true;
    for (var k = 0; k < count(); k++) if (S[sessions[at(k)][ID]] === wanted.session) { initial = at(k); position = k; break; }
  }
  if (linked) showTab("sessions");
  state.page = Math.floor(position / PAGE);
  renderList(false);
  select(initial);
  var took = performance.now() - started;
  var rt = $("render-time");
  rt.setAttribute("data-ms", took.toFixed(1));
  rt.textContent = " Rendered in " + took.toFixed(0) + " ms.";
  document.body.setAttribute("data-ready", "true");
})();
