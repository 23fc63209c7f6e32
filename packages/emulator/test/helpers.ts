import { type Emulator, startEmulator } from "../src/index.js";

/** Starts an emulator on a free loopback port for one test file. */
export async function withEmulator(): Promise<Emulator> {
  return startEmulator({ port: 0 });
}

/** POSTs a form like every OAuth client does and returns status and parsed body. */
export async function postForm(
  url: string,
  params: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(params).toString(),
  });
  return { status: response.status, body: await parsed(response), headers: response.headers };
}

/** Calls the control API (JSON in, JSON out). */
export async function control(
  emulator: Emulator,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const response = await fetch(`${emulator.url}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await parsed(response) };
}

/** Signs a user in as the iOS/Android SDK does and returns the serverAuthCode and ID token. */
export async function sdkSignIn(
  emulator: Emulator,
  input: {
    email: string;
    scopes?: string[];
    grantedScopes?: string[];
    prompt?: string;
    clientId?: string;
  },
): Promise<{ serverAuthCode: string; idToken: string; grantedScopes: string[]; sub: string }> {
  const { status, body } = await control(emulator, "POST", "/emulator/sign-in", {
    clientId: emulator.defaultClient.clientId,
    ...input,
  });
  if (status !== 200) throw new Error(`sign-in failed: ${status} ${JSON.stringify(body)}`);
  return body;
}

/** Exchanges a code at /token with the default web client (client_secret_post). */
export function exchangeCode(emulator: Emulator, code: string, extra: Record<string, string> = {}) {
  return postForm(`${emulator.url}/token`, {
    grant_type: "authorization_code",
    code,
    client_id: emulator.defaultClient.clientId,
    client_secret: emulator.defaultClient.clientSecret as string,
    redirect_uri: "",
    ...extra,
  });
}

async function parsed(response: Response): Promise<any> {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
