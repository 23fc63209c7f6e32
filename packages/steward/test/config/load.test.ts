import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import proxyAddr from "@fastify/proxy-addr";
import { beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { StewardError } from "../../src/errors.js";
import { parseClientSecret } from "../../src/google/client-secret.js";

let dir: string;
const SECRET = "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echoed";
const web = {
  web: {
    client_id: "123-abc.apps.googleusercontent.com",
    project_id: "p",
    auth_uri: "https://accounts.google.com/o/oauth2/auth",
    token_uri: "https://oauth2.googleapis.com/token",
    auth_provider_x509_cert_url: "https://www.googleapis.com/oauth2/v1/certs",
    client_secret: SECRET,
    redirect_uris: ["https://example.com/cb"],
    javascript_origins: ["https://example.com"],
  },
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "steward-config-"));
});

function problemsOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(StewardError);
    expect((error as StewardError).code).toBe("config_invalid");
    return (error as StewardError).message;
  }
  throw new Error("expected config_invalid");
}

describe("parseClientSecret", () => {
  it("reads a web client file as Google's console gives it", () => {
    const parsed = parseClientSecret(JSON.stringify(web));
    expect(parsed).toEqual({
      client: {
        type: "web",
        clientId: web.web.client_id,
        clientSecret: SECRET,
        projectId: "p",
        authUri: web.web.auth_uri,
        tokenUri: web.web.token_uri,
        redirectUris: web.web.redirect_uris,
        javascriptOrigins: web.web.javascript_origins,
      },
    });
  });

  it("reads an installed client file", () => {
    const parsed = parseClientSecret(
      JSON.stringify({
        installed: { client_id: "1-x", client_secret: "s", redirect_uris: ["http://localhost"] },
      }),
    );
    expect(parsed).toMatchObject({ client: { type: "installed", clientId: "1-x" } });
  });

  it("names every bad field, never a value", () => {
    const parsed = parseClientSecret(
      JSON.stringify({ web: { client_secret: 42, redirect_uris: "x" } }),
    );
    expect(parsed).toEqual({
      problems: [
        "web.client_id is missing",
        "web.client_secret must be a non-empty string",
        "web.redirect_uris must be an array of strings",
      ],
    });
    expect(parseClientSecret("{")).toEqual({ problems: ["is not valid JSON"] });
    expect(parseClientSecret(JSON.stringify({ web: {}, installed: {} }))).toMatchObject({
      problems: [expect.stringContaining("exactly one")],
    });
  });
});

describe("loadConfig", () => {
  it("defaults to the local emulator, an embedded database and loopback", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      host: "127.0.0.1",
      port: 8080,
      databaseUrl: undefined,
      dataDir: "./.steward",
      google: { mode: "emulator" },
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("uses Google with a client secret file, and an external emulator by URL", async () => {
    const file = join(dir, "client_secret_1.json");
    await writeFile(file, JSON.stringify(web));
    expect(loadConfig({ GOOGLE_CLIENT_SECRET_FILE: file }).google).toMatchObject({
      mode: "google",
      client: { clientSecret: SECRET },
    });
    expect(
      loadConfig({ GOOGLE_CLIENT_SECRET_FILE: file, STEWARD_GOOGLE: "http://127.0.0.1:9099/" })
        .google,
    ).toMatchObject({
      mode: "external-emulator",
      baseUrl: "http://127.0.0.1:9099",
    });
    const config = loadConfig({
      GOOGLE_CLIENT_ID: "1-a",
      GOOGLE_CLIENT_SECRET: "s",
      STEWARD_EXTRA_AUDIENCES: "2-ios, 3-android",
      STEWARD_REQUIRED_SCOPES: "https://www.googleapis.com/auth/drive.appdata",
      STEWARD_ALLOWED_ORIGINS: "https://app.example.com",
      STEWARD_TRUST_PROXY: "10.0.0.1,::1",
    });
    expect(config.extraAudiences).toEqual(["2-ios", "3-android"]);
    expect(config.requiredScopes).toEqual(["https://www.googleapis.com/auth/drive.appdata"]);
    expect(config.trustProxy).toEqual(["10.0.0.1", "::1"]);
  });

  it("reports every problem at once, one line each, naming the variable and never a secret", async () => {
    const file = join(dir, "bad.json");
    await writeFile(file, JSON.stringify({ web: { client_id: "1-x", client_secret: 7 } }));
    const message = problemsOf(() =>
      loadConfig({
        STEWARD_PORT: "99999",
        DATABASE_URL: "mysql://x",
        GOOGLE_CLIENT_SECRET_FILE: file,
        STEWARD_ALLOWED_ORIGINS: "https://ok.example,not-an-origin,https://x.example/path",
        STEWARD_TRUST_PROXY: "proxy.local",
        STEWARD_TLS_CERT: "cert.pem",
        STEWARD_ADMIN_TOKEN: "short-and-secret",
      }),
    );
    const lines = message.split("\n").slice(1);
    expect(lines).toHaveLength(8);
    for (const variable of [
      "STEWARD_PORT",
      "DATABASE_URL",
      "GOOGLE_CLIENT_SECRET_FILE",
      "STEWARD_TRUST_PROXY",
      "STEWARD_TLS_CERT",
      "STEWARD_ADMIN_TOKEN",
    ]) {
      expect(message).toContain(variable);
    }
    expect(message).toContain("web.client_secret");
    expect(message).not.toContain("short-and-secret");
  });

  // Fastify compiles STEWARD_TRUST_PROXY with @fastify/proxy-addr when the HTTP server is built,
  // after the database and emulator have started; each case is checked against it too.
  it("refuses a STEWARD_TRUST_PROXY range Fastify would refuse, naming the entry", () => {
    for (const bad of [
      "10.0.0.0/33",
      "10.0.0.0/abc",
      "10.0.0.0/",
      "10.0.0.0/255.0.255.0",
      "::1/129",
      "10.0.0.0/8/8",
    ]) {
      expect(() => proxyAddr.compile([bad])).toThrow();
      expect(problemsOf(() => loadConfig({ STEWARD_TRUST_PROXY: `10.0.0.1, ${bad}` }))).toContain(
        `STEWARD_TRUST_PROXY: "${bad}"`,
      );
    }
    const good = ["10.0.0.0/8", "10.0.0.0/255.0.0.0", "::ffff:10.0.0.0/104", "fe80::/10", "::1"];
    expect(() => proxyAddr.compile(good)).not.toThrow();
    expect(loadConfig({ STEWARD_TRUST_PROXY: good.join(",") }).trustProxy).toEqual(good);
  });

  it("refuses a /0 STEWARD_TRUST_PROXY range, which would let any client forge X-Forwarded-*", () => {
    for (const everyone of ["0.0.0.0/0", "::/0", "0.0.0.0/0.0.0.0"]) {
      const message = problemsOf(() => loadConfig({ STEWARD_TRUST_PROXY: everyone }));
      expect(message).toContain(`STEWARD_TRUST_PROXY: "${everyone}" would trust every address`);
      expect(message).toContain("forge");
    }
  });

  it("reads the metrics settings, reporting their problems at once and never the token", () => {
    expect(loadConfig({}).metrics).toEqual({
      port: undefined,
      host: "127.0.0.1",
      token: undefined,
    });
    const token = "m".repeat(40);
    expect(
      loadConfig({
        STEWARD_METRICS_PORT: "9464",
        STEWARD_METRICS_HOST: "10.0.0.5",
        STEWARD_METRICS_TOKEN: token,
      }).metrics,
    ).toEqual({ port: 9464, host: "10.0.0.5", token });
    const message = problemsOf(() =>
      loadConfig({
        STEWARD_PORT: "9464",
        STEWARD_METRICS_PORT: "9464",
        STEWARD_METRICS_TOKEN: "short metrics secret",
      }),
    );
    expect(message).toContain("STEWARD_METRICS_PORT must differ from STEWARD_PORT");
    expect(message).toContain("STEWARD_METRICS_TOKEN must be at least 32 characters");
    expect(message).toContain("STEWARD_METRICS_TOKEN must not contain whitespace");
    expect(message).not.toContain("short metrics secret");
    const more = problemsOf(() =>
      loadConfig({ STEWARD_METRICS_PORT: "70000", STEWARD_METRICS_HOST: "::" }),
    );
    expect(more).toContain("STEWARD_METRICS_PORT must be a port number");
    expect(problemsOf(() => loadConfig({ STEWARD_METRICS_HOST: "::" }))).toContain(
      "STEWARD_METRICS_HOST needs STEWARD_METRICS_PORT",
    );
  });

  it("refuses a STEWARD_ADMIN_TOKEN with whitespace, which no Bearer header can carry", () => {
    for (const token of [`${"a".repeat(20)} ${"b".repeat(20)}`, `${"c".repeat(40)}\n`]) {
      const message = problemsOf(() => loadConfig({ STEWARD_ADMIN_TOKEN: token }));
      expect(message).toContain("STEWARD_ADMIN_TOKEN must not contain whitespace");
      expect(message).not.toContain(token.trim().slice(0, 20));
    }
    expect(loadConfig({ STEWARD_ADMIN_TOKEN: "d".repeat(40) }).adminToken).toBe("d".repeat(40));
  });

  it("refuses a half-configured client and an unreadable file", () => {
    expect(problemsOf(() => loadConfig({ GOOGLE_CLIENT_ID: "1-a" }))).toContain(
      "GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET go together",
    );
    expect(
      problemsOf(() => loadConfig({ GOOGLE_CLIENT_SECRET_FILE: join(dir, "missing.json") })),
    ).toContain("ENOENT");
    expect(problemsOf(() => loadConfig({ STEWARD_GOOGLE: "google" }))).toContain(
      "STEWARD_GOOGLE=google needs",
    );
    expect(problemsOf(() => loadConfig({ STEWARD_GOOGLE: "ftp:x" }))).toContain(
      "STEWARD_GOOGLE must be",
    );
  });
});
