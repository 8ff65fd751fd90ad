/**
 * $bots: GET [base]/$bots lists the bots that run on every write, with their triggers and rules, and the payer
 * policies they read (DESIGN §6), so an integrator sees exactly what runs. The answer is a Parameters resource
 * (R4 parameters.html): one `bot` parameter per bot, one `rule` part per rule, one `policy` parameter per policy.
 */
import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import type { FhirHandler } from '../types.js';
import type { BotRule } from '../../bots/types.js';
import type { Policy } from '../../bots/policies.js';
import { botRunnerOf } from '../../bots/open.js';

/** Its OperationDefinition, profiles/OperationDefinition-bots.json. */
export const BOTS_DEFINITION = 'http://stride-fhir.org/fhir/OperationDefinition/bots';

export const listBots: FhirHandler = async (_req, ctx) => {
  const runner = botRunnerOf(ctx.repo);
  const parameter: ParametersParameter[] = [];
  for (const bot of runner?.list() ?? []) {
    parameter.push({
      name: 'bot',
      part: [
        { name: 'id', valueString: bot.id },
        { name: 'description', valueString: bot.description },
        ...bot.resourceTypes.map((t) => ({ name: 'resourceType', valueCode: t })),
        ...Object.entries(bot.triggers).map(([type, expression]) => ({
          name: 'trigger',
          part: [{ name: 'resourceType', valueCode: type }, { name: 'expression', valueString: expression }],
        })),
        ...bot.rules.map(rulePart),
      ],
    });
  }
  for (const policy of runner?.policies.all ?? []) parameter.push(policyParameter(policy));
  const resource: Parameters = { resourceType: 'Parameters', parameter };
  return { status: 200, resource };
};

function rulePart(rule: BotRule): ParametersParameter {
  const part: ParametersParameter[] = [
    { name: 'id', valueCode: rule.id },
    { name: 'severity', valueCode: rule.severity },
    { name: 'subject', valueCode: rule.subject },
    { name: 'title', valueString: rule.title },
    { name: 'element', valueString: rule.element },
    { name: 'kind', valueCode: rule.expression ? 'fhirpath' : 'computed' },
  ];
  if (rule.expression) part.push({ name: 'expression', valueString: rule.expression });
  part.push({ name: 'fix', valueString: rule.fix }, { name: 'source', valueString: rule.source }, { name: 'reference', valueUri: rule.reference });
  return { name: 'rule', part };
}

function policyParameter(policy: Policy): ParametersParameter {
  return {
    name: 'policy',
    part: [
      { name: 'id', valueCode: policy.id },
      { name: 'name', valueString: policy.name },
      { name: 'default', valueBoolean: policy.default },
      ...policy.match.sourceOfPaymentPrefixes.map((p) => ({ name: 'sourceOfPaymentPrefix', valueString: p })),
      ...policy.match.payerIdentifiers.map((i) => ({ name: 'payerIdentifier', valueIdentifier: { system: i.system, value: i.value } })),
      { name: 'documentation', valueString: JSON.stringify(policy.documentation) },
    ],
  };
}
