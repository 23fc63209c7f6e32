import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { isLoopback } from "./addresses.js";
import { type Check, fail, messageOf, ok, skip } from "./check.js";

/**
 * Users reach the service over HTTPS: it serves TLS itself (a certificate that reads and has not
 * expired), or trusts a proxy that terminates it. Listening on loopback, only this machine
 * reaches it, so HTTPS is the business of whatever forwards to it.
 */
export const httpsCheck: Check = async ({ config }) => {
  if (config === undefined) return skip("https", "needs valid settings");
  if (config.tls !== undefined) {
    try {
      const certificate = new X509Certificate(await readFile(config.tls.certFile));
      const expires = new Date(certificate.validTo);
      if (expires.getTime() <= Date.now()) {
        return fail(
          "https",
          `the certificate ${config.tls.certFile} expired on ${expires.toISOString()}`,
          "renew it (and its key in STEWARD_TLS_KEY), then restart the service",
        );
      }
      return ok("https", `serves HTTPS itself, certificate valid until ${expires.toISOString()}`);
    } catch (error) {
      return fail(
        "https",
        `STEWARD_TLS_CERT ${config.tls.certFile} does not read as a certificate: ${messageOf(error)}`,
        "point STEWARD_TLS_CERT at a PEM certificate (chain) the service can read",
      );
    }
  }
  if (config.trustProxy.length > 0) {
    return ok(
      "https",
      `behind TLS-terminating proxies ${config.trustProxy.join(", ")} (STEWARD_TRUST_PROXY)`,
    );
  }
  if (isLoopback(config.host)) {
    return skip(
      "https",
      `listens on ${config.host}, reachable from this machine only: TLS belongs to what forwards to it`,
    );
  }
  return fail(
    "https",
    `listens on ${config.host} over plain HTTP and trusts no proxy: sign-in codes and API keys would cross the network in the clear`,
    "serve HTTPS (STEWARD_TLS_CERT and STEWARD_TLS_KEY), or terminate TLS at a proxy and list " +
      "its address in STEWARD_TRUST_PROXY, or listen on 127.0.0.1 behind a proxy on this machine",
  );
};
