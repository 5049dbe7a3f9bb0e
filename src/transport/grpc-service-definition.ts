/**
 * Generated service descriptors as grpc-js service definitions: the client's (messages
 * in and out) and the server's (bytes passed through, decoded by the call adapter).
 */
import {
  create,
  type DescMessage,
  type DescMethod,
  type DescService,
  fromBinary,
  type MessageInitShape,
  toBinary,
} from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";

function methodAttributes(method: DescMethod) {
  return {
    path: `/${method.parent.typeName}/${method.name}`,
    requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
    responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
  };
}

const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** A message, or an init object for one, in the binary format. */
export function encode(schema: DescMessage, init: unknown): Buffer {
  return asBuffer(toBinary(schema, create(schema, init as MessageInitShape<DescMessage>)));
}

/**
 * The definition a grpc-js *client* uses: messages (or init objects) in, messages out.
 * Exported for tests and in-process callers; the server uses rawServiceDefinition.
 */
export function createGrpcServiceDefinition(service: DescService): grpc.ServiceDefinition {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    definition[method.localName] = {
      ...methodAttributes(method),
      requestSerialize: (m) => encode(method.input, m),
      requestDeserialize: (b) => fromBinary(method.input, b),
      responseSerialize: (m) => encode(method.output, m),
      responseDeserialize: (b) => fromBinary(method.output, b),
    };
  }
  return definition;
}

/**
 * The server's definition passes bytes through untouched: grpc-js turns an exception in
 * `requestDeserialize` into INTERNAL "Error deserializing request"
 * (server-interceptors.js, decompressAndMaybePush), but bad request bytes are the
 * client's fault, INVALID_ARGUMENT. So the call adapter (grpc-call.ts) decodes and
 * encodes itself, and every failure goes through its one status mapping.
 */
export function rawServiceDefinition(service: DescService): grpc.ServiceDefinition {
  const identity = (b: Buffer) => b;
  const definition: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
  for (const method of service.methods) {
    definition[method.localName] = {
      ...methodAttributes(method),
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    };
  }
  return definition;
}
