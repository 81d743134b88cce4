// wxai account page: change the password, create and revoke API keys (shown once).
"use strict";

(function () {
  const wx = window.wx;
  const $ = (id) => document.querySelector('[data-testid="' + id + '"]');

  async function loadKeys() {
    const keys = await wx.api("GET", "/api/me/keys");
    const body = $("key-rows");
    body.textContent = "";
    for (const key of keys) {
      const row = wx.el("tr");
      row.appendChild(wx.el("td", {}, key.label || "(no label)"));
      row.appendChild(wx.el("td", {}, wx.when(key.created_at)));
      row.appendChild(wx.el("td", {}, wx.when(key.last_used_at)));
      const cell = wx.el("td");
      const revoke = wx.el("button", { type: "button", class: "link danger" }, "revoke");
      revoke.addEventListener("click", async () => {
        await wx.api("DELETE", "/api/me/keys/" + key.id);
        loadKeys();
      });
      cell.appendChild(revoke);
      row.appendChild(cell);
      body.appendChild(row);
    }
  }

  $("key-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const key = await wx.api("POST", "/api/me/keys", { label: form.elements.label.value });
    form.reset();
    const shown = $("new-key");
    shown.hidden = false;
    shown.textContent = "";
    shown.appendChild(wx.el("span", {}, "Your new key (copy it now, it is not shown again): "));
    shown.appendChild(wx.el("code", { "data-testid": "new-key-value" }, key.key));
    loadKeys();
  });

  $("password-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const status = $("password-status");
    try {
      await wx.api("POST", "/api/me/password", {
        current: form.elements.current.value,
        new: form.elements.new.value,
      });
      form.reset();
      status.textContent = "password changed";
      status.dataset.state = "ok";
    } catch (err) {
      status.textContent = err.message;
      status.dataset.state = "error";
    }
  });

  loadKeys();
})();
