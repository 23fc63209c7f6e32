import { generateKeyPairSync, type KeyObject, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type Emulator, startEmulator } from "@steward/emulator";
import { exportJWK, type JWTPayload, SignJWT } from "jose";
import {
  SECURITY_EVENT_TYPES,
  type SecurityEventKind,
} from "../../../src/google/security-event.js";

/** The RISC issuer as Google's sample shows it (with the slash); the receiver reads it from the document. */
export const RISC_ISSUER = "https://accounts.google.com/";

/** An RSA signing key with its kid. */
export interface SetKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export function newSetKey(): SetKey {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { kid: randomBytes(20).toString("hex"), privateKey, publicKey };
}

/**
 * A local Google with a RISC side, for Steward's receiver: the emulator for everything else,
 * fronted by a loopback server that serves the RISC discovery document and its key set (at a
 * path of its own, so the receiver must read `jwks_uri` from the document). Point Steward at
 * `url` (`STEWARD_GOOGLE`) with the emulator's default client.
 *
 * The emulator has a RISC side of its own (`POST /emulator/risc/events`, used end to end by
 * risc-from-emulator.test.ts), but it signs only well-formed SETs with its own key: the tests
 * here need SETs it would never send (forged keys, odd claims, several events in one SET).
 */
export interface RiscGoogle {
  readonly url: string;
  readonly emulator: Emulator;
  /** The key the published JWKS holds. */
  readonly key: SetKey;
  /** Requests the front answered itself, by path (discovery document, keys). */
  readonly served: string[];
  /** The environment that points a Steward service at this Google. */
  env(): Record<string, string>;
  close(): Promise<void>;
}

export async function startRiscGoogle(): Promise<RiscGoogle> {
  const emulator = await startEmulator({ port: 0 });
  const key = newSetKey();
  const jwk = { ...(await exportJWK(key.publicKey)), kid: key.kid, alg: "RS256", use: "sig" };
  const served: string[] = [];
  let base = "";
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (request.method === "GET" && path === "/.well-known/risc-configuration") {
      served.push(path);
      return json(response, {
        issuer: RISC_ISSUER,
        jwks_uri: `${base}/risc/test-keys`,
        delivery_methods_supported: [
          "https://schemas.openid.net/secevent/risc/delivery-method/push",
        ],
        add_subject_endpoint: `${base}/v1beta/subjects:add`,
        remove_subject_endpoint: `${base}/v1beta/subjects:remove`,
      });
    }
    if (request.method === "GET" && path === "/risc/test-keys") {
      served.push(path);
      return json(response, { keys: [jwk] });
    }
    forward(emulator.url, request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    emulator,
    key,
    served,
    env: () => ({
      STEWARD_GOOGLE: base,
      GOOGLE_CLIENT_ID: emulator.defaultClient.clientId,
      GOOGLE_CLIENT_SECRET: emulator.defaultClient.clientSecret as string,
    }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await emulator.close();
    },
  };
}

function json(response: ServerResponse, body: unknown): void {
  response.writeHead(200, { "content-type": "application/json", "cache-control": "max-age=3600" });
  response.end(JSON.stringify(body));
}

/** Passes a request to the emulator as it came, and its answer back. */
function forward(target: string, request: IncomingMessage, response: ServerResponse): void {
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", async () => {
    const headers = Object.fromEntries(
      Object.entries(request.headers).filter(
        ([name, value]) =>
          typeof value === "string" && !["host", "connection", "content-length"].includes(name),
      ),
    ) as Record<string, string>;
    try {
      const answer = await fetch(`${target}${request.url}`, {
        method: request.method,
        headers,
        body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
        redirect: "manual",
      });
      const body = Buffer.from(await answer.arrayBuffer());
      const copied: Record<string, string> = {};
      answer.headers.forEach((value, name) => {
        if (
          !["content-length", "content-encoding", "transfer-encoding", "connection"].includes(name)
        )
          copied[name] = value;
      });
      response.writeHead(answer.status, copied).end(body);
    } catch {
      response.writeHead(502).end();
    }
  });
}

/** One event of a SET: its type (short name or URI) and its body (subject and attributes). */
export interface SetEvent {
  readonly type: SecurityEventKind | string;
  readonly body: Record<string, unknown>;
}

/** The subject of an event about a user, as Google sends it. */
export const userSubject = (sub: string) => ({
  subject: { subject_type: "iss-sub", iss: RISC_ISSUER, sub },
});

/** The subject of an event about one refresh token, by prefix or double SHA-512. */
export const tokenSubject = (alg: "prefix" | "hash_base64_sha512_sha512", token: string) => ({
  subject: {
    subject_type: "oauth_token",
    token_type: "refresh_token",
    token_identifier_alg: alg,
    token,
  },
});

/** A SET's claims as Google sends them: iss, aud, iat, a fresh jti, one event; no exp. */
export function setClaims(
  audience: string,
  event: SetEvent,
  overrides: Partial<JWTPayload> = {},
): JWTPayload {
  const uri =
    (SECURITY_EVENT_TYPES as Record<string, string>)[event.type] ?? (event.type as string);
  return {
    iss: RISC_ISSUER,
    aud: audience,
    iat: Math.floor(Date.now() / 1000),
    jti: randomBytes(16).toString("hex").toUpperCase(),
    events: { [uri]: event.body },
    ...overrides,
  };
}

/** Signs claims as a compact RS256 JWS with `key` (its own kid unless another is named). */
export function signSet(claims: JWTPayload, key: SetKey, kid = key.kid): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "RS256", kid, typ: "secevent+jwt" })
    .sign(key.privateKey);
}

/** An unsigned token (`alg: none`), as a forger would send one. */
export function unsignedSet(claims: JWTPayload, kid: string): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "none", kid, typ: "secevent+jwt" })}.${part(claims)}.`;
}

/** POSTs a SET to Steward's receiver as Google does. */
export async function postSet(
  stewardUrl: string,
  token: string,
  contentType = "application/secevent+jwt",
): Promise<{ status: number; body: any }> {
  const response = await fetch(`${stewardUrl}/v1/risc`, {
    method: "POST",
    headers: { "content-type": contentType, accept: "application/json" },
    body: token,
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: response.status, body };
}

/** Delivers one event for Google: signs a SET with the published key and POSTs it. */
export async function deliver(
  google: RiscGoogle,
  stewardUrl: string,
  audience: string,
  event: SetEvent,
  overrides: Partial<JWTPayload> = {},
): Promise<{ status: number; body: any; jti: string }> {
  const claims = setClaims(audience, event, overrides);
  const answer = await postSet(stewardUrl, await signSet(claims, google.key));
  return { ...answer, jti: claims.jti as string };
}
