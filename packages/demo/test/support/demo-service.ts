import { startTestService, type TestService } from "../../../steward/test/server/helpers.js";
import { photoDemo } from "../../src/index.js";

export type { TestService };

/** The service as `npm start` runs it, with the photo demo mounted through the app seam. */
export function startDemoService(
  env: Record<string, string> = {},
  options: { rateLimitPerMinute?: number } = {},
): Promise<TestService> {
  return startTestService(env, { ...options, apps: [photoDemo] });
}
