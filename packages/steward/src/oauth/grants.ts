// Google's token and revocation endpoints, one operation per file.
export { authorizationCodeGrant } from "./authorization-code-grant.js";
export { refreshTokenGrant } from "./refresh-token-grant.js";
export { tokenRevocation } from "./token-revocation.js";
