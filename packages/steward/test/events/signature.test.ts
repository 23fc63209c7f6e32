import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { StewardError } from "../../src/errors.js";
import { signWebhook, verifyWebhookSignature } from "../../src/events/signature.js";

const SECRET = "whsec-test-0123456789abcdefghijklmnopqrstuv";
const NOW_MS = 1_735_689_600_000;
const now = () => NOW_MS;
const body = JSON.stringify({
  id: "0b6d5c2e-1111-4222-8333-944455556666",
  type: "credential.revoked",
  createdAt: "2025-01-01T00:00:00.000Z",
  data: { sub: "1234", reason: "invalid_grant" },
});

function headersFor(rawBody: string, timestampSeconds = NOW_MS / 1000, secret = SECRET) {
  return {
    "steward-webhook-id": "0b6d5c2e-1111-4222-8333-944455556666",
    "steward-webhook-timestamp": String(timestampSeconds),
    "steward-webhook-signature": signWebhook(secret, timestampSeconds, rawBody),
  };
}

function refusal(run: () => unknown): StewardError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(StewardError);
    expect((error as StewardError).code).toBe("webhook_signature_invalid");
    expect((error as StewardError).status).toBe(401);
    return error as StewardError;
  }
  throw new Error("expected webhook_signature_invalid");
}

describe("signWebhook", () => {
  it("is v1= and the hex HMAC-SHA256 of 'timestamp.body', as docs/webhooks.md says", () => {
    const expected = createHmac("sha256", SECRET).update(`1735689600.${body}`).digest("hex");
    expect(signWebhook(SECRET, 1_735_689_600, body)).toBe(`v1=${expected}`);
    expect(signWebhook(SECRET, 1_735_689_600, Buffer.from(body))).toBe(`v1=${expected}`);
  });
});

describe("docs/webhooks.md", () => {
  it("gives a test vector that signWebhook reproduces", () => {
    const docs = readFileSync(new URL("../../../../docs/webhooks.md", import.meta.url), "utf8");
    const vector = signWebhook("steward-example-secret-0123456789abcdef", 1_735_689_600, body);
    expect(docs).toContain(`\n${body}\n`);
    expect(docs).toContain(`Steward-Webhook-Signature: ${vector}\n`);
    expect(docs).toContain(`the signature is\n\`${vector}\``);
  });
});

describe("verifyWebhookSignature", () => {
  it("accepts a good delivery and returns the event (Node headers, fetch Headers, Buffer body)", () => {
    const headers = headersFor(body);
    const event = verifyWebhookSignature(SECRET, headers, body, { now });
    expect(event).toEqual(JSON.parse(body));
    expect(
      verifyWebhookSignature(SECRET, new Headers(headers), Buffer.from(body), { now }),
    ).toEqual(event);
    const upperCase = Object.fromEntries(
      Object.entries(headers).map(([name, value]) => [name.toUpperCase(), value]),
    );
    expect(verifyWebhookSignature(SECRET, upperCase, body, { now }).type).toBe(
      "credential.revoked",
    );
  });

  it("refuses a tampered body", () => {
    const headers = headersFor(body);
    const tampered = body.replace('"sub":"1234"', '"sub":"1235"');
    expect(refusal(() => verifyWebhookSignature(SECRET, headers, tampered, { now })).detail).toBe(
      "no signature matches",
    );
    // One byte more (a trailing newline a framework might add) is a different body too.
    refusal(() => verifyWebhookSignature(SECRET, headers, `${body}\n`, { now }));
  });

  it("refuses a signature made with another secret", () => {
    const headers = headersFor(body, NOW_MS / 1000, `${SECRET}-other`);
    expect(refusal(() => verifyWebhookSignature(SECRET, headers, body, { now })).detail).toBe(
      "no signature matches",
    );
  });

  it("refuses a stale timestamp, and one too far ahead, even with a valid signature", () => {
    const stale = headersFor(body, NOW_MS / 1000 - 301);
    expect(refusal(() => verifyWebhookSignature(SECRET, stale, body, { now })).detail).toBe(
      "the timestamp is outside the tolerance",
    );
    refusal(() =>
      verifyWebhookSignature(SECRET, headersFor(body, NOW_MS / 1000 + 301), body, { now }),
    );
    // Within the tolerance, or with a wider one, the same delivery passes.
    expect(() =>
      verifyWebhookSignature(SECRET, headersFor(body, NOW_MS / 1000 - 299), body, { now }),
    ).not.toThrow();
    expect(() =>
      verifyWebhookSignature(SECRET, stale, body, { now, toleranceSeconds: 600 }),
    ).not.toThrow();
  });

  it("refuses a timestamp changed after signing (it is part of the signed content)", () => {
    const headers = { ...headersFor(body), "steward-webhook-timestamp": String(NOW_MS / 1000 + 1) };
    refusal(() => verifyWebhookSignature(SECRET, headers, body, { now }));
  });

  it("refuses missing or malformed headers", () => {
    const good = headersFor(body);
    const cases: Record<string, Record<string, string>> = {
      "no timestamp": { ...good, "steward-webhook-timestamp": "" },
      "a date, not unix seconds": { ...good, "steward-webhook-timestamp": "2025-01-01T00:00:00Z" },
      "no signature": { ...good, "steward-webhook-signature": "" },
      "another scheme": {
        ...good,
        "steward-webhook-signature": good["steward-webhook-signature"].replace("v1=", "v0="),
      },
      "not hex": { ...good, "steward-webhook-signature": "v1=zz" },
    };
    for (const [name, headers] of Object.entries(cases)) {
      expect(() => verifyWebhookSignature(SECRET, headers, body, { now }), name).toThrow(
        StewardError,
      );
    }
  });

  it("accepts any one matching signature of several (a secret being rotated)", () => {
    const good = headersFor(body);
    const both = {
      ...good,
      "steward-webhook-signature": `${signWebhook("x".repeat(40), NOW_MS / 1000, body)} ${good["steward-webhook-signature"]}`,
    };
    expect(verifyWebhookSignature(SECRET, both, body, { now }).id).toBe(JSON.parse(body).id);
  });

  it("treats a bad option as a programming mistake", () => {
    const headers = headersFor(body);
    expect(() => verifyWebhookSignature("", headers, body)).toThrow(TypeError);
    expect(() => verifyWebhookSignature(SECRET, headers, body, { toleranceSeconds: -1 })).toThrow(
      TypeError,
    );
  });
});
