// Full-text search page: as-you-type suggestions from /fts/a/<prefix>, results from /fts/r/<term>.
// The DOM is built with textContent only, so nothing from the index is ever parsed as HTML.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  const q = document.getElementById("q");
  const suggest = document.getElementById("suggest");
  const results = document.getElementById("results");
  const status = document.getElementById("status");
  let seq = 0;
  let sel = -1;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  async function getJson(url) {
    const r = await fetch(url);
    if (!r.ok) throw new Error(url + ": " + r.status);
    return r.json();
  }

  function clearSuggest() {
    suggest.replaceChildren();
    sel = -1;
  }

  async function onInput() {
    const mine = ++seq;
    const prefix = q.value.trim();
    if (!prefix) { clearSuggest(); return; }
    const j = await getJson("/fts/a/" + encodeURIComponent(prefix));
    if (mine !== seq) return; // a newer keystroke won
    clearSuggest();
    for (const a of j.ac || []) {
      const li = el("li");
      li.append(el("span", "", a.ac), el("span", "count", a.matches + " / " + a.agg));
      li.addEventListener("mousedown", function (ev) { ev.preventDefault(); pick(a.ac); });
      suggest.append(li);
    }
  }

  // Appends `text` to `parent`, wrapping case-insensitive occurrences of `term` in <mark>.
  function highlight(parent, text, term) {
    const lower = text.toLowerCase();
    const t = term.toLowerCase();
    let at = 0;
    for (;;) {
      const i = t ? lower.indexOf(t, at) : -1;
      if (i < 0) { parent.append(text.slice(at)); return; }
      parent.append(text.slice(at, i), el("mark", "", text.slice(i, i + t.length)));
      at = i + t.length;
    }
  }

  async function pick(term) {
    q.value = term;
    clearSuggest();
    seq++;
    const j = await getJson("/fts/r/" + encodeURIComponent(term));
    results.replaceChildren();
    const fp = j.fp || [];
    status.textContent = fp.length
      ? j.total + " matches in " + j.files + " files" + (j.files > fp.length ? " (first " + fp.length + " shown)" : "")
      : "no matches for \u201c" + term + "\u201d";
    for (const f of fp) {
      const div = el("div", "file");
      div.append(el("h2", "", f.path + " \u2014 " + f.matches + " matches, " + f.origlines + " lines"));
      for (const h of f.hits) {
        const p = el("div", "hit");
        p.append(el("span", "ln", String(h.l)));
        highlight(p, h.s, term);
        div.append(p);
      }
      results.append(div);
    }
  }

  q.addEventListener("input", function () { onInput().catch(function (e) { status.textContent = e; }); });
  q.addEventListener("keydown", function (ev) {
    const items = suggest.children;
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      if (!items.length) return;
      if (sel >= 0) items[sel].classList.remove("sel");
      sel = (sel + (ev.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
      items[sel].classList.add("sel");
    } else if (ev.key === "Escape") {
      clearSuggest();
    }
  });
  document.getElementById("form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    const items = suggest.children;
    const term = sel >= 0 ? items[sel].firstChild.textContent : q.value.trim();
    if (term) pick(term).catch(function (e) { status.textContent = e; });
  });
  q.addEventListener("blur", clearSuggest);
});
