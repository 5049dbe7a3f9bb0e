/**
 * The store commerce-admin works on: the server's settings (src/config.ts
 * loadStoreConfig) reach the server's tables.
 *
 * With no DYNAMODB_ENDPOINT / DYNAMODB_MODE the server runs an embedded DynamoDB Local on
 * DATA_DIR. Then commerce-admin uses the engine of the running server if there is one (its
 * lease file, src/engine/engine-lease.ts), and otherwise starts the engine on DATA_DIR
 * itself for the length of the command, so `seed` works before the first `npm start`. It
 * never starts a second engine on files a running server holds.
 */
import type { StoreConfig } from "../config.js";
import { startEmbeddedDynamoDb } from "../engine/embedded-dynamodb.js";
import { findRunningEngine } from "../engine/engine-lease.js";
import { createStoreClient, type StoreClient } from "../store/dynamo.js";

export interface AdminStore {
  readonly client: StoreClient;
  readonly tablePrefix: string;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** One line about where the data is (stderr). */
  note(line: string): void;
}

export async function openAdminStore(config: StoreConfig, options: OpenOptions): Promise<AdminStore> {
  let endpoint: string | undefined;
  let credentials: "local" | "chain" = "chain";
  let stopEngine = async () => {};
  if (config.store.kind === "embedded") {
    const { dataDir } = config.store;
    credentials = "local";
    endpoint = await findRunningEngine(dataDir);
    if (endpoint !== undefined) {
      options.note(`using the running embedded DynamoDB Local on ${dataDir} (${endpoint})`);
    } else {
      const engine = await startEmbeddedDynamoDb({ dataDir });
      options.note(`started DynamoDB Local on ${dataDir} for this command`);
      endpoint = engine.endpoint;
      stopEngine = () => engine.stop();
    }
  } else if (config.store.kind === "endpoint") {
    endpoint = config.store.endpoint;
    credentials = config.store.credentials;
  }
  const client = createStoreClient({
    region: config.awsRegion,
    credentials,
    ...(endpoint === undefined ? {} : { endpoint }),
  });
  return {
    client,
    tablePrefix: config.tablePrefix,
    async close() {
      client.destroy();
      await stopEngine();
    },
  };
}
