/* The search page's result list over Pagefind's JS API (issue 11): a search box, a result list
   with highlighted excerpts, filters with counts and "Load more results", in place of Pagefind's
   UI, so that results can show before the whole archive has been searched.

   The index is a few bundles by period, newest first (pagefind/periods.json; scripts/
   search_index.py). Pagefind searches in a web worker, one per copy of its module (a module
   imported again under another URL is a copy with a worker of its own), and a search of
   bundles merged into one instance (mergeIndex) runs bundle after bundle in that worker. So the
   bundles are searched in parts, each part in a worker of its own, side by side:
   - the newest bundle alone: a small index, so its results (the newest period's best matches)
     show first, while the older bundles are still being searched;
   - the older bundles, in up to OLDER_WORKERS runs of consecutive bundles (newer ones first),
     about even by their records (periods.json's "records"), each run merged into one instance.
   The whole list is the parts' answers merged as Pagefind merges its instances' own (its
   Pagefind.search: every instance's results in bundle order, sorted by score with a stable
   sort, filter counts added up), so it is the list, count and filter counts one instance with
   every bundle merged would give, in a fraction of the time; it then takes the place of the
   newest bundle's results.
   Typing preloads the words' index chunks at once (Pagefind's preload); the newest bundle is
   searched after a short pause, the whole archive after a longer one and one search at a time. A result shows as soon as its own fragment has loaded (in order), and
   only the first page of results loads fragments.

   Listing records (search_index.py --records listings): periods.json names the records that a
   newer listing of the same paper supersedes ("hide": ids; "check": ids that a record still
   shown has too, in another bundle, dropped only when the result's URL is the superseded one's).
   They are left out of the list, of its count, and of the filter counts: a dropped "hide"
   record's filter values come from pagefind/hidden-filters.<hash>.json (periods.json's
   "hidden_filters", written by search_index.py), fetched once, only when a search first matches
   such a record; a "check" record's (and any the file lacks) from its own fragment.

   Result text goes in as text: the title and date as textContent, the excerpt (Pagefind's text
   with < and > escaped and <mark> around the matches) as text nodes and <mark> elements built
   here, never as markup. Class names follow Pagefind UI's (pagefind-ui__*), which the site's
   tests and stylesheet know. */

const PAGE = 10;  // results a page ("Load more results" adds as many)
// the pause after the last key before a search runs (the words' chunks start loading at once):
const QUICK_MS = 80;  // the newest bundle alone (cheap)
const WHOLE_MS = 250;  // every bundle (the costly one: not for every prefix typed; QUICK_MS after a paste)
const OLDER_WORKERS = 2;  // workers for the older bundles (beside the newest bundle's own)
const FRAGMENT_LIMIT = 60;  // superseded matches missing from the filter file whose fragments are read
const FILTERS = ["topic", "category", "source", "year", "month"];  // the index's filters, in order
const LABELS = { topic: "Topic", category: "Category", source: "Source", year: "Year", month: "Month" };
const OPEN = ["topic"];  // filter groups open at the start
const DESCENDING = ["year", "month"];  // values listed newest first (the others: by count)

function make(tag, cls, text) {
  const el = document.createElement(tag);
  if (cls) el.className = cls;
  if (text !== undefined) el.textContent = text;
  return el;
}

/* Pagefind's excerpt (its text, with < and > escaped, and <mark>…</mark> around matches) as nodes:
   text stays text; only <mark> becomes an element. */
export function excerptNodes(excerpt) {
  const out = [];
  let marked = false;
  for (const part of String(excerpt || "").split(/(<mark>|<\/mark>)/)) {
    if (part === "<mark>") { marked = true; continue; }
    if (part === "</mark>") { marked = false; continue; }
    if (!part) continue;
    const text = document.createTextNode(part.replace(/&lt;/g, "<").replace(/&gt;/g, ">"));
    if (marked) {
      const m = make("mark");
      m.appendChild(text);
      out.push(m);
    } else {
      out.push(text);
    }
  }
  return out;
}

/* A result's URL as a link may carry it: a page of this site (Pagefind indexes only ours), else null. */
function safeUrl(url) {
  if (typeof url !== "string" || !url) return null;
  try {
    const u = new URL(url, location.href);
    return u.origin === location.origin ? url : null;
  } catch (_) {
    return null;
  }
}

/* The older bundles as up to `n` runs of consecutive ones, about even by their records (`sizes`,
   in the same order; equal weights where unknown): each run's first bundle starts as late as it
   can while the runs before it stay within the even share. */
export function runsOf(bundles, sizes, n) {
  const w = bundles.map((_, i) => (Number.isFinite(sizes[i]) && sizes[i] > 0 ? sizes[i] : 1));
  const runs = [];
  let at = 0;
  for (let k = Math.min(n, bundles.length); k > 0; k--) {
    const left = w.slice(at).reduce((a, b) => a + b, 0);
    let end = at + 1;
    let sum = w[at];
    // add the next bundle while this run stays nearer the even share and leaves one per later run
    while (end < bundles.length - (k - 1) && Math.abs(sum + w[end] - left / k) <= Math.abs(sum - left / k)) {
      sum += w[end];
      end++;
    }
    if (k === 1) end = bundles.length;
    runs.push(bundles.slice(at, end));
    at = end;
  }
  return runs;
}

/* Counts of filter values (key -> value -> count) added up, as Pagefind's mergeFilters (a new object). */
function addCounts(list) {
  const out = {};
  for (const counts of list) {
    for (const key of Object.keys(counts || {})) {
      out[key] = out[key] || {};
      for (const value of Object.keys(counts[key])) out[key][value] = (out[key][value] || 0) + counts[key][value];
    }
  }
  return out;
}

/* The parts' answers as one, as Pagefind merges its instances' answers (Pagefind.search): the
   results in part order, sorted by score (Array.prototype.sort is stable: ties keep that
   order), the filter counts added up. */
export function mergeAnswers(answers) {
  const all = answers.map((a) => a || { results: [], filters: {}, totalFilters: {}, unfilteredResultCount: 0 });
  return {
    results: all.map((a) => a.results || []).flat().sort((a, b) => b.score - a.score),
    filters: addCounts(all.map((a) => a.filters)),
    totalFilters: addCounts(all.map((a) => a.totalFilters)),
    unfilteredResultCount: all.reduce((n, a) => n + (a.unfilteredResultCount || 0), 0),
  };
}

/* The search page: `el` (#search) gets the box, filters and results. cfg: {paths (bundle folders,
   newest first), sizes (their records, same order), baseUrl, hide, check, hiddenFilters (the
   URL of the hidden records' filter values, or null), t (the page's translate function), query
   (?q=)}. */
export function start(el, cfg) {
  const t = cfg.t || ((s, v) => s.replace(/%\((\w+)\)s/g, (m, k) => (v && k in v ? String(v[k]) : m)));
  const paths = cfg.paths;
  const baseUrl = cfg.baseUrl;
  const hide = new Set(cfg.hide || []);
  const check = cfg.check || {};
  const sizes = cfg.sizes || [];

  // the page: box, filter panel, status, list, "Load more results"
  el.textContent = "";
  const root = make("div", "pagefind-ui");
  const form = make("form", "pagefind-ui__form");
  form.setAttribute("role", "search");
  const box = make("input", "pagefind-ui__search-input");
  box.type = "search";
  box.autocomplete = "off";
  box.placeholder = t("Search titles, authors, abstracts and summaries");
  box.setAttribute("aria-label", t("Search the archive"));
  form.appendChild(box);
  const drawer = make("div", "pagefind-ui__drawer");
  const panel = make("div", "pagefind-ui__filter-panel");
  panel.hidden = true;
  const area = make("div", "pagefind-ui__results-area");
  const status = make("p", "pagefind-ui__message");
  status.setAttribute("role", "status");
  let list = make("ol", "pagefind-ui__results");
  const more = make("button", "pagefind-ui__button", t("Load more results"));
  more.type = "button";
  more.hidden = true;
  area.append(status, list, more);
  drawer.append(panel, area);
  root.append(form, drawer);
  el.appendChild(root);

  // Pagefind: the newest bundle, then the older ones in runs, each part in a worker of its own
  let engine = null;
  function ready() {
    if (engine) return engine;
    const url = new URL(paths[0] + "pagefind.js", location.href).href;
    const runs = runsOf(paths.slice(1), sizes.slice(1), OLDER_WORKERS);
    // a copy of the module per part (another URL): each copy starts a worker of its own
    engine = Promise.all([import(url), ...runs.map((_, i) => import(url + "?older" + (i + 1)))]).then((mods) => {
      // no await between an instance and its merges: every bundle of a run is registered before
      // a search can run (mergeIndex registers its bundle before it loads; a search waits for each)
      const parts = [[paths[0]], ...runs].map((run, i) => {
        const part = mods[i].createInstance({ basePath: run[0], baseUrl });
        return { part, merged: run.slice(1).map((p) => part.mergeIndex(p, { baseUrl })) };
      });
      return Promise.all(parts.map(({ part, merged }) => Promise.all([part.init(), ...merged]).then(() => part.filters())))
        .then((counts) => {
          const all = addCounts(counts);
          el.setAttribute("data-search-ready", "1");
          if (!seq) showFilters(all, all);  // no search yet: the filters alone can search
          return { parts: parts.map((p) => p.part), quick: parts.length > 1 ? parts[0].part : null, all };
        });
    });
    engine.catch((err) => {
      el.setAttribute("data-search-ready", "error");
      status.textContent = t("Could not load: %(error)s", { error: err && err.message ? err.message : String(err) });
    });
    return engine;
  }

  // what is selected in the filter panel, as Pagefind's filters (any of a group's values)
  const chosen = {};
  function filterOption() {
    const out = {};
    for (const key of Object.keys(chosen)) if (chosen[key].size) out[key] = { any: [...chosen[key]] };
    return out;
  }
  const anyChosen = () => Object.keys(chosen).some((k) => chosen[k].size);

  const openedBlocks = new Set();  // filter groups the reader opened (kept open across searches)
  let seq = 0;  // the newest query; older answers are dropped
  let timer = null;
  let wholeTimer = null;
  let candidates = [];  // the final list's results, in order, superseded ones left out by id
  let next = 0;  // the next candidate to show
  let term = "";

  function clear() {
    seq++;
    candidates = [];
    next = 0;
    status.textContent = "";
    list.textContent = "";
    more.hidden = true;
  }

  /* A result's data (its fragment), or null when it is a superseded record ("check"). */
  async function shownData(r) {
    const data = await r.data();
    if (Object.prototype.hasOwnProperty.call(check, r.id)) {
      const url = data && (data.raw_url || data.url);
      if (check[r.id].indexOf(url) !== -1) return null;
    }
    return data;
  }

  function resultItem(data) {
    const li = make("li", "pagefind-ui__result");
    const inner = make("div", "pagefind-ui__result-inner");
    const title = make("p", "pagefind-ui__result-title");
    const href = safeUrl(data.url);
    const link = make(href ? "a" : "span", "pagefind-ui__result-link", (data.meta && data.meta.title) || data.url || "");
    if (href) link.setAttribute("href", href);
    title.appendChild(link);
    inner.appendChild(title);
    if (data.meta && data.meta.date) {
      const date = make("p", "pagefind-ui__result-date", data.meta.date);
      inner.appendChild(date);
    }
    const ex = make("p", "pagefind-ui__result-excerpt");
    ex.append(...excerptNodes(data.excerpt));
    inner.appendChild(ex);
    li.appendChild(inner);
    return li;
  }

  /* Up to PAGE more results of `pool` (from `from`) into `ol`, each as soon as it and the ones
     before it have loaded; resolves to the index after the last one used. */
  async function fill(token, pool, from, ol, onFirst) {
    let i = from;
    let shown = 0;
    let firstDone = false;
    while (shown < PAGE && i < pool.length) {
      const batch = pool.slice(i, i + (PAGE - shown)).map((r) => shownData(r).catch(() => null));
      i += batch.length;
      for (const p of batch) {
        const data = await p;
        if (token !== seq) return i;
        if (!data) continue;
        ol.appendChild(resultItem(data));
        shown++;
        if (!firstDone) {
          firstDone = true;
          if (onFirst) onFirst();
        }
      }
    }
    if (!firstDone && onFirst) onFirst();
    return i;
  }

  function showCount(count) {
    const words = { num: String(count), term: term };
    status.textContent = term
      ? (count === 1 ? t("%(num)s result for %(term)s", words) : t("%(num)s results for %(term)s", words))
      : (count === 1 ? t("%(num)s result", words) : t("%(num)s results", words));
  }

  /* The filter panel: every value the index has (its total counts) with this search's counts,
     less the superseded records' own filters; a value with no match is left out unless chosen. */
  function showFilters(all, counts) {
    panel.textContent = "";
    panel.appendChild(make("div", "pagefind-ui__filter-panel-label vh", t("Filters")));
    const keys = FILTERS.filter((k) => all[k]).concat(Object.keys(all).filter((k) => FILTERS.indexOf(k) < 0).sort());
    for (const key of keys) {
      const values = Object.keys(all[key]).filter((v) => (counts[key] && counts[key][v] > 0) || (chosen[key] && chosen[key].has(v)));
      if (!values.length) continue;
      if (DESCENDING.indexOf(key) >= 0) values.sort().reverse();
      else values.sort((a, b) => ((counts[key] && counts[key][b]) || 0) - ((counts[key] && counts[key][a]) || 0) || (a < b ? -1 : a > b ? 1 : 0));
      const block = make("details", "pagefind-ui__filter-block");
      block.open = OPEN.indexOf(key) >= 0 || Boolean(chosen[key] && chosen[key].size) || openedBlocks.has(key);
      block.addEventListener("toggle", () => { if (block.open) openedBlocks.add(key); else openedBlocks.delete(key); });
      const name = LABELS[key] ? t(LABELS[key]) : key;
      block.appendChild(make("summary", "pagefind-ui__filter-name", name));
      const group = make("fieldset", "pagefind-ui__filter-group");
      group.appendChild(make("legend", "pagefind-ui__filter-group-label vh", name));
      for (const value of values) {
        const id = (key + "-" + value).replace(/\s/g, "_");
        const row = make("div", "pagefind-ui__filter-value");
        const input = make("input", "pagefind-ui__filter-checkbox");
        input.type = "checkbox";
        input.id = id;
        input.name = key;
        input.value = value;
        input.checked = Boolean(chosen[key] && chosen[key].has(value));
        input.addEventListener("change", () => {
          chosen[key] = chosen[key] || new Set();
          if (input.checked) chosen[key].add(value); else chosen[key].delete(value);
          run(true);
        });
        const label = make("label", "pagefind-ui__filter-label", value + " (" + String((counts[key] && counts[key][value]) || 0) + ")");
        label.htmlFor = id;
        row.append(input, label);
        group.appendChild(row);
      }
      block.appendChild(group);
      panel.appendChild(block);
    }
    panel.hidden = panel.childNodes.length < 2;  // the label alone: nothing to filter
  }

  /* The hidden records' filter values (pagefind/hidden-filters.<hash>.json), fetched once, the
     first time a search matches one: id -> [[key, value], ...] (a lookup; null if unavailable).
     The file is data: its values are only compared with the counts' keys, never shown. */
  let hiddenTable = null;
  function hiddenFilters() {
    if (hiddenTable) return hiddenTable;
    hiddenTable = !cfg.hiddenFilters ? Promise.resolve(null) : fetch(cfg.hiddenFilters).then((r) => {
      if (!r.ok) throw new Error(String(r.status));
      return r.json();
    }).then((data) => {
      const values = data && Array.isArray(data.values) ? data.values : [];
      const ids = data && data.ids && typeof data.ids === "object" ? data.ids : {};
      return (id) => {
        const at = Object.prototype.hasOwnProperty.call(ids, id) ? ids[id] : null;
        if (!Array.isArray(at)) return null;
        return at.map((i) => values[i]).filter((kv) => Array.isArray(kv) && kv.length === 2);
      };
    }).catch(() => null);
    return hiddenTable;
  }

  /* This search's filter counts less the superseded records it matched: a hidden record's filter
     values from the filter file, a checked one's (or one the file lacks) from its own fragment
     (the first FRAGMENT_LIMIT of those without a file). */
  async function correctedCounts(token, counts, hidden, checked) {
    const out = {};
    for (const k of Object.keys(counts || {})) out[k] = Object.assign({}, counts[k]);
    const table = hidden.length ? await hiddenFilters() : null;
    const pairs = [];
    const unknown = [];
    for (const r of hidden) {
      const found = table && table(r.id);
      if (found) pairs.push(...found); else unknown.push(r);
    }
    const reads = checked.concat(unknown.slice(0, FRAGMENT_LIMIT)).map((r) => r.data().catch(() => null));
    for (const data of await Promise.all(reads)) {
      const f = (data && data.filters) || {};
      for (const k of Object.keys(f)) for (const v of f[k] || []) pairs.push([k, v]);
    }
    if (token !== seq) return out;
    for (const [k, v] of pairs) if (out[k] && out[k][v] > 0) out[k][v]--;
    return out;
  }

  /* The final list: the whole archive's results less the superseded records. */
  async function showAll(token, eng, res) {
    const results = (res && res.results) || [];
    const dropped = [];
    const superseded = [];
    candidates = [];
    for (const r of results) (hide.has(r.id) ? dropped : candidates).push(r);
    // ids that a shown record shares: their fragments say which of them are superseded
    const checked = await Promise.all(candidates.map((r) => (
      Object.prototype.hasOwnProperty.call(check, r.id) ? shownData(r).then((d) => d === null, () => false) : false)));
    if (token !== seq) return;
    candidates = candidates.filter((r, i) => {
      if (checked[i]) superseded.push(r);
      return !checked[i];
    });
    const ol = make("ol", "pagefind-ui__results");
    const swap = () => {
      if (token !== seq) return;
      list.replaceWith(ol);
      list = ol;
      showCount(candidates.length);
      // the filter file starts loading once the first result shows (not before: it would share
      // the network with that result's fragment), while the rest of the first page loads
      if (dropped.length) hiddenFilters();
    };
    next = await fill(token, candidates, 0, ol, swap);
    if (token !== seq) return;
    more.hidden = next >= candidates.length;
    const counts = dropped.length || superseded.length
      ? await correctedCounts(token, res.filters, dropped, superseded) : res.filters || {};
    if (token !== seq) return;
    showFilters(eng.all, counts);
  }

  /* The newest bundle's results, shown while the whole archive is searched. */
  async function showQuick(token, res, finalDone) {
    const pool = ((res && res.results) || []).filter((r) => !hide.has(r.id));
    if (!pool.length) return;
    const ol = make("ol", "pagefind-ui__results");
    await fill(token, pool, 0, ol, () => {
      if (token !== seq || finalDone()) return;
      list.replaceWith(ol);
      list = ol;
      more.hidden = true;
    });
  }

  /* The whole archive's search, one at a time in its worker: a search asked for while one runs
     waits, and only the newest one waiting runs after it (a stale one is never started). */
  let wholeBusy = false;
  let wholeNext = null;
  function searchWhole(job) {
    if (wholeBusy) {
      wholeNext = job;
      return;
    }
    wholeBusy = true;
    job().then(null, () => {}).then(() => {
      wholeBusy = false;
      const queued = wholeNext;
      wholeNext = null;
      if (queued) searchWhole(queued);
    });
  }

  let typed = "";  // the box as the last input left it
  function run(now) {
    clearTimeout(timer);
    clearTimeout(wholeTimer);
    const value = box.value.trim();
    // more than a letter at once (a paste, a word picked from a list): no more letters to wait for
    const jump = Math.abs(value.length - typed.length) > 1;
    typed = value;
    if (!value && !anyChosen()) {
      term = "";
      clear();
      return;
    }
    const token = ++seq;
    const filters = filterOption();
    const q = value || null;  // no words: the filters alone
    ready().then((eng) => {
      if (token !== seq) return;
      // the words' index chunks start loading now, in every bundle; the searches wait for a pause
      if (q !== null) for (const part of eng.parts) part.preload(q, { filters }).catch(() => {});
      let done = false;
      let newest = null;  // the newest bundle's answer, which the whole list reuses
      timer = setTimeout(() => {
        if (token !== seq) return;
        term = value;
        status.textContent = t("Searching for %(term)s…", { term: value });
        const url = new URL(location.href);
        if (value) url.searchParams.set("q", value); else url.searchParams.delete("q");
        history.replaceState(history.state, "", url.pathname + url.search + url.hash);
        if (eng.quick) {
          newest = eng.quick.search(q, { filters });
          newest.then((res) => {
            if (token === seq && !done) return showQuick(token, res, () => done);
          }).catch(() => {});
        }
      }, now ? 0 : QUICK_MS);
      // the whole archive after a longer pause: typing a word runs it once, not for every prefix
      wholeTimer = setTimeout(() => searchWhole(() => {
        if (token !== seq) return Promise.resolve();
        const search = (part) => part.search(q, { filters });
        const first = newest ? newest.catch(() => search(eng.parts[0])) : search(eng.parts[0]);
        const whole = Promise.all([first, ...eng.parts.slice(1).map(search)]).then(mergeAnswers);
        whole.then((res) => {
          done = true;
          if (token === seq) return showAll(token, eng, res);
        }).catch((err) => {
          if (token === seq) status.textContent = t("Could not load: %(error)s", { error: err && err.message ? err.message : String(err) });
        });
        return whole;
      }), now ? 0 : eng.quick && !jump ? WHOLE_MS : QUICK_MS);
    }, () => {});  // a failed start-up is on the status line already
  }

  more.addEventListener("click", () => {
    const token = seq;
    more.disabled = true;
    fill(token, candidates, next, list, null).then((i) => {
      if (token !== seq) return;
      next = i;
      more.disabled = false;
      more.hidden = next >= candidates.length;
    });
  });

  // keyboard: Enter searches now; the arrow keys move between the box and the result links
  form.addEventListener("submit", (e) => { e.preventDefault(); run(true); });
  box.addEventListener("input", () => run(false));
  function links() { return [...list.querySelectorAll("a.pagefind-ui__result-link")]; }
  box.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" && links().length) { e.preventDefault(); links()[0].focus(); }
  });
  area.addEventListener("keydown", (e) => {
    const all = links();
    const at = all.indexOf(document.activeElement);
    if (at < 0) return;
    if (e.key === "ArrowDown" && at + 1 < all.length) { e.preventDefault(); all[at + 1].focus(); }
    else if (e.key === "ArrowUp") { e.preventDefault(); (at > 0 ? all[at - 1] : box).focus(); }
    else if (e.key === "Escape") { e.preventDefault(); box.focus(); }
  });

  // warm-up: Pagefind, every bundle and the filters load when the browser is first idle, or at
  // once when the reader reaches for the box, whichever comes first (the first search waits for it)
  ["focus", "input", "pointerdown", "touchstart", "keydown"].forEach((type) => {
    el.addEventListener(type, ready, { capture: true, passive: true });
  });
  if (cfg.query) {
    box.value = cfg.query;
    run(true);
  } else {
    box.focus();
    if (typeof window.requestIdleCallback === "function") window.requestIdleCallback(ready, { timeout: 1500 });
    else setTimeout(ready, 200);
  }
  return { box, run };
}
