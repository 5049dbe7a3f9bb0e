/**
 * The identity a client certificate proves, as AUTH_MODE=mtls names principals: the first
 * URI subject alternative name (SPIFFE style, `spiffe://shop/fulfilment`), else the
 * subject CN. Both transports get a tls.PeerCertificate (grpc-js's auth context, the
 * HTTPS socket) of a certificate the TLS handshake already verified against
 * TLS_CLIENT_CA_FILE.
 */
import type { PeerCertificate } from "node:tls";

/**
 * One `subjectaltname` entry: `URI:spiffe://x`, or, since Node 17 escapes them, a value
 * in JSON quotes when it holds a comma or quote (`URI:"spiffe://a,b"`).
 */
const SAN_ENTRY = /(?:^|, )([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)/g;

function uriSans(subjectAltName: string): string[] {
  const uris: string[] = [];
  for (const [, kind, raw] of subjectAltName.matchAll(SAN_ENTRY)) {
    if (kind !== "URI") continue;
    try {
      uris.push(raw!.startsWith('"') ? (JSON.parse(raw!) as string) : raw!);
    } catch {
      // A quoted value that is not valid JSON cannot be trusted to mean one thing: skip it.
    }
  }
  return uris;
}

export function peerIdentity(cert: PeerCertificate | undefined): string | undefined {
  // An empty object stands for "no certificate" in node's getPeerCertificate().
  if (cert === undefined || cert === null || Object.keys(cert).length === 0) return undefined;
  const uri = cert.subjectaltname ? uriSans(cert.subjectaltname)[0] : undefined;
  if (uri !== undefined && uri !== "") return uri;
  const cn: unknown = cert.subject?.CN;
  // Several CNs would make the identity ambiguous; a certificate like that names nobody.
  return typeof cn === "string" && cn !== "" ? cn : undefined;
}
