/**
 * Server reflection (v1 and v1alpha) answered from the protobuf-es registry, through the
 * grpc-js adapter's bidi path: a grpc-js reflection client, then `buf curl` (which must
 * resolve a service whose file imports others — the reason reflection is ours, DESIGN.md).
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { fromBinary, type MessageShape } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InventoryService } from "../../src/gen/commerce/v1/inventory_service_pb.js";
import * as v1 from "../../src/gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../../src/gen/grpc/reflection/v1alpha/reflection_pb.js";
import { createGrpcServer, type GrpcServer, listenGrpc } from "../../src/transport/grpc.js";
import { createGrpcServiceDefinition } from "../../src/transport/grpc-service-definition.js";
import { createServiceRegistry } from "../../src/transport/reflection.js";
import { serviceRegistration } from "../../src/transport/registration.js";

const inventory: Partial<ServiceImpl<typeof InventoryService>> = {
  getItem(req) {
    return { item: { sku: req.sku, name: "from the fake", quantity: 7n } };
  },
};

const buf = fileURLToPath(new URL("../../node_modules/.bin/buf", import.meta.url));
const run = promisify(execFile);

type Response = MessageShape<typeof v1.ServerReflectionResponseSchema>;
type Request = Omit<MessageShape<typeof v1.ServerReflectionRequestSchema>, "$typeName">;

/**
 * One reflection stream: ask() sends a request and resolves with its answer (answers
 * come in request order). Works for both versions, whose messages have the same shape.
 */
function openReflection(address: string, service: typeof v1.ServerReflection | typeof v1alpha.ServerReflection) {
  const Client = grpc.makeGenericClientConstructor(createGrpcServiceDefinition(service), "ServerReflection");
  const client = new Client(address, grpc.credentials.createInsecure());
  const open = client["serverReflectionInfo"] as (this: grpc.Client) => grpc.ClientDuplexStream<unknown, Response>;
  const call = open.call(client);
  const waiting: Array<(r: Response) => void> = [];
  call.on("data", (r: Response) => waiting.shift()?.(r));
  call.on("error", () => {}); // CANCELLED on close
  return {
    ask(request: Request): Promise<Response> {
      return new Promise((resolve) => {
        waiting.push(resolve);
        call.write(request);
      });
    },
    close() {
      call.end();
      client.close();
    },
  };
}

function files(response: Response) {
  expect(response.messageResponse.case).toBe("fileDescriptorResponse");
  const bytes =
    response.messageResponse.case === "fileDescriptorResponse"
      ? response.messageResponse.value.fileDescriptorProto
      : [];
  return bytes.map((b) => fromBinary(FileDescriptorProtoSchema, b));
}

const fileNames = (response: Response) => files(response).map((f) => f.name);

describe("server reflection", () => {
  let grpcServer: GrpcServer;
  let address: string;

  beforeAll(async () => {
    grpcServer = createGrpcServer({ services: [serviceRegistration(InventoryService, inventory)] });
    const port = await listenGrpc(grpcServer.server, "127.0.0.1", 0);
    address = `127.0.0.1:${port}`;
  });

  afterAll(() => {
    grpcServer?.server.forceShutdown();
  });

  describe.each([
    ["v1", v1.ServerReflection],
    ["v1alpha", v1alpha.ServerReflection],
  ] as const)("grpc.reflection.%s", (_, service) => {
    let reflection: ReturnType<typeof openReflection>;
    beforeAll(() => {
      reflection = openReflection(address, service);
    });
    afterAll(() => reflection?.close());

    it("lists the mounted services, health and reflection, and nothing else", async () => {
      const response = await reflection.ask({ host: "h", messageRequest: { case: "listServices", value: "" } });
      expect(response.validHost).toBe("h");
      expect(response.originalRequest?.messageRequest.case).toBe("listServices");
      expect(response.messageResponse.case).toBe("listServicesResponse");
      const names =
        response.messageResponse.case === "listServicesResponse"
          ? response.messageResponse.value.service.map((s) => s.name)
          : [];
      expect(names.sort()).toEqual(
        [
          "commerce.v1.InventoryService",
          "grpc.health.v1.Health",
          "grpc.reflection.v1.ServerReflection",
          "grpc.reflection.v1alpha.ServerReflection",
        ].sort(),
      );
    });

    it("answers file_containing_symbol with the file and everything it imports", async () => {
      const response = await reflection.ask({
        host: "",
        messageRequest: { case: "fileContainingSymbol", value: "commerce.v1.InventoryService" },
      });
      const [file, ...imports] = files(response);
      expect(file?.name).toBe("commerce/v1/inventory_service.proto");
      expect(imports.map((f) => f.name).sort()).toEqual([
        "commerce/v1/money.proto",
        "google/protobuf/field_mask.proto",
        "google/protobuf/timestamp.proto",
      ]);
      // The exact descriptor, imports kept (what proto-loader-based reflection loses).
      expect(file?.dependency).toEqual([
        "commerce/v1/money.proto",
        "google/protobuf/field_mask.proto",
        "google/protobuf/timestamp.proto",
      ]);
      expect(file?.service[0]?.method.map((m) => m.name)).toContain("GetItem");
    });

    it.each([
      ["a method", "commerce.v1.InventoryService.GetItem", "commerce/v1/inventory_service.proto"],
      ["a message", "commerce.v1.GetItemRequest", "commerce/v1/inventory_service.proto"],
      ["a field", "commerce.v1.GetItemRequest.sku", "commerce/v1/inventory_service.proto"],
      ["an imported message", "commerce.v1.Money", "commerce/v1/money.proto"],
      ["a well-known type", "google.protobuf.Timestamp", "google/protobuf/timestamp.proto"],
      ["a nested enum", "grpc.health.v1.HealthCheckResponse.ServingStatus", "grpc/health/v1/health.proto"],
      ["an enum value", "grpc.health.v1.HealthCheckResponse.SERVING", "grpc/health/v1/health.proto"],
    ])("finds the file of %s", async (_, symbol, file) => {
      const response = await reflection.ask({
        host: "",
        messageRequest: { case: "fileContainingSymbol", value: symbol },
      });
      expect(fileNames(response)[0]).toBe(file);
    });

    it("answers file_by_filename, and NOT_FOUND for unknown files and symbols on the same stream", async () => {
      const byName = await reflection.ask({
        host: "",
        messageRequest: { case: "fileByFilename", value: "commerce/v1/money.proto" },
      });
      expect(fileNames(byName)).toEqual(["commerce/v1/money.proto"]);
      for (const messageRequest of [
        { case: "fileByFilename", value: "nope.proto" },
        { case: "fileContainingSymbol", value: "commerce.v1.Nope" },
        {
          case: "fileContainingExtension",
          value: { containingType: "commerce.v1.GetItemRequest", extensionNumber: 1000 },
        },
        { case: "allExtensionNumbersOfType", value: "commerce.v1.Nope" },
      ] as Request["messageRequest"][]) {
        const response = await reflection.ask({ host: "", messageRequest });
        expect(response.messageResponse.case).toBe("errorResponse");
        expect(response.messageResponse.value).toMatchObject({ errorCode: grpc.status.NOT_FOUND });
      }
    });

    it("lists no extension numbers for a message nobody extends", async () => {
      const response = await reflection.ask({
        host: "",
        messageRequest: { case: "allExtensionNumbersOfType", value: "commerce.v1.GetItemRequest" },
      });
      expect(response.messageResponse.case).toBe("allExtensionNumbersResponse");
      expect(response.messageResponse.value).toMatchObject({
        baseTypeName: "commerce.v1.GetItemRequest",
        extensionNumber: [],
      });
    });
  });

  it("holds the mounted services' files, the built-in ones and their imports, and no others", () => {
    const registry = createServiceRegistry([InventoryService]);
    const names = [...registry.files].map((f) => f.proto.name);
    expect(names).toEqual(
      expect.arrayContaining([
        "commerce/v1/inventory_service.proto",
        "commerce/v1/money.proto",
        "google/protobuf/timestamp.proto",
        "grpc/health/v1/health.proto",
        "grpc/reflection/v1/reflection.proto",
        "grpc/reflection/v1alpha/reflection.proto",
        "google/rpc/error_details.proto",
      ]),
    );
    expect(names).not.toContain("commerce/v1/order_service.proto");
    expect(names).not.toContain("commerce/v1/account_service.proto");
  });

  describe("buf curl", () => {
    const curl = (...args: string[]) =>
      run(buf, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", "--timeout", "20s", ...args], {
        timeout: 30_000,
      });

    it.each(["grpc-v1", "grpc-v1alpha"])("lists methods through reflection (%s)", async (reflectProtocol) => {
      const { stdout } = await curl("--reflect-protocol", reflectProtocol, "--list-methods", `http://${address}`);
      const methods = stdout.split("\n");
      expect(methods).toContain("commerce.v1.InventoryService/GetItem");
      expect(methods.some((m) => m.startsWith("commerce.v1.OrderService/"))).toBe(false);
      expect(methods).toContain("grpc.health.v1.Health/Check");
    });

    it("calls GetItem with a JSON body resolved through reflection", async () => {
      const { stdout } = await curl("-d", '{"sku":"a"}', `http://${address}/commerce.v1.InventoryService/GetItem`);
      expect(JSON.parse(stdout)).toEqual({ item: { sku: "a", name: "from the fake", quantity: "7" } });
    });
  });
});
