import { randomUUID } from 'node:crypto';

export type FaultKind = 'status' | 'latency' | 'reset' | 'token-expiry' | 'lost-response';

/** Kinds that end the request (all but latency). */
export type TerminalFaultKind = Exclude<FaultKind, 'latency'>;

/** How a fault is configured (at start or through `PUT/POST /admin/faults`). */
export interface FaultRuleInput {
  /** Glob over the request path; `*` matches anything (`/api/calm-features/v1/*`). */
  path: string;
  /** Only these methods (any when omitted). */
  methods?: string[] | undefined;
  kind: FaultKind;
  /** For `status`: 429, 503, 500... */
  status?: number | undefined;
  /** Share of matching requests that get the fault, 0..1 (default 1). */
  rate?: number | undefined;
  /** `Retry-After` seconds on 429/503 answers (default 1). */
  retryAfterSeconds?: number | undefined;
  /** For `latency`: added delay before the request is handled. */
  latencyMs?: number | undefined;
  /** Stop after firing this many times (unlimited when omitted). */
  limit?: number | undefined;
  /**
   * `even` (default) fires exactly `rate` of the matching requests, spread evenly (every 4th at
   * 0.25), which makes tests reproducible; `random` draws independently per request.
   */
  distribution?: 'even' | 'random' | undefined;
}

export interface FaultRule extends Required<Pick<FaultRuleInput, 'path' | 'kind'>> {
  id: string;
  methods: string[] | null;
  status: number | null;
  rate: number;
  retryAfterSeconds: number;
  latencyMs: number;
  limit: number | null;
  distribution: 'even' | 'random';
  /** Requests that matched the rule so far. */
  matched: number;
  /** Requests the rule was applied to so far. */
  fired: number;
}

/** A rule as persisted: its configuration and id, without the counters. */
export type StoredFaultRule = FaultRuleInput & { id: string };

/** What the HTTP layer does for one request. */
export interface FaultDecision {
  latencyMs: number;
  /**
   * The first firing terminal rule. `lost-response` lets the request run to completion and drops
   * the connection instead of sending the answer; the others end the request before the handler.
   */
  terminal?: { rule: FaultRule; kind: TerminalFaultKind };
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

const KINDS: readonly string[] = ['status', 'latency', 'reset', 'token-expiry', 'lost-response'];

const isInteger = (value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): boolean =>
  typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;

/**
 * What is wrong with a rule, or undefined. Takes `unknown` because rules also come from a JSON
 * file (`--faults`) that no schema has checked: every field's type is verified, not assumed.
 */
export function validateFaultRule(input: unknown): string | undefined {
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    return 'a rule must be a JSON object';
  const rule = input as Record<string, unknown>;
  if (typeof rule.path !== 'string' || !/^[/*]/.test(rule.path))
    return 'path must be a glob starting with / or *';
  if (typeof rule.kind !== 'string' || !KINDS.includes(rule.kind))
    return 'kind must be status, latency, reset, token-expiry or lost-response';
  if (
    rule.methods !== undefined &&
    (!Array.isArray(rule.methods) || rule.methods.some((method) => typeof method !== 'string'))
  )
    return 'methods must be an array of HTTP method names';
  if (rule.kind === 'status' && !isInteger(rule.status, 400, 599))
    return 'status faults need a status 400..599';
  if (rule.kind === 'latency' && !isInteger(rule.latencyMs, 0, 120_000))
    return 'latency faults need latencyMs 0..120000';
  if (rule.rate !== undefined && (typeof rule.rate !== 'number' || !(rule.rate >= 0 && rule.rate <= 1)))
    return 'rate must be between 0 and 1';
  if (rule.retryAfterSeconds !== undefined && !isInteger(rule.retryAfterSeconds, 0))
    return 'retryAfterSeconds must be an integer >= 0';
  if (rule.limit !== undefined && !isInteger(rule.limit, 1)) return 'limit must be an integer >= 1';
  if (rule.distribution !== undefined && rule.distribution !== 'even' && rule.distribution !== 'random')
    return 'distribution must be even or random';
  return undefined;
}

/**
 * Per-route fault injection (off until rules exist). Rules are checked in order: latency rules
 * add up, the first firing terminal rule (status, reset, token expiry) ends the request.
 */
export class FaultInjector {
  private rules: { rule: FaultRule; pattern: RegExp }[] = [];

  constructor(initial: FaultRuleInput[] = []) {
    for (const input of initial) this.add(input);
  }

  list(): FaultRule[] {
    return this.rules.map(({ rule }) => ({ ...rule }));
  }

  /** Adds a rule; `id` keeps a rule's identity when it is restored after a restart. */
  add(input: FaultRuleInput, id: string = randomUUID()): FaultRule {
    const problem = validateFaultRule(input);
    if (problem) throw new Error(problem);
    const rule: FaultRule = {
      id,
      path: input.path,
      kind: input.kind,
      methods: input.methods?.map((method) => method.toUpperCase()) ?? null,
      status: input.kind === 'status' ? (input.status ?? 503) : input.kind === 'token-expiry' ? 401 : null,
      rate: input.rate ?? 1,
      retryAfterSeconds: input.retryAfterSeconds ?? 1,
      latencyMs: input.latencyMs ?? 0,
      limit: input.limit ?? null,
      distribution: input.distribution ?? 'even',
      matched: 0,
      fired: 0,
    };
    this.rules.push({ rule, pattern: globToRegExp(input.path) });
    return { ...rule };
  }

  replace(inputs: FaultRuleInput[]): FaultRule[] {
    for (const input of inputs) {
      const problem = validateFaultRule(input);
      if (problem) throw new Error(problem);
    }
    this.rules = [];
    return inputs.map((input) => this.add(input));
  }

  /** The rules as configured (ids kept, counters left out): what is persisted across restarts. */
  definitions(): StoredFaultRule[] {
    return this.rules.map(({ rule }) => ({
      id: rule.id,
      path: rule.path,
      ...(rule.methods ? { methods: [...rule.methods] } : {}),
      kind: rule.kind,
      ...(rule.kind === 'status' && rule.status !== null ? { status: rule.status } : {}),
      rate: rule.rate,
      retryAfterSeconds: rule.retryAfterSeconds,
      ...(rule.kind === 'latency' ? { latencyMs: rule.latencyMs } : {}),
      ...(rule.limit !== null ? { limit: rule.limit } : {}),
      distribution: rule.distribution,
    }));
  }

  /** Replaces every rule with stored definitions, keeping their ids; counters start at zero. */
  restore(stored: StoredFaultRule[]): FaultRule[] {
    for (const { id: _id, ...input } of stored) {
      const problem = validateFaultRule(input);
      if (problem) throw new Error(problem);
    }
    this.rules = [];
    return stored.map(({ id, ...input }) => this.add(input, id));
  }

  remove(id: string): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter(({ rule }) => rule.id !== id);
    return this.rules.length < before;
  }

  clear(): void {
    this.rules = [];
  }

  decide(method: string, path: string): FaultDecision {
    const decision: FaultDecision = { latencyMs: 0 };
    for (const { rule, pattern } of this.rules) {
      if (rule.methods && !rule.methods.includes(method)) continue;
      if (!pattern.test(path)) continue;
      if (rule.limit !== null && rule.fired >= rule.limit) continue;
      rule.matched++;
      const fires =
        rule.distribution === 'random'
          ? Math.random() < rule.rate
          : Math.floor(rule.matched * rule.rate) > Math.floor((rule.matched - 1) * rule.rate);
      if (!fires) continue;
      rule.fired++;
      if (rule.kind === 'latency') {
        decision.latencyMs += rule.latencyMs;
        continue;
      }
      decision.terminal = { rule, kind: rule.kind };
      break;
    }
    return decision;
  }
}
