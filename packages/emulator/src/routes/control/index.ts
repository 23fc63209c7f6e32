import type { FastifyPluginAsync } from "fastify";
import type { Faults } from "../../faults.js";
import type { IdTokenSigner } from "../../id-token.js";
import { clientsRoutes } from "./clients.js";
import { clockRoutes } from "./clock.js";
import { faultsRoutes } from "./faults.js";
import { grantsRoutes } from "./grants.js";
import { keysRotateRoute } from "./keys.js";
import { settingsRoutes } from "./settings.js";
import { signInRoute } from "./sign-in.js";
import { statsRoutes } from "./stats.js";
import { usersRoutes } from "./users.js";
import { usersBulkRoute } from "./users-bulk.js";

/** The control API for tests and demos (JSON; a test tool, so it shows secrets). */
export const controlRoutes: FastifyPluginAsync<IdTokenSigner & { faults: Faults }> = async (
  app,
  { state, keys, issuer, faults },
) => {
  await app.register(clientsRoutes, { state });
  await app.register(usersRoutes, { state });
  await app.register(usersBulkRoute, { state });
  await app.register(signInRoute, { state, keys, issuer });
  await app.register(grantsRoutes, { state });
  await app.register(settingsRoutes, { state });
  await app.register(clockRoutes, { state });
  await app.register(faultsRoutes, { faults });
  await app.register(keysRotateRoute, { keys });
  await app.register(statsRoutes, { state });
};
