/** The engine's launch details that need no JVM: its arguments and the Java version check. */
import { describe, expect, it } from "vitest";
import { dynamoDbLocalArgs, parseJavaMajorVersion } from "../../src/engine/embedded-dynamodb.js";

describe("launch details (pure)", () => {
  it("builds the JVM arguments for memory and disk", () => {
    const base = { jar: "/d/DynamoDBLocal.jar", libDir: "/d/lib", port: 4567 };
    const inMemory = dynamoDbLocalArgs({ ...base, dbPath: undefined });
    expect(inMemory.slice(0, 3)).toEqual(["-Djava.library.path=/d/lib", "-jar", "/d/DynamoDBLocal.jar"]);
    for (const flag of ["-sharedDb", "-disableTelemetry", "-inMemory"]) {
      expect(inMemory).toContain(flag);
    }
    expect(inMemory[inMemory.indexOf("-port") + 1]).toBe("4567");
    // Not the default "*": no web page may talk to the engine.
    expect(inMemory[inMemory.indexOf("-cors") + 1]).toMatch(/\.invalid$/);
    const onDisk = dynamoDbLocalArgs({ ...base, dbPath: "/data/dynamodb" });
    expect(onDisk).not.toContain("-inMemory");
    expect(onDisk[onDisk.indexOf("-dbPath") + 1]).toBe("/data/dynamodb");
  });

  it("reads the Java major version from `java -version`", () => {
    expect(parseJavaMajorVersion('openjdk version "17.0.15" 2025-04-15')).toBe(17);
    expect(parseJavaMajorVersion('java version "1.8.0_392"')).toBe(8);
    expect(parseJavaMajorVersion('openjdk version "21" 2023-09-19')).toBe(21);
    expect(parseJavaMajorVersion("something else")).toBeUndefined();
  });
});
