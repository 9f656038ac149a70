// Check-in playground: upload a voice clip (OGG/Opus) for a text, in the language under review.
"use strict";

const Voice = {
  // Opening the tab and choosing a language both load the list; a load that a newer one
  // overtook is dropped, and a reload of the same language keeps the text chosen, so a clip is
  // never saved for another text than the one on screen.
  async load(code) {
    this.code = code;
    const ticket = (this.ticket = (this.ticket || 0) + 1);
    const data = await api(`/api/voice/${encodeURIComponent(code)}`);
    if (ticket !== this.ticket) return;
    const select = document.getElementById("voice-text");
    const keep = code === this.shown ? select.value : "";
    this.shown = code;
    select.replaceChildren(...data.texts.map((t) =>
      el("option", { value: t.key, text: `${t.number}. ${t.what}${t.has_clip ? " 🔊" : ""}` })));
    if (data.texts.some((t) => t.key === keep)) select.value = keep;
    const done = data.texts.filter((t) => t.has_clip).length;
    document.getElementById("voice-status").textContent = `Voice clips: ${done}/${data.texts.length}`;
  },

  async upload() {
    const file = document.getElementById("voice-file").files[0];
    const status = document.getElementById("voice-status");
    if (!file) { status.textContent = "Choose an .ogg file (Opus) first."; return; }
    const bytes = new Uint8Array(await file.arrayBuffer());
    let binary = "";
    for (const b of bytes) binary += String.fromCharCode(b);
    const key = document.getElementById("voice-text").value;
    try {
      const saved = await api(`/api/voice/${encodeURIComponent(this.code)}`, { key, audio: btoa(binary) });
      await this.load(this.code);
      status.textContent += ` · saved (${saved.duration} s)`;
    } catch (error) {
      status.textContent = `Not saved: ${error.message}`;
    }
  },
};

document.addEventListener("DOMContentLoaded", () => {
  const select = document.getElementById("review-lang");
  document.getElementById("voice-upload").addEventListener("click", () => Voice.upload());
  select.addEventListener("change", () => Voice.load(select.value));
  document.getElementById("tab-review").addEventListener("click", () => Voice.load(select.value));
});
