/**
 * The Kubernetes manifests (deploy/) and the Dockerfile read against the code: the env
 * they set is what src/config.ts reads (and passes its validation), the probes and ports
 * are the ports that config makes the service listen on, the grace period outlasts the
 * drain. The variables config.ts reads are found in its source, not in a list kept here.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { loadConfig } from "../../src/config.js";
import { LIVENESS_SERVICE } from "../../src/server.js";

type Doc = { kind: string; metadata: { name: string; labels?: Record<string, string> }; [k: string]: unknown };
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } };
}
interface Probe {
  grpc?: { port: number; service?: string };
  [k: string]: unknown;
}
interface Container {
  name: string;
  ports: { name: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  readinessProbe: Probe;
  livenessProbe: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  securityContext: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
  volumeMounts?: { name: string; mountPath: string }[];
}

const deployDir = path.resolve("deploy");
const docs: Doc[] = readdirSync(deployDir)
  .filter((f) => f.endsWith(".yaml"))
  .flatMap((f) => parseAllDocuments(readFileSync(path.join(deployDir, f), "utf8")).map((d) => d.toJS() as Doc));
const only = (kind: string) => {
  const found = docs.filter((d) => d.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0]!;
};
const deployment = only("Deployment") as Doc & {
  spec: {
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        terminationGracePeriodSeconds: number;
        securityContext: { runAsNonRoot?: boolean; runAsUser?: number };
        containers: Container[];
        volumes?: { name: string; emptyDir?: object; configMap?: { name: string } }[];
      };
    };
  };
};
const pod = deployment.spec.template.spec;
const container = pod.containers[0]!;
const dataOf = (kind: string, name: string) => {
  const doc = docs.find((d) => d.kind === kind && d.metadata.name === name) as
    | (Doc & { data?: Record<string, string>; stringData?: Record<string, string> })
    | undefined;
  return doc === undefined ? undefined : { ...doc.data, ...doc.stringData };
};

/** Every variable the container gets, with its value where the manifests hold it. */
function containerEnv(): Map<string, string | undefined> {
  const env = new Map<string, string | undefined>();
  for (const from of container.envFrom ?? []) {
    const source = from.configMapRef
      ? dataOf("ConfigMap", from.configMapRef.name)
      : dataOf("Secret", from.secretRef!.name);
    expect(source, JSON.stringify(from)).toBeDefined();
    for (const [k, v] of Object.entries(source!)) env.set(k, v);
  }
  for (const v of container.env ?? []) {
    const ref = v.valueFrom?.secretKeyRef ?? v.valueFrom?.configMapKeyRef;
    const kind = v.valueFrom?.secretKeyRef ? "Secret" : "ConfigMap";
    env.set(v.name, ref ? dataOf(kind, ref.name)?.[ref.key] : v.value);
  }
  return env;
}

/**
 * The variables src/config.ts reads, from its source: every name handed to a reader
 * (`str(env, "NAME", …)`, `pemFile(env, "NAME")`, …) or read as `env["NAME"]`.
 */
function configVariables(): Set<string> {
  const source = readFileSync(path.resolve("src/config.ts"), "utf8");
  const names = new Set<string>();
  for (const m of source.matchAll(/\(\s*env\s*,\s*"([A-Z][A-Z0-9_]*)"/g)) names.add(m[1]!);
  for (const m of source.matchAll(/\benv\[\s*"([A-Z][A-Z0-9_]*)"\s*\]/g)) names.add(m[1]!);
  return names;
}

/** The variables loadConfig actually asks for given `env` (a recording proxy). */
function variablesRead(env: Record<string, string>): Set<string> {
  const read = new Set<string>();
  const proxy = new Proxy(env, {
    get(target, key) {
      if (typeof key === "string") read.add(key);
      return target[key as string];
    },
  });
  loadConfig(proxy);
  return read;
}

/** Backticked names in the rows of README's Configuration table. */
function readmeTableVariables(): Set<string> {
  const readme = readFileSync(path.resolve("README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Configuration"));
  const table = section.slice(0, section.indexOf("\n\n", section.indexOf("|")));
  return new Set([...table.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!));
}

describe("config variables, found in src/config.ts", () => {
  it("include everything loadConfig reads on the paths exercised here", () => {
    const scanned = configVariables();
    const paths = [{}, { DYNAMODB_ENDPOINT: "http://127.0.0.1:8000" }, { DYNAMODB_MODE: "aws" }];
    for (const env of paths) {
      for (const name of variablesRead(env)) expect(scanned, `${name} is read but not found`).toContain(name);
    }
    expect(scanned.size).toBeGreaterThan(15);
  });
});

/**
 * The file a mounted ConfigMap puts at `file` inside the container, written to a local
 * temporary path so loadConfig can read it as the container would.
 */
function mountedFile(file: string): string {
  const mount = container.volumeMounts?.find((m) => file.startsWith(`${m.mountPath}/`));
  expect(mount, `${file} is on no volume mount`).toBeDefined();
  const volume = pod.volumes?.find((v) => v.name === mount!.name) as { configMap?: { name: string } } | undefined;
  const data = dataOf("ConfigMap", volume?.configMap?.name ?? "");
  const content = data?.[file.slice(mount!.mountPath.length + 1)];
  expect(content, `${file} is in no ConfigMap`).toBeDefined();
  const local = path.join(mkdtempSync(path.join(tmpdir(), "mounted-")), path.basename(file));
  writeFileSync(local, content!);
  return local;
}

describe("deploy/ manifests", () => {
  const env = containerEnv();
  const asRead = Object.fromEntries([...env].filter(([, v]) => v !== undefined)) as Record<string, string>;
  const config = loadConfig({
    ...asRead,
    ...(asRead["AUTH_POLICY_FILE"] ? { AUTH_POLICY_FILE: mountedFile(asRead["AUTH_POLICY_FILE"]) } : {}),
  });

  it("authenticate callers with the mounted policy, leaving the probes' health service public", () => {
    expect(config.auth.mode).toBe("token");
    expect(config.auth.policy?.principals.length).toBeGreaterThan(0);
    expect(config.auth.policy?.public.matches("grpc.health.v1.Health", "Check")).toBe(true);
  });

  it("set only variables the service reads, each documented in the README's config table", () => {
    const read = configVariables();
    const documented = readmeTableVariables();
    expect(env.size).toBeGreaterThan(0);
    for (const name of env.keys()) {
      expect(read, `${name} is not read by src/config.ts`).toContain(name);
      expect(documented, `${name} is not in README's Configuration table`).toContain(name);
    }
  });

  it("set values the service accepts (loadConfig passes) for AWS DynamoDB, with a shared page-token key", () => {
    expect(config.store).toEqual({ kind: "aws" });
    expect(config.pageTokenSecretIsEphemeral).toBe(false);
    expect(config.ensureTables).toBe(false);
  });

  it("probe grpc.health.v1 at the gRPC port the service listens on: readiness the whole service, liveness the process", () => {
    expect(container.readinessProbe.grpc).toEqual({ port: config.grpcPort });
    expect(container.livenessProbe.grpc).toEqual({ port: config.grpcPort, service: LIVENESS_SERVICE });
    expect(container.startupProbe?.grpc).toEqual({ port: config.grpcPort, service: LIVENESS_SERVICE });
    // The defaults of src/config.ts, which the Dockerfile exposes too.
    expect(config.grpcPort).toBe(loadConfig({}).grpcPort);
  });

  it("name the container ports the service listens on, and the Service targets them by name", () => {
    const ports = Object.fromEntries(container.ports.map((p) => [p.name, p.containerPort]));
    expect(ports).toEqual({ grpc: config.grpcPort, http: config.httpPort, metrics: config.metricsPort });
    const service = only("Service") as Doc & {
      spec: { selector: Record<string, string>; ports: { targetPort: string }[] };
    };
    for (const p of service.spec.ports) expect(Object.keys(ports)).toContain(p.targetPort);
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
  });

  it("give the drain time: the grace period outlasts the preStop pause plus SHUTDOWN_GRACE_MS", () => {
    const pause = container.lifecycle?.preStop?.exec?.command ?? [];
    const pauseMs = pause[0] === "sleep" ? Number(pause[1]) * 1000 : 0;
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(pauseMs + config.shutdownGraceMs);
  });

  it("run non-root on a read-only root filesystem with a writable /tmp, within resource limits", () => {
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    const tmp = container.volumeMounts?.find((m) => m.mountPath === "/tmp");
    expect(pod.volumes?.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined();
    for (const r of ["cpu", "memory"]) {
      expect(container.resources.requests[r], r).toBeDefined();
      expect(container.resources.limits[r], r).toBeDefined();
    }
  });

  it("keep replicas through voluntary disruptions (PodDisruptionBudget on the same pods)", () => {
    const pdb = only("PodDisruptionBudget") as Doc & {
      spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } };
    };
    expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    expect(pdb.spec.minAvailable).toBeLessThan((deployment.spec as unknown as { replicas: number }).replicas);
  });
});

describe("Dockerfile", () => {
  const dockerfile = readFileSync(path.resolve("Dockerfile"), "utf8");
  const defaults = loadConfig({});

  it("runs the pinned Node as a non-root user, exposing the default ports", () => {
    const pkg = JSON.parse(readFileSync(path.resolve("package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    expect(dockerfile).toMatch(
      new RegExp(`^ARG NODE_VERSION=${pkg.dependencies["node"]!.replaceAll(".", "\\.")}$`, "m"),
    );
    const stages = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    const exposed = /^EXPOSE (.+)$/m.exec(dockerfile)![1]!.split(/\s+/).map(Number);
    expect(exposed).toEqual([defaults.grpcPort, defaults.httpPort, defaults.metricsPort]);
  });
});
