import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import type { AuthorizationCodes } from "../authorization-codes.js";
import { oauthParams } from "../form-params.js";
import { type EmulatorClient, OPENID_SCOPES } from "../model.js";
import { normalizeScopes } from "../state.js";
import type { UserDirectory } from "../user-directory.js";

/**
 * The authorization endpoint: a small consent page for the web code flow, in redirect mode
 * (`redirect_uri` registered on the client) and popup mode (`redirect_uri=postmessage` with the
 * page's `origin`, as Google Identity Services' `initCodeClient` uses it). The test user may
 * untick scopes, as Google's granular consent lets them.
 */
export const consentRoutes: FastifyPluginAsync<ConsentParts> = async (app, parts) => {
  for (const path of ["/o/oauth2/v2/auth", "/o/oauth2/auth"]) {
    app.get(path, (request, reply) => showConsent(parts, request, reply));
  }
  app.post("/o/oauth2/v2/auth/approve", (request, reply) => approve(parts, request, reply));
};

/** The clients that may ask, the accounts that sign in, and the codes minted for them. */
interface ConsentParts {
  readonly clients: ReadonlyMap<string, EmulatorClient>;
  readonly users: UserDirectory;
  readonly codes: AuthorizationCodes;
}

interface AuthorizationRequest {
  client: EmulatorClient;
  redirectUri: string;
  /** Set in popup mode: where the code is posted with window.postMessage. */
  popupOrigin: string | undefined;
  scopes: string[];
  params: Record<string, string>;
}

type Validated =
  | { ok: true; request: AuthorizationRequest }
  | { ok: false; status: number; error: string; description: string };

function validate(clients: ConsentParts["clients"], raw: unknown): Validated {
  const parsed = oauthParams(raw, undefined);
  if (!parsed.ok)
    return fail(400, "invalid_request", `Parameter ${parsed.duplicated} is duplicated.`);
  const { params } = parsed;
  const client = clients.get(params.client_id ?? "");
  if (client === undefined) return fail(401, "invalid_client", "The OAuth client was not found.");
  if (params.response_type !== "code") {
    return fail(400, "unsupported_response_type", "Only response_type=code is served here.");
  }
  const scopes = normalizeScopes(params.scope ?? "");
  if (scopes.length === 0) return fail(400, "invalid_request", "Missing required parameter: scope");
  const redirectUri = params.redirect_uri ?? "";
  const origin = params.origin;
  const popup = redirectUri === "postmessage" || (origin !== undefined && redirectUri === origin);
  if (popup) {
    if (origin === undefined || !client.javascriptOrigins.includes(origin)) {
      return fail(
        400,
        "origin_mismatch",
        `Origin ${origin ?? "(none)"} is not registered for this client.`,
      );
    }
  } else if (!redirectAllowed(client, redirectUri)) {
    return fail(
      400,
      "redirect_uri_mismatch",
      `redirect_uri ${redirectUri || "(none)"} is not registered for this client.`,
    );
  }
  return {
    ok: true,
    request: { client, redirectUri, popupOrigin: popup ? origin : undefined, scopes, params },
  };
}

/** Exact match; installed clients may also use any port of a loopback address. */
function redirectAllowed(client: EmulatorClient, redirectUri: string): boolean {
  if (client.redirectUris.includes(redirectUri)) return true;
  if (client.type !== "installed") return false;
  try {
    const url = new URL(redirectUri);
    return url.protocol === "http:" && ["127.0.0.1", "[::1]", "localhost"].includes(url.hostname);
  } catch {
    return false;
  }
}

/** The consent page's look: inline (the emulator serves no assets), plain, readable. */
const CONSENT_STYLE = [
  ":root{color-scheme:light;--ink:#1f1f1f;--muted:#5f6368;--line:#dadce0;--blue:#0b57d0}",
  "*{box-sizing:border-box}",
  "body{margin:0;min-height:100vh;display:grid;place-items:center;background:#f0f4f9;color:var(--ink);font:15px/1.5 system-ui,sans-serif}",
  ".card{width:min(36rem,100% - 2rem);margin:2rem auto;padding:2rem 2.25rem;background:#fff;border-radius:24px;box-shadow:0 1px 3px rgba(0,0,0,.12)}",
  "h1{margin:0 0 .75rem;font-size:1.5rem;font-weight:500}",
  "h1 small{display:block;margin-top:.25rem;font-size:.8rem;color:var(--muted);font-weight:400}",
  "p strong{word-break:break-all}",
  "label{display:block}",
  "input[type=email]{display:block;width:100%;margin-top:.35rem;padding:.7rem .8rem;border:1px solid var(--line);border-radius:8px;font:inherit}",
  "input[type=email]:focus{outline:2px solid var(--blue);border-color:transparent}",
  "fieldset{margin:1rem 0;padding:.5rem 1rem 1rem;border:1px solid var(--line);border-radius:12px}",
  "legend{padding:0 .35rem;color:var(--muted)}",
  "fieldset label{padding:.35rem 0;word-break:break-all;font-size:.9rem}",
  "fieldset br{display:none}",
  "input[type=checkbox]{margin-right:.5rem;accent-color:var(--blue)}",
  "button{margin-right:.5rem;padding:.6rem 1.5rem;border:1px solid var(--line);border-radius:999px;background:#fff;color:var(--blue);font:inherit;font-weight:500;cursor:pointer}",
  "button#allow{background:var(--blue);border-color:var(--blue);color:#fff}",
].join("\n");

function showConsent(parts: ConsentParts, request: FastifyRequest, reply: FastifyReply) {
  const result = validate(parts.clients, request.query);
  if (!result.ok) return errorPage(reply, result);
  const { scopes, params, client } = result.request;
  const hint =
    params.login_hint ?? [...parts.users.bySub.values()][0]?.email ?? "test.user@example.com";
  const hidden = Object.entries(params)
    .map(([name, value]) => `<input type="hidden" name="${esc(name)}" value="${esc(value)}">`)
    .join("\n");
  const boxes = scopes
    .map((scope) => {
      const basic = OPENID_SCOPES.includes(scope);
      return `<label><input type="checkbox" name="granted" value="${esc(scope)}" checked${basic ? " disabled" : ""}> ${esc(scope)}</label>`;
    })
    .join("<br>\n");
  return reply.type("text/html; charset=utf-8").send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in - Google Accounts (Steward emulator)</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${CONSENT_STYLE}</style></head>
<body><main class="card"><h1>Sign in with Google <small>(local emulator)</small></h1>
<p><strong>${esc(client.clientId)}</strong> wants to access your Google Account.</p>
<form method="post" action="/o/oauth2/v2/auth/approve">
${hidden}
<p><label>Account email <input id="email" name="email" type="email" required value="${esc(hint)}"></label></p>
<fieldset><legend>Allow access to</legend>
${boxes}
</fieldset>
<p><button id="allow" name="decision" value="allow">Allow</button>
<button id="deny" name="decision" value="deny" formnovalidate>Cancel</button></p>
</form></main></body></html>`);
}

function approve(parts: ConsentParts, request: FastifyRequest, reply: FastifyReply) {
  const body = (request.body ?? {}) as Record<string, unknown>;
  const { email, decision, granted, ...authParams } = body;
  const result = validate(parts.clients, authParams);
  if (!result.ok) return errorPage(reply, result);
  const auth = result.request;
  const state = auth.params.state;
  if (decision !== "allow" || typeof email !== "string" || email === "") {
    return deliver(reply, auth, { error: "access_denied", ...(state ? { state } : {}) });
  }
  const user = parts.users.find(email) ?? parts.users.create({ email });
  const ticked = Array.isArray(granted) ? granted : typeof granted === "string" ? [granted] : [];
  const { code, scopes } = parts.codes.mint({
    clientId: auth.client.clientId,
    sub: user.sub,
    requestedScopes: auth.scopes,
    grantedScopes: ticked.filter((scope): scope is string => typeof scope === "string"),
    redirectUris: auth.popupOrigin ? ["postmessage", auth.popupOrigin] : [auth.redirectUri],
    offline: auth.params.access_type === "offline",
    prompt: auth.params.prompt,
    nonce: auth.params.nonce,
    codeChallenge: auth.params.code_challenge,
    codeChallengeMethod: auth.params.code_challenge_method === "S256" ? "S256" : undefined,
  });
  return deliver(reply, auth, {
    code,
    scope: scopes.join(" "),
    authuser: "0",
    prompt: "consent",
    ...(state ? { state } : {}),
  });
}

/** Hands the result to the app: a redirect, or a postMessage to the opener in popup mode. */
function deliver(reply: FastifyReply, auth: AuthorizationRequest, result: Record<string, string>) {
  if (auth.popupOrigin === undefined) {
    const target = new URL(auth.redirectUri);
    for (const [name, value] of Object.entries(result)) target.searchParams.set(name, value);
    return reply.redirect(target.toString(), 302);
  }
  const message = JSON.stringify(result).replace(/</g, "\\u003c");
  const origin = JSON.stringify(auth.popupOrigin).replace(/</g, "\\u003c");
  return reply.type("text/html; charset=utf-8").send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Signing in...</title></head><body>
<p>Signed in. You can close this window.</p>
<script>window.opener && window.opener.postMessage(${message}, ${origin}); window.close();</script>
</body></html>`);
}

function errorPage(
  reply: FastifyReply,
  failure: { status: number; error: string; description: string },
) {
  return reply
    .code(failure.status)
    .type("text/html; charset=utf-8")
    .send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Error ${failure.status}: ${esc(failure.error)}</title></head>
<body><h1>Access blocked: authorization error</h1>
<p id="error">Error ${failure.status}: ${esc(failure.error)}</p><p>${esc(failure.description)}</p></body></html>`);
}

function fail(status: number, error: string, description: string): Validated {
  return { ok: false, status, error, description };
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
