/**
 * The auth gate on the gRPC port, as a grpc-js server interceptor: it decides on the
 * request metadata, before the message is even read, so a caller that does not belong
 * never gets a request body buffered or decoded. It covers every service the server
 * mounts, health and reflection included (their openness is the policy's `public` list).
 *
 * The decision reaches the call adapter (grpc-call.ts) keyed by the call's Metadata
 * object, which grpc-js hands from the interceptor's `next(metadata)` to the handler
 * (server.js, the handlers' `onReceiveMetadata`); a call with no decision is refused, so
 * a grpc-js change there fails closed. Pinned by test/integration/auth.int.test.ts.
 */
import type { ConnectError } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { type AuthGate, type Credentials, refusedPrincipal } from "../middleware/auth-gate.js";
import { toConnectError } from "../middleware/error-mapping.js";
import { peerIdentity } from "./peer-identity.js";

export type Admissions = WeakMap<grpc.Metadata, string>;

/** Told of every refused call: its path ("/pkg.Service/Method"), metadata, principal if known, the error. */
export type OnRefused = (
  path: string,
  metadata: grpc.Metadata,
  principal: string | undefined,
  error: ConnectError,
) => void;

function credentialsOf(metadata: grpc.Metadata, call: grpc.ServerInterceptingCallInterface): Credentials {
  const authorization = metadata.get("authorization")[0];
  return {
    authorization: typeof authorization === "string" ? authorization : undefined,
    peerIdentity: peerIdentity(call.getAuthContext().sslPeerCertificate),
  };
}

export function authInterceptor(
  gate: AuthGate,
  admissions: Admissions,
  toStatus: (error: ConnectError) => grpc.StatusObject,
  onRefused: OnRefused,
): grpc.ServerInterceptor {
  return (descriptor, call) => {
    const [, service = "", method = ""] = descriptor.path.split("/");
    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        let principal: string;
        try {
          principal = gate.admit(service, method, credentialsOf(metadata, call));
        } catch (err) {
          const error = toConnectError(err);
          onRefused(descriptor.path, metadata, refusedPrincipal(err), error);
          call.sendStatus(toStatus(error));
          return;
        }
        admissions.set(metadata, principal);
        next(metadata);
      })
      .build();
    return new grpc.ServerInterceptingCall(
      call,
      new grpc.ResponderBuilder().withStart((next) => next(listener)).build(),
    );
  };
}
