/**
 * Pieces shared by the emulator's discovery documents (Google's API Discovery Service format,
 * https://developers.google.com/discovery/v1/reference/apis), which discovery-based clients such
 * as google-api-python-client build their methods from.
 */

export type DiscoveryParameter = Record<string, unknown>;

/** A query parameter. `type` is the JSON Schema type; integers carry a `format`. */
export function queryParameter(
  type: "string" | "boolean" | "integer",
  description: string,
  extra: Record<string, unknown> = {},
): DiscoveryParameter {
  return {
    type,
    description,
    location: "query",
    ...(type === "integer" ? { format: "int32" } : {}),
    ...extra,
  };
}

/** A required path parameter. */
export function pathParameter(description: string, extra: Record<string, unknown> = {}) {
  return { type: "string", description, location: "path", required: true, ...extra };
}

/** The system parameters every Google API accepts, as its discovery document lists them. */
export const STANDARD_PARAMETERS: Readonly<Record<string, DiscoveryParameter>> = {
  "$.xgafv": queryParameter("string", "V1 error format.", {
    enum: ["1", "2"],
    enumDescriptions: ["v1 error format", "v2 error format"],
  }),
  access_token: queryParameter("string", "OAuth access token."),
  alt: queryParameter("string", "Data format for response.", {
    default: "json",
    enum: ["json", "media", "proto"],
    enumDescriptions: [
      "Responses with Content-Type of application/json",
      "Media download with context-dependent Content-Type",
      "Responses with Content-Type of application/x-protobuf",
    ],
  }),
  callback: queryParameter("string", "JSONP"),
  fields: queryParameter(
    "string",
    "Selector specifying which fields to include in a partial response.",
  ),
  key: queryParameter(
    "string",
    "API key. Your API key identifies your project and provides you with API access, quota, and reports. Required unless you provide an OAuth 2.0 token.",
  ),
  oauth_token: queryParameter("string", "OAuth 2.0 token for the current user."),
  prettyPrint: queryParameter("boolean", "Returns response with indentations and line breaks.", {
    default: "true",
  }),
  quotaUser: queryParameter(
    "string",
    "Available to use for quota purposes for server-side applications. Can be any arbitrary string assigned to a user, but should not exceed 40 characters.",
  ),
  uploadType: queryParameter(
    "string",
    'Legacy upload protocol for media (e.g. "media", "multipart").',
  ),
  upload_protocol: queryParameter("string", 'Upload protocol for media (e.g. "raw", "multipart").'),
};

/** The fields every discovery document starts with. */
export function documentHeader(input: {
  id: string;
  name: string;
  version: string;
  title: string;
  description: string;
  documentationLink: string;
  rootUrl: string;
  servicePath: string;
  batchPath: string;
}) {
  const { id, name, version, title, description, documentationLink } = input;
  return {
    kind: "discovery#restDescription",
    discoveryVersion: "v1",
    id,
    name,
    version,
    revision: "20250401",
    title,
    description,
    ownerDomain: "google.com",
    ownerName: "Google",
    documentationLink,
    protocol: "rest",
    rootUrl: input.rootUrl,
    servicePath: input.servicePath,
    basePath: `/${input.servicePath}`,
    baseUrl: `${input.rootUrl}${input.servicePath}`,
    batchPath: input.batchPath,
    parameters: STANDARD_PARAMETERS,
  };
}
