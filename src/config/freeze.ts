/**
 * Freezes a resolved configuration and every plain object and array inside it, so nothing
 * downstream can change a setting after it was resolved and reported. Class instances (a URL,
 * a Buffer) are left as they are: their state is not in their own properties.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  const prototype: unknown = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && prototype !== Object.prototype && prototype !== null) return value;
  for (const inner of Object.values(value)) deepFreeze(inner);
  return Object.freeze(value);
}
