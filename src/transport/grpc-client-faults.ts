/**
 * A grpc-js server interceptor that answers the malformed requests grpc-js refuses itself
 * as the client's fault, INVALID_ARGUMENT, worded as on the HTTP port (request-faults.ts):
 * - a message that does not decompress with its grpc-encoding: grpc-js says INTERNAL
 *   "Failed to decompress message" (server-interceptors.js, decompressMessage);
 * - a grpc-timeout header that does not parse: INTERNAL "Invalid grpc-timeout value";
 * - a unary or server-streaming call with no request message or two: UNIMPLEMENTED
 *   "Received no / a second request message" (server.js);
 * - a body that ends inside a message: grpc-js drops the partial message without a word
 *   (its StreamDecoder keeps it pending; the half-close still arrives), so a client
 *   stream cut short would succeed with its last message silently missing. Refused here
 *   as the HTTP port refuses it (compare grpc/grpc-node#2065, where the maintainer agrees
 *   such a call should fail).
 * Upstream: grpc/grpc-node#2767 collects grpc-js's compression status codes.
 *
 * No handler runs for these calls, nor for one whose message is over the receive limit
 * (RESOURCE_EXHAUSTED from grpc-js), so no observer would see them: they are reported
 * through `onRefused` instead, to get their log line and metric (that refusal too is
 * recognised by grpc-js's wording: test/integration/refusals-observed.int.test.ts fails
 * if it changes). A request stream's handler has already started when its body is
 * refused; see `refusedAfterStart`.
 *
 * grpc-js has no public hook for the first two: its base call sends them to the stream
 * itself (`this.sendStatus`), below every interceptor, and the last needs its decoder's
 * state. So this relies on three grpc-js 1.14 internals, and on nothing else: the first
 * interceptor receives that base call (getServerInterceptingCall); the base call's own
 * failures go through its `sendStatus` method and its listener arrives through its
 * `start` method, both replaced by own properties on the instance; its
 * `decoder.readState` is 0 (NO_DATA) between messages. It must stay the first interceptor
 * of the server (grpc.ts); server credentials that add interceptors would come before it
 * (none are used). Statuses are recognised by grpc-js's wording, so
 * a grpc-js upgrade that rewords them leaves them as grpc-js sends them:
 * test/transport/unreadable-requests.test.ts fails then.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import type { OnRefused } from "./grpc-auth.js";
import { incompleteEnvelope, notOneMessage, undecompressableMessage } from "./request-faults.js";

type Status = Parameters<grpc.ServerInterceptingCallInterface["sendStatus"]>[0];

/**
 * The refusal a status grpc-js's base call sends stands for, when it is one of the
 * client's faults: the ones above, reworded, and a message over the receive limit (or
 * inflating past it), kept as grpc-js words it (server-interceptors.js, stream-decoder.js).
 * Undefined for any other status, which goes out as it is. The limit's response-side
 * twin, "Sent message larger than max", comes after the handler has run and been observed.
 */
function clientRefusal(status: Status, path: string): ConnectError | undefined {
  const details = status.details ?? "";
  if (status.code === grpc.status.INTERNAL && details === "Failed to decompress message") {
    return undecompressableMessage();
  }
  if (status.code === grpc.status.INTERNAL && details.startsWith("Invalid grpc-timeout value")) {
    return new ConnectError(details, Code.InvalidArgument);
  }
  if (status.code === grpc.status.UNIMPLEMENTED && /^Received (no|a second) request message for /.test(details)) {
    return notOneMessage(path.replace(/^\//, ""));
  }
  if (
    status.code === grpc.status.RESOURCE_EXHAUSTED &&
    /^Received message (larger than max|that decompresses to a size larger than)/.test(details)
  ) {
    return new ConnectError(details, Code.ResourceExhausted);
  }
  return undefined;
}

/** `refusal` as the status sent, keeping whatever else `status` carries (its metadata). */
function refusalStatus(refusal: ConnectError, status: Partial<Status> = {}): Status {
  return { ...status, code: refusal.code as number as grpc.status, details: refusal.rawMessage };
}

/** grpc-js's base call, as far as this module reads it. */
interface BaseCall {
  decoder?: { readState?: unknown };
}

/** True when the request body ended inside a message (the decoder holds part of one). */
function endsInsideMessage(call: grpc.ServerInterceptingCallInterface): boolean {
  const state = (call as BaseCall).decoder?.readState;
  return state !== undefined && state !== 0;
}

/**
 * Request-streaming calls refused here after their handler had started (it starts with
 * the call's metadata), by that metadata: the object grpc-js hands on to the handler. The
 * handler is then told of a cancellation, and the adapter (grpc-call.ts) ends its signal
 * with this error instead, so the call is logged and counted with the code the client was
 * sent, once, by the handler's own observers.
 */
export const refusedAfterStart = new WeakMap<grpc.Metadata, ConnectError>();

/**
 * The interceptor. `onRefused` is told of every call it or grpc-js's base call refuses
 * before a handler ran (the statuses above and an over-limit message), so those calls
 * still get their log line and metric as the adapter's own refusals do.
 */
export function clientFaultStatuses(onRefused?: OnRefused): grpc.ServerInterceptor {
  return (method, call) => {
    let metadata: grpc.Metadata | undefined;
    // grpc-js may send a second status after the first (a message that does not
    // decompress, then "no request message" at the half-close); the client sees the first.
    let reported = false;
    const report = (refusal: ConnectError) => {
      if (reported) return;
      reported = true;
      if (method.requestStream && metadata !== undefined) refusedAfterStart.set(metadata, refusal);
      else onRefused?.(method.path, metadata ?? new grpc.Metadata(), undefined, refusal);
    };
    const send = call.sendStatus.bind(call);
    call.sendStatus = (status) => {
      const refusal = clientRefusal(status, method.path);
      if (refusal === undefined) return send(status);
      report(refusal);
      send(refusalStatus(refusal, status));
    };
    // The half-close is checked on the base call's own listener rather than through a
    // grpc.ServerInterceptingCall: that wrapper adds a layer of listener and responder
    // objects, and an empty Metadata, to every call, for one event (README, Performance).
    const start = call.start.bind(call);
    call.start = (listener) =>
      start({
        onReceiveMetadata: (received) => {
          metadata = received;
          listener.onReceiveMetadata(received);
        },
        onReceiveMessage: (message) => listener.onReceiveMessage(message),
        onReceiveHalfClose: () => {
          if (!endsInsideMessage(call)) return listener.onReceiveHalfClose();
          const refusal = incompleteEnvelope();
          report(refusal);
          send(refusalStatus(refusal));
        },
        onCancel: () => listener.onCancel(),
      });
    // grpc-js types an interceptor's result as its class, but chains and drives calls
    // through ServerInterceptingCallInterface only (getServerInterceptingCall).
    return call as grpc.ServerInterceptingCall;
  };
}
