import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { crc32 } from 'node:zlib';

/**
 * The landing journal (SQLite only): where the webhook edge stores deliveries before processing
 * moves them into the inbox (see landing.ts). An append-only file next to the database: each
 * batch of deliveries is one frame, written with one system call, and answered once written.
 * That is what a SQLite commit of the batch gave (synchronous=NORMAL writes the WAL without an
 * fsync, so both survive a killed process, and FULL syncs both), at a fraction of the cost: no
 * locks, no pages, no index, the bodies written as received.
 *
 * The file starts with its generation (see JOURNAL_HEADER). A frame: payload length (u32),
 * CRC-32 of the payload (u32), payload (its records). A frame a
 * crash cut short, or one that does not match its CRC, ends the journal when it is opened: no
 * delivery in it was answered. Records (all integers little-endian, strings as u32 length + UTF-8):
 * - delivery: u32 record length, u8 1, id, integration id, dedupe key, f64 received at, headers
 *   (JSON), body (bytes as received), u8 self-test, state ('' = received), reason, about,
 *   u32 duplicates;
 * - duplicate: u32 record length, u8 2, id of the delivery it duplicates.
 */

const FRAME_HEADER = 8;
const DELIVERY = 1;
const DUPLICATE = 2;

export interface LandedDelivery {
  id: string;
  integrationId: string;
  dedupeKey: string;
  receivedAt: number;
  headers: string;
  body: string;
  selfTest: number;
  state: 'processed' | 'ignored' | null;
  reason: string | null;
  about: string;
  duplicates: number;
}

export type JournalRecord =
  | ({ kind: 'delivery'; offset: number } & LandedDelivery)
  | { kind: 'duplicate'; offset: number; id: string };

/** A batch's records, encoded into one frame. */
export class FrameWriter {
  private buffer = Buffer.allocUnsafe(64 * 1024);
  private length = FRAME_HEADER;
  private recordStart = 0;

  get empty(): boolean {
    return this.length === FRAME_HEADER;
  }

  /** The offset, within the frame, the next record starts at. */
  get position(): number {
    return this.length;
  }

  private ensure(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  private u8(value: number): void {
    this.buffer[this.length++] = value;
  }

  private u32(value: number): void {
    this.buffer.writeUInt32LE(value, this.length);
    this.length += 4;
  }

  private text(value: string): void {
    if (value === '') {
      this.u32(0);
      return;
    }
    const start = this.length;
    this.length += 4;
    const written = this.buffer.write(value, this.length, 'utf8');
    this.buffer.writeUInt32LE(written, start);
    this.length += written;
  }

  private begin(kind: number, room: number): void {
    this.ensure(room + 5);
    this.recordStart = this.length;
    this.length += 4;
    this.u8(kind);
  }

  private end(): void {
    this.buffer.writeUInt32LE(this.length - this.recordStart, this.recordStart);
  }

  delivery(d: Omit<LandedDelivery, 'body'>, body: Buffer): void {
    const strings = d.id.length + d.integrationId.length + d.dedupeKey.length + d.headers.length;
    const more = (d.state?.length ?? 0) + (d.reason?.length ?? 0) + d.about.length;
    // UTF-8 takes at most 3 bytes per UTF-16 unit; 4 bytes of length per string.
    this.begin(DELIVERY, 3 * (strings + more) + body.length + 60);
    this.text(d.id);
    this.text(d.integrationId);
    this.text(d.dedupeKey);
    this.buffer.writeDoubleLE(d.receivedAt, this.length);
    this.length += 8;
    this.text(d.headers);
    this.u32(body.length);
    body.copy(this.buffer, this.length);
    this.length += body.length;
    this.u8(d.selfTest);
    this.text(d.state ?? '');
    this.text(d.reason ?? '');
    this.text(d.about);
    this.u32(d.duplicates);
    this.end();
  }

  duplicate(id: string): void {
    this.begin(DUPLICATE, 3 * id.length + 4);
    this.text(id);
    this.end();
  }

  /** The frame, ready to append; the writer is empty again afterwards (the frame is a copy-free view until then). */
  frame(): Buffer {
    const payload = this.buffer.subarray(FRAME_HEADER, this.length);
    this.buffer.writeUInt32LE(payload.length, 0);
    this.buffer.writeUInt32LE(crc32(payload), 4);
    return this.buffer.subarray(0, this.length);
  }

  reset(): void {
    this.length = FRAME_HEADER;
    // A batch of large bodies grew it: not kept for the small ones that follow.
    if (this.buffer.length > 1024 * 1024) this.buffer = Buffer.allocUnsafe(64 * 1024);
  }

  /** The record at `position` of this frame, not yet written. */
  recordAt(position: number): JournalRecord | undefined {
    return readRecord(this.buffer.subarray(0, this.length), position, 0);
  }
}

/**
 * Reads the record at `position` of `bytes`; `base` is the journal offset of `bytes[0]`. Undefined
 * when no whole record is there: a place the dedupe index holds for a frame that could not be
 * written names whatever came later at that offset, maybe not the start of a record.
 */
function readRecord(bytes: Buffer, position: number, base: number): JournalRecord | undefined {
  try {
    return decodeRecord(bytes, position, base);
  } catch {
    return undefined;
  }
}

function decodeRecord(bytes: Buffer, position: number, base: number): JournalRecord | undefined {
  if (position + 5 > bytes.length) return undefined;
  const end = position + bytes.readUInt32LE(position);
  if (end > bytes.length) return undefined;
  let at = position + 5;
  const text = () => {
    const length = bytes.readUInt32LE(at);
    const value = bytes.toString('utf8', at + 4, at + 4 + length);
    at += 4 + length;
    return value;
  };
  const offset = base + position;
  if (bytes[position + 4] === DUPLICATE) return { kind: 'duplicate', offset, id: text() };
  const id = text();
  const integrationId = text();
  const dedupeKey = text();
  const receivedAt = bytes.readDoubleLE(at);
  at += 8;
  const headers = text();
  const body = text();
  const selfTest = bytes[at++] as number;
  const state = text();
  const reason = text();
  const about = text();
  const duplicates = bytes.readUInt32LE(at);
  return {
    kind: 'delivery',
    offset,
    id,
    integrationId,
    dedupeKey,
    receivedAt,
    headers,
    body,
    selfTest,
    state: state === 'processed' || state === 'ignored' ? state : null,
    reason: reason === '' ? null : reason,
    about,
    duplicates,
  };
}

/** Where the bytes are kept: a file, or memory for an in-memory store (tests). */
interface Medium {
  size(): number;
  append(data: Buffer): void;
  read(into: Buffer, position: number): number;
  truncate(size: number): void;
  close(): void;
}

function fileMedium(file: string, sync: boolean, readOnly = false): Medium {
  // O_APPEND: every write lands at the end, whatever a crash left behind.
  const fd = openSync(file, readOnly ? 'r' : 'a+', 0o600);
  return {
    size: () => fstatSync(fd).size,
    append(data) {
      let written = 0;
      while (written < data.length) written += writeSync(fd, data, written, data.length - written);
      if (sync) fdatasyncSync(fd);
    },
    read: (into, position) => readSync(fd, into, 0, into.length, position),
    truncate: (size) => ftruncateSync(fd, size),
    close: () => closeSync(fd),
  };
}

function memoryMedium(): Medium {
  let bytes = Buffer.alloc(0);
  let size = 0;
  return {
    size: () => size,
    append(data) {
      if (size + data.length > bytes.length) {
        const grown = Buffer.alloc(Math.max(2 * bytes.length, size + data.length, 64 * 1024));
        bytes.copy(grown, 0, 0, size);
        bytes = grown;
      }
      data.copy(bytes, size);
      size += data.length;
    },
    read: (into, position) => bytes.copy(into, 0, position, Math.min(size, position + into.length)),
    truncate(to) {
      size = Math.min(size, to);
    },
    close() {},
  };
}

/** The landing journal's file, next to the database file. */
export const journalFileOf = (databaseFile: string) => `${databaseFile}.landing`;

/** Where the journal stands: its generation, and the offset its records have been moved up to. */
export interface MovedUpTo {
  generation: number;
  position: number;
}

/**
 * The journal's first bytes: a mark, and its generation (u32 mark, u32 format, f64 generation).
 * Emptying the journal starts a new generation; hub_webhook_landing_moved holds the generation
 * and offset a move reached, in the move's transaction. An offset of an older generation says the
 * journal was emptied after that move: nothing in the new one has been moved yet. So no stop,
 * wherever it falls, makes a record moved twice, nor skipped.
 */
const JOURNAL_HEADER = 16;
const JOURNAL_MARK = 0x4a4c4843; // "CHLJ"
const JOURNAL_FORMAT = 1;
/** Larger than any record can be (a body is at most 1 MiB, headers far less). */
const MAX_RECORD = 4 * 1024 * 1024;

function journalHeader(generation: number): Buffer {
  const header = Buffer.alloc(JOURNAL_HEADER);
  header.writeUInt32LE(JOURNAL_MARK, 0);
  header.writeUInt32LE(JOURNAL_FORMAT, 4);
  header.writeDoubleLE(generation, 8);
  return header;
}

export class LandingJournal {
  private end: number;
  private current = 0;
  /** Set when a failed write could not be cut off again: no frame may follow it. */
  private broken: Error | undefined;

  private constructor(private readonly medium: Medium) {
    this.end = medium.size();
  }

  /**
   * A file journal next to `databaseFile` (FULL: each frame synced), or one in memory. A journal
   * with no readable header (new, or cut short before its header was whole) starts anew with the
   * generation after `lastGeneration` (hub_webhook_landing_moved's).
   */
  static open(
    databaseFile: string | undefined,
    synchronous: 'NORMAL' | 'FULL',
    lastGeneration: number,
  ): LandingJournal {
    const file = databaseFile ? journalFileOf(databaseFile) : undefined;
    const journal = new LandingJournal(file ? fileMedium(file, synchronous === 'FULL') : memoryMedium());
    const generation = journal.readGeneration();
    if (generation !== undefined) journal.current = generation;
    else if (journal.end < JOURNAL_HEADER) journal.startGeneration(lastGeneration + 1);
    else {
      // Not a journal this hub wrote: kept aside for whoever wants to look, never overwritten.
      journal.close();
      if (file) renameSync(file, `${file}.unreadable-${Date.now()}`);
      return LandingJournal.open(databaseFile, synchronous, lastGeneration);
    }
    return journal;
  }

  /**
   * The journal of `databaseFile` as it is, for another process to read (a test, a bench);
   * undefined when there is none.
   */
  static inspect(databaseFile: string): LandingJournal | undefined {
    const file = journalFileOf(databaseFile);
    if (!existsSync(file)) return undefined;
    const journal = new LandingJournal(fileMedium(file, false, true));
    journal.current = journal.readGeneration() ?? 0;
    return journal;
  }

  private readGeneration(): number | undefined {
    if (this.end < JOURNAL_HEADER) return undefined;
    const header = this.bytesAt(0, JOURNAL_HEADER);
    if (header.readUInt32LE(0) !== JOURNAL_MARK || header.readUInt32LE(4) !== JOURNAL_FORMAT)
      return undefined;
    return header.readDoubleLE(8);
  }

  private startGeneration(generation: number): void {
    this.medium.truncate(0);
    this.end = 0;
    try {
      this.medium.append(journalHeader(generation));
    } catch (error) {
      this.broken = error as Error;
      throw error;
    }
    this.end = JOURNAL_HEADER;
    this.current = generation;
  }

  get generation(): number {
    return this.current;
  }

  /** The offset of the first frame. */
  get start(): number {
    return JOURNAL_HEADER;
  }

  /** Bytes written (the offset the next frame starts at). */
  get size(): number {
    return this.end;
  }

  /** Where a reader starts, given what hub_webhook_landing_moved says (undefined: nothing moved yet). */
  startOf(moved: MovedUpTo | undefined): number {
    return moved && moved.generation === this.current ? Math.min(moved.position, this.end) : JOURNAL_HEADER;
  }

  /** Appends a frame; returns the offset it starts at. Throws when it could not be written. */
  append(frame: Buffer): number {
    if (this.broken) throw this.broken;
    const at = this.end;
    try {
      this.medium.append(frame);
    } catch (error) {
      // Whatever part was written is cut off again, or the next frame would follow a torn one
      // (and be cut off with it at the next start). Should that fail too, nothing more is written.
      try {
        this.medium.truncate(at);
      } catch {
        this.broken = error as Error;
      }
      throw error;
    }
    this.end += frame.length;
    return at;
  }

  private bytesAt(position: number, length: number): Buffer {
    const into = Buffer.allocUnsafe(length);
    const read = this.medium.read(into, position);
    return into.subarray(0, read);
  }

  /** The record at `offset` (an offset `add` was told of), or undefined when no record is there. */
  recordAt(offset: number): JournalRecord | undefined {
    if (offset < JOURNAL_HEADER || offset + 5 > this.end) return undefined;
    const length = this.bytesAt(offset, 4).readUInt32LE(0);
    if (length < 5 || length > MAX_RECORD || offset + length > this.end) return undefined;
    return readRecord(this.bytesAt(offset, length), 0, offset);
  }

  /**
   * The frames from `from` on, until `records` records or the end: their records and the offset
   * after the last frame read. A frame that is cut short or fails its CRC ends the journal there
   * (cut off when `repair`: at open, where nothing after it was answered).
   */
  read(from: number, records: number, repair = false): { records: JournalRecord[]; next: number } {
    const found: JournalRecord[] = [];
    let at = Math.max(from, JOURNAL_HEADER);
    while (at + FRAME_HEADER <= this.end && found.length < records) {
      const header = this.bytesAt(at, FRAME_HEADER);
      const length = header.readUInt32LE(0);
      const payload =
        at + FRAME_HEADER + length <= this.end ? this.bytesAt(at + FRAME_HEADER, length) : undefined;
      if (!payload || payload.length < length || crc32(payload) !== header.readUInt32LE(4)) break;
      for (let position = 0; position < payload.length; ) {
        const record = readRecord(payload, position, at + FRAME_HEADER);
        if (!record) break;
        found.push(record);
        position += payload.readUInt32LE(position);
      }
      at += FRAME_HEADER + length;
    }
    if (repair && at < this.end) {
      this.medium.truncate(at);
      this.end = at;
    }
    return { records: found, next: at };
  }

  /** Empties the journal (everything in it has been moved): a new generation begins. */
  clear(): void {
    this.startGeneration(this.current + 1);
  }

  close(): void {
    this.medium.close();
  }
}

/**
 * The deliveries landed and not yet moved into the inbox, read from another process (a test, a
 * bench): `moved` is what hub_webhook_landing_moved says.
 */
export function landedDeliveries(
  databaseFile: string,
  moved: MovedUpTo | undefined,
): Array<Extract<JournalRecord, { kind: 'delivery' }>> {
  const journal = LandingJournal.inspect(databaseFile);
  if (!journal) return [];
  try {
    const { records } = journal.read(journal.startOf(moved), Number.POSITIVE_INFINITY);
    return records.filter((record) => record.kind === 'delivery');
  } finally {
    journal.close();
  }
}

/** How many bytes of the journal are not yet moved (a cheap "anything left?" for another process). */
export function landedBytes(databaseFile: string, moved: MovedUpTo | undefined): number {
  const journal = LandingJournal.inspect(databaseFile);
  if (!journal) return 0;
  try {
    return journal.size - journal.startOf(moved);
  } finally {
    journal.close();
  }
}
