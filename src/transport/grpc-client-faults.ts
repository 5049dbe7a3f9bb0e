/**
 * A grpc-js server interceptor that answers the malformed requests grpc-js refuses itself
 * as the client's fault, INVALID_ARGUMENT, worded as on the HTTP port (request-faults.ts):
 * - a message that does not decompress with its grpc-encoding: grpc-js says INTERNAL
 *   "Failed to decompress message" (server-interceptors.js, decompressMessage);
 * - a grpc-timeout header that does not parse: INTERNAL "Invalid grpc-timeout value";
 * - a unary or server-streaming call with no request message (or one cut short) or two:
 *   UNIMPLEMENTED "Received no / a second request message" (server.js).
 * Upstream: grpc/grpc-node#2767 collects grpc-js's compression status codes.
 *
 * grpc-js has no public hook for the first two: its base call sends them to the stream
 * itself (`this.sendStatus`), below every interceptor. So this relies on two grpc-js
 * 1.14 internals, and on nothing else: the first interceptor receives that base call
 * (getServerInterceptingCall), and the base call's own failures go through its
 * `sendStatus` method, which an own property on the instance replaces. It must stay the
 * first interceptor of the server (grpc.ts); server credentials that add interceptors
 * would come before it (none are used). Statuses are recognised by grpc-js's wording, so
 * a grpc-js upgrade that rewords them leaves them as grpc-js sends them:
 * test/transport/unreadable-requests.test.ts fails then.
 */
import * as grpc from "@grpc/grpc-js";
import { notOneMessage, undecompressableMessage } from "./request-faults.js";

type Status = Parameters<grpc.ServerInterceptingCallInterface["sendStatus"]>[0];

/** The status to send instead of `status`, or undefined to send it as it is. */
function asClientFault(status: Status, path: string): Status | undefined {
  const details = status.details ?? "";
  const reworded = (code: grpc.status, message: string): Status => ({ ...status, code, details: message });
  if (status.code === grpc.status.INTERNAL && details === "Failed to decompress message") {
    return reworded(grpc.status.INVALID_ARGUMENT, undecompressableMessage().rawMessage);
  }
  if (status.code === grpc.status.INTERNAL && details.startsWith("Invalid grpc-timeout value")) {
    return reworded(grpc.status.INVALID_ARGUMENT, details);
  }
  if (status.code === grpc.status.UNIMPLEMENTED && /^Received (no|a second) request message for /.test(details)) {
    return reworded(grpc.status.INVALID_ARGUMENT, notOneMessage(path.replace(/^\//, "")).rawMessage);
  }
  return undefined;
}

export const clientFaultStatuses: grpc.ServerInterceptor = (method, call) => {
  const send = call.sendStatus.bind(call);
  call.sendStatus = (status) => send(asClientFault(status, method.path) ?? status);
  return new grpc.ServerInterceptingCall(call);
};
