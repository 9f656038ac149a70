// Check-in playground: the page controller (phones, clock, violations, live updates, tabs).
"use strict";

const App = {
  views: new Map(), // phone key -> PhoneView
  languages: [],

  async start() {
    document.querySelectorAll("[data-step]").forEach((b) => b.addEventListener("click", () => this.moveClock(b)));
    document.getElementById("add-yp").addEventListener("click", () => this.addYoungPerson());
    document.getElementById("add-staff").addEventListener("click", () => this.addStaff());
    document.getElementById("tab-phones").addEventListener("click", () => this.showTab("phones"));
    document.getElementById("tab-review").addEventListener("click", () => this.showTab("review"));
    window.addEventListener("hashchange", () => this.showTab(location.hash === "#review" ? "review" : "phones"));
    this.languages = (await api("/api/languages")).languages;
    this.fillLanguages();
    await this.refreshState();
    this.listen();
    Review.init(this);
    if (location.hash === "#review") this.showTab("review");
  },

  fillLanguages() {
    const select = document.getElementById("new-lang");
    for (const l of this.languages) {
      select.append(el("option", { value: l.code, text: `${l.english_name} · ${l.native_name}` }));
    }
  },

  /** Clock, phones, staff one may add, violations and menus from the server. */
  async refreshState() {
    const state = await api("/api/state");
    this.showClock(state.clock);
    this.showViolations(state.violations, state.spec);
    this.syncPhones(state.phones);
    const staff = document.getElementById("new-staff");
    staff.replaceChildren(...state.staff.map((s) => el("option", { value: s.user_id, text: s.title })));
    document.getElementById("add-staff").disabled = !state.staff.length;
  },

  syncPhones(phones) {
    const container = document.getElementById("phones");
    for (const phone of phones) {
      if (this.views.has(phone.key)) continue;
      const view = new PhoneView(phone, this);
      this.views.set(phone.key, view);
      container.append(view.node);
      view.refresh();
    }
    this.redrawInvites();
  },

  /** Invite buttons name the young people's phones that are free: redraw the staff phones. */
  redrawInvites() {
    for (const view of this.views.values()) if (view.phone.role !== "young_person") view.refresh();
  },

  youngPhones() {
    return [...this.views.values()].filter((v) => v.phone.role === "young_person");
  },

  /** A young person's phone that has not chatted yet, if any. */
  freeYoungPhone() {
    return this.youngPhones().find((v) => !v.messages.length) || null;
  },

  async openInvite(view, link) {
    try {
      if (!view) {
        const { phone } = await api("/api/phones", { kind: "young_person", language_code: "en" });
        await this.refreshState();
        view = this.views.get(phone.key);
      }
      await api(`/api/phones/${view.phone.key}/open`, { link });
      view.node.scrollIntoView({ behavior: "smooth", inline: "nearest", block: "nearest" });
    } catch (error) {
      alert(error.message);
    }
  },

  async addYoungPerson(code) {
    const language_code = code || document.getElementById("new-lang").value;
    const { phone } = await api("/api/phones", { kind: "young_person", language_code });
    await this.refreshState();
    this.views.get(phone.key).node.scrollIntoView({ behavior: "smooth", inline: "end" });
  },

  async addStaff() {
    const user_id = Number(document.getElementById("new-staff").value);
    if (user_id) await api("/api/phones", { kind: "staff", user_id });
    await this.refreshState();
  },

  // ---- the clock --------------------------------------------------------------------------------
  async moveClock(button) {
    const buttons = document.querySelectorAll("[data-step]");
    buttons.forEach((b) => { b.disabled = true; });
    const note = document.getElementById("clock-note");
    note.textContent = "moving…";
    try {
      const answer = await api("/api/clock", { step: button.dataset.step });
      this.showClock(answer.clock);
      note.textContent = answer.note || "";
    } catch (error) {
      note.textContent = error.message;
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  },

  showClock(clock) {
    const output = document.getElementById("clock");
    output.textContent = clock.display;
    output.title = `${clock.iso} (${clock.zone})`;
    document.getElementById("send-window").textContent = clock.send_window;
  },

  showViolations(violations, spec) {
    const box = document.getElementById("violations");
    box.hidden = !violations.length;
    document.getElementById("violation-count").textContent = violations.length;
    document.getElementById("violation-list").replaceChildren(...violations.map((v) => el("li", { text: v })));
    document.getElementById("spec-line").textContent = spec
      ? `Every request of the bot is checked against the Bot API spec (${spec}) and Telegram's limits: ${violations.length ? "see the refusals above." : "no refusals so far."}`
      : "No Bot API spec file found: requests are checked against Telegram's limits only.";
  },

  // ---- live updates -----------------------------------------------------------------------------
  listen() {
    const source = new EventSource("/api/events");
    source.onmessage = (message) => this.onEvent(JSON.parse(message.data));
    source.onerror = () => { document.getElementById("clock-note").textContent = "reconnecting…"; };
  },

  viewOfChat(chatId) {
    return [...this.views.values()].find((v) => v.phone.user_id === chatId);
  },

  onEvent(event) {
    const view = this.viewOfChat(event.chat_id);
    switch (event.kind) {
      case "hello":
        document.getElementById("clock-note").textContent = "";
        this.refreshState().then(() => this.views.forEach((v) => v.refresh()));
        break;
      case "message_sent": case "message_edited": case "message_deleted": case "user_message":
        if (view) view.refresh();
        break;
      case "callback_answered":
        if (view && event.text) view.showToast(event.text, event.show_alert);
        break;
      case "chat_action":
        if (view) view.showTyping();
        break;
      case "violation": case "clock": case "phones":
        this.refreshState();
        break;
      default:
        break;
    }
  },

  // ---- tabs ---------------------------------------------------------------------------------------
  showTab(name) {
    const review = name === "review";
    document.getElementById("phones-view").hidden = review;
    document.getElementById("review-view").hidden = !review;
    document.getElementById("tab-phones").setAttribute("aria-selected", String(!review));
    document.getElementById("tab-review").setAttribute("aria-selected", String(review));
    if (review) Review.load();
    history.replaceState(null, "", review ? "#review" : "#");
  },
};

window.addEventListener("DOMContentLoaded", () => App.start());
