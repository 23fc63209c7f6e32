// The admin dashboard: the internal API, called with STEWARD_ADMIN_TOKEN as the bearer. The
// token stays in this page's memory; every value reaches the page through textContent. Charts
// are drawn by uPlot (loaded before this module as the global `uPlot`).

const $ = (id) => document.getElementById(id);
// The admin token lives in this variable only: not in storage, which browsers write to disk for
// session restore. A reload asks for it again.
let adminToken = "";
const USERS_PER_PAGE = 25;
// The users' page: the search, and the cursor of each page shown so far (the first has none).
const usersView = { q: "", cursors: [undefined], nextCursor: null };
let activityWindow = "day";
// The charts by series, also for tests to read what was drawn (chart.data).
const charts = {};
window.stewardCharts = charts;

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

/** What needs an operator's eye besides the status, each only when its data says so. */
function flagsOf({ credential, accountDisabled }) {
  const flags = [];
  if (accountDisabled) {
    const why = accountDisabled.reason ? ` (${accountDisabled.reason})` : "";
    flags.push(
      el("span", {
        className: "pill off flag-disabled",
        textContent: `disabled by Google${why}`,
        title: `Google said so on ${when(accountDisabled.at)} (Cross-Account Protection)`,
      }),
    );
  }
  if (credential?.likelyCause === "testing_mode_expiry") {
    flags.push(
      el("span", {
        className: "pill off flag-testing-mode",
        textContent: "likely Testing mode",
        title:
          "The grant died seven days after sign-in, as Google ends an app's grants while its OAuth consent screen is in Testing: publish the app",
      }),
    );
  }
  if (credential?.status === "active" && !credential.offlineAccess) {
    flags.push(el("span", { className: "pill off", textContent: "no offline access" }));
  }
  return flags;
}

/** Sign-ins, and how many brought a new refresh token (Google keeps the newest 100). */
function signInsCell(signIns) {
  const total = signIns?.total ?? 0;
  const fresh = signIns?.withRefreshToken ?? 0;
  return el("td", {
    className: "sign-ins",
    textContent: `${total} (${fresh} with a refresh token)`,
    title:
      "Google keeps the newest 100 refresh tokens per account and client: the 101st sign-in that brings one kills the oldest",
  });
}

function userRow({ user, credential, accountDisabled, signIns }) {
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
    el("td", {}, [
      el("span", { className: `pill status-${status}`, textContent: status }),
      ...flagsOf({ credential, accountDisabled }),
    ]),
    el(
      "td",
      {},
      (credential?.grantedScopes ?? []).map((scope) =>
        el("span", { className: "pill", textContent: shortScope(scope) }),
      ),
    ),
    signInsCell(signIns),
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

const shortSub = (sub) => (sub.length > 8 ? `${sub.slice(0, 4)}…` : sub);
const plural = (count, noun) => `${count} ${noun}${count === 1 ? "" : "s"}`;

/** Who an event is about: their email when known, else the start of their sub. */
function whoOf(event) {
  if (event.email) return event.email;
  return event.sub ? shortSub(event.sub) : "someone";
}

function actorOf(actor) {
  if (actor === "admin") return "An admin";
  if (actor?.startsWith("api_key:")) return `API key ${actor.slice("api_key:".length)}`;
  if (actor?.startsWith("job:")) return `Job ${actor.slice("job:".length)}`;
  if (actor === "user") return "The user";
  return "Steward";
}

/** One sentence an operator reads at a glance; the details stay folded below it. */
function sentenceOf(event) {
  const who = whoOf(event);
  const data = event.data ?? {};
  switch (event.type) {
    case "user.signed_in": {
      const scopes = Array.isArray(data.grantedScopes) ? data.grantedScopes.length : 0;
      const offline = data.refreshTokenReceived === false ? ", without offline access" : "";
      return `${who} signed in (${plural(scopes, "scope")}${offline})`;
    }
    case "credential.revoked":
      if (data.likelyCause === "testing_mode_expiry")
        return `Refresh for ${who} found the grant dead after seven days: is the app still in Testing?`;
      if (data.discoveredBy === "refresh") return `Refresh for ${who} found the grant revoked`;
      if (event.actor === "user") return `${who} disconnected from Google`;
      if (typeof data.reason === "string" && data.reason.startsWith("risc_"))
        return `Google's security event revoked ${who}'s grant (${data.reason})`;
      return `${actorOf(event.actor)} revoked ${who}'s grant${data.reason ? ` (${data.reason})` : ""}`;
    case "token.handed_out":
      return `${actorOf(event.actor)} was handed an access token for ${who}`;
    case "job.token_issued":
      return `Job ${data.job ?? ""} got an access token for ${who}`.replace("  ", " ");
    case "keys.rotated":
      return "Credentials were re-sealed with the active key";
    case "risc.account_disabled":
      return `Google disabled ${who}'s account${data.reason ? ` (${data.reason})` : ""}`;
    case "risc.account_enabled":
      return `Google re-enabled ${who}'s account`;
    case "risc.tokens_revoked":
    case "risc.sessions_revoked":
      return `Google revoked ${who}'s ${event.type === "risc.sessions_revoked" ? "sessions" : "tokens"}`;
    case "risc.credential_change_required":
      return `Google asks ${who} to change their credentials`;
    case "risc.verification":
      return "Google verified the security-event receiver";
    default:
      return `${event.type}${event.sub ? ` for ${who}` : ""}`;
  }
}

// Events unfolded by the operator stay so across the periodic reload.
const openEvents = new Set();

function eventItem(event) {
  const details = {
    type: event.type,
    sub: event.sub,
    actor: event.actor,
    data: event.data,
  };
  const folded = el("details", { open: openEvents.has(event.id) }, [
    el("summary", {}, [
      el("time", { dateTime: event.at, textContent: when(event.at) }),
      el("span", { className: "sentence", textContent: sentenceOf(event) }),
    ]),
    el("pre", { textContent: JSON.stringify(details, null, 2) }),
  ]);
  folded.addEventListener("toggle", () => {
    if (folded.open) openEvents.add(event.id);
    else openEvents.delete(event.id);
  });
  const item = el("li", {}, [folded]);
  item.dataset.type = event.type;
  return item;
}

const SERIES = {
  signIns: { label: "Sign-ins", stroke: "#0b57d0", fill: "rgba(11, 87, 208, 0.35)" },
  refreshes: { label: "Refreshes", stroke: "#1a7f37", fill: "rgba(26, 127, 55, 0.35)" },
  refreshFailures: { label: "Failures", stroke: "#bf8700", fill: "rgba(191, 135, 0, 0.4)" },
  revocations: { label: "Revocations", stroke: "#cf222e", fill: "rgba(207, 34, 46, 0.35)" },
};

/** Draws one bar chart per series from the hourly buckets, and its total over the window. */
function drawCharts(hours) {
  const xs = hours.map((entry) => Date.parse(entry.hour) / 1000);
  for (const figure of document.querySelectorAll("figure.chart")) {
    const name = figure.dataset.series;
    const ys = hours.map((entry) => entry[name]);
    const total = ys.reduce((sum, value) => sum + value, 0);
    figure.dataset.total = String(total);
    figure.querySelector(".total").textContent = String(total);
    const plot = figure.querySelector(".plot");
    charts[name]?.destroy();
    charts[name] = new uPlot(
      {
        width: Math.max(plot.clientWidth, 280),
        height: 150,
        cursor: { drag: { x: false, y: false } },
        // Half an hour either side, so the first and last bars are drawn whole.
        scales: {
          x: { time: true, range: (_u, min, max) => [min - 1800, max + 1800] },
          y: { range: (_u, _min, max) => [0, Math.max(max, 1)] },
        },
        axes: [{}, { size: 40, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000, 10000] }],
        series: [
          { label: "Hour" },
          {
            ...SERIES[name],
            width: 1,
            paths: uPlot.paths.bars({ size: [0.8, 12] }),
            points: { show: false },
          },
        ],
      },
      [xs, ys],
      plot,
    );
  }
}

function keyRows(keys) {
  return keys.map((key) =>
    el("tr", {}, [
      el("td", {}, [el("code", { textContent: key.kid })]),
      el("td", { textContent: String(key.credentials) }),
      el("td", {}, [
        el("span", {
          className: `pill ${key.active ? "ok" : key.inRing ? "" : "off"}`,
          textContent: key.active
            ? "active: seals new tokens"
            : key.inRing
              ? "older key"
              : "missing from STEWARD_KEYS",
        }),
      ]),
    ]),
  );
}

function rotationOf(keys) {
  const active = keys.find((key) => key.active);
  const older = keys.filter((key) => !key.active && key.credentials > 0);
  if (older.length === 0)
    return `Every credential is sealed with the active key ${active?.kid ?? ""}.`;
  const left = older.map((key) => `${key.kid} (${key.credentials})`).join(", ");
  return `Rotation not finished: still sealed with ${left}. Run \`steward keys rotate\`.`;
}

// Each load's number: a load overtaken by a later one (a click during the periodic reload)
// shows nothing, so what is on the page always answers the latest request.
let latestLoad = 0;

async function loadUsers(ticket) {
  const query = new URLSearchParams({ limit: String(USERS_PER_PAGE) });
  const after = usersView.cursors.at(-1);
  if (after !== undefined) query.set("after", after);
  if (usersView.q) query.set("q", usersView.q);
  const page = await api(`/v1/users?${query}`);
  if (ticket !== latestLoad) return false;
  usersView.nextCursor = page.nextCursor;
  $("users").replaceChildren(...page.users.map(userRow));
  $("users-empty").hidden = page.users.length > 0;
  $("users-next").disabled = page.nextCursor === null;
  $("users-first").disabled = usersView.cursors.length === 1;
  $("users-page").textContent = `Page ${usersView.cursors.length}`;
  return true;
}

async function load() {
  if (!adminToken) {
    $("dashboard").hidden = true;
    return;
  }
  latestLoad += 1;
  const ticket = latestLoad;
  try {
    const [activity, keys, events, jobs] = await Promise.all([
      api(`/v1/admin/activity?window=${activityWindow}`),
      api("/v1/admin/keys"),
      api("/v1/audit-events?limit=50"),
      // Jobs are optional: a service without them answers 404.
      api("/v1/jobs?limit=50").catch((error) =>
        error.status === 404 ? undefined : Promise.reject(error),
      ),
    ]);
    if (ticket !== latestLoad || !(await loadUsers(ticket))) return;
    showError("");
    $("dashboard").hidden = false;
    try {
      drawCharts(activity.hours);
      $("charts-error").hidden = true;
    } catch (error) {
      // The charts are one card of many: the rest of the page still serves.
      $("charts-error").textContent = `The charts could not be drawn: ${error.message}`;
      $("charts-error").hidden = false;
    }
    $("keys").replaceChildren(...keyRows(keys.keys));
    $("rotation").textContent = rotationOf(keys.keys);
    $("events").replaceChildren(...events.events.map(eventItem));
    $("jobs-off").hidden = jobs !== undefined;
    $("jobs-table").hidden = jobs === undefined;
    $("jobs").replaceChildren(...(jobs?.jobs ?? []).map(jobRow));
    document.body.dataset.loaded = String(Date.now());
  } catch (error) {
    if (ticket !== latestLoad) return;
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
for (const span of ["day", "week"]) {
  $(`window-${span}`).addEventListener("click", () => {
    activityWindow = span;
    $("window-day").setAttribute("aria-pressed", String(span === "day"));
    $("window-week").setAttribute("aria-pressed", String(span === "week"));
    load();
  });
}
$("search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  usersView.q = $("search").value.trim();
  usersView.cursors = [undefined];
  load();
});
$("search-clear").addEventListener("click", () => {
  $("search").value = "";
  usersView.q = "";
  usersView.cursors = [undefined];
  load();
});
$("users-next").addEventListener("click", () => {
  if (usersView.nextCursor === null) return;
  usersView.cursors.push(usersView.nextCursor);
  load();
});
$("users-first").addEventListener("click", () => {
  usersView.cursors = [undefined];
  load();
});
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
