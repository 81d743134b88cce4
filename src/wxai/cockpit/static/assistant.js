// wxai cockpit, assistant panel: chat with a model alias, or ask a document store,
// the answer streamed as server-sent events from POST /api/llm/chat or
// POST /api/rag/stores/{store}/ask; upload documents into a store with PUT.
// Plain JavaScript, no framework.
"use strict";

(function () {
  const ROOT = document.body.dataset.root || "";
  const form = document.querySelector('[data-testid="assistant-form"]');
  if (!form) return;
  const answer = document.querySelector('[data-testid="assistant-answer"]');
  const status = document.querySelector('[data-testid="assistant-status"]');
  const send = form.querySelector('[data-testid="assistant-send"]');
  const stop = form.querySelector('[data-testid="assistant-stop"]');
  const select = form.elements.model;
  const storeSelect = form.elements.store;
  const sources = document.querySelector('[data-testid="assistant-sources"]');
  const upload = document.querySelector('[data-testid="upload-form"]');
  const uploadStatus = document.querySelector('[data-testid="upload-status"]');
  let controller = null;

  async function loadStores(selected) {
    const response = await fetch(ROOT + "/api/rag/stores");
    if (!response.ok) return;
    const keep = selected === undefined ? storeSelect.value : selected;
    while (storeSelect.options.length > 1) storeSelect.remove(1);
    for (const store of await response.json()) {
      const option = document.createElement("option");
      option.value = store.name;
      const noun = store.documents === 1 ? " document)" : " documents)";
      option.textContent = "store " + store.name + " (" + store.documents + noun;
      storeSelect.appendChild(option);
    }
    storeSelect.value = keep;
  }

  function showSources(citations) {
    sources.textContent = "";
    for (const citation of citations || []) {
      const item = document.createElement("li");
      item.textContent = citation;
      sources.appendChild(item);
    }
  }

  async function loadModels() {
    const response = await fetch(ROOT + "/api/llm/models");
    if (!response.ok) return;
    for (const model of await response.json()) {
      const option = document.createElement("option");
      option.value = model.alias;
      option.textContent = model.alias + " (" + model.tier + ")" + (model.available ? "" : " - no API key");
      option.disabled = !model.available;
      if (model.default) option.selected = true;
      select.appendChild(option);
    }
  }

  function setBusy(busy) {
    send.disabled = busy;
    stop.hidden = !busy;
  }

  // Split a buffer of server-sent events into complete events and the unfinished rest.
  function parseEvents(buffer) {
    const parts = buffer.split("\n\n");
    const rest = parts.pop();
    const events = parts.map(function (block) {
      let name = "message";
      let data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) name = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      return { name: name, data: data ? JSON.parse(data) : {} };
    });
    return { events: events, rest: rest };
  }

  async function ask(event) {
    event.preventDefault();
    const prompt = form.elements.prompt.value.trim();
    if (!prompt) return;
    answer.textContent = "";
    showSources([]);
    status.textContent = "thinking...";
    status.dataset.state = "running";
    setBusy(true);
    controller = new AbortController();
    const store = storeSelect.value;
    const body = { max_tokens: Number(form.elements.max_tokens.value) || 256, stream: true };
    if (store) body.question = prompt;
    else body.messages = [{ role: "user", content: prompt }];
    if (select.value) body.model = select.value;
    const url = store
      ? "/api/rag/stores/" + encodeURIComponent(store) + "/ask"
      : "/api/llm/chat";
    try {
      const response = await fetch(ROOT + url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
        signal: controller.signal,
      });
      if (!response.ok) {
        const error = await response.json().catch(function () { return {}; });
        throw new Error(error.detail || response.status + " " + response.statusText);
      }
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const parsed = parseEvents(buffer + value);
        buffer = parsed.rest;
        for (const item of parsed.events) {
          if (item.name === "error") throw new Error(item.data.detail || "the model failed");
          if (item.data.delta) answer.textContent += item.data.delta;
          if (item.data.done) {
            showSources(item.data.citations);
            const how = item.data.finish_reason || (item.data.found ? "from the documents" : "not found");
            status.textContent = "done (" + how + ")";
            status.dataset.state = "done";
          }
        }
      }
    } catch (error) {
      const stopped = error.name === "AbortError";
      status.textContent = stopped ? "stopped" : "error: " + error.message;
      status.dataset.state = stopped ? "stopped" : "error";
    } finally {
      setBusy(false);
      controller = null;
    }
  }

  async function sendDocument(event) {
    event.preventDefault();
    const file = upload.elements.file.files[0];
    const store = upload.elements.store.value.trim();
    if (!file || !store) return;
    uploadStatus.textContent = "indexing " + file.name + "...";
    uploadStatus.dataset.state = "running";
    try {
      const path = "/api/rag/stores/" + encodeURIComponent(store) + "/documents/" +
        encodeURIComponent(file.name);
      const response = await fetch(ROOT + path, { method: "PUT", body: file });
      const data = await response.json().catch(function () { return {}; });
      if (!response.ok) throw new Error(data.detail || response.status + " " + response.statusText);
      uploadStatus.textContent = file.name + ": " + data.status + ", " + data.chunks + " chunks";
      uploadStatus.dataset.state = "done";
      await loadStores(store);
    } catch (error) {
      uploadStatus.textContent = "error: " + error.message;
      uploadStatus.dataset.state = "error";
    }
  }

  form.addEventListener("submit", ask);
  upload.addEventListener("submit", sendDocument);
  stop.addEventListener("click", function () {
    if (controller) controller.abort();
  });
  loadModels();
  loadStores("");
})();
