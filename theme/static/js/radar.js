/* The radar: a private, personal ranking of the digest's papers, computed in the browser.
 *
 * The reader's profile (keywords, authors to follow, arXiv ids they like, an uploaded BibTeX,
 * RIS or CSL-JSON library) is parsed here and kept in localStorage only; it is never sent
 * anywhere. The page fetches radar/days.json and the ranking index of each day it ranks
 * (<day>.idx.json), the same files for every reader; the days' ids (<day>.ids.json) only when the
 * profile likes papers (typed arXiv ids, or a library citing arXiv papers) and their authors' match
 * keys (<day>.au.json) only when it follows authors; then, to show the results, the display files
 * (<day>.mK.json: ids, titles and authors, 32 papers each) that hold them. A paper listed on
 * several days (a new version) is shown once, where it ranks best.
 *
 * Ranking: the profile's terms (tokenized exactly as plugins/arxiv_digest/site/radar.py does:
 * same stop words, stemmer, pairs and FNV-1a hash) weighted by how often the library uses them,
 * matched against each paper's indexed terms (a day's index is one bit stream: `Bits`,
 * `decodeDay`) with idf over the days loaded; plus followed
 * authors and liked papers. bench/bench_radar.py runs this file in node: one ranker.
 *
 * Everything the page shows is set with textContent: nothing from a library or a paper is ever
 * parsed as HTML.
 */
(function (root) {
  "use strict";
  function t(msg, vars) {  // the page's language (site.js's catalog strings), else the English msgid
    var tr = typeof window !== "undefined" && window.digestT;
    return tr ? tr(msg, vars) : msg.replace(/%\((\w+)\)s/g, function (m, k) { return vars && k in vars ? String(vars[k]) : m; });
  }

  var B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  var STORE_KEY = "arxiv-digest-radar";
  var FORMAT = "arxiv-digest-radar";
  var MAX_FILE = 10 * 1024 * 1024;      // a library file larger than this is refused
  var MAX_ITEMS = 20000;                // entries kept from one library
  var MAX_FIELD = 20000;                // characters kept from one field
  var W = {keyword: 3, liked: 2, author: 30, closeShare: 0.25};

  // ---- tokenizer: the same function as radar.py `terms` ----
  var MATH = /\$\$[\s\S]*?\$\$|\$[^$]*\$|\\\([\s\S]*?\\\)|\\\[[\s\S]*?\\\]/g;
  function fold(text) {
    return String(text || "").replace(MATH, " ").toLowerCase().normalize("NFKD").replace(/\p{Mn}/gu, "");
  }
  function stem(w) {
    if (w.length > 3 && /ies$/.test(w) && !/(eies|aies)$/.test(w)) return w.slice(0, -3) + "y";
    if (w.length > 3 && /es$/.test(w) && !/(aes|ees|oes)$/.test(w)) return w.slice(0, -1);
    if (w.length > 2 && /s$/.test(w) && !/(us|ss|is)$/.test(w)) return w.slice(0, -1);
    return w;
  }
  function makeTerms(stopwords) {
    var stop = new Set(stopwords);
    return function terms(text) {
      var out = [], prev = "", words = fold(text).match(/[a-z0-9]+/g) || [];
      for (var i = 0; i < words.length; i++) {
        var raw = words[i];
        if (raw.length < 2 || stop.has(raw) || /^[0-9]+$/.test(raw)) { prev = ""; continue; }
        var w = stem(raw);
        out.push(w);
        if (prev) out.push(prev + " " + w);
        prev = w;
      }
      return out;
    };
  }
  function hash(term, bits) {
    var h = 0x811c9dc5;
    var bytes = unescape(encodeURIComponent(term));
    for (var i = 0; i < bytes.length; i++) {
      h ^= bytes.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h >>> (32 - bits);
  }

  // ---- the bit stream of radar.py `Bits`: base64url digits of 6 bits, most significant bit first ----
  var DIGIT = {};
  for (var di = 0; di < B64.length; di++) DIGIT[B64.charAt(di)] = di;
  function Bits(s) { this.s = String(s || ""); this.i = 0; this.cur = 0; this.left = 0; }
  Bits.prototype.bit = function () {
    if (!this.left) {
      var d = DIGIT[this.s.charAt(this.i++)];
      if (d === undefined) throw new Error(t("radar index: bad digit"));  // or past its end
      this.cur = d; this.left = 6;
    }
    this.left--;
    return (this.cur >> this.left) & 1;
  };
  Bits.prototype.fixed = function (w) { var v = 0; for (var i = 0; i < w; i++) v = v * 2 + this.bit(); return v; };
  Bits.prototype.rice = function (k) {
    var q = 0;
    while (this.bit()) q++;
    return q * Math.pow(2, k) + this.fixed(k);
  };
  Bits.prototype.expgolomb = function (k) {
    var z = 0;
    while (!this.bit()) if (++z > 40) throw new Error(t("radar index: bad digit"));
    return this.fixed(z + k) + Math.pow(2, z + k) - Math.pow(2, k);
  };
  Bits.prototype.below = function (bound) {  // truncated binary: 0 <= value < bound
    if (!(bound >= 1)) throw new Error(t("radar index: bad digit"));
    var width = 0;
    if (bound <= 0x40000000) width = 32 - Math.clz32(bound - 1);  // the bit length of bound - 1
    else while (Math.pow(2, width) < bound) width++;
    if (!width) return 0;
    var short = Math.pow(2, width) - bound, x = this.fixed(width - 1);
    return x < short ? x : x * 2 + this.bit() - short;
  };
  Bits.prototype.list = function (max) {  // radar.py `_list`: a count, a parameter, the numbers
    var m = this.expgolomb(0), k = this.fixed(5), out = [];
    if (m > max) throw new Error(t("radar index: bad digit"));
    for (var i = 0; i < m; i++) out.push(this.expgolomb(k));
    return out;
  };

  // ---- one day's files (radar.py build_day): the ranking index (pack_day), the ids (pack_ids) ----
  var FORMAT_INDEX = 4;
  function need(ok) { if (!ok) throw new Error(t("radar index: bad digit")); }
  function arxivId(v) {
    var yymm = Math.floor(v / 100000), num = String(v % 100000);
    while (num.length < (yymm >= 1501 ? 5 : 4)) num = "0" + num;
    return ("000" + yymm).slice(-4) + "." + num;
  }
  function riceList(b, m) {  // radar.py `_rice_list`: m numbers
    var k = b.fixed(5), out = [];
    for (var i = 0; i < m; i++) out.push(b.rice(k));
    return out;
  }
  function hashSet(b, bits) {  // radar.py `_hash_set`: increasing hashes below 2^bits
    var m = b.expgolomb(0), h = -1, out = [];
    need(m <= Math.pow(2, bits));
    riceList(b, m).forEach(function (gap) { h += gap + 1; out.push(h); });
    need(h < Math.pow(2, bits));
    return out;
  }
  function increasing(b, max) {  // a list of gaps less one (the first from -1) -> the numbers, each < max
    var v = -1;
    return b.list(max).map(function (gap) { v += gap + 1; need(v < max); return v; });
  }
  // idx: a <day>.idx.json; returns {n, key, post: hash -> [doc, ...], docs[doc]: [hash, ...], code: Set}
  function decodeDay(idx, bits) {
    need(idx && idx.v === FORMAT_INDEX && typeof idx.n === "number" && idx.n >= 0 && idx.n <= 1e6);
    bits = bits || 32;
    var n = idx.n, b = new Bits(idx.p), post = new Map(), docs = [], left = [], i, j;
    var code = new Set(increasing(b, n));
    var top = b.expgolomb(0);
    need(top <= 1000);
    for (i = 0; i < n; i++) { docs.push([]); left.push(top); }
    increasing(b, n).forEach(function (doc) { var less = b.expgolomb(0) + 1; need(less <= top); left[doc] = top - less; });
    var shared = hashSet(b, bits), counts = riceList(b, shared.length), single = hashSet(b, bits);
    var live = [];
    for (i = 0; i < n; i++) if (left[i]) live.push(i);
    function take(h, count) {  // the hash's papers: increasing positions among the live papers
      var size = live.length, low = 0, these = [], at = [];
      need(count <= size && !post.has(h));
      for (j = 0; j < count; j++) { at.push(low + b.below(size - low)); these.push(live[at[j]]); low = at[j] + 1; }
      for (j = count - 1; j >= 0; j--) {  // from the last: the earlier positions stay where they are
        docs[these[j]].push(h);
        if (!--left[these[j]]) live.splice(at[j], 1);
      }
      post.set(h, these);
    }
    shared.forEach(function (h, k) { take(h, counts[k] + 2); });
    single.forEach(function (h) { take(h, 1); });
    need(!live.length);  // every paper received its hashes
    return {n: n, key: String(idx.key || ""), post: post, docs: docs, code: code};
  }
  // ids: a <day>.ids.json; returns the day's ids in the papers' order
  function decodeIds(ids, n) {
    need(ids && ids.v === FORMAT_INDEX && ids.n === n);
    var b = new Bits(ids.p), out = [], m = b.expgolomb(0);
    need(m <= n);
    if (m) {
      var v = b.fixed(30);
      out.push(arxivId(v));
      b.list(n).forEach(function (gap) { v += gap + 1; out.push(arxivId(v)); });
    }
    (Array.isArray(ids.xids) ? ids.xids : []).forEach(function (x) { out.push(String(x)); });
    need(out.length === n);
    return out;
  }

  // ---- author names: "Han, Song", "Song Han", "S. Han" -> "s han" ----
  function authorKey(name) {
    var s = fold(name).replace(/[{}\\]/g, "");
    if (s.indexOf(",") >= 0) { var p = s.split(","); s = p.slice(1).join(" ") + " " + p[0]; }
    var words = s.match(/[a-z0-9]+/g) || [];
    if (!words.length) return "";
    return (words.length > 1 ? words[0].charAt(0) + " " : "") + words[words.length - 1];
  }

  // ---- library parsers ----
  var ACCENT = {"'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303", "=": "\u0304",
    ".": "\u0307", "c": "\u0327", "v": "\u030c", "u": "\u0306", "H": "\u030b", "r": "\u030a", "k": "\u0328"};
  var SPECIAL = {L: "\u0141", l: "\u0142", o: "\u00f8", O: "\u00d8", ss: "\u00df", aa: "\u00e5", AA: "\u00c5",
    ae: "\u00e6", AE: "\u00c6", oe: "\u0153", OE: "\u0152", i: "\u0131", j: "\u0237"};
  function detex(s) {
    s = String(s).slice(0, MAX_FIELD);
    s = s.replace(/\\([`'^"~=.])\s*\{?\s*\\?([A-Za-z])\s*\}?/g, function (_, a, ch) { return ch + ACCENT[a]; });
    s = s.replace(/\\([cvuHrk])\s*\{\s*\\?([A-Za-z])\s*\}/g, function (_, a, ch) { return ch + ACCENT[a]; });
    s = s.replace(/\\(ss|aa|AA|ae|AE|oe|OE|L|l|o|O|i|j)(?![A-Za-z])\s*/g, function (_, c) { return SPECIAL[c]; });
    s = s.replace(/\\([&%#_$])/g, "$1");
    s = s.replace(/\\[A-Za-z]+\*?/g, " ");
    s = s.replace(/[{}]/g, "").replace(/~/g, " ");
    return s.normalize("NFC").replace(/\s+/g, " ").trim();
  }
  function splitAuthors(raw) {
    var out = [], depth = 0, cur = "", s = String(raw);
    for (var i = 0; i < s.length; i++) {
      var c = s.charAt(i);
      if (c === "{") depth++;
      else if (c === "}") depth = Math.max(0, depth - 1);
      if (depth === 0 && /\s/.test(c) && /^and\s/i.test(s.slice(i + 1, i + 5))) {
        out.push(cur); cur = ""; i += 4; continue;
      }
      cur += c;
    }
    out.push(cur);
    return out.map(function (a) {
      var name = detex(a);
      if (name.indexOf(",") >= 0) {
        var parts = name.split(",");
        name = (parts.slice(1).join(" ").trim() + " " + parts[0].trim()).trim();
      }
      return name;
    }).filter(function (a) { return a && a.toLowerCase() !== "others"; });
  }
  function arxivIn(text) {
    var s = String(text || "");
    if (!/arxiv/i.test(s)) return "";
    var m = /(\d{4}\.\d{4,5})/.exec(s);
    return m ? m[1] : "";
  }
  function item(title, authors, abstract, arxiv) {
    return {t: String(title || "").slice(0, MAX_FIELD), a: authors.slice(0, 200).map(function (x) { return String(x).slice(0, 200); }),
            ab: String(abstract || "").slice(0, MAX_FIELD), x: arxiv || ""};
  }
  function readValue(s, i) {
    // one BibTeX value at s[i]: {...}, "..." or a bare word, joined by #
    var parts = [];
    for (;;) {
      while (i < s.length && /\s/.test(s.charAt(i))) i++;
      var c = s.charAt(i), start, depth;
      if (c === "{") {
        depth = 0; start = i + 1;
        for (; i < s.length; i++) {
          if (s.charAt(i) === "{") depth++;
          else if (s.charAt(i) === "}" && --depth === 0) break;
        }
        parts.push(s.slice(start, i)); i++;
      } else if (c === '"') {
        depth = 0; start = i + 1; i++;
        for (; i < s.length; i++) {
          var d = s.charAt(i);
          if (d === "{") depth++; else if (d === "}") depth--; else if (d === '"' && depth <= 0) break;
        }
        parts.push(s.slice(start, i)); i++;
      } else {
        start = i;
        while (i < s.length && /[^\s,#}]/.test(s.charAt(i))) i++;
        parts.push(s.slice(start, i));
      }
      while (i < s.length && /\s/.test(s.charAt(i))) i++;
      if (s.charAt(i) === "#") { i++; continue; }
      return {value: parts.join(""), end: i};
    }
  }
  function parseBibtex(text) {
    var s = String(text), out = [], i = 0, re = /@\s*([A-Za-z]+)\s*[{(]/g, m;
    while (out.length < MAX_ITEMS && (m = re.exec(s))) {
      var type = m[1].toLowerCase();
      i = re.lastIndex;
      if (type === "comment" || type === "preamble" || type === "string") continue;
      var comma = s.indexOf(",", i);
      if (comma < 0) break;
      i = comma + 1;
      var fields = {}, guard = 0;
      while (i < s.length && guard++ < 500) {
        var fm = /^\s*([A-Za-z][\w:.+-]*)\s*=\s*/.exec(s.slice(i, i + 200));
        if (!fm) break;
        var v = readValue(s, i + fm[0].length);
        fields[fm[1].toLowerCase()] = v.value;
        i = v.end;
        if (s.charAt(i) === ",") i++;
      }
      re.lastIndex = Math.max(re.lastIndex, i);
      if (!fields.title) continue;
      var arxiv = "";
      ["eprint", "note", "journal", "url", "doi", "howpublished", "booktitle", "archiveprefix"].forEach(function (k) {
        if (!arxiv && fields[k]) arxiv = arxivIn((k === "eprint" ? "arxiv " : "") + fields[k]);
      });
      out.push(item(detex(fields.title), fields.author ? splitAuthors(fields.author) : [],
                    fields.abstract ? detex(fields.abstract) : "", arxiv));
    }
    return out;
  }
  function parseRis(text) {
    var out = [], cur = null;
    String(text).split(/\r?\n/).forEach(function (line) {
      if (out.length >= MAX_ITEMS) return;
      var m = /^([A-Z][A-Z0-9])  -\s?(.*)$/.exec(line);
      if (!m) return;
      var tag = m[1], val = m[2].trim();
      if (tag === "TY") cur = {t: "", a: [], ab: "", x: ""};
      else if (!cur) return;
      else if (tag === "ER") { if (cur.t) out.push(item(cur.t, cur.a, cur.ab, cur.x)); cur = null; }
      else if ((tag === "TI" || tag === "T1") && !cur.t) cur.t = val;
      else if (tag === "AU" || tag === "A1") cur.a.push(splitAuthors(val)[0] || val);
      else if (tag === "AB" || tag === "N2") cur.ab = cur.ab ? cur.ab + " " + val : val;
      else if (!cur.x && /^(UR|DO|M3|N1|JO|T2|L1|L2)$/.test(tag)) cur.x = arxivIn(val);
    });
    return out;
  }
  function parseCsl(text) {
    var data = JSON.parse(text);
    if (data && !Array.isArray(data) && Array.isArray(data.items)) data = data.items;
    if (!Array.isArray(data)) throw new Error(t("not a CSL-JSON list of items"));
    return data.slice(0, MAX_ITEMS).filter(function (it) { return it && typeof it.title === "string"; }).map(function (it) {
      var authors = Array.isArray(it.author) ? it.author.map(function (a) {
        if (!a || typeof a !== "object") return "";
        return typeof a.literal === "string" ? a.literal : [a.given, a.family].filter(function (x) { return typeof x === "string"; }).join(" ");
      }).filter(Boolean) : [];
      var arxiv = "";
      ["URL", "DOI", "note", "number", "archive_location", "container-title"].forEach(function (k) {
        if (!arxiv && typeof it[k] === "string") arxiv = arxivIn(it[k]);
      });
      return item(it.title, authors, typeof it.abstract === "string" ? it.abstract : "", arxiv);
    });
  }
  function parseLibrary(text, name) {
    if (text.length > MAX_FILE) throw new Error(t("the file is larger than 10 MB"));
    var t = text.replace(/^\uFEFF/, "").trim();
    if (/\.json$/i.test(name || "") || t.charAt(0) === "[" || t.charAt(0) === "{") return parseCsl(t);
    if (/\.ris$/i.test(name || "") || /^TY  - /m.test(t)) return parseRis(t);
    return parseBibtex(t);
  }

  // ---- the profile ----
  function emptyProfile() { return {keywords: [], authors: [], ids: [], library: {name: "", items: []}}; }
  function strings(list, max, len) {
    return (Array.isArray(list) ? list : []).filter(function (x) { return typeof x === "string"; })
      .map(function (x) { return x.trim().slice(0, len); }).filter(Boolean).slice(0, max);
  }
  function cleanProfile(p) {
    // whatever was stored or imported, keep only the expected shape (strings, bounded)
    var out = emptyProfile();
    if (!p || typeof p !== "object") return out;
    out.keywords = strings(p.keywords, 500, 200);
    out.authors = strings(p.authors, 500, 200);
    out.ids = strings(p.ids, 2000, 40).map(function (x) { return (/(\d{4}\.\d{4,5})/.exec(x) || [""])[0]; }).filter(Boolean);
    var lib = p.library && typeof p.library === "object" ? p.library : {};
    out.library.name = typeof lib.name === "string" ? lib.name.slice(0, 200) : "";
    out.library.items = (Array.isArray(lib.items) ? lib.items : []).slice(0, MAX_ITEMS)
      .filter(function (it) { return it && typeof it.t === "string"; })
      .map(function (it) { return item(it.t, strings(it.a, 200, 200), typeof it.ab === "string" ? it.ab : "", typeof it.x === "string" ? it.x : ""); });
    return out;
  }
  function exportProfile(p) { return JSON.stringify({format: FORMAT, version: 1, profile: cleanProfile(p)}); }
  function importProfile(text) {
    var data = JSON.parse(text);
    if (!data || data.format !== FORMAT || data.version !== 1) throw new Error(t("not a radar profile file"));
    return cleanProfile(data.profile);
  }

  // ---- ranking ----
  function Radar(params) {
    this.bits = params.bits;
    this.titleWeight = params.title_weight;
    this.chunk = params.chunk || 32;
    this.terms = makeTerms(params.stopwords);
  }
  Radar.prototype.query = function (profile) {
    if (this._q && this._qFor === profile) return this._q;  // reasons() asks again for every result
    this._qFor = profile;
    this._q = this.buildQuery(profile);
    return this._q;
  };
  Radar.prototype.buildQuery = function (profile) {
    var self = this, w = new Map(), words = new Map(), lib = [], kw = new Set();
    function add(map, t, v) { var h = hash(t, self.bits); map.set(h, (map.get(h) || 0) + v); if (!words.has(h)) words.set(h, t); return h; }
    var counts = new Map();
    profile.library.items.forEach(function (it) {
      var set = new Set();
      self.terms(it.t).forEach(function (t) { set.add(add(counts, t, self.titleWeight)); });
      self.terms(it.ab).forEach(function (t) { set.add(add(counts, t, 1)); });
      lib.push(set);
    });
    counts.forEach(function (v, h) { w.set(h, 1 + Math.log(v)); });
    profile.keywords.forEach(function (k) {
      self.terms(k).forEach(function (t) { var h = add(w, t, W.keyword); kw.add(h); words.set(h, t); });
    });
    var follow = new Map();
    profile.authors.forEach(function (a) { var k = authorKey(a); if (k) follow.set(k, a); });
    var liked = new Set(profile.ids);
    profile.library.items.forEach(function (it) { if (it.x) liked.add(it.x); });
    return {w: w, words: words, lib: lib, kw: kw, follow: follow, liked: liked};
  };
  // the profile's liked arXiv ids (typed or cited by the library): the days' ids are needed then only
  Radar.prototype.needsIds = function (profile) { return this.query(profile).liked.size > 0; };
  // days: [{date, idx: decodeDay(...), ids: decodeIds(...) if the profile likes papers (needsIds),
  // au: the day's author keys (.au.json's "au") if it follows authors}]; options.code: only papers
  // with code; returns results, best first (a paper listed on several days can come more than
  // once: `distinct` keeps its best)
  Radar.prototype.rank = function (profile, days, limit, options) {
    var codeOnly = !!(options && options.code);
    var q = this.query(profile), cnt = new Map(), total = 0;
    days.forEach(function (d) {
      total += d.idx.n;
      d.idx.post.forEach(function (list, h) { cnt.set(h, (cnt.get(h) || 0) + list.length); });
    });
    function idf(h) { var x = Math.log(1 + total / (cnt.get(h) || 1)); return x * x; }  // idf on both sides (tf-idf cosine)
    // liked papers found in the loaded days lend their terms to the query
    var lw = new Map(), likedHere = new Set();
    days.forEach(function (d, di) {
      (d.ids || []).forEach(function (id, doc) {
        if (!q.liked.has(id)) return;
        likedHere.add(di + ":" + doc);
        var hs = d.idx.docs[doc];
        for (var k = 0; k < hs.length; k++) lw.set(hs[k], (lw.get(hs[k]) || 0) + W.liked);
      });
    });
    var out = [];
    days.forEach(function (d, di) {
      for (var doc = 0; doc < d.idx.n; doc++) {
        if (codeOnly && !d.idx.code.has(doc)) continue;
        var hs = d.idx.docs[doc], score = 0, matched = [];
        for (var k = 0; k < hs.length; k++) {
          var h = hs[k], wq = (q.w.get(h) || 0) + (lw.get(h) || 0);
          if (!wq) continue;
          var c = wq * idf(h);
          score += c;
          matched.push([h, c]);
        }
        var authors = [];
        if (q.follow.size && d.au && typeof d.au[doc] === "string" && d.au[doc]) {
          d.au[doc].split("|").forEach(function (k) { if (q.follow.has(k) && authors.indexOf(q.follow.get(k)) < 0) authors.push(q.follow.get(k)); });
        }
        var liked = likedHere.has(di + ":" + doc);
        if (score <= 0 && !liked && !authors.length) continue;
        out.push({day: di, date: d.date, doc: doc, score: score, matched: matched,
                  authors: authors, liked: liked});
      }
    });
    // a followed author lifts a paper by half the best text score (at least W.author) per author
    var best = out.reduce(function (m, r) { return Math.max(m, r.score); }, 0);
    out.forEach(function (r) { r.score += r.authors.length * Math.max(W.author, best / 2); });
    out.sort(function (a, b) { return b.score - a.score || (a.date < b.date ? 1 : a.date > b.date ? -1 : 0) || a.doc - b.doc; });
    return limit ? out.slice(0, limit) : out;
  };
  // the results whose id (idOf(r): from the display files) was not seen before, at most `limit`
  // (0: all): a paper listed on several days is shown once, where it ranks best
  function distinct(results, idOf, limit) {
    var seen = new Set(), out = [];
    for (var i = 0; i < results.length && (!limit || out.length < limit); i++) {
      var id = idOf(results[i]);
      if (seen.has(id)) continue;
      seen.add(id);
      out.push(results[i]);
    }
    return out;
  }
  // why a result is there: followed authors, the library papers it is close to, the words matched
  Radar.prototype.reasons = function (profile, r) {
    var q = this.query(profile), out = [];
    if (r.liked) out.push({kind: "liked", text: t("a paper you like")});
    if (r.authors.length) out.push({kind: "author", text: t("by an author you follow: %(names)s", {names: r.authors.join(", ")})});
    var matched = r.matched.slice().sort(function (a, b) { return b[1] - a[1]; });
    var close = [];
    q.lib.forEach(function (set, k) {
      var s = 0;
      matched.forEach(function (m) { if (set.has(m[0])) s += m[1]; });
      if (s >= W.closeShare * r.score) close.push([s, k]);
    });
    close.sort(function (a, b) { return b[0] - a[0] || a[1] - b[1]; });
    if (close.length) {
      out.push({kind: "library", text: t(close.length === 1 ? "close to %(num)s paper in your library: %(titles)s" :
        "close to %(num)s papers in your library: %(titles)s", {num: close.length,
        titles: close.slice(0, 3).map(function (c) { return profile.library.items[c[1]].t; }).join("; ")})});
    }
    var words = matched.map(function (m) { return q.words.get(m[0]); }).filter(Boolean);
    if (words.length) out.push({kind: "matches", text: t("matches: %(words)s", {words: words.slice(0, 6).join(", ")})});
    return out;
  };

  var api = {terms: function (stopwords, text) { return makeTerms(stopwords)(text); }, hash: hash, stem: stem,
    Bits: Bits, decodeDay: decodeDay, decodeIds: decodeIds, distinct: distinct, parseBibtex: parseBibtex, parseRis: parseRis, parseCsl: parseCsl,
    parseLibrary: parseLibrary, cleanProfile: cleanProfile, exportProfile: exportProfile, importProfile: importProfile,
    emptyProfile: emptyProfile, authorKey: authorKey, Radar: Radar, weights: W};
  if (typeof module === "object" && module.exports) { module.exports = api; return; }
  root.ArxivRadar = api;

  // ---- the page (radar/index.html) ----
  var doc = root.document;
  var page = doc && doc.getElementById("radar");
  if (!page) return;
  var $ = function (sel) { return page.querySelector(sel); };
  var PAGE = 20;  // results shown at first, and added by "Show more"
  var state = {manifest: null, days: [], period: 30, shown: PAGE, code: false, token: 0, profile: load()};
  var codeButton = $("button.radar-code");
  var codeLabel = codeButton.textContent.trim();  // "has code" as the template translated it

  function load() {
    try { return cleanProfile(JSON.parse(root.localStorage.getItem(STORE_KEY) || "null")); } catch (e) { return emptyProfile(); }
  }
  function save() {
    try { root.localStorage.setItem(STORE_KEY, JSON.stringify(state.profile)); }
    catch (e) { status(t("Could not save the profile in this browser (%(error)s).", {error: e.name})); }
  }
  function status(text) { $(".radar-status").textContent = text; }
  function el(tag, cls, text) {
    var e = doc.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function lines(text) { return String(text).split(/\r?\n|;/).map(function (s) { return s.trim(); }).filter(Boolean); }
  function fillForm() {
    $("#radar-keywords").value = state.profile.keywords.join("\n");
    $("#radar-authors").value = state.profile.authors.join("\n");
    $("#radar-ids").value = state.profile.ids.join("\n");
    var lib = state.profile.library;
    $(".radar-library").textContent = lib.items.length ?
      t("%(num)s papers from %(name)s", {num: lib.items.length, name: lib.name || t("your library")}) : t("No library loaded.");
  }
  function readForm() {
    state.profile.keywords = lines($("#radar-keywords").value).slice(0, 500);
    state.profile.authors = lines($("#radar-authors").value).slice(0, 500);
    state.profile.ids = lines($("#radar-ids").value);
    state.profile = cleanProfile(state.profile);
  }
  function fetchJson(url) {
    return root.fetch(url, {credentials: "same-origin"}).then(function (r) {
      if (!r.ok) throw new Error(url + ": HTTP " + r.status);
      return r.json();
    });
  }
  function wantedDays() {
    var all = state.manifest.days, only = new URLSearchParams(root.location.search).get("day");
    if (only) return all.filter(function (d) { return d.date === only; });
    if (!all.length) return [];
    var newest = new Date(all[0].date + "T00:00:00Z"), from = new Date(newest.getTime() - (state.period - 1) * 864e5);
    var iso = from.toISOString().slice(0, 10);
    return all.filter(function (d) { return d.date >= iso; });
  }
  function loadDays() {
    // the ranking index of every day in the period: the same files for every reader
    var want = wantedDays().filter(function (d) { return !state.days.some(function (x) { return x.date === d.date; }); });
    status(t(want.length === 1 ? "Loading %(num)s day…" : "Loading %(num)s days…", {num: want.length}));
    return Promise.all(want.map(function (d) {
      return fetchJson(d.idx).then(function (idx) {
        return {date: d.date, url: d.url, file: d.meta, auFile: d.au, idsFile: d.ids, chunks: d.chunks,
                idx: decodeDay(idx, state.manifest.bits), meta: [], au: null, ids: null};
      });
    })).then(function (loaded) {
      state.days = state.days.concat(loaded).sort(function (a, b) { return a.date < b.date ? 1 : -1; });
    });
  }
  function loadChunk(d, k) {
    // one display file (CHUNK papers' titles and authors), fetched once
    if (!d.meta[k]) {
      d.meta[k] = fetchJson(d.file.replace("%d", String(k))).then(function (m) {
        if (m.key !== d.idx.key || m.first !== k * state.manifest.chunk || !Array.isArray(m.id)) throw new Error(t("%(day)s: the display file does not match the index", {day: d.date}));
        d.meta[k] = m;
        return m;
      }, function (e) { d.meta[k] = null; throw e; });
    }
    return Promise.resolve(d.meta[k]);
  }
  function loadAuthors() {
    // following authors: they are matched on the days' author keys, fetched once a day
    if (!state.profile.authors.length) return Promise.resolve();
    return Promise.all(state.days.map(function (d) {
      if (!d.au) {
        d.au = fetchJson(d.auFile).then(function (x) {
          if (!Array.isArray(x.au) || x.au.length !== d.idx.n || x.key !== d.idx.key) throw new Error(t("%(day)s: the author file does not match the index", {day: d.date}));
          d.au = x.au;
        }, function (e) { d.au = null; throw e; });
      }
      return d.au;
    }));
  }
  function loadIds(radar) {
    // liked papers (typed, or cited by the library by arXiv id): found by the days' ids, fetched once a day
    if (!radar.needsIds(state.profile)) return Promise.resolve();
    return Promise.all(state.days.map(function (d) {
      if (!d.ids) {
        d.ids = fetchJson(d.idsFile).then(function (x) {
          need(x && x.key === d.idx.key);
          d.ids = decodeIds(x, d.idx.n);
        }, function (e) { d.ids = null; throw e; });
      }
      return d.ids;
    }));
  }
  function pick(radar, all, want) {
    // the first `want` distinct papers of the ranking (a paper listed on several days once, where it
    // ranks best), with the display files that show them; -> [results, whether more are left]. The
    // ids come from the days' id files if the profile fetched them, else from the display files:
    // then a duplicate costs a look further down the ranking.
    var chunk = radar.chunk, known = state.days.every(function (d) { return Array.isArray(d.ids); });
    var upto = Math.min(all.length, want);
    function idOf(r) {
      var d = state.days[r.day];
      if (known) return d.ids[r.doc];
      var m = d.meta[Math.floor(r.doc / chunk)];
      return m.id[r.doc - m.first];
    }
    function fetchShown(list) {
      return Promise.all(list.map(function (r) { return loadChunk(state.days[r.day], Math.floor(r.doc / chunk)); }));
    }
    if (known) {
      var got = distinct(all, idOf, want + 1);
      return fetchShown(got.slice(0, want)).then(function () { return [got.slice(0, want), got.length > want]; });
    }
    function step() {
      return fetchShown(all.slice(0, upto)).then(function () {
        var found = distinct(all.slice(0, upto), idOf, want);
        if (found.length >= want || upto >= all.length) return [found, upto < all.length];
        upto = Math.min(all.length, upto + want - found.length);  // duplicates: look further
        return step();
      });
    }
    return step();
  }
  function render() {
    var token = ++state.token, list = $(".radar-results"), more = $(".radar-show-more");
    var p = state.profile;
    list.setAttribute("aria-busy", "true");  // until this ranking is shown (or another one started)
    if (!p.keywords.length && !p.authors.length && !p.ids.length && !p.library.items.length) {
      list.textContent = "";
      more.hidden = true;
      status(t("Add keywords, authors, arXiv ids or a library to see your ranking."));
      list.setAttribute("aria-busy", "false");
      return Promise.resolve();
    }
    var radar = new Radar(state.manifest);
    return Promise.all([loadAuthors(), loadIds(radar)]).then(function () {
      var all = radar.rank(p, state.days, 0, {code: state.code});
      return pick(radar, all, state.shown).then(function (got) {
        if (token !== state.token) return;
        show(radar, got[0], got[1]);
        list.setAttribute("aria-busy", "false");
      });
    }).catch(function (e) {
      if (token === state.token) list.setAttribute("aria-busy", "false");
      throw e;
    });
  }
  function show(radar, results, more) {
    var list = $(".radar-results"), p = state.profile, chunk = radar.chunk;
    list.textContent = "";
    var top = results.length ? results[0].score : 1;  // scores shown out of 100 (the best result)
    var papers = state.days.reduce(function (n, d) { return n + (state.code ? d.idx.code.size : d.idx.n); }, 0);
    var one = state.days.length === 1, vars = {shown: results.length, total: papers, days: state.days.length};
    status(results.length ?
      t(state.code ? (one ? "Your top %(shown)s of %(total)s papers with code in 1 day." :
                            "Your top %(shown)s of %(total)s papers with code in %(days)s days.") :
                     (one ? "Your top %(shown)s of %(total)s papers in 1 day." :
                            "Your top %(shown)s of %(total)s papers in %(days)s days."), vars) :
      t(state.code ? "Nothing in these %(total)s papers with code matches your profile." :
        "Nothing in these %(total)s papers matches your profile.", vars));
    $(".radar-show-more").hidden = !more;
    results.forEach(function (r) {
      var d = state.days[r.day], m = d.meta[Math.floor(r.doc / chunk)], i = r.doc - m.first;
      var li = el("li", "radar-result");
      var id = m.id[i], listed = m.listed.indexOf(i) >= 0;
      if (r.authors.length) {  // the followed authors as this paper spells them
        var keys = new Set(r.authors.map(authorKey));
        var named = (m.au[i] || []).filter(function (x) { return keys.has(authorKey(x)); });
        if (named.length) r.authors = named;
      }
      var a = el("a", "radar-title", m.title[i]);
      a.href = listed && d.url ? "../" + d.url + "#" + id : state.manifest.abs_url + id + "v" + m.ver[i];
      var h = el("h3", "radar-h");
      h.appendChild(a);
      li.appendChild(h);
      li.setAttribute("data-id", id);
      li.setAttribute("data-score", r.score.toFixed(2));
      if (d.idx.code.has(r.doc)) li.setAttribute("data-code", "");
      var meta = el("p", "radar-meta");
      meta.appendChild(el("span", "radar-score", t("score %(score)s", {score: Math.max(1, Math.round(100 * r.score / top))})));
      meta.appendChild(doc.createTextNode(" · " + d.date + " · arXiv:" + id +
        (String(m.type[i]).indexOf("replace") === 0 ? " " + t("(updated)") : "")));
      if (d.idx.code.has(r.doc)) meta.appendChild(el("span", "radar-has-code", " · " + codeLabel));
      li.appendChild(meta);
      li.appendChild(el("p", "radar-authors", (m.au[i] || []).join(", ")));
      var why = el("ul", "radar-reasons");
      radar.reasons(p, r).forEach(function (x) { why.appendChild(el("li", "reason reason-" + x.kind, x.text)); });
      li.appendChild(why);
      list.appendChild(li);
    });
  }
  function rerank() {
    state.shown = PAGE;
    return render().catch(function (e) { status(t("Could not load the radar index: %(error)s", {error: e.message})); });
  }
  function refresh() {
    return loadDays().then(render).catch(function (e) { status(t("Could not load the radar index: %(error)s", {error: e.message})); });
  }
  function readFile(input, then) {
    var f = input.files && input.files[0];
    if (!f) return;
    if (f.size > MAX_FILE) { status(t("%(name)s is larger than 10 MB: not loaded.", {name: f.name})); input.value = ""; return; }
    var reader = new root.FileReader();
    reader.onload = function () { then(f.name, String(reader.result)); input.value = ""; };
    reader.onerror = function () { status(t("Could not read %(name)s.", {name: f.name})); };
    reader.readAsText(f);
  }

  page.addEventListener("submit", function (e) { e.preventDefault(); readForm(); save(); rerank(); });
  $("#radar-file").addEventListener("change", function () {
    readFile(this, function (name, text) {
      try {
        var items = parseLibrary(text, name);
        state.profile.library = {name: name.slice(0, 200), items: items};
        state.profile = cleanProfile(state.profile);
        save(); fillForm();
        rerank().then(function () { if (!items.length) status(t("No entry with a title in %(name)s.", {name: name})); });
      } catch (err) { status(t("Could not read %(name)s: %(error)s", {name: name, error: err.message})); }
    });
  });
  $("#radar-import").addEventListener("change", function () {
    readFile(this, function (name, text) {
      try { state.profile = importProfile(text); save(); fillForm(); rerank(); }
      catch (err) { status(t("Could not import %(name)s: %(error)s", {name: name, error: err.message})); }
    });
  });
  $(".radar-export").addEventListener("click", function () {
    readForm(); save();
    var blob = new root.Blob([exportProfile(state.profile)], {type: "application/json"});
    var a = el("a");
    a.href = root.URL.createObjectURL(blob);
    a.download = "radar-profile.json";
    doc.body.appendChild(a); a.click(); a.remove();
    setTimeout(function () { root.URL.revokeObjectURL(a.href); }, 1000);
  });
  $(".radar-clear-library").addEventListener("click", function () {
    state.profile.library = {name: "", items: []}; save(); fillForm(); rerank();
  });
  $(".radar-clear").addEventListener("click", function () {
    try { root.localStorage.removeItem(STORE_KEY); } catch (e) { /* nothing stored */ }
    state.profile = emptyProfile(); fillForm(); rerank();
  });
  $(".radar-more").addEventListener("click", function () { state.period += 30; refresh(); });
  $(".radar-show-more").addEventListener("click", function () {
    state.shown += PAGE;
    render().catch(function (e) { status(t("Could not load the radar index: %(error)s", {error: e.message})); });
  });
  codeButton.addEventListener("click", function () {
    state.code = !state.code;
    codeButton.setAttribute("aria-pressed", state.code ? "true" : "false");
    rerank();
  });

  var day = new URLSearchParams(root.location.search).get("day");
  if (day) { $(".radar-period").textContent = t("For you on %(day)s", {day: day}); $(".radar-more").hidden = true; }
  fillForm();
  fetchJson("days.json").then(function (m) { state.manifest = m; return refresh(); },
    function (e) { status(t("Could not load the radar index: %(error)s", {error: e.message})); });
})(typeof window !== "undefined" ? window : globalThis);
