import { sql } from "kysely";
import { sdkSignIn } from "../../emulator/helpers.js";
import { type Receiver, startReceiver } from "../../events/support/receiver.js";
import { postCode, startTestService, type TestService } from "../../server/helpers.js";
import { type RiscGoogle, startRiscGoogle } from "./risc-google.js";

export const ADMIN_TOKEN = "admin-token-for-risc-tests-0123456789abcdef";
const WEBHOOK_SECRET = "risc-webhook-secret-0123456789abcdefghij";

/** Steward (as `npm start` runs it, with webhooks) in front of a local Google with a RISC side. */
export interface RiscSetup {
  readonly google: RiscGoogle;
  readonly steward: TestService;
  /** Receives Steward's webhooks. */
  readonly hooks: Receiver;
  /** The SETs' audience: Steward's OAuth client ID. */
  readonly audience: string;
  /** Signs a user in through Steward as an app does; returns their sub. */
  signIn(email: string, options?: { prompt?: string }): Promise<string>;
  /** Calls the internal API with the admin token. */
  admin(path: string): Promise<{ status: number; body: any }>;
  /** The user's stored refresh token (plaintext, opened with the keyring). */
  refreshTokenOf(sub: string): Promise<string>;
  /** Everything a SET could change, for "nothing changed" checks. */
  snapshot(): Promise<Record<string, unknown>>;
  /** The types of webhooks delivered so far, with their `data.sub`. */
  webhooks(): Array<{ type: string; sub: unknown; data: any }>;
  close(): Promise<void>;
}

export async function startRiscSetup(): Promise<RiscSetup> {
  const google = await startRiscGoogle();
  const hooks = await startReceiver();
  const steward = await startTestService({
    ...google.env(),
    STEWARD_ADMIN_TOKEN: ADMIN_TOKEN,
    STEWARD_WEBHOOK_URL: hooks.url,
    STEWARD_WEBHOOK_SECRET: WEBHOOK_SECRET,
  }).catch(async (error: unknown) => {
    await hooks.close();
    await google.close();
    throw error;
  });
  const db = steward.service.vault.database.db;
  const admin = async (path: string) => {
    const response = await fetch(`${steward.url}${path}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    return { status: response.status, body: await response.json() };
  };
  return {
    google,
    steward,
    hooks,
    audience: google.emulator.defaultClient.clientId,
    signIn: async (email, options = {}) => {
      const { serverAuthCode, sub } = await sdkSignIn(google.emulator, { email, ...options });
      const { status } = await postCode(steward.url, { code: serverAuthCode });
      if (status !== 200) throw new Error(`sign-in through the service answered ${status}`);
      return sub;
    },
    admin,
    refreshTokenOf: async (sub) => {
      const token = (await steward.service.vault.store.getCredential(sub))?.refreshToken;
      if (!token) throw new Error(`no refresh token stored for ${sub}`);
      return token;
    },
    snapshot: async () => {
      const { rows } = await sql<Record<string, unknown>>`
        SELECT
          (SELECT count(*)::int FROM risc_events) AS risc_events,
          (SELECT count(*)::int FROM audit_events) AS audit_events,
          (SELECT count(*)::int FROM webhook_outbox) AS outbox,
          (SELECT json_agg(json_build_object('sub', sub, 'status', status, 'reason', revoked_reason,
            'sealed', refresh_token IS NOT NULL) ORDER BY sub) FROM credentials) AS credentials,
          (SELECT json_agg(json_build_object('sub', sub, 'disabled', account_disabled_at)
            ORDER BY sub) FROM users) AS users`.execute(db);
      return rows[0] as Record<string, unknown>;
    },
    webhooks: () =>
      hooks.requests.map((request) => {
        const body = JSON.parse(request.body);
        return { type: body.type, sub: body.data?.sub, data: body.data };
      }),
    close: async () => {
      await steward.close();
      await hooks.close();
      await google.close();
    },
  };
}
