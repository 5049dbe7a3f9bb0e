/**
 * One conditional Put, Update or Delete, sent at most once (callAtMostOnce: a write whose
 * outcome is unknown is reported, not repeated), with its failed condition turned into the
 * domain error it means, decided from the item as it was (ReturnValuesOnConditionCheckFailure).
 * Pure builder + thin send, like dynamodb-toolbox's putItemParams.
 */
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  type DeleteCommandInput,
  PutCommand,
  type PutCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from "@aws-sdk/lib-dynamodb";
import type { Stored } from "./attributes.js";
import { itemAtFailure, type StoreClient, withSignal } from "./dynamo.js";

export type SingleWrite = { Put: PutCommandInput } | { Update: UpdateCommandInput } | { Delete: DeleteCommandInput };

/** The write with ALL_OLD returned when its condition fails. */
export function writeOnceRequest(write: SingleWrite): SingleWrite {
  const onFailure = { ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const };
  if ("Put" in write) return { Put: { ...write.Put, ...onFailure } };
  if ("Update" in write) return { Update: { ...write.Update, ...onFailure } };
  return { Delete: { ...write.Delete, ...onFailure } };
}

/**
 * Sends `write`; resolves to the item's Attributes (what its ReturnValues asked for). A
 * failed condition rejects with `onConditionFailed(old)`, `old` undefined when there was no
 * item; any other failure passes through.
 */
export async function writeOnce(
  client: StoreClient,
  write: SingleWrite,
  onConditionFailed: (old: Stored | undefined) => Error,
  signal: AbortSignal | undefined,
): Promise<Stored | undefined> {
  const request = writeOnceRequest(write);
  try {
    const out = await client.callAtMostOnce((doc) => {
      const options = withSignal(signal);
      if ("Put" in request) return doc.send(new PutCommand(request.Put), options);
      if ("Update" in request) return doc.send(new UpdateCommand(request.Update), options);
      return doc.send(new DeleteCommand(request.Delete), options);
    });
    return out.Attributes;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) throw onConditionFailed(itemAtFailure(err.Item));
    throw err;
  }
}
