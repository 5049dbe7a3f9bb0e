/**
 * Certificates made by openssl for one test file, under a temporary directory: a CA, a
 * server certificate for localhost, and client certificates with the subject and SANs
 * asked for. No key is ever committed. `remove()` deletes the directory.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface CertificateSpec {
  /** File stem: `<name>.crt`, `<name>.key`. */
  name: string;
  cn: string;
  /** An openssl subjectAltName value, e.g. "URI:spiffe://shop/checkout" or "DNS:localhost". */
  san?: string;
}

export interface Certificates {
  dir: string;
  /** The PEM bytes of `<file>` (e.g. "ca.crt", "checkout.key"). */
  pem(file: string): Buffer;
  remove(): void;
}

/** A CA ("ca"), "server" for localhost and 127.0.0.1, and each client, all signed by the CA. */
export function makeCertificates(clients: readonly CertificateSpec[], caName = "test-ca"): Certificates {
  const dir = mkdtempSync(join(tmpdir(), "certs-"));
  const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
  ssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "1",
    "-subj",
    `/CN=${caName}`,
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
  );
  const specs = [{ name: "server", cn: "localhost", san: "DNS:localhost,IP:127.0.0.1" }, ...clients];
  for (const { name, cn, san } of specs) {
    ssl(
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      `/CN=${cn}`,
      ...(san ? ["-addext", `subjectAltName=${san}`] : []),
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
    );
    ssl(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "1",
      "-copy_extensions",
      "copy",
      "-out",
      `${name}.crt`,
    );
  }
  return {
    dir,
    pem: (file) => readFileSync(join(dir, file)),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
