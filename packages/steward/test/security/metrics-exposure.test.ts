import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { openMetricsAddress } from "../../src/server/metrics-server.js";
import { startTestService, type TestService } from "../server/helpers.js";

// `/metrics` was served to anyone who reached the API's port. It can now ask for a bearer token
// (STEWARD_METRICS_TOKEN) and be served on a port of its own (STEWARD_METRICS_PORT), and the
// service warns at start when it is open off loopback.

const METRICS_TOKEN = "metrics-token-for-tests-0123456789abcdef";
const METRIC = "steward_http_request_duration_seconds";

const scrape = (url: string, token?: string) =>
  fetch(`${url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

async function expectUnauthenticated(response: Response): Promise<void> {
  const text = await response.text();
  expect(response.status, text).toBe(401);
  expect(JSON.parse(text)).toEqual({
    error: { code: "unauthenticated", message: expect.any(String) },
  });
  expect(text).not.toContain(METRIC);
}

describe("STEWARD_METRICS_TOKEN on the API's port", () => {
  let steward: TestService;
  beforeAll(async () => {
    steward = await startTestService({ STEWARD_METRICS_TOKEN: METRICS_TOKEN });
  }, 120_000);
  afterAll(() => steward?.close());

  it("refuses a scrape without the token (401 envelope)", async () => {
    await expectUnauthenticated(await scrape(steward.url));
  });

  it("refuses a scrape with a wrong token (401 envelope)", async () => {
    await expectUnauthenticated(await scrape(steward.url, `${METRICS_TOKEN.slice(0, -1)}x`));
  });

  it("serves the metrics with the token", async () => {
    const response = await scrape(steward.url, METRICS_TOKEN);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain(METRIC);
  });

  it("logs no token", async () => {
    expect(steward.logs()).not.toContain(METRICS_TOKEN);
  });
});

describe("STEWARD_METRICS_PORT with STEWARD_METRICS_TOKEN", () => {
  let steward: TestService;
  let metricsUrl: string;
  beforeAll(async () => {
    steward = await startTestService({
      STEWARD_METRICS_PORT: "0",
      STEWARD_METRICS_TOKEN: METRICS_TOKEN,
    });
    metricsUrl = steward.service.metricsUrl as string;
  }, 120_000);
  afterAll(() => steward?.close());

  it("serves the metrics on their own port, with the token", async () => {
    expect(new URL(metricsUrl).port).not.toBe(new URL(steward.url).port);
    await fetch(`${steward.url}/healthz`);
    const response = await scrape(metricsUrl, METRICS_TOKEN);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain(`${METRIC}_count{method="GET",route="/healthz"`);
  });

  it("asks for the token on their own port too", async () => {
    await expectUnauthenticated(await scrape(metricsUrl));
  });

  it("no longer serves them on the API's port (404 envelope)", async () => {
    for (const token of [undefined, METRICS_TOKEN]) {
      const response = await scrape(steward.url, token);
      expect(response.status).toBe(404);
      expect((await response.json()).error.code).toBe("not_found");
    }
  });

  it("serves nothing else on the metrics port", async () => {
    const response = await fetch(`${metricsUrl}/healthz`);
    expect(response.status).toBe(404);
    expect((await response.json()).error.code).toBe("not_found");
  });
});

describe("the warning at start", () => {
  const configOf = (env: Record<string, string>) => loadConfig({ STEWARD_PORT: "8080", ...env });

  it("names metrics open on every interface of the API's port", () => {
    expect(openMetricsAddress(configOf({ STEWARD_HOST: "0.0.0.0" }))).toEqual({
      host: "0.0.0.0",
      port: 8080,
    });
  });

  it("names metrics open on their own port off loopback", () => {
    const config = configOf({ STEWARD_METRICS_PORT: "9464", STEWARD_METRICS_HOST: "::" });
    expect(openMetricsAddress(config)).toEqual({ host: "::", port: 9464 });
  });

  it("is not given on loopback, nor with a token, nor when only the API is off loopback", () => {
    for (const env of <Array<Record<string, string>>>[
      {},
      { STEWARD_HOST: "localhost" },
      { STEWARD_HOST: "::1" },
      { STEWARD_HOST: "0.0.0.0", STEWARD_METRICS_TOKEN: METRICS_TOKEN },
      { STEWARD_HOST: "0.0.0.0", STEWARD_METRICS_PORT: "9464", STEWARD_METRICS_HOST: "127.0.0.1" },
    ]) {
      expect(openMetricsAddress(configOf(env)), JSON.stringify(env)).toBeUndefined();
    }
  });
});
