// Check-in playground: upload a voice clip (OGG/Opus) for a text, in the language under review.
"use strict";

const Voice = {
  async load(code) {
    this.code = code;
    const data = await api(`/api/voice/${encodeURIComponent(code)}`);
    const select = document.getElementById("voice-text");
    select.replaceChildren(...data.texts.map((t) =>
      el("option", { value: t.key, text: `${t.number}. ${t.what}${t.has_clip ? " 🔊" : ""}` })));
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
      document.getElementById("voice-text").value = key;
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
