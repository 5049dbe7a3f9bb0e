/**
 * SHA-256 and HMAC-SHA256 for the SDK's SigV4 request signing (the client's `sha256`
 * setting), computed by node:crypto as the SDK's own does, with one difference: an HMAC's
 * key is imported into a KeyObject once and kept. SigV4 makes two HMACs per request, one
 * keyed by the secret access key (to name the cached signing key) and one by that day's
 * signing key (the signature); node's createHmac imports raw key bytes on every call, about
 * 26 µs here against 5 µs with a KeyObject, and the two were a tenth of the service's CPU
 * per GetItem (README, Performance). Keys are the secret access key (a string; a handful
 * over a credential rotation) and the signing keys the SDK itself keeps: both are held
 * here no longer than the SDK holds them (a bounded map, a WeakMap).
 * test/store/signing-hash.test.ts checks it against node:crypto and a whole signature
 * against the SDK's.
 */
import { createHash, createHmac, createSecretKey, type Hash, type Hmac, type KeyObject } from "node:crypto";
import type { Checksum, SourceData } from "@smithy/types";

const stringKeys = new Map<string, KeyObject>();
/** Secret access keys kept: more than a process sees between restarts, however often credentials rotate. */
const MAX_STRING_KEYS = 8;
const byteKeys = new WeakMap<object, KeyObject>();

function bytesOf(data: SourceData): Buffer {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

function keyOf(secret: SourceData): KeyObject {
  if (typeof secret === "string") {
    let key = stringKeys.get(secret);
    if (key === undefined) {
      if (stringKeys.size >= MAX_STRING_KEYS) stringKeys.clear();
      key = createSecretKey(bytesOf(secret));
      stringKeys.set(secret, key);
    }
    return key;
  }
  let key = byteKeys.get(secret);
  if (key === undefined) {
    // createSecretKey copies the bytes: a later change to `secret` cannot reach the key.
    key = createSecretKey(bytesOf(secret));
    byteKeys.set(secret, key);
  }
  return key;
}

export class SigningSha256 implements Checksum {
  readonly #key: KeyObject | undefined;
  #hash: Hash | Hmac;

  /** No secret, or an empty string (as the SDK's own): a plain SHA-256. */
  constructor(secret?: SourceData) {
    this.#key = secret === undefined || secret === "" ? undefined : keyOf(secret);
    this.#hash = this.#start();
  }

  #start(): Hash | Hmac {
    return this.#key === undefined ? createHash("sha256") : createHmac("sha256", this.#key);
  }

  update(chunk: SourceData): void {
    this.#hash.update(typeof chunk === "string" ? chunk : bytesOf(chunk));
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.#hash.digest());
  }

  reset(): void {
    this.#hash = this.#start();
  }
}
