/**
 * SMART scopes (SMART App Launch 2.x, scopes-and-launch-context.html): v2 `context/Type.cruds` and the v1 forms
 * `context/Type.read|write|*`. A scope names a context (system: the whole server; patient: one patient's compartment),
 * a resource type or `*`, and permissions. Granular v2 scopes with a query (`?category=...`) are not served.
 */
export const PERMISSIONS = ['c', 'r', 'u', 'd', 's'] as const;
export type Permission = (typeof PERMISSIONS)[number];
export type ScopeContext = 'system' | 'patient';

export interface Scope {
  context: ScopeContext;
  /** A resource type, or `*`. */
  type: string;
  permissions: ReadonlySet<Permission>;
}

/**
 * v1 `read` is v2 `rs`, `write` is `cud`, `*` is `cruds` (SMART App Launch 2.x scopes-and-launch-context.html,
 * "Scopes for requesting FHIR resources": the v1 to v2 mapping).
 */
const V1: Record<string, string> = { read: 'rs', write: 'cud', '*': 'cruds' };
const SCOPE = /^(system|patient|user)\/([A-Za-z]+|\*)\.([a-z*]+)$/;
const V2 = /^c?r?u?d?s?$/;

/** One scope, or undefined for a scope that is not a resource scope Stride serves (openid, launch, a query ...). */
export function parseScope(text: string): Scope | undefined {
  const m = SCOPE.exec(text);
  if (!m || m[1] === 'user') return undefined;
  const letters = V1[m[3]] ?? (V2.test(m[3]) && m[3] !== '' ? m[3] : undefined);
  if (!letters) return undefined;
  return { context: m[1] as ScopeContext, type: m[2], permissions: new Set(letters.split('') as Permission[]) };
}

export function splitScopes(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}

/** Whether `granted` (registered for the client) covers everything `wanted` asks for. */
export function covers(granted: Scope, wanted: Scope): boolean {
  if (granted.context !== wanted.context) return false;
  if (granted.type !== '*' && granted.type !== wanted.type) return false;
  for (const p of wanted.permissions) if (!granted.permissions.has(p)) return false;
  return true;
}

/** The permissions a set of scopes gives, by type (`*` for every type): what each request is checked against. */
export class Grants {
  private readonly byType = new Map<string, Set<Permission>>();

  constructor(readonly scopes: readonly Scope[]) {
    for (const s of scopes) {
      let set = this.byType.get(s.type);
      if (!set) this.byType.set(s.type, (set = new Set()));
      for (const p of s.permissions) set.add(p);
    }
  }

  static parse(text: string): Grants {
    return new Grants(splitScopes(text).map(parseScope).filter((s): s is Scope => s !== undefined));
  }

  allows(type: string, permission: Permission): boolean {
    return this.byType.get(type)?.has(permission) === true || this.byType.get('*')?.has(permission) === true;
  }

  /** Every type, by a `*` scope: what whole-server operations ($export of everything, system history) need. */
  allowsEveryType(permission: Permission): boolean {
    return this.byType.get('*')?.has(permission) === true;
  }

  /** Some permission on some type: enough for what reveals no patient data (the list of bots). */
  get any(): boolean {
    return this.byType.size > 0;
  }
}
