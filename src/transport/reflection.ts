/**
 * gRPC server reflection (grpc.reflection.v1 and v1alpha) answered from the protobuf-es
 * registry. Not @grpc/reflection: it gets its descriptors through proto-loader, which
 * re-groups files by package and drops their imports, so `buf curl` cannot resolve a
 * service whose file imports another (DESIGN.md). The registry holds the exact
 * FileDescriptorProtos the code was generated from, imports included.
 *
 * Behaviour follows the reference implementation (grpc-go `reflection/serverreflection.go`):
 * an unknown file, symbol or extension is an `error_response` with NOT_FOUND on an open
 * stream; a request with no question ends the stream with INVALID_ARGUMENT.
 * Pinned by test/transport/reflection.test.ts.
 */
import { createFileRegistry, type DescFile, type DescService, type FileRegistry, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { file_google_rpc_error_details } from "../gen/google/rpc/error_details_pb.js";
import { file_grpc_health_v1_health } from "../gen/grpc/health/v1/health_pb.js";
import * as v1 from "../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../gen/grpc/reflection/v1alpha/reflection_pb.js";
import type { ServiceRegistration } from "./registration.js";

/**
 * Answered besides the mounted services' own files: health, reflection itself, and the
 * google.rpc error details our statuses carry, so grpcurl and buf curl can decode
 * ErrorInfo / BadRequest / RetryInfo by reflection alone.
 */
const builtInFiles: readonly DescFile[] = [
  file_grpc_health_v1_health,
  v1.file_grpc_reflection_v1_reflection,
  v1alpha.file_grpc_reflection_v1alpha_reflection,
  file_google_rpc_error_details,
];

/**
 * A FileRegistry of what this server serves: the files declaring `services` and the
 * built-in ones above, each with everything it imports (the google/protobuf well-known
 * types included). A file that is not mounted is not answered, so reflection never lists
 * a service the server would answer UNIMPLEMENTED for as a whole.
 */
export function createServiceRegistry(services: readonly DescService[]): FileRegistry {
  const files = [...new Set([...services.map((s) => s.file), ...builtInFiles])];
  const known = new Map<string, DescFile>();
  const visit = (file: DescFile): void => {
    if (known.has(file.proto.name)) return;
    known.set(file.proto.name, file);
    file.dependencies.forEach(visit);
  };
  files.forEach(visit);
  // createFileRegistry takes one root FileDescriptorProto (plus a resolver for its imports)
  // or several registries; a DescFile is neither, so: one registry per root, merged.
  return createFileRegistry(...files.map((f) => createFileRegistry(f.proto, (name) => known.get(name))));
}

/** Fully-qualified symbol → the file that declares it, for file_containing_symbol. */
function indexSymbols(registry: FileRegistry): Map<string, DescFile> {
  const symbols = new Map<string, DescFile>();
  for (const file of registry.files) {
    const add = (name: string) => symbols.set(name, file);
    const addEnum = (e: DescFile["enums"][number]) => {
      add(e.typeName);
      // Enum values are scoped as siblings of their enum (protobuf scoping rules).
      const scope = e.typeName.slice(0, e.typeName.length - e.name.length);
      for (const v of e.values) add(scope + v.name);
    };
    const addMessage = (m: DescFile["messages"][number]) => {
      add(m.typeName);
      for (const f of m.fields) add(`${m.typeName}.${f.name}`);
      for (const o of m.oneofs) add(`${m.typeName}.${o.name}`);
      m.nestedMessages.forEach(addMessage);
      m.nestedEnums.forEach(addEnum);
      for (const x of m.nestedExtensions) add(x.typeName);
    };
    file.messages.forEach(addMessage);
    file.enums.forEach(addEnum);
    for (const x of file.extensions) add(x.typeName);
    for (const s of file.services) {
      add(s.typeName);
      for (const m of s.methods) add(`${s.typeName}.${m.name}`);
    }
  }
  return symbols;
}

const encoded = new WeakMap<DescFile, Uint8Array>();
function encodeFile(file: DescFile): Uint8Array {
  let bytes = encoded.get(file);
  if (bytes === undefined) {
    bytes = toBinary(FileDescriptorProtoSchema, file.proto);
    encoded.set(file, bytes);
  }
  return bytes;
}

/**
 * The file first, then everything it imports, each once: a client needs the whole
 * closure to build the schema. grpc-go also skips files already sent on the same stream;
 * we always send the closure (a few KB), which every client accepts.
 */
function withDependencies(file: DescFile): Uint8Array[] {
  const seen = new Set<string>();
  const out: Uint8Array[] = [];
  const visit = (f: DescFile): void => {
    if (seen.has(f.proto.name)) return;
    seen.add(f.proto.name);
    out.push(encodeFile(f));
    f.dependencies.forEach(visit);
  };
  visit(file);
  return out;
}

// The v1 and v1alpha messages have the same shape; the answer is computed once on this
// structural view and handed to the adapter, which builds the versioned message.
type ReflectionRequest = v1.ServerReflectionRequest | v1alpha.ServerReflectionRequest;
type MessageResponse =
  | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: "allExtensionNumbersResponse"; value: { baseTypeName: string; extensionNumber: number[] } }
  | { case: "listServicesResponse"; value: { service: { name: string }[] } }
  | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };

const notFound = (what: string): MessageResponse => ({
  case: "errorResponse",
  value: { errorCode: Code.NotFound, errorMessage: `${what} not found` },
});

/** Answers reflection questions from one registry; shared by both protocol versions. */
export function createReflectionAnswerer(registry: FileRegistry): (request: ReflectionRequest) => MessageResponse {
  const symbols = indexSymbols(registry);
  const services = [...registry]
    .filter((t): t is DescService => t.kind === "service")
    .map((s) => ({ name: s.typeName }));
  return (request) => {
    const q = request.messageRequest;
    switch (q.case) {
      case "listServices":
        return { case: "listServicesResponse", value: { service: services } };
      case "fileByFilename": {
        const file = registry.getFile(q.value);
        return file
          ? { case: "fileDescriptorResponse", value: { fileDescriptorProto: withDependencies(file) } }
          : notFound(`file ${q.value}`);
      }
      case "fileContainingSymbol": {
        const file = symbols.get(q.value);
        return file
          ? { case: "fileDescriptorResponse", value: { fileDescriptorProto: withDependencies(file) } }
          : notFound(`symbol ${q.value}`);
      }
      case "fileContainingExtension": {
        const { containingType, extensionNumber } = q.value;
        const extendee = registry.getMessage(containingType);
        const ext = extendee ? registry.getExtensionFor(extendee, extensionNumber) : undefined;
        return ext
          ? { case: "fileDescriptorResponse", value: { fileDescriptorProto: withDependencies(ext.file) } }
          : notFound(`extension ${extensionNumber} of ${containingType}`);
      }
      case "allExtensionNumbersOfType": {
        if (!registry.getMessage(q.value)) return notFound(`type ${q.value}`);
        const numbers: number[] = [];
        for (const t of registry) if (t.kind === "extension" && t.extendee.typeName === q.value) numbers.push(t.number);
        return { case: "allExtensionNumbersResponse", value: { baseTypeName: q.value, extensionNumber: numbers } };
      }
      case undefined:
        // grpc-go ends the stream here rather than answering an error_response.
        throw new ConnectError("invalid MessageRequest: no question set", Code.InvalidArgument);
    }
  };
}

function reflectionImpl(answer: ReturnType<typeof createReflectionAnswerer>) {
  return {
    async *serverReflectionInfo(requests: AsyncIterable<ReflectionRequest>) {
      for await (const request of requests) {
        yield { validHost: request.host, originalRequest: request, messageResponse: answer(request) };
      }
    },
  };
}

/**
 * grpc.reflection.v1 and v1alpha ServerReflection as ordinary service registrations, so
 * they go through the same transport adapter (bidi path) as every other service.
 */
export function createReflectionServices(registry: FileRegistry): ServiceRegistration[] {
  const impl = reflectionImpl(createReflectionAnswerer(registry));
  // The impl is written against the structural view above; each version's adapter turns
  // the yielded object into that version's ServerReflectionResponse (create()).
  const asImpl = impl as unknown as Partial<ServiceImpl<DescService>>;
  return [
    { service: v1.ServerReflection, impl: asImpl },
    { service: v1alpha.ServerReflection, impl: asImpl },
  ];
}
