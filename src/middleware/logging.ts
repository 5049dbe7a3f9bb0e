/**
 * One JSON log line per RPC: method, code, duration, request id, and the trace id while
 * tracing is on (DESIGN.md Observability).
 */
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import type { Logger } from "pino";
import { grpcCodeName } from "./error-mapping.js";
import { traceIdKey } from "./tracing.js";
import type { CallObserver } from "./wrap-service.js";

export function rpcLogging(logger: Logger): CallObserver {
  // One child logger per method, bound to its name: pino serialises a child's bindings
  // once, where a `method` field would be escaped and written again on every line.
  const loggers = new Map<DescMethod, Logger>();
  const loggerOf = (service: DescService, method: DescMethod): Logger => {
    let child = loggers.get(method);
    if (child === undefined) {
      child = logger.child({ method: `${service.typeName}/${method.name}` });
      loggers.set(method, child);
    }
    return child;
  };
  return ({ service, method, ctx, requestId, principal }) => {
    const started = performance.now();
    return (error) => {
      const traceId = ctx.values.get(traceIdKey);
      // pino leaves out fields whose value is undefined.
      const line: RpcLine = {
        code: grpcCodeName(error?.code),
        duration_ms: Math.round((performance.now() - started) * 100) / 100,
        principal,
        request_id: requestId,
        trace_id: traceId,
      };
      const methodLogger = loggerOf(service, method);
      if (error === undefined) {
        methodLogger.info(line, "rpc");
      } else if (error.code === Code.Internal || error.code === Code.Unknown) {
        // The cause (never sent to the caller) is logged here, with its stack.
        line.err = error.cause ?? error;
        methodLogger.error(line, "rpc failed");
      } else {
        line.message = error.rawMessage;
        methodLogger.info(line, "rpc");
      }
    };
  };
}

interface RpcLine {
  code: string;
  duration_ms: number;
  principal: string;
  request_id: string | undefined;
  trace_id: string | undefined;
  message?: string;
  err?: unknown;
}
