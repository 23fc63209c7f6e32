// The reference: a bare node:http handler that parses a form POST and answers a token JSON of
// the same size and headers as the emulator's refresh response (TOKEN_RESPONSE_TEMPLATE), with a
// fresh access token each time. What any token endpoint costs before doing its own work.
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";

const template = JSON.parse(process.env.TOKEN_RESPONSE_TEMPLATE ?? "{}") as Record<string, unknown>;
const accessTokenBytes = 120;

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
    if (request.method !== "POST" || !form.get("grant_type")) {
      response.writeHead(400, { "content-type": "application/json; charset=utf-8" });
      response.end('{"error":"invalid_request"}');
      return;
    }
    const body = JSON.stringify({
      ...template,
      access_token: `ya29.a0${randomBytes(accessTokenBytes).toString("base64url")}`,
    });
    response.writeHead(200, {
      "cache-control": "no-cache, no-store, max-age=0, must-revalidate",
      pragma: "no-cache",
      "content-type": "application/json; charset=utf-8",
      "content-length": Buffer.byteLength(body),
    });
    response.end(body);
  });
});

server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});
process.once("SIGTERM", () => server.close(() => process.exit(0)));
