/* arxiv-digest: the theme toggle, the day page's topic filter and copy-link buttons, math
   (KaTeX, loaded from this site only when a page has math) and the search page. Everything works
   offline: nothing is fetched but this site's own files. */
(function () {
  "use strict";
  var doc = document;
  var root = doc.documentElement;
  var me = doc.currentScript;
  var base = me ? me.src.replace(/js\/site\.js(\?.*)?$/, "") : "/theme/";

  function all(sel, scope) { return Array.prototype.slice.call((scope || doc).querySelectorAll(sel)); }

  /* The interface's words in the page's language: base.html puts the catalog's translations of
     the strings scripts show (i18n.JS_STRINGS) in #i18n-strings; English has none (the msgids). */
  var T = {};
  try { T = JSON.parse(doc.getElementById("i18n-strings").textContent) || {}; } catch (_) { T = {}; }
  function t(msg, vars) {
    var s = Object.prototype.hasOwnProperty.call(T, msg) ? T[msg] : msg;
    return s.replace(/%\((\w+)\)s/g, function (m, k) { return vars && k in vars ? String(vars[k]) : m; });
  }
  window.digestT = t;  // the page's other scripts (radar, atlas) translate through it too

  var live;
  function announce(text) {
    if (!live) {
      live = doc.createElement("p");
      live.className = "vh";
      live.setAttribute("role", "status");
      doc.body.appendChild(live);
    }
    live.textContent = "";
    setTimeout(function () { live.textContent = text; }, 50);
  }

  /* Theme: the system's scheme unless the reader chose one; the choice is remembered. */
  var systemDark = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  function isDark() {
    var chosen = root.getAttribute("data-theme");
    if (chosen) return chosen === "dark";
    return !!(systemDark && systemDark.matches);
  }
  function syncToggles() {
    all(".theme-toggle").forEach(function (b) {
      b.setAttribute("aria-pressed", isDark() ? "true" : "false");
    });
  }
  function initTheme() {
    syncToggles();
    all(".theme-toggle").forEach(function (b) {
      b.addEventListener("click", function () {
        var next = isDark() ? "light" : "dark";
        root.setAttribute("data-theme", next);
        try { localStorage.setItem("theme", next); } catch (e) { /* private mode: not remembered */ }
        syncToggles();
      });
    });
    if (systemDark && systemDark.addEventListener) systemDark.addEventListener("change", syncToggles);
  }

  /* Topic filter on a day page: show only the papers of one topic (and their TOC entries). */
  function hasTag(el, topic) {
    return (" " + (el.getAttribute("data-tags") || "") + " ").indexOf(" " + topic + " ") >= 0;
  }
  function initFilter() {
    var group = doc.querySelector(".filter");
    if (!group) return;
    var buttons = all("button[data-topic]", group);
    var papers = all("article.paper[id]");
    var status = doc.querySelector(".filter-status");
    var tocItem = {};
    all("nav.toc a[href^='#']").forEach(function (a) {
      tocItem[decodeURIComponent(a.getAttribute("href").slice(1))] = a.parentNode;
    });
    var current = "";
    var sourceLabel = {};
    all("button.source[data-source]").forEach(function (b) {
      sourceLabel[b.getAttribute("data-source")] = b.getAttribute("data-label") || b.getAttribute("data-source");
    });

    function apply(topic, remember) {
      var known = buttons.some(function (b) { return b.getAttribute("data-topic") === topic && !b.disabled; });
      if (!known) topic = "";
      current = topic;
      var shown = 0;
      var codeOnly = root.classList.contains("code-only");  // the "has code" toggle (initCodeFilter)
      var onlySource = root.getAttribute("data-only-source") || "";  // the source buttons (initSourceFilter)
      var fromText = onlySource ? t("from %(source)s", {source: sourceLabel[onlySource] || onlySource}) : "";
      papers.forEach(function (p) {
        var show = (!topic || hasTag(p, topic)) && (!codeOnly || p.hasAttribute("data-code"))
          && (!onlySource || p.getAttribute("data-source") === onlySource);
        p.hidden = !show;
        if (show) shown++;
        if (tocItem[p.id]) tocItem[p.id].hidden = !show;
      });
      all("section.papers").forEach(function (s) {
        s.hidden = !s.querySelector("article.paper:not([hidden])");
      });
      all("nav.toc ol").forEach(function (ol) {
        var empty = !ol.querySelector("li:not([hidden])");
        ol.hidden = empty;
        var h = ol.previousElementSibling;
        if (h && h.tagName === "H3") h.hidden = empty;
      });
      buttons.forEach(function (b) {
        b.setAttribute("aria-pressed", b.getAttribute("data-topic") === topic ? "true" : "false");
      });
      var pressed = buttons.filter(function (b) { return b.getAttribute("data-topic") === topic; })[0];
      var split = pressed && pressed.getAttribute("data-split");  // what the chip's count holds
      var parts = [];
      if (topic) parts.push(topic + (split ? " (" + split + ")" : ""));
      if (codeOnly) parts.push(t("with code"));
      if (fromText) parts.push(fromText);
      var text = parts.length
        ? t("Showing %(shown)s of %(total)s papers: %(filters)s.", {shown: shown, total: papers.length, filters: parts.join(t(", "))})
        : t("Showing all %(total)s papers.", {total: papers.length});
      if (status) status.textContent = text;
      if (remember && window.history && history.replaceState) {
        var url = new URL(location.href);
        if (topic) url.searchParams.set("topic", topic); else url.searchParams.delete("topic");
        history.replaceState(history.state, "", url.pathname + url.search + url.hash);
      }
    }
    group.addEventListener("click", function (e) {
      var b = e.target.closest("button[data-topic]");
      if (b && !b.disabled) apply(b.getAttribute("data-topic"), true);
    });
    function revealTarget() {
      var id = decodeURIComponent(location.hash.slice(1));
      var el = id && doc.getElementById(id);
      if (el && el.closest && el.closest("[hidden]")) {
        apply("", true);
        el.scrollIntoView();
      }
    }
    window.addEventListener("hashchange", revealTarget);
    doc.addEventListener("digest:filter", function () { apply(current, true); });
    var wanted = new URLSearchParams(location.search).get("topic") || "";
    if (wanted) apply(wanted, false);
    else if (status) status.textContent = t("Showing all %(total)s papers.", {total: papers.length});  // as served
    revealTarget();
    return current;
  }

  /* Source buttons on a day with papers from more than one source (arXiv, bioRxiv, medRxiv): show
     only one source's papers (article[data-source]), together with the topic and code filters;
     kept in the address as ?source=. Pressing the pressed button again shows every source. */
  function initSourceFilter() {
    var buttons = all("button.source[data-source]");
    if (!buttons.length) return;
    var withFilter = !!doc.querySelector(".filter");
    function set(source, remember) {
      var known = buttons.some(function (b) { return b.getAttribute("data-source") === source && !b.disabled; });
      if (!known) source = "";
      if (source) root.setAttribute("data-only-source", source); else root.removeAttribute("data-only-source");
      buttons.forEach(function (b) {
        b.setAttribute("aria-pressed", b.getAttribute("data-source") === source ? "true" : "false");
      });
      if (remember && window.history && history.replaceState) {
        var url = new URL(location.href);
        if (source) url.searchParams.set("source", source); else url.searchParams.delete("source");
        history.replaceState(history.state, "", url.pathname + url.search + url.hash);
      }
      if (withFilter) doc.dispatchEvent(new CustomEvent("digest:filter"));
      else applyPageFilters();
    }
    buttons.forEach(function (b) {
      b.addEventListener("click", function () {
        if (b.disabled) return;
        set(b.getAttribute("aria-pressed") === "true" ? "" : b.getAttribute("data-source"), true);
      });
    });
    // a link to a paper of another source shows it
    window.addEventListener("hashchange", function () {
      var id = decodeURIComponent(location.hash.slice(1));
      var el = id && doc.getElementById(id);
      if (el && root.hasAttribute("data-only-source") && el.closest && el.closest("[hidden]")) {
        set("", true);
        el.scrollIntoView();
      }
    });
    var wanted = new URLSearchParams(location.search).get("source");
    if (wanted) set(wanted, false);
  }

  /* "has code": only the papers that link code, a model, a data set or a demo (article[data-code]),
     together with the topic filter; kept in the address as ?code=1. A page with the topic filter
     re-applies it (the "digest:filter" event); a topic page hides its papers here. */
  /* A page without the topic filter (a topic page): the "has code" and source buttons together
     hide the papers of this page here. */
  function applyPageFilters() {
    var status = doc.querySelector(".filter-status");
    var codeOnly = root.classList.contains("code-only");
    var onlySource = root.getAttribute("data-only-source") || "";
    var label = doc.querySelector("button.source[data-source='" + onlySource + "']");
    var papers = all("article.paper"), shown = 0;
    papers.forEach(function (p) {
      p.hidden = (codeOnly && !p.hasAttribute("data-code"))
        || (!!onlySource && p.getAttribute("data-source") !== onlySource);
      if (!p.hidden) shown++;
    });
    all("section.topic-day").forEach(function (s) { s.hidden = !s.querySelector("article.paper:not([hidden])"); });
    var what = [];
    if (codeOnly) what.push(t("with code"));
    if (onlySource) what.push(t("from %(source)s", {source: label ? label.getAttribute("data-label") : onlySource}));
    if (status) status.textContent = what.length ? t("Showing %(shown)s of %(total)s papers on this page: %(filters)s.", {shown: shown, total: papers.length, filters: what.join(t(", "))}) : "";
  }

  function initCodeFilter() {
    var b = doc.querySelector("button.has-code");
    if (!b) return;
    var withFilter = !!doc.querySelector(".filter");
    function set(on, remember) {
      root.classList.toggle("code-only", on);
      b.setAttribute("aria-pressed", on ? "true" : "false");
      if (remember && window.history && history.replaceState) {
        var url = new URL(location.href);
        if (on) url.searchParams.set("code", "1"); else url.searchParams.delete("code");
        history.replaceState(history.state, "", url.pathname + url.search + url.hash);
      }
      if (withFilter) doc.dispatchEvent(new CustomEvent("digest:filter"));
      else applyPageFilters();
    }
    b.addEventListener("click", function () { if (!b.disabled) set(b.getAttribute("aria-pressed") !== "true", true); });
    // a link to a paper without code shows it (the topic filter lets go of its topic the same way)
    window.addEventListener("hashchange", function () {
      var id = decodeURIComponent(location.hash.slice(1));
      var el = id && doc.getElementById(id);
      if (el && root.classList.contains("code-only") && el.closest && el.closest("[hidden]")) {
        set(false, true);
        el.scrollIntoView();
      }
    });
    if (new URLSearchParams(location.search).get("code") === "1" && !b.disabled) set(true, false);
  }

  /* Copy-link buttons: the paper's permanent address on its day page. */
  function pageAddress(el) {
    var day = el.closest("[data-url]");  // the day page, also when the day is shown on the home page
    var url = day ? new URL(day.getAttribute("data-url"), location.href).href : location.href;
    return url.split("#")[0].split("?")[0];
  }
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    return new Promise(function (resolve, reject) {
      var area = doc.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      doc.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = doc.execCommand("copy"); } catch (e) { ok = false; }
      doc.body.removeChild(area);
      if (ok) resolve(); else reject(new Error("copy refused"));
    });
  }
  function initCopy() {
    doc.addEventListener("click", function (e) {
      var b = e.target.closest && e.target.closest("button.copy");
      if (!b) return;
      var url = pageAddress(b) + "#" + b.getAttribute("data-id");
      b.setAttribute("data-url", url);
      copyText(url).then(function () {
        b.textContent = t("Copied");
        announce(t("Link copied: %(url)s", {url: url}));
      }, function () {
        b.textContent = t("Press Ctrl+C");
        window.prompt(t("Copy this link:"), url);
      }).then(function () {
        setTimeout(function () { b.textContent = t("Copy link"); }, 2000);
      });
    });
  }

  /* Math: $...$, $$...$$, \(...\) and \[...\] rendered by the vendored KaTeX. */
  function load(tag, attrs, done) {
    var el = doc.createElement(tag);
    for (var k in attrs) el.setAttribute(k, attrs[k]);
    if (done) el.onload = done;
    doc.head.appendChild(el);
  }
  var MATH = /\$[^$]+\$|\\\(|\\\[/;
  // The blocks of text that may hold math (titles, abstracts, summaries, the TOC, the briefing).
  var MATH_BLOCKS = "h1, .title, .abstract p, .summary p, .summary dd, nav.toc li, .briefing p";
  function mathBlocks(scope) {
    return all(MATH_BLOCKS, scope).filter(function (el) {
      var text = el.textContent;
      return (text.indexOf("$") >= 0 || text.indexOf("\\") >= 0) && MATH.test(text);
    });
  }
  // KaTeX (about 300 kB) is fetched after the page has loaded, and only once a formula is within
  // half a screen of the reader: the first paint never waits for it, and a page whose formulas are
  // far down loads it when the reader gets near them.
  function initMath() {
    var scope = doc.querySelector("main");
    if (!scope) return;
    var blocks = mathBlocks(scope);
    if (!blocks.length) return;
    var started = false;
    var io = null;
    function start() {
      if (started) return;
      started = true;
      if (io) io.disconnect();
      var kt = base + "vendor/katex/";
      load("link", { rel: "stylesheet", href: kt + "katex.min.css" });
      load("script", { src: kt + "katex.min.js" }, function () {
        load("script", { src: kt + "contrib/auto-render.min.js" }, function () { renderMath(blocks); });
      });
    }
    if (!("IntersectionObserver" in window)) { start(); return; }
    io = new IntersectionObserver(function (entries) {
      if (entries.some(function (e) { return e.isIntersecting; })) start();
    }, { rootMargin: "50% 0px" });
    blocks.forEach(function (el) { io.observe(el.closest("article.paper") || el); });
  }
  function renderMath(blocks) {
    var options = {
      delimiters: [
        { left: "$$", right: "$$", display: true },
        { left: "$", right: "$", display: false },
        { left: "\\(", right: "\\)", display: false },
        { left: "\\[", right: "\\]", display: true }
      ],
      ignoredTags: ["script", "noscript", "style", "textarea", "pre", "code", "option", "button", "input", "svg"],
      throwOnError: false,
      strict: "ignore"
    };
    // One block at a time, in reading order, yielding between short batches: a day of hundreds
    // of formulas never blocks the page for long.
    var i = 0;
    (function batch() {
      var start = Date.now();
      while (i < blocks.length && Date.now() - start < 6) window.renderMathInElement(blocks[i++], options);
      if (i < blocks.length) setTimeout(batch, 0);
      else root.classList.add("math-ready");
    })();
  }

  /* Search page: js/search/search.js (data-shim: its folder) shows results over Pagefind's JS API
     (one record per listed paper, with topic, category, source, year and month filters; ?q= runs
     a search). The index is a few bundles by period (scripts/search_index.py: closed years, the
     newest year's earlier quarters, the newest quarter's earlier months, the newest month):
     pagefind/periods.json lists them newest first, with each one's records ("records"), the
     records a newer listing of the same paper supersedes ("hide", "check") and the file of their
     filter values ("hidden_filters"); without it (one bundle for the whole site) the folder
     itself is the bundle. The module and periods.json load side by side. */
  function initSearch() {
    var el = doc.getElementById("search");
    var shim = el && el.getAttribute("data-shim");
    if (!el || !shim) return;
    var bundle = el.getAttribute("data-bundle");
    var q = new URLSearchParams(location.search).get("q");
    // result links are relative to the site's root, which may be a sub-path (GitHub Pages)
    var baseUrl = new URL(el.getAttribute("data-base") || "/", location.href).pathname;
    var module = import(new URL(shim + "search.js", location.href).href);
    var listed = fetch(bundle + "periods.json").then(function (r) {
      if (!r.ok) throw new Error("no periods.json: " + r.status);
      return r.json();
    }).then(null, function () { return null; });
    Promise.all([module, listed]).then(function (both) {
      var data = both[1];
      var periods = (data && Array.isArray(data.periods) ? data.periods : []).filter(function (p) {
        return typeof p === "string" && /^[A-Za-z0-9_-]+$/.test(p);
      });
      var paths = periods.length ? periods.map(function (p) { return bundle + encodeURIComponent(p) + "/"; }) : [bundle];
      el.setAttribute("data-periods", periods.join(" "));
      var records = data && data.records && typeof data.records === "object" ? data.records : {};
      var hiddenFilters = data && typeof data.hidden_filters === "string" &&
        /^hidden-filters\.[0-9a-f]+\.json$/.test(data.hidden_filters) ? bundle + data.hidden_filters : null;
      both[0].start(el, {
        paths: paths, baseUrl: baseUrl, query: q, t: t, hiddenFilters: hiddenFilters,
        sizes: periods.map(function (p) { return Number(records[p]) || 0; }),
        hide: data && Array.isArray(data.hide) ? data.hide : [],
        check: data && data.check && typeof data.check === "object" && !Array.isArray(data.check) ? data.check : {}
      });
      if (q) {
        var box = doc.getElementById("site-q");
        if (box) box.value = q;
      }
    }, function (err) {
      el.setAttribute("data-search-ready", "error");
      if (window.console) window.console.warn("search failed to start:", err);
    });
  }

  /* Cite: a details/pre of BibTeX (readable without JavaScript) gains a button that copies it. */
  function initCite() {
    all("details.cite").forEach(function (d) {
      var pre = d.querySelector("pre");
      if (!pre || d.querySelector("button.copy-bib")) return;
      var b = doc.createElement("button");
      b.type = "button";
      b.className = "copy-bib";
      b.textContent = t("Copy BibTeX");
      b.addEventListener("click", function () {
        copyText(pre.textContent).then(function () {
          b.textContent = t("Copied");
          announce(t("BibTeX copied"));
        }, function () {
          d.open = true;
          b.textContent = t("Select and copy");
        }).then(function () {
          setTimeout(function () { b.textContent = t("Copy BibTeX"); }, 2000);
        });
      });
      d.parentNode.insertBefore(b, d);
    });
  }

  /* Folds: the briefing (open or closed as the reader left it) and, on narrow screens, the
     contents. The state is a class on <html> (base.html sets the briefing's before the first paint). */
  function initFolds() {
    all("button.fold").forEach(function (b) {
      var cls = b.closest(".briefing") ? "brief-open" : "toc-open";
      function sync() { b.setAttribute("aria-expanded", root.classList.contains(cls) ? "true" : "false"); }
      sync();
      b.addEventListener("click", function () {
        root.classList.toggle(cls);
        sync();
        if (cls === "brief-open") {
          try { localStorage.setItem("briefing", root.classList.contains(cls) ? "open" : "closed"); } catch (e) { /* not remembered */ }
        }
      });
    });
    // a link into a folded part (a TOC entry's target is never folded; a briefing citation is) opens it
    function reveal() {
      var id = decodeURIComponent(location.hash.slice(1));
      var el = id && doc.getElementById(id);
      if (el && el.closest && el.closest(".briefing .fold-body") && !root.classList.contains("brief-open")) {
        var b = doc.querySelector(".briefing button.fold");
        if (b) b.click();
        el.scrollIntoView();
      }
    }
    window.addEventListener("hashchange", reveal);
    reveal();
  }

  /* "Expand all abstracts": the bolded words are in the abstracts, folded under each summary. */
  function initExpandAll() {
    var b = doc.querySelector("button.expand-all");
    if (!b) return;
    b.addEventListener("click", function () {
      var open = b.getAttribute("aria-pressed") !== "true";
      all("article.paper details.abstract").forEach(function (d) { d.open = open; });
      b.setAttribute("aria-pressed", open ? "true" : "false");
      b.textContent = open ? t("Collapse all abstracts") : t("Expand all abstracts");
    });
  }

  /* The contents follow the reader: the paper under the reading line is aria-current in the
     TOC, and the TOC (a sticky column on wide screens) scrolls to keep it in sight. */
  function initTocFollow() {
    var toc = doc.querySelector("nav.toc");
    if (!toc || !("IntersectionObserver" in window)) return;
    var links = {};
    all("a[href^='#']", toc).forEach(function (a) { links[decodeURIComponent(a.getAttribute("href").slice(1))] = a; });
    var papers = all("article.paper[id]").filter(function (p) { return links[p.id]; });
    if (!papers.length) return;
    var inBand = {};
    var current = null;
    function mark(a) {
      if (a === current) return;
      if (current) current.removeAttribute("aria-current");
      current = a;
      if (!a) return;
      a.setAttribute("aria-current", "location");
      // keep it in sight inside the contents' own scroll area, never scrolling the page
      if (toc.scrollHeight > toc.clientHeight + 1) {
        var lr = a.getBoundingClientRect(), br = toc.getBoundingClientRect();
        if (lr.top < br.top + 40 || lr.bottom > br.bottom - 8) toc.scrollTop += lr.top - br.top - br.height / 3;
      }
    }
    var io = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) { if (e.isIntersecting) inBand[e.target.id] = true; else delete inBand[e.target.id]; });
      for (var i = 0; i < papers.length; i++) {
        if (inBand[papers[i].id] && !papers[i].hidden) { mark(links[papers[i].id]); return; }
      }
      // nothing in the band: above the first paper nothing is current; between two, the last one stays
      if (papers[0].getBoundingClientRect().top > window.innerHeight * 0.2) mark(null);
    }, { rootMargin: "-20% 0px -79% 0px" });  // a reading line a fifth of the way down the screen
    papers.forEach(function (p) { io.observe(p); });
  }

  /* Topic chips: hover and keyboard focus show a chip's explanation through CSS alone; the "?"
     button shows or hides it on tap, Enter or Space (aria-expanded); Escape or a tap elsewhere
     hides it. */
  function initChips() {
    function close(chip) {
      var b = chip.querySelector("button.why");
      if (b) b.setAttribute("aria-expanded", "false");
    }
    doc.addEventListener("click", function (e) {
      var b = e.target.closest && e.target.closest(".chip button.why");
      all('.chip button.why[aria-expanded="true"]').forEach(function (o) {
        if (o !== b) close(o.parentNode);
      });
      if (!b) return;
      var open = b.getAttribute("aria-expanded") !== "true";
      b.setAttribute("aria-expanded", open ? "true" : "false");
      b.parentNode.classList.toggle("closed", !open);
    });
    doc.addEventListener("keydown", function (e) {
      if (e.key !== "Escape") return;
      all(".chip").forEach(function (c) {
        if (c.contains(doc.activeElement) || c.querySelector('button.why[aria-expanded="true"]')) {
          close(c);
          c.classList.add("closed");
        }
      });
    });
    doc.addEventListener("focusout", function (e) {
      var c = e.target.closest && e.target.closest(".chip");
      if (c && !c.contains(e.relatedTarget)) { close(c); c.classList.remove("closed"); }
    });
    doc.addEventListener("mouseover", function (e) {
      var c = e.target.closest && e.target.closest(".chip.closed");
      if (c && !c.contains(doc.activeElement)) c.classList.remove("closed");
    });
  }

  initTheme();
  initChips();
  initFolds();
  initExpandAll();
  initTocFollow();
  initFilter();
  initCodeFilter();
  initSourceFilter();
  initCopy();
  initCite();
  initSearch();
  if (doc.readyState === "complete") initMath();
  else window.addEventListener("load", initMath);
})();
