// wxai labs page: run labs as tasks, follow their progress, list and cancel tasks.
// Plain JavaScript, no framework, no network access beyond this server.
"use strict";

(function () {
  const ROOT = document.body.dataset.root || "";
  const POLL_MS = 500;
  const TASKS_MS = 1500;
  const FINAL = new Set(["completed", "failed", "cancelled"]);
  const tracked = new Map(); // lab name -> task id being followed in its card

  const api = window.wx.api; // JSON calls with the CSRF header (common.js)

  function card(lab) {
    return document.querySelector('.card[data-lab="' + CSS.escape(lab) + '"]');
  }

  function showStatus(lab, task) {
    const el = card(lab);
    if (!el) return;
    const status = el.querySelector(".run-status");
    status.hidden = false;
    const percent = Math.round(100 * (task.progress || 0));
    const bar = status.querySelector(".progress");
    bar.setAttribute("aria-valuenow", String(percent));
    bar.querySelector(".bar").style.width = percent + "%";
    bar.dataset.state = task.state;
    const state = status.querySelector(".state");
    state.textContent = task.state;
    state.className = "state state-" + task.state;
    const message = task.state === "failed" ? task.error || "failed" : task.message || "";
    status.querySelector(".status-message").textContent =
      (FINAL.has(task.state) ? "" : percent + "% · ") + message;
    status.querySelector(".cancel-run").hidden = FINAL.has(task.state);
    status.dataset.taskId = task.id;
    el.querySelector("button.run").disabled = !FINAL.has(task.state);
  }

  async function reloadCard(lab) {
    const response = await fetch(ROOT + "/partials/labs/" + encodeURIComponent(lab));
    if (!response.ok) return;
    const holder = document.createElement("div");
    holder.innerHTML = (await response.text()).trim();
    const fresh = holder.firstElementChild;
    const old = card(lab);
    if (fresh && old) {
      // keep what the user chose
      fresh.querySelector(".preset-select").value = old.querySelector(".preset-select").value;
      fresh.querySelector(".overrides").value = old.querySelector(".overrides").value;
      old.replaceWith(fresh);
    }
  }

  async function follow(lab, taskId) {
    tracked.set(lab, taskId);
    for (;;) {
      let task;
      try {
        task = await api("GET", "/api/tasks/" + taskId);
      } catch (error) {
        tracked.delete(lab);
        return;
      }
      if (FINAL.has(task.state)) {
        if (task.state === "completed") await reloadCard(lab);
        showStatus(lab, task);
        tracked.delete(lab);
        refreshTasks();
        return;
      }
      showStatus(lab, task);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  async function runLab(lab) {
    const el = card(lab);
    const overrides = ["preset=" + el.querySelector(".preset-select").value];
    for (const item of el.querySelector(".overrides").value.trim().split(/\s+/)) {
      if (item) overrides.push(item);
    }
    el.querySelector("button.run").disabled = true;
    try {
      const task = await api("POST", "/api/tasks", {
        type: "lab",
        params: { name: lab, overrides },
      });
      showStatus(lab, task);
      refreshTasks();
      follow(lab, task.id);
    } catch (error) {
      showStatus(lab, { id: "", state: "failed", progress: 0, error: error.message });
    }
  }

  async function cancelTask(taskId) {
    try {
      await api("PUT", "/api/tasks/" + taskId, { action: "cancel" });
    } catch (error) {
      window.alert("Could not cancel: " + error.message);
    }
    refreshTasks();
  }

  async function deleteTask(taskId) {
    try {
      await api("DELETE", "/api/tasks/" + taskId);
    } catch (error) {
      window.alert("Could not delete: " + error.message);
    }
    refreshTasks();
  }

  function cell(row, text, className) {
    const td = document.createElement("td");
    if (text !== undefined) td.textContent = text;
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function describe(task) {
    const params = (task.data && task.data.params) || {};
    if (task.type === "lab") {
      return params.name + " " + (params.overrides || []).join(" ");
    }
    return task.type + " " + JSON.stringify(params);
  }

  function taskRow(task) {
    const row = document.createElement("tr");
    row.dataset.taskId = task.id;
    row.setAttribute("data-testid", "task-" + task.id);
    cell(row, task.id.slice(0, 8), "mono nowrap");
    cell(row, describe(task), "mono what");
    const state = cell(row);
    const badge = document.createElement("span");
    badge.className = "state state-" + task.state;
    badge.textContent = task.state;
    badge.setAttribute("data-testid", "task-state");
    state.appendChild(badge);
    const progress = cell(row);
    const bar = document.createElement("div");
    bar.className = "progress small";
    bar.dataset.state = task.state;
    const fill = document.createElement("div");
    fill.className = "bar";
    fill.style.width = Math.round(100 * task.progress) + "%";
    bar.appendChild(fill);
    progress.appendChild(bar);
    cell(row, task.state === "failed" ? task.error || "" : task.message || "", "message");
    cell(row, new Date(task.created_at).toLocaleTimeString([], { hour12: false }), "mono nowrap");
    const actions = cell(row, undefined, "actions");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "link";
    if (FINAL.has(task.state)) {
      button.textContent = "delete";
      button.setAttribute("data-testid", "delete-" + task.id);
      button.addEventListener("click", () => deleteTask(task.id));
    } else {
      button.textContent = task.cancel_requested ? "cancelling…" : "cancel";
      button.disabled = task.cancel_requested;
      button.setAttribute("data-testid", "cancel-" + task.id);
      button.addEventListener("click", () => cancelTask(task.id));
    }
    actions.appendChild(button);
    return row;
  }

  async function refreshTasks() {
    let tasks;
    try {
      tasks = await api("GET", "/api/tasks?limit=15");
    } catch (error) {
      return;
    }
    const body = document.getElementById("task-rows");
    body.replaceChildren(...tasks.map(taskRow));
    if (!tasks.length) {
      const row = document.createElement("tr");
      row.className = "placeholder";
      cell(row, "No tasks yet.").colSpan = 7;
      body.appendChild(row);
    }
    for (const task of tasks) {
      // follow lab tasks started elsewhere (another tab, the API, before a reload)
      const lab = task.type === "lab" && task.data.params.name;
      if (lab && !FINAL.has(task.state) && !tracked.has(lab) && card(lab)) follow(lab, task.id);
    }
  }

  const openLightbox = window.wx.openLightbox;

  document.addEventListener("click", (event) => {
    const target = event.target.closest("[data-action], .thumb");
    if (!target) return;
    const lab = target.closest(".card") && target.closest(".card").dataset.lab;
    if (target.classList.contains("thumb")) {
      event.preventDefault();
      openLightbox(target.getAttribute("href"));
    } else if (target.dataset.action === "run") {
      runLab(lab);
    } else if (target.dataset.action === "cancel-run") {
      const id = target.closest(".run-status").dataset.taskId;
      if (id) cancelTask(id);
    }
  });

  refreshTasks();
  setInterval(() => {
    if (!document.hidden) refreshTasks();
  }, TASKS_MS);
})();
