import { BloomFilter } from 'bloomfilter';

/** Keys the first layer holds at its false-positive rate; each later layer holds twice as many. */
const FIRST_CAPACITY = 1 << 16;
/** The first layer's false-positive rate; each later one has half its predecessor's, so all together stay under twice this. */
const FIRST_FALSE_POSITIVE_RATE = 0.005;

interface Layer {
  filter: BloomFilter;
  capacity: number;
  count: number;
}

function layer(capacity: number, falsePositiveRate: number): Layer {
  const bits = Math.ceil((-capacity * Math.log(falsePositiveRate)) / Math.LN2 ** 2);
  const hashes = Math.max(1, Math.round(-Math.log2(falsePositiveRate)));
  return { filter: new BloomFilter(bits, hashes), capacity, count: 0 };
}

/**
 * The dedupe keys a store holds, as a scalable Bloom filter (layers of doubling capacity): "no"
 * is certain, "maybe" is checked by a read. The webhook edge asks it before looking a delivery's
 * key up in the inbox's index, so a new delivery, nearly every one, costs no read. Keys are
 * never removed (a key of a deleted row stays a "maybe"), and until `complete()` (the keys
 * already stored have all been added) every answer is "maybe".
 */
export class DedupeFilter {
  private readonly layers: Layer[] = [layer(FIRST_CAPACITY, FIRST_FALSE_POSITIVE_RATE)];
  private completed = false;

  add(key: string): void {
    let last = this.layers[this.layers.length - 1] as Layer;
    if (last.count >= last.capacity) {
      last = layer(last.capacity * 2, FIRST_FALSE_POSITIVE_RATE / 2 ** this.layers.length);
      this.layers.push(last);
    }
    last.filter.add(key);
    last.count++;
  }

  complete(): void {
    this.completed = true;
  }

  mightHave(key: string): boolean {
    if (!this.completed) return true;
    for (const { filter } of this.layers) if (filter.test(key)) return true;
    return false;
  }
}
