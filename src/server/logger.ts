/**
 * Pino options for the service: JSON lines, with every header and field that can carry a token,
 * code or secret replaced by "[redacted]" before it is written.
 */
export const REDACTED_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["x-api-key"]',
  "res.headers['set-cookie']",
  "*.code",
  "*.token",
  "*.accessToken",
  "*.refreshToken",
  "*.idToken",
  "*.clientSecret",
  "*.access_token",
  "*.refresh_token",
  "*.id_token",
  "*.client_secret",
];
