// The reference of the access-token route: a bare Fastify app (no logger, no plugins) whose one
// route, at the same path, answers a constant object of the same shape and size as Steward's
// answer (CONSTANT_BODY, JSON). Prints `{"url"}` on one line once it listens; SIGTERM stops it.
import Fastify from "fastify";

const constant = JSON.parse(
  process.env.CONSTANT_BODY ?? '{"accessToken":"ya29.a0","expiresAt":"","scopes":[]}',
) as Record<string, unknown>;

const app = Fastify({ logger: false });
app.get("/v1/users/:sub/access-token", async () => constant);
const url = await app.listen({ host: "127.0.0.1", port: 0 });
process.stdout.write(`${JSON.stringify({ url })}\n`);
process.once("SIGTERM", () => {
  void app.close().finally(() => process.exit(0));
});
