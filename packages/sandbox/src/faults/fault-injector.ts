import { randomUUID } from 'node:crypto';

export type FaultKind = 'status' | 'latency' | 'reset' | 'token-expiry';

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

/** What the HTTP layer does for one request. */
export interface FaultDecision {
  latencyMs: number;
  terminal?: { rule: FaultRule; kind: 'status' | 'reset' | 'token-expiry' };
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

export function validateFaultRule(input: FaultRuleInput): string | undefined {
  if (typeof input.path !== 'string' || !/^[/*]/.test(input.path))
    return 'path must be a glob starting with / or *';
  if (!['status', 'latency', 'reset', 'token-expiry'].includes(input.kind))
    return 'kind must be status, latency, reset or token-expiry';
  if (input.kind === 'status' && (input.status === undefined || input.status < 400 || input.status > 599))
    return 'status faults need a status 400..599';
  if (
    input.kind === 'latency' &&
    (input.latencyMs === undefined || input.latencyMs < 0 || input.latencyMs > 120_000)
  )
    return 'latency faults need latencyMs 0..120000';
  if (input.rate !== undefined && (input.rate < 0 || input.rate > 1)) return 'rate must be between 0 and 1';
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

  add(input: FaultRuleInput): FaultRule {
    const problem = validateFaultRule(input);
    if (problem) throw new Error(problem);
    const rule: FaultRule = {
      id: randomUUID(),
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
