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
 * - readAllBytes, transformSplitEnvelope, encodeEnvelope, compressedFlag, endStreamFlag,
 *   trailerFlag, the three protocols' parseContentType and encoding header names:
 *   request-check.ts reads each request message as connect will, before it does.
 *   test/transport/unreadable-requests.test.ts.
 * - createAsyncIterable, codeToHttpStatus, errorToJsonBytes, encodeEnvelope,
 *   endStreamFlag, endStreamToJson: http-auth.ts answers a refused call in the caller's
 *   protocol before connect reads the body. auth.int.test.ts, the HTTP rows of the mode
 *   matrix.
 */
export {
  compressedFlag,
  createAsyncIterable,
  encodeEnvelope,
  readAllBytes,
  transformSplitEnvelope,
  type UniversalHandler,
  type UniversalServerRequest,
  type UniversalServerResponse,
} from "@connectrpc/connect/protocol";
export {
  codeToHttpStatus,
  endStreamFlag,
  endStreamToJson,
  errorToJsonBytes,
  headerStreamEncoding as headerConnectStreamEncoding,
  headerUnaryEncoding as headerConnectUnaryEncoding,
  parseContentType as parseConnectContentType,
} from "@connectrpc/connect/protocol-connect";
export {
  headerEncoding as headerGrpcEncoding,
  parseContentType as parseGrpcContentType,
  setTrailerStatus,
} from "@connectrpc/connect/protocol-grpc";
export { parseContentType as parseGrpcWebContentType, trailerFlag } from "@connectrpc/connect/protocol-grpc-web";
export { universalRequestFromNodeRequest, universalResponseToNodeResponse } from "@connectrpc/connect-node";
