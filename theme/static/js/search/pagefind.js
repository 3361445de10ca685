/* The search page's Pagefind, as Pagefind's UI imports it (its bundlePath is this folder) when
   the index holds listing records (scripts/search_index.py --records listings): the newest
   period's pagefind.js (the same module the page's warm-up imports and merges every period into),
   with every search's results less the records a newer listing of the same paper supersedes
   (periods.json "hide": their ids; "check": ids that a record still shown has too, in another
   bundle, dropped only when the result's URL is the superseded one's). site.js sets
   window.arxivDigestSearch = {bundle, hide, check} before the UI starts. */
const cfg = globalThis.arxivDigestSearch || { bundle: "", hide: [], check: {} };
const pf = await import(cfg.bundle + "pagefind.js");
const hide = new Set(cfg.hide || []);
const check = cfg.check || {};

async function shown(response) {
  if (!response || !Array.isArray(response.results)) return response;
  const out = [];
  for (const r of response.results) {
    if (hide.has(r.id)) continue;
    if (Object.prototype.hasOwnProperty.call(check, r.id)) {
      const data = await r.data();
      if (check[r.id].indexOf(data.raw_url || data.url) !== -1) continue;
    }
    out.push(r);
  }
  response.results = out;
  return response;
}

export const options = pf.options;
export const mergeIndex = pf.mergeIndex;
export const filters = pf.filters;
export const preload = pf.preload;
export const init = pf.init;
export const destroy = pf.destroy;
export const createInstance = pf.createInstance;
export async function search(term, opts) { return shown(await pf.search(term, opts)); }
export async function debouncedSearch(term, opts, ms) { return shown(await pf.debouncedSearch(term, opts, ms)); }
