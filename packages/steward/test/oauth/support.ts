// What the OAuth tests share: a client of an emulator, and the StewardError a call fails with.

import type { Emulator } from "@steward/emulator";
import { expect } from "vitest";
import { StewardError } from "../../src/errors.js";
import { emulatorEndpoints } from "../../src/google/endpoints.js";
import { createOAuthClient } from "../../src/oauth/client.js";

/** Steward's OAuth client of `emulator`'s default client (or another secret), 1 s timeout. */
export function oauthClientOf(
  emulator: Emulator,
  secret = emulator.defaultClient.clientSecret as string,
) {
  return createOAuthClient({
    endpoints: emulatorEndpoints(emulator.url),
    clientId: emulator.defaultClient.clientId,
    clientSecret: secret,
    timeoutSeconds: 1,
  });
}

/** The StewardError `promise` rejects with (fails the test if it resolves or throws another). */
export async function failure(promise: Promise<unknown>): Promise<StewardError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(StewardError);
  return error as StewardError;
}
