/**
 * One SigV4 signer per client (and signing scope) instead of one per request. Left to
 * itself the SDK builds a new SignatureV4 for every request, from a copy of the whole
 * resolved client configuration (@aws-sdk/core, resolveAwsSdkSigV4Config's `signer`).
 * Nothing in a signer belongs to one request: it asks the client's own credentials
 * provider (memoized by the SDK and refreshed before the credentials expire) at every
 * signature, and every `sign` call is given its signing date, region and service. So a
 * signer kept per region and service signs exactly as the SDK's own would
 * (test/store/store-client-reads.test.ts checks the signatures a store client sends).
 */
import { SignatureV4 } from "@smithy/signature-v4";
import type { AuthScheme, AwsCredentialIdentityProvider, ChecksumConstructor, HashConstructor } from "@smithy/types";

/** What a signer needs from its client's resolved configuration. */
export interface SignerSettings {
  credentials: AwsCredentialIdentityProvider;
  region: () => Promise<string>;
  sha256: ChecksumConstructor | HashConstructor;
}

/**
 * The client's `signer` setting. `settings` is read only when a request needs it, by which
 * time the client exists and its configuration (credentials provider included) is resolved.
 */
export function signerBuiltOnce(settings: () => SignerSettings): (authScheme?: AuthScheme) => Promise<SignatureV4> {
  const signers = new Map<string, SignatureV4>();
  return async (authScheme) => {
    const signingRegion = authScheme?.signingRegion ?? (await settings().region());
    const signingService = authScheme?.signingName ?? "dynamodb";
    const scope = `${signingRegion}/${signingService}`;
    let signer = signers.get(scope);
    if (signer === undefined) {
      const { credentials, sha256 } = settings();
      // The SDK's own settings: `uriEscapePath` is its default (signingEscapePath), and
      // `applyChecksum` (x-amz-content-sha256) is left to SignatureV4's default, as the SDK
      // leaves it for DynamoDB.
      signer = new SignatureV4({
        credentials,
        region: signingRegion,
        service: signingService,
        sha256,
        uriEscapePath: true,
      });
      signers.set(scope, signer);
    }
    return signer;
  };
}
