import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { keysProblem } from "../crypto/index.js";
import { StewardError } from "../errors.js";
import { type GoogleClient, parseClientSecret } from "../google/client-secret.js";

/** Where Google is: an in-process emulator, Google itself, or an emulator at a base URL. */
export type GoogleTarget =
  | { mode: "emulator" }
  | { mode: "google"; client: GoogleClient }
  | { mode: "external-emulator"; baseUrl: string; client: GoogleClient };

/** Steward's settings, parsed once at start-up and frozen. */
export interface Config {
  readonly host: string;
  readonly port: number;
  /** Unset: an embedded PostgreSQL in `dataDir`. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly google: GoogleTarget;
  /** Other client IDs of the same app (iOS, Android) accepted as `aud`/`azp` of ID tokens. */
  readonly extraAudiences: readonly string[];
  readonly requiredScopes: readonly string[];
  readonly allowedOrigins: readonly string[];
  /** Addresses of TLS-terminating proxies whose `X-Forwarded-Proto` is believed. */
  readonly trustProxy: readonly string[];
  /** `STEWARD_KEYS` as given; the vault parses it. Never logged. */
  readonly keys: string | undefined;
  readonly adminToken: string | undefined;
  readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
  /** Where signed webhooks go, and their HMAC secret; unset: events stay in process. */
  readonly webhook: { readonly url: string; readonly secret: string } | undefined;
  /** Where `/metrics` is served, and the bearer token it asks for. */
  readonly metrics: MetricsConfig;
  /** Grants not refreshed for `days` are refreshed, at most `perMinute` a minute. */
  readonly idleRefresh: IdleRefreshConfig;
}

/** Google expires a refresh token unused for six months: refresh long before that. */
export interface IdleRefreshConfig {
  readonly days: number;
  readonly perMinute: number;
}

/** `/metrics`: on the API's port unless `port` is set; open unless `token` is set. */
export interface MetricsConfig {
  /** A port of its own (`STEWARD_METRICS_PORT`); unset: the API's port serves it. */
  readonly port: number | undefined;
  /** Listen address of that port (`STEWARD_METRICS_HOST`); the API's host by default. */
  readonly host: string;
  /** `Authorization: Bearer` it asks for (`STEWARD_METRICS_TOKEN`); unset: none. Never logged. */
  readonly token: string | undefined;
}

/** Flags of `steward serve`; each mirrors an environment variable and wins over it. */
export interface ConfigFlags {
  host?: string;
  port?: string;
  tlsCert?: string;
  tlsKey?: string;
}

const list = (value: string | undefined): string[] =>
  (value ?? "")
    .split(/[\s,]+/)
    .map((item) => item.trim())
    .filter(Boolean);

/**
 * Reads the environment (and flags) into a frozen {@link Config}.
 *
 * @throws StewardError `config_invalid` listing every problem, one line each, naming the variable
 *   or file field; no value of a secret is ever echoed.
 * @example
 *   const config = loadConfig(process.env);
 */
export function loadConfig(env: NodeJS.ProcessEnv, flags: ConfigFlags = {}): Config {
  const problems: string[] = [];

  const host = flags.host ?? env.STEWARD_HOST ?? "127.0.0.1";
  const portText = flags.port ?? env.STEWARD_PORT ?? "8080";
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port > 65_535) {
    problems.push("STEWARD_PORT must be a port number from 0 to 65535");
  }

  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push("DATABASE_URL must be a postgres:// or postgresql:// URL");
  }

  const google = googleTarget(env, problems);

  const allowedOrigins = list(env.STEWARD_ALLOWED_ORIGINS);
  for (const origin of allowedOrigins) {
    if (!isOrigin(origin))
      problems.push(
        `STEWARD_ALLOWED_ORIGINS: "${origin}" is not an origin like https://app.example.com`,
      );
  }
  const trustProxy = list(env.STEWARD_TRUST_PROXY);
  for (const entry of trustProxy) {
    const problem = trustProxyProblem(entry);
    if (problem !== undefined) problems.push(`STEWARD_TRUST_PROXY: "${entry}" ${problem}`);
  }
  const certFile = flags.tlsCert ?? env.STEWARD_TLS_CERT;
  const keyFile = flags.tlsKey ?? env.STEWARD_TLS_KEY;
  if ((certFile === undefined) !== (keyFile === undefined)) {
    problems.push("STEWARD_TLS_CERT and STEWARD_TLS_KEY (--tls-cert, --tls-key) go together");
  }
  const adminToken = env.STEWARD_ADMIN_TOKEN || undefined;
  if (adminToken !== undefined && adminToken.length < 32) {
    problems.push("STEWARD_ADMIN_TOKEN must be at least 32 characters");
  }
  // The API reads one word after "Bearer", so a token with a space could never be presented.
  if (adminToken !== undefined && /\s/.test(adminToken)) {
    problems.push("STEWARD_ADMIN_TOKEN must not contain whitespace");
  }
  const webhook = webhookTarget(env, problems);
  const metrics = metricsSettings(env, host, portText, problems);
  const keys = keysProblem(env.STEWARD_KEYS);
  if (keys !== undefined) problems.push(keys.replace(/\.$/, ""));
  const idleRefresh = idleRefreshSettings(env, problems);

  if (problems.length > 0) {
    throw new StewardError("config_invalid", {
      message: `Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`,
    });
  }
  return Object.freeze({
    host,
    port,
    databaseUrl,
    dataDir: env.STEWARD_DATA_DIR || "./.steward",
    google,
    extraAudiences: Object.freeze(list(env.STEWARD_EXTRA_AUDIENCES)),
    requiredScopes: Object.freeze(list(env.STEWARD_REQUIRED_SCOPES)),
    allowedOrigins: Object.freeze(allowedOrigins),
    trustProxy: Object.freeze(trustProxy),
    keys: env.STEWARD_KEYS || undefined,
    adminToken,
    tls: certFile && keyFile ? Object.freeze({ certFile, keyFile }) : undefined,
    webhook,
    metrics,
    idleRefresh,
  });
}

function idleRefreshSettings(env: NodeJS.ProcessEnv, problems: string[]): IdleRefreshConfig {
  const days = integerSetting(env.STEWARD_IDLE_REFRESH_DAYS, 30);
  // Google's expiry is at six months: a threshold past it would refresh dead grants.
  if (days === undefined || days < 1 || days > 150) {
    problems.push("STEWARD_IDLE_REFRESH_DAYS must be a whole number of days from 1 to 150");
  }
  const perMinute = integerSetting(env.STEWARD_IDLE_REFRESH_PER_MINUTE, 60);
  if (perMinute === undefined || perMinute < 1 || perMinute > 6000) {
    problems.push("STEWARD_IDLE_REFRESH_PER_MINUTE must be a whole number from 1 to 6000");
  }
  return Object.freeze({ days: days ?? 30, perMinute: perMinute ?? 60 });
}

/** The variable's whole number, `fallback` when unset, undefined when not a whole number. */
function integerSetting(text: string | undefined, fallback: number): number | undefined {
  if (text === undefined || text === "") return fallback;
  return /^\d{1,9}$/.test(text) ? Number(text) : undefined;
}

function metricsSettings(
  env: NodeJS.ProcessEnv,
  host: string,
  portText: string,
  problems: string[],
): MetricsConfig {
  const portSetting = env.STEWARD_METRICS_PORT || undefined;
  const port = portSetting === undefined ? undefined : Number(portSetting);
  if (portSetting !== undefined && (!/^\d{1,5}$/.test(portSetting) || Number(port) > 65_535)) {
    problems.push("STEWARD_METRICS_PORT must be a port number from 0 to 65535");
  } else if (port !== undefined && port !== 0 && port === Number(portText)) {
    problems.push("STEWARD_METRICS_PORT must differ from STEWARD_PORT");
  }
  const token = env.STEWARD_METRICS_TOKEN || undefined;
  if (token !== undefined && token.length < 32) {
    problems.push("STEWARD_METRICS_TOKEN must be at least 32 characters");
  }
  if (token !== undefined && /\s/.test(token)) {
    problems.push("STEWARD_METRICS_TOKEN must not contain whitespace");
  }
  const metricsHost = env.STEWARD_METRICS_HOST || host;
  if (env.STEWARD_METRICS_HOST && portSetting === undefined) {
    problems.push("STEWARD_METRICS_HOST needs STEWARD_METRICS_PORT");
  }
  return Object.freeze({ port, host: metricsHost, token });
}

function googleTarget(env: NodeJS.ProcessEnv, problems: string[]): GoogleTarget {
  const client = googleClient(env, problems);
  const wanted = env.STEWARD_GOOGLE || (client ? "google" : "emulator");
  if (wanted === "emulator") return { mode: "emulator" };
  if (wanted === "google") {
    if (client) return { mode: "google", client };
    problems.push(
      "STEWARD_GOOGLE=google needs GOOGLE_CLIENT_SECRET_FILE or GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET",
    );
    return { mode: "emulator" };
  }
  if (!/^https?:\/\/[^/]+/.test(wanted)) {
    problems.push('STEWARD_GOOGLE must be "emulator", "google" or the base URL of an emulator');
    return { mode: "emulator" };
  }
  if (client) return { mode: "external-emulator", baseUrl: wanted.replace(/\/+$/, ""), client };
  problems.push(
    "STEWARD_GOOGLE set to an emulator URL needs GOOGLE_CLIENT_SECRET_FILE or GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET",
  );
  return { mode: "emulator" };
}

function googleClient(env: NodeJS.ProcessEnv, problems: string[]): GoogleClient | undefined {
  const file = env.GOOGLE_CLIENT_SECRET_FILE;
  const id = env.GOOGLE_CLIENT_ID;
  const secret = env.GOOGLE_CLIENT_SECRET;
  if (file) {
    if (id || secret)
      problems.push(
        "GOOGLE_CLIENT_SECRET_FILE and GOOGLE_CLIENT_ID/GOOGLE_CLIENT_SECRET exclude each other",
      );
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      problems.push(
        `GOOGLE_CLIENT_SECRET_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code})`,
      );
      return undefined;
    }
    const parsed = parseClientSecret(text);
    if ("problems" in parsed) {
      for (const problem of parsed.problems)
        problems.push(`GOOGLE_CLIENT_SECRET_FILE ${file}: ${problem}`);
      return undefined;
    }
    return parsed.client;
  }
  if (!id && !secret) return undefined;
  if (!id || !secret) {
    problems.push("GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET go together");
    return undefined;
  }
  return {
    type: "web",
    clientId: id,
    clientSecret: secret,
    projectId: undefined,
    authUri: undefined,
    tokenUri: undefined,
    redirectUris: [],
    javascriptOrigins: [],
  };
}

function webhookTarget(env: NodeJS.ProcessEnv, problems: string[]): Config["webhook"] {
  const url = env.STEWARD_WEBHOOK_URL || undefined;
  const secret = env.STEWARD_WEBHOOK_SECRET || undefined;
  if (url === undefined && secret === undefined) return undefined;
  if (url === undefined || secret === undefined) {
    problems.push("STEWARD_WEBHOOK_URL and STEWARD_WEBHOOK_SECRET go together");
    return undefined;
  }
  // The URL is not echoed: a receiver's URL may carry a token of its own.
  if (!isWebhookUrl(url)) {
    problems.push("STEWARD_WEBHOOK_URL must be an https:// URL (or http:// to a loopback address)");
  }
  if (secret.length < 32) problems.push("STEWARD_WEBHOOK_SECRET must be at least 32 characters");
  return Object.freeze({ url, secret });
}

function isWebhookUrl(value: string): boolean {
  try {
    const url = new URL(value);
    if (url.protocol === "https:") return true;
    // Events are signed but not encrypted; plain HTTP only where nobody else can listen.
    const host = url.hostname.replace(/^\[|\]$/g, "");
    return (
      url.protocol === "http:" &&
      (host === "localhost" || host === "::1" || (isIP(host) === 4 && host.startsWith("127.")))
    );
  } catch {
    return false;
  }
}

/**
 * Why Fastify would refuse one `STEWARD_TRUST_PROXY` entry (an address, `address/prefix` or an
 * IPv4 `address/netmask`), or undefined. Fastify compiles the list only when the HTTP server is
 * built, after the database and emulator have started, so its rules are checked here first.
 */
function trustProxyProblem(entry: string): string | undefined {
  const slash = entry.lastIndexOf("/");
  const family = isIP(slash === -1 ? entry : entry.slice(0, slash));
  if (family === 0) return "is not an IP address or CIDR range";
  if (slash === -1) return undefined;
  const range = entry.slice(slash + 1);
  const bits = /^\d+$/.test(range)
    ? Number(range)
    : family === 4 && isIP(range) === 4
      ? netmaskBits(range)
      : undefined;
  if (bits === 0) {
    return "would trust every address, so any client could forge X-Forwarded-For and X-Forwarded-Proto; list the proxies' own addresses or subnet";
  }
  const max = family === 4 ? 32 : 128;
  if (bits === undefined || bits > max) {
    return `has an invalid range: a prefix length from 1 to ${max}${family === 4 ? " or a netmask like 255.255.0.0" : ""}`;
  }
  return undefined;
}

/** The prefix length of a contiguous IPv4 netmask (`255.255.0.0`: 16), or undefined. */
function netmaskBits(mask: string): number | undefined {
  const binary = mask
    .split(".")
    .map((octet) => Number(octet).toString(2).padStart(8, "0"))
    .join("");
  return /^(1*)0*$/.exec(binary)?.[1]?.length;
}

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "https:" || url.protocol === "http:") && url.origin === value;
  } catch {
    return false;
  }
}
