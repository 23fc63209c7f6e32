import { request as httpRequest } from "node:http";
import { connect } from "node:net";

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

/**
 * Writes `head` (a request line and headers, CRLF-separated, without the final blank line) on a
 * fresh TCP connection and parses what comes back until the server closes it: for requests an
 * HTTP client refuses to send (an invalid header, an over-long head).
 */
export function rawExchange(baseUrl: string, head: string): Promise<RawAnswer> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    let text = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      text += chunk;
    });
    // The server may reset the connection right after answering; what it answered counts.
    socket.on("error", (error) => {
      if (text === "") reject(error);
    });
    socket.on("close", () => {
      const [top = "", body = ""] = text.split("\r\n\r\n", 2);
      const [statusLine = "", ...lines] = top.split("\r\n");
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(":");
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine.split(" ")[1]), headers, body });
    });
    socket.write(`${head}\r\nHost: ${hostname}:${port}\r\nConnection: close\r\n\r\n`, "latin1");
  });
}
