export { jobsConnectionString } from "./connection.js";
export { createJobs, type JobsDependencies } from "./create-jobs.js";
export { JOB_CODES, PERMANENT_CODES } from "./failure.js";
export { jobsLogger } from "./logger.js";
export type {
  GoogleAccess,
  JobContext,
  JobHandler,
  JobOptions,
  JobState,
  JobStatus,
  Jobs,
} from "./types.js";
