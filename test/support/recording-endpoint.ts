/**
 * A stand-in DynamoDB endpoint for tests of what a StoreClient sends: an HTTP server that
 * records every request, and lets the test decide whether (and how) to answer each.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  req: IncomingMessage;
  body: string;
  res: ServerResponse;
  /** Settles when the response is closed (answered, or the client went away). */
  closed: Promise<void>;
}

const servers: { close(): void }[] = [];

/** Closes every endpoint opened so far (for afterEach). */
export function closeRecordingEndpoints(): void {
  for (const server of servers.splice(0)) server.close();
}

/** An endpoint that records every request; `answer` decides whether (and how) to reply. */
export async function recordingEndpoint(answer: (r: Received) => void = reply("{}")) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", () => {
      const closed = new Promise<void>((resolve) => res.on("close", () => resolve()));
      const r = { req, body, res, closed };
      received.push(r);
      answer(r);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push({
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  });
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

/** Answers 200 with `json`, as DynamoDB answers a call that succeeded. */
export function reply(json: string) {
  return ({ res }: Received) => {
    res.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
    res.end(json);
  };
}

/** Answers with a DynamoDB error: `type` is the short name, e.g. "ThrottlingException". */
export function replyError(status: number, type: string, headers: Record<string, string> = {}) {
  return ({ res }: Received) => {
    res.writeHead(status, { "content-type": "application/x-amz-json-1.0", ...headers });
    res.end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: `${type} (test)` }));
  };
}
