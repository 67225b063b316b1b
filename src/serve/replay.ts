// The delivery ids already acted on, so a replayed delivery (a forge's "Redeliver" button, or a
// captured request sent again) is a no-op. Bounded: the oldest id is forgotten past `limit`.

export class DeliveryLog {
  readonly #seen = new Set<string>();

  constructor(private readonly limit = 1000) {}

  has(id: string): boolean {
    return this.#seen.has(id);
  }

  /** Records `id`; false when it was already there (a replay). */
  add(id: string): boolean {
    if (this.#seen.has(id)) return false;
    this.#seen.add(id);
    // A Set iterates in insertion order: its first value is the oldest.
    if (this.#seen.size > this.limit) this.#seen.delete(this.#seen.values().next().value as string);
    return true;
  }

  get size(): number {
    return this.#seen.size;
  }
}
