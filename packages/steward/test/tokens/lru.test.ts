import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LruCache } from "../../src/tokens/lru.js";

describe("LruCache", () => {
  it("never holds more than its capacity, and keeps what was just written", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 50 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 100 }))),
        (capacity, operations) => {
          const cache = new LruCache<number, number>(capacity);
          for (const [write, key] of operations) {
            if (write) {
              cache.set(key, key * 2);
              expect(cache.get(key)).toBe(key * 2);
            } else {
              const value = cache.get(key);
              if (value !== undefined) expect(value).toBe(key * 2);
            }
            expect(cache.size).toBeLessThanOrEqual(capacity);
          }
        },
      ),
    );
  });

  it("keeps entries in use and forgets those left alone", () => {
    const cache = new LruCache<string, number>(4);
    cache.set("hot", 1);
    for (let i = 0; i < 20; i++) {
      cache.set(`cold-${i}`, i);
      expect(cache.get("hot")).toBe(1);
    }
    expect(cache.get("cold-0")).toBeUndefined();
    cache.delete("hot");
    expect(cache.get("hot")).toBeUndefined();
  });
});
