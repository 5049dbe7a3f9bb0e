/**
 * Every connect internal this service relies on, imported here and nowhere else
 * (STYLE.md practice 10). connect marks these `@private` ("does not follow semantic
 * versioning"), or, for the two node adapter helpers, "we may have to make changes to
 * it", so any connect upgrade can change them; checked against @connectrpc/connect and
 * @connectrpc/connect-node 2.2.0. What we use them for, and the tests that break if
 * they change:
 * - setTrailerStatus: the gRPC port's error trailers (grpc-status-details-bin) are the
 *   bytes connect itself would send. test/transport/grpc-adapter.test.ts, "sends a
 *   ConnectError's code, message, metadata and details".
 * - universalRequestFromNodeRequest / universalResponseToNodeResponse: http.ts is
 *   connectNodeAdapter with a hook in front of each handler. Every HTTP test in
 *   test/transport/grpc-adapter.test.ts; http-errors.test.ts pins that the first throws
 *   synchronously for a request without Host.
 * - readAllBytes, createAsyncIterable, codeToHttpStatus, errorToJsonBytes: the
 *   undecodable-binary check in http.ts reads the body and answers a Connect error
 *   itself. grpc-adapter.test.ts, "answers INVALID_ARGUMENT to undecodable binary".
 * - encodeEnvelope, endStreamFlag, endStreamToJson (and the above): http-auth.ts answers
 *   a refused call in the caller's protocol before connect reads the body.
 *   auth.int.test.ts, the HTTP rows of the mode matrix.
 */
export {
  createAsyncIterable,
  encodeEnvelope,
  readAllBytes,
  type UniversalHandler,
  type UniversalServerRequest,
  type UniversalServerResponse,
} from "@connectrpc/connect/protocol";
export {
  codeToHttpStatus,
  endStreamFlag,
  endStreamToJson,
  errorToJsonBytes,
} from "@connectrpc/connect/protocol-connect";
export { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
export { universalRequestFromNodeRequest, universalResponseToNodeResponse } from "@connectrpc/connect-node";
