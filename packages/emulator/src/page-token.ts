import { createHash } from "node:crypto";

/**
 * Opaque page tokens for list methods: the offset of the next page, bound to the query it
 * continues (a fingerprint of caller and parameters), so a token replayed with another query is
 * refused as Google refuses it.
 */
export class PageTokens {
  private readonly fingerprint: string;

  /** `query`: everything that defines the result set (owner, filters, order). */
  constructor(query: unknown) {
    this.fingerprint = createHash("sha256")
      .update(JSON.stringify(query))
      .digest("base64url")
      .slice(0, 16);
  }

  encode(offset: number): string {
    return Buffer.from(`${offset}:${this.fingerprint}`).toString("base64url");
  }

  /** The offset a token stands for; 0 without a token; undefined when it is not ours. */
  decode(token: string | undefined): number | undefined {
    if (token === undefined || token === "") return 0;
    const [offset, print, ...rest] = Buffer.from(token, "base64url").toString("utf8").split(":");
    const value = Number(offset);
    const valid = print === this.fingerprint && rest.length === 0 && Number.isSafeInteger(value);
    return valid && value >= 0 ? value : undefined;
  }
}
