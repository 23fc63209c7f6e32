// RS256 signatures per second on whatever core this process is pinned to: raw node:crypto, and
// jose's SignJWT (what the emulator signs ID tokens with), each for `argv[2]` seconds.
// Prints `{"nodeCrypto": Rate, "jose": Rate}` on one line, then exits. A Rate has signatures per
// wall-clock second and per CPU-second of this process (which other work on the core does not lower).
import { generateKeyPairSync, sign } from "node:crypto";
import { SignJWT } from "jose";

const seconds = Number(process.argv[2] ?? 5);
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
// Claims shaped like an emulator ID token, so both measure the same work per signature.
const claims = {
  iss: "https://accounts.google.com",
  azp: "123456789012-abcdefabcdefabcdefabcdefabcdefab.apps.googleusercontent.com",
  aud: "123456789012-abcdefabcdefabcdefabcdefabcdefab.apps.googleusercontent.com",
  sub: "112233445566778899000",
  email: "bench@example.com",
  email_verified: true,
  at_hash: "bG9yZW0gaXBzdW0gZG9sb3I",
  name: "Bench Tester",
  picture: "https://lh3.googleusercontent.com/a/bench=s96-c",
  given_name: "Bench",
  family_name: "Tester",
  locale: "en",
};
const header = { alg: "RS256", kid: "0123456789abcdef0123456789abcdef01234567", typ: "JWT" };

async function rate(step: () => unknown): Promise<{ perSecond: number; perCpuSecond: number }> {
  const cpuBefore = process.cpuUsage();
  const startedAt = performance.now();
  const endAt = startedAt + seconds * 1000;
  let count = 0;
  while (performance.now() < endAt) {
    await step();
    count += 1;
  }
  const cpu = process.cpuUsage(cpuBefore);
  return {
    perSecond: count / ((performance.now() - startedAt) / 1000),
    perCpuSecond: count / ((cpu.user + cpu.system) / 1e6),
  };
}

const signingInput = Buffer.from(
  `${Buffer.from(JSON.stringify(header)).toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`,
);
const nodeCrypto = await rate(() => sign("sha256", signingInput, privateKey));
const jose = await rate(() => {
  const iat = Math.floor(Date.now() / 1000);
  return new SignJWT({ ...claims, iat, exp: iat + 3600 })
    .setProtectedHeader(header)
    .sign(privateKey);
});
process.stdout.write(`${JSON.stringify({ nodeCrypto, jose })}\n`);
