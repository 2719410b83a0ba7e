import { randomBytes } from 'node:crypto';

/** A marker unique to one action, carried in what is written so a later read can find it. */
export function newMarker(): string {
  return `[calmhub:${randomBytes(6).toString('hex')}]`;
}

/** The marker of the one external reference of a (feature, story) pair: inserting it twice is a no-op. */
export const referenceMarker = (featureUuid: string, storyId: string): string =>
  `[calmhub:ref:${featureUuid}:${storyId}]`;

/** One comment for a batch: a line per action, each ending in its marker. */
export function commentText(rows: ReadonlyArray<{ text: string; marker: string }>): string {
  return rows.map((row) => `${row.text} ${row.marker}`).join('\n');
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** `2026-11-30 08:05 UTC` */
export function utcMinute(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** `<p>YYYY-MM-DD HH:mm UTC — text [marker]</p>`, escaped. */
export function featureLine(row: { text: string; marker: string; created_at: number }): string {
  return `<p>${utcMinute(row.created_at)} — ${escapeHtml(row.text)} ${escapeHtml(row.marker)}</p>`;
}

/** True when `written` (a comment or a description) carries the marker, raw or HTML-escaped. */
export function carries(written: string | undefined, marker: string): boolean {
  if (!written) return false;
  return written.includes(marker) || written.includes(escapeHtml(marker));
}
