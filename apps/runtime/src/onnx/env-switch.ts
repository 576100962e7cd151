/** An experiment switch's value: undefined when unset, else one of `values`; any other value is an error naming
 *  the variable, so a mistyped switch can't silently leave a GPU comparison measuring the default. */
export function envSwitch<const V extends string>(name: string, values: readonly V[]): V | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  if ((values as readonly string[]).includes(raw)) return raw as V;
  throw new Error(`${name} must be one of ${values.join(', ')} (or unset), got '${raw}'`);
}

/** An experiment variable holding a JSON object: {} when unset; anything else is an error naming the variable and
 *  what it must hold. */
export function envJsonObject(name: string, holds: string): Record<string, unknown> {
  const raw = process.env[name];
  if (!raw) return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new Error(`${name} must be a JSON object of ${holds}, got: ${raw}`);
}
