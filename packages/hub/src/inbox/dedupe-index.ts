/** Where a key was seen: in the inbox, or the place of its landed record (see LandingState.place). */
export const IN_INBOX = -1;

const FIRST_CAPACITY = 1 << 16;

/**
 * A delivery's dedupe key as 32 bits (FNV-1a, then murmur3's finalizer to spread the low bits the
 * table indexes by); never 0, which marks an empty slot.
 */
export function fingerprint(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0 || 1;
}

/**
 * The dedupe keys the webhook edge has seen (SQLite): every key landed or in the inbox, as a
 * fingerprint and where it is (a landed record's journal offset, or IN_INBOX). Two typed arrays,
 * open addressing: no object per key for the garbage collector to trace under a burst. A
 * fingerprint says "maybe" (another key may share it, about one in 4 billion per key held); the
 * edge then reads the record or the inbox's dedupe index. No match is certain "no", once
 * `complete()` says every key already stored has been added; before, every key is a "maybe".
 */
export class DedupeIndex {
  private fingerprints = new Uint32Array(FIRST_CAPACITY);
  private places = new Float64Array(FIRST_CAPACITY);
  private count = 0;
  private completed = false;

  get complete(): boolean {
    return this.completed;
  }

  markComplete(): void {
    this.completed = true;
  }

  add(print: number, place: number): void {
    if (2 * (this.count + 1) > this.fingerprints.length) this.grow();
    this.put(print, place);
    this.count++;
  }

  private put(print: number, place: number): void {
    const mask = this.fingerprints.length - 1;
    let slot = print & mask;
    while (this.fingerprints[slot] !== 0) slot = (slot + 1) & mask;
    this.fingerprints[slot] = print;
    this.places[slot] = place;
  }

  private grow(): void {
    const { fingerprints, places } = this;
    this.fingerprints = new Uint32Array(fingerprints.length * 2);
    this.places = new Float64Array(fingerprints.length * 2);
    for (let slot = 0; slot < fingerprints.length; slot++)
      if (fingerprints[slot] !== 0) this.put(fingerprints[slot] as number, places[slot] as number);
  }

  /** The places of the keys with this fingerprint; empty is a certain "no" once complete. */
  placesOf(print: number): number[] {
    const found: number[] = [];
    const mask = this.fingerprints.length - 1;
    for (let slot = print & mask; this.fingerprints[slot] !== 0; slot = (slot + 1) & mask)
      if (this.fingerprints[slot] === print) found.push(this.places[slot] as number);
    return found;
  }
}
