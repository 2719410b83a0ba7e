/** The package ships no types: what the hub uses of it. */
declare module 'bloomfilter' {
  export class BloomFilter {
    /** `bits`: rounded up to a multiple of 32; `hashes`: hash functions per key. */
    constructor(bits: number, hashes: number);
    add(value: string): void;
    test(value: string): boolean;
  }
}
