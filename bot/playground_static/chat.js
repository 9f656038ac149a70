// Check-in playground: one phone = one private chat with the bot, drawn like Telegram.
// Plain JavaScript, no build step. Text is always inserted with textContent (never as HTML).
"use strict";

const START_LINK = /https:\/\/t\.me\/[A-Za-z0-9_]+\?start=[A-Za-z0-9_-]+/g;
const ANY_LINK = /https?:\/\/[^\s\u2066-\u2069\u200e\u200f]+/g;

/** POST JSON to the playground; resolves to the answer, rejects with its error text. */
async function api(path, body) {
  const response = await fetch(path, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json();
  if (!data.ok) throw new Error(data.error || response.statusText);
  return data;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

// ---- message text with Telegram entities and clickable links ---------------------------------
const ENTITY_TAGS = {
  bold: "strong", italic: "em", underline: "u", strikethrough: "s", code: "code", pre: "pre",
  spoiler: "span", blockquote: "blockquote", expandable_blockquote: "blockquote",
  text_link: "a", url: "a",
};

/** Text (UTF-16 offsets, as JavaScript strings) with entities, as DOM nodes. */
function renderText(text, entities, onLink) {
  const fragment = document.createDocumentFragment();
  renderRange(fragment, text, 0, text.length, (entities || []).slice(), onLink);
  return fragment;
}

function renderRange(parent, text, start, end, entities, onLink) {
  const inside = entities
    .filter((e) => e.offset >= start && e.offset + e.length <= end)
    .sort((a, b) => a.offset - b.offset || b.length - a.length);
  let at = start;
  for (const entity of inside) {
    if (entity.offset < at) continue; // nested in one already drawn
    linkify(parent, text.slice(at, entity.offset), onLink);
    const tag = ENTITY_TAGS[entity.type] || "span";
    const node = el(tag, { class: `entity-${entity.type}` });
    const rest = inside.filter((e) => e !== entity);
    renderRange(node, text, entity.offset, entity.offset + entity.length, rest, onLink);
    const href = entity.url || text.slice(entity.offset, entity.offset + entity.length);
    if (tag === "a" && /^(https?|tg):/i.test(href)) {
      node.href = href;
      node.addEventListener("click", (event) => onLink(event, href));
    }
    parent.append(node);
    at = entity.offset + entity.length;
  }
  linkify(parent, text.slice(at, end), onLink);
}

function linkify(parent, text, onLink) {
  let at = 0;
  for (const match of text.matchAll(ANY_LINK)) {
    parent.append(text.slice(at, match.index));
    const link = el("a", { href: match[0], text: match[0] });
    link.addEventListener("click", (event) => onLink(event, match[0]));
    parent.append(link);
    at = match.index + match[0].length;
  }
  parent.append(text.slice(at));
}

function inviteLinks(message) {
  const links = [...(message.text || "").matchAll(START_LINK)].map((m) => m[0]);
  for (const row of message.buttons) for (const b of row) if (b.url && b.url.match(START_LINK)) links.push(b.url);
  return links;
}

// ---- one phone ----------------------------------------------------------------------------------
class PhoneView {
  /** @param {object} phone  the server's phone  @param {object} app  the page controller */
  constructor(phone, app) {
    this.phone = phone;
    this.app = app;
    this.messages = [];
    this.commands = [];
    this.loading = null;
    this.again = false;
    this.node = this.build();
  }

  build() {
    const p = this.phone;
    const young = p.role === "young_person";
    this.title = el("h2", { class: "phone-title", text: p.title });
    this.sub = el("p", { class: "phone-sub", text: "Check-in bot" });
    this.chat = el("div", { class: "chat", role: "log", "aria-live": "polite", "aria-label": `Chat of ${p.title}` });
    this.toast = el("div", { class: "toast", role: "status", hidden: true });
    this.menu = el("div", { class: "menu", hidden: true });
    this.input = el("textarea", { rows: 1, placeholder: "Message", "aria-label": `Message from ${p.title}`, dir: "auto" });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); this.submit(); }
    });
    const menuButton = el("button", { type: "button", class: "menu-btn", "aria-label": "Commands", title: "Commands", text: "/" ,
      onclick: () => this.toggleMenu() });
    const form = el("form", { class: "composer", onsubmit: (e) => { e.preventDefault(); this.submit(); } },
      menuButton, this.input, el("button", { type: "submit", class: "send-btn", text: "Send" }));
    const avatar = el("div", { class: `avatar ${young ? "young" : "staff"}`, "aria-hidden": "true", text: p.title.replace(/^.*· /, "").slice(0, 1) });
    const head = el("header", { class: "phone-head" }, avatar, el("div", {}, this.title, this.sub));
    const lang = young && p.language_code !== "en" ? el("span", { class: "phone-lang", text: `Phone language: ${p.language_code}` }) : null;
    return el("article", { class: `phone ${young ? "phone-young" : "phone-staff"}`, "data-key": p.key, "aria-label": p.title },
      head, lang, this.chat, this.toast, this.menu, form);
  }

  async submit(text) {
    const value = (text ?? this.input.value).trim();
    if (!value) return;
    this.input.value = "";
    this.menu.hidden = true;
    try { await api(`/api/phones/${this.phone.key}/send`, { text: value }); }
    catch (error) { this.showToast(error.message, true); }
  }

  toggleMenu() {
    this.menu.replaceChildren();
    for (const c of this.commands) {
      this.menu.append(el("button", { type: "button", class: "menu-item", onclick: () => this.pick(c.command) },
        el("strong", { text: `/${c.command}` }), el("span", { text: c.description })));
    }
    this.menu.hidden = !this.menu.hidden;
  }

  pick(command) {
    this.menu.hidden = true;
    if (["invite", "exit", "move", "addstaff", "deactivate"].includes(command)) { this.input.value = `/${command} `; this.input.focus(); }
    else this.submit(`/${command}`);
  }

  /** Fetch the chat again; calls arriving meanwhile make exactly one more fetch. */
  async refresh() {
    if (this.loading) { this.again = true; return this.loading; }
    this.loading = (async () => {
      do {
        this.again = false;
        try {
          const answer = await api(`/api/phones/${this.phone.key}`);
          this.commands = answer.commands;
          this.render(answer.messages);
        }
        catch (error) { this.showToast(error.message, true); }
      } while (this.again);
    })();
    try { await this.loading; } finally { this.loading = null; }
  }

  render(messages) {
    const atBottom = this.chat.scrollHeight - this.chat.scrollTop - this.chat.clientHeight < 40;
    const grew = messages.length !== this.messages.length;
    const firstChat = this.phone.role === "young_person" && !this.messages.length && messages.length;
    this.messages = messages;
    this.chat.replaceChildren(...messages.map((m) => this.renderMessage(m)));
    if (!messages.length) this.chat.append(el("p", { class: "empty", text: this.emptyText() }));
    if (atBottom || grew) this.chat.scrollTop = this.chat.scrollHeight;
    if (firstChat) this.app.redrawInvites(); // this phone is no longer free for an invite
  }

  emptyText() {
    if (this.phone.role === "young_person") return "No messages yet. Open an invite from a key worker's phone, or send /start.";
    if (this.phone.role === "key_worker") return "Signed in as a key worker. Send /invite AB to invite a young person, or /help for your commands.";
    return "Signed in as staff. Send /help for the commands of your role.";
  }

  renderMessage(m) {
    const bubble = el("div", { class: "bubble", dir: "auto" });
    if (m.photo) bubble.append(el("img", { class: "photo", src: m.photo, alt: "Photo sent by the bot (for example a QR code)" }));
    if (m.document) bubble.append(el("p", { class: "document", text: "📄 Document" }));
    if (m.voice) bubble.append(el("audio", { class: "voice", controls: "", preload: "none", src: m.voice, "aria-label": "Voice message" }));
    if (m.text) bubble.append(el("div", { class: "text", dir: "auto" }, renderText(m.text, m.entities, (e, href) => this.onLink(e, href))));
    bubble.append(el("span", { class: "meta", text: `${m.edited ? "edited " : ""}${m.time}` }));
    const node = el("div", { class: `msg ${m.from}`, "data-id": m.id }, bubble);
    if (m.buttons.length) node.append(this.renderKeyboard(m));
    const links = this.phone.role === "young_person" ? [] : inviteLinks(m);
    if (links.length) node.append(this.renderOpeners(links[0]));
    return node;
  }

  renderKeyboard(m) {
    const keyboard = el("div", { class: "keyboard", role: "group", "aria-label": "Buttons" });
    for (const row of m.buttons) {
      const line = el("div", { class: "kb-row" });
      for (const b of row) {
        line.append(el("button", { type: "button", class: "kb-btn", dir: "auto", text: b.text,
          onclick: (event) => this.onButton(event, m, b, keyboard) }));
      }
      keyboard.append(line);
    }
    return keyboard;
  }

  renderOpeners(link) {
    const box = el("div", { class: "openers" }, el("span", { class: "openers-label", text: "Open this invite:" }));
    // Only the young people's phones that have not chatted yet: an invite is for someone new.
    for (const view of this.app.youngPhones().filter((v) => !v.messages.length)) {
      box.append(el("button", { type: "button", class: "opener", text: `Open on ${view.phone.title}`,
        onclick: () => this.app.openInvite(view, link) }));
    }
    box.append(el("button", { type: "button", class: "opener", text: "On a new young person's phone",
      onclick: () => this.app.openInvite(null, link) }));
    return box;
  }

  async onButton(event, message, button, keyboard) {
    if (button.url) { this.onLink(event, button.url); return; }
    for (const b of keyboard.querySelectorAll("button")) b.disabled = true;
    event.currentTarget.classList.add("pressed");
    try { await api(`/api/phones/${this.phone.key}/press`, { message_id: message.id, data: button.data }); }
    catch (error) { this.showToast(error.message, true); for (const b of keyboard.querySelectorAll("button")) b.disabled = false; }
  }

  onLink(event, href) {
    event.preventDefault();
    if (href.match(START_LINK)) {
      const target = this.phone.role === "young_person" ? this : this.app.freeYoungPhone();
      this.app.openInvite(target, href);
    } else {
      window.open(href, "_blank", "noopener");
    }
  }

  showToast(text, alert = false) {
    this.toast.textContent = text;
    this.toast.classList.toggle("alert", alert);
    this.toast.hidden = false;
    clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(() => { this.toast.hidden = true; }, alert ? 6000 : 3000);
  }

  showTyping() {
    this.sub.textContent = "typing…";
    this.sub.classList.add("typing");
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => { this.sub.textContent = "Check-in bot"; this.sub.classList.remove("typing"); }, 2500);
  }
}

window.PhoneView = PhoneView;
window.api = api;
window.el = el;
