import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { InvalidArgumentError } from "commander";
import type { Jobs } from "../jobs/index.js";

/** What a `--jobs` module exports: `define` (or a default function) that defines the jobs. */
export type DefineJobs = (jobs: Jobs) => Promise<void> | void;

/**
 * Imports a `--jobs` module (a path, relative to the working directory) and returns its
 * `define(jobs)`.
 *
 * @throws InvalidArgumentError when the module exports no such function.
 */
export async function loadJobDefinitions(specifier: string): Promise<DefineJobs> {
  const module = (await import(pathToFileURL(resolve(specifier)).href)) as {
    define?: unknown;
    default?: unknown;
  };
  const define = module.define ?? module.default;
  if (typeof define !== "function") {
    throw new InvalidArgumentError(`${specifier} exports no define(jobs) function`);
  }
  return define as DefineJobs;
}
