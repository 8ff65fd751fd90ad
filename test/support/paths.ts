/** Every path (list of keys, array indexes as strings) inside a JSON value, but a top-level resourceType. */
export function paths(value: unknown, prefix: string[] = [], out: string[][] = []): string[][] {
  if (value && typeof value === 'object') {
    for (const key of Object.keys(value)) {
      if (prefix.length === 0 && key === 'resourceType') continue;
      out.push([...prefix, key]);
      paths((value as Record<string, unknown>)[key], [...prefix, key], out);
    }
  }
  return out;
}
