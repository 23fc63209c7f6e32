import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** The cookie that keeps a demo user signed in. */
export const SESSION_COOKIE = "steward_demo_session";
/** Eight hours, in seconds: a working day, then sign in again. */
const SESSION_TTL_SECONDS = 8 * 60 * 60;

/**
 * The demo page's own sign-in session, after the code exchange proved who the user is.
 *
 * A web code flow never hands the browser an ID token, and a script-readable token would be
 * stealable anyway, so the page gets an httpOnly, SameSite=Strict cookie holding the verified
 * `sub`, an expiry, the user's sign-out count and an HMAC over them. Signing out bumps the count,
 * which ends every session of that user, a copied cookie's too. The key is random per process:
 * restarting the service signs demo users out, which is the price of keeping no session table
 * and no secret on disk.
 */
export class DemoSessions {
  private readonly key = randomBytes(32);
  /** Sign-outs per user (in this process); absent means none. */
  private readonly signOuts = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A `Set-Cookie` value signing `sub` in; `secure` when the page is served over HTTPS. */
  issue(sub: string, secure: boolean): string {
    const expires = Math.floor(this.now() / 1000) + SESSION_TTL_SECONDS;
    const payload = `${Buffer.from(sub).toString("base64url")}.${expires}.${this.signOutsOf(sub)}`;
    const value = `${payload}.${this.mac(payload)}`;
    return cookie(value, SESSION_TTL_SECONDS, secure);
  }

  /** A `Set-Cookie` value that removes the session. */
  clear(secure: boolean): string {
    return cookie("", 0, secure);
  }

  /** Ends every session of `sub` issued so far, wherever its cookie went. */
  endAll(sub: string): void {
    this.signOuts.set(sub, this.signOutsOf(sub) + 1);
  }

  /** The `sub` of a valid, unexpired session in a `Cookie` header, else undefined. */
  verify(cookieHeader: string | undefined): string | undefined {
    const value = readCookie(cookieHeader, SESSION_COOKIE);
    const [encodedSub, expires, signOuts, mac, ...rest] = value?.split(".") ?? [];
    if (!encodedSub || !mac || rest.length > 0 || !/^\d+$/.test(expires ?? "")) return undefined;
    if (!/^\d+$/.test(signOuts ?? "")) return undefined;
    const expected = Buffer.from(this.mac(`${encodedSub}.${expires}.${signOuts}`));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    if (Number(expires) * 1000 <= this.now()) return undefined;
    const sub = Buffer.from(encodedSub, "base64url").toString();
    return Number(signOuts) === this.signOutsOf(sub) ? sub : undefined;
  }

  private signOutsOf(sub: string): number {
    return this.signOuts.get(sub) ?? 0;
  }

  private mac(payload: string): string {
    return createHmac("sha256", this.key).update(payload).digest("base64url");
  }
}

function cookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  // Path=/demo: the session is for the demo API and its images, nothing else of the service.
  return `${SESSION_COOKIE}=${value}; Path=/demo; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`;
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(";") ?? []) {
    const at = part.indexOf("=");
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}
