/** An experiment switch's value: undefined when unset, else one of `values`; any other value is an error naming
 *  the variable, so a mistyped switch can't silently leave a GPU comparison measuring the default. */
export function envSwitch<const V extends string>(name: string, values: readonly V[]): V | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  if ((values as readonly string[]).includes(raw)) return raw as V;
  throw new Error(`${name} must be one of ${values.join(', ')} (or unset), got '${raw}'`);
}
