/**
 * The 53-bit hash of token and composite lookups (DESIGN §4: "hashed token lookups, as HAPI and Blaze do"): one
 * integer column per lookup instead of long system and code strings, so an index entry is small and a lookup is one
 * equality. cyrb53 (public domain, bryc): fast in JavaScript, and its result is a safe integer that both engines
 * store in a BIGINT and that the drivers read back without loss.
 */
export function hash53(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/**
 * The lookup hash of one indexed value: scoped by resource type and parameter so that one equality on the hash
 * column finds exactly the rows of that parameter (the unit separator cannot occur in a type or parameter code).
 */
export function lookupHash(resourceType: string, param: string, value: string): number {
  return hash53(`${resourceType}\u001f${param}\u001f${value}`);
}
