// Runs theme/static/js/radar.js in node for the Python side (tests/test_radar.py, bench/bench_radar.py):
// one ranker, the browser's. Reads one JSON job on stdin, writes one JSON answer on stdout.
//   {"mode": "terms", "stopwords": [...], "bits": 17, "texts": [...]}        -> [[terms], [hashes]] per text
//   {"mode": "rank", "manifest": {...}, "days": [{"date": "...", "idx": {...}, "ids": {...}, "au": {...}}],
//    "library": {"name": "x.bib", "text": "..."} | null, "profile": {...}, "limit": 50, "code": false}
//   (idx: a .idx.json, format 4; ids: the day's .ids.json, which the page fetches only when the profile
//   likes papers (Radar.needsIds), here whenever given: then each result has its id and a paper
//   listed on several days comes once, where it ranks best, as the page shows it (radar.distinct);
//   au: the day's .au.json, needed only to match followed authors)
//                                                                -> {"items": n, "ids": fetched, "results": [...]}
"use strict";
const path = require("path");
const radar = require(path.join(__dirname, "..", "theme", "static", "js", "radar.js"));

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (c) => { input += c; });
process.stdin.on("end", () => {
  const job = JSON.parse(input);
  if (job.mode === "terms") {
    const out = job.texts.map((t) => {
      const terms = radar.terms(job.stopwords, t);
      return [terms, terms.map((x) => radar.hash(x, job.bits))];
    });
    process.stdout.write(JSON.stringify(out));
    return;
  }
  const profile = radar.cleanProfile(job.profile || {});
  if (job.library) profile.library = {name: job.library.name, items: radar.parseLibrary(job.library.text, job.library.name)};
  const r = new radar.Radar(job.manifest);
  const days = job.days.map((d) => {
    const idx = radar.decodeDay(d.idx, job.manifest.bits);
    return {date: d.date, idx: idx, ids: d.ids ? radar.decodeIds(d.ids, idx.n) : null, au: d.au ? d.au.au : null};
  });
  const withIds = days.every((d) => d.ids);
  let ranked = r.rank(profile, days, 0, {code: !!job.code});
  if (withIds) ranked = radar.distinct(ranked, (x) => days[x.day].ids[x.doc], job.limit || 0);
  else if (job.limit) ranked = ranked.slice(0, job.limit);
  const results = ranked.map((x) => ({
    id: withIds ? days[x.day].ids[x.doc] : null, date: x.date, doc: x.doc, score: x.score,
    reasons: r.reasons(profile, x).map((y) => y.kind + ": " + y.text),
  }));
  process.stdout.write(JSON.stringify({items: profile.library.items.length, ids: r.needsIds(profile), results: results}));
});
