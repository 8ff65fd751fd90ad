/** Display text for the references an aging table or a statement groups by: a payer's or clinic's name, a patient's. */
import type { HumanName, Resource } from '@medplum/fhirtypes';
import type { Repository } from '../repo/repository.js';

/** Names are looked up for at most this many groups (a table by patient over a whole practice goes without). */
const MOST = 500;

export function nameOf(resource: Resource | undefined): string | undefined {
  if (!resource) return undefined;
  if ('name' in resource && typeof resource.name === 'string') return resource.name;
  if ('name' in resource && Array.isArray(resource.name)) return humanName(resource.name[0] as HumanName | undefined);
  return undefined;
}

export function humanName(name: HumanName | undefined): string | undefined {
  if (!name) return undefined;
  if (name.text) return name.text;
  const text = [...(name.given ?? []), name.family].filter(Boolean).join(' ');
  return text || undefined;
}

export async function displaysOf(repo: Repository, keys: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const refs = keys.filter((k) => /^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.test(k));
  if (refs.length === 0 || refs.length > MOST) return out;
  const found = await repo.readCurrentMany(refs);
  for (const [key, stored] of found) {
    if (stored.deleted) continue;
    const name = nameOf(JSON.parse(stored.json) as Resource);
    if (name) out.set(key, name);
  }
  if (keys.includes('self-pay')) out.set('self-pay', 'Self-pay');
  return out;
}
