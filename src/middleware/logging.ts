/**
 * One JSON log line per RPC: method, code, duration, request id, and the trace id while
 * tracing is on (DESIGN.md Observability).
 */
import { Code } from "@connectrpc/connect";
import type { Logger } from "pino";
import { grpcCodeName } from "./error-mapping.js";
import { traceIdKey } from "./tracing.js";
import type { CallObserver } from "./wrap-service.js";

export function rpcLogging(logger: Logger): CallObserver {
  return ({ service, method, ctx, requestId, principal }) => {
    const started = process.hrtime.bigint();
    return (error) => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      const traceId = ctx.values.get(traceIdKey);
      const line = {
        method: `${service.typeName}/${method.name}`,
        code: grpcCodeName(error?.code),
        duration_ms: Math.round(durationMs * 100) / 100,
        principal,
        ...(requestId !== undefined ? { request_id: requestId } : {}),
        ...(traceId !== undefined ? { trace_id: traceId } : {}),
      };
      if (error === undefined) {
        logger.info(line, "rpc");
      } else if (error.code === Code.Internal || error.code === Code.Unknown) {
        // The cause (never sent to the caller) is logged here, with its stack.
        logger.error({ ...line, err: error.cause ?? error }, "rpc failed");
      } else {
        logger.info({ ...line, message: error.rawMessage }, "rpc");
      }
    };
  };
}
