/**
 * A small HTTP proxy between the SDK and DynamoDB Local that injects the faults DynamoDB
 * Local never produces (DESIGN.md): throttling, and ambiguous failures — the request is
 * applied, then the answer is replaced by a 500, so the caller cannot know it succeeded.
 * Faults are chosen per request by operation (X-Amz-Target) and rate; latency holds a
 * request before forwarding it (a slow store).
 */
import { createServer, type IncomingMessage, request, type Server } from "node:http";

export interface FaultRule {
  /** DynamoDB operation, e.g. "TransactWriteItems"; undefined: every operation. */
  operation?: string;
  kind: "throttle" | "ambiguous" | "latency";
  /** For latency: how long to hold the request before forwarding it, ms. */
  delayMs?: number;
  /** Probability per matching request, 0–1. */
  rate: number;
}

export interface FaultProxy {
  endpoint: string;
  rules: FaultRule[];
  /** How many faults of each kind were injected. */
  injected: { throttle: number; ambiguous: number };
  close(): Promise<void>;
}

const JSON_TYPE = "application/x-amz-json-1.0";

function fault(res: import("node:http").ServerResponse, status: number, type: string, message: string) {
  const body = JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message });
  res.writeHead(status, {
    "content-type": JSON_TYPE,
    "content-length": Buffer.byteLength(body),
    "x-amzn-requestid": "fault-proxy",
  });
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export async function startFaultProxy(target: string, rules: FaultRule[] = []): Promise<FaultProxy> {
  const upstream = new URL(target);
  const proxy: FaultProxy = {
    endpoint: "",
    rules,
    injected: { throttle: 0, ambiguous: 0 },
    close: async () => undefined,
  };
  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    const operation = String(req.headers["x-amz-target"] ?? "").split(".")[1];
    const rule = proxy.rules.find(
      (r) => (r.operation === undefined || r.operation === operation) && Math.random() < r.rate,
    );
    if (rule?.kind === "latency") await new Promise((r) => setTimeout(r, rule.delayMs ?? 1000));
    if (res.destroyed || req.socket.destroyed) return;
    if (rule?.kind === "throttle") {
      proxy.injected.throttle++;
      fault(res, 400, "ThrottlingException", "Rate of requests exceeds the allowed throughput.");
      return;
    }
    const forward = request(
      { hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
      (up) => {
        if (rule?.kind === "ambiguous") {
          // Applied upstream; the caller hears only that something went wrong.
          up.resume();
          up.on("end", () => {
            proxy.injected.ambiguous++;
            fault(res, 500, "InternalServerError", "Internal server error");
          });
          return;
        }
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    forward.on("error", () => res.destroy());
    forward.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  proxy.endpoint = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
