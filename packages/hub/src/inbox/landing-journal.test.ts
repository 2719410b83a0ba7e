import {
  appendFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FrameWriter, journalFileOf, type LandedDelivery, LandingJournal } from './landing-journal.js';

const delivery = (n: number, overrides: Partial<LandedDelivery> = {}): LandedDelivery => ({
  id: `0190a6f8-1234-7000-8000-${String(n).padStart(12, '0')}`,
  integrationId: '0190a6f8-1234-7000-8000-0000000000aa',
  dedupeKey: `id:msg_${n}`,
  receivedAt: 1_700_000_000_000 + n,
  headers: '{"webhook-id":"msg"}',
  body: JSON.stringify({ resourceType: 'FEATURE', note: `Grüße ${n} ✓` }),
  selfTest: 0,
  state: null,
  reason: null,
  about: 'FEATURE\u001fFEATURE.UPDATED\u001fx\u001ffeature',
  duplicates: 0,
  ...overrides,
});

function frameOf(deliveries: LandedDelivery[], duplicateOf: string[] = []): Buffer {
  const writer = new FrameWriter();
  for (const { body, ...rest } of deliveries) writer.delivery(rest, Buffer.from(body, 'utf8'));
  for (const id of duplicateOf) writer.duplicate(id);
  return Buffer.from(writer.frame());
}

describe('the landing journal', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });
  const databaseFile = () => {
    dir = mkdtempSync(join(tmpdir(), 'calmhub-journal-'));
    return join(dir, 'calmhub.sqlite');
  };

  it('gives back every record as written, by frame, in order; a reader asking for fewer gets whole frames', () => {
    const file = databaseFile();
    const journal = LandingJournal.open(file, 'NORMAL', 0);
    const first = journal.append(
      frameOf([delivery(1), delivery(2, { state: 'ignored', reason: 'Disabled' })]),
    );
    const second = journal.append(
      frameOf([delivery(3, { selfTest: 1, state: 'processed' })], [delivery(1).id]),
    );
    expect(first).toBe(journal.start);
    expect(second).toBeGreaterThan(first);
    // Private to the hub's user, as the database is.
    expect(statSync(journalFileOf(file)).mode & 0o777).toBe(0o600);

    const all = journal.read(0, Number.POSITIVE_INFINITY);
    expect(all.next).toBe(journal.size);
    expect(all.records).toEqual([
      { kind: 'delivery', offset: expect.any(Number), ...delivery(1) },
      {
        kind: 'delivery',
        offset: expect.any(Number),
        ...delivery(2, { state: 'ignored', reason: 'Disabled' }),
      },
      { kind: 'delivery', offset: expect.any(Number), ...delivery(3, { selfTest: 1, state: 'processed' }) },
      { kind: 'duplicate', offset: expect.any(Number), id: delivery(1).id },
    ]);
    // A record is found again at its offset (what the dedupe index keeps).
    for (const record of all.records) expect(journal.recordAt(record.offset)).toEqual(record);

    const firstFrame = journal.read(0, 1);
    expect(firstFrame.records).toHaveLength(2);
    expect(firstFrame.next).toBe(second);
    expect(journal.read(second, 1).records).toHaveLength(2);
    journal.close();
  });

  it('ends at a frame a crash cut short or that fails its check, cuts it off at open, and appends after it', () => {
    const file = databaseFile();
    const journal = LandingJournal.open(file, 'FULL', 0);
    journal.append(frameOf([delivery(1)]));
    const intact = journal.size;
    journal.close();
    // A frame cut short: what a process killed in the middle of its write leaves.
    const torn = frameOf([delivery(2), delivery(3)]);
    appendFileSync(journalFileOf(file), torn.subarray(0, torn.length - 7));

    const reopened = LandingJournal.open(file, 'NORMAL', 0);
    expect(
      reopened.read(0, Number.POSITIVE_INFINITY, true).records.map((r) => r.kind === 'delivery' && r.id),
    ).toEqual([delivery(1).id]);
    expect(statSync(journalFileOf(file)).size).toBe(intact);
    reopened.append(frameOf([delivery(4)]));
    expect(reopened.read(0, Number.POSITIVE_INFINITY).records).toHaveLength(2);
    reopened.close();

    // A whole frame whose bytes changed on disk: it fails its CRC and ends the journal there.
    const bytes = readFileSync(journalFileOf(file));
    bytes[bytes.length - 3] = (bytes[bytes.length - 3] as number) ^ 0xff;
    writeFileSync(journalFileOf(file), bytes);
    const checked = LandingJournal.open(file, 'NORMAL', 0);
    expect(checked.read(0, Number.POSITIVE_INFINITY, true).records).toHaveLength(1);
    expect(checked.size).toBe(intact);
    checked.close();
  });

  it('does not fail at an offset where no record starts (a place the index kept for a frame never written)', () => {
    const journal = LandingJournal.open(undefined, 'NORMAL', 0);
    journal.append(frameOf([delivery(1), delivery(2)]));
    const records = journal.read(0, 10).records;
    for (let offset = -1; offset < journal.size + 10; offset++)
      expect(() => journal.recordAt(offset)).not.toThrow();
    for (const record of records) expect(journal.recordAt(record.offset)).toEqual(record);
    expect(journal.recordAt(journal.size)).toBeUndefined();
    expect(journal.recordAt(0)).toBeUndefined();
  });

  it('starts a new generation when emptied, and keeps a file it cannot read aside', () => {
    const file = databaseFile();
    const journal = LandingJournal.open(file, 'NORMAL', 6);
    expect(journal.generation).toBe(7);
    journal.append(frameOf([delivery(1)]));
    const end = journal.size;
    // What hub_webhook_landing_moved says decides where a reader starts.
    expect(journal.startOf({ generation: 7, position: end })).toBe(end);
    expect(journal.startOf({ generation: 6, position: end })).toBe(journal.start);
    expect(journal.startOf(undefined)).toBe(journal.start);
    journal.clear();
    expect(journal.generation).toBe(8);
    expect(journal.size).toBe(journal.start);
    journal.close();
    const again = LandingJournal.open(file, 'NORMAL', 6);
    expect(again.generation).toBe(8);
    again.close();

    writeFileSync(journalFileOf(file), 'not a journal at all, but longer than a header');
    const fresh = LandingJournal.open(file, 'NORMAL', 8);
    expect(fresh.generation).toBe(9);
    expect(readdirSync(dir as string).some((name) => name.includes('.landing.unreadable-'))).toBe(true);
    fresh.close();
  });
});
