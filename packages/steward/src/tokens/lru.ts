/**
 * A bounded map that forgets entries not used lately: two generations, the newer taking every
 * write and every hit on an older entry; when it holds half the capacity it becomes the older
 * one and the previous older generation is dropped. A hit on a recent entry is one lookup, with
 * no reordering (deleting and re-inserting a Map entry on every hit was the cost of a cache
 * hit: bench/tokens.bench.ts).
 */
export class LruCache<K, V> {
  private newer = new Map<K, V>();
  private older = new Map<K, V>();
  private readonly generationSize: number;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 2)
      throw new TypeError("capacity must be an integer of at least 2");
    this.generationSize = Math.floor(capacity / 2);
  }

  get(key: K): V | undefined {
    const recent = this.newer.get(key);
    if (recent !== undefined) return recent;
    const value = this.older.get(key);
    if (value !== undefined) this.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    this.older.delete(key);
    this.newer.set(key, value);
    if (this.newer.size >= this.generationSize) {
      this.older = this.newer;
      this.newer = new Map();
    }
  }

  delete(key: K): void {
    this.newer.delete(key);
    this.older.delete(key);
  }

  clear(): void {
    this.newer.clear();
    this.older.clear();
  }

  get size(): number {
    return this.newer.size + this.older.size;
  }
}
