/** The Prefer header (R4 http.html#ops): return=minimal|representation|OperationOutcome, handling=strict|lenient. */

export type PreferReturn = 'minimal' | 'representation' | 'OperationOutcome';

export interface Preferences {
  return: PreferReturn;
  handling: 'strict' | 'lenient';
}

export function parsePrefer(header: string | undefined): Preferences {
  const prefs: Preferences = { return: 'representation', handling: 'lenient' };
  if (!header) return prefs;
  for (const part of header.split(/[;,]/)) {
    const [name, value] = part.split('=').map((s) => s.trim().replace(/^"|"$/g, ''));
    if (name === 'return' && (value === 'minimal' || value === 'representation' || value === 'OperationOutcome')) prefs.return = value;
    if (name === 'handling' && (value === 'strict' || value === 'lenient')) prefs.handling = value;
  }
  return prefs;
}
