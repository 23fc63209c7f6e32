import { execFile, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { offlineEnv } from "./support.js";

const run = promisify(execFile);
const CLIENTS = fileURLToPath(new URL("./clients/", import.meta.url));
const JARS = [
  "google-api-client",
  "google-oauth-client",
  "google-http-client",
  "google-http-client-gson",
  "gson",
  "guava",
  "opencensus-api",
  "opencensus-contrib-http-util",
  "grpc-context",
].map((name) => `/usr/share/java/${name}.jar`);
const GO_OAUTH2 = "/usr/share/gocode/src/golang.org/x/oauth2";

/**
 * A backend in another language, built from test/server/oauth2/clients/ with Debian's packages:
 * its program takes `MODE STEWARD_URL API_KEY EMULATOR_URL SUB` and prints one JSON object.
 */
export interface Backend {
  readonly language: string;
  /** Google's libraries it uses, for the test titles. */
  readonly libraries: string;
  /** The Debian packages that bring its toolchain and Google's client library. */
  readonly packages: string;
  /** The library's own error type for a refused refresh, as the program reports it. */
  readonly refusal: string;
  readonly available: () => boolean;
  /** Compiles what needs compiling into `dir`, once; the command that runs the program. */
  readonly build: (dir: string) => Promise<string[]>;
}

const works = (command: string, args: string[]) =>
  spawnSync(command, args, { stdio: "ignore", env: offlineEnv() }).status === 0;

export const BACKENDS: readonly Backend[] = [
  {
    language: "Python",
    libraries: "google-auth and google-api-python-client",
    packages: "python3-google-auth python3-googleapi python3-requests",
    refusal: "google.auth.exceptions.RefreshError",
    // The system Python: a pyenv or venv python3 on PATH does not see Debian's packages.
    available: () =>
      works("/usr/bin/python3", [
        "-c",
        "import google.oauth2.credentials, google.auth.transport.requests, googleapiclient.discovery",
      ]),
    build: async () => ["/usr/bin/python3", join(CLIENTS, "steward_backend.py")],
  },
  {
    language: "Java",
    libraries: "google-api-client and google-oauth-client",
    packages:
      "default-jdk-headless libgoogle-api-client-java libgoogle-oauth-client-java libgoogle-http-client-java",
    refusal: "com.google.api.client.auth.oauth2.TokenResponseException",
    available: () => works("javac", ["-version"]) && JARS.every((jar) => existsSync(jar)),
    build: async (dir) => {
      const classpath = JARS.join(":");
      await run("javac", ["-cp", classpath, "-d", dir, join(CLIENTS, "StewardBackend.java")], {
        timeout: 120_000,
      });
      return ["java", "-cp", `${dir}:${classpath}`, "StewardBackend"];
    },
  },
  {
    language: "Go",
    libraries: "golang.org/x/oauth2",
    packages: "golang-go golang-golang-x-oauth2-dev",
    refusal: "*oauth2.RetrieveError",
    available: () => works("go", ["version"]) && existsSync(GO_OAUTH2),
    build: async (dir) => {
      const binary = join(dir, "steward_backend");
      // GOPATH mode over Debian's sources: offline, no module proxy.
      await run("go", ["build", "-o", binary, join(CLIENTS, "steward_backend.go")], {
        timeout: 180_000,
        env: offlineEnv({ GO111MODULE: "off", GOPATH: "/usr/share/gocode", GOFLAGS: "" }),
      });
      return [binary];
    },
  },
];

/** Runs a backend's program in `mode` for `sub` and parses what it prints. */
export async function runBackend(
  command: readonly string[],
  mode: "drive" | "concurrent" | "revoked",
  target: { stewardUrl: string; key: string; emulatorUrl: string; sub: string },
): Promise<any> {
  const [program, ...args] = command as [string, ...string[]];
  const { stdout } = await run(
    program,
    [...args, mode, target.stewardUrl, target.key, target.emulatorUrl, target.sub],
    { env: offlineEnv({ PYTHONDONTWRITEBYTECODE: "1" }), timeout: 60_000 },
  );
  return JSON.parse(stdout);
}
