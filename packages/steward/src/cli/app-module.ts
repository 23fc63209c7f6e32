import { createRequire } from "node:module";
import { isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { InvalidArgumentError } from "commander";
import type { StewardApp } from "../server/apps.js";

/**
 * Imports an `--app` module and returns the {@link StewardApp} it exports as `default` (or
 * `app`). The specifier is a path relative to the working directory (`./my-app.js`) or a
 * package name (`@steward/photo-demo`), resolved from the working directory as Node would.
 *
 * @throws InvalidArgumentError when it cannot be found or exports no app.
 */
export async function loadApp(specifier: string): Promise<StewardApp> {
  const file = isPath(specifier) ? resolve(specifier) : resolvePackage(specifier);
  const module = (await import(pathToFileURL(file).href)) as { default?: unknown; app?: unknown };
  const app = module.default ?? module.app;
  if (!isApp(app)) {
    throw new InvalidArgumentError(`${specifier} exports no app ({ name, plugin }) as default`);
  }
  return app;
}

/** Repeatable flag: each `--app` adds one. */
export function collectApps(specifier: string, previous: string[] = []): string[] {
  return [...previous, specifier];
}

function isPath(specifier: string): boolean {
  return isAbsolute(specifier) || specifier.startsWith("./") || specifier.startsWith("../");
}

function resolvePackage(name: string): string {
  try {
    return createRequire(join(process.cwd(), "noop.js")).resolve(name);
  } catch (error) {
    throw new InvalidArgumentError(`${name} is not installed here (${(error as Error).message})`);
  }
}

function isApp(value: unknown): value is StewardApp {
  if (typeof value !== "object" || value === null) return false;
  const { name, plugin } = value as Partial<StewardApp>;
  return typeof name === "string" && typeof plugin === "function";
}
