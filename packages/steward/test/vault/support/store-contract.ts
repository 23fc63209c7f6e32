import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyLine, Keyring } from "../../../src/crypto/index.js";
import type { LockedUsers, VaultStore } from "../../../src/store/index.js";
import { recordRefresh, refreshed } from "./locked-users.js";

/**
 * What the contract suite needs from an implementation: stores on one fresh, shared storage,
 * each as a separate instance (its own connections), as several Steward processes would be.
 */
export interface StoreHarness {
  /** A new store instance over the suite's storage, sealing with `keyring`. */
  open(keyring: Keyring, options?: { lockTimeoutMs?: number }): Promise<VaultStore>;
  /** Closes every instance opened and drops the storage. */
  close(): Promise<void>;
}

/**
 * The contract every {@link VaultStore} implementation must pass (in the manner of lucia's
 * adapter-test). `harness` is called once, in beforeAll, and must return fresh storage.
 */
export function describeStoreContract(name: string, harness: () => Promise<StoreHarness>): void {
  describe(`VaultStore contract: ${name}`, () => {
    const k1Line = generateKeyLine("k1");
    const k1 = Keyring.parse(k1Line);
    let storage: StoreHarness;
    let store: VaultStore;

    beforeAll(async () => {
      storage = await harness();
      store = await storage.open(k1);
    });
    afterAll(async () => {
      await storage?.close();
    });

    /** A unique sub per test, so tests share the storage without seeing each other. */
    const newSub = () => `1${randomBytes(8).readBigUInt64BE().toString().padStart(20, "0")}`;
    const later = (ms: number) => new Date(Date.now() + ms);
    const aUser = async (profile: Record<string, unknown> = {}) => {
      const sub = newSub();
      await store.upsertUser({ sub, email: `${sub}@example.com`, ...profile });
      return sub;
    };

    describe("users", () => {
      it("upserts a profile and reads it back without a credential", async () => {
        const sub = newSub();
        const saved = await store.upsertUser({
          sub,
          email: "ada@example.com",
          emailVerified: true,
          name: "Ada Lovelace",
          givenName: "Ada",
          familyName: "Lovelace",
          picture: "https://example.com/ada.png",
          locale: "en-GB",
          hd: "example.com",
        });
        expect(saved).toMatchObject({
          sub,
          email: "ada@example.com",
          emailVerified: true,
          hd: "example.com",
        });
        expect(saved.createdAt).toBeInstanceOf(Date);
        const read = await store.getUser(sub);
        expect(read).toMatchObject({
          sub,
          name: "Ada Lovelace",
          givenName: "Ada",
          locale: "en-GB",
        });
        expect(read?.credential).toBeUndefined();
        expect(await store.getUser(newSub())).toBeUndefined();
      });

      it("keeps fields left undefined on upsert and clears those given as null", async () => {
        const sub = await aUser({
          name: "Ada",
          picture: "https://example.com/a.png",
          locale: "fr",
        });
        const first = await store.getUser(sub);
        await sleep(5);
        const updated = await store.upsertUser({ sub, name: "Ada L.", picture: null });
        expect(updated).toMatchObject({
          name: "Ada L.",
          picture: null,
          locale: "fr",
          email: `${sub}@example.com`,
        });
        expect(updated.updatedAt.getTime()).toBeGreaterThan(first?.updatedAt.getTime() ?? Infinity);
        expect(updated.createdAt).toEqual(first?.createdAt);
      });

      it("lists users in sub order, page by page, with their credential's info", async () => {
        const prefix = `2${randomBytes(4).toString("hex")}`;
        const subs = ["c", "a", "b"].map((letter) => `${prefix}${letter}`);
        for (const sub of subs) await store.upsertUser({ sub });
        await store.saveCredential({
          sub: `${prefix}b`,
          refreshToken: "1//rt-b",
          grantedScopes: ["openid"],
        });
        const page1 = await store.listUsers({ after: prefix, limit: 2 });
        expect(page1.map((user) => user.sub)).toEqual([`${prefix}a`, `${prefix}b`]);
        expect(page1[1]?.credential).toMatchObject({
          status: "active",
          hasRefreshToken: true,
          kid: "k1",
        });
        expect(page1[0]?.credential).toBeUndefined();
        const page2 = await store.listUsers({ after: `${prefix}b`, limit: 2 });
        expect(page2[0]?.sub).toBe(`${prefix}c`);
        expect(JSON.stringify([page1, page2])).not.toContain("1//rt-b");
        await expect(store.listUsers({ limit: 0 })).rejects.toThrow(TypeError);
      });

      it("searches users by a prefix of their email (any case) or sub, % and _ literal", async () => {
        const prefix = `3${randomBytes(4).toString("hex")}`;
        await store.upsertUser({ sub: `${prefix}1`, email: `Grace.${prefix}@Example.com` });
        await store.upsertUser({ sub: `${prefix}2`, email: `grace_${prefix}@example.com` });
        await store.upsertUser({ sub: `${prefix}3`, email: `100%${prefix}@example.com` });
        const found = async (search: string, after?: string) =>
          (await store.listUsers({ search, after, limit: 1000 })).map((user) => user.sub);
        expect(await found(`GRACE.${prefix}`)).toEqual([`${prefix}1`]);
        expect(await found(`grace_${prefix}`)).toEqual([`${prefix}2`]);
        expect(await found(`100%${prefix}`)).toEqual([`${prefix}3`]);
        expect(await found(prefix)).toEqual([`${prefix}1`, `${prefix}2`, `${prefix}3`]);
        expect(await found(prefix, `${prefix}1`)).toEqual([`${prefix}2`, `${prefix}3`]);
        // Wildcards of LIKE, and a backslash, match only themselves.
        expect(await found(`grace%${prefix}`)).toEqual([]);
        expect(await found(`${prefix.slice(0, 3)}_`)).toEqual([]);
        expect(await found(`${prefix}\\`)).toEqual([]);
      });

      it("names the user an audit event is about by their email as stored now", async () => {
        const sub = await aUser({ email: "named-now@example.com" });
        await store.appendAuditEvent({ type: "credential.saved", sub });
        await store.upsertUser({ sub, email: "renamed@example.com" });
        expect((await store.listAuditEvents({ sub }))[0]?.email).toBe("renamed@example.com");
        await store.appendAuditEvent({ type: "keys.rotated" });
        expect((await store.listAuditEvents({ limit: 1 }))[0]?.email).toBeNull();
      });

      it("deletes a user with their credential, and says whether there was one", async () => {
        const sub = await aUser();
        await store.saveCredential({ sub, refreshToken: "1//rt-del", grantedScopes: [] });
        await store.appendAuditEvent({ type: "credential.saved", sub });
        expect(await store.deleteUser(sub)).toBe(true);
        expect(await store.getUser(sub)).toBeUndefined();
        expect(await store.getCredential(sub)).toBeUndefined();
        expect(await store.deleteUser(sub)).toBe(false);
        expect(await store.listAuditEvents({ sub })).toHaveLength(1);
      });

      it("deletes under the user's lock, handing the credential as it is once the lock is had", async () => {
        const sub = await aUser();
        await store.saveCredential({ sub, refreshToken: "1//rt-before", grantedScopes: [] });
        const other = await storage.open(k1);
        const seen: (string | null | undefined)[] = [];
        let deletion: Promise<boolean> | undefined;
        await other.withLockedUsers(
          [sub],
          async (held) => {
            deletion = store.deleteUser(sub, async (credential) => {
              seen.push(credential?.refreshToken);
              return {
                audit: [
                  { type: "credential.revoked", actor: "admin", data: { reason: "deleted" } },
                ],
              };
            });
            await sleep(100);
            // Still waiting: it has seen nothing, erased nothing.
            expect(seen).toEqual([]);
            await held.write([
              refreshed(sub, {
                accessToken: "ya29.during",
                expiresAt: later(3_600_000),
                refreshToken: "1//rt-during",
              }),
            ]);
          },
          { wait: true },
        );
        expect(await deletion).toBe(true);
        expect(seen).toEqual(["1//rt-during"]);
        expect(await store.getUser(sub)).toBeUndefined();
        const [recorded] = await store.listAuditEvents({ sub });
        expect(recorded).toMatchObject({ type: "credential.revoked", actor: "admin", sub });
        // No user: nothing to hand over, nothing deleted.
        expect(await store.deleteUser(sub, async () => ({}))).toBe(false);
      });

      it("erases nothing when the step before the deletion throws", async () => {
        const sub = await aUser();
        await store.saveCredential({ sub, refreshToken: "1//rt-kept", grantedScopes: [] });
        await expect(
          store.deleteUser(sub, async () => {
            throw new Error("Google unreachable");
          }),
        ).rejects.toThrow("Google unreachable");
        expect((await store.getCredential(sub))?.refreshToken).toBe("1//rt-kept");
        expect(await store.listAuditEvents({ sub })).toHaveLength(0);
      });

      it("records a sign-in whole: the profile, the credential and its audit event", async () => {
        const sub = newSub();
        const recorded = await store.recordSignIn({
          profile: { sub, email: `${sub}@example.com` },
          credential: {
            grantedScopes: ["openid"],
            refreshToken: "1//rt-sign-in",
            accessToken: { token: "ya29.sign-in", expiresAt: later(3_600_000) },
          },
          audit: { type: "user.signed_in", actor: "user", data: { refreshTokenReceived: true } },
        });
        expect(recorded.user).toMatchObject({ sub, email: `${sub}@example.com` });
        expect(recorded.credential).toMatchObject({ status: "active", hasRefreshToken: true });
        expect((await store.getCredential(sub))?.refreshToken).toBe("1//rt-sign-in");
        expect(await store.listAuditEvents({ sub })).toEqual([
          expect.objectContaining({ type: "user.signed_in", sub, actor: "user" }),
        ]);
        // A repeat sign-in without a refresh token keeps the stored one.
        const again = await store.recordSignIn({
          profile: { sub, name: "Ada" },
          credential: { grantedScopes: ["openid"] },
          audit: { type: "user.signed_in", actor: "user" },
        });
        expect(again.user).toMatchObject({ name: "Ada", email: `${sub}@example.com` });
        expect(again.credential?.hasRefreshToken).toBe(true);
        await expect(
          store.recordSignIn({
            profile: { sub: newSub() },
            credential: { grantedScopes: [] },
            audit: { type: "has spaces" },
          }),
        ).rejects.toThrow(TypeError);
      });

      it("answers a ping while the database is up", async () => {
        await expect(store.ping()).resolves.toBeUndefined();
      });

      it("refuses an empty sub as a programming error", async () => {
        await expect(store.upsertUser({ sub: "" })).rejects.toThrow(TypeError);
        await expect(store.getCredential("")).rejects.toThrow(TypeError);
      });
    });

    describe("credentials", () => {
      it("seals and opens the refresh and access tokens, with scopes and status", async () => {
        const sub = await aUser();
        const expiresAt = later(3_600_000);
        const info = await store.saveCredential({
          sub,
          refreshToken: "1//0g-refresh",
          grantedScopes: ["openid", "https://www.googleapis.com/auth/drive.appdata"],
          accessToken: { token: "ya29.access", expiresAt },
        });
        expect(info).toMatchObject({
          sub,
          status: "active",
          hasRefreshToken: true,
          kid: "k1",
          lastError: null,
        });
        expect(JSON.stringify(info)).not.toMatch(/1\/\/0g-refresh|ya29\.access/);
        const credential = await store.getCredential(sub);
        expect(credential).toMatchObject({
          refreshToken: "1//0g-refresh",
          accessToken: "ya29.access",
          grantedScopes: ["openid", "https://www.googleapis.com/auth/drive.appdata"],
        });
        expect(credential?.accessTokenExpiresAt?.getTime()).toBe(expiresAt.getTime());
        expect(await store.getCredential(newSub())).toBeUndefined();
      });

      it("never overwrites a stored refresh token with nothing", async () => {
        const sub = await aUser();
        await store.saveCredential({ sub, refreshToken: "1//first", grantedScopes: ["openid"] });
        const info = await store.saveCredential({
          sub,
          grantedScopes: ["openid", "email"],
          accessToken: { token: "ya29.second", expiresAt: later(60_000) },
        });
        expect(info).toMatchObject({ status: "active", grantedScopes: ["openid", "email"] });
        expect(await store.getCredential(sub)).toMatchObject({
          refreshToken: "1//first",
          accessToken: "ya29.second",
        });
      });

      it("does not narrow a grant for a code exchanged for fewer scopes", async () => {
        const sub = await aUser();
        const wide = ["openid", "drive.appdata"];
        await store.saveCredential({
          sub,
          refreshToken: "1//wide",
          grantedScopes: wide,
          accessToken: { token: "ya29.wide", expiresAt: later(60_000) },
        });
        const narrow = (token: string) => ({ token, expiresAt: later(60_000) });
        // Fewer scopes: the grant and its token stand.
        const info = await store.saveCredential({
          sub,
          grantedScopes: ["openid"],
          accessToken: narrow("ya29.narrow"),
        });
        expect(info?.grantedScopes).toEqual(wide);
        expect(await store.getCredential(sub)).toMatchObject({
          grantedScopes: wide,
          accessToken: "ya29.wide",
          refreshToken: "1//wide",
        });
        // Other scopes than stored: the union, and no token that would lack some of it.
        await store.saveCredential({
          sub,
          grantedScopes: ["openid", "photos"],
          accessToken: narrow("ya29.other"),
        });
        expect(await store.getCredential(sub)).toMatchObject({
          grantedScopes: [...wide, "photos"],
          accessToken: null,
        });
        // A code for all of them brings the token that covers them.
        await store.saveCredential({
          sub,
          grantedScopes: ["photos", "drive.appdata", "openid"],
          accessToken: narrow("ya29.all"),
        });
        expect(await store.getCredential(sub)).toMatchObject({
          grantedScopes: [...wide, "photos"],
          accessToken: "ya29.all",
        });
      });

      it("stores nothing without a refresh token when none is stored", async () => {
        const sub = await aUser();
        expect(
          await store.saveCredential({
            sub,
            grantedScopes: ["openid"],
            accessToken: { token: "ya29.lonely", expiresAt: later(60_000) },
          }),
        ).toBeUndefined();
        expect(await store.getCredential(sub)).toBeUndefined();
      });

      it("replaces the tokens and reactivates on a new refresh token", async () => {
        const sub = await aUser();
        await store.saveCredential({
          sub,
          refreshToken: "1//old",
          grantedScopes: [],
          accessToken: { token: "ya29.old", expiresAt: later(60_000) },
        });
        await store.markRevoked(sub, "invalid_grant");
        const info = await store.saveCredential({
          sub,
          refreshToken: "1//new",
          grantedScopes: ["openid"],
        });
        expect(info).toMatchObject({
          status: "active",
          revokedReason: null,
          hasRefreshToken: true,
        });
        expect(await store.getCredential(sub)).toMatchObject({
          refreshToken: "1//new",
          accessToken: null,
        });
      });

      it("refuses a credential for a user that was never upserted", async () => {
        await expect(
          store.saveCredential({ sub: newSub(), refreshToken: "1//x", grantedScopes: [] }),
        ).rejects.toMatchObject({ code: "user_not_found" });
        await expect(
          store.saveCredential({ sub: newSub(), grantedScopes: [] }),
        ).rejects.toMatchObject({
          code: "user_not_found",
        });
      });

      it("marks a credential revoked or expired and forgets its tokens", async () => {
        const sub = await aUser();
        await store.saveCredential({
          sub,
          refreshToken: "1//doomed",
          grantedScopes: ["openid"],
          accessToken: { token: "ya29.doomed", expiresAt: later(60_000) },
        });
        expect(await store.markRevoked(sub, "invalid_grant")).toBe(true);
        expect(await store.getCredential(sub)).toMatchObject({
          status: "revoked",
          revokedReason: "invalid_grant",
          refreshToken: null,
          accessToken: null,
          hasRefreshToken: false,
          kid: null,
        });
        // Signing in again without a new refresh token does not bring it back.
        expect(await store.saveCredential({ sub, grantedScopes: ["openid"] })).toMatchObject({
          status: "revoked",
        });
        // The first revocation stands: a later one changes nothing and says so.
        expect(await store.markRevoked(sub, "token_expired", { status: "expired" })).toBe(false);
        expect(await store.getCredential(sub)).toMatchObject({
          status: "revoked",
          revokedReason: "invalid_grant",
        });
        expect(await store.markRevoked(newSub(), "invalid_grant")).toBe(false);
        const expiring = await aUser();
        await store.saveCredential({ sub: expiring, refreshToken: "1//r", grantedScopes: [] });
        expect(await store.markRevoked(expiring, "token_expired", { status: "expired" })).toBe(
          true,
        );
        expect((await store.getCredential(expiring))?.status).toBe("expired");
      });

      it("records a revocation's audit event with the change, and only when it changes the row", async () => {
        const sub = await aUser();
        await store.saveCredential({ sub, refreshToken: "1//rt-audit", grantedScopes: [] });
        const audit = { type: "credential.revoked", actor: "system", data: { reason: "x" } };
        expect(await store.markRevoked(sub, "invalid_grant", { audit })).toBe(true);
        expect(await store.markRevoked(sub, "invalid_grant", { audit })).toBe(false);
        expect(await store.listAuditEvents({ sub })).toEqual([
          expect.objectContaining({ type: "credential.revoked", sub, actor: "system" }),
        ]);
      });

      it("refuses something that looks like a token where a reason code belongs", async () => {
        const sub = await aUser();
        await store.saveCredential({ sub, refreshToken: "1//r", grantedScopes: [] });
        await expect(
          store.markRevoked(sub, "1//0gLongRefreshTokenLookingThing/abc"),
        ).rejects.toThrow(TypeError);
        await expect(store.markRevoked(sub, `ya29.${"a".repeat(120)}`)).rejects.toThrow(TypeError);
      });

      it("opens with any key of the ring and seals new writes with the active one", async () => {
        const sub = await aUser();
        await store.saveCredential({ sub, refreshToken: "1//under-k1", grantedScopes: [] });
        // The ring [k2, k1]: reads what k1 sealed, seals with k2.
        const both = Keyring.parse(`${generateKeyLine("k2")},${k1Line}`);
        const rotated = await storage.open(both);
        expect((await rotated.getCredential(sub))?.refreshToken).toBe("1//under-k1");
        const other = await aUser();
        expect(
          await rotated.saveCredential({
            sub: other,
            refreshToken: "1//under-k2",
            grantedScopes: [],
          }),
        ).toMatchObject({ kid: "k2" });
        expect((await rotated.getCredential(other))?.refreshToken).toBe("1//under-k2");
        // Later tests open instances with [k1] alone, which start-up refuses while k2 seals one.
        await rotated.deleteUser(other);
      });
    });

    describe("the user's lock: lock, read, write, unlock", () => {
      /** A lock on `sub` held by another instance, until `release` is called. */
      const holdElsewhere = async (sub: string) => {
        const other = await storage.open(k1);
        let release: () => void = () => {};
        const releasing = new Promise<void>((resolve) => {
          release = resolve;
        });
        let taken: (held: LockedUsers) => void = () => {};
        const lockTaken = new Promise<LockedUsers>((resolve) => {
          taken = resolve;
        });
        const done = other.withLockedUsers(
          [sub],
          async (held) => {
            taken(held);
            await releasing;
          },
          { wait: true },
        );
        return {
          /** The other instance's primitives, to write while it holds the lock. */
          held: await lockTaken,
          release: async () => {
            release();
            await done;
          },
        };
      };
      /** The users of `subs` another holder has locked, as `on` finds them without waiting. */
      const busyFor = (on: VaultStore, subs: string[]) =>
        on.withLockedUsers(subs, async (held) => held.busy);

      it("reads every user after the lock and writes each kind of outcome together", async () => {
        const [fresh, failing, dead, idle, none] = [
          await aUser(),
          await aUser(),
          await aUser(),
          await aUser(),
          await aUser(),
        ];
        for (const sub of [fresh, failing, dead, idle]) {
          await store.saveCredential({ sub, refreshToken: `1//${sub}`, grantedScopes: ["openid"] });
        }
        const expiresAt = later(3_600_000);
        await store.withLockedUsers([fresh, failing, dead, idle, none, fresh], async (held) => {
          expect(held.locked).toEqual([fresh, failing, dead, idle, none]);
          expect(held.busy).toEqual([]);
          const read = await held.read();
          expect(read.credential(fresh)?.refreshToken).toBe(`1//${fresh}`);
          expect(read.credential(none)).toBeUndefined();
          expect(() => read.credential(newSub())).toThrow(TypeError);
          const changed = await held.write([
            refreshed(fresh, {
              accessToken: "ya29.held",
              expiresAt,
              refreshToken: "1//rotated",
              grantedScopes: ["openid", "email"],
            }),
            { sub: failing, outcome: { kind: "failed", reasonCode: "upstream_unavailable" } },
            { sub: dead, outcome: { kind: "revoked", reason: "invalid_grant" } },
            { sub: idle, outcome: { kind: "unchanged" } },
            { sub: none, outcome: { kind: "unchanged" } },
          ]);
          expect([...changed].sort()).toEqual([fresh, failing, dead].sort());
        });
        const credential = await store.getCredential(fresh);
        expect(credential).toMatchObject({
          accessToken: "ya29.held",
          refreshToken: "1//rotated",
          grantedScopes: ["openid", "email"],
          lastError: null,
        });
        expect(credential?.lastRefreshAt).toBeInstanceOf(Date);
        expect(credential?.accessTokenExpiresAt?.getTime()).toBe(expiresAt.getTime());
        expect(await store.getCredential(failing)).toMatchObject({
          status: "active",
          lastError: "upstream_unavailable",
        });
        expect(await store.getCredential(dead)).toMatchObject({
          status: "revoked",
          revokedReason: "invalid_grant",
          refreshToken: null,
        });
        expect(await store.getCredential(idle)).toMatchObject({
          accessToken: null,
          lastError: null,
        });
      });

      it("keeps the locks after a write, unlocks each user when told and the rest at the end", async () => {
        const [a, b] = [await aUser(), await aUser()];
        await store.saveCredential({ sub: a, refreshToken: "1//a", grantedScopes: [] });
        const other = await storage.open(k1);
        let escaped: LockedUsers | undefined;
        await store.withLockedUsers([a, b], async (held) => {
          escaped = held;
          await held.write([{ sub: a, outcome: { kind: "failed", reasonCode: "x_failed" } }]);
          // Written, still locked: another instance finds both busy until unlock.
          expect(await busyFor(other, [a, b])).toEqual([a, b]);
          await held.unlock([a]);
          expect(await busyFor(other, [a, b])).toEqual([b]);
          await expect(held.unlock([a])).rejects.toThrow(TypeError);
          await expect(held.write([{ sub: a, outcome: { kind: "unchanged" } }])).rejects.toThrow(
            TypeError,
          );
        });
        expect(await busyFor(other, [a, b])).toEqual([]);
        // The primitives refuse any use once the callback has ended.
        const late = escaped as LockedUsers;
        await expect(
          late.write([{ sub: a, outcome: { kind: "failed", reasonCode: "late" } }]),
        ).rejects.toThrow(TypeError);
        await expect(late.read().then((read) => read.credential(a))).rejects.toThrow(TypeError);
        expect((await store.getCredential(a))?.lastError).toBe("x_failed");
      });

      it("keeps an error written before the callback throws", async () => {
        const sub = await aUser();
        await store.saveCredential({ sub, refreshToken: "1//err", grantedScopes: [] });
        await expect(
          store.withLockedUsers([sub], async (held) => {
            await held.write([
              { sub, outcome: { kind: "failed", reasonCode: "upstream_unavailable" } },
            ]);
            throw new Error("Google is down");
          }),
        ).rejects.toThrow("Google is down");
        expect((await store.getCredential(sub))?.lastError).toBe("upstream_unavailable");
        expect(
          await recordRefresh(store, sub, { accessToken: "ya29.ok", expiresAt: later(60_000) }),
        ).toBe(true);
        expect((await store.getCredential(sub))?.lastError).toBeNull();
      });

      it("does not keep a refresh of a credential revoked meanwhile", async () => {
        const sub = await aUser();
        await store.saveCredential({ sub, refreshToken: "1//gone", grantedScopes: [] });
        await store.withLockedUsers([sub], async (held) => {
          const revoked = { kind: "revoked", reason: "invalid_grant" } as const;
          expect(await held.write([{ sub, outcome: revoked }])).toEqual(new Set([sub]));
          const late = refreshed(sub, { accessToken: "ya29.late", expiresAt: later(60_000) });
          expect(await held.write([late])).toEqual(new Set());
        });
        expect(await store.getCredential(sub)).toMatchObject({
          status: "revoked",
          accessToken: null,
        });
      });

      it("reports a user another instance holds as busy, and writes nothing of a group naming it", async () => {
        const [good, taken] = [await aUser(), await aUser()];
        for (const sub of [good, taken]) {
          await store.saveCredential({ sub, refreshToken: "1//x", grantedScopes: [] });
        }
        const elsewhere = await holdElsewhere(taken);
        try {
          await store.withLockedUsers([good, taken], async (held) => {
            expect(held.locked).toEqual([good]);
            expect(held.busy).toEqual([taken]);
            const read = await held.read();
            expect(() => read.credential(taken)).toThrow(TypeError);
            const failed = { kind: "failed", reasonCode: "upstream_unavailable" } as const;
            await expect(
              held.write([
                { sub: good, outcome: failed },
                { sub: taken, outcome: failed },
              ]),
            ).rejects.toThrow(TypeError);
            // Nor of a group holding a malformed outcome.
            await expect(
              held.write([
                { sub: good, outcome: failed },
                { sub: good, outcome: { kind: "failed", reasonCode: "a token? ya29.no" } },
              ]),
            ).rejects.toThrow(TypeError);
          });
        } finally {
          await elsewhere.release();
        }
        expect((await store.getCredential(good))?.lastError).toBeNull();
        expect((await store.getCredential(taken))?.lastError).toBeNull();
      });

      it("waits for a user another instance holds when asked to, and reads what it wrote", async () => {
        const sub = await aUser();
        await store.saveCredential({ sub, refreshToken: "1//w", grantedScopes: [] });
        const elsewhere = await holdElsewhere(sub);
        const order: string[] = [];
        const waiting = store.withLockedUsers(
          [sub],
          async (held) => {
            order.push("second in");
            return (await held.read()).credential(sub)?.accessToken;
          },
          { wait: true },
        );
        await sleep(100);
        expect(order).toEqual([]);
        await elsewhere.held.write([
          refreshed(sub, { accessToken: "ya29.by-first", expiresAt: later(60_000) }),
        ]);
        await elsewhere.release();
        expect(await waiting).toBe("ya29.by-first");
      });

      it("does not hold one user's lock against another user", async () => {
        const [a, b] = [await aUser(), await aUser()];
        const elsewhere = await holdElsewhere(a);
        try {
          expect(
            await store.withLockedUsers([b], async (held) => held.locked, { wait: true }),
          ).toEqual([b]);
          expect(await busyFor(store, [a, b])).toEqual([a]);
        } finally {
          await elsewhere.release();
        }
      });

      it("makes saveCredential and recordSignIn wait for the lock", async () => {
        const sub = await aUser();
        await store.saveCredential({ sub, refreshToken: "1//before", grantedScopes: [] });
        const elsewhere = await holdElsewhere(sub);
        const saving = store.saveCredential({ sub, refreshToken: "1//saved", grantedScopes: [] });
        const signingIn = store.recordSignIn({
          profile: { sub, name: "Waited" },
          credential: { grantedScopes: [] },
          audit: { type: "user.signed_in", actor: "user" },
        });
        await sleep(100);
        // Still waiting: nothing written.
        expect((await store.getCredential(sub))?.refreshToken).toBe("1//before");
        expect((await store.getUser(sub))?.name).toBeNull();
        await elsewhere.release();
        await Promise.all([saving, signingIn]);
        expect((await store.getCredential(sub))?.refreshToken).toBe("1//saved");
        expect((await store.getUser(sub))?.name).toBe("Waited");
      });

      it("gives up with credential_busy after the lock timeout, keeping none of its locks", async () => {
        const [a, b] = [await aUser(), await aUser()];
        const impatient = await storage.open(k1, { lockTimeoutMs: 200 });
        const probe = await storage.open(k1);
        // Locks are taken in the order of their keys: holding each user in turn, the other one is
        // granted before the wait for the held one times out, once.
        for (const [held, free] of [
          [a, b],
          [b, a],
        ] as const) {
          const elsewhere = await holdElsewhere(held);
          await expect(
            impatient.withLockedUsers([a, b], async () => "never", { wait: true }),
          ).rejects.toMatchObject({ code: "credential_busy" });
          expect(await busyFor(probe, [free])).toEqual([]);
          await elsewhere.release();
        }
        // The timeout bounded only those waits: the instance works normally afterwards.
        expect(await impatient.withLockedUsers([a, b], async () => "now", { wait: true })).toBe(
          "now",
        );
      });

      it("waits in one order, so two waiting holders over the same users do not deadlock", async () => {
        const subs = [await aUser(), await aUser(), await aUser(), await aUser()];
        const other = await storage.open(k1, { lockTimeoutMs: 5_000 });
        const run = (on: VaultStore, order: string[]) =>
          on.withLockedUsers(order, () => sleep(50), { wait: true });
        await Promise.all([run(store, subs), run(other, [...subs].reverse())]);
      });
    });

    describe("audit events", () => {
      it("appends events and lists them newest first, per user", async () => {
        const sub = await aUser();
        await store.appendAuditEvent({
          type: "credential.saved",
          sub,
          actor: "user",
          data: { scopes: 2 },
        });
        await store.appendAuditEvent({
          type: "credential.revoked",
          sub,
          actor: "system",
          data: { reason: "invalid_grant" },
        });
        await store.appendAuditEvent({ type: "keys.rotated", actor: "admin" });
        const events = await store.listAuditEvents({ sub });
        expect(events.map((event) => event.type)).toEqual([
          "credential.revoked",
          "credential.saved",
        ]);
        expect(events[0]).toMatchObject({
          sub,
          actor: "system",
          data: { reason: "invalid_grant" },
        });
        expect(events[0]?.at).toBeInstanceOf(Date);
        expect((await store.listAuditEvents({ limit: 1 }))[0]?.type).toBe("keys.rotated");
        await expect(store.appendAuditEvent({ type: "has spaces" })).rejects.toThrow(TypeError);
      });
    });
  });
}
