/**
 * The bench's clients of a server under test: one grpc-js channel (unary, server- and
 * client-streaming calls, as any grpc-js application makes them: messages encoded and
 * decoded with the protobuf-es schemas, a deadline on every call) and a Connect client
 * (connect-node, HTTP/1.1, the Connect protocol in the binary format).
 */
import {
  create,
  type DescMessage,
  type DescMethod,
  type DescService,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import { type Client, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { Health, HealthCheckResponse_ServingStatus } from "../src/gen/grpc/health/v1/health_pb.js";

type Method<I extends DescMessage, O extends DescMessage> = DescMethod & { input: I; output: O };

/** Long enough for any stage's call; a real client always sets one, and the server reads it. */
const DEADLINE_MS = 120_000;

const pathOf = (method: DescMethod) => `/${method.parent.typeName}/${method.name}`;
const serializer = (schema: DescMessage) => (m: MessageShape<DescMessage>) => Buffer.from(toBinary(schema, m));
const deserializer = (schema: DescMessage) => (b: Buffer) => fromBinary(schema, b);

export interface GrpcCaller {
  unary<I extends DescMessage, O extends DescMessage>(
    method: Method<I, O>,
    request: MessageInitShape<I>,
  ): Promise<MessageShape<O>>;
  /** Reads the whole stream; `onMessage` may return a promise to read slowly. Resolves to the messages read. */
  serverStream<I extends DescMessage, O extends DescMessage>(
    method: Method<I, O>,
    request: MessageInitShape<I>,
    onMessage?: (message: MessageShape<O>) => Promise<void> | void,
  ): Promise<number>;
  /** Writes every request with backpressure, then awaits the answer. */
  clientStream<I extends DescMessage, O extends DescMessage>(
    method: Method<I, O>,
    requests: readonly MessageInitShape<I>[],
  ): Promise<MessageShape<O>>;
  close(): void;
}

export function grpcCaller(address: string): GrpcCaller {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const deadline = () => Date.now() + DEADLINE_MS;
  return {
    unary(method, request) {
      const message = create(method.input, request);
      return new Promise((resolve, reject) => {
        client.makeUnaryRequest(
          pathOf(method),
          serializer(method.input),
          deserializer(method.output),
          message,
          new grpc.Metadata(),
          { deadline: deadline() },
          (err, value) => (err ? reject(err) : resolve(value as never)),
        );
      });
    },
    async serverStream(method, request, onMessage) {
      const stream = client.makeServerStreamRequest(
        pathOf(method),
        serializer(method.input),
        deserializer(method.output),
        create(method.input, request),
        new grpc.Metadata(),
        { deadline: deadline() },
      );
      let count = 0;
      for await (const message of stream) {
        count++;
        await onMessage?.(message as never);
      }
      return count;
    },
    clientStream(method, requests) {
      return new Promise((resolve, reject) => {
        const call = client.makeClientStreamRequest(
          pathOf(method),
          serializer(method.input),
          deserializer(method.output),
          new grpc.Metadata(),
          { deadline: deadline() },
          (err, value) => (err ? reject(err) : resolve(value as never)),
        );
        let i = 0;
        const feed = () => {
          while (i < requests.length) {
            if (!call.write(create(method.input, requests[i++]!))) {
              call.once("drain", feed);
              return;
            }
          }
          call.end();
        };
        feed();
      });
    },
    close: () => client.close(),
  };
}

/** A Connect client of `service` over HTTP/1.1, binary format. */
export function connectCaller<S extends DescService>(baseUrl: string, service: S): Client<S> {
  return createClient(service, createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true }));
}

/** Resolves when the server's overall health is SERVING; rejects otherwise. */
export async function checkServing(caller: GrpcCaller): Promise<void> {
  const answer = await caller.unary(Health.method.check, { service: "" });
  if (answer.status !== HealthCheckResponse_ServingStatus.SERVING) throw new Error(`health ${answer.status}`);
}
