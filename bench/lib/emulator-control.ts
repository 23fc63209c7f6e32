import autocannon from "autocannon";

/** What `servers/emulator-server.ts` prints once it listens. */
export interface EmulatorEndpoint {
  url: string;
  clientId: string;
  clientSecret: string;
}

/** The form body of a refresh grant by the default client (client_secret_post). */
export function refreshForm(emulator: EmulatorEndpoint, refreshToken: string): string {
  return new URLSearchParams({
    grant_type: "refresh_token",
    refresh_token: refreshToken,
    client_id: emulator.clientId,
    client_secret: emulator.clientSecret,
  }).toString();
}

/** The form body of a code exchange as Steward sends it for an SDK code (redirect_uri ""). */
export function exchangeForm(emulator: EmulatorEndpoint, code: string): string {
  return new URLSearchParams({
    grant_type: "authorization_code",
    code,
    client_id: emulator.clientId,
    client_secret: emulator.clientSecret,
    redirect_uri: "",
  }).toString();
}

/** Signs `email` in as the iOS/Android SDK does and returns the serverAuthCode. */
export async function signIn(emulator: EmulatorEndpoint, email: string): Promise<string> {
  const body = await postJson(`${emulator.url}/emulator/sign-in`, {
    clientId: emulator.clientId,
    email,
  });
  return (body as { serverAuthCode: string }).serverAuthCode;
}

/** POSTs a form to /token and returns the parsed token response; throws unless 200. */
export async function tokenRequest(
  emulator: EmulatorEndpoint,
  form: string,
): Promise<Record<string, unknown>> {
  const response = await fetch(`${emulator.url}/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: form,
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`/token answered ${response.status}: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** Users with a live refresh token each: sign-in, then a code exchange, over HTTP. */
export async function usersWithRefreshTokens(
  emulator: EmulatorEndpoint,
  count: number,
): Promise<string[]> {
  const tokens: string[] = [];
  for (let index = 0; index < count; index++) {
    const code = await signIn(emulator, `bench-refresh-${index}@example.com`);
    const response = await tokenRequest(emulator, exchangeForm(emulator, code));
    if (typeof response.refresh_token !== "string")
      throw new Error("exchange gave no refresh token");
    tokens.push(response.refresh_token);
  }
  return tokens;
}

/**
 * Mints `count` serverAuthCodes through the control API, each for a new user (so each exchange
 * is a first consent with a refresh token, like a new user's first sign-in). Uses autocannon,
 * since every sign-in costs the emulator a signature and the codes are many.
 */
export function mintCodes(
  emulator: EmulatorEndpoint,
  count: number,
  emailPrefix: string,
): Promise<string[]> {
  const codes: string[] = [];
  let sent = 0;
  let failure: string | undefined;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `${emulator.url}/emulator/sign-in`,
        connections: 16,
        amount: count,
        timeout: 30,
        requests: [
          {
            method: "POST",
            headers: { "content-type": "application/json" },
            setupRequest: (request) => ({
              ...request,
              body: JSON.stringify({
                clientId: emulator.clientId,
                email: `${emailPrefix}-${sent++}@example.com`,
              }),
            }),
            onResponse: (status, body) => {
              if (status === 200)
                codes.push((JSON.parse(body) as { serverAuthCode: string }).serverAuthCode);
              else failure ??= `sign-in answered ${status}: ${body.slice(0, 200)}`;
            },
          },
        ],
      },
      (error) => {
        if (error) return reject(error);
        if (codes.length < count) {
          return reject(
            new Error(`minted ${codes.length} of ${count} codes; ${failure ?? "no error seen"}`),
          );
        }
        resolve(codes);
      },
    );
  });
}

async function postJson(url: string, body: unknown): Promise<unknown> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}: ${text}`);
  return JSON.parse(text);
}
