/** What bots import: `import { defineBot } from '../../src/bots/index.js'` (STYLE 7, 10). */
export { defineBot } from './define-bot.js';
export { compileCondition, compilePath, type CompiledPath, type Environment } from './fhirpath.js';
export { referenceKey } from './context.js';
export type { Bot, BotActions, BotContext, BotDefinition, BotInput, BotRule, Finding, RuleSeverity, Upsert } from './types.js';
export type { DocumentationPolicy, Policy, PolicySet } from './policies.js';
