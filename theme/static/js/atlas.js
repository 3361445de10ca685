/* The efficiency atlas: sort by any column, filter by model, hardware, bits, technique and date,
   and load older years (atlas/<year>.json) on request. Without it the page is a plain table.
   Rows from JSON are built with textContent only: no claim text is ever parsed as HTML. */
(function () {
  "use strict";
  function t(msg, vars) {  // the page's language (site.js's catalog strings), else the English msgid
    return window.digestT ? window.digestT(msg, vars) : msg.replace(/%\((\w+)\)s/g, function (m, k) { return vars && k in vars ? String(vars[k]) : m; });
  }
  var table = document.querySelector(".atlas-table");
  var form = document.querySelector(".atlas-filters");
  if (!table || !form) return;
  var tbody = table.tBodies[0];
  var status = form.querySelector(".filter-status");
  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  form.hidden = false;

  function key(td, type) {
    var v = td ? td.getAttribute("data-sort") : null;
    if (v === null || v === "") return null;
    if (type === "num") { var n = parseFloat(v); return isNaN(n) ? null : n; }
    return v.toLowerCase();
  }

  function sortBy(col, dir) {
    var type = heads[col].getAttribute("data-type");
    var rows = Array.prototype.slice.call(tbody.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[col], type), y = key(b.cells[col], type);
      if (x === y) return 0;
      if (x === null) return 1;  /* empty cells last, whichever the direction */
      if (y === null) return -1;
      return (x < y ? -1 : 1) * dir;
    });
    rows.forEach(function (r) { tbody.appendChild(r); });
    heads.forEach(function (th, i) {
      if (i === col) th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    });
  }

  heads.forEach(function (th, i) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "sort";
    b.textContent = th.textContent;
    th.textContent = "";
    th.appendChild(b);
    b.addEventListener("click", function () {
      var now = th.getAttribute("aria-sort");
      var type = th.getAttribute("data-type");
      sortBy(i, now === "descending" ? 1 : now === "ascending" ? -1 : (type === "text" ? 1 : -1));
    });
  });

  function apply() {
    var want = {};
    ["model", "hardware", "precision", "technique"].forEach(function (k) { want[k] = form.elements[k].value; });
    var from = form.elements.from.value, to = form.elements.to.value;
    var shown = 0, rows = tbody.rows;
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i], ok = true;
      for (var k in want) if (want[k] && r.getAttribute("data-" + k) !== want[k]) ok = false;
      var d = r.getAttribute("data-date");
      if (from && d < from) ok = false;
      if (to && d > to) ok = false;
      r.hidden = !ok;
      if (ok) shown++;
    }
    status.textContent = shown === rows.length ? t("%(total)s claims", {total: rows.length})
      : t("%(shown)s of %(total)s claims", {shown: shown, total: rows.length});
  }
  form.addEventListener("change", apply);
  form.addEventListener("input", apply);
  form.addEventListener("submit", function (e) { e.preventDefault(); });

  /* -- older years ------------------------------------------------------------------------ */
  function td(text, sort, href, title) {
    var c = document.createElement("td");
    if (sort !== null && sort !== undefined) c.setAttribute("data-sort", String(sort));
    if (text) {
      if (href) {
        var a = document.createElement("a");
        a.href = href;
        a.textContent = text;
        if (title) a.title = title;
        c.appendChild(a);
      } else c.textContent = text;
    }
    return c;
  }

  function addOption(name, value) {
    if (!value) return;
    var sel = form.elements[name];
    for (var i = 0; i < sel.options.length; i++) if (sel.options[i].value === value) return;
    var o = document.createElement("option");
    o.textContent = value;
    sel.appendChild(o);
  }

  function rowOf(cols, cells, base) {
    var c = {};
    cols.forEach(function (col, i) { c[col.name] = cells[i]; });
    var topic = table.getAttribute("data-topic");
    if (topic && (" " + (c.topics || "") + " ").indexOf(" " + topic + " ") < 0) return null;
    var href = base + c.url, tr = document.createElement("tr");
    ["model", "hardware", "precision", "technique"].forEach(function (k) {
      tr.setAttribute("data-" + k, c[k] || "");
      addOption(k, c[k]);
    });
    tr.setAttribute("data-date", c.date);
    var num = function (a, b) { return a !== null && a !== undefined ? a : b; };
    tr.appendChild(td(c.date, c.date, href));
    tr.appendChild(td(c.title, c.title, href));
    tr.appendChild(td(c.technique + (c.subkind ? " " + c.subkind : ""), c.technique));
    tr.appendChild(td(c.speedup_text, num(c.speedup, c.speedup_percent), href));
    tr.appendChild(td(c.speedup_metric && c.speedup_metric !== "unspecified" ? c.speedup_metric : "", c.speedup_metric));
    tr.appendChild(td(c.memory_text, num(c.memory_reduction_percent, c.memory_reduction_factor), href));
    tr.appendChild(td(c.size_text, num(c.size_reduction_percent, c.size_reduction_factor), href));
    tr.appendChild(td(c.precision, c.bits, href));
    tr.appendChild(td(c.sparsity, c.sparsity_percent, href));
    tr.appendChild(td(c.accuracy_text, c.accuracy_change, href));
    tr.appendChild(td(c.model || c.model_size, null, href));
    tr.appendChild(td(c.hardware, null, href));
    tr.appendChild(td(c.baseline, null, href));
    for (var i = 3; i < tr.cells.length; i++) if (i !== 4) tr.cells[i].className = i < 10 ? "num" : "";
    return tr;
  }

  var loaded = {};
  var first = tbody.rows.length ? tbody.rows[0].getAttribute("data-date").slice(0, 4) : "";
  loaded[first] = true;
  var button = form.querySelector(".load-years");
  if (button) button.addEventListener("click", function () {
    var base = table.getAttribute("data-year-url");
    var site = base.replace(/atlas\/$/, "");
    var links = document.querySelectorAll(".year-json");
    var jobs = [];
    button.disabled = true;
    Array.prototype.forEach.call(links, function (a) {
      var year = a.getAttribute("data-year");
      if (loaded[year]) return;
      loaded[year] = true;
      jobs.push(fetch(a.href).then(function (r) {
        if (!r.ok) throw new Error(year + ".json: HTTP " + r.status);
        return r.json();
      }).then(function (data) {
        data.rows.forEach(function (cells) {
          var tr = rowOf(data.columns, cells, site);
          if (tr) tbody.appendChild(tr);
        });
      }));
    });
    Promise.all(jobs).then(apply, function (e) { status.textContent = t("Could not load: %(error)s", {error: e.message}); });
  });
  apply();
})();
