export type { FetchAsOptions } from "./access/fetch-as.js";
export type { Config } from "./config/load.js";
export { ERROR_CATALOG, type ErrorCode, isStewardError, StewardError } from "./errors.js";
export type { StewardEventHandler, StewardEventName, StewardEvents } from "./events/bus.js";
export {
  type VerifyWebhookOptions,
  verifyWebhookSignature,
  type WebhookHeaders,
} from "./events/signature.js";
export type { WebhookEvent } from "./events/webhook-event.js";
export type {
  GoogleAccess,
  JobContext,
  JobOptions,
  JobState,
  JobStatus,
  Jobs,
} from "./jobs/index.js";
export { createSteward, type Steward, type StewardOptions } from "./library/create-steward.js";
export type { AppClient, AppContext, AppUser, StewardApp } from "./server/apps.js";
export type { CodeExchange } from "./server/code-exchange.js";
export { ErrorEnvelope, errorResponses, PublicUser } from "./server/schemas.js";
export type { AccessToken, AccessTokenOptions } from "./tokens/token-manager.js";
