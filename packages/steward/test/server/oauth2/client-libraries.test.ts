import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { drive } from "@googleapis/drive";
import { gaxios, OAuth2Client } from "google-auth-library";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS, runBackend } from "./backends.js";
import {
  type ClientFixture,
  expiredUser,
  refreshGrantsOf,
  requireToolchain,
  revokeUser,
  slowNextRefresh,
  startForClients,
} from "./support.js";

/**
 * Google's own client libraries, unchanged but for their token URI, with Steward as their token
 * endpoint: Node's here in process; Python's, Java's and Go's as small programs built once from
 * clients/ with Debian's packages. One Steward (and emulator) serves them all.
 */
let fixture: ClientFixture;
let builds: string;
beforeAll(async () => {
  fixture = await startForClients();
  builds = await mkdtemp(join(tmpdir(), "steward-backends-"));
}, 120_000);
afterAll(async () => {
  await fixture?.steward.close();
  if (builds) await rm(builds, { recursive: true, force: true });
});

/** A backend's google-auth-library client, unchanged but for its token endpoint. */
function backendAuth(sub: string): OAuth2Client {
  const auth = new OAuth2Client({
    clientId: "steward",
    clientSecret: fixture.key,
    endpoints: { oauth2TokenUrl: fixture.tokenUrl },
  });
  auth.setCredentials({ refresh_token: sub });
  return auth;
}

const rootUrl = () => `${fixture.steward.google.url}/`;
const driveAt = (auth: OAuth2Client) => drive({ version: "v3", auth, rootUrl: rootUrl() });

describe("Node: google-auth-library and @googleapis/drive with Steward as token endpoint", () => {
  it("refreshes through Steward and uses Drive's appDataFolder at the emulator", async () => {
    const sub = await expiredUser(fixture.steward, "node-backend@example.com");
    const files = driveAt(backendAuth(sub));
    const created = await files.files.create(
      {
        requestBody: { name: "node.json", parents: ["appDataFolder"] },
        media: { mimeType: "application/json", body: '{"from":"node"}' },
        fields: "id, name",
      },
      // Uploads go to their own root URL (www.googleapis.com/upload): the emulator's too.
      { rootUrl: rootUrl() },
    );
    const listed = await files.files.list({ spaces: "appDataFolder", fields: "files(id, name)" });
    expect(listed.data.files).toEqual([{ id: created.data.id, name: "node.json" }]);
    expect(await refreshGrantsOf(fixture.steward, sub)).toBe(1);
  });

  it("two clients refreshing one expired user at once cause one refresh at Google", async () => {
    const sub = await expiredUser(fixture.steward, "node-concurrent@example.com");
    await slowNextRefresh(fixture.steward);
    const [first, second] = await Promise.all([
      backendAuth(sub).getAccessToken(),
      backendAuth(sub).getAccessToken(),
    ]);
    expect(first.token).toMatch(/^ya29\./);
    expect(second.token).toBe(first.token);
    expect(await refreshGrantsOf(fixture.steward, sub)).toBe(1);
  });

  it("raises GaxiosError invalid_grant once the user is revoked", async () => {
    const sub = await expiredUser(fixture.steward, "node-revoked@example.com");
    expect((await backendAuth(sub).getAccessToken()).token).toMatch(/^ya29\./);
    await revokeUser(fixture.steward, sub);

    const error = await backendAuth(sub)
      .getAccessToken()
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(error).toBeInstanceOf(gaxios.GaxiosError);
    expect((error as gaxios.GaxiosError).status).toBe(400);
    expect((error as gaxios.GaxiosError).response?.data).toMatchObject({ error: "invalid_grant" });
    await expect(
      driveAt(backendAuth(sub)).files.list({ spaces: "appDataFolder" }),
    ).rejects.toBeInstanceOf(gaxios.GaxiosError);
  });
});

for (const backend of BACKENDS)
  describe(`${backend.language}: ${backend.libraries} with Steward as token endpoint`, () => {
    let command: string[] | undefined;
    const available = backend.available();
    const slug = backend.language.toLowerCase();
    beforeAll(async () => {
      if (available) command = await backend.build(join(builds, slug));
    }, 180_000);

    const target = (sub: string) => ({
      stewardUrl: fixture.steward.url,
      key: fixture.key,
      emulatorUrl: fixture.steward.google.url,
      sub,
    });

    it(`refreshes through Steward, uses Drive's appDataFolder, then raises ${backend.refusal} invalid_grant once revoked`, async (ctx) => {
      requireToolchain(ctx, available, backend.packages);
      const sub = await expiredUser(fixture.steward, `${slug}-drive@example.com`);
      const result = await runBackend(command as string[], "drive", target(sub));
      expect(result.listed.files).toEqual([result.created]);
      expect(result.created).toEqual({ id: expect.any(String), name: expect.any(String) });
      expect(await refreshGrantsOf(fixture.steward, sub)).toBe(1);

      await revokeUser(fixture.steward, sub);
      const refused = await runBackend(command as string[], "revoked", target(sub));
      expect(refused.error).toBe(backend.refusal);
      expect(JSON.stringify(refused)).toContain("invalid_grant");
    });

    it("two refreshes of one expired user at once cause one refresh at Google", async (ctx) => {
      requireToolchain(ctx, available, backend.packages);
      const sub = await expiredUser(fixture.steward, `${slug}-both@example.com`);
      await slowNextRefresh(fixture.steward);
      const { tokens } = await runBackend(command as string[], "concurrent", target(sub));
      expect(tokens).toHaveLength(2);
      expect(tokens[0]).toMatch(/^ya29\./);
      expect(tokens[1]).toBe(tokens[0]);
      expect(await refreshGrantsOf(fixture.steward, sub)).toBe(1);
    });
  });
