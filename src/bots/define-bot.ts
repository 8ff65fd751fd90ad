/**
 * `defineBot({...})`: what every bots/<name>/index.ts default-exports (DESIGN §6, STYLE 7). Checks the definition and
 * compiles its trigger once, so that a broken bot fails when it is loaded, at start-up, not on a write.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Bot, BotDefinition } from './types.js';
import { compileCondition } from './fhirpath.js';

const BOT_MARK = Symbol.for('stride.bot');
const ID_PATTERN = /^[a-z0-9][a-z0-9-]*$/;

export function defineBot(definition: BotDefinition): Bot {
  const label = `bot "${definition.id}"`;
  if (!ID_PATTERN.test(definition.id ?? '')) throw new Error(`${label}: id must be lower-case letters, digits and "-"`);
  if (!definition.description) throw new Error(`${label}: description is missing`);
  if (!definition.resourceTypes?.length) throw new Error(`${label}: resourceTypes is empty`);
  if (typeof definition.run !== 'function') throw new Error(`${label}: run is not a function`);
  if (definition.start !== undefined && typeof definition.start !== 'function') throw new Error(`${label}: start is not a function`);
  const rules = definition.rules ?? [];
  const seen = new Set<string>();
  for (const rule of rules) {
    if (seen.has(rule.id)) throw new Error(`${label}: rule id "${rule.id}" is used twice`);
    seen.add(rule.id);
    for (const field of ['title', 'element', 'source', 'reference', 'fix', 'subject'] as const) {
      if (!rule[field]) throw new Error(`${label}: rule "${rule.id}" has no ${field}`);
    }
  }
  const triggers = compileTriggers(definition, label);
  const bot: Bot = {
    ...definition,
    rules,
    triggers: (resource: Resource) => triggers.get(resource.resourceType)?.(resource) ?? false,
  };
  Object.defineProperty(bot, BOT_MARK, { value: true });
  return Object.freeze(bot);
}

/** Resource type -> its compiled trigger condition. */
function compileTriggers(definition: BotDefinition, label: string): Map<string, (resource: Resource) => boolean> {
  const { when, resourceTypes } = definition;
  if (typeof when === 'string') {
    const condition = compileCondition(when, `${label} trigger`);
    return new Map(resourceTypes.map((type) => [type, (r: Resource) => condition(r)]));
  }
  const out = new Map<string, (resource: Resource) => boolean>();
  for (const [type, expression] of Object.entries(when)) {
    if (!resourceTypes.includes(type)) throw new Error(`${label}: a trigger for ${type}, which is not in resourceTypes`);
    const condition = compileCondition(expression, `${label} trigger for ${type}`);
    out.set(type, (r: Resource) => condition(r));
  }
  return out;
}

export function isBot(value: unknown): value is Bot {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BOT_MARK] === true;
}
