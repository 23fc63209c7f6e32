import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { BlobRefs } from "./drive-store.js";
import { EmulatorError } from "./errors.js";

/** The snapshot's name inside the emulator's data dir; contents go in `blobs/` beside it. */
export const STATE_FILE = "state.json";
const BLOB_DIR = "blobs";
const FORMAT = "steward-emulator-state";
const VERSION = 1;
/** Changes within this long are saved together. */
const SAVE_DELAY_MS = 200;
/**
 * A save rewrites the whole state, so under load (a benchmark's tens of thousands of tokens) the
 * wait before the next one grows to this many times the last save's duration: saving then takes
 * at most a tenth of the time.
 */
const SAVE_DELAY_PER_SAVE_MS = 10;

/** The JSON the state file holds; `parts` belong to the emulator's modules, each its own shape. */
export interface StateFileContents<Parts> {
  readonly format: typeof FORMAT;
  readonly version: typeof VERSION;
  readonly savedAt: string;
  readonly parts: Parts;
}

/**
 * Binary contents (Drive files, photos) kept beside the state file, one file per distinct
 * content named by its SHA-256: written once, never rewritten, so a save writes only the JSON
 * and what is new. Contents no saved state refers to are removed after the save.
 */
export class BlobFiles implements BlobRefs {
  private readonly onDisk = new Set<string>();
  private readonly hashes = new WeakMap<Buffer, string>();
  private pending = new Map<string, Buffer>();
  private referenced = new Set<string>();

  constructor(private readonly dir: string) {}

  refOf(content: Buffer): string {
    let hash = this.hashes.get(content);
    if (hash === undefined) {
      hash = createHash("sha256").update(content).digest("hex");
      this.hashes.set(content, hash);
    }
    if (!this.onDisk.has(hash)) this.pending.set(hash, content);
    this.referenced.add(hash);
    return hash;
  }

  /** @throws TypeError when the content is missing or not what its name says. */
  contentOf(ref: string): Buffer {
    if (!/^[0-9a-f]{64}$/.test(String(ref))) throw new TypeError(`bad content reference ${ref}`);
    const file = join(this.dir, ref);
    let content: Buffer;
    try {
      content = readFileSync(file);
    } catch {
      throw new TypeError(`the content file ${file} is missing`);
    }
    if (createHash("sha256").update(content).digest("hex") !== ref) {
      throw new TypeError(`the content file ${file} is damaged`);
    }
    this.onDisk.add(ref);
    this.hashes.set(content, ref);
    return content;
  }

  /** Starts an export: from now on, only what `refOf` is asked for counts as referenced. */
  beginExport(): void {
    this.referenced = new Set();
  }

  /** Writes the contents the last export referenced that are not on disk yet. */
  async writeNew(): Promise<void> {
    const pending = this.pending;
    this.pending = new Map();
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    for (const [hash, content] of pending) {
      if (!this.referenced.has(hash)) continue;
      await writeAtomically(join(this.dir, hash), content);
      this.onDisk.add(hash);
    }
  }

  /** Removes contents the last saved state no longer refers to. */
  async removeUnreferenced(): Promise<void> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    for (const name of names) {
      if (this.referenced.has(name)) continue;
      await rm(join(this.dir, name), { force: true });
      this.onDisk.delete(name);
    }
  }
}

/**
 * The emulator's state on disk: `state.json` (mode 0600: it holds client secrets, tokens and
 * private keys, of a fake Google but still) and `blobs/`, in one directory. Every save writes a
 * temporary file and renames it over the old one, so a crash leaves the previous save or the
 * new one, never half of either.
 */
export class StateFile<Parts> {
  readonly file: string;
  readonly blobs: BlobFiles;
  private timer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();
  private closed = false;
  private lastSaveMs = 0;

  /**
   * @param capture takes the state as JSON at the moment of saving, contents through `blobs`.
   * @param onError hears a background save that failed; the next change tries again.
   */
  constructor(
    readonly dir: string,
    private readonly capture: (blobs: BlobRefs) => Parts,
    private readonly onError: (error: unknown) => void,
  ) {
    this.file = join(dir, STATE_FILE);
    this.blobs = new BlobFiles(join(dir, BLOB_DIR));
  }

  /**
   * The parts last saved in `dir`; undefined when nothing was saved there yet.
   *
   * @throws EmulatorError `emulator_state_corrupt` naming the file when it cannot be read.
   */
  static async read<Parts>(dir: string): Promise<Parts | undefined> {
    const file = join(dir, STATE_FILE);
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw corrupt(file, (error as NodeJS.ErrnoException).code ?? "unreadable", error);
    }
    let contents: StateFileContents<Parts>;
    try {
      contents = JSON.parse(text);
    } catch (error) {
      throw corrupt(file, "not valid JSON", error);
    }
    if (contents?.format !== FORMAT || typeof contents.parts !== "object" || !contents.parts) {
      throw corrupt(file, "not an emulator state file");
    }
    if (contents.version !== VERSION) {
      throw corrupt(file, `version ${contents.version} is not ${VERSION}`);
    }
    return contents.parts;
  }

  /**
   * Reads what was saved and hands it to `restore`; undefined when nothing was saved yet.
   *
   * @throws EmulatorError `emulator_state_corrupt` naming the file when it cannot be read or
   *   `restore` finds it malformed (throws).
   */
  async load<T>(restore: (parts: Parts, blobs: BlobRefs) => Promise<T>): Promise<T | undefined> {
    const parts = await StateFile.read<Parts>(this.dir);
    if (parts === undefined) return undefined;
    try {
      return await restore(parts, this.blobs);
    } catch (error) {
      throw corrupt(this.file, error instanceof Error ? error.message : "malformed", error);
    }
  }

  /** Something changed: saves soon, once for every change within {@link SAVE_DELAY_MS}. */
  changed(): void {
    if (this.timer !== undefined || this.closed) return;
    const delayMs = Math.max(SAVE_DELAY_MS, this.lastSaveMs * SAVE_DELAY_PER_SAVE_MS);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.save().catch(this.onError);
    }, delayMs);
    this.timer.unref();
  }

  /** Saves now (after any save under way). */
  save(): Promise<void> {
    this.saving = this.saving.catch(() => undefined).then(() => this.write());
    return this.saving;
  }

  /** Saves a last time and stops saving. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.save();
  }

  private async write(): Promise<void> {
    const startedAt = performance.now();
    this.blobs.beginExport();
    const contents: StateFileContents<Parts> = {
      format: FORMAT,
      version: VERSION,
      savedAt: new Date().toISOString(),
      parts: this.capture(this.blobs),
    };
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await this.blobs.writeNew();
    await writeAtomically(this.file, `${JSON.stringify(contents)}\n`);
    await this.blobs.removeUnreferenced();
    this.lastSaveMs = performance.now() - startedAt;
  }
}

/** Writes a file readable by its owner only, through a temporary file renamed over it. */
async function writeAtomically(file: string, data: string | Buffer): Promise<void> {
  const temporary = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  const handle = await open(temporary, "w", 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
}

function corrupt(file: string, reason: string, cause?: unknown): EmulatorError {
  return new EmulatorError(
    "emulator_state_corrupt",
    `The emulator state file ${file} cannot be read (${reason}). Fix it, or move its directory away to start the emulator empty.`,
    { cause },
  );
}
