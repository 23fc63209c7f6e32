import { createServer, type Server } from "node:net";
import { expect, it } from "vitest";
import { reserveLoopbackPort } from "../../src/shared/index.js";

function listenOn(port: number): Promise<Server> {
  return new Promise((listening, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => listening(server));
  });
}

it("holds a reserved port until it is released, then lets it be used", async () => {
  const reserved = await reserveLoopbackPort();
  expect(reserved.port).toBeGreaterThan(0);
  await expect(listenOn(reserved.port)).rejects.toMatchObject({ code: "EADDRINUSE" });
  await reserved.release();
  await reserved.release();
  const server = await listenOn(reserved.port);
  await new Promise((closed) => server.close(closed));
});

it("takes a preferred port when it is free, and another when someone holds it", async () => {
  const first = await reserveLoopbackPort();
  await first.release();
  const again = await reserveLoopbackPort(first.port);
  expect(again.port).toBe(first.port);
  const other = await reserveLoopbackPort(first.port);
  expect(other.port).not.toBe(first.port);
  await Promise.all([again.release(), other.release()]);
});
