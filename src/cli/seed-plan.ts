/**
 * The demo data `seed` writes, decided up front from a seed number: the same counts and
 * seed give the same items, accounts, transfers and orders, so a re-run writes nothing new
 * (seed.ts). Pure (test/cli/seed-plan.test.ts).
 */
import type { NewAccount, TransferCommand } from "../domain/accounts.js";
import type { NewItem } from "../domain/inventory.js";
import { fromNanos, type Money, NANOS_PER_UNIT } from "../domain/money.js";
import type { Address, NewOrder, OrderStatus } from "../domain/orders.js";

export interface SeedCounts {
  customers: number;
  items: number;
  accounts: number;
}

export interface PlannedOrder {
  order: NewOrder;
  /** Where the order ends up: PENDING as created, then forward (or cancelled). */
  status: OrderStatus;
}

export interface SeedPlan {
  items: NewItem[];
  accounts: NewAccount[];
  transfers: TransferCommand[];
  orders: PlannedOrder[];
}

/**
 * mulberry32: a tiny seeded generator, so the plan is reproducible (Math.random is not
 * seedable). Demo data only: not for anything that must be unpredictable.
 */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ADJECTIVES = ["Walnut", "Brass", "Linen", "Ceramic", "Oak", "Copper", "Wool", "Steel", "Bamboo", "Glass"];
const PRODUCTS = ["desk lamp", "mug", "notebook", "chair", "kettle", "blanket", "shelf", "vase", "clock", "tray"];
/** Sold by the piece at sub-cent prices: exercises the nanos of Money. */
const PIECES = ["M4 hex screw", "M3 washer", "cable tie", "wood dowel", "rivet"];
const FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Tim"];
const LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Hamilton"];
const CITIES: readonly Omit<Address, "street">[] = [
  { city: "Ghent", region: "East Flanders", postalCode: "9000", countryCode: "BE" },
  { city: "Lyon", region: "Auvergne-Rhône-Alpes", postalCode: "69002", countryCode: "FR" },
  { city: "Porto", region: "Porto", postalCode: "4050-001", countryCode: "PT" },
  { city: "Utrecht", region: "Utrecht", postalCode: "3511", countryCode: "NL" },
  { city: "Leipzig", region: "Saxony", postalCode: "04109", countryCode: "DE" },
];
const STREETS = ["Main St", "Station Rd", "Market Sq", "Church Ln", "Harbour Way"];
/** Where orders end up, in proportion: a realistic spread for ListOrdersByStatus. */
const STATUS_SPREAD: readonly OrderStatus[] = [
  "PENDING",
  "PENDING",
  "PENDING",
  "CONFIRMED",
  "CONFIRMED",
  "SHIPPED",
  "SHIPPED",
  "DELIVERED",
  "DELIVERED",
  "CANCELLED",
];

const pad = (n: number) => String(n).padStart(5, "0");
export const seedSku = (i: number) => `SEED-${pad(i + 1)}`;
export const seedAccountId = (i: number) => `acct-${pad(i + 1)}`;
export const seedCustomerId = (i: number) => `cust-${pad(i + 1)}`;

export function seedPlan(counts: SeedCounts, seed = 1): SeedPlan {
  const random = generator(seed);
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;

  const prices: Money[] = [];
  const names: string[] = [];
  for (let i = 0; i < counts.items; i++) {
    const byPiece = i % 10 === 9;
    // Shelf prices end in .00/.49/.95/.99; by-the-piece ones are under a cent, 4 decimals.
    const nanos = byPiece
      ? BigInt(int(5, 99)) * 100_000n
      : BigInt(int(2, 300)) * NANOS_PER_UNIT + BigInt(pick([0, 490_000_000, 950_000_000, 990_000_000]));
    prices.push(fromNanos("EUR", nanos));
    names.push(byPiece ? `${pick(PIECES)} (per piece)` : `${pick(ADJECTIVES)} ${pick(PRODUCTS)}`);
  }

  const ordered = new Array<bigint>(counts.items).fill(0n);
  const orders: PlannedOrder[] = [];
  for (let c = 0; c < counts.customers && counts.items > 0; c++) {
    const customerId = seedCustomerId(c);
    const place = pick(CITIES);
    const address: Address = { street: `${int(1, 200)} ${pick(STREETS)}`, ...place };
    const orderCount = int(1, 3);
    for (let k = 0; k < orderCount; k++) {
      const skus = new Set<number>();
      const lineCount = Math.min(int(1, 3), counts.items);
      while (skus.size < lineCount) skus.add(int(0, counts.items - 1));
      const lines = [...skus].map((i) => {
        const quantity = BigInt(int(1, 3));
        ordered[i]! += quantity;
        return { sku: seedSku(i), quantity };
      });
      orders.push({
        order: { customerId, lines, shippingAddress: address, requestId: `seed-order-${customerId}-${k + 1}` },
        status: pick(STATUS_SPREAD),
      });
    }
  }

  const items: NewItem[] = prices.map((unitPrice, i) => ({
    sku: seedSku(i),
    name: names[i]!,
    unitPrice,
    // Enough for every planned order, and stock left over.
    quantity: ordered[i]! + BigInt(int(50, 2_000)),
  }));

  const balances: bigint[] = [];
  const accounts: NewAccount[] = [];
  for (let i = 0; i < counts.accounts; i++) {
    const currency = i % 5 === 4 ? "USD" : "EUR";
    const cents = BigInt(int(0, 500_000));
    balances.push(cents * 10_000_000n);
    accounts.push({
      accountId: seedAccountId(i),
      owner: `${pick(FIRST)} ${pick(LAST)}`,
      initialBalance: fromNanos(currency, balances[i]!),
      requestId: "",
    });
  }

  // About one transfer per two accounts, between accounts of one currency, never overdrawn.
  const transfers: TransferCommand[] = [];
  for (let t = 0; t < Math.floor(counts.accounts / 2); t++) {
    const from = int(0, counts.accounts - 1);
    const to = int(0, counts.accounts - 1);
    const currency = accounts[from]!.initialBalance.currencyCode;
    if (from === to || accounts[to]!.initialBalance.currencyCode !== currency) continue;
    const cents = BigInt(int(1, 20_000)) * 10_000_000n;
    if (cents > balances[from]!) continue;
    balances[from]! -= cents;
    balances[to]! += cents;
    transfers.push({
      fromAccountId: seedAccountId(from),
      toAccountId: seedAccountId(to),
      amount: fromNanos(currency, cents),
      requestId: `seed-transfer-${t + 1}`,
    });
  }
  return { items, accounts, transfers, orders };
}
