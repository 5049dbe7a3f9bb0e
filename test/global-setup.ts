/**
 * Vitest globalSetup: one in-memory DynamoDB Local for the whole run (a JVM start costs
 * seconds; one per file would dominate the suite), with every table created under the
 * prefix "". Tests reach it with `inject("dynamoEndpoint")` and keep their data apart by
 * unique keys or by their own TABLE_PREFIX.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { TestProject } from "vitest/node";
import { startEmbeddedDynamoDb } from "../src/engine/embedded-dynamodb.js";
import { ensureTables } from "../src/store/tables.js";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const db = await startEmbeddedDynamoDb({});
  const client = new DynamoDBClient({
    endpoint: db.endpoint,
    region: "local",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  try {
    await ensureTables(client, "");
  } catch (err) {
    await db.stop();
    throw err;
  } finally {
    client.destroy();
  }
  project.provide("dynamoEndpoint", db.endpoint);
  return () => db.stop();
}
