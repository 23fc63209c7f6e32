import { request as httpRequest } from "node:http";

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One HTTP/1.1 request sent as written: the path is not normalised or re-encoded (fetch would
 * resolve `..` and escape what it dislikes), so a test can send exactly what an attacker would.
 */
export function rawRequest(
  baseUrl: string,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<RawAnswer> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        hostname,
        port,
        method: options.method ?? "GET",
        path: options.path,
        headers: { connection: "close", ...options.headers },
        // Node's client checks the path for characters it refuses; some tests send those.
        insecureHTTPParser: true,
      },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          body += chunk;
        });
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
        );
      },
    );
    request.on("error", reject);
    request.end(options.body);
  });
}

/** The body as JSON, or undefined when it is not JSON. */
export function jsonOf(answer: RawAnswer): any {
  try {
    return JSON.parse(answer.body);
  } catch {
    return undefined;
  }
}
