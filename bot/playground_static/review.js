// Check-in playground: the language review. A fluent speaker reads every text beside English
// (questionnaire first), corrects any text in place (checked as they type, by the server's
// rules), marks each text "reviewed" or "needs work", and downloads the reviewed catalogue.
// Their work is kept in this browser (localStorage) until they download it.
"use strict";

const STATUS_TEXT = { translated: "translated", fuzzy: "fuzzy (not used yet)", missing: "missing" };
const REVIEWED = "reviewed";
const NEEDS_WORK = "needs work";

const Review = {
  app: null,
  data: null,
  state: null, // { name, rows: { key: { translation?: [...], review?: ..., problems?: [...] } } }
  timers: {},

  init(app) {
    this.app = app;
    const select = document.getElementById("review-lang");
    for (const l of app.languages) {
      const done = `${l.translated}/${l.total}`;
      select.append(el("option", { value: l.code, text: `${l.english_name} (${done}) · ${l.native_name}` }));
    }
    const translated = app.languages.find((l) => l.code !== "en" && l.translated);
    select.value = translated ? translated.code : "en";
    select.addEventListener("change", () => this.load());
    document.getElementById("review-todo").addEventListener("change", () => this.render());
    document.getElementById("review-try").addEventListener("click", () => {
      app.showTab("phones");
      app.addYoungPerson(select.value);
    });
    document.getElementById("review-name").addEventListener("input", (event) => {
      if (!this.state) return;
      this.state.name = event.target.value;
      this.save();
      this.updateDownload();
    });
    document.getElementById("review-download").addEventListener("click", () => this.download());
  },

  async load() {
    const code = document.getElementById("review-lang").value;
    document.getElementById("review-summary").textContent = "Loading…";
    const data = await api(`/api/review/${encodeURIComponent(code)}`);
    if (document.getElementById("review-lang").value !== code) return; // another language was chosen meanwhile
    this.data = data;
    this.state = this.restore();
    document.getElementById("review-name").value = this.state.name || "";
    this.render();
  },

  // ---- what the reviewer has done, kept in this browser -------------------------------------
  storageKey() {
    return `checkin-review:${this.data.language.code}`;
  },
  restore() {
    try {
      const saved = JSON.parse(localStorage.getItem(this.storageKey()) || "null");
      if (saved && typeof saved === "object" && saved.rows) return saved;
    } catch (error) { /* a damaged record: start again */ }
    return { name: "", rows: {} };
  },
  save() {
    localStorage.setItem(this.storageKey(), JSON.stringify(this.state));
  },
  key(row) {
    return `${row.context || ""}\u0004${row.english[0]}`;
  },
  rows() {
    return [...this.data.questionnaires.flatMap((q) => q.rows), ...this.data.messages];
  },
  current(row) {
    const mine = this.state.rows[this.key(row)] || {};
    const forms = row.translation.length ? row.translation : row.english.map(() => "");
    return {
      translation: mine.translation || forms,
      review: mine.review !== undefined ? mine.review : row.review,
      problems: mine.problems || [],
      edited: Boolean(mine.translation),
    };
  },
  mine(row) {
    const key = this.key(row);
    this.state.rows[key] = this.state.rows[key] || {};
    return this.state.rows[key];
  },

  // ---- the view ------------------------------------------------------------------------------
  render() {
    const d = this.data;
    if (!d) return;
    this.renderSummary();
    const body = document.getElementById("review-body");
    body.replaceChildren();
    for (const q of d.questionnaires) {
      body.append(el("h2", { text: `Questionnaire “${q.id}”` }));
      body.append(this.table(q.rows, true));
    }
    body.append(el("h2", { text: "Messages" }));
    body.append(this.table(d.messages, false));
    this.updateDownload();
  },

  counts() {
    const rows = this.rows();
    const marks = rows.map((r) => this.current(r).review);
    return {
      total: rows.length,
      reviewed: marks.filter((m) => m === REVIEWED).length,
      needsWork: marks.filter((m) => m === NEEDS_WORK).length,
      edited: rows.filter((r) => this.current(r).edited).length,
    };
  },

  renderSummary() {
    const d = this.data;
    const l = d.language;
    const c = d.catalogue;
    const n = d.counts;
    const mine = this.counts();
    const editable = l.code !== "en" && c.exists;
    const parts = [
      el("strong", { text: `${l.english_name} · ` }), el("bdi", { lang: bcp47(l.code), text: l.native_name }),
      el("span", { text: ` — ${n.translated} of ${n.total} translated, ${n.fuzzy} fuzzy, ${n.missing} missing. ` }),
      el("span", { class: `badge ${c.exists ? "neutral" : "missing"}`, text: c.exists ? `Catalogue: ${c.review_status}` : "No catalogue yet: the bot speaks English" }),
      c.exists && c.last_translator ? el("span", { class: "muted", text: ` Last translator: ${c.last_translator}. Revised: ${c.revision_date}.` }) : null,
      l.rtl ? el("span", { class: "muted", text: " Written right to left." }) : null,
      editable ? el("p", { id: "review-progress", text: `${mine.reviewed} of ${mine.total} reviewed, ${mine.needsWork} need work, ${mine.edited} corrected.` }) : null,
      editable
        ? el("p", { class: "muted", text: "Read each text beside the English. Correct it in its box if needed, then mark it “Reviewed” or “Needs work”. “Only what needs work” shows every text not yet reviewed. When you stop, enter your name and download the catalogue: the service puts it in CHECKIN_LOCALES_OVERRIDE_DIR/" + l.code + "/LC_MESSAGES/messages.po." })
        : el("p", { class: "muted", text: "Missing texts are shown to young people in English; fuzzy ones too, until someone confirms them." }),
    ];
    document.getElementById("review-summary").replaceChildren(...parts.filter(Boolean));
    document.getElementById("review-save").hidden = !editable;
  },

  table(rows, withItem) {
    const todo = document.getElementById("review-todo").checked;
    const l = this.data.language;
    const editable = l.code !== "en" && this.data.catalogue.exists;
    const head = el("tr", {},
      withItem ? el("th", { scope: "col", text: "Item" }) : null,
      el("th", { scope: "col", text: "English" }),
      el("th", { scope: "col", text: l.english_name }),
      el("th", { scope: "col", text: "Status" }),
      el("th", { scope: "col", text: "Notes for translators" }));
    const body = el("tbody");
    for (const row of rows) {
      const now = this.current(row);
      if (todo && (l.code === "en" ? row.status === "translated" : now.review === REVIEWED)) continue;
      body.append(el("tr", { class: `status-${row.status}${now.problems.length ? " invalid" : ""}`, "data-key": this.key(row) },
        withItem ? el("td", {}, el("code", { text: row.item })) : null,
        el("td", { lang: "en", dir: "ltr" }, ...forms(row.english)),
        editable ? this.editor(row, now) : el("td", { lang: bcp47(l.code), dir: l.rtl ? "rtl" : "ltr" }, ...(row.translation.length ? forms(row.translation) : [el("span", { class: "muted", text: "—" })])),
        el("td", {}, el("span", { class: `badge status-${row.status}`, text: STATUS_TEXT[row.status] || row.status }), editable ? this.marks(row, now) : null),
        el("td", { class: "notes" }, ...notes(row))));
    }
    if (!body.children.length) body.append(el("tr", {}, el("td", { colspan: withItem ? 5 : 4, class: "muted", text: "Nothing to do here: every text is reviewed." })));
    return el("table", { class: "review" }, el("thead", {}, head), body);
  },

  editor(row, now) {
    const l = this.data.language;
    const problems = el("div", { class: "problems", role: "alert", text: now.problems.join("; ") });
    const boxes = now.translation.map((text, index) => {
      const label = now.translation.length > 1 ? `${l.english_name}, form ${index}` : `${l.english_name} text`;
      const box = el("textarea", { class: "correction", lang: bcp47(l.code), dir: l.rtl ? "rtl" : "ltr", rows: String(Math.max(1, Math.ceil(text.length / 30))), "aria-label": label });
      box.value = text;
      box.addEventListener("input", () => this.edit(row, index, box.value, problems));
      return box;
    });
    // Right to left: the catalogue's plain text shows commands backwards; show it as sent too.
    const shown = l.rtl ? el("div", { class: "shown", dir: "rtl", lang: bcp47(l.code), title: "As the bot sends it" }) : null;
    if (shown) this.showAsSent(shown, now.edited ? null : row.shown, now.translation);
    return el("td", { class: "edit" }, ...boxes, problems, shown);
  },

  marks(row, now) {
    const button = (mark, text) => el("button", {
      type: "button", class: `mark mark-${mark.replace(" ", "-")}`, "aria-pressed": String(now.review === mark), text,
      onclick: () => this.mark(row, now.review === mark ? null : mark),
    });
    return el("div", { class: "marks" }, button(REVIEWED, "✓ Reviewed"), button(NEEDS_WORK, "Needs work"));
  },

  showAsSent(node, shown, translation) {
    node.replaceChildren(el("span", { class: "muted", text: "As sent: " }), ...(shown || translation).map((t) => el("div", { class: "string", text: t })));
  },

  edit(row, index, value, problemsEl) {
    const mine = this.mine(row);
    const translation = [...this.current(row).translation];
    translation[index] = value;
    mine.translation = translation;
    this.save();
    clearTimeout(this.timers[this.key(row)]);
    this.timers[this.key(row)] = setTimeout(() => this.check(row, problemsEl), 150);
    this.updateDownload();
  },

  async check(row, problemsEl) {
    const mine = this.mine(row);
    const result = await api(`/api/review/${encodeURIComponent(this.data.language.code)}/check`, { english: row.english, translation: mine.translation });
    mine.problems = result.problems;
    this.save();
    problemsEl.textContent = result.problems.join("; ");
    const shown = problemsEl.parentNode.querySelector(".shown");
    if (shown && result.shown) this.showAsSent(shown, result.shown, mine.translation);
    problemsEl.closest("tr").classList.toggle("invalid", result.problems.length > 0);
    this.updateDownload();
    this.renderProgress();
  },

  mark(row, mark) {
    this.mine(row).review = mark;
    this.save();
    this.render();
  },

  renderProgress() {
    const p = document.getElementById("review-progress");
    const mine = this.counts();
    if (p) p.textContent = `${mine.reviewed} of ${mine.total} reviewed, ${mine.needsWork} need work, ${mine.edited} corrected.`;
  },

  blocked() {
    if (!this.state) return "Loading…";
    if (!(this.state.name || "").trim()) return "Enter your name to download.";
    const bad = this.rows().filter((r) => this.current(r).problems.length);
    if (bad.length) return `Fix ${bad.length} text(s) first: placeholders, commands and markup must stay as in the English.`;
    return "";
  },

  updateDownload() {
    const why = this.blocked();
    document.getElementById("review-download").disabled = Boolean(why);
    document.getElementById("review-download-why").textContent = why;
  },

  async download() {
    const code = this.data.language.code;
    const entries = this.rows()
      .filter((r) => this.state.rows[this.key(r)])
      .map((r) => {
        const now = this.current(r);
        return { context: r.context, english: r.english[0], translation: now.translation, review: now.review || null };
      });
    const response = await fetch(`/api/review/${encodeURIComponent(code)}/po`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ reviewer: this.state.name, entries }),
    });
    if (!response.ok) {
      const data = await response.json();
      document.getElementById("review-download-why").textContent = `Not downloaded: ${data.error}`;
      return;
    }
    const blob = await response.blob();
    const link = el("a", { href: URL.createObjectURL(blob), download: `${code}-messages.po` });
    document.body.append(link);
    link.click();
    link.remove();
    document.getElementById("review-download-why").textContent = `Downloaded ${code}-messages.po.`;
  },
};

function forms(strings) {
  if (strings.length === 1) return [el("div", { class: "string", text: strings[0] })];
  return strings.map((s, i) => el("div", { class: "string" }, el("span", { class: "form", text: `[${i}] ` }), s));
}

function notes(row) {
  const out = row.notes.map((n) => el("div", { text: n }));
  if (row.placeholders) out.push(el("div", { class: "muted", text: "Keep {placeholders} exactly as they are." }));
  for (const where of row.locations) out.push(el("div", { class: "muted where", text: where.replaceAll("/", "/\u200b") }));
  return out;
}

function bcp47(code) {
  return code.replace("_", "-");
}

window.Review = Review;
