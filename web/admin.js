// The admin dashboard: the internal API, called with STEWARD_ADMIN_TOKEN as the bearer. The
// token stays in this page's memory; every value reaches the page through textContent.

const $ = (id) => document.getElementById(id);
// The admin token lives in this variable only: not in storage, which browsers write to disk for
// session restore. A reload asks for it again.
let adminToken = "";

function el(tag, properties = {}, children = []) {
  const element = Object.assign(document.createElement(tag), properties);
  for (const child of children) element.append(child);
  return element;
}

const when = (iso) => (iso ? new Date(iso).toLocaleString() : "");
const shortScope = (scope) => scope.replace("https://www.googleapis.com/auth/", "");

async function api(path, init = {}) {
  const response = await fetch(path, {
    ...init,
    headers: { authorization: `Bearer ${adminToken}`, ...init.headers },
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(body.error?.message ?? `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

function showError(message) {
  $("admin-error").textContent = message;
  $("admin-error").hidden = !message;
}

function userRow({ user, credential }) {
  const status = credential?.status ?? "none";
  const revoke = el("button", {
    type: "button",
    className: "secondary revoke",
    textContent: "Revoke",
    disabled: status !== "active",
    title: "Revoke the grant at Google; the user stays, and must sign in again",
  });
  revoke.addEventListener("click", async () => {
    if (!confirm(`Revoke Google access for ${user.email ?? user.sub}?`)) return;
    revoke.disabled = true;
    try {
      await api(`/v1/users/${encodeURIComponent(user.sub)}/revoke`, { method: "POST" });
    } catch (error) {
      showError(error.message);
    }
    await load();
  });
  const row = el("tr", {}, [
    el("td", {}, [
      el("strong", { textContent: user.email ?? "(no email)" }),
      el("br"),
      el("code", { textContent: user.sub }),
    ]),
    el("td", {}, [el("span", { className: `pill status-${status}`, textContent: status })]),
    el(
      "td",
      {},
      (credential?.grantedScopes ?? []).map((scope) =>
        el("span", { className: "pill", textContent: shortScope(scope) }),
      ),
    ),
    el("td", { textContent: when(credential?.lastRefreshAt) }),
    el("td", { textContent: credential?.lastError ?? credential?.revokedReason ?? "" }),
    el("td", {}, [revoke]),
  ]);
  row.dataset.sub = user.sub;
  return row;
}

function jobRow(job) {
  return el("tr", {}, [
    el("td", { textContent: job.name }),
    el("td", {}, [el("code", { textContent: job.sub })]),
    el("td", {}, [el("span", { className: `pill state-${job.state}`, textContent: job.state })]),
    el("td", { textContent: when(job.createdAt) }),
    el("td", { textContent: when(job.completedAt) }),
    el("td", {}, job.error ? [el("code", { textContent: job.error.code })] : []),
  ]);
}

function eventRow(event) {
  return el("tr", {}, [
    el("td", { textContent: when(event.at) }),
    el("td", { textContent: event.type }),
    el("td", {}, event.sub ? [el("code", { textContent: event.sub })] : []),
    el("td", { textContent: event.actor ?? "" }),
    el("td", {}, [el("code", { textContent: JSON.stringify(event.data) })]),
  ]);
}

async function load() {
  if (!adminToken) {
    $("dashboard").hidden = true;
    return;
  }
  try {
    const [users, events, jobs] = await Promise.all([
      api("/v1/users?limit=200"),
      api("/v1/audit-events?limit=50"),
      // Jobs are optional: a service without them answers 404.
      api("/v1/jobs?limit=50").catch((error) =>
        error.status === 404 ? undefined : Promise.reject(error),
      ),
    ]);
    showError("");
    $("users").replaceChildren(...users.users.map(userRow));
    $("events").replaceChildren(...events.events.map(eventRow));
    $("jobs-off").hidden = jobs !== undefined;
    $("jobs-table").hidden = jobs === undefined;
    $("jobs").replaceChildren(...(jobs?.jobs ?? []).map(jobRow));
    $("dashboard").hidden = false;
    document.body.dataset.loaded = String(Date.now());
  } catch (error) {
    $("dashboard").hidden = true;
    showError(error.status === 401 ? refusedTokenMessage() : error.message);
  }
}

$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  adminToken = $("token").value.trim();
  $("token").value = "";
  load();
});
$("forget-token").addEventListener("click", () => {
  adminToken = "";
  $("dashboard").hidden = true;
});
$("reload").addEventListener("click", load);
setInterval(() => {
  if (document.visibilityState === "visible" && !$("dashboard").hidden) load();
}, 10_000);
load();

// With no STEWARD_ADMIN_TOKEN set, say the token is off and how to turn it on; an admin API key
// still works. GET /admin/status tells whether one is set, nothing more.
let adminTokenOff = false;
function refusedTokenMessage() {
  return adminTokenOff
    ? "That is not an admin API key, and STEWARD_ADMIN_TOKEN is not set: paste an admin API key, or set STEWARD_ADMIN_TOKEN."
    : "That token is not valid.";
}
async function showWhetherAdminTokenIsOff() {
  const status = await fetch("/admin/status")
    .then((response) => response.json())
    .catch(() => undefined);
  adminTokenOff = status?.adminTokenConfigured === false;
  $("admin-off").hidden = !adminTokenOff;
}
showWhetherAdminTokenIsOff();
