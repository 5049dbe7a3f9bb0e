// Values test/global-setup.ts hands to every test file through `inject()`.
declare module "vitest" {
  export interface ProvidedContext {
    /** `http://127.0.0.1:PORT` of the shared in-memory DynamoDB Local, tables created (prefix ""). */
    dynamoEndpoint: string;
  }
}

// A module, so the block above augments vitest's types instead of replacing them.
export {};
