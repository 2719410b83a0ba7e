/** Where a sync run is, stored on the run after every page so it resumes there after a crash or a `Retry-After`. */

export type SyncMode = 'full' | 'delta' | 'sweep';

export type SyncPhase =
  | 'code_lists'
  | 'features'
  | 'stories'
  | 'assignments'
  | 'transport_refs'
  | 'transports'
  | 'missing_transports'
  | 'finalize'
  | 'done';

export const PHASES: Record<SyncMode, SyncPhase[]> = {
  full: [
    'code_lists',
    'features',
    'stories',
    'assignments',
    'transport_refs',
    'transports',
    'finalize',
    'done',
  ],
  delta: [
    'features',
    'stories',
    'assignments',
    'transport_refs',
    'transports',
    'missing_transports',
    'finalize',
    'done',
  ],
  sweep: ['features', 'stories', 'finalize', 'done'],
};

export interface SyncProgress {
  phase: SyncPhase;
  /** Page cursor within the phase; for chunked link queries, `<chunk>:<cursor>`. */
  cursor: string | null;
  pages: number;
  items: number;
  /** Delta: what changed, so only their links are asked for. */
  changedFeatures: string[];
  changedStories: string[];
  /** Highest Cloud ALM timestamps seen, the next watermarks. */
  maxFeatureModifiedAt: number | null;
  maxStoryModifiedAt: number | null;
  maxTransportModifiedAt: number | null;
  /** Failures in a row without a page of progress; the run fails past the limit. */
  failures: number;
  /** Set while the run waits for a `Retry-After` to pass. */
  waitingUntil: string | null;
  lastError: string | null;
}

export interface SyncCounts {
  created: number;
  updated: number;
  unchanged: number;
  obsolete: number;
  transitions: number;
  transports: number;
  /** Calls made to Cloud ALM (token requests not counted). */
  calls: number;
}

export function initialProgress(mode: SyncMode): SyncProgress {
  return {
    phase: PHASES[mode][0] as SyncPhase,
    cursor: null,
    pages: 0,
    items: 0,
    changedFeatures: [],
    changedStories: [],
    maxFeatureModifiedAt: null,
    maxStoryModifiedAt: null,
    maxTransportModifiedAt: null,
    failures: 0,
    waitingUntil: null,
    lastError: null,
  };
}

export const initialCounts = (): SyncCounts => ({
  created: 0,
  updated: 0,
  unchanged: 0,
  obsolete: 0,
  transitions: 0,
  transports: 0,
  calls: 0,
});

export function nextPhase(mode: SyncMode, phase: SyncPhase): SyncPhase {
  const phases = PHASES[mode];
  return phases[Math.min(phases.indexOf(phase) + 1, phases.length - 1)] as SyncPhase;
}

export const maxOf = (current: number | null, values: number[]): number | null =>
  values.length === 0 ? current : Math.max(current ?? 0, ...values);
