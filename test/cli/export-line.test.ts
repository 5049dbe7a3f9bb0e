import { describe, expect, it } from "vitest";
import { formatExportLine, parseExportLine, type RawItem } from "../../src/cli/export-line.js";

describe("export lines", () => {
  const item: RawItem = {
    sku: { S: "SKU-1" },
    // More digits than a double holds: must come back as written.
    price: { N: "123456789012345678.123456789" },
    tags: { SS: ["a", "b"] },
    counts: { NS: ["1", "0.000000001"] },
    blob: { B: new Uint8Array([0, 1, 254, 255]) },
    blobs: { BS: [new Uint8Array([1]), new Uint8Array([2, 3])] },
    nested: { M: { inner: { L: [{ N: "-0.5" }, { NULL: true }, { BOOL: false }, { B: new Uint8Array([9]) }] } } },
  };

  it("round-trips every attribute type exactly, one line naming the table", () => {
    const line = formatExportLine("Inventory", item);
    expect(line.endsWith("\n")).toBe(true);
    expect(line.slice(0, -1)).not.toContain("\n");
    expect(parseExportLine(line)).toEqual({ table: "Inventory", item });
  });

  it("keeps numbers as DynamoDB's strings and binary as base64", () => {
    const json = JSON.parse(formatExportLine("T", item)) as { item: Record<string, unknown> };
    expect(json.item["price"]).toEqual({ N: "123456789012345678.123456789" });
    expect(json.item["blob"]).toEqual({ B: "AAH+/w==" });
  });

  it.each([
    ["[]", /not a JSON object|no "table"/],
    ['{"item":{}}', /no "table" name/],
    ['{"table":"T"}', /no "item" object/],
    ['{"table":"T","item":{"a":{"N":1}}}', /not an attribute value/],
    ['{"table":"T","item":{"a":{"S":"x","N":"1"}}}', /not an attribute value/],
    ['{"table":"T","item":{"a":"plain"}}', /not an attribute value/],
  ])("refuses %s", (text, message) => {
    expect(() => parseExportLine(text)).toThrow(message);
  });
});
