// wxai cockpit, assistant panel: chat with a model alias, the answer streamed from
// POST /api/llm/chat as server-sent events. Plain JavaScript, no framework.
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
  let controller = null;

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
    status.textContent = "thinking...";
    status.dataset.state = "running";
    setBusy(true);
    controller = new AbortController();
    const body = {
      messages: [{ role: "user", content: prompt }],
      max_tokens: Number(form.elements.max_tokens.value) || 256,
      stream: true,
    };
    if (select.value) body.model = select.value;
    try {
      const response = await fetch(ROOT + "/api/llm/chat", {
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
            status.textContent = "done (" + item.data.finish_reason + ")";
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

  form.addEventListener("submit", ask);
  stop.addEventListener("click", function () {
    if (controller) controller.abort();
  });
  loadModels();
})();
