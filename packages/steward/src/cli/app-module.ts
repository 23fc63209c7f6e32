import { createRequire } from "node:module";
import { isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { InvalidArgumentError } from "commander";
import type { StewardApp } from "../server/apps.js";

/**
 * The app `steward start` and `serve` mount when given no `--app` against an emulator: the photo demo, as
 * `npm start` has always served it. Loaded by name, so the product never imports it.
 */
export const DEFAULT_APP = "@steward/photo-demo";

/**
 * Imports an `--app` module and returns the {@link StewardApp} it exports as `default` (or
 * `app`). The specifier is a path relative to the working directory (`./my-app.js`) or a
 * package name (`@steward/photo-demo`), resolved from the working directory as Node would.
 *
 * @throws InvalidArgumentError when it cannot be found or exports no app.
 */
export async function loadApp(specifier: string): Promise<StewardApp> {
  const file = isPath(specifier) ? resolve(specifier) : resolvePackage(specifier);
  return importApp(file, specifier);
}

/**
 * The apps of `steward start` and `serve` when given no `--app`: {@link DEFAULT_APP} when Google is an
 * emulator and the package can be resolved from `directory`, else none (a production install
 * need not carry the demo).
 *
 * @throws InvalidArgumentError when the package is there but exports no app.
 */
export async function defaultApps(
  emulated: boolean,
  directory = process.cwd(),
): Promise<StewardApp[]> {
  if (!emulated) return [];
  let file: string;
  try {
    file = requireFrom(directory).resolve(DEFAULT_APP);
  } catch {
    return [];
  }
  return [await importApp(file, DEFAULT_APP)];
}

/** Repeatable flag: each `--app` adds one. */
export function collectApps(specifier: string, previous: string[] = []): string[] {
  return [...previous, specifier];
}

async function importApp(file: string, specifier: string): Promise<StewardApp> {
  const module = (await import(pathToFileURL(file).href)) as { default?: unknown; app?: unknown };
  const app = module.default ?? module.app;
  if (!isApp(app)) {
    throw new InvalidArgumentError(`${specifier} exports no app ({ name, plugin }) as default`);
  }
  return app;
}

function isPath(specifier: string): boolean {
  return isAbsolute(specifier) || specifier.startsWith("./") || specifier.startsWith("../");
}

function resolvePackage(name: string): string {
  try {
    return requireFrom(process.cwd()).resolve(name);
  } catch (error) {
    throw new InvalidArgumentError(`${name} is not installed here (${(error as Error).message})`);
  }
}

function requireFrom(directory: string): NodeJS.Require {
  return createRequire(join(directory, "noop.js"));
}

function isApp(value: unknown): value is StewardApp {
  if (typeof value !== "object" || value === null) return false;
  const { name, plugin } = value as Partial<StewardApp>;
  return typeof name === "string" && typeof plugin === "function";
}
