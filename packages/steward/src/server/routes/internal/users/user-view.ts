import { Type } from "@sinclair/typebox";
import type { UserRecord } from "../../../../store/store.js";
import { likelyCauseOfRevocation, TESTING_MODE_EXPIRY } from "../../../../tokens/grant-expiry.js";
import { PublicUser, publicUser } from "../../../schemas.js";

const Credential = Type.Union([
  Type.Object({
    status: Type.Union([Type.Literal("active"), Type.Literal("revoked"), Type.Literal("expired")]),
    grantedScopes: Type.Array(Type.String()),
    offlineAccess: Type.Boolean(),
    lastRefreshAt: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
    lastError: Type.Union([Type.String(), Type.Null()]),
    revokedReason: Type.Union([Type.String(), Type.Null()]),
    likelyCause: Type.Union([Type.Literal(TESTING_MODE_EXPIRY), Type.Null()], {
      description:
        "`testing_mode_expiry` when the grant died seven days after it was stored, as an app in Testing publishing status sees: publish the app.",
    }),
  }),
  Type.Null(),
]);
const AccountDisabled = Type.Union(
  [
    Type.Object({
      at: Type.String({ format: "date-time" }),
      reason: Type.Union([Type.String(), Type.Null()], {
        description: "As Google gave it: hijacking, bulk-account, or null.",
      }),
    }),
    Type.Null(),
  ],
  {
    description:
      "Set while Google says the account is disabled (Cross-Account Protection); null otherwise.",
  },
);
const SignIns = Type.Object(
  {
    total: Type.Integer(),
    withRefreshToken: Type.Integer({
      description:
        "Sign-ins that brought a new refresh token; Google keeps the newest 100 per account and client.",
    }),
  },
  { description: "Sign-ins recorded for this user." },
);

/** A user as operators see it: the profile, the credential's state (never its tokens). */
export const UserView = Type.Object({
  user: PublicUser,
  credential: Credential,
  accountDisabled: AccountDisabled,
  signIns: SignIns,
});

export function userView(record: UserRecord) {
  const { credential, accountDisabled } = record;
  return {
    user: publicUser(record),
    accountDisabled: accountDisabled && {
      at: accountDisabled.at.toISOString(),
      reason: accountDisabled.reason,
    },
    signIns: { total: record.signIns, withRefreshToken: record.refreshTokenSignIns },
    credential: credential
      ? {
          status: credential.status,
          grantedScopes: [...credential.grantedScopes],
          offlineAccess: credential.status === "active" && credential.hasRefreshToken,
          lastRefreshAt: credential.lastRefreshAt?.toISOString() ?? null,
          lastError: credential.lastError,
          revokedReason: credential.revokedReason,
          likelyCause: likelyCauseOfRevocation(credential),
        }
      : null,
  };
}
