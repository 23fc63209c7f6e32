import { randomBytes } from "node:crypto";

/**
 * Resumable upload sessions (Google's `uploadType=resumable`, and Photos' `X-Goog-Upload-*`
 * protocol), kept in memory and bounded: a session holds the bytes received so far, in order.
 * Google keeps a session a week; so does this store, but it also drops the least recently used
 * session when there are too many, or when keeping a chunk would pass the total byte budget.
 */

/** Limits of a session store. */
export interface SessionLimits {
  /** Sessions kept at once; the least recently used goes first. Default 64. */
  readonly maxSessions: number;
  /** Bytes one upload may carry. Default 64 MiB, the emulator's request body limit. */
  readonly maxUploadBytes: number;
  /** Bytes held by all sessions together. Default 256 MiB. */
  readonly maxTotalBytes: number;
  /** How long a session lives after it starts. Default one week, as Google. */
  readonly ttlMs: number;
}

const DEFAULT_LIMITS: SessionLimits = {
  maxSessions: 64,
  maxUploadBytes: 64 * 1024 * 1024,
  maxTotalBytes: 256 * 1024 * 1024,
  ttlMs: 7 * 24 * 60 * 60 * 1000,
};

/** One upload in progress: what started it (`T`) and the bytes received so far. */
export class UploadSession<T> {
  private chunks: Buffer[] = [];
  private size = 0;
  /** The upload's total length, once the client has said it. */
  total: number | undefined;
  /** Set once the upload made a file: what a later status query answers with. */
  resultId: string | undefined;

  constructor(
    readonly id: string,
    readonly start: T,
    readonly expiresAtMs: number,
    readonly store: ResumableSessions<T>,
  ) {}

  /** Bytes received so far, in order from byte 0. */
  get received(): number {
    return this.size;
  }

  /** Appends bytes received in order; false (nothing kept) when a limit would be passed. */
  append(bytes: Buffer): boolean {
    if (bytes.length === 0) return true;
    if (!this.store.reserve(this, bytes.length)) return false;
    this.chunks.push(bytes);
    this.size += bytes.length;
    return true;
  }

  /** Drops everything received, as a new upload from byte 0 does. */
  reset(): void {
    this.store.release(this.size);
    this.chunks = [];
    this.size = 0;
  }

  /** The whole content received. */
  content(): Buffer {
    const whole = Buffer.concat(this.chunks, this.size);
    this.chunks = [whole];
    return whole;
  }
}

/** The store of resumable upload sessions, keyed by the `upload_id` of their session URI. */
export class ResumableSessions<T> {
  private readonly sessions = new Map<string, UploadSession<T>>();
  private totalBytes = 0;
  readonly limits: SessionLimits;

  constructor(
    private readonly now: () => number,
    limits: Partial<SessionLimits> = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Starts a session; the least recently used one is dropped when the store is full. */
  open(start: T): UploadSession<T> {
    this.sweep();
    while (this.sessions.size >= this.limits.maxSessions) this.dropOldest();
    const id = `AEnB2U${randomBytes(36).toString("base64url")}`;
    const session = new UploadSession(id, start, this.now() + this.limits.ttlMs, this);
    this.sessions.set(id, session);
    return session;
  }

  /** The live session with this id, marked as just used; undefined when unknown or expired. */
  get(id: string | undefined): UploadSession<T> | undefined {
    const session = id === undefined ? undefined : this.sessions.get(id);
    if (session === undefined) return undefined;
    if (session.expiresAtMs <= this.now()) {
      this.close(session);
      return undefined;
    }
    this.sessions.delete(session.id);
    this.sessions.set(session.id, session);
    return session;
  }

  /** Forgets a session and the bytes it held. */
  close(session: UploadSession<T>): void {
    if (this.sessions.get(session.id) !== session) return;
    this.sessions.delete(session.id);
    session.reset();
  }

  /** @internal Accounts for `bytes` more in `session`, dropping others to make room. */
  reserve(session: UploadSession<T>, bytes: number): boolean {
    if (session.received + bytes > this.limits.maxUploadBytes) return false;
    while (this.totalBytes + bytes > this.limits.maxTotalBytes) {
      const oldest = [...this.sessions.values()].find((other) => other !== session);
      if (oldest === undefined) return false;
      this.close(oldest);
    }
    this.totalBytes += bytes;
    return true;
  }

  /** @internal */
  release(bytes: number): void {
    this.totalBytes -= bytes;
  }

  private sweep(): void {
    const now = this.now();
    for (const session of [...this.sessions.values()]) {
      if (session.expiresAtMs <= now) this.close(session);
    }
  }

  private dropOldest(): void {
    const oldest = this.sessions.values().next().value;
    if (oldest !== undefined) this.close(oldest);
  }
}
