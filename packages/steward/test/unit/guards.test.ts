import type { FastifyRequest } from "fastify";
import { describe, expect, it } from "vitest";
import { requireHttps } from "../../src/server/plugins/guards.js";

/** A request as requireHttps reads it: Fastify's protocol and ip, after STEWARD_TRUST_PROXY. */
function request(protocol: string, ip: string, headers: Record<string, string> = {}) {
  return { protocol, ip, headers } as unknown as FastifyRequest;
}

describe("requireHttps", () => {
  it("lets plain HTTP through from a loopback client only", () => {
    for (const ip of ["127.0.0.1", "::1", "::ffff:127.0.0.1", "127.0.0.9"]) {
      expect(() => requireHttps(request("http", ip)), ip).not.toThrow();
    }
    expect(() => requireHttps(request("http", "203.0.113.9"))).toThrow(
      expect.objectContaining({ code: "https_required" }),
    );
    expect(() => requireHttps(request("https", "203.0.113.9"))).not.toThrow();
  });

  it("treats a request relayed by a proxy on this host as coming from off it", () => {
    // No STEWARD_TRUST_PROXY: Fastify leaves ip at the proxy's loopback address.
    const relayed: Record<string, string>[] = [
      { "x-forwarded-for": "203.0.113.9" },
      { "x-forwarded-proto": "http" },
      { forwarded: "for=203.0.113.9;proto=http" },
    ];
    for (const headers of relayed) {
      expect(
        () => requireHttps(request("http", "127.0.0.1", headers)),
        Object.keys(headers)[0],
      ).toThrow(expect.objectContaining({ code: "https_required" }));
    }
    // A trusted proxy that terminated TLS: Fastify reports https.
    expect(() =>
      requireHttps(request("https", "203.0.113.9", { "x-forwarded-proto": "https" })),
    ).not.toThrow();
  });
});
