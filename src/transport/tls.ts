/** TLS material shared by both listeners, and its grpc-js form. */
import * as grpc from "@grpc/grpc-js";

/** PEM key material for a TLS listener (both transports take the same). */
export interface ServerTls {
  key: Buffer;
  cert: Buffer;
  /** CA bundle that client certificates must chain to; set → client certs required (mTLS). */
  clientCa?: Buffer | undefined;
}

/** grpc-js credentials: insecure without TLS, TLS with it, client certs checked with a CA. */
export function grpcCredentials(tls: ServerTls | undefined): grpc.ServerCredentials {
  if (tls === undefined) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(
    tls.clientCa ?? null,
    [{ private_key: tls.key, cert_chain: tls.cert }],
    tls.clientCa !== undefined,
  );
}
