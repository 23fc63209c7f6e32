// The demo page: sign in with the web code flow (popup), show the profile, scopes and connection,
// upload photos, enqueue the enhancing job, and show albums and jobs. No framework; every value
// from the server reaches the page through textContent, never as HTML.

const $ = (id) => document.getElementById(id);
const PENDING = new Set(["created", "retry", "active"]);
const REFRESH_WHILE_PENDING_MS = 1500;

let config;
let refreshTimer;
/** The enhancing job this page queued, until the page has said how it ended. */
let queuedJobId;

/** Calls the demo API; X-Requested-With marks every call as the page's own. */
async function api(path, init = {}) {
  const response = await fetch(path, {
    credentials: "same-origin",
    ...init,
    headers: { "x-requested-with": "XMLHttpRequest", ...init.headers },
  });
  const body = response.status === 204 ? {} : await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(body.error?.message ?? `HTTP ${response.status}`);
    error.code = body.error?.code;
    error.status = response.status;
    throw error;
  }
  return body;
}

function show(element, visible) {
  element.hidden = !visible;
}

function showError(message) {
  $("page-error").textContent = message;
  show($("page-error"), Boolean(message));
}

function el(tag, properties = {}, children = []) {
  const element = Object.assign(document.createElement(tag), properties);
  for (const child of children) element.append(child);
  return element;
}

const shortScope = (scope) => scope.replace("https://www.googleapis.com/auth/", "");

/**
 * Opens Google's consent page in a popup and resolves with `{code, scope}` when it posts back.
 * Messages are taken only from the popup itself, from the consent page's origin, carrying the
 * `state` we made up for this attempt.
 */
function consent({ prompt } = {}) {
  const url = new URL(config.authorizationUrl);
  const state = crypto.randomUUID();
  url.search = new URLSearchParams({
    client_id: config.clientId,
    redirect_uri: "postmessage",
    origin: location.origin,
    response_type: "code",
    scope: config.scopes.join(" "),
    access_type: "offline",
    include_granted_scopes: "true",
    state,
    ...(prompt ? { prompt } : {}),
  }).toString();
  const popup = window.open(url.href, "steward-sign-in", "popup,width=560,height=720");
  if (!popup) return Promise.reject(new Error("Allow pop-ups for this page to sign in."));
  return new Promise((resolve, reject) => {
    let closedSince;
    const stop = () => {
      window.removeEventListener("message", onMessage);
      clearInterval(watch);
    };
    const onMessage = (event) => {
      if (event.origin !== url.origin || event.source !== popup) return;
      if (!event.data || event.data.state !== state) return;
      stop();
      if (event.data.error) reject(new Error(`Sign-in ended: ${event.data.error}`));
      else resolve(event.data);
    };
    // The consent page closes itself right after posting; give its message time to arrive.
    const watch = setInterval(() => {
      if (!popup.closed) return;
      closedSince ??= Date.now();
      if (Date.now() - closedSince > 1500) {
        stop();
        reject(new Error("The sign-in window was closed."));
      }
    }, 250);
    window.addEventListener("message", onMessage);
  });
}

/** Consent, then the code goes to the backend, which hands it to Steward and opens a session. */
async function signIn(options) {
  showError("");
  try {
    const { code } = await consent(options);
    const result = await api("/demo/api/session", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ code, redirectUri: "postmessage" }),
    });
    if (!result.offlineAccess) {
      showError(
        "Google sent no offline access: use Ask again so the app can work while you are away.",
      );
    }
    await refresh();
  } catch (error) {
    showError(error.message);
  }
}

function renderProfile(state) {
  const { user, connection } = state;
  $("user-name").textContent = user.name ?? user.email ?? user.sub;
  $("user-email").textContent = user.email ?? "";
  $("avatar").textContent = (user.givenName ?? user.name ?? user.email ?? "?")
    .slice(0, 1)
    .toUpperCase();
  const status = $("connection-status");
  status.textContent = connection.status;
  status.className = `pill status-${connection.status}`;
  $("offline").textContent = connection.offlineAccess
    ? "offline access: yes"
    : "offline access: no";
  $("scopes").replaceChildren(
    ...connection.grantedScopes.map((scope) =>
      el("span", { className: "pill", textContent: shortScope(scope) }),
    ),
  );
  // A granted scope does nothing once the connection is revoked: every feature is off then.
  const active = connection.status === "active";
  $("features").replaceChildren(
    ...state.features.map((feature) => {
      const on = feature.granted && active;
      const why = feature.granted && !active ? ` (connection ${connection.status})` : "";
      return el("span", {
        className: `pill ${on ? "ok" : "off"}`,
        textContent: `${feature.title}: ${on ? "on" : `off${why}`}`,
      });
    }),
  );
}

/** Names each feature a missing scope turns off, and what to do about it. */
function renderNotices(state) {
  const active = state.connection.status === "active";
  const off = state.features.filter((feature) => !feature.granted);
  show($("missing"), active && (off.length > 0 || !state.connection.offlineAccess));
  $("missing-text").textContent =
    off.length > 0
      ? `Off: ${off.map((f) => `${f.title} (you did not allow ${shortScope(f.scope)})`).join("; ")}. Ask again to turn ${off.length > 1 ? "them" : "it"} on.`
      : "Google sent no offline access. Ask again so the app can work while you are away.";
  // A job failing with credential_revoked marks the connection revoked too: one signal is enough,
  // and it clears as soon as the user reconnects (an old failed job stays in the list).
  show($("reconnect"), !active);
  $("reconnect-text").textContent =
    `The app can no longer reach Google Photos for you (connection ${state.connection.status}). Reconnect to let it work while you are away.`;
  $("upload").disabled = !active || !state.features.find((f) => f.id === "upload")?.granted;
}

function renderAlbums(state) {
  const problem = state.photosError;
  show($("photos-error"), Boolean(problem));
  $("photos-error").textContent = problem ? `${problem.message} (${problem.code})` : "";
  const canEnhance = state.jobsEnabled && state.connection.status === "active";
  const albums = state.albums.map((album) =>
    el("div", { className: "album" }, [
      el("h3", { textContent: `${album.title} (${album.items.length})` }),
      el(
        "div",
        { className: "grid" },
        album.items.map((item) => {
          const figure = el("figure", {}, [
            el("img", { src: item.src, alt: item.filename, loading: "lazy" }),
            el("figcaption", { textContent: item.filename }),
          ]);
          figure.dataset.album = album.title;
          if (album.title !== "Enhanced") {
            const button = el("button", {
              type: "button",
              className: "secondary enhance",
              textContent: "Enhance while I'm away",
              disabled: !canEnhance,
            });
            button.addEventListener("click", () => enhance(item.id, button));
            figure.append(button);
          }
          return figure;
        }),
      ),
    ]),
  );
  $("albums").replaceChildren(...(albums.length > 0 || problem ? albums : [noAlbumsNote(state)]));
}

/** Why no album shows: none yet, or (without the read permission) none can be listed. */
function noAlbumsNote(state) {
  const view = state.features.find((feature) => feature.id === "view");
  if (!view || view.granted) {
    return el("p", { className: "muted", textContent: "No albums yet: add a photo." });
  }
  const askAgain = el("button", {
    type: "button",
    id: "albums-ask-again",
    className: "secondary",
    textContent: "Ask again",
  });
  askAgain.addEventListener("click", () => signIn({ prompt: "consent" }));
  return el("p", { id: "albums-need-read", className: "notice warn" }, [
    `Listing your albums needs the read permission (${shortScope(view.scope)}), which you did not allow; what you upload is still saved to Google Photos. `,
    askAgain,
  ]);
}

function renderJobs(state) {
  const when = (iso) => (iso ? new Date(iso).toLocaleTimeString() : "");
  $("jobs").replaceChildren(
    ...state.jobs.map((job) =>
      el("tr", {}, [
        el("td", { textContent: job.name }),
        el("td", {}, [
          el("span", { className: `pill state-${job.state}`, textContent: job.state }),
        ]),
        el("td", { textContent: when(job.createdAt) }),
        el("td", { textContent: when(job.completedAt) }),
        el(
          "td",
          {},
          job.error ? [el("code", { textContent: job.error.code }), ` ${job.error.message}`] : [],
        ),
      ]),
    ),
  );
}

/** Loads the state and draws it; keeps polling while a job is pending. */
async function refresh() {
  clearTimeout(refreshTimer);
  let state;
  try {
    state = await api("/demo/api/state");
  } catch (error) {
    if (error.status === 401) {
      show($("signed-in"), false);
      show($("signed-out"), true);
      return;
    }
    showError(error.message);
    return;
  }
  show($("signed-out"), false);
  show($("signed-in"), true);
  renderProfile(state);
  renderNotices(state);
  renderAlbums(state);
  renderJobs(state);
  renderQueuedJob(state);
  document.body.dataset.ready = "true";
  if (state.jobs.some((job) => PENDING.has(job.state))) {
    refreshTimer = setTimeout(refresh, REFRESH_WHILE_PENDING_MS);
  }
}

/** Replaces "Queued" once the job this page queued has ended, saying how it ended. */
function renderQueuedJob(state) {
  const job = state.jobs.find((candidate) => candidate.id === queuedJobId);
  if (!job || PENDING.has(job.state)) return;
  queuedJobId = undefined;
  $("enhance-status").textContent =
    job.state === "completed"
      ? "Enhanced: the copy is in the Enhanced album."
      : `The enhancing job ${job.state}${job.error ? `: ${job.error.code}` : ""}.`;
}

async function upload(event) {
  event.preventDefault();
  const file = $("photo").files[0];
  if (!file) return;
  $("upload").disabled = true;
  $("upload-status").textContent = `Uploading ${file.name}...`;
  try {
    const result = await api("/demo/api/photos", {
      method: "POST",
      headers: {
        "content-type": file.type || "application/octet-stream",
        "x-file-name": encodeURIComponent(file.name),
      },
      body: file,
    });
    $("upload-status").textContent =
      `Added ${result.mediaItem.filename} to "${result.album.title}".`;
    $("upload-form").reset();
  } catch (error) {
    $("upload-status").textContent = `Upload failed: ${error.message}`;
  } finally {
    $("upload").disabled = false;
    await refresh();
  }
}

async function enhance(mediaItemId, button) {
  button.disabled = true;
  try {
    const { jobId } = await api("/demo/api/enhance", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ mediaItemId }),
    });
    queuedJobId = jobId;
    $("enhance-status").textContent =
      "Queued: you may close this page. The enhanced copy will be in the Enhanced album.";
  } catch (error) {
    $("enhance-status").textContent = `Could not queue the job: ${error.message}`;
  }
  await refresh();
}

async function signOut() {
  await api("/demo/api/session", { method: "DELETE" }).catch(() => {});
  document.body.dataset.ready = "";
  await refresh();
}

async function start() {
  config = await api("/demo/api/config");
  if (config.origins.length > 0 && !config.origins.includes(location.origin)) {
    $("origin-warning").textContent =
      `Sign-in works only from ${config.origins.join(" or ")}: open the page there.`;
    show($("origin-warning"), true);
  }
  $("sign-in").addEventListener("click", () => signIn());
  $("ask-again").addEventListener("click", () => signIn({ prompt: "consent" }));
  $("reconnect-button").addEventListener("click", () => signIn({ prompt: "consent" }));
  $("sign-out").addEventListener("click", signOut);
  $("upload-form").addEventListener("submit", upload);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") refresh();
  });
  await refresh();
}

start().catch((error) => showError(error.message));
