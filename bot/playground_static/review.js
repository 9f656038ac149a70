// Check-in playground: the language review view (every text beside English, with its status).
"use strict";

const STATUS_TEXT = { translated: "translated", fuzzy: "fuzzy (needs review)", missing: "missing" };

const Review = {
  app: null,
  data: null,

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
  },

  async load() {
    const code = document.getElementById("review-lang").value;
    document.getElementById("review-summary").textContent = "Loading…";
    this.data = await api(`/api/review/${encodeURIComponent(code)}`);
    this.render();
  },

  render() {
    const d = this.data;
    if (!d) return;
    this.renderSummary(d);
    const body = document.getElementById("review-body");
    body.replaceChildren();
    for (const q of d.questionnaires) {
      body.append(el("h2", { text: `Questionnaire “${q.id}”` }));
      body.append(this.table(q.rows, true));
    }
    body.append(el("h2", { text: "Messages" }));
    body.append(this.table(d.messages, false));
  },

  renderSummary(d) {
    const l = d.language;
    const c = d.catalogue;
    const n = d.counts;
    const parts = [
      el("strong", { text: `${l.english_name} · ` }), el("bdi", { lang: bcp47(l.code), text: l.native_name }),
      el("span", { text: ` — ${n.translated} of ${n.total} translated, ${n.fuzzy} fuzzy, ${n.missing} missing. ` }),
      el("span", { class: `badge ${c.exists ? "neutral" : "missing"}`, text: c.exists ? `Review status: ${c.review_status}` : "No catalogue yet: the bot speaks English" }),
      c.exists && c.last_translator ? el("span", { class: "muted", text: ` Last translator: ${c.last_translator}. Revised: ${c.revision_date}.` }) : null,
      l.rtl ? el("span", { class: "muted", text: " Written right to left." }) : null,
      el("p", { class: "muted", text: "Missing texts are shown to young people in English; fuzzy ones too, until someone confirms them." }),
    ];
    document.getElementById("review-summary").replaceChildren(...parts.filter(Boolean));
  },

  table(rows, withItem) {
    const todo = document.getElementById("review-todo").checked;
    const rtl = this.data.language.rtl;
    const lang = bcp47(this.data.language.code);
    const head = el("tr", {},
      withItem ? el("th", { scope: "col", text: "Item" }) : null,
      el("th", { scope: "col", text: "English" }),
      el("th", { scope: "col", text: this.data.language.english_name }),
      el("th", { scope: "col", text: "Status" }),
      el("th", { scope: "col", text: "Notes for translators" }));
    const body = el("tbody");
    for (const row of rows) {
      if (todo && row.status === "translated") continue;
      body.append(el("tr", { class: `status-${row.status}` },
        withItem ? el("td", {}, el("code", { text: row.item })) : null,
        el("td", { lang: "en", dir: "ltr" }, ...forms(row.english)),
        el("td", { lang, dir: rtl ? "rtl" : "ltr" }, ...(row.translation.length ? forms(row.translation) : [el("span", { class: "muted", text: "—" })])),
        el("td", {}, el("span", { class: `badge status-${row.status}`, text: STATUS_TEXT[row.status] || row.status })),
        el("td", { class: "notes" }, ...notes(row))));
    }
    if (!body.children.length) body.append(el("tr", {}, el("td", { colspan: withItem ? 5 : 4, class: "muted", text: "Nothing to do here." })));
    return el("table", { class: "review" }, el("thead", {}, head), body);
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
