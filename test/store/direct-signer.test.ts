/**
 * signDirectCall makes the signature the SDK's own signer makes: the same headers, Authorization
 * included, as AwsSdkSigV4Signer over a client signer (request-signer.ts) with the SDK's
 * stock SHA-256, for any request, credentials, clock offset, time and scope.
 */
import { AwsSdkSigV4Signer } from "@aws-sdk/core/httpAuthSchemes";
import { Sha256 } from "@smithy/core/checksum";
import { HttpRequest } from "@smithy/core/protocols";
import type { AuthScheme, AwsCredentialIdentity } from "@smithy/types";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type DirectSigningConfig, signDirectCall } from "../../src/store/direct-signer.js";
import { signerBuiltOnce } from "../../src/store/request-signer.js";

const SDK_SIGNER = new AwsSdkSigV4Signer();

/** What the service's clients send, some headers SigV4 leaves unsigned, and any others. */
const headerName = fc.oneof(
  fc.constantFrom(
    "host",
    "content-type",
    "x-amz-target",
    "user-agent",
    "amz-sdk-invocation-id",
    "amz-sdk-request",
    "content-length",
    "X-Amz-Date",
    "date",
    "Authorization",
    "x-amz-content-sha256",
    "proxy-authorization",
    "sec-fetch-mode",
    "x-amzn-trace-id",
    "Expect",
  ),
  fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/),
);
const headerValue = fc.oneof(fc.string(), fc.stringMatching(/^[ \t]*[a-z0-9=;/. \t]{0,30}[ \t]*$/));
const scheme = fc.option(
  fc.record(
    {
      name: fc.constant("sigv4"),
      signingName: fc.constantFrom("dynamodb", "other"),
      signingRegion: fc.constantFrom("eu-west-1", "us-east-2"),
      properties: fc.constant({}),
    },
    { requiredKeys: ["name", "properties"] },
  ),
  { nil: undefined },
);
const credentials = fc.record(
  {
    accessKeyId: fc.stringMatching(/^[A-Z0-9]{4,20}$/),
    secretAccessKey: fc.string({ minLength: 1, maxLength: 40 }),
    sessionToken: fc.string({ maxLength: 40 }),
  },
  { requiredKeys: ["accessKeyId", "secretAccessKey"] },
);
/** 2020–2030, and clock offsets up to two days either way: signing days and scopes change. */
const instant = fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) });
const offset = fc.integer({ min: -2 * 86_400_000, max: 2 * 86_400_000 });

function request(headers: Record<string, string>, body: string): HttpRequest & { body: string } {
  return new HttpRequest({
    method: "POST",
    protocol: "https:",
    hostname: "dynamodb.eu-west-1.amazonaws.com",
    path: "/",
    headers: { ...headers },
    body,
  }) as HttpRequest & { body: string };
}

/** A client's configuration as signing reads it: the service's own signer setting, stock SHA-256. */
type SdkConfig = DirectSigningConfig & { sha256: typeof Sha256; signer: ReturnType<typeof signerBuiltOnce> };

function clientConfig(identity: () => AwsCredentialIdentity, clockOffset: number, noSkewCorrection = false): SdkConfig {
  const config: SdkConfig = {
    credentials: async () => identity(),
    region: async () => "eu-central-1",
    systemClockOffset: clockOffset,
    disableClockSkewCorrection: async () => noSkewCorrection,
    sha256: Sha256,
    signer: signerBuiltOnce(() => config),
  };
  return config;
}

/** The SDK signer's headers, and what its sign() leaves in the signing properties for its successHandler. */
async function sdkSigning(req: HttpRequest, config: SdkConfig, authScheme: AuthScheme | undefined) {
  const context = { endpointV2: { properties: { authSchemes: authScheme === undefined ? [] : [authScheme] } } };
  const properties: Record<string, unknown> = { config, context };
  const signed = (await SDK_SIGNER.sign(req, { accessKeyId: "", secretAccessKey: "" }, properties)) as HttpRequest;
  // Its errorHandler's own (_preRequestSystemClockOffset) is left out: a direct read's
  // failures are the SDK's to handle, through its own signing.
  const { context: _context, _preRequestSystemClockOffset: _offset, ...forSuccessHandler } = properties;
  return { headers: signed.headers, forSuccessHandler };
}

async function sdkSigned(req: HttpRequest, config: SdkConfig, authScheme: AuthScheme | undefined) {
  return (await sdkSigning(req, config, authScheme)).headers;
}

function swapCase(name: string): string {
  return [...name].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join("");
}

describe("signDirectCall", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["Date"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("signs as AwsSdkSigV4Signer: same headers and signature, over days, scopes, credentials and clock settings", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(headerName, headerValue, { maxKeys: 10 }),
        fc.string({ unit: "binary", maxLength: 300 }),
        credentials,
        offset,
        scheme,
        fc.array(instant, { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        async (headers, body, identity, clockOffset, authScheme, instants, noSkewCorrection) => {
          // One credentials object over several signings: its kept signing key must follow the day.
          const config = clientConfig(() => identity, clockOffset, noSkewCorrection);
          for (const now of instants) {
            vi.setSystemTime(now);
            const scheme = authScheme as AuthScheme | undefined;
            const expected = await sdkSigning(request(headers, body), config, scheme);
            const ours = request(headers, body);
            const signing = await signDirectCall(ours, config, scheme);
            expect(ours.headers).toEqual(expected.headers);
            // What the success handler reads to sample the server's clock, or not to.
            expect(signing).toEqual(expected.forSuccessHandler);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("signs the same with a route's fixed headers given, kept over calls, whatever else the request holds", async () => {
    vi.setSystemTime(Date.UTC(2026, 10, 24, 12));
    const config = clientConfig(() => ({ accessKeyId: "AKID", secretAccessKey: "secret", sessionToken: "token" }), 0);
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(headerName, headerValue, { maxKeys: 6 }),
        fc.array(fc.dictionary(headerName, headerValue, { maxKeys: 6 }), { minLength: 1, maxLength: 3 }),
        fc.string({ maxLength: 100 }),
        fc.boolean(),
        async (fixed, perCall, body, recase) => {
          // One fixed object over several calls, as a route's; a call's own headers may
          // repeat a fixed one with another value, or in another case.
          const [first] = Object.keys(fixed);
          const recased = recase && first !== undefined ? { [swapCase(first)]: "recased" } : {};
          for (const own of perCall) {
            const headers = { ...fixed, ...own, ...recased };
            const expected = await sdkSigned(request(headers, body), config, undefined);
            const ours = request(headers, body);
            await signDirectCall(ours, config, undefined, fixed);
            expect(ours.headers).toEqual(expected);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("signs with the secret the credentials hold now, even when a provider changes it in the same object", async () => {
    vi.setSystemTime(Date.UTC(2026, 10, 24, 12));
    const identity = { accessKeyId: "AKID", secretAccessKey: "first" };
    const config = clientConfig(() => identity, 0);
    const headers = { host: "dynamodb.eu-west-1.amazonaws.com" };
    await signDirectCall(request(headers, "{}"), config, undefined);
    identity.secretAccessKey = "second";
    const ours = request(headers, "{}");
    await signDirectCall(ours, config, undefined);
    expect(ours.headers).toEqual(await sdkSigned(request(headers, "{}"), config, undefined));
  });

  it("signs with the credentials the provider gives now, after a refresh the same day", async () => {
    vi.setSystemTime(Date.UTC(2026, 10, 24, 12));
    let identity: AwsCredentialIdentity = { accessKeyId: "AKIDOLD", secretAccessKey: "old-secret" };
    const config = clientConfig(() => identity, 0);
    const headers = { host: "dynamodb.eu-west-1.amazonaws.com", "x-amz-target": "DynamoDB_20120810.GetItem" };
    for (const next of ["new-secret", "newer-secret"]) {
      const before = request(headers, "{}");
      await signDirectCall(before, config, undefined);
      identity = { accessKeyId: "AKIDNEW", secretAccessKey: next, sessionToken: "token" };
      const after = request(headers, "{}");
      await signDirectCall(after, config, undefined);
      expect(after.headers).toEqual(await sdkSigned(request(headers, "{}"), config, undefined));
      expect(after.headers["authorization"]).not.toBe(before.headers["authorization"]);
    }
  });

  it("refuses credentials without a key, as the SDK's signer does", async () => {
    const config = clientConfig(() => ({ accessKeyId: "AKID" }) as AwsCredentialIdentity, 0);
    const sdk = sdkSigned(request({}, "{}"), config, undefined);
    await expect(sdk).rejects.toThrow("Resolved credential object is not valid");
    await expect(signDirectCall(request({}, "{}"), config, undefined)).rejects.toThrow(
      "Resolved credential object is not valid",
    );
  });
});
