/** The SigV4 hash the store clients sign with: node:crypto's results, and the SDK's own signatures. */
import { createHash, createHmac } from "node:crypto";
import { Sha256 } from "@smithy/core/checksum";
import { HttpRequest } from "@smithy/core/protocols";
import { SignatureV4 } from "@smithy/signature-v4";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SigningSha256 } from "../../src/store/signing-hash.js";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

describe("SigningSha256", () => {
  it("hashes and HMACs as node:crypto does, for string and byte keys and data, across updates and resets", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.option(fc.oneof(fc.string(), fc.uint8Array({ minLength: 1, maxLength: 80 }))),
        fc.array(fc.oneof(fc.string(), fc.uint8Array({ maxLength: 200 })), { maxLength: 4 }),
        async (secret, chunks) => {
          const ours = new SigningSha256(secret ?? undefined);
          ours.update(new TextEncoder().encode("discarded by reset"));
          ours.reset();
          const node = secret === null || secret === "" ? createHash("sha256") : createHmac("sha256", secret);
          for (const chunk of chunks) {
            ours.update(chunk);
            node.update(chunk);
          }
          expect(hex(await ours.digest())).toBe(node.digest("hex"));
        },
      ),
    );
  });

  it("keeps a byte key as it was when first used", async () => {
    const key = new Uint8Array([1, 2, 3]);
    const first = hex(await hmac(key, "data"));
    key[0] = 9;
    // The SDK never changes a signing key it keeps; if it did, the key would still be the first.
    expect(hex(await hmac(key, "data"))).toBe(first);
  });

  it("gives the SDK's signatures: the same Authorization for the same DynamoDB request", async () => {
    const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
    const signer = (sha256: typeof Sha256 | typeof SigningSha256) =>
      new SignatureV4({ credentials, region: "eu-west-1", service: "dynamodb", sha256 });
    for (let day = 0; day < 3; day++) {
      const signingDate = new Date(Date.UTC(2026, 10, 24 + day, 12, 0, 0));
      const request = () =>
        new HttpRequest({
          method: "POST",
          protocol: "https:",
          hostname: "dynamodb.eu-west-1.amazonaws.com",
          path: "/",
          headers: {
            host: "dynamodb.eu-west-1.amazonaws.com",
            "content-type": "application/x-amz-json-1.0",
            "x-amz-target": "DynamoDB_20120810.GetItem",
          },
          body: JSON.stringify({ TableName: "Inventory", Key: { sku: { S: `sku-${day}` } } }),
        });
      const stock = (await signer(Sha256).sign(request(), { signingDate })) as HttpRequest;
      for (let again = 0; again < 2; again++) {
        const ours = (await signer(SigningSha256).sign(request(), { signingDate })) as HttpRequest;
        expect(ours.headers["authorization"]).toBe(stock.headers["authorization"]);
        expect(ours.headers["x-amz-content-sha256"]).toBe(stock.headers["x-amz-content-sha256"]);
      }
    }
  });
});

function hmac(key: Uint8Array, data: string): Promise<Uint8Array> {
  const h = new SigningSha256(key);
  h.update(new TextEncoder().encode(data));
  return h.digest();
}
