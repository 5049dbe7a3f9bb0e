/**
 * The bench's settings: `--quick` (same stages, smaller sizes, fewer rounds), `--profile`,
 * and `--only=<stage>,...` to run some stages (framework, store, writes, streams, growth).
 */

export const STAGES = ["framework", "store", "writes", "streams", "growth"] as const;
export type StageName = (typeof STAGES)[number];

export interface BenchOptions {
  quick: boolean;
  /** Run the servers under --cpu-prof and summarise where their time went. */
  profile: boolean;
  /** The stages to run (all unless --only). */
  stages: ReadonlySet<StageName>;
  /** Alternating rounds per figure, after one warm-up of each side; at least 3. */
  rounds: number;
  /** Rounds of the full-table scans of the stream stage, each seconds long; at least 3. */
  scanRounds: number;
  /** Rounds of the growth stage's scans (one pass over the three sizes each); at least 3. */
  growthRounds: number;
  /** Each side's closed-loop load per round, ms. */
  unaryMs: number;
  /**
   * Calls to both servers, over both transports, before the framework stage's first
   * round, ms: in a quick run without it, the bare server's CPU per call fell from 290 to
   * 71 µs over the five rounds at 64 in flight, and ours needs about ten seconds of gRPC
   * calls at 64 in flight to reach its steady cost (README, "How it measures"). Longer in
   * a quick run, whose short rounds leave less time to warm before the 64-in-flight ones.
   */
  frameworkWarmUpMs: number;
  /**
   * Reads of both sides before the store path's first round, ms. DynamoDB Local is a JVM
   * that has not yet compiled its read path when the stage starts: without this, a direct
   * GetItem's p50 fell from 3.4 to 1.6 ms over the five rounds of a quick run, and the
   * figures measured that compilation, not the service.
   */
  storeWarmUpMs: number;
  /**
   * Each side's load per round of the write stage's transactions: DynamoDB Local runs about
   * a hundred a second here, so a round needs longer than a read's to count enough calls.
   */
  writesMs: number;
  /**
   * Transactions of both sides (Transfer and CreateOrder) before the write stage's first
   * round, ms. DynamoDB Local compiles its transaction path late: in a scratch run of 1 s
   * windows from its start, its CPU per Transfer fell from 59 to about 8 ms over half a
   * minute, the service's from 6.1 to 2.7 ms, and a quick run's rounds still rose
   * (67 to 123 calls/s) when each side had had 1.2 s of warm-up.
   */
  writesWarmUpMs: number;
  /** Items (and orders) the stream stage scans. */
  scanItems: number;
  /** The three table sizes of the growth stage. */
  growthSizes: readonly [number, number, number];
  /** Orders each side imports per round (ImportOrders vs BatchWriteItem). */
  importOrders: number;
  /** The slow consumer's pause after each message of the memory check, ms. */
  slowConsumerPauseMs: number;
  /** ListOrders page size for the page 1 vs page 100 check. */
  listPageSize: number;
  /** Calls per side per round of the ListOrders check (one at a time). */
  listCalls: number;
}

const USAGE = `usage: npm run bench -- [--quick] [--profile] [--only=${STAGES.join(",")}]`;

function stagesOf(argv: readonly string[]): ReadonlySet<StageName> {
  const only = argv.find((a) => a.startsWith("--only="));
  if (only === undefined) return new Set(STAGES);
  const names = only.slice("--only=".length).split(",");
  for (const name of names) if (!(STAGES as readonly string[]).includes(name)) throw new Error(USAGE);
  return new Set(names as StageName[]);
}

export function parseOptions(argv: readonly string[]): BenchOptions {
  const unknown = argv.filter((a) => a !== "--quick" && a !== "--profile" && !a.startsWith("--only="));
  if (unknown.length > 0) throw new Error(`unknown argument ${unknown[0]}; ${USAGE}`);
  const quick = argv.includes("--quick");
  const profile = argv.includes("--profile");
  const stages = stagesOf(argv);
  return quick
    ? {
        quick,
        profile,
        stages,
        rounds: 5,
        scanRounds: 3,
        // A quick round scans 20,000 items a size (about half a second a side): more
        // rounds than the full run's, so that one busy moment of the machine does not
        // decide a size's median.
        growthRounds: 5,
        unaryMs: 400,
        frameworkWarmUpMs: 12_000,
        storeWarmUpMs: 8_000,
        writesMs: 1_000,
        writesWarmUpMs: 6_000,
        scanItems: 4_000,
        // A scan has a fixed cost (the first pages of every segment, the stream's start and
        // end) that tables much smaller than these would show as growth per item.
        growthSizes: [5_000, 10_000, 20_000],
        // Twice the orders of a quick write round: 1,000 took 0.4 s a side, too short to settle.
        importOrders: 2_000,
        slowConsumerPauseMs: 20,
        listPageSize: 10,
        listCalls: 40,
      }
    : {
        quick,
        profile,
        stages,
        rounds: 5,
        scanRounds: 3,
        growthRounds: 3,
        unaryMs: 1_500,
        frameworkWarmUpMs: 8_000,
        storeWarmUpMs: 20_000,
        writesMs: 3_000,
        writesWarmUpMs: 12_000,
        scanItems: 50_000,
        growthSizes: [25_000, 50_000, 100_000],
        importOrders: 4_000,
        slowConsumerPauseMs: 10,
        listPageSize: 10,
        listCalls: 200,
      };
}
