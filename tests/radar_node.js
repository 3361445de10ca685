// Runs theme/static/js/radar.js in node for the Python side (tests/test_radar.py, bench/bench_radar.py):
// one ranker, the browser's. Reads one JSON job on stdin, writes one JSON answer on stdout.
//   {"mode": "terms", "stopwords": [...], "bits": 18, "texts": [...]}        -> [[terms], [hashes]] per text
//   {"mode": "rank", "manifest": {...}, "days": [{"idx": {...}, "au": {...}}],  (idx: a .idx.json, format 3)
//    "library": {"name": "x.bib", "text": "..."} | null, "profile": {...}, "limit": 50, "code": false}
//   (au: the day's .au.json, needed only to match followed authors)
//                                                                              -> {"items": n, "results": [...]}
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
  const days = job.days.map((d) => ({idx: radar.decodeDay(d.idx), au: d.au ? d.au.au : null}));
  const r = new radar.Radar(job.manifest);
  const results = r.rank(profile, days, job.limit || 0, {code: !!job.code}).map((x) => ({
    id: x.id, date: x.date, doc: x.doc, score: x.score,
    reasons: r.reasons(profile, x).map((y) => y.kind + ": " + y.text),
  }));
  process.stdout.write(JSON.stringify({items: profile.library.items.length, results: results}));
});
