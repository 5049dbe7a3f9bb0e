/**
 * One unary call through grpc-js's generic client, for the calls the typed RpcClient cannot
 * make: raw bytes past any serializer (undecodable requests), other credentials (TLS), a
 * service the harness has no client for (health), a bare server (adapter tests). Rejects
 * with the grpc.ServiceError, so a test sees exactly what grpc-js reports. RpcClient's own
 * unary calls go through it too.
 */
import {
  create,
  type DescMessage,
  type DescMethod,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";

/** grpc-js (de)serializers for a protobuf-es schema. */
export function grpcCodec<T extends DescMessage>(schema: T) {
  return {
    serialize: (value: MessageShape<T>) => Buffer.from(toBinary(schema, value)),
    deserialize: (bytes: Buffer) => fromBinary(schema, bytes),
  };
}

/** The HTTP/2 path grpc-js calls a method by. */
export const grpcPath = (method: DescMethod): string => `/${method.parent.typeName}/${method.name}`;

export interface GrpcUnaryOptions {
  deadline?: Date | number;
  metadata?: grpc.Metadata;
}

/**
 * A client of our own for one call (closed after it), or one the test keeps open. An
 * address alone means plaintext.
 */
export type GrpcTarget = grpc.Client | { address: string; credentials?: grpc.ChannelCredentials };

/** A typed call: the request is built from its init shape, the response decoded. */
export function grpcUnary<I extends DescMessage, O extends DescMessage>(
  target: GrpcTarget,
  method: DescMethod & { input: I; output: O },
  request: MessageInitShape<I>,
  options?: GrpcUnaryOptions,
): Promise<MessageShape<O>>;
/** A raw call: the bytes go out as they are, the response comes back undecoded. */
export function grpcUnary(
  target: GrpcTarget,
  path: string,
  request: Uint8Array,
  options?: GrpcUnaryOptions,
): Promise<Buffer>;
export function grpcUnary(
  target: GrpcTarget,
  method: DescMethod | string,
  request: unknown,
  options: GrpcUnaryOptions = {},
): Promise<unknown> {
  const owned = target instanceof grpc.Client ? undefined : target;
  const client = owned
    ? new grpc.Client(owned.address, owned.credentials ?? grpc.credentials.createInsecure())
    : (target as grpc.Client);
  const raw = (b: Buffer) => b;
  const [path, serialize, deserialize, message] =
    typeof method === "string"
      ? [method, (b: Uint8Array) => Buffer.from(b), raw, request]
      : [
          grpcPath(method),
          grpcCodec(method.input).serialize,
          grpcCodec(method.output).deserialize,
          create(method.input, request as MessageInitShape<DescMessage>),
        ];
  const callOptions: grpc.CallOptions = options.deadline === undefined ? {} : { deadline: options.deadline };
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      path,
      serialize as (value: unknown) => Buffer,
      deserialize as (bytes: Buffer) => unknown,
      message,
      options.metadata ?? new grpc.Metadata(),
      callOptions,
      (err, value) => {
        if (owned) client.close();
        err ? reject(err) : resolve(value);
      },
    );
  });
}
