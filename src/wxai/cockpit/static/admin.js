// wxai admin page: add users (with a password or a one-time sign-in link), disable or
// enable them, change roles, manage groups and their members. Plain JavaScript.
"use strict";

(function () {
  const wx = window.wx;
  const $ = (id) => document.querySelector('[data-testid="' + id + '"]');
  const status = $("user-status");

  function say(text, state) {
    status.textContent = text;
    status.dataset.state = state || "";
  }

  function button(label, cls, action) {
    const node = wx.el("button", { type: "button", class: "link " + (cls || "") }, label);
    node.addEventListener("click", async () => {
      try {
        await action();
      } catch (err) {
        say(err.message, "error");
      }
    });
    return node;
  }

  async function loadUsers() {
    const users = await wx.api("GET", "/api/admin/users");
    const body = $("user-rows");
    body.textContent = "";
    for (const user of users) {
      const row = wx.el("tr", { "data-user": user.name });
      row.appendChild(wx.el("td", {}, user.name));
      row.appendChild(wx.el("td", {}, user.role));
      row.appendChild(wx.el("td", { class: user.disabled ? "bad" : "" }, user.disabled ? "disabled" : "active"));
      row.appendChild(wx.el("td", {}, user.groups.join(", ")));
      row.appendChild(wx.el("td", {}, wx.when(user.created_at)));
      const actions = wx.el("td", { class: "actions" });
      actions.appendChild(button(user.disabled ? "enable" : "disable", user.disabled ? "" : "danger", async () => {
        await wx.api("PATCH", "/api/admin/users/" + user.id, { disabled: !user.disabled });
        loadUsers();
      }));
      actions.appendChild(button(user.role === "admin" ? "make user" : "make admin", "", async () => {
        await wx.api("PATCH", "/api/admin/users/" + user.id, {
          role: user.role === "admin" ? "user" : "admin",
        });
        loadUsers();
      }));
      actions.appendChild(button("sign-in link", "", async () => {
        const link = await wx.api("POST", "/api/admin/users/" + user.id + "/link");
        say("One-time sign-in link for " + user.name + " (24 h): " + link.url, "ok");
      }));
      row.appendChild(actions);
      body.appendChild(row);
    }
  }

  async function loadGroups() {
    const groups = await wx.api("GET", "/api/admin/groups");
    const body = $("group-rows");
    body.textContent = "";
    for (const group of groups) {
      const row = wx.el("tr", { "data-group": group.name });
      row.appendChild(wx.el("td", {}, group.name));
      const memberCell = wx.el("td");
      for (const name of group.members) {
        const chip = wx.el("span", { class: "chip" }, name + " ");
        chip.appendChild(button("×", "danger", async () => {
          await wx.api("DELETE", "/api/admin/groups/" + group.id + "/members/" + encodeURIComponent(name));
          refresh();
        }));
        memberCell.appendChild(chip);
      }
      row.appendChild(memberCell);
      const addCell = wx.el("td");
      const form = wx.el("form", { class: "inline" });
      const input = wx.el("input", { name: "member", placeholder: "user name", required: true });
      input.setAttribute("data-testid", "member-input-" + group.name);
      form.appendChild(input);
      form.appendChild(wx.el("button", { type: "submit", class: "run" }, "Add"));
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        try {
          await wx.api("PUT", "/api/admin/groups/" + group.id + "/members/" + encodeURIComponent(input.value));
          refresh();
        } catch (err) {
          say(err.message, "error");
        }
      });
      addCell.appendChild(form);
      row.appendChild(addCell);
      const del = wx.el("td");
      del.appendChild(button("delete group", "danger", async () => {
        if (!confirm("Delete group " + group.name + "?")) return;
        await wx.api("DELETE", "/api/admin/groups/" + group.id);
        refresh();
      }));
      row.appendChild(del);
      body.appendChild(row);
    }
  }

  function refresh() {
    loadUsers();
    loadGroups();
  }

  $("user-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const groups = form.elements.groups.value.split(",").map((g) => g.trim()).filter(Boolean);
    const password = form.elements.password.value;
    try {
      const user = await wx.api("POST", "/api/admin/users", {
        name: form.elements.name.value,
        password: password || null,
        role: form.elements.role.value,
        groups,
      });
      form.reset();
      if (password) {
        say("added " + user.name, "ok");
      } else {
        // no password: hand out a one-time sign-in link right away
        const link = await wx.api("POST", "/api/admin/users/" + user.id + "/link");
        say("added " + user.name + "; one-time sign-in link (24 h): " + link.url, "ok");
      }
      refresh();
    } catch (err) {
      say(err.message, "error");
    }
  });

  $("group-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    try {
      await wx.api("POST", "/api/admin/groups", { name: form.elements.name.value });
      form.reset();
      refresh();
    } catch (err) {
      say(err.message, "error");
    }
  });

  refresh();
})();
