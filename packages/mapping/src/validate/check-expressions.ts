import { parseTemplateString } from '../expression/parse.js';
import type { LocatedTemplate, LocatedText, NormalisedMapping, PointerPath } from '../format/types.js';
import { isRecord } from '../json/json-value.js';
import type { IssueCollector } from './issues.js';

/** Checks every expression of a normalised mapping; returns nothing, reports through `issues`. */
export function checkExpressions(mapping: NormalisedMapping, issues: IssueCollector): void {
  const switchNames = new Set(mapping.switches.map((entry) => entry.name));
  const references = new Map<string, Set<string>>();

  for (const entry of mapping.switches) {
    const used = new Set<string>();
    for (const switchCase of entry.cases) checkTemplate(switchCase.result, switchNames, issues, used);
    if (entry.defaultValue) checkTemplate(entry.defaultValue, switchNames, issues, used);
    references.set(entry.name, used);
  }
  reportSwitchCycles(mapping, references, issues);

  if (mapping.request) checkTemplate(mapping.request, switchNames, issues);
  if (mapping.response) checkTemplate(mapping.response, switchNames, issues);
  for (const operation of mapping.operations) {
    if (operation.path) checkText(operation.path, switchNames, issues);
    if (operation.request) checkTemplate(operation.request, switchNames, issues);
    if (operation.response) checkTemplate(operation.response, switchNames, issues);
  }
}

function checkTemplate(
  template: LocatedTemplate,
  switchNames: ReadonlySet<string>,
  issues: IssueCollector,
  usedSwitches?: Set<string>,
): void {
  const visit = (value: unknown, at: PointerPath): void => {
    if (typeof value === 'string') checkText({ text: value, at }, switchNames, issues, usedSwitches);
    else if (Array.isArray(value)) {
      for (let index = 0; index < value.length; index++) visit(value[index], [...at, index]);
    } else if (isRecord(value)) for (const [key, item] of Object.entries(value)) visit(item, [...at, key]);
  };
  visit(template.value, template.at);
}

function checkText(
  located: LocatedText,
  switchNames: ReadonlySet<string>,
  issues: IssueCollector,
  usedSwitches?: Set<string>,
): void {
  const { parts, errors } = parseTemplateString(located.text);
  for (const error of errors) issues.error(located.at, error.message);
  for (const part of parts) {
    if (part.kind !== 'switch') continue;
    usedSwitches?.add(part.switchName);
    if (switchNames.has(part.switchName)) continue;
    const lower = part.switchName.toLowerCase();
    const nearMatch = [...switchNames].find((name) => name.toLowerCase() === lower);
    const known = switchNames.size
      ? `defined switches: ${[...switchNames].join(', ')}`
      : 'the mapping defines no switches';
    issues.error(
      located.at,
      `${part.source}: unknown switch "${part.switchName}"${nearMatch ? ` (did you mean "${nearMatch}"? switch names are case-sensitive)` : ''}; ${known}`,
    );
  }
}

/** A switch whose result depends on itself would recurse forever at evaluation time. */
function reportSwitchCycles(
  mapping: NormalisedMapping,
  references: ReadonlyMap<string, ReadonlySet<string>>,
  issues: IssueCollector,
): void {
  const state = new Map<string, 'visiting' | 'done'>();
  const reported = new Set<string>();
  const visit = (name: string, trail: string[]): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(name)), name];
      const origin = mapping.switches.find((entry) => entry.name === name);
      if (origin && !reported.has(name)) {
        reported.add(name);
        issues.error(origin.at, `switch cycle: ${cycle.join(' → ')}; a switch cannot depend on itself`);
      }
      return;
    }
    state.set(name, 'visiting');
    for (const next of references.get(name) ?? []) if (references.has(next)) visit(next, [...trail, name]);
    state.set(name, 'done');
  };
  for (const name of references.keys()) visit(name, []);
}
