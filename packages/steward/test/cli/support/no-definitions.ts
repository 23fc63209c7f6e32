// A `--jobs` module that forgot to export define(jobs).
export const jobs = ["count-run"];
